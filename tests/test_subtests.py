"""Tests with subtests (unittest's ``subTest``, pytest's ``subtests`` fixture): pytest makes a
report at the end of every subtest, while the test still runs. The test's violations are all
reported with the test, whichever subtest issued them. Inner runs on a real database."""

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
