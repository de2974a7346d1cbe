"""The guard's in-process tests on psycopg2: tests/test_guard.py run again in a pytest session
that sees no psycopg 3, so that Django connects through psycopg2, as in a project on psycopg2.
(The inner-run tests take the driver as a parameter: see the ``driver`` fixture.)"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from conftest import INNER_ADDOPTS, REPO, TESTS, WORKER, on_psycopg2


@pytest.mark.django_db
def test_the_session_connects_through_the_driver_it_was_given() -> None:
    expected = os.environ.get("INDEXGUARD_EXPECT_DRIVER", connection.Database.__name__)
    assert connection.Database.__name__ == expected


def test_the_guard_tests_pass_on_psycopg2(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    if url.scheme not in {"postgres", "postgresql"}:
        pytest.skip("runs on PostgreSQL only (DATABASE_URL names another database)")
    on_psycopg2(monkeypatch)
    monkeypatch.setenv("INDEXGUARD_EXPECT_DRIVER", "psycopg2")
    # Its own test database, and its own names for the inner runs it starts.
    monkeypatch.setenv(
        "DATABASE_URL", urlunsplit(url._replace(path=f"/indexguard_psycopg2_{WORKER}"))
    )
    monkeypatch.setenv("PYTEST_XDIST_WORKER", f"{WORKER}_psycopg2")
    monkeypatch.setenv("PYTEST_ADDOPTS", INNER_ADDOPTS)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "--rootdir",
        str(REPO),
        "-c",
        str(REPO / "pyproject.toml"),
        f"{TESTS / 'test_psycopg2.py'}::test_the_session_connects_through_the_driver_it_was_given",
        str(TESTS / "test_guard.py"),
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0, "\n".join(result.outlines)
    assert outcomes["passed"] >= 10, outcomes
    assert set(outcomes) == {"passed"}, outcomes
