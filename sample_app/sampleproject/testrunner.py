"""``python manage.py test`` for the sample project: Django's runner with the guard
(``pytest_indexguard.django.Runner``) and the option the pytest suite has in ``conftest.py``.

``--without-indexes`` runs the tests against the schema of upstream's initial migration, without
the indexes ``0002_add_missing_indexes`` adds: the state the seed documents start from. With no
test label the sample app's own tests run, from wherever the command is started
(``python sample_app/manage.py test``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

from pytest_indexguard.django import Runner as GuardRunner

INITIAL_MIGRATION = "0001"
#: Present in every database that holds upstream's schema.
UPSTREAM_TABLE = "upstream_webhookdelivery"


class Runner(GuardRunner):
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--without-indexes",
            action="store_true",
            default=False,
            help="Run against the schema of upstream's initial migration, without the planned "
            "indexes.",
        )

    def __init__(self, *, without_indexes: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.without_indexes = without_indexes

    def build_suite(self, test_labels: Any = None, *args: Any, **kwargs: Any) -> Any:
        # Django 4.2's run_tests passes extra_tests positionally (gone in 5.0).
        labels = test_labels or [str(Path(settings.BASE_DIR))]
        return super().build_suite(labels, *args, **kwargs)

    def setup_databases(self, **kwargs: Any) -> Any:
        """Django's test databases, migrated back to 0001 with ``--without-indexes`` before
        the copies that ``--parallel`` gives each worker are made."""
        if not self.without_indexes:
            return super().setup_databases(**kwargs)
        workers, self.parallel = self.parallel, 0
        try:
            old_config = super().setup_databases(**kwargs)
        finally:
            self.parallel = workers
        created = [connection for connection, _, destroy in old_config if destroy]
        for connection in created:
            with connection.cursor() as cursor:
                tables = connection.introspection.table_names(cursor)
            if UPSTREAM_TABLE in tables:
                call_command(
                    "migrate", "upstream", INITIAL_MIGRATION, database=connection.alias, verbosity=0
                )
            for index in range(workers if workers > 1 else 0):
                connection.creation.clone_test_db(
                    suffix=str(index + 1), verbosity=self.verbosity, keepdb=self.keepdb
                )
        return old_config
