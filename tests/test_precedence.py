"""How the command line, the ini file, markers and the fixture combine: one inner run each."""

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
    for occurrence in indexguard.findings:
        assert (occurrence.finding.table, occurrence.allowed_by) == ("shop_customer", "fixture")


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


def test_cli_turns_it_on(project: DjangoProject) -> None:
    run = project.run("--indexguard")
    assert run.outcomes() == _expected(ALL_FAIL_WHEN_ON), run.output
    assert "indexguard: on, mode forced, watching every table" in run.output
    # Allowed scans are counted, not hidden.
    assert "shop_customer: 1 new, 1 allowed (7 executions)" in run.output, run.output
    assert "shop_order: 1 new, 1 allowed (5 executions)" in run.output, run.output


def test_ini_turns_it_on_and_cli_turns_it_off(project: DjangoProject) -> None:
    project.append_ini("indexguard = true")
    on = project.run()
    assert on.outcomes() == _expected(ALL_FAIL_WHEN_ON), on.output
    off = project.run("--no-indexguard")
    assert off.outcomes() == _expected(set()), off.output
    # Without the plugin its fixture does not exist; every other test passes.
    disabled = project.run("-p", "no:indexguard", "-k", "not fixture")
    expected = {k: v for k, v in _expected(set()).items() if "fixture" not in k}
    assert disabled.outcomes() == expected, disabled.output


def test_cli_tables_beat_ini_tables(project: DjangoProject) -> None:
    project.append_ini("indexguard = true\nindexguard_tables =\n    shop_customer")
    ini = project.run()
    assert ini.outcomes() == _expected({"test_customer_scan", "test_fixture_block_ends"}), (
        ini.output
    )
    assert "watching 1 tables: shop_customer" in ini.output
    cli = project.run("--indexguard-tables=shop_order, shop_invoice")
    assert cli.outcomes() == _expected(
        {"test_order_scan", "test_marker_does_not_allow_other_tables"}
    ), cli.output
    assert "watching 2 tables: shop_invoice, shop_order" in cli.output


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


def test_cli_min_rows_beats_ini(project: DjangoProject) -> None:
    project.append_ini("indexguard = true\nindexguard_min_rows = 1000")
    ini = project.run()
    assert ini.outcomes() == _expected(set()), ini.output
    cli = project.run("--indexguard-min-rows=0")
    assert cli.outcomes() == _expected(ALL_FAIL_WHEN_ON), cli.output


def test_mode_from_ini_and_cli(project: DjangoProject) -> None:
    project.append_ini("indexguard = true\nindexguard_mode = planner")
    ini = project.run("-k", "customer_scan")
    assert "indexguard: on, mode planner" in ini.output
    # A never-analysed handful of rows: the natural plan is a Seq Scan with a Filter too.
    assert ini.outcomes() == {"test_customer_scan": "failed"}, ini.output
    cli = project.run("-k", "customer_scan", "--indexguard-mode=forced")
    assert "indexguard: on, mode forced" in cli.output
