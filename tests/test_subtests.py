"""Tests with subtests (unittest's ``subTest``, pytest's ``subtests`` fixture): pytest makes a
report at the end of every subtest, while the test still runs. The test's violations are all
reported with the test, whichever subtest issued them. And tests marked ``xfail``: pytest counts
one the guard fails as xfailed, and so does the guard's count of failing tests. Inner runs on a
real database."""

from __future__ import annotations

import json

from conftest import DjangoProject

TESTS = """
import pytest
from django.test import TestCase
from shop.models import Customer, Order


class WithSubtests(TestCase):
    def test_scan_in_a_later_subtest(self):
        with self.subTest(step="clean"):
            list(Customer.objects.filter(pk=1))
        with self.subTest(step="scan"):
            list(Customer.objects.filter(city="Oslo"))

    def test_two_subtests_two_tables(self):
        with self.subTest(table="customer"):
            list(Customer.objects.filter(city="Oslo"))
        with self.subTest(table="order"):
            list(Order.objects.filter(status="new"))


@pytest.mark.django_db
def test_pytest_subtests(subtests):
    with subtests.test(msg="clean"):
        list(Customer.objects.filter(pk=1))
    with subtests.test(msg="scan"):
        list(Order.objects.filter(status="new"))
"""


def test_violations_of_every_subtest_are_reported_with_the_test(
    django_project: DjangoProject,
) -> None:
    django_project.write_tests(TESTS)
    run = django_project.run("--indexguard", "--indexguard-report=report.json", "-p", "no:randomly")
    failed = {
        "test_scan_in_a_later_subtest",
        "test_two_subtests_two_tables",
        "test_pytest_subtests",
    }
    assert {name for name, outcome in run.outcomes().items() if outcome == "failed"} == failed
    report = json.loads((django_project.pytester.path / "report.json").read_text())
    found = {
        (hit["test"].rsplit("::", 1)[1], group["table"])
        for group in report["violations"]
        for hit in group["hits"]
    }
    assert found == {
        ("test_scan_in_a_later_subtest", "shop_customer"),
        ("test_two_subtests_two_tables", "shop_customer"),
        ("test_two_subtests_two_tables", "shop_order"),
        ("test_pytest_subtests", "shop_order"),
    }, found
    assert "violations by table, distinct statements (3 failing tests)" in run.output


XFAIL = """
import pytest
from shop.models import Customer, Order

pytestmark = pytest.mark.django_db


@pytest.mark.xfail(reason="known to fail")
def test_expected_to_fail_with_a_scan():
    list(Customer.objects.filter(city="Oslo"))
    assert False


@pytest.mark.xfail(reason="flaky elsewhere")
def test_would_pass_but_scans():
    list(Order.objects.filter(status="new"))


def test_plain_scan():
    list(Customer.objects.filter(city="Bergen"))
"""


def test_a_test_marked_xfail_is_counted_as_pytest_counts_it(
    django_project: DjangoProject,
) -> None:
    django_project.write_tests(XFAIL)
    run = django_project.run("--indexguard", "--indexguard-report=report.json", "-p", "no:randomly")
    assert run.outcomes() == {
        "test_expected_to_fail_with_a_scan": "xfail",
        "test_would_pass_but_scans": "xfail",
        "test_plain_scan": "failed",
    }, run.outcomes()
    assert (
        "violations by table, distinct statements (1 failing test; 2 tests marked xfail with "
        "new ones, which pytest counts as xfailed):" in run.output
    ), run.output
    report = json.loads((django_project.pytester.path / "report.json").read_text())
    assert (report["summary"]["failing_tests"], report["summary"]["xfailed_tests"]) == (1, 2)
    assert {test.rsplit("::", 1)[1] for test in report["tests"]["xfailed"]} == {
        "test_expected_to_fail_with_a_scan",
        "test_would_pass_but_scans",
    }
    # Every scan is still reported: the baseline records the xfail tests' too.
    assert sorted(group["table"] for group in report["violations"]) == [
        "shop_customer",
        "shop_order",
    ], report["violations"]
