"""Test-database options of the sample project.

``--without-indexes`` runs the suite against the schema of upstream's initial migration, that is
without the indexes that ``0002_add_missing_indexes`` adds: the state the seed documents start
from. It shows what the guard reports when those indexes are missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.db import connections

if TYPE_CHECKING:
    from pytest_django import DjangoDbBlocker

INITIAL_MIGRATION = "0001"
#: Present in every database that holds upstream's schema.
UPSTREAM_TABLE = "upstream_webhookdelivery"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--without-indexes",
        action="store_true",
        default=False,
        help="run against the schema of upstream's initial migration, without the planned indexes",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--without-indexes") and config.getoption("nomigrations", False):
        raise pytest.UsageError(
            "--without-indexes migrates upstream back to its initial migration, so it cannot be "
            "combined with --nomigrations (which builds the tables from the models, indexes "
            "included)"
        )


@pytest.fixture(scope="session")
def _database_names_before_setup() -> dict[str, str]:
    """Database names as configured, before pytest-django points the aliases at test databases.

    Only an alias whose name has changed since is a test database; the others (aliases no test
    uses) still point at the configured, possibly real, database and must not be migrated.
    """
    return {alias: str(connections[alias].settings_dict["NAME"]) for alias in connections}


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    _database_names_before_setup: dict[str, str],
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
) -> None:
    """pytest-django's test databases, migrated back to 0001 with ``--without-indexes``.

    The original fixture (received as the argument of the same name) creates and fully migrates
    the test databases, one set per xdist worker; this only unapplies the index migration on
    them afterwards. With ``--reuse-db`` the next run migrates forwards again as usual.
    ``_database_names_before_setup`` comes first in the signature so that it is evaluated
    before the original fixture renames the aliases.
    """
    if not request.config.getoption("--without-indexes"):
        return
    with django_db_blocker.unblock():
        for alias in connections:
            connection = connections[alias]
            if connection.settings_dict["NAME"] == _database_names_before_setup[alias]:
                continue  # no test database was set up for this alias
            if connection.settings_dict.get("TEST", {}).get("MIRROR"):
                continue  # the same database as the alias it mirrors
            with connection.cursor() as cursor:
                tables = connection.introspection.table_names(cursor)
            if UPSTREAM_TABLE in tables:
                call_command("migrate", "upstream", INITIAL_MIGRATION, database=alias, verbosity=0)
