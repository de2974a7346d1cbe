"""How the command line, the ini file, markers and the fixture combine on real statements: inner
runs. Which of the command line and the ini wins for each setting is checked in process, in
test_units_config.py."""

from __future__ import annotations

import pytest

from conftest import DjangoProject

CASES = """
import pytest
from shop.models import Customer, Order

pytestmark = pytest.mark.django_db


def _scan_customers():
    return list(Customer.objects.filter(city="Oslo"))


def _scan_orders():
    return list(Order.objects.filter(status="new"))


def test_customer_scan():
    _scan_customers()


def test_order_scan():
    _scan_orders()


@pytest.mark.indexguard_allow("shop_customer", reason="small lookup table")
def test_marker_allows_one_table():
    _scan_customers()


@pytest.mark.indexguard_allow("shop_customer")
def test_marker_does_not_allow_other_tables():
    _scan_customers()
    _scan_orders()


@pytest.mark.indexguard_allow(reason="legacy report")
def test_marker_without_tables_allows_all():
    _scan_customers()
    _scan_orders()


@pytest.mark.indexguard_skip(reason="benchmark")
def test_skip_marker():
    _scan_customers()


def test_fixture_block(indexguard):
    with indexguard.allow("shop_customer"):
        _scan_customers()
    # What the block did to the scan: the outer tests read it from the PASSES section.
    print("findings:", [(o.finding.table, o.allowed_by, o.status) for o in indexguard.findings])


def test_fixture_block_ends(indexguard):
    with indexguard.allow("shop_customer"):
        pass
    _scan_customers()


def test_fixture_block_without_tables(indexguard):
    with indexguard.allow():
        _scan_customers()
        _scan_orders()


class TestClassMarker:
    pytestmark = pytest.mark.indexguard_allow("shop_order")

    def test_class_marker_applies(self):
        _scan_orders()
"""

ALL_FAIL_WHEN_ON = {
    "test_customer_scan",
    "test_order_scan",
    "test_marker_does_not_allow_other_tables",
    "test_fixture_block_ends",
}


def _expected(failing: set[str]) -> dict[str, str]:
    names = [
        "test_customer_scan",
        "test_order_scan",
        "test_marker_allows_one_table",
        "test_marker_does_not_allow_other_tables",
        "test_marker_without_tables_allows_all",
        "test_skip_marker",
        "test_fixture_block",
        "test_fixture_block_ends",
        "test_fixture_block_without_tables",
        "test_class_marker_applies",
    ]
    return {name: "failed" if name in failing else "passed" for name in names}


@pytest.fixture
def project(django_project: DjangoProject) -> DjangoProject:
    django_project.write_tests(CASES)
    return django_project


def test_off_by_default(project: DjangoProject) -> None:
    run = project.run()
    assert run.outcomes() == _expected(set()), run.output
    assert "indexguard: on" not in run.output
    assert "findings: []" in run.section("test_fixture_block"), run.output


def test_cli_turns_it_on(project: DjangoProject) -> None:
    run = project.run("--indexguard")
    assert run.outcomes() == _expected(ALL_FAIL_WHEN_ON), run.output
    assert "indexguard: on, mode forced, watching every table" in run.output
    # Allowed scans are counted, not hidden.
    assert "shop_customer: 1 new, 1 allowed (7 executions)" in run.output, run.output
    assert "shop_order: 1 new, 1 allowed (5 executions)" in run.output, run.output
    # The block's scan is recorded as allowed by the fixture, not dropped.
    assert "findings: [('shop_customer', 'fixture', 'allowed')]" in run.section(
        "test_fixture_block"
    ), run.output


def test_without_the_plugin_its_fixture_is_gone(project: DjangoProject) -> None:
    """``-p no:indexguard`` removes the plugin even when the ini turns the guard on: its fixture
    does not exist, every other test passes. (Which of the ini and the command line wins for
    each setting is checked in process: test_units_config.py.)"""
    project.append_ini("indexguard = true")
    disabled = project.run("-p", "no:indexguard", "-k", "not fixture")
    expected = {k: v for k, v in _expected(set()).items() if "fixture" not in k}
    assert disabled.outcomes() == expected, disabled.output


def test_min_rows_and_declared_sizes(project: DjangoProject) -> None:
    # The test tables hold a handful of rows: below the threshold, nothing fails...
    small = project.run("--indexguard", "--indexguard-min-rows=1_000")
    assert small.outcomes() == _expected(set()), small.output
    assert "below min-rows" in small.output
    # ...unless a table is declared big (its production size), which beats the estimate.
    project.append_ini("indexguard_table_rows =\n    shop_order=2500000")
    declared = project.run("--indexguard", "--indexguard-min-rows=1000")
    assert declared.outcomes() == _expected(
        {"test_order_scan", "test_marker_does_not_allow_other_tables"}
    ), declared.output
    section = declared.section("test_order_scan")
    assert "rows:    2,500,000 (indexguard_table_rows)" in section


def test_mode_from_the_ini(project: DjangoProject) -> None:
    project.append_ini("indexguard = true\nindexguard_mode = planner")
    ini = project.run("-k", "customer_scan")
    assert "indexguard: on, mode planner" in ini.output
    # A never-analysed handful of rows: the natural plan is a Seq Scan with a Filter too.
    assert ini.outcomes() == {"test_customer_scan": "failed"}, ini.output
