"""What repeated and special statements cost the guard, seen from the outside: the round trips
the summary counts, and the occurrences the ``indexguard`` fixture shows."""

from __future__ import annotations

import re

from conftest import DjangoProject, InnerRun

LOOPS = """
import pytest
from django.db import connection
from shop.models import Customer

pytestmark = pytest.mark.django_db


def _scan():
    return list(Customer.objects.filter(city="Oslo"))


def test_loop_of_scans(indexguard):
    for _ in range(50):
        _scan()
    [occurrence] = indexguard.findings
    assert occurrence.executions == 50
    assert occurrence.suggestion.verified is True


@pytest.mark.indexguard_allow("shop_customer", reason="accepted")
def test_allowed_scan(indexguard):
    for _ in range(3):
        _scan()
    [occurrence] = indexguard.findings
    assert occurrence.executions == 3
    assert occurrence.suggestion.fields == ("city",)
    assert occurrence.suggestion.verified is None
    assert occurrence.suggestion.note == (
        "not verified: the scan does not count against the test"
    )


def test_several_statements_in_one_string():
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT 1 FROM shop_customer WHERE city = 'x'; SELECT 2")
    assert Customer.objects.count() == 0
"""


def _round_trips(run: InnerRun) -> tuple[int, int]:
    found = re.search(r"EXPLAIN run (\d+) times?, in (\d+) round trips?", run.output)
    assert found, run.output
    return int(found.group(1)), int(found.group(2))


def test_repeats_are_counted_on_one_occurrence(django_project: DjangoProject) -> None:
    django_project.write_tests(LOOPS)
    run = django_project.run("--indexguard", "-k", "loop")
    assert run.outcomes() == {"test_loop_of_scans": "failed"}, run.output
    section = run.section("test_loop_of_scans")
    assert re.search(r"at: +test_inner\.py:\d+ in _scan \(50 executions\)", section), section
    assert "verified: planned with it, the full scan is gone" in section
    # One EXPLAIN for the statement, and one more to verify the suggested index; none for the
    # 49 repeats.
    assert _round_trips(run) == (1, 2), run.output


def test_an_allowed_scan_costs_no_verification(django_project: DjangoProject) -> None:
    django_project.write_tests(LOOPS)
    run = django_project.run("--indexguard", "-k", "allowed")
    assert run.outcomes() == {"test_allowed_scan": "passed"}, run.output
    assert _round_trips(run) == (1, 1), run.output
    assert "shop_customer: 1 allowed (3 executions)" in run.output


def test_several_statements_are_reported_once_and_pass(django_project: DjangoProject) -> None:
    django_project.write_tests(LOOPS)
    run = django_project.run("--indexguard", "-k", "several")
    assert run.outcomes() == {"test_several_statements_in_one_string": "passed"}, run.output
    assert "not explained: 1 distinct statement\n" in run.output
    assert re.search(r"  several statements in one string: SELECT .*shop_customer", run.output)


PATTERN_HEADER = """
import pytest
from shop.models import Customer

pytestmark = pytest.mark.django_db
"""
STARTSWITH = """
def test_startswith():
    # name is unique: its index (and Django's pattern-ops index) serves a prefix.
    list(Customer.objects.filter(name__startswith="ac"))
"""
CONTAINS = """
def test_contains():
    list(Customer.objects.filter(name__contains="cm"))
"""


def test_a_pattern_statement_is_judged_by_the_kind_of_its_value(
    django_project: DjangoProject,
) -> None:
    # Both lookups send the same SQL text (LIKE %s); only the value says whether an index
    # can serve it. The verdicts must not depend on which test runs first.
    expected = {"test_startswith": "passed", "test_contains": "failed"}
    for order in ((STARTSWITH, CONTAINS), (CONTAINS, STARTSWITH)):
        django_project.write_tests("\n\n".join((PATTERN_HEADER, *order)))
        run = django_project.run("--indexguard")
        assert run.outcomes() == expected, run.output
