"""The MySQL/MariaDB plan reading, on plans captured from a real MariaDB (no server needed).

``tests/plans/capture_mysql.py`` wrote ``tests/plans/mariadb/*.json`` from MariaDB 10.11 exactly
as the guard explains a statement; the catalogs there are that server's
``information_schema.STATISTICS`` rows for the two schemas. MySQL 8's JSON format is not
captured here (no MySQL server on this machine): only its statement hints are tested.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from plans.mysql_scenarios import SCENARIOS, Scenario
from pytest_indexguard import judge
from pytest_indexguard.explain.mysql import (
    MySQL,
    access_label,
    alias_map,
    analyze,
    expression,
    has_limit,
    render,
    schema_of,
    settle,
    with_hints,
)
from pytest_indexguard.model import Rule
from pytest_indexguard.schema import ColumnShape, Schema
from pytest_indexguard.suggest import filter_columns, join_columns, sort_column

PLANS = Path(__file__).parent / "plans" / "mariadb"


@cache
def stored(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))
    return data


@cache
def catalog(state: str) -> Schema:
    return schema_of(stored(f"catalog_{state}")["statistics"])


def plan_of(name: str) -> dict[str, Any]:
    plan: dict[str, Any] = stored(name)["plan"]
    return plan


def found(findings: Any) -> tuple[tuple[str, str, Rule | None], ...]:
    return tuple((f.table, f.node_type, f.rule) for f in findings if not f.sorted_range)


def labelled(expected: Any) -> tuple[tuple[str, str, Rule | None], ...]:
    return tuple((e.table, access_label(e.access_type), e.rule) for e in expected)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_stored_plan_is_the_scenarios_statement(scenario: Scenario) -> None:
    record = stored(scenario.name)
    assert record["query"] == scenario.query
    assert record["plan"]["statement"] == scenario.query
    assert record["plan"]["forced"] is True
    assert record["plan"]["server"].startswith("MariaDB 10.")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_analyze(scenario: Scenario) -> None:
    assert found(analyze(plan_of(scenario.name))) == labelled(scenario.expected)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_verdict_after_the_catalog(scenario: Scenario) -> None:
    findings = analyze(plan_of(scenario.name))
    assert found(settle(findings, catalog(scenario.state))) == labelled(scenario.verdict)


def test_the_catalog_drops_a_scan_an_index_serves_on_production_sizes() -> None:
    # A third of the ten-row table matches customer 3, so MariaDB reads it whole; the unique
    # (customer_id, name) index leads with customer_id. Without that index it stays.
    findings = analyze(plan_of("enabled_rules_initial"))
    assert findings[0].filter == "customer_id = 3 AND enabled"
    assert settle(findings, catalog("initial")) == []
    assert found(settle(findings, Schema.of([]))) == (
        ("upstream_alertrule", "Full table scan", Rule.FILTER),
    )


def test_watched_tables_only() -> None:
    plan = plan_of("subquery_filter_unindexed")
    assert [f.table for f in analyze(plan, lambda t: t == "upstream_webhookdelivery")] == [
        "upstream_webhookdelivery"
    ]


def test_alias_is_mapped_to_its_table() -> None:
    # MariaDB names a table by its alias (Django's U0 in a subquery).
    [_, delivery] = analyze(plan_of("subquery_filter_unindexed"))
    assert (delivery.table, delivery.alias) == ("upstream_webhookdelivery", "U0")
    assert delivery.filter == "event_type = 'invoice.paid'"


def test_filter_is_written_for_the_suggestions() -> None:
    [finding] = analyze(plan_of("retry_queue_initial"))
    assert finding.filter == "next_attempt_at <= '2026-01-15 12:00:00' AND status = 'retrying'"
    assert filter_columns(finding.filter, []) == (["status"], ["next_attempt_at"])
    assert finding.sort_key == ("upstream_webhookdelivery.next_attempt_at",)
    assert sort_column(finding.sort_key[0], []) == "next_attempt_at"


def test_sort_under_limit_of_a_whole_table() -> None:
    [finding] = analyze(plan_of("sort_limit_unindexed"))
    assert finding.rule is Rule.SORT_LIMIT
    assert sort_column(finding.sort_key[0], []) == "-created_at"
    # The same sort without a LIMIT returns every row anyway: information.
    [unlimited] = analyze(plan_of("order_by_unfiltered"))
    assert unlimited.rule is None


def test_join_buffer_on_an_unindexed_join_key() -> None:
    [finding] = analyze(plan_of("join_unindexed"))
    assert finding.rule is Rule.JOIN
    assert finding.join_filter is not None
    assert join_columns(finding.join_filter, finding.alias or "", []) == ["delivery_id"]


def test_unindexed_table_driving_the_join_is_a_join_violation() -> None:
    # On 100,000 rows MariaDB reads the attempts whole and finds each delivery by its key,
    # filtering on the endpoint: an index on delivery_id would let it start from the endpoint.
    record = stored("join_unindexed")
    driving = {
        "statement": record["query"],
        "explain": {
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {"table": {"table_name": "upstream_webhookattempt", "access_type": "ALL"}},
                    {
                        "table": {
                            "table_name": "upstream_webhookdelivery",
                            "access_type": "eq_ref",
                            "key": "PRIMARY",
                            "used_key_parts": ["id"],
                            "ref": ["indexguard_plans_indexed.upstream_webhookattempt.delivery_id"],
                            "attached_condition": "upstream_webhookdelivery.endpoint_id = 7",
                        }
                    },
                ],
            }
        },
    }
    finding, lookup = analyze(driving)
    assert (finding.table, finding.rule) == ("upstream_webhookattempt", Rule.JOIN)
    assert (
        finding.join_filter == "upstream_webhookdelivery.id = upstream_webhookattempt.delivery_id"
    )
    # The delivery's own filter at its primary-key lookup: judged as PostgreSQL's lookups are
    # (spared only when the attempts hold a selective condition, or an index serves it).
    assert (lookup.table, lookup.rule, lookup.joined) == (
        "upstream_webhookdelivery",
        Rule.FILTER,
        True,
    )
    assert (lookup.filter, lookup.index_name) == ("endpoint_id = 7", "PRIMARY")


def test_or_across_tables_is_unservable() -> None:
    [finding] = analyze(plan_of("or_across_tables"))
    assert (finding.rule, finding.unservable) == (Rule.UNSERVABLE, "or-across-tables")


def test_leading_wildcard_is_unservable() -> None:
    [finding] = settle(analyze(plan_of("contains")), catalog("indexed"))
    assert finding.rule is Rule.UNSERVABLE
    assert finding.unservable == "wildcard"
    assert finding.filter == "url ~~ '%example%'::binary"


def test_sorted_range_is_judged_by_production_rows_per_key() -> None:
    [finding] = analyze(plan_of("delivery_history_initial"), sorted_ranges=True)
    assert finding.sorted_range
    assert finding.index_condition == "endpoint_id = ?"
    busy = judge.Production(
        rows={"upstream_webhookdelivery": 1_000_000},
        columns={"upstream_webhookdelivery": {"endpoint_id": ColumnShape(3000, 0.0, None, 0.06)}},
        threshold=1000,
    )
    [settled] = settle([finding], catalog("initial"), busy)
    assert settled.rule is Rule.SORT_RANGE
    assert settled.sorted_rows == (333, 60000)
    # With webhook_endpoint_hist_idx (endpoint_id, created_at DESC) the index gives the order.
    assert settle([finding], catalog("indexed"), busy) == []


def test_lookups_and_unfiltered_reads_are_not_violations() -> None:
    for name in ("pk_lookup", "update_pk", "delete_fk_in", "user_customer", "insert_values"):
        assert analyze(plan_of(name)) == [], name
    for name in ("unfiltered", "count_unfiltered", "limit_unfiltered", "aggregate_group_by"):
        assert [f.rule for f in analyze(plan_of(name))] == [None], name


def test_catalog_from_information_schema() -> None:
    indexed = catalog("indexed")
    [history] = [
        i for i in indexed.on("upstream_webhookdelivery") if i.name.startswith("webhook_e")
    ]
    assert history.columns == ("endpoint_id", "created_at DESC")
    assert history.keys == ("endpoint_id", "created_at")
    assert history.leading == "endpoint_id"
    [primary] = [i for i in indexed.on("upstream_webhookdelivery") if i.primary]
    assert (primary.unique, primary.keys) == (True, ("id",))
    [unique] = [i for i in indexed.on("upstream_alertrule") if i.name.endswith("_uniq")]
    assert unique.unique
    assert not unique.primary
    assert not catalog("initial").leading("upstream_webhookdelivery", "status")
    assert catalog("indexed").leading("upstream_webhookdelivery", "status")


def test_ignored_index_is_not_usable() -> None:
    row = ["t", "t_idx", 1, 1, "c", "A", None, "BTREE", None, 1]
    assert schema_of([row]).leading("t", "c") == []


def test_render_masks_values() -> None:
    lines = render(plan_of("retry_queue_initial"))
    assert lines[0].startswith("select #1: ALL on upstream_webhookdelivery")
    assert "(filesort)" in lines[0]
    assert "retrying" not in "\n".join(lines)
    assert render({"statement": "", "explain": {}}) == ["(no plan)"]


def test_indexes_used_and_tables_read() -> None:
    backend = MySQL()
    plan = plan_of("subquery_filter_unindexed")
    assert backend.tables_read(plan) == {"upstream_webhookendpoint", "upstream_webhookdelivery"}
    assert backend.indexes_used(plan) == {"upstream_webhookendp_customer_id_cd82dc35_fk_upstream_"}
    assert backend.indexes_used(plan_of("retry_queue_indexed")) == {"webhook_retry_idx"}


def test_internal_tables() -> None:
    backend = MySQL()
    assert backend.internal("information_schema.tables")
    assert backend.internal("mysql.user")
    assert not backend.internal("user")
    assert not backend.internal("upstream_customer")
    aliases = alias_map("SELECT table_name FROM information_schema.tables WHERE 1")
    assert aliases["tables"] == "information_schema.tables"


def test_verify_never_touches_the_schema() -> None:
    verification = MySQL().verify(None, "SELECT 1", None, None)  # type: ignore[arg-type]
    assert verification.fixes is None
    assert verification.note is not None
    assert verification.note.startswith("not verified")


def test_identify_the_server() -> None:
    backend = MySQL()
    backend.identify("5.5.5-10.11.19-MariaDB-0+deb12u1")
    assert (backend.name, backend.mariadb, backend.version) == ("MariaDB 10.11", True, (10, 11, 19))
    backend.identify("8.4.3")
    assert (backend.name, backend.mariadb) == ("MySQL 8.4", False)


@pytest.mark.parametrize(
    ("statement", "aliases"),
    [
        (
            "SELECT 1 FROM `a` U0 INNER JOIN `b` ON (U0.`x` = `b`.`y`)",
            {"U0": "a", "a": "a", "b": "b"},
        ),
        ("UPDATE `t` SET `x` = 1 WHERE `t`.`id` = 2", {"t": "t"}),
        ("DELETE FROM `t` WHERE `t`.`id` IN (1)", {"t": "t"}),
        ("SELECT * FROM `t` AS `x` WHERE 1", {"x": "t", "t": "t"}),
    ],
)
def test_alias_map(statement: str, aliases: dict[str, str]) -> None:
    assert alias_map(statement) == aliases


@pytest.mark.parametrize(
    ("statement", "limited"),
    [
        ("SELECT * FROM t ORDER BY x LIMIT 5", True),
        ("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u LIMIT 1)", False),
        ("SELECT * FROM t WHERE x = 'LIMIT 5'", False),
        ("(SELECT 1 FROM t) UNION (SELECT 2 FROM u) LIMIT 3", True),
    ],
)
def test_has_limit(statement: str, limited: bool) -> None:
    assert has_limit(statement) is limited


@pytest.mark.parametrize(
    ("condition", "written"),
    [
        (
            "upstream_webhookendpoint.url like <cache>(cast('%example%' as char charset binary))",
            "upstream_webhookendpoint.url ~~ '%example%'::binary",
        ),
        ("d.`status` <=> 'failed'", "d.status = 'failed'"),
        ("t.`id` in (1,2,3)", "t.id = ANY (1,2,3)"),
        ("t.`id` not in (1,2)", "t.id <> ALL (1,2)"),
        (
            "trigcond(a.`id` is null) and trigcond(a.delivery_id = d.`id`)",
            "a.id IS NULL AND a.delivery_id = d.id",
        ),
        ("`db`.`t`.`Name` = 'x'", "t.\"Name\" = 'x'"),
        ("t.n between 1 and 3", "(t.n >= 1 AND t.n <= 3)"),
        ("t.enabled <> 0", "t.enabled"),
        ("t.name = 'a and b'", "t.name = 'a and b'"),
    ],
)
def test_expression(condition: str, written: str) -> None:
    assert expression(condition) == written


def test_mysql_8_hints_set_the_variables_for_one_statement() -> None:
    settings = {"max_seeks_for_key": "1"}
    assert with_hints("SELECT * FROM t", settings) == (
        "SELECT /*+ SET_VAR(max_seeks_for_key=1) */ * FROM t"
    )
    assert with_hints("  update t set x = 1", settings).startswith(
        "  update /*+ SET_VAR(max_seeks_for_key=1) */ t"
    )
    # WITH and parenthesised unions take no statement-level hint: planned as they are.
    assert with_hints("WITH a AS (SELECT 1) SELECT * FROM a", settings).startswith("WITH a AS")
