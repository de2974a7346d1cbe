"""SQLite's plans read into findings, on plans captured from SQLite (``tests/plans/sqlite/``).

No database here: ``tests/plans/capture_sqlite.py`` captured each scenario's EXPLAIN QUERY PLAN
rows and statement from the sample app's models, and ``test_sqlite_live.py`` checks that SQLite
still plans them that way. Each scenario's expectation is the list of full reads ``analyze``
finds, in plan order, and the verdicts the judgement keeps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from pytest_indexguard import judge
from pytest_indexguard.explain import Context, for_vendor
from pytest_indexguard.explain.sqlite import Plan, SQLite, _Statement, analyze
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.schema import ColumnShape, IndexInfo, Schema
from pytest_indexguard.suggest import ModelIndex, candidates

PLANS = Path(__file__).parent / "plans" / "sqlite"
LOG = "upstream_integrationlog"
DELIVERY = "upstream_webhookdelivery"
ENDPOINT = "upstream_webhookendpoint"
CUSTOMER = "upstream_customer"


class Found(NamedTuple):
    table: str
    node_type: str
    rule: Rule | None
    sorted_range: bool = False


SCAN, AUTOMATIC = "SCAN", "SCAN for an AUTOMATIC INDEX"
# What analyze() finds in each scenario's plan, in plan order.
FOUND: dict[str, tuple[Found, ...]] = {
    "filter_unindexed": (Found(LOG, SCAN, Rule.FILTER),),
    "filter_sort_limit": (Found(LOG, SCAN, Rule.FILTER),),
    "filter_sort_limit_indexed": (),
    "sort_limit_unfiltered": (Found(LOG, SCAN, Rule.SORT_LIMIT),),
    "sort_without_limit": (Found(LOG, SCAN, None),),
    "offset_without_limit": (Found(LOG, SCAN, None),),
    "unfiltered": (Found(LOG, SCAN, None),),
    "count_covering_index": (Found(DELIVERY, SCAN, None),),
    "index_order_limit": (Found(DELIVERY, SCAN, None),),
    "index_order_filter": (Found(DELIVERY, SCAN, Rule.FILTER),),
    "search_index_order": (),
    "sorted_range": (Found(LOG, "SEARCH", None, sorted_range=True),),
    "pk_lookup": (),
    "multi_index_or": (),
    "or_unindexed": (Found(DELIVERY, SCAN, Rule.FILTER),),
    "or_across_tables": (Found("upstream_userprofile", SCAN, Rule.FILTER),),
    "exclude_not_equal": (Found(LOG, SCAN, Rule.FILTER),),
    "exclude_not_in": (Found(LOG, SCAN, Rule.FILTER),),
    "icontains": (Found(LOG, SCAN, Rule.FILTER),),
    "startswith": (Found(CUSTOMER, SCAN, Rule.FILTER),),
    "few_valued": (Found("upstream_alertrule", SCAN, Rule.FILTER),),
    "partial_index": (Found(LOG, SCAN, Rule.FILTER),),
    "expression_index": (),
    "list_subquery": (Found(DELIVERY, SCAN, Rule.FILTER),),
    "correlated_subquery": (Found(CUSTOMER, SCAN, None), Found(ENDPOINT, SCAN, Rule.JOIN)),
    "not_exists": (Found(CUSTOMER, SCAN, Rule.FILTER),),
    "left_join_anti": (Found("auth_user", SCAN, None),),
    "exclude_subquery": (Found(LOG, SCAN, Rule.FILTER), Found(DELIVERY, SCAN, Rule.FILTER)),
    "join_inner_unindexed": (Found(ENDPOINT, SCAN, Rule.JOIN),),
    "join_outer_restricted": (Found(LOG, SCAN, Rule.JOIN),),
    # The delivery found by its primary key, filtered by its own status: production may start
    # from the deliveries and read them whole (judged as PostgreSQL's primary-key lookups).
    "join_outer_pk": (Found(LOG, SCAN, Rule.JOIN), Found(DELIVERY, "SEARCH", Rule.FILTER)),
    "automatic_index": (Found(DELIVERY, SCAN, None), Found(LOG, AUTOMATIC, Rule.JOIN)),
    "automatic_partial_index": (
        Found(DELIVERY, SCAN, Rule.FILTER),
        Found(LOG, AUTOMATIC, Rule.FILTER),
    ),
    "select_related_all": (Found("upstream_userprofile", SCAN, None),),
    "co_routine": (Found(LOG, SCAN, Rule.FILTER),),
    "materialize": (Found(LOG, SCAN, Rule.FILTER),),
    "scalar_subquery_constant_row": (Found(LOG, SCAN, Rule.FILTER),),
    "compound_union": (Found(LOG, SCAN, Rule.FILTER),),
    "update_filter": (Found(DELIVERY, SCAN, Rule.FILTER),),
    "update_pk": (),
    "delete_filter": (Found(LOG, SCAN, Rule.FILTER),),
    "random_order": (Found(LOG, SCAN, Rule.SORT_LIMIT),),
    "group_by_count": (Found(LOG, SCAN, None),),
    "view": (Found(LOG, SCAN, None),),
    "analysed_tiny_planner": (Found(LOG, SCAN, Rule.FILTER),),
    "analysed_tiny_forced": (),
    "bloom_filter": (
        Found(DELIVERY, SCAN, Rule.JOIN),
        Found(ENDPOINT, "SEARCH", Rule.FILTER),
        Found("upstream_integrationconnection", "SEARCH", Rule.FILTER),
    ),
}

# The violations the judgement keeps (table, rule, unservable kind), with the sample app's
# few-valued columns (booleans and fields with a handful of choices).
VERDICTS: dict[str, tuple[tuple[str, Rule, str | None], ...]] = {
    "filter_sort_limit": ((LOG, Rule.FILTER, None),),
    "sort_limit_unfiltered": ((LOG, Rule.SORT_LIMIT, None),),
    "index_order_filter": ((DELIVERY, Rule.FILTER, None),),
    "or_unindexed": ((DELIVERY, Rule.FILTER, None),),
    "or_across_tables": (("upstream_userprofile", Rule.UNSERVABLE, "or-across-tables"),),
    "exclude_not_equal": ((LOG, Rule.UNSERVABLE, "not-equal"),),
    "exclude_not_in": ((LOG, Rule.UNSERVABLE, "not-in"),),
    "icontains": ((LOG, Rule.UNSERVABLE, "wildcard"),),
    "startswith": ((CUSTOMER, Rule.FILTER, None),),
    "correlated_subquery": ((ENDPOINT, Rule.JOIN, None),),
    "join_inner_unindexed": ((ENDPOINT, Rule.JOIN, None),),
    "join_outer_restricted": ((LOG, Rule.JOIN, None),),
    "join_outer_pk": ((LOG, Rule.JOIN, None),),
    "automatic_index": ((LOG, Rule.JOIN, None),),
    "automatic_partial_index": ((DELIVERY, Rule.FILTER, None), (LOG, Rule.FILTER, None)),
    "co_routine": ((LOG, Rule.FILTER, None),),
    "random_order": ((LOG, Rule.UNSERVABLE, "random-order"),),
    "analysed_tiny_planner": ((LOG, Rule.FILTER, None),),
    # The connections' provider: no index serves it, and the deliveries hold no condition of
    # their own to start from (the endpoints' flag keeps most of them).
    "bloom_filter": (
        (DELIVERY, Rule.JOIN, None),
        ("upstream_integrationconnection", Rule.FILTER, None),
    ),
}
# Columns of a few values (what suggest.ModelIndex.is_low_cardinality says of the sample app).
FEW_VALUES = {
    ("upstream_alertrule", "enabled"),
    ("upstream_alertrule", "comparison"),
    (LOG, "status"),
    (DELIVERY, "status"),
    (ENDPOINT, "active"),
    ("upstream_userprofile", "role"),
}


def few_values(table: str, column: str) -> bool:
    return (table, column) in FEW_VALUES


def stored(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def plan_of(name: str) -> Plan:
    data = stored(name)
    rows = tuple((row[0], row[1], row[3]) for row in data["rows"])
    return Plan(rows, data["text"], copy=data["planned_on_copy"])


def schema_of(name: str) -> Schema:
    return Schema.of(
        IndexInfo(**{**index, "columns": tuple(index["columns"]), "keys": tuple(index["keys"])})
        for index in stored(name)["indexes"]
    )


def findings(name: str, **options: Any) -> list[ScanFinding]:
    return analyze(plan_of(name), **options)


def verdicts(name: str, production: judge.Production | None = None) -> list[ScanFinding]:
    plan = plan_of(name)
    context = Context(schema_of(name), production=production, few_values=few_values)
    return SQLite().assess(None, plan.text, plan, context).findings


def test_every_stored_plan_has_an_expectation() -> None:
    assert {path.stem for path in PLANS.glob("*.json")} == set(FOUND)
    assert set(VERDICTS) <= set(FOUND)


@pytest.mark.parametrize("name", sorted(FOUND))
def test_full_reads(name: str) -> None:
    found = [
        Found(f.table, f.node_type, f.rule, f.sorted_range)
        for f in findings(name, sorted_ranges=True)
    ]
    assert found == list(FOUND[name]), plan_of(name).rows


@pytest.mark.parametrize("name", sorted(FOUND))
def test_verdicts(name: str) -> None:
    kept = [(f.table, f.rule, f.unservable) for f in verdicts(name) if f.is_violation]
    assert kept == list(VERDICTS.get(name, ())), plan_of(name).rows


def test_every_node_kind_is_in_a_stored_plan() -> None:
    details = " | ".join(detail for name in FOUND for _, _, detail in plan_of(name).rows)
    for kind in (
        "SCAN upstream_",
        "USING COVERING INDEX",
        "SCAN upstream_webhookdelivery USING INDEX",
        "SEARCH upstream_integrationlog USING INDEX",
        "USING INTEGER PRIMARY KEY",
        "USING AUTOMATIC COVERING INDEX",
        "USING AUTOMATIC PARTIAL COVERING INDEX",
        "BLOOM FILTER ON",
        "USE TEMP B-TREE FOR ORDER BY",
        "MULTI-INDEX OR",
        "CORRELATED SCALAR SUBQUERY",
        "LIST SUBQUERY",
        "CO-ROUTINE",
        "MATERIALIZE",
        "SCAN CONSTANT ROW",
        "COMPOUND QUERY",
        "SCAN U0",
        "(<expr>=?)",
    ):
        assert kind in details, kind


def test_conditions_come_from_the_statement_in_the_judgements_spelling() -> None:
    (failed,) = findings("filter_sort_limit")
    assert failed.filter == "\"status\" = 'failed'"
    assert failed.sort_key == ('"start_time" DESC',)
    (retry,) = findings("automatic_partial_index")[:1]
    assert retry.filter == '"attempts" = 3'
    (pattern,) = findings("icontains")
    assert pattern.filter == "\"message\" ~~ '%timeout%'"  # LIKE, its ESCAPE dropped
    (excluded,) = findings("exclude_not_in")
    assert excluded.filter == "\"status\" <> ALL ('failed', 'running')"
    anti_join = findings("exclude_subquery")[0]
    assert anti_join.filter == "NOT ((SubPlan 1))"
    (either,) = findings("or_across_tables")
    # Across tables the qualifiers stay: the OR names two tables.
    assert either.filter == (
        "upstream_userprofile.\"role\" = 'admin' OR upstream_customer.\"name\" = 'Acme'"
    )
    (random,) = findings("random_order")
    assert random.sort_key == ("random() ASC",)


def test_join_conditions_keep_the_alias_the_plan_names() -> None:
    (_, inner) = findings("correlated_subquery")
    assert inner.alias == "U0"
    assert inner.join_filter == 'U0."url" = (upstream_customer."name")'
    (automatic,) = findings("automatic_index")[1:]
    assert automatic.alias == LOG
    assert automatic.join_filter == f'{LOG}."status" = {DELIVERY}."status"'
    (outer, _) = findings("join_outer_pk")
    assert outer.join_filter == f'{LOG}."end_time" = {DELIVERY}."id"'
    # A full read on the outer side that nothing else restricts keeps no join condition.
    (everything,) = findings("select_related_all")
    assert everything.join_filter is None


def test_a_sorted_range_carries_the_index_condition_sqlite_shows() -> None:
    (found,) = findings("sorted_range", sorted_ranges=True)
    assert found.index_name == "upstream_integrationlog_connection_id_66f27c03"
    assert found.index_condition == "connection_id=?"
    assert found.filter is None  # the index range serves the statement's only condition
    assert found.sort_key == ('"start_time" DESC',)
    assert findings("sorted_range") == []  # only listed when production's shape is known


def test_a_sorted_range_is_judged_by_productions_rows_per_key() -> None:
    busy = ColumnShape(n_distinct=4870.0, max_frequency=0.06)
    production = judge.Production(
        rows={LOG: 1_000_000}, columns={LOG: {"connection_id": busy}}, threshold=1000
    )
    (found,) = verdicts("sorted_range", production)
    assert found.rule is Rule.SORT_RANGE
    assert found.sorted_rows == (205, 60000)
    calm = judge.Production(
        rows={LOG: 1000}, columns={LOG: {"connection_id": busy}}, threshold=1000
    )
    assert verdicts("sorted_range", calm) == []


def test_full_reads_that_production_does_too_are_not_violations() -> None:
    # A boolean alone, no order: half the table.
    assert [f.rule for f in findings("few_valued")] == [Rule.FILTER]
    assert verdicts("few_valued") == []
    # A partial index the statement implies.
    assert findings("partial_index")[0].index_name == "intlog_failed_idx"
    assert verdicts("partial_index") == []
    # NOT EXISTS and NOT IN (sub-query): every outer row must be checked.
    assert [f.filter for f in findings("not_exists")] == ["NOT EXISTS(SubPlan 1)"]
    assert verdicts("not_exists") == []
    assert verdicts("exclude_subquery") == []


def test_forcing_on_an_analysed_tiny_table() -> None:
    assert plan_of("analysed_tiny_planner").rows[0][2] == "SCAN upstream_integrationlog"
    forced = plan_of("analysed_tiny_forced")
    assert forced.copy
    assert forced.rows[0][2].startswith("SEARCH upstream_integrationlog USING INDEX")


def test_watched_tables_and_sqlites_own() -> None:
    assert findings("automatic_index", watched=lambda table: table == LOG)[0].table == LOG
    assert findings("automatic_index", watched=lambda table: False) == []
    assert SQLite().internal("sqlite_stat1")
    assert not SQLite().internal(LOG)


def test_suggestions_read_the_findings(django_models: ModelIndex) -> None:
    def columns(name: str) -> tuple[str, ...] | None:
        finding = next(f for f in verdicts(name) if f.is_violation)
        found = candidates(finding, django_models, plan_of(name).text, schema_of(name))
        return found[0].columns if found else None

    assert columns("filter_sort_limit") == ("status", "-start_time")
    assert columns("sort_limit_unfiltered") == ("-end_time",)
    assert columns("join_inner_unindexed") == ("url",)
    assert columns("correlated_subquery") == ("url",)
    assert columns("automatic_index") is None  # status alone: three values, no index helps
    assert columns("join_outer_pk") == ("end_time",)
    assert columns("index_order_filter") == ("event_type", "endpoint_id")
    assert columns("or_across_tables") is None  # a rewrite, never an index
    assert columns("icontains") is None
    # SQLite cannot serve LIKE 'Ac%' with this index; verification says so (test_sqlite_live).
    assert columns("startswith") is None  # the unique index on name already leads with it


@pytest.fixture
def django_models() -> ModelIndex:
    return ModelIndex()


def test_render_indexes_and_tables() -> None:
    backend = SQLite()
    assert backend.render(plan_of("list_subquery")) == [
        "SEARCH upstream_webhookendpoint USING INTEGER PRIMARY KEY (rowid=?)",
        "LIST SUBQUERY 1",
        "  -> SCAN U0",
    ]
    assert backend.tables_read(plan_of("list_subquery")) == {ENDPOINT, DELIVERY}
    assert backend.indexes_used(plan_of("list_subquery")) == {f"{ENDPOINT}.rowid"}
    assert backend.indexes_used(plan_of("multi_index_or")) == {
        "upstream_webhookdelivery_endpoint_id_ddedcdaf",
    }
    assert backend.indexes_used(plan_of("automatic_index")) == set()
    assert backend.tables_read(plan_of("materialize")) == {LOG, "upstream_integrationconnection"}
    assert backend.render(Plan((), "SELECT 1")) == ["(no plan)"]


def test_the_backend_of_djangos_sqlite_vendor() -> None:
    assert isinstance(for_vendor("sqlite"), SQLite)


# -- reading the statement's text ------------------------------------------------------------


def test_subqueries_are_numbered_in_the_order_they_end() -> None:
    statement = _Statement(
        "SELECT * FROM a WHERE a.x IN (SELECT U0.x FROM b U0 WHERE U0.y IN "
        "(SELECT V0.y FROM c V0 WHERE V0.x = 1)) AND a.y IN (SELECT U0.y FROM c U0 WHERE U0.x = 3)"
    )
    numbered = [statement.numbered(number) for number in (1, 2, 3, 4)]
    assert [select.sources if select else None for select in numbered] == [
        {"v0": "c"},
        {"u0": "b"},
        {"u0": "c"},
        {"a": "a"},
    ]
    assert numbered[1] is not None
    assert numbered[1].conditions == ["U0.y IN (SubPlan 1)"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SELECT (((",
        "SELECT * FROM",
        "SELECT * FROM t WHERE a = 'unterminated",
        "WITH x AS (SELECT",
        "DELETE FROM",
        ")))) SELECT",
    ],
)
def test_a_statement_the_reader_cannot_follow_gets_no_verdict(text: str) -> None:
    """Real plan rows, a text that does not match them: full reads without rules, no error."""
    rows = plan_of("automatic_partial_index").rows + plan_of("correlated_subquery").rows
    assessment = SQLite().assess(None, text, Plan(rows, text), Context(Schema()))
    assert [f.rule for f in assessment.findings] == [None] * 4
    assert assessment.errors == []
