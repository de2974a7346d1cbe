"""Bad input is one clear line naming the option and what it accepts, never a traceback."""

from __future__ import annotations

import pytest

from conftest import DjangoProject

SIMPLE = """
import pytest
from shop.models import Customer


@pytest.mark.django_db
def test_scan():
    assert not Customer.objects.filter(city="Oslo").exists()
"""


def test_bad_option(django_project: DjangoProject) -> None:
    """What a bad value does to a run: one line, the usage error's exit code, no traceback. Every
    option's and ini setting's message is checked in process (test_units_config.py)."""
    django_project.write_tests(SIMPLE)
    run = django_project.run("--indexguard", "--indexguard-mode=fast")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR, run.output
    errors = [line for line in run.result.errlines if line.strip()]
    assert errors == ["ERROR: --indexguard-mode: expected 'forced' or 'planner', got 'fast'"], (
        run.output
    )
    assert "Traceback" not in run.output


MARKERS = """
import pytest


@pytest.mark.indexguard_allow("shop_customer", resaon="typo")
def test_typo():
    pass


@pytest.mark.indexguard_allow("t", until="next week")
def test_until_not_a_date():
    pass


@pytest.mark.indexguard_allow("shop_customer", reason="fine")
def test_good():
    pass
"""


def test_bad_marker_arguments(django_project: DjangoProject) -> None:
    django_project.write_tests(MARKERS)
    run = django_project.run()
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR, run.output
    errors = [line for line in run.result.errlines if line.strip()]
    accepts_allow = (
        "(it accepts indexguard_allow(*tables: str, reason: str | None = None, "
        'until: "YYYY-MM-DD" | None = None))'
    )
    # One line per bad marker, sorted; every kind of bad argument: test_units_policy.py.
    assert errors == [
        "ERROR: test_inner.py::test_typo: @pytest.mark.indexguard_allow: it got an unexpected "
        f"keyword argument 'resaon' {accepts_allow}",
        "test_inner.py::test_until_not_a_date: @pytest.mark.indexguard_allow: until must be a "
        f"date as YYYY-MM-DD, got 'next week' {accepts_allow}",
    ], run.output
    assert "Traceback" not in run.output


def test_django_not_configured(pytester: pytest.Pytester, inner_env: None) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    run = pytester.runpytest_subprocess("-p", "no:django", "--indexguard")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "ERROR: --indexguard: Django is not configured; set DJANGO_SETTINGS_MODULE "
        "(or the pytest-django ini option of that name)"
    ) in run.errlines
    assert "Traceback" not in "\n".join(run.outlines + run.errlines)


TWO_DATABASES = """
import pytest
from shop.models import Customer


@pytest.mark.django_db(databases=["default", "legacy"])
def test_sqlite_alias():
    Customer.objects.using("legacy").create(name="old", city="Oslo")
    assert Customer.objects.using("legacy").filter(city="Oslo").count() == 1


@pytest.mark.django_db(databases=["default", "legacy"])
def test_sqlite_alias_by_primary_key():
    customer = Customer.objects.using("legacy").create(name="old", city="Oslo")
    assert Customer.objects.using("legacy").get(pk=customer.pk).city == "Oslo"


@pytest.mark.django_db(databases=["default", "legacy"])
def test_postgres_alias():
    Customer.objects.filter(city="Oslo").count()
"""


def test_a_sqlite_alias_is_checked_beside_postgresql(
    django_project: DjangoProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXGUARD_INNER_SQLITE", "1")
    django_project.write_tests(TWO_DATABASES)
    run = django_project.run("--indexguard")
    assert run.outcomes() == {
        "test_sqlite_alias": "failed",
        "test_sqlite_alias_by_primary_key": "passed",
        "test_postgres_alias": "failed",
    }, run.output
    assert "shop_customer: SCAN filters rows" in run.section("test_sqlite_alias"), run.output
    assert "[database legacy]" in run.section("test_sqlite_alias"), run.output
    assert "shop_customer: Seq Scan filters rows" in run.section("test_postgres_alias"), run.output
    assert not [line for line in run.result.outlines if line.startswith("not checked:")]


def test_a_watched_table_that_exists_nowhere_is_named(django_project: DjangoProject) -> None:
    django_project.write_tests(SIMPLE)
    run = django_project.run("--indexguard", "--indexguard-tables=SHOP_CUSTOMER,shop_ordr")
    # Nothing watched exists, so nothing fails: the summary says why.
    assert set(run.outcomes().values()) == {"passed"}, run.output
    assert (
        "warning: watched table SHOP_CUSTOMER exists in no checked database; did you mean "
        "shop_customer? (its scans are never reported)"
    ) in run.output, run.output
    assert "watched table shop_ordr exists in no checked database; did you mean shop_order?" in (
        run.output
    )
    right = django_project.run("--indexguard", "--indexguard-tables=shop_customer")
    assert "exists in no checked database" not in right.output, right.output
