"""Run by .ci/run in an environment with psycopg2 and without psycopg 3 (not collected by the
main suite, whose environment has psycopg 3):

    pytest -c tests/psycopg2_project/pytest.ini tests/psycopg2_project/check_driver.py --indexguard
"""

from __future__ import annotations

import importlib.util

import pytest
from django.contrib.auth.models import User
from django.db import connection


def test_the_project_keeps_its_driver() -> None:
    assert importlib.util.find_spec("psycopg") is None, "psycopg 3 was installed"
    assert connection.Database.__name__ == "psycopg2"


@pytest.mark.django_db
def test_its_statements_run_unchanged() -> None:
    User.objects.create(username="a", email="a@example.org")
    assert User.objects.filter(email="a@example.org").count() == 1
