"""The standard, end to end: statements whose full scan on a few rows is only the planner's
choice pass; statements that production would read whole fail, with the right remedy.

The tables are a monitoring app's (where forced planning on a few rows showed join-order and
partial-index artifacts) and a shop's, created from ``plans/artifacts.sql`` inside each test's
transaction. The statements run from a module of the inner project (``queries.py``), as
application code does.
"""

from __future__ import annotations

import pytest

from conftest import DjangoProject
from plans.accuracy import ARTIFACTS, LIVE_EXPECTED, STATEMENTS

QUERIES = f"""
from django.db import connection

STATEMENTS = {STATEMENTS!r}


def run(name):
    with connection.cursor() as cursor:
        cursor.execute(STATEMENTS[name])
        return cursor.fetchall()
"""

TESTS = """
import pytest
from django.db import connection

import queries

ARTIFACTS = {artifacts!r}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Created once with the test database, as a project's tables are: every test reads the
    # same tables, and each test's transaction is rolled back after it.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(ARTIFACTS)


@pytest.mark.parametrize("name", sorted(queries.STATEMENTS))
def test_statement(db, name):
    queries.run(name)
"""

PASS = {name for name, rule in LIVE_EXPECTED.items() if rule is None}
FAIL = {
    "or_across_tables": "a predicate no index can serve as written",
    "cast_disables_index": "no simple B-tree index serves this predicate",
    "non_leading_column": "no index on (created_at)",
    "not_equal": "<> matches most rows",
    "leading_wildcard": "a pattern with a leading wildcard",
    "icontains": "a case-insensitive substring match (icontains)",
    "iexact_and_flag": "(upper(email))",
    "unindexed_email": "no index on (email)",
    "unindexed_join": "no index on (customer_id)",
    "unindexed_order": "no index on (-created_at)",
    "retry_queue": "no index on (status, next_attempt_at)",
    "or_of_subqueries": "an OR of sub-queries (IN (SELECT ...) OR IN (SELECT ...))",
    "recall_select_related_sort": "no index on (is_active, -created_at)",
    "recall_every_queue": "no index on (created)",
    "recall_every_queue_joined": "no index on (created)",
    "recall_or_across_join": "split the query at the OR",
    "recall_exclude_across_join": "filters rows that no index serves",
    "recall_distinct_page": "sorted to return the first rows",
    "recall_flips_of_every_check": "filters rows that no index serves",
    "later_column_no_index_leads": "no index on (rank)",
    "supplier_products_or_across_link_aliases": "split the query at the OR",
    "every_queue_as_a_list": "keys:    the list names every row of rc_queue (all 2 of its rows",
}


@pytest.fixture
def accuracy_run(django_project: DjangoProject) -> DjangoProject:
    django_project.pytester.makepyfile(queries=QUERIES)
    django_project.write_tests(TESTS.format(artifacts=ARTIFACTS))
    return django_project


@pytest.mark.parametrize("mode", ["forced", "planner"])
def test_planner_choices_pass_and_real_scans_fail(accuracy_run: DjangoProject, mode: str) -> None:
    assert set(FAIL) == {name for name, rule in LIVE_EXPECTED.items() if rule}
    run = accuracy_run.run("--indexguard", f"--indexguard-mode={mode}")
    outcomes = {name.split("[")[1].rstrip("]"): o for name, o in run.outcomes().items()}
    fail = dict(FAIL)
    if mode == "planner":
        # The natural plan on three rows hash-joins the orders: planner mode is for suites
        # that load production-sized data (README), and forced mode catches this one.
        del fail["unindexed_join"]
        # The page of a DISTINCT join depends on the version's natural plan of three rows:
        # PostgreSQL 15 hashes the tickets as the join's build side, whose order no sort above
        # shows (passes); 18 sorts them under the LIMIT (fails). Forced mode catches it on both.
        del fail["recall_distinct_page"]
        outcomes.pop("recall_distinct_page", None)
    either = {"recall_distinct_page"} if mode == "planner" else set()  # not asserted there
    assert outcomes == {
        name: outcome
        for name, outcome in {
            **dict.fromkeys(PASS, "passed"),
            **dict.fromkeys(set(FAIL) - set(fail), "passed"),
            **dict.fromkeys(fail, "failed"),
        }.items()
        if name not in either
    }, run.output
    for name, expected in fail.items():
        section = run.section(f"test_statement[{name}]")
        assert expected in section, (name, section)


def test_suggestions_are_never_an_existing_index_the_pk_or_a_flag(
    accuracy_run: DjangoProject,
) -> None:
    run = accuracy_run.run("--indexguard")
    for name in FAIL:
        section = run.section(f"test_statement[{name}]")
        assert "ON auth_user (is_active" not in section
        assert "(id)" not in section
    # A cast keeps the existing index from serving: no duplicate of it is suggested.
    cast = run.section("test_statement[cast_disables_index]")
    assert "CREATE INDEX CONCURRENTLY" not in cast, cast
    iexact = run.section("test_statement[iexact_and_flag]")
    # The expression index leads: only it serves iexact (any index would beat a disabled
    # sequential scan, so "verified" must mean the new index serves the condition).
    assert "ON auth_user ((upper(email))" in iexact, iexact
    assert "(verified: planned with it, the full scan is gone)" in iexact
    for name in ("or_across_tables", "not_equal", "leading_wildcard", "icontains"):
        section = run.section(f"test_statement[{name}]")
        assert "unservable" not in section or "index:" not in section
        assert "    why:" in section, section
        assert "    index:" not in section, section
    assert "split the query at the OR" in run.section("test_statement[or_across_tables]")


def test_unservable_predicates_can_warn(accuracy_run: DjangoProject) -> None:
    run = accuracy_run.run("--indexguard", "--indexguard-unservable=warn")
    outcomes = {name.split("[")[1].rstrip("]"): o for name, o in run.outcomes().items()}
    for name in ("or_across_tables", "not_equal", "leading_wildcard", "icontains"):
        assert outcomes[name] == "passed", run.output
    assert outcomes["unindexed_email"] == "failed"
    assert "1 warned" in run.output, run.output
