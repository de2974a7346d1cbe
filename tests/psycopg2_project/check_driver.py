"""Run by .ci/run in an environment with psycopg2 and without psycopg 3 (not collected by the
main suite, whose environment has psycopg 3):

    pytest -c tests/psycopg2_project/pytest.ini tests/psycopg2_project/check_driver.py --indexguard

The project keeps its driver, and its statements are checked through it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection


def test_the_project_keeps_its_driver() -> None:
    assert importlib.util.find_spec("psycopg") is None, "psycopg 3 was installed"
    assert connection.Database.__name__ == "psycopg2"


@pytest.mark.django_db
def test_its_statements_run_unchanged() -> None:
    User.objects.create(username="a", email="a@example.org")
    assert User.objects.filter(username="a").count() == 1


@pytest.mark.django_db
def test_its_statements_are_checked(indexguard: Any) -> None:
    # Issued by test code: reported, not failed (the plugin's default).
    assert User.objects.filter(email="a@example.org").count() == 0
    [occurrence] = indexguard.findings
    assert occurrence.finding.table == "auth_user"
    assert occurrence.suggestion.columns == ("email",)
