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


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--indexguard-mode=fast"],
            "",
            "ERROR: --indexguard-mode: expected 'forced' or 'planner', got 'fast'",
        ),
        (
            [],
            "indexguard_mode = natural",
            "ERROR: indexguard_mode: expected 'forced' or 'planner', got 'natural'",
        ),
        (
            [],
            "indexguard = maybe",
            "ERROR: indexguard: expected true or false, got 'maybe'",
        ),
        (
            ["--indexguard"],
            "indexguard_fail_stale = sometimes",
            "ERROR: indexguard_fail_stale: expected true or false, got 'sometimes'",
        ),
        (
            ["--indexguard"],
            "indexguard_stats = missing-stats.json",
            "ERROR: indexguard_stats: no such file",
        ),
        (
            ["--indexguard", "--indexguard-unservable=sometimes"],
            "",
            "ERROR: --indexguard-unservable: expected 'fail' or 'warn', got 'sometimes'",
        ),
        (
            ["--indexguard"],
            "indexguard_distinct =\n    shop_customer=3",
            "ERROR: indexguard_distinct: expected entries of the form table.column=N",
        ),
        (
            ["--indexguard-min-rows=-5"],
            "",
            "ERROR: --indexguard-min-rows: expected a whole number of rows >= 0, got '-5'",
        ),
        (
            ["--indexguard-min-rows=many"],
            "",
            "ERROR: --indexguard-min-rows: expected a whole number of rows >= 0, got 'many'",
        ),
        (
            [],
            "indexguard_min_rows = 1e6",
            "ERROR: indexguard_min_rows: expected a whole number of rows >= 0, got '1e6'",
        ),
        (
            [],
            "indexguard_table_rows =\n    shop_customer",
            "ERROR: indexguard_table_rows: expected entries of the form table=rows "
            "(rows a whole number >= 0), got 'shop_customer'",
        ),
        (
            [],
            "indexguard_table_rows =\n    shop_customer=lots",
            "ERROR: indexguard_table_rows (shop_customer): expected a whole number of rows >= 0, "
            "got 'lots'",
        ),
        (
            ["--indexguard-cache-size=0"],
            "",
            "ERROR: --indexguard-cache-size: expected a whole number of statements >= 1, got '0'",
        ),
        (
            [],
            "indexguard_cache_size = lots",
            "ERROR: indexguard_cache_size: expected a whole number of statements >= 1, got 'lots'",
        ),
        (
            ["--indexguard-tables=,"],
            "",
            "ERROR: --indexguard-tables: expected one or more table names separated by commas, "
            "got nothing",
        ),
    ],
)
def test_bad_option(django_project: DjangoProject, args: list[str], ini: str, message: str) -> None:
    django_project.write_tests(SIMPLE)
    if ini:
        django_project.append_ini(ini)
    run = django_project.run("--indexguard", *args)
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR, run.output
    assert any(line.startswith(message) for line in run.result.errlines), run.output
    assert "Traceback" not in run.output


MARKERS = """
import pytest


@pytest.mark.indexguard_allow(tables=["shop_customer"])
def test_keyword_tables():
    pass


@pytest.mark.indexguard_allow("shop_customer", resaon="typo")
def test_typo():
    pass


@pytest.mark.indexguard_allow(["shop_customer"])
def test_list_instead_of_names():
    pass


@pytest.mark.indexguard_skip("a", "b")
def test_skip_two_reasons():
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
    assert errors == [
        "ERROR: test_inner.py::test_keyword_tables: @pytest.mark.indexguard_allow: it got an "
        f"unexpected keyword argument 'tables' {accepts_allow}",
        "test_inner.py::test_list_instead_of_names: @pytest.mark.indexguard_allow: table names "
        f"must be non-empty strings, got ['shop_customer'] {accepts_allow}",
        "test_inner.py::test_skip_two_reasons: @pytest.mark.indexguard_skip: it takes from 0 to 1 "
        "positional arguments but 2 were given "
        "(it accepts indexguard_skip(reason: str | None = None))",
        "test_inner.py::test_typo: @pytest.mark.indexguard_allow: it got an unexpected keyword "
        f"argument 'resaon' {accepts_allow}",
    ], run.output
    assert "Traceback" not in run.output


def test_fixture_allow_with_a_bad_table(django_project: DjangoProject) -> None:
    django_project.write_tests(
        """
import pytest


def test_allow_none(indexguard):
    with indexguard.allow(None):
        pass
"""
    )
    run = django_project.run("--indexguard")
    assert run.outcomes() == {"test_allow_none": "failed"}
    assert "TypeError: indexguard.allow(): table names must be non-empty strings, got None" in (
        run.output
    )


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
