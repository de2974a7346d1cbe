"""Rules of the suggestions and of the SQLite and MySQL/MariaDB plan readers that no other fast
test pinned, found by mutation testing (mutmut, see docs/contributing.md): each test holds one
path of ``suggest.py``, ``explain/sqlite.py`` or ``explain/mysql.py`` to its exact result.

Every plan is a real one: PostgreSQL's stored in ``tests/plans/`` (captured from PostgreSQL 15
and 18), SQLite's made here in process on the sample app's schema (``tests/plans/sqlite``), and
MariaDB's stored in ``tests/plans/mariadb`` or made on the local server (skipped, saying why,
when none answers)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from conftest import REPO, reachable_mysql
from plans.stored import catalog
from pytest_indexguard import plan as pg
from pytest_indexguard.explain.mysql import MySQL
from pytest_indexguard.explain.mysql import analyze as analyze_mysql
from pytest_indexguard.explain.sqlite import SQLite
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.schema import IndexInfo, Schema
from pytest_indexguard.suggest import (
    ModelIndex,
    Suggestion,
    candidates,
    filter_columns,
    index_name,
    one_column_ors,
    sort_column,
)

PLANS = Path(__file__).parent / "plans"


def _data(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / relative).read_text(encoding="utf-8"))
    return data


_catalog = catalog


def _pg_findings(relative: str) -> tuple[dict[str, Any], Schema | None, list[ScanFinding]]:
    """A stored PostgreSQL plan read as the guard reads it, with its catalog when stored."""
    data = _data(relative)
    if "indexes" in data:
        schema = _catalog(data)
        found = pg.analyze(data["plan"], None, leading=schema.leading_of, joined_ranges=True)
        return data, schema, found
    return data, None, pg.analyze(data["plan"])


def _suggested(relative: str, table: str, models: ModelIndex | None = None) -> list[Suggestion]:
    data, schema, findings = _pg_findings(relative)
    [finding] = [f for f in findings if f.table == table and f.is_violation]
    sql = data.get("query") or data.get("statement")
    return candidates(finding, models or ModelIndex(str(REPO)), sql, schema)


# -- SQLite, in process ------------------------------------------------------------------------


def _sqlite_candidates(
    raw: sqlite3.Connection, sql: str, models: ModelIndex | None = None
) -> tuple[ScanFinding, list[Suggestion]]:
    """The statement planned by SQLite (as the guard plans it: forced), its one violation, and
    the suggestions for it, written for SQLite."""
    from pytest_indexguard.explain.sqlite import analyze

    backend = SQLite()
    plan = backend.explain(raw, sql, forced=True).plan
    [finding] = [f for f in analyze(plan) if f.is_violation]
    found = candidates(
        finding, models or ModelIndex(str(REPO)), sql, backend.schema(raw), dialect="sqlite"
    )
    return finding, found


def _applies(raw: sqlite3.Connection, suggestion: Suggestion) -> None:
    """The suggestion's DDL runs on the database, and its reverse removes the index."""
    raw.execute(suggestion.sql())
    assert suggestion.name in {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    raw.execute(suggestion.drop_sql())
    assert suggestion.name not in {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}


CUSTOMER = '"upstream_customer"'
DELIVERY = '"upstream_webhookdelivery"'
LOG = '"upstream_integrationlog"'
ENDPOINT = '"upstream_webhookendpoint"'


def test_an_iexact_filter_sorted_under_a_limit_gets_an_expression_index_then_the_order(
    sample_db: sqlite3.Connection,
) -> None:
    sql = (
        f'SELECT {CUSTOMER}."id" FROM {CUSTOMER} WHERE UPPER({CUSTOMER}."name") = UPPER(\'acme\') '
        f'ORDER BY {CUSTOMER}."created_at" DESC LIMIT 10'
    )
    _, (both, alone) = _sqlite_candidates(sample_db, sql)
    assert both.columns == ("upper(name)", "-created_at")
    assert both.fields == ("name", "-created_at")
    assert (both.model, both.kind, both.dialect) == ("upstream.Customer", "model", "sqlite")
    assert both.name == "customer_name_upper_c_b600_idx"
    assert both.index_code() == (
        'models.Index(Upper("name"), F("created_at").desc(), name="customer_name_upper_c_b600_idx")'
    )
    assert both.sql() == (
        "CREATE INDEX customer_name_upper_c_b600_idx ON upstream_customer "
        "((upper(name)), created_at DESC)"
    )
    assert both.drop_sql() == "DROP INDEX IF EXISTS customer_name_upper_c_b600_idx"
    # Only PostgreSQL builds an index CONCURRENTLY: a plain AddIndex elsewhere.
    assert both.migration_code() == f'migrations.AddIndex("customer", {both.index_code()})'
    assert both.describe() == f"{both.index_code()} in upstream.Customer.Meta.indexes"
    assert alone.columns == ("upper(name)",)
    assert alone.name == "customer_name_upper_idx"
    assert alone.index_code() == 'models.Index(Upper("name"), name="customer_name_upper_idx")'
    for suggestion in (both, alone):
        _applies(sample_db, suggestion)


def test_a_range_after_a_function_argument_is_still_a_key(sample_db: sqlite3.Connection) -> None:
    sql = (
        f'SELECT {CUSTOMER}."id" FROM {CUSTOMER} WHERE UPPER({CUSTOMER}."name") = UPPER(\'acme\') '
        f"AND {CUSTOMER}.\"created_at\" >= '2024-01-01'"
    )
    _, found = _sqlite_candidates(sample_db, sql)
    assert [s.columns for s in found] == [("upper(name)", "created_at"), ("upper(name)",)]


def test_between_names_its_column_once(sample_db: sqlite3.Connection) -> None:
    sql = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} '
        f"WHERE {DELIVERY}.\"created_at\" BETWEEN '2024-01-01' AND '2024-12-31'"
    )
    _, found = _sqlite_candidates(sample_db, sql)
    assert [s.columns for s in found] == [("created_at",)]
    _applies(sample_db, found[0])


def test_a_condition_no_index_serves_does_not_hide_the_next(sample_db: sqlite3.Connection) -> None:
    sql = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} '
        f"WHERE {DELIVERY}.\"status\" <> 'failed' AND {DELIVERY}.\"event_type\" = 'x'"
    )
    _, found = _sqlite_candidates(sample_db, sql)
    assert [s.columns for s in found] == [("event_type",)]


def test_a_json_document_is_never_a_key(sample_db: sqlite3.Connection) -> None:
    for operator in ("IS NULL", ">= '{}'"):
        sql = (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} '
            f'WHERE {DELIVERY}."payload" {operator} AND {DELIVERY}."event_type" >= \'x\''
        )
        _, found = _sqlite_candidates(sample_db, sql)
        assert [s.columns for s in found] == [("event_type",)], operator


def test_a_flag_follows_the_column_it_narrows(sample_db: sqlite3.Connection) -> None:
    # "enabled" sorts before "metric": the order comes from the flag, not from the names.
    rule = '"upstream_alertrule"'
    sql = f'SELECT {rule}."id" FROM {rule} WHERE {rule}."enabled" AND {rule}."metric" = \'cpu\''
    _, found = _sqlite_candidates(sample_db, sql)
    assert [s.columns for s in found] == [("metric", "enabled")]


def test_the_order_by_of_a_distinct_keeps_every_key(sample_db: sqlite3.Connection) -> None:
    sql = (
        f'SELECT DISTINCT {DELIVERY}."event_type", {DELIVERY}."attempts" FROM {DELIVERY} '
        f'ORDER BY {DELIVERY}."created_at" DESC, {DELIVERY}."attempts" LIMIT 20'
    )
    finding, found = _sqlite_candidates(sample_db, sql)
    assert finding.rule is Rule.SORT_LIMIT
    assert [s.columns for s in found] == [("-created_at", "attempts")]


def test_an_index_walked_for_its_order_gives_every_key_of_the_table(
    sample_db: sqlite3.Connection,
) -> None:
    sample_db.execute(f'CREATE INDEX "delivery_created_idx" ON {DELIVERY} ("created_at")')
    endpoint = '"upstream_webhookendpoint"'
    sql = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {DELIVERY}."event_type" = \'x\' '
        f'ORDER BY {DELIVERY}."created_at" ASC, {DELIVERY}."attempts" ASC'
    )
    finding, found = _sqlite_candidates(sample_db, sql)
    assert finding.index_name == "delivery_created_idx"
    assert [s.columns for s in found] == [("event_type", "created_at", "attempts"), ("event_type",)]
    # Another table's key ends what this table's index can give, even when the column names
    # match (both tables have an id).
    joined = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {endpoint} '
        f'ON ({DELIVERY}."endpoint_id" = {endpoint}."id") WHERE {DELIVERY}."event_type" = \'x\' '
        f'ORDER BY {DELIVERY}."created_at" ASC, {endpoint}."id" ASC'
    )
    _, found = _sqlite_candidates(sample_db, joined)
    assert [s.columns for s in found] == [("event_type", "created_at"), ("event_type",)]


def test_a_sort_key_that_is_no_column_of_the_table_ends_the_order(
    sample_db: sqlite3.Connection,
) -> None:
    # An index walked for its order, then at random: RANDOM() is no column of the table, so the
    # suggestions stop at the column before it.
    sample_db.execute(f'CREATE INDEX "delivery_created_idx" ON {DELIVERY} ("created_at")')
    sql = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {DELIVERY}."event_type" = \'x\' '
        f'ORDER BY {DELIVERY}."created_at" ASC, RANDOM()'
    )
    finding, found = _sqlite_candidates(sample_db, sql)
    assert (finding.index_name, finding.sort_key) == ("delivery_created_idx", ())
    assert [s.columns for s in found] == [("event_type", "created_at"), ("event_type",)]


def test_the_registry_lists_the_models_foreign_keys() -> None:
    references = ModelIndex(str(REPO)).references()
    assert references[("upstream_webhookdelivery", "endpoint_id")] == (
        "upstream_webhookendpoint",
        "id",
    )
    assert references[("upstream_userprofile", "customer_id")] == ("upstream_customer", "id")
    # Columns that reference nothing are not listed.
    assert ("upstream_webhookdelivery", "status") not in references


def test_a_table_without_a_model_is_quoted_and_created_by_sql(
    sample_db: sqlite3.Connection,
) -> None:
    sample_db.execute(
        'CREATE TABLE "LegacyEvents" ("id" integer PRIMARY KEY, "label" text, "seen" text)'
    )
    legacy = '"LegacyEvents"'
    sql = f'SELECT {legacy}."id" FROM {legacy} WHERE UPPER({legacy}."label") = \'A\''
    _, [suggestion] = _sqlite_candidates(sample_db, sql)
    assert (suggestion.model, suggestion.kind, suggestion.fields) == (
        None,
        "sql",
        ("upper(label)",),
    )
    assert suggestion.sql() == (
        'CREATE INDEX LegacyEvents_label_upper_idx ON "LegacyEvents" ((upper(label)))'
    )
    assert suggestion.migration_code() == suggestion.sql()
    assert suggestion.describe() == (
        f"{suggestion.sql()} (no Django migration creates this table's indexes)"
    )
    _applies(sample_db, suggestion)


def test_a_composite_primary_key_leads_only_with_its_first_column(
    sample_db: sqlite3.Connection,
) -> None:
    # A link table keyed by (group, member): looking rows up by the member alone reads it whole,
    # and an index on the member serves that.
    sample_db.execute(
        'CREATE TABLE "legacy_membership" ("group_id" integer NOT NULL, '
        '"member_id" integer NOT NULL, PRIMARY KEY ("group_id", "member_id"))'
    )
    sql = 'SELECT "legacy_membership"."group_id" FROM "legacy_membership" WHERE "member_id" = 3'
    _, found = _sqlite_candidates(sample_db, sql)
    assert [s.columns for s in found] == [("member_id",)]


# -- SQLite's stored plans: what the reader takes from the statement ---------------------------


class Read(NamedTuple):
    """One full read (or sorted range) ``explain.sqlite.analyze`` lists, with what it took from
    the statement for it: the alias, the conditions in the judgement's spelling, the order, and
    for a search fed by a join key, the conditions of the tables that feed it."""

    table: str
    rule: str | None
    alias: str | None = None
    index_name: str | None = None
    filter: str | None = None
    join_filter: str | None = None
    index_condition: str | None = None
    sort_key: tuple[str, ...] = ()
    joined: bool = False
    driver: tuple[tuple[str, str], ...] = ()
    node_type: str = "SCAN"


def _short(text: str | None) -> str | None:
    """A long condition (an IN list of hundreds of values) by its start and its length."""
    if text is None or len(text) <= 200:
        return text
    return f"{text[:40]}...({len(text)} characters)"


def _read(finding: ScanFinding) -> Read:
    return Read(
        finding.table,
        finding.rule.name if finding.rule else None,
        None if finding.alias == finding.table else finding.alias,
        finding.index_name,
        _short(finding.filter),
        _short(finding.join_filter),
        finding.index_condition,
        finding.sort_key,
        finding.joined,
        finding.driver,
        finding.node_type,
    )


# Every stored SQLite plan, read: the scenarios of tests/plans/sqlite (capture_sqlite.py, on the
# sample app's tables) and the plans SQLite made at scale (tests/plans/scale/sqlite,
# capture_standard_backends.py).
READ: dict[str, list[Read]] = {
    "analysed_tiny_forced": [],
    "analysed_tiny_planner": [
        Read("upstream_integrationlog", "FILTER", filter='"connection_id" = ANY (2, 3)')
    ],
    "automatic_index": [
        Read("upstream_webhookdelivery", None),
        Read(
            "upstream_integrationlog",
            "JOIN",
            join_filter='upstream_integrationlog."status" = upstream_webhookdelivery."status"',
            node_type="SCAN for an AUTOMATIC INDEX",
        ),
    ],
    "automatic_partial_index": [
        Read(
            "upstream_webhookdelivery",
            "FILTER",
            filter='"attempts" = 3',
            join_filter='upstream_integrationlog."status" = upstream_webhookdelivery."status"',
        ),
        Read(
            "upstream_integrationlog",
            "FILTER",
            filter="\"message\" = 'x'",
            join_filter='upstream_integrationlog."status" = upstream_webhookdelivery."status"',
            node_type="SCAN for an AUTOMATIC INDEX",
        ),
    ],
    "bloom_filter": [
        Read(
            table="upstream_webhookdelivery",
            rule="JOIN",
            alias=None,
            index_name=None,
            filter=None,
            join_filter=(
                '(upstream_webhookdelivery."attempts" = upstream_webhookendpoint."id") AND '
                '(upstream_webhookdelivery."payload" = upstream_integrationconnection."id")'
            ),
            index_condition=None,
            sort_key=(),
            joined=False,
            driver=(),
            node_type="SCAN",
        ),
        Read(
            table="upstream_webhookendpoint",
            rule="FILTER",
            alias=None,
            index_name=None,
            filter='"active"',
            join_filter="rowid=?",
            index_condition=None,
            sort_key=(),
            joined=True,
            driver=(),
            node_type="SEARCH",
        ),
        Read(
            table="upstream_integrationconnection",
            rule="FILTER",
            alias=None,
            index_name=None,
            filter="\"provider\" = 'p1'",
            join_filter="rowid=?",
            index_condition=None,
            sort_key=(),
            joined=True,
            driver=(),
            node_type="SEARCH",
        ),
    ],
    "co_routine": [
        Read(
            "upstream_integrationlog",
            "FILTER",
            filter="\"status\" = 'failed'",
            sort_key=('"start_time" DESC',),
        )
    ],
    "compound_union": [Read("upstream_integrationlog", "FILTER", filter="\"status\" = 'failed'")],
    "correlated_subquery": [
        Read("upstream_customer", None),
        Read(
            "upstream_webhookendpoint",
            "JOIN",
            alias="U0",
            join_filter='U0."url" = (upstream_customer."name")',
        ),
    ],
    "count_covering_index": [
        Read(
            "upstream_webhookdelivery",
            None,
            index_name="upstream_webhookdelivery_endpoint_id_ddedcdaf",
        )
    ],
    "delete_filter": [Read("upstream_integrationlog", "FILTER", filter="\"status\" = 'running'")],
    "exclude_not_equal": [
        Read("upstream_integrationlog", "FILTER", filter="NOT (\"status\" = 'failed')")
    ],
    "exclude_not_in": [
        Read("upstream_integrationlog", "FILTER", filter="\"status\" <> ALL ('failed', 'running')")
    ],
    "exclude_subquery": [
        Read("upstream_integrationlog", "FILTER", filter="NOT ((SubPlan 1))"),
        Read("upstream_webhookdelivery", "FILTER", alias="U0", filter="\"status\" = 'failed'"),
    ],
    "expression_index": [],
    "few_valued": [Read("upstream_alertrule", "FILTER", filter='"enabled"')],
    "filter_sort_limit": [
        Read(
            "upstream_integrationlog",
            "FILTER",
            filter="\"status\" = 'failed'",
            sort_key=('"start_time" DESC',),
        )
    ],
    "filter_sort_limit_indexed": [],
    "filter_unindexed": [Read("upstream_integrationlog", "FILTER", filter="\"status\" = 'failed'")],
    "group_by_count": [Read("upstream_integrationlog", None)],
    "icontains": [Read("upstream_integrationlog", "FILTER", filter="\"message\" ~~ '%timeout%'")],
    "index_order_filter": [
        Read(
            "upstream_webhookdelivery",
            "FILTER",
            index_name="upstream_webhookdelivery_endpoint_id_ddedcdaf",
            filter="\"event_type\" = 'claim.updated'",
        )
    ],
    "index_order_limit": [
        Read(
            "upstream_webhookdelivery",
            None,
            index_name="upstream_webhookdelivery_endpoint_id_ddedcdaf",
        )
    ],
    "join_inner_unindexed": [
        Read(
            "upstream_webhookendpoint",
            "JOIN",
            join_filter='upstream_webhookendpoint."url" = upstream_customer."name"',
        )
    ],
    "join_outer_pk": [
        Read(
            table="upstream_integrationlog",
            rule="JOIN",
            alias=None,
            index_name=None,
            filter=None,
            join_filter='upstream_integrationlog."end_time" = upstream_webhookdelivery."id"',
            index_condition=None,
            sort_key=(),
            joined=False,
            driver=(),
            node_type="SCAN",
        ),
        Read(
            table="upstream_webhookdelivery",
            rule="FILTER",
            alias=None,
            index_name=None,
            filter="\"status\" = 'failed'",
            join_filter="rowid=?",
            index_condition=None,
            sort_key=(),
            joined=True,
            driver=(),
            node_type="SEARCH",
        ),
    ],
    "join_outer_restricted": [
        Read(
            "upstream_integrationlog",
            "JOIN",
            join_filter=(
                'upstream_integrationlog."message" = upstream_webhookdelivery."event_type"'
            ),
        )
    ],
    "left_join_anti": [Read("auth_user", None)],
    "list_subquery": [
        Read("upstream_webhookdelivery", "FILTER", alias="U0", filter="\"status\" = 'failed'")
    ],
    "materialize": [
        Read("upstream_integrationlog", "FILTER", alias="U0", filter="\"status\" = 'failed'")
    ],
    "multi_index_or": [],
    "not_exists": [Read("upstream_customer", "FILTER", filter="NOT EXISTS(SubPlan 1)")],
    "offset_without_limit": [Read("upstream_integrationlog", None)],
    "or_across_tables": [
        Read(
            "upstream_userprofile",
            "FILTER",
            filter=(
                "upstream_userprofile.\"role\" = 'admin' OR upstream_customer.\"name\" = 'Acme'"
            ),
        )
    ],
    "or_unindexed": [
        Read(
            "upstream_webhookdelivery",
            "FILTER",
            filter="\"status\" = 'failed' OR \"event_type\" = 'x'",
        )
    ],
    "partial_index": [
        Read(
            "upstream_integrationlog",
            "FILTER",
            index_name="intlog_failed_idx",
            filter="\"status\" = 'failed'",
        )
    ],
    "pk_lookup": [],
    "random_order": [Read("upstream_integrationlog", "SORT_LIMIT", sort_key=("random() ASC",))],
    "scalar_subquery_constant_row": [
        Read("upstream_integrationlog", "FILTER", alias="U0", filter="\"status\" = 'failed'")
    ],
    "search_index_order": [],
    "select_related_all": [Read("upstream_userprofile", None)],
    "sort_limit_unfiltered": [
        Read("upstream_integrationlog", "SORT_LIMIT", sort_key=('"end_time" DESC',))
    ],
    "sort_without_limit": [Read("upstream_integrationlog", None)],
    "sorted_range": [
        Read(
            "upstream_integrationlog",
            None,
            index_name="upstream_integrationlog_connection_id_66f27c03",
            index_condition="connection_id=?",
            sort_key=('"start_time" DESC',),
            node_type="SEARCH",
        )
    ],
    "startswith": [Read("upstream_customer", "FILTER", filter="\"name\" ~~ 'Ac%'")],
    "unfiltered": [Read("upstream_integrationlog", None)],
    "update_filter": [Read("upstream_webhookdelivery", "FILTER", filter="\"status\" = 'retrying'")],
    "update_pk": [],
    "view": [Read("upstream_integrationlog", None)],
}

SCALE_READ: dict[str, list[Read]] = {
    "lookup_filtered_by_its_own_contains": [
        Read(
            table="rc_customer",
            rule="FILTER",
            alias=None,
            index_name=None,
            filter="\"email\" ~~ '%c123%'",
            join_filter=None,
            index_condition=None,
            sort_key=(),
            joined=False,
            driver=(),
            node_type="SCAN",
        ),
    ],
    "left_join_condition_restricts_no_row": [
        Read(
            table="rc_order",
            rule="FILTER",
            alias=None,
            index_name=None,
            filter="\"ref\" = 'r1'",
            join_filter=None,
            index_condition=None,
            sort_key=(),
            joined=False,
            driver=(),
            node_type="SCAN",
        ),
    ],
    "aggregate_ordered_by_its_value": [
        Read("rc_ticket", None, index_name="rc_ticket_queue_id_7a2b9c1d")
    ],
    "aggregate_ordered_by_position": [
        Read("rc_ticket", None, index_name="rc_ticket_queue_id_7a2b9c1d")
    ],
    "best_sellers": [Read("cat_orderline", None, index_name="cat_orderline_product_id_8c9d0e1f")],
    "catalog_page_indexed": [
        Read("cat_product", "FILTER", index_name="cat_product_created_desc", filter='"is_active"')
    ],
    "catalog_page_unindexed": [
        Read("cat_brand", "JOIN", join_filter='cat_product."brand_id" = cat_brand."id"'),
        Read(
            "cat_product",
            "FILTER",
            index_name="cat_product_brand_id_0a1b2c3d",
            filter='"is_active"',
            join_filter="brand_id=?",
            sort_key=('"created_at" DESC',),
            joined=True,
            node_type="SEARCH",
        ),
    ],
    "correlated_subquery_reads_a_whole_index": [
        Read("rc_ticket", None),
        Read(
            "rc_flip",
            "JOIN",
            alias="U0",
            join_filter='U0."created" > (rc_ticket."created")',
            node_type="SEARCH",
        ),
    ],
    "distinct_page_of_every_queue": [
        Read("rc_queue", "JOIN", join_filter='rc_ticket."queue_id" = rc_queue."id"'),
        Read(
            "rc_ticket",
            "SORT_LIMIT",
            index_name="rc_ticket_queue_id_7a2b9c1d",
            join_filter="queue_id=?",
            sort_key=('"created" ASC',),
            joined=True,
            node_type="SEARCH",
        ),
    ],
    "driven_by_unique_email": [
        Read(
            "rc_order",
            "FILTER",
            index_name="rc_order_customer_id_3e4f5a6b",
            filter="\"ref\" = 'r1'",
            join_filter="customer_id=?",
            joined=True,
            driver=(("rc_customer", "\"email\" = 'a@example.org'"),),
            node_type="SEARCH",
        )
    ],
    "driven_by_unique_username": [
        Read(
            "rc_account",
            "FILTER",
            index_name="sqlite_autoindex_rc_account_1",
            filter='"kind" = 1',
            join_filter="user_id=?",
            joined=True,
            driver=(("auth_user", "\"username\" = 'alice'"),),
            node_type="SEARCH",
        )
    ],
    "every_queue": [
        Read(
            "rc_ticket",
            "FILTER",
            filter='((SubPlan 1)) AND ("created" >= \'2024-12-01\') AND (NOT ("status" = 3))',
        )
    ],
    "every_queue_as_a_list": [
        Read(
            "rc_ticket",
            "FILTER",
            filter='("queue_id" = ANY (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)) AND ("created" >= '
            "'2024-12-01') AND (NOT (\"status\" = 3))",
            node_type="SCAN",
        )
    ],
    "every_queue_page_by_created": [
        Read(
            "rc_ticket",
            "FILTER",
            filter='"queue_id" = ANY (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)',
            sort_key=('"created" DESC',),
            node_type="SCAN",
        )
    ],
    "every_queue_page_by_newest_id": [
        Read(
            "rc_ticket",
            "FILTER",
            filter='"queue_id" = ANY (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)',
            node_type="SCAN",
        )
    ],
    "every_queue_joined": [
        Read("rc_queue", "JOIN", join_filter='rc_ticket."queue_id" = rc_queue."id"'),
        Read(
            "rc_ticket",
            "FILTER",
            index_name="rc_ticket_queue_id_7a2b9c1d",
            filter='("created" >= \'2024-12-01\') AND (NOT ("status" = 3))',
            join_filter="queue_id=?",
            joined=True,
            node_type="SEARCH",
        ),
    ],
    "exclude_across_join": [Read("rc_account", "FILTER", filter="\"warned_at\" < '2025-01-01'")],
    "latest_good_reviews": [
        Read("cat_review", "FILTER", filter='"rating" >= 4', sort_key=('"created_at" DESC',))
    ],
    "long_in_list_indexed": [],
    "long_in_list_unindexed": [
        Read(
            "rc_ticket",
            "FILTER",
            filter='"status" = ANY (4, 5, 6, 7, 8, 9, 10, 11...(6117 characters)',
        )
    ],
    "or_across_join": [
        Read(
            "rc_customer",
            "FILTER",
            filter=(
                "rc_customer.\"email\" = 'a@example.org' OR rc_order.\"email\" = 'a@example.org'"
            ),
        )
    ],
    "queue_found_by_its_key": [
        Read("rc_ticket", "FILTER", filter='((SubPlan 1)) AND (NOT ("status" = 3))'),
        Read("rc_queue", "FILTER", alias="U0", filter="\"title\" = 'support'"),
    ],
    "queue_restricted_by_a_flag_only": [
        Read("rc_ticket", "FILTER", filter="((SubPlan 1)) AND (\"created\" >= '2024-12-01')"),
        Read("rc_queue", "FILTER", alias="U0", filter='"title" IS NOT NULL'),
    ],
    "reviews_of_a_long_list": [],
    "select_related_sort": [
        Read("rc_brand", "JOIN", join_filter='rc_item."brand_id" = rc_brand."id"'),
        Read(
            "rc_item",
            "FILTER",
            index_name="rc_item_brand_id_5d1e2f3a",
            filter='"is_active"',
            join_filter="brand_id=?",
            sort_key=('"created_at" DESC',),
            joined=True,
            node_type="SEARCH",
        ),
    ],
    "stock_in_long_list": [
        Read(
            "cat_product",
            "FILTER",
            filter='"stock" = ANY (1, 2, 3, 4, 5, 6, 7, 8, 9...(6107 characters)',
        )
    ],
}


def _stored_sqlite(name: str) -> Any:
    from pytest_indexguard.explain.sqlite import Plan

    data = _data(f"sqlite/{name}.json")
    rows = tuple((row[0], row[1], row[3]) for row in data["rows"])
    return Plan(rows, data["text"], copy=data["planned_on_copy"])


def test_every_stored_sqlite_plan_is_read() -> None:
    assert set(READ) == {path.stem for path in (PLANS / "sqlite").glob("*.json")}
    assert set(SCALE_READ) == {path.stem for path in (PLANS / "scale" / "sqlite").glob("*.json")}


@pytest.mark.parametrize("name", sorted(READ))
def test_what_the_sqlite_reader_takes_from_the_statement(name: str) -> None:
    from pytest_indexguard.explain.sqlite import analyze

    found = [_read(f) for f in analyze(_stored_sqlite(name), sorted_ranges=True)]
    assert found == READ[name]


@pytest.mark.parametrize("name", sorted(SCALE_READ))
def test_what_the_sqlite_reader_takes_from_the_statements_at_scale(name: str) -> None:
    from pytest_indexguard.explain.sqlite import Plan, analyze

    data = _data(f"scale/sqlite/{name}.json")
    plan = Plan(tuple((row[0], row[1], row[2]) for row in data["plan"]), data["statement"])
    assert [_read(f) for f in analyze(plan, sorted_ranges=True)] == SCALE_READ[name]


# Statements of every form the SQLite reader parses, planned here by SQLite: what it takes from
# each for each full read.
URL_IS_EVENT = 'upstream_webhookendpoint."url" = upstream_webhookdelivery."event_type"'
DELIVERY_OF_ENDPOINT = 'upstream_webhookdelivery."endpoint_id" = upstream_webhookendpoint."id"'
LIVE: dict[str, tuple[str, list[Read]]] = {
    "cte_and_main_read_one_table": (
        (
            f'WITH "r" AS MATERIALIZED (SELECT {LOG}."id" FROM {LOG} WHERE '
            f'{LOG}."message" = \'x\') SELECT {LOG}."id" FROM {LOG}, "r" WHERE '
            f'{LOG}."id" = "r"."id" AND {LOG}."status" = \'y\''
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "cte_columns": (
        (
            f'WITH "recent"("n") AS (SELECT {LOG}."id" FROM {LOG} WHERE '
            f'{LOG}."message" = \'x\') SELECT "recent"."n" FROM "recent"'
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "cte_materialized": (
        (
            f'WITH "recent" AS MATERIALIZED (SELECT {LOG}."id" FROM {LOG} WHERE '
            f'{LOG}."message" = \'x\') SELECT "recent"."id" FROM "recent", '
            '"recent" AS "r2" WHERE "recent"."id" = "r2"."id"'
        ),
        [
            Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'"),
            Read("recent", None, alias="r2"),
        ],
    ),
    "derived_table": (
        (
            f'SELECT "sub"."id" FROM (SELECT {LOG}."id" FROM {LOG} WHERE '
            f'{LOG}."message" = \'x\' LIMIT 5) AS "sub"'
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "derived_table_first": (
        (
            f'SELECT "sub"."n", {DELIVERY}."id" FROM (SELECT COUNT(*) AS "n" '
            f'FROM {ENDPOINT}) AS "sub" INNER JOIN {DELIVERY} ON '
            f'({DELIVERY}."attempts" = "sub"."n") WHERE {DELIVERY}."event_type" '
            "= 'x'"
        ),
        [
            Read(
                "upstream_webhookendpoint",
                None,
                index_name="upstream_webhookendpoint_customer_id_cd82dc35",
            ),
            Read(
                "upstream_webhookdelivery",
                "FILTER",
                filter="\"event_type\" = 'x'",
                join_filter='upstream_webhookdelivery."attempts" = sub."n"',
            ),
        ],
    ),
    "exists_correlated": (
        (
            f'SELECT {CUSTOMER}."id" FROM {CUSTOMER} WHERE EXISTS(SELECT 1 AS '
            f'"a" FROM {ENDPOINT} U0 WHERE U0."url" = ({CUSTOMER}."name") LIMIT '
            "1)"
        ),
        [
            Read("upstream_customer", "FILTER", filter="EXISTS(SubPlan 1)"),
            Read(
                "upstream_webhookendpoint",
                "JOIN",
                alias="U0",
                join_filter='U0."url" = (upstream_customer."name")',
            ),
        ],
    ),
    "group_order_aggregate": (
        (
            f'SELECT {LOG}."status", COUNT(*) AS "n" FROM {LOG} GROUP BY '
            f'{LOG}."status" ORDER BY COUNT(*) DESC LIMIT 5'
        ),
        [Read("upstream_integrationlog", None, index_name="intlog_status_time_idx")],
    ),
    "group_order_column": (
        (
            f'SELECT {LOG}."message", COUNT(*) AS "n" FROM {LOG} GROUP BY '
            f'{LOG}."message" ORDER BY {LOG}."message" DESC LIMIT 5'
        ),
        [Read("upstream_integrationlog", None)],
    ),
    "grouped_sorted_by_another_key": (
        (
            f'SELECT {LOG}."message", {LOG}."status", COUNT(*) AS "n" FROM '
            f'{LOG} GROUP BY {LOG}."message", {LOG}."status" ORDER BY '
            f'{LOG}."status" DESC LIMIT 5'
        ),
        [Read("upstream_integrationlog", "SORT_LIMIT", sort_key=('"status" DESC',))],
    ),
    "indexed_by_lower_case": (
        ("select id from upstream_integrationlog not indexed where connection_id = 1"),
        [Read("upstream_integrationlog", "FILTER", filter="connection_id = 1")],
    ),
    "insert_select_on_conflict": (
        (
            f'INSERT INTO {CUSTOMER} ("name", "created_at") SELECT '
            f'{LOG}."message", {LOG}."start_time" FROM {LOG} WHERE '
            f"{LOG}.\"message\" = 'x' ON CONFLICT DO NOTHING"
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "insert_select_returning": (
        (
            f'INSERT INTO {CUSTOMER} ("name", "created_at") SELECT '
            f'{LOG}."message", {LOG}."start_time" FROM {LOG} WHERE '
            f'{LOG}."message" = \'x\' RETURNING "id"'
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "intersect": (
        (
            f'SELECT {LOG}."message" FROM {LOG} WHERE {LOG}."message" = \'x\' '
            f'INTERSECT SELECT {DELIVERY}."event_type" FROM {DELIVERY} WHERE '
            f"{DELIVERY}.\"event_type\" = 'y'"
        ),
        [
            Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'"),
            Read("upstream_webhookdelivery", "FILTER", filter="\"event_type\" = 'y'"),
        ],
    ),
    "join_using": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {LOG} USING '
            f'("id") WHERE {LOG}."message" = \'x\''
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "joined_pk": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f"{DELIVERY}.\"event_type\" = 'failed'"
        ),
        [Read("upstream_webhookdelivery", "FILTER", filter="\"event_type\" = 'failed'")],
    ),
    "joined_search": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f"({ENDPOINT}.\"url\" = 'x' AND {DELIVERY}.\"event_type\" = 'failed')"
        ),
        [
            Read(
                table="upstream_webhookdelivery",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="\"event_type\" = 'failed'",
                join_filter=DELIVERY_OF_ENDPOINT,
                index_condition=None,
                sort_key=(),
                joined=False,
                driver=(),
                node_type="SCAN",
            ),
            Read(
                table="upstream_webhookendpoint",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="\"url\" = 'x'",
                join_filter="rowid=?",
                index_condition=None,
                sort_key=(),
                joined=True,
                driver=(("upstream_webhookdelivery", "\"event_type\" = 'failed'"),),
                node_type="SEARCH",
            ),
        ],
    ),
    "joined_search_in": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE '
            f'({DELIVERY}."endpoint_id" IN (SELECT U0."id" FROM {ENDPOINT} U0 '
            f"WHERE U0.\"url\" = 'x') AND {DELIVERY}.\"event_type\" = 'failed')"
        ),
        [
            Read(
                "upstream_webhookdelivery",
                "FILTER",
                index_name="webhook_endpoint_hist_idx",
                filter="\"event_type\" = 'failed'",
                join_filter="endpoint_id=?",
                joined=True,
                driver=(("upstream_webhookendpoint", "\"url\" = 'x'"),),
                node_type="SEARCH",
            ),
            Read("upstream_webhookendpoint", "FILTER", alias="U0", filter="\"url\" = 'x'"),
        ],
    ),
    "joined_search_key_only": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f"{ENDPOINT}.\"url\" = 'x'"
        ),
        [Read("upstream_webhookendpoint", "FILTER", filter="\"url\" = 'x'")],
    ),
    "joined_search_left": (
        (
            f'SELECT {ENDPOINT}."id" FROM {ENDPOINT} LEFT OUTER JOIN {DELIVERY} '
            f'ON ({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f"({ENDPOINT}.\"url\" = 'x' AND {DELIVERY}.\"event_type\" = 'failed')"
        ),
        [
            Read(
                table="upstream_webhookdelivery",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="\"event_type\" = 'failed'",
                join_filter=DELIVERY_OF_ENDPOINT,
                index_condition=None,
                sort_key=(),
                joined=False,
                driver=(),
                node_type="SCAN",
            ),
            Read(
                table="upstream_webhookendpoint",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="\"url\" = 'x'",
                join_filter="rowid=?",
                index_condition=None,
                sort_key=(),
                joined=True,
                driver=(("upstream_webhookdelivery", "\"event_type\" = 'failed'"),),
                node_type="SEARCH",
            ),
        ],
    ),
    "joined_search_or": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f"({ENDPOINT}.\"url\" = 'x' AND ({DELIVERY}.\"event_type\" = 'failed' "
            f'OR {DELIVERY}."attempts" > 3))'
        ),
        [
            Read(
                "upstream_webhookendpoint",
                "FILTER",
                filter="\"url\" = 'x'",
                join_filter=DELIVERY_OF_ENDPOINT,
            ),
            Read(
                "upstream_webhookdelivery",
                "FILTER",
                index_name="webhook_endpoint_hist_idx",
                filter='("event_type" = \'failed\' OR "attempts" > 3)',
                join_filter="endpoint_id=?",
                joined=True,
                driver=(("upstream_webhookendpoint", "\"url\" = 'x'"),),
                node_type="SEARCH",
            ),
        ],
    ),
    "joined_search_ordered_without_limit": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f'{ENDPOINT}."url" = \'x\' ORDER BY {DELIVERY}."created_at" DESC'
        ),
        [Read("upstream_webhookendpoint", "FILTER", filter="\"url\" = 'x'")],
    ),
    "joined_search_sorted": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f'{ENDPOINT}."url" = \'x\' ORDER BY {DELIVERY}."created_at" DESC '
            "LIMIT 10"
        ),
        [
            Read("upstream_webhookendpoint", "FILTER", filter="\"url\" = 'x'"),
            Read(
                "upstream_webhookdelivery",
                "SORT_LIMIT",
                index_name="webhook_endpoint_hist_idx",
                join_filter="endpoint_id=?",
                sort_key=('"created_at" DESC',),
                joined=True,
                driver=(("upstream_webhookendpoint", "\"url\" = 'x'"),),
                node_type="SEARCH",
            ),
        ],
    ),
    "joined_search_two_join_conditions": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} INNER JOIN {ENDPOINT} ON '
            f'({DELIVERY}."attempts" > {ENDPOINT}."customer_id" AND '
            f'{DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE '
            f"({ENDPOINT}.\"url\" = 'x' AND {DELIVERY}.\"event_type\" = 'failed')"
        ),
        [
            Read(
                table="upstream_webhookdelivery",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="\"event_type\" = 'failed'",
                join_filter=(
                    '(upstream_webhookdelivery."attempts" > '
                    f'upstream_webhookendpoint."customer_id") AND ({DELIVERY_OF_ENDPOINT})'
                ),
                index_condition=None,
                sort_key=(),
                joined=False,
                driver=(),
                node_type="SCAN",
            ),
            Read(
                table="upstream_webhookendpoint",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="\"url\" = 'x'",
                join_filter="rowid=?",
                index_condition=None,
                sort_key=(),
                joined=True,
                driver=(("upstream_webhookdelivery", "\"event_type\" = 'failed'"),),
                node_type="SEARCH",
            ),
        ],
    ),
    "left_join_is_null": (
        (
            f'SELECT {ENDPOINT}."id" FROM {ENDPOINT} LEFT OUTER JOIN {DELIVERY} '
            f'ON ({ENDPOINT}."id" = {DELIVERY}."attempts") WHERE '
            f'{DELIVERY}."id" IS NULL'
        ),
        [
            Read(
                "upstream_webhookendpoint",
                None,
                index_name="upstream_webhookendpoint_customer_id_cd82dc35",
            ),
            Read(
                "upstream_webhookdelivery",
                "FILTER",
                filter='"id" IS NULL',
                join_filter='upstream_webhookendpoint."id" = upstream_webhookdelivery."attempts"',
                node_type="SCAN for an AUTOMATIC INDEX",
            ),
        ],
    ),
    "like_inside_a_literal": (
        (f'SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."message" = \'a LIKE b IN (c)\''),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'a LIKE b IN (c)'")],
    ),
    "limit_minus_one": (
        (f'SELECT {LOG}."id" FROM {LOG} ORDER BY {LOG}."end_time" DESC LIMIT -1 OFFSET 10'),
        [Read("upstream_integrationlog", None)],
    ),
    "limit_offset_two_keys": (
        (
            f'SELECT {LOG}."id" FROM {LOG} ORDER BY {LOG}."end_time" DESC, '
            f'{LOG}."message" ASC LIMIT 10 OFFSET 5'
        ),
        [
            Read(
                "upstream_integrationlog",
                "SORT_LIMIT",
                sort_key=('"end_time" DESC', '"message" ASC'),
            )
        ],
    ),
    "limit_with_a_comma": (
        ("SELECT id FROM upstream_integrationlog ORDER BY end_time DESC LIMIT 5, 10"),
        [Read("upstream_integrationlog", "SORT_LIMIT", sort_key=("end_time DESC",))],
    ),
    "literal_with_keywords": (
        (f'SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."message" = \'a AND b OR c BETWEEN\''),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'a AND b OR c BETWEEN'")],
    ),
    "multi_index_or_subquery": (
        (
            f'SELECT {CUSTOMER}."id" FROM {CUSTOMER} WHERE {CUSTOMER}."id" IN '
            f'(SELECT U0."customer_id" FROM {ENDPOINT} U0 WHERE '
            '(U0."customer_id" = 1 OR U0."id" = 2))'
        ),
        [],
    ),
    "nested_subqueries": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE '
            f'{DELIVERY}."endpoint_id" IN (SELECT U0."id" FROM {ENDPOINT} U0 '
            f'WHERE U0."customer_id" IN (SELECT U1."id" FROM {CUSTOMER} U1 '
            f'WHERE U1."created_at" > \'2024\')) AND {DELIVERY}."attempts" IN '
            f'(SELECT U2."connection_id" FROM {LOG} U2 WHERE U2."message" = \'x\')'
        ),
        [
            Read(
                "upstream_webhookdelivery",
                "FILTER",
                index_name="webhook_endpoint_hist_idx",
                filter="(SubPlan 3)",
                join_filter="endpoint_id=?",
                joined=True,
                driver=(("upstream_webhookendpoint", "(SubPlan 1)"),),
                node_type="SEARCH",
            ),
            Read("upstream_customer", "FILTER", alias="U1", filter="\"created_at\" > '2024'"),
            Read("upstream_integrationlog", "FILTER", alias="U2", filter="\"message\" = 'x'"),
        ],
    ),
    "not_between": (
        (
            f'SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."start_time" NOT BETWEEN '
            "'2024-01-01' AND '2025-01-01'"
        ),
        [
            Read(
                "upstream_integrationlog",
                "FILTER",
                index_name="intlog_conn_time_idx",
                filter="NOT (\"start_time\" >= '2024-01-01' AND \"start_time\" <= '2025-01-01')",
            )
        ],
    ),
    "not_indexed": (
        (f'SELECT {LOG}."id" FROM {LOG} NOT INDEXED WHERE {LOG}."connection_id" = 1'),
        [Read("upstream_integrationlog", "FILTER", filter='"connection_id" = 1')],
    ),
    "not_like_regexp": (
        (
            f'SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."message" NOT LIKE \'a%\' '
            f"AND {LOG}.\"status\" NOT IN ('a', 'b')"
        ),
        [
            Read(
                "upstream_integrationlog",
                "FILTER",
                filter="(\"message\" !~~ 'a%') AND (\"status\" <> ALL ('a', 'b'))",
            )
        ],
    ),
    "or_of_another_table": (
        (
            f'SELECT {LOG}."id" FROM {LOG} INNER JOIN {DELIVERY} ON '
            f'({LOG}."message" = {DELIVERY}."event_type") WHERE '
            f'({DELIVERY}."status" = \'a\' OR {DELIVERY}."attempts" = 2)'
        ),
        [
            Read("upstream_webhookdelivery", "FILTER", filter='"status" = \'a\' OR "attempts" = 2'),
            Read(
                "upstream_integrationlog",
                "JOIN",
                join_filter=(
                    'upstream_integrationlog."message" = upstream_webhookdelivery."event_type"'
                ),
                node_type="SCAN for an AUTOMATIC INDEX",
            ),
        ],
    ),
    "quoted_alias": (
        (f'SELECT "a""b"."id" FROM {LOG} AS "a""b" WHERE "a""b"."message" = \'x\''),
        [Read("upstream_integrationlog", "FILTER", alias='a"b', filter="\"message\" = 'x'")],
    ),
    "random_lower": (
        (
            f'SELECT {LOG}."id" FROM {LOG} WHERE LOWER({LOG}."message") = \'x\' '
            "ORDER BY RANDOM() LIMIT 3"
        ),
        [
            Read(
                "upstream_integrationlog",
                "FILTER",
                filter="lower(\"message\") = 'x'",
                sort_key=("random()",),
            )
        ],
    ),
    "raw_sql": (
        (
            "select id from upstream_integrationlog -- newest\n where  message "
            "= 'x' /* typed */ and status is not null"
        ),
        [
            Read(
                "upstream_integrationlog",
                "FILTER",
                filter="(message = 'x') AND (status IS NOT NULL)",
            )
        ],
    ),
    "replace_select": (
        (
            f'REPLACE INTO {CUSTOMER} ("name", "created_at") SELECT '
            f'{LOG}."message", {LOG}."start_time" FROM {LOG} WHERE '
            f"{LOG}.\"message\" = 'x'"
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
    "right_join": (
        (
            f'SELECT {ENDPOINT}."id" FROM {DELIVERY} RIGHT OUTER JOIN '
            f'{ENDPOINT} ON ({ENDPOINT}."url" = {DELIVERY}."event_type") WHERE '
            f'{ENDPOINT}."active"'
        ),
        [
            Read(
                "upstream_webhookdelivery",
                "JOIN",
                join_filter=URL_IS_EVENT,
            ),
            Read(
                "upstream_webhookendpoint",
                "FILTER",
                filter='"active"',
                join_filter=URL_IS_EVENT,
            ),
            Read(
                "upstream_webhookendpoint",
                "FILTER",
                filter='"active"',
                join_filter=URL_IS_EVENT,
            ),
        ],
    ),
    "scalar_in_select": (
        (
            f'SELECT {CUSTOMER}."id", (SELECT COUNT(*) FROM {ENDPOINT} U0 WHERE '
            f'U0."url" = {CUSTOMER}."name") AS "n" FROM {CUSTOMER} WHERE '
            f"{CUSTOMER}.\"created_at\" > '2024'"
        ),
        [
            Read("upstream_customer", "FILTER", filter="\"created_at\" > '2024'"),
            Read(
                "upstream_webhookendpoint",
                "JOIN",
                alias="U0",
                join_filter='U0."url" = upstream_customer."name"',
            ),
        ],
    ),
    "table_function": (
        (
            f'SELECT {LOG}."id" FROM {LOG}, json_each(\'[1,2]\') AS "j" WHERE '
            f'{LOG}."message" = "j"."value"'
        ),
        [Read("upstream_integrationlog", None)],
    ),
    "two_betweens": (
        (
            f'SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."start_time" BETWEEN '
            f"'2024' AND '2025' AND {LOG}.\"end_time\" BETWEEN '2026' AND '2027'"
        ),
        [
            Read(
                "upstream_integrationlog",
                "FILTER",
                filter=(
                    '("start_time" >= \'2024\') AND ("start_time" <= \'2025\') AND ("end_time" '
                    ">= '2026') AND (\"end_time\" <= '2027')"
                ),
            )
        ],
    ),
    "union_in_subquery": (
        (
            f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {DELIVERY}."id" IN '
            f'(SELECT U0."id" FROM {LOG} U0 WHERE U0."message" = \'x\' UNION '
            f'SELECT U1."id" FROM {ENDPOINT} U1 WHERE U1."url" = \'y\')'
        ),
        [
            Read("upstream_integrationlog", "FILTER", alias="U0", filter="\"message\" = 'x'"),
            Read("upstream_webhookendpoint", "FILTER", alias="U1", filter="\"url\" = 'y'"),
        ],
    ),
    "update_lower_case": (
        ("update or ignore upstream_webhookdelivery set attempts = 0 where event_type = 'x'"),
        [Read("upstream_webhookdelivery", "FILTER", filter="event_type = 'x'")],
    ),
    "update_or_ignore": (
        (f'UPDATE OR IGNORE {DELIVERY} SET "attempts" = 0 WHERE {DELIVERY}."event_type" = \'x\''),
        [Read("upstream_webhookdelivery", "FILTER", filter="\"event_type\" = 'x'")],
    ),
    "window_order_by": (
        (
            f'SELECT {LOG}."id", ROW_NUMBER() OVER (ORDER BY '
            f'{LOG}."start_time") AS "n" FROM {LOG} WHERE {LOG}."message" = \'x\' '
            "LIMIT 5"
        ),
        [Read("upstream_integrationlog", "FILTER", filter="\"message\" = 'x'")],
    ),
}


@pytest.mark.parametrize("name", sorted(LIVE))
def test_what_the_sqlite_reader_takes_from_every_form_of_statement(
    name: str, sample_db: sqlite3.Connection
) -> None:
    from pytest_indexguard.explain.sqlite import analyze

    sql, expected = LIVE[name]
    plan = SQLite().explain(sample_db, sql, forced=True).plan
    assert [_read(f) for f in analyze(plan, sorted_ranges=True)] == expected


# -- MariaDB's stored plans: what the reader takes from them, and how it shows them -----------


class MyRead(NamedTuple):
    """One full read (or sorted range) ``explain.mysql.analyze`` lists."""

    table: str
    node_type: str
    rule: str | None
    alias: str | None = None
    index_name: str | None = None
    filter: str | None = None
    join_filter: str | None = None
    index_condition: str | None = None
    unservable: str | None = None
    sort_key: tuple[str, ...] = ()
    sorted_range: bool = False
    driver: tuple[tuple[str, str], ...] = ()


def _my_read(finding: ScanFinding) -> MyRead:
    return MyRead(
        finding.table,
        finding.node_type,
        finding.rule.name if finding.rule else None,
        None if finding.alias == finding.table else finding.alias,
        finding.index_name,
        _short(finding.filter),
        _short(finding.join_filter),
        finding.index_condition,
        finding.unservable,
        finding.sort_key,
        finding.sorted_range,
        finding.driver,
    )


def _stored_mariadb(name: str) -> dict[str, Any]:
    """A stored MariaDB plan as the guard keeps it: the scenarios' (capture_mysql.py) as they
    are, the plans at scale (capture_standard_backends.py) with their statement."""
    data = _data(f"{name}.json")
    if name.startswith("scale/"):
        return {"explain": data["plan"]["explain"], "statement": data["statement"]}
    plan: dict[str, Any] = data["plan"]
    return plan


# Every stored MariaDB plan: the reads analyze() lists, and render()'s lines.
MARIADB_READ: dict[str, tuple[list[MyRead], list[str]]] = {
    "scale/mariadb/lookup_filtered_by_its_own_contains": (
        [
            MyRead(
                table="rc_customer",
                node_type="Full index scan",
                rule="FILTER",
                alias=None,
                index_name="email",
                filter="email ~~ '%c123%'",
                join_filter="rc_order.customer_id = rc_customer.id",
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            ),
        ],
        [
            "select #1: index on rc_customer using email rows=30253",
            "     attached_condition: rc_customer.email like ?",
            "select #1: ref on rc_order using rc_order_customer_id_3e4f5a6b rows=1",
            "     attached_condition: rc_order.customer_id = rc_customer.`id`",
        ],
    ),
    "scale/mariadb/left_join_condition_restricts_no_row": (
        [
            MyRead(
                table="rc_order",
                node_type="Full table scan",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="ref = 'r1'",
                join_filter="rc_order.customer_id = mine.id",
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            ),
        ],
        [
            "select #1: ALL on rc_order rows=99799",
            "     attached_condition: rc_order.ref = ?",
            "select #1: const on rc_customer mine using email rows=1",
            "     attached_condition: "
            "trigcond(rc_order.customer_id = mine.`id` and mine.email = ?)",
        ],
    ),
    "mariadb/aggregate_group_by": (
        [MyRead("upstream_webhookdelivery", "Full table scan", None)],
        ["select #1: ALL on upstream_webhookdelivery rows=10"],
    ),
    "mariadb/contains": (
        [
            MyRead(
                "upstream_webhookendpoint",
                "Full table scan",
                "FILTER",
                filter="url ~~ '%example%'::binary",
            )
        ],
        [
            "select #1: ALL on upstream_webhookendpoint rows=8",
            (
                "     attached_condition: upstream_webhookendpoint.url like "
                "<cache>(cast(? as char charset binary))"
            ),
        ],
    ),
    "mariadb/count_filter_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                filter="event_type = 'invoice.paid'",
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/count_unfiltered": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full index scan",
                None,
                index_name="webhook_endpoint_hist_idx",
            )
        ],
        [("select #1: index on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=10")],
    ),
    "mariadb/delete_filter_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                filter="event_type = 'invoice.paid'",
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/delete_fk_in": (
        [],
        [
            (
                "select #1: range on upstream_webhookdelivery using "
                "upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_ rows=1"
            ),
            "     attached_condition: upstream_webhookdelivery.endpoint_id = ?",
        ],
    ),
    "mariadb/delivery_history_indexed": (
        [],
        [
            ("select #1: ref on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=1"),
            "     attached_condition: upstream_webhookdelivery.endpoint_id <=> ?",
        ],
    ),
    "mariadb/delivery_history_initial": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "ref",
                None,
                index_name="upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_",
                filter="endpoint_id = 7",
                index_condition="endpoint_id = ?",
                sort_key=("upstream_webhookdelivery.created_at DESC",),
                sorted_range=True,
            )
        ],
        [
            (
                "select #1: ref on upstream_webhookdelivery using "
                "upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_ (filesort) "
                "rows=1"
            ),
            "     attached_condition: upstream_webhookdelivery.endpoint_id <=> ?",
        ],
    ),
    "mariadb/enabled_channels_indexed": (
        [],
        [
            (
                "select #1: range on upstream_notificationchannel using "
                "notifchan_cust_enabled_idx (filesort) rows=5"
            ),
            (
                "     index_condition: upstream_notificationchannel.customer_id = ? "
                "and upstream_notificationchannel.channel_type = ? and "
                "upstream_notificationchannel.enabled <> ?"
            ),
        ],
    ),
    "mariadb/enabled_channels_initial": (
        [
            MyRead(
                "upstream_notificationchannel",
                "Full table scan",
                "FILTER",
                filter="customer_id = 3 AND channel_type = 'email' AND enabled",
            )
        ],
        [
            "select #1: ALL on upstream_notificationchannel (filesort) rows=18",
            (
                "     attached_condition: upstream_notificationchannel.customer_id = ? "
                "and upstream_notificationchannel.channel_type = ? and "
                "upstream_notificationchannel.enabled <> ?"
            ),
        ],
    ),
    "mariadb/enabled_rules_indexed": (
        [],
        [
            (
                "select #1: ref on upstream_alertrule using "
                "upstream_alertrule_customer_id_name_00c2bf83_uniq rows=17"
            ),
            (
                "     attached_condition: upstream_alertrule.customer_id <=> ? and "
                "upstream_alertrule.enabled <> ?"
            ),
        ],
    ),
    "mariadb/enabled_rules_initial": (
        [
            MyRead(
                "upstream_alertrule",
                "Full table scan",
                "FILTER",
                filter="customer_id = 3 AND enabled",
            )
        ],
        [
            "select #1: ALL on upstream_alertrule (filesort) rows=60",
            (
                "     attached_condition: upstream_alertrule.customer_id = ? and "
                "upstream_alertrule.enabled <> ?"
            ),
        ],
    ),
    "mariadb/exists_filter_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                filter="event_type = 'invoice.paid'",
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/failed_logs_indexed": (
        [],
        [
            ("select #1: ref on upstream_integrationlog using intlog_status_time_idx rows=1"),
            "     index_condition: upstream_integrationlog.`status` = ?",
            "     attached_condition: upstream_integrationlog.`status` <=> ?",
        ],
    ),
    "mariadb/failed_logs_initial": (
        [
            MyRead(
                "upstream_integrationlog",
                "Full table scan",
                "FILTER",
                filter="status = 'failed'",
                sort_key=("upstream_integrationlog.start_time DESC",),
            )
        ],
        [
            "select #1: ALL on upstream_integrationlog (filesort) rows=10",
            "     attached_condition: upstream_integrationlog.`status` = ?",
        ],
    ),
    "mariadb/failed_since_indexed": (
        [],
        [
            ("select #1: range on upstream_integrationlog using intlog_status_time_idx rows=1"),
            (
                "     index_condition: upstream_integrationlog.`status` = ? and "
                "upstream_integrationlog.start_time >= ?"
            ),
        ],
    ),
    "mariadb/failed_since_initial": (
        [
            MyRead(
                "upstream_integrationlog",
                "Full table scan",
                "FILTER",
                filter="status = 'failed' AND start_time >= '2026-01-15 12:00:00'",
                sort_key=("upstream_integrationlog.start_time DESC",),
            )
        ],
        [
            "select #1: ALL on upstream_integrationlog (filesort) rows=10",
            (
                "     attached_condition: upstream_integrationlog.`status` = ? and "
                "upstream_integrationlog.start_time >= ?"
            ),
        ],
    ),
    "mariadb/filter_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                filter="event_type = 'invoice.paid'",
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/first_filter_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full index scan",
                "FILTER",
                index_name="PRIMARY",
                filter="event_type = 'invoice.paid'",
            )
        ],
        [
            "select #1: index on upstream_webhookdelivery using PRIMARY rows=1",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/icontains": (
        [
            MyRead(
                "upstream_webhookendpoint", "Full table scan", "FILTER", filter="url ~~ '%example%'"
            )
        ],
        [
            "select #1: ALL on upstream_webhookendpoint rows=8",
            "     attached_condition: upstream_webhookendpoint.url like ?",
        ],
    ),
    "mariadb/insert_values": ([], ["(no table read)"]),
    "mariadb/join_indexed": (
        [],
        [
            (
                "select #1: ref on upstream_webhookendpoint using "
                "upstream_webhookendp_customer_id_cd82dc35_fk_upstream_ rows=3"
            ),
            ("select #1: ref on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=1"),
        ],
    ),
    "mariadb/join_unindexed": (
        [
            MyRead(
                "upstream_webhookattempt",
                "Full table scan",
                "JOIN",
                join_filter="upstream_webhookattempt.delivery_id = upstream_webhookdelivery.id",
                driver=(("upstream_webhookdelivery", "endpoint_id = ?"),),
            )
        ],
        [
            ("select #1: ref on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=1"),
            "select #1: ALL on upstream_webhookattempt (join buffer) rows=10",
            (
                "     join condition: upstream_webhookattempt.delivery_id = "
                "upstream_webhookdelivery.`id`"
            ),
        ],
    ),
    "mariadb/limit_unfiltered": (
        [MyRead("upstream_webhookdelivery", "Full table scan", None)],
        ["select #1: ALL on upstream_webhookdelivery rows=10"],
    ),
    "mariadb/non_leading_index_column": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                filter="next_attempt_at <= '2026-01-15 12:00:00'",
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "     attached_condition: upstream_webhookdelivery.next_attempt_at <= ?",
        ],
    ),
    "mariadb/not_equal": (
        [],
        [
            ("select #1: range on upstream_webhookdelivery using webhook_retry_idx rows=2"),
            "     attached_condition: upstream_webhookdelivery.`status` <> ?",
        ],
    ),
    "mariadb/or_across_tables": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "UNSERVABLE",
                filter=(
                    "upstream_webhookdelivery.status = 'failed' OR "
                    "upstream_webhookendpoint.url = 'https://a.example'"
                ),
                unservable="or-across-tables",
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "select #1: eq_ref on upstream_webhookendpoint using PRIMARY rows=1",
            (
                "     attached_condition: upstream_webhookdelivery.`status` = ? or "
                "upstream_webhookendpoint.url = ?"
            ),
        ],
    ),
    "mariadb/order_by_unfiltered": (
        [MyRead("upstream_webhookdelivery", "Full table scan", None)],
        ["select #1: ALL on upstream_webhookdelivery (filesort) rows=10"],
    ),
    "mariadb/pk_in": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full index scan",
                "FILTER",
                index_name="webhook_endpoint_hist_idx",
                filter="id = ANY (1,2,3)",
            )
        ],
        [
            (
                "select #1: index on upstream_webhookdelivery using "
                "webhook_endpoint_hist_idx rows=10"
            ),
            "     attached_condition: upstream_webhookdelivery.`id` in (...)",
        ],
    ),
    "mariadb/pk_lookup": (
        [],
        ["select #1: const on upstream_webhookdelivery using PRIMARY rows=1"],
    ),
    "mariadb/recent_logs_indexed": (
        [],
        [
            ("select #1: ref on upstream_integrationlog using intlog_conn_time_idx rows=1"),
            "     attached_condition: upstream_integrationlog.connection_id <=> ?",
        ],
    ),
    "mariadb/recent_logs_initial": (
        [
            MyRead(
                "upstream_integrationlog",
                "ref",
                None,
                index_name="upstream_integration_connection_id_66f27c03_fk_upstream_",
                filter="connection_id = 7",
                index_condition="connection_id = ?",
                sort_key=("upstream_integrationlog.start_time DESC",),
                sorted_range=True,
            )
        ],
        [
            (
                "select #1: ref on upstream_integrationlog using "
                "upstream_integration_connection_id_66f27c03_fk_upstream_ (filesort) "
                "rows=1"
            ),
            "     attached_condition: upstream_integrationlog.connection_id <=> ?",
        ],
    ),
    "mariadb/retry_queue_indexed": (
        [],
        [
            ("select #1: range on upstream_webhookdelivery using webhook_retry_idx rows=1"),
            (
                "     index_condition: upstream_webhookdelivery.next_attempt_at <= ? "
                "and upstream_webhookdelivery.`status` = ?"
            ),
        ],
    ),
    "mariadb/retry_queue_initial": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                filter="next_attempt_at <= '2026-01-15 12:00:00' AND status = 'retrying'",
                sort_key=("upstream_webhookdelivery.next_attempt_at",),
            )
        ],
        [
            "select #1: ALL on upstream_webhookdelivery (filesort) rows=10",
            (
                "     attached_condition: upstream_webhookdelivery.next_attempt_at <= "
                "? and upstream_webhookdelivery.`status` = ?"
            ),
        ],
    ),
    "mariadb/select_related_unfiltered": (
        [MyRead("upstream_webhookendpoint", "Full table scan", None)],
        [
            "select #1: ALL on upstream_webhookendpoint rows=8",
            ("select #1: ref on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=1"),
        ],
    ),
    "mariadb/sort_limit_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "SORT_LIMIT",
                sort_key=("upstream_webhookdelivery.created_at DESC",),
            )
        ],
        ["select #1: ALL on upstream_webhookdelivery (filesort) rows=10"],
    ),
    "mariadb/subquery_filter_unindexed": (
        [
            MyRead(
                "upstream_webhookendpoint",
                "Full index scan",
                None,
                index_name="upstream_webhookendp_customer_id_cd82dc35_fk_upstream_",
            ),
            MyRead(
                "upstream_webhookdelivery",
                "Full table scan",
                "FILTER",
                alias="U0",
                filter="event_type = 'invoice.paid'",
            ),
        ],
        [
            (
                "select #1: index on upstream_webhookendpoint using "
                "upstream_webhookendp_customer_id_cd82dc35_fk_upstream_ rows=8"
            ),
            "select #1: eq_ref on <subquery5> using distinct_key rows=1",
            "  select #5: ALL on upstream_webhookdelivery U0 rows=10",
            "       attached_condition: U0.event_type = ?",
        ],
    ),
    "mariadb/unfiltered": (
        [MyRead("upstream_webhookdelivery", "Full table scan", None)],
        ["select #1: ALL on upstream_webhookdelivery rows=10"],
    ),
    "mariadb/update_filter_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                "Full index scan",
                "FILTER",
                index_name="PRIMARY",
                filter="event_type = 'invoice.paid'",
            )
        ],
        [
            "select #1: index on upstream_webhookdelivery using PRIMARY rows=10",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/update_pk": (
        [],
        [
            "select #1: range on upstream_webhookdelivery using PRIMARY rows=1",
            "     attached_condition: upstream_webhookdelivery.`id` = ?",
        ],
    ),
    "mariadb/user_customer": (
        [],
        [
            "select #1: const on upstream_userprofile using user_id rows=1",
            "select #1: const on upstream_customer using PRIMARY rows=1",
        ],
    ),
    "scale/mariadb/aggregate_ordered_by_its_value": (
        [MyRead("rc_ticket", "Full index scan", None, index_name="rc_ticket_queue_id_7a2b9c1d")],
        [("select #1: index on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=99960")],
    ),
    "scale/mariadb/aggregate_ordered_by_position": (
        [MyRead("rc_ticket", "Full index scan", None, index_name="rc_ticket_queue_id_7a2b9c1d")],
        [("select #1: index on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=99960")],
    ),
    "scale/mariadb/best_sellers": (
        [
            MyRead(
                "cat_orderline",
                "Full index scan",
                None,
                index_name="cat_orderline_product_id_8c9d0e1f",
            )
        ],
        [("select #1: index on cat_orderline using cat_orderline_product_id_8c9d0e1f rows=399520")],
    ),
    "scale/mariadb/catalog_page_indexed": (
        [
            MyRead(
                "cat_brand",
                "Full table scan",
                "JOIN",
                join_filter="cat_product.brand_id = cat_brand.id",
                driver=(("cat_product", "is_active"),),
            )
        ],
        [
            "select #1: ALL on cat_brand rows=500",
            ("select #1: ref on cat_product using cat_product_brand_id_0a1b2c3d rows=414"),
            "     index_condition: cat_product.brand_id = cat_brand.`id`",
            "     attached_condition: cat_product.is_active <> ?",
        ],
    ),
    "scale/mariadb/catalog_page_unindexed": (
        [
            MyRead(
                "cat_brand",
                "Full table scan",
                "JOIN",
                join_filter="cat_product.brand_id = cat_brand.id",
                driver=(("cat_product", "is_active"),),
            )
        ],
        [
            "select #1: ALL on cat_brand rows=500",
            ("select #1: ref on cat_product using cat_product_brand_id_0a1b2c3d rows=414"),
            "     index_condition: cat_product.brand_id = cat_brand.`id`",
            "     attached_condition: cat_product.is_active <> ?",
        ],
    ),
    "scale/mariadb/correlated_subquery_reads_a_whole_index": (
        [
            MyRead("rc_ticket", "Full table scan", None),
            MyRead(
                "rc_flip",
                "Full index scan",
                "JOIN",
                alias="U0",
                index_name="rc_flip_owner_created",
                join_filter="U0.created > rc_ticket.created",
            ),
        ],
        [
            "select #1: ALL on rc_ticket rows=99960",
            ("  select #2: index on rc_flip U0 using rc_flip_owner_created rows=100076"),
            "       attached_condition: U0.created > rc_ticket.created",
        ],
    ),
    "scale/mariadb/distinct_page_of_every_queue": (
        [MyRead("rc_queue", "Full table scan", None)],
        [
            "select #1: ALL on rc_queue rows=10",
            ("select #1: ref on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=5553"),
            "     index_condition: rc_ticket.queue_id = rc_queue.`id`",
            "select #1: eq_ref on rc_queue U0 using PRIMARY rows=1",
            "     attached_condition: rc_ticket.queue_id = U0.`id`",
        ],
    ),
    "scale/mariadb/driven_by_unique_email": (
        [],
        [
            "select #1: const on rc_customer using email rows=1",
            "select #1: ref on rc_order using rc_order_customer_id_3e4f5a6b rows=1",
            "     index_condition: rc_order.customer_id = ?",
            "     attached_condition: rc_order.ref = ?",
        ],
    ),
    "scale/mariadb/driven_by_unique_username": (
        [],
        ["Impossible WHERE noticed after reading const tables"],
    ),
    "scale/mariadb/every_queue": (
        [
            MyRead(
                "rc_queue",
                "Full index scan",
                "JOIN",
                alias="U0",
                index_name="PRIMARY",
                join_filter="rc_ticket.queue_id = U0.id",
                driver=(("rc_ticket", "created >= '2024-12-01'"), ("rc_ticket", "status <> 3")),
            )
        ],
        [
            "select #1: index on rc_queue U0 using PRIMARY rows=10",
            ("select #1: ref on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=5553"),
            "     index_condition: rc_ticket.queue_id = U0.`id`",
            ("     attached_condition: rc_ticket.created >= ? and rc_ticket.`status` <> ?"),
        ],
    ),
    "scale/mariadb/every_queue_as_a_list": (
        [
            MyRead(
                "rc_ticket",
                "Full table scan",
                "FILTER",
                filter="queue_id = ANY (1,2,3,4,5,6,7,8,9,10) AND created >= '2024-12-01' "
                "AND status <> 3",
            )
        ],
        [
            "select #1: ALL on rc_ticket rows=99960",
            "     attached_condition: rc_ticket.queue_id in (...) and rc_ticket.created >= ? and "
            "rc_ticket.`status` <> ?",
        ],
    ),
    "scale/mariadb/every_queue_page_by_created": (
        [
            MyRead(
                "rc_ticket",
                "Full table scan",
                "FILTER",
                filter="queue_id = ANY (1,2,3,4,5,6,7,8,9,10)",
                sort_key=("rc_ticket.created DESC",),
            )
        ],
        [
            "select #1: ALL on rc_ticket (filesort) rows=99960",
            "     attached_condition: rc_ticket.queue_id in (...)",
        ],
    ),
    "scale/mariadb/every_queue_page_by_newest_id": (
        [
            MyRead(
                "rc_ticket",
                "Full index scan",
                "FILTER",
                index_name="PRIMARY",
                filter="queue_id = ANY (1,2,3,4,5,6,7,8,9,10)",
            )
        ],
        [
            "select #1: index on rc_ticket using PRIMARY rows=25",
            "     attached_condition: rc_ticket.queue_id in (...)",
        ],
    ),
    "scale/mariadb/every_queue_joined": (
        [
            MyRead(
                "rc_queue",
                "Full table scan",
                "JOIN",
                join_filter="rc_ticket.queue_id = rc_queue.id",
                driver=(("rc_ticket", "created >= '2024-12-01'"), ("rc_ticket", "status <> 3")),
            )
        ],
        [
            "select #1: ALL on rc_queue rows=10",
            ("select #1: ref on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=5553"),
            "     index_condition: rc_ticket.queue_id = rc_queue.`id`",
            ("     attached_condition: rc_ticket.created >= ? and rc_ticket.`status` <> ?"),
        ],
    ),
    "scale/mariadb/exclude_across_join": (
        [
            MyRead(
                "rc_account",
                "Full index scan",
                "FILTER",
                index_name="PRIMARY",
                filter="warned_at < '2025-01-01'",
                join_filter="auth_user.id = rc_account.user_id",
            )
        ],
        [
            "select #1: index on rc_account using PRIMARY rows=100214",
            "     attached_condition: rc_account.warned_at < ?",
            "select #1: eq_ref on auth_user using PRIMARY rows=1",
            (
                "     attached_condition: auth_user.last_login <= rc_account.warned_at "
                "or auth_user.last_login is null"
            ),
        ],
    ),
    "scale/mariadb/latest_good_reviews": (
        [
            MyRead(
                "cat_review",
                "Full table scan",
                "FILTER",
                filter="rating >= 4",
                join_filter=(
                    "cat_product.id = cat_review.product_id AND cat_review.product_id = "
                    "cat_product.id"
                ),
                sort_key=("cat_review.created_at DESC",),
            )
        ],
        [
            "select #1: ALL on cat_review (filesort) rows=199920",
            "     attached_condition: cat_review.rating >= ?",
            "select #1: eq_ref on cat_product using PRIMARY rows=1",
            "     attached_condition: cat_review.product_id = cat_product.`id`",
        ],
    ),
    "scale/mariadb/long_in_list_indexed": (
        [MyRead("rc_ticket", "Full index scan", None, index_name="rc_ticket_queue_id_7a2b9c1d")],
        [
            ("select #1: index on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=99960"),
            "select #1: eq_ref on <subquery2> using distinct_key rows=1",
            "     attached_condition: rc_ticket.queue_id = tvc_0._col_1",
            "  select #2: ALL on <derived3> rows=1200",
            "No tables used",
        ],
    ),
    "scale/mariadb/long_in_list_unindexed": (
        [MyRead("rc_ticket", "Full table scan", None)],
        [
            "select #1: ALL on rc_ticket rows=99960",
            "select #1: eq_ref on <subquery2> using distinct_key rows=1",
            "  select #2: ALL on <derived3> rows=1200",
            "No tables used",
        ],
    ),
    "scale/mariadb/or_across_join": (
        [
            MyRead(
                "rc_customer",
                "Full index scan",
                "UNSERVABLE",
                index_name="email",
                filter=("rc_customer.email = 'a@example.org' OR rc_order.email = 'a@example.org'"),
                unservable="or-across-tables",
            )
        ],
        [
            "select #1: index on rc_customer using email rows=30253",
            "select #1: ref on rc_order using rc_order_customer_id_3e4f5a6b rows=1",
            "     index_condition: rc_order.customer_id = rc_customer.`id`",
            "     attached_condition: rc_customer.email = ? or rc_order.email = ?",
        ],
    ),
    "scale/mariadb/queue_found_by_its_key": (
        [
            MyRead(
                "rc_queue",
                "Full table scan",
                "FILTER",
                alias="U0",
                filter="title = 'support'",
                join_filter="rc_ticket.queue_id = U0.id",
                driver=(("rc_ticket", "status <> 3"),),
            )
        ],
        [
            "select #1: ALL on rc_queue U0 rows=10",
            "     attached_condition: U0.title = ?",
            ("select #1: ref on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=5553"),
            "     index_condition: rc_ticket.queue_id = U0.`id`",
            "     attached_condition: rc_ticket.`status` <> ?",
        ],
    ),
    "scale/mariadb/queue_restricted_by_a_flag_only": (
        [
            MyRead(
                "rc_queue",
                "Full table scan",
                "FILTER",
                alias="U0",
                filter="title IS NOT NULL",
                join_filter="rc_ticket.queue_id = U0.id",
                driver=(("rc_ticket", "created >= '2024-12-01'"),),
            )
        ],
        [
            "select #1: ALL on rc_queue U0 rows=10",
            "     attached_condition: U0.title is not null",
            ("select #1: ref on rc_ticket using rc_ticket_queue_id_7a2b9c1d rows=5553"),
            "     index_condition: rc_ticket.queue_id = U0.`id`",
            "     attached_condition: rc_ticket.created >= ?",
        ],
    ),
    "scale/mariadb/reviews_of_a_long_list": (
        [],
        [
            "select #1: ALL on <subquery2> rows=1200",
            "  select #2: ALL on <derived3> rows=1200",
            ("select #1: ref on cat_review using cat_review_product_id_4e5f6a7b rows=1"),
            "     index_condition: cat_review.product_id = tvc_0._col_1",
            "No tables used",
        ],
    ),
    "scale/mariadb/select_related_sort": (
        [
            MyRead(
                "rc_brand",
                "Full table scan",
                "JOIN",
                join_filter="rc_item.brand_id = rc_brand.id",
                driver=(("rc_item", "is_active"),),
            )
        ],
        [
            "select #1: ALL on rc_brand rows=200",
            "select #1: ref on rc_item using rc_item_brand_id_5d1e2f3a rows=261",
            "     index_condition: rc_item.brand_id = rc_brand.`id`",
            "     attached_condition: rc_item.is_active <> ?",
        ],
    ),
    "scale/mariadb/stock_in_long_list": (
        [MyRead("cat_product", "Full table scan", None)],
        [
            "select #1: ALL on cat_product rows=398809",
            "select #1: eq_ref on <subquery2> using distinct_key rows=1",
            "  select #2: ALL on <derived3> rows=1200",
            "No tables used",
        ],
    ),
    "mariadb/correlated_count_unindexed": (
        [
            MyRead(
                "upstream_webhookattempt",
                node_type="Full table scan",
                rule="JOIN",
                alias="U0",
                index_name=None,
                filter=None,
                join_filter="U0.delivery_id = upstream_webhookdelivery.id",
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            )
        ],
        [
            "select #1: ref on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=1",
            "  select #5: ALL on upstream_webhookattempt U0 rows=10",
            "       attached_condition: U0.delivery_id = upstream_webhookdelivery.`id`",
        ],
    ),
    "mariadb/join_two_key_parts": (
        [
            MyRead(
                "upstream_customer",
                node_type="Full table scan",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="created_at > '2026-01-01'",
                join_filter=(
                    "upstream_alertrule.customer_id = upstream_customer.id AND "
                    "upstream_alertrule.name = upstream_customer.name"
                ),
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            )
        ],
        [
            "select #1: ALL on upstream_customer rows=3",
            "     attached_condition: upstream_customer.created_at > ?",
            (
                "select #1: eq_ref on upstream_alertrule using "
                "upstream_alertrule_customer_id_name_00c2bf83_uniq rows=1"
            ),
            "     attached_condition: upstream_alertrule.`name` = upstream_customer.`name`",
        ],
    ),
    "mariadb/left_join_unindexed": (
        [
            MyRead(
                "upstream_webhookattempt",
                node_type="Full table scan",
                rule="JOIN",
                alias=None,
                index_name=None,
                filter=None,
                join_filter="upstream_webhookattempt.delivery_id = upstream_webhookdelivery.id",
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(("upstream_webhookdelivery", "endpoint_id = ?"),),
            )
        ],
        [
            "select #1: ref on upstream_webhookdelivery using webhook_endpoint_hist_idx rows=1",
            "select #1: ALL on upstream_webhookattempt (join buffer) rows=10",
            (
                "     join condition: trigcond(upstream_webhookattempt.delivery_id = "
                "upstream_webhookdelivery.`id`)"
            ),
        ],
    ),
    "mariadb/join_by_expression": (
        [],
        [
            "select #1: ref on upstream_webhookdelivery using webhook_retry_idx rows=1",
            "     index_condition: upstream_webhookdelivery.`status` = ?",
            "select #1: eq_ref on upstream_webhookendpoint using PRIMARY rows=1",
            (
                "     attached_condition: upstream_webhookendpoint.`id` = "
                "upstream_webhookdelivery.attempts + ?"
            ),
        ],
    ),
    "mariadb/union_filters_unindexed": (
        [
            MyRead(
                "upstream_webhookdelivery",
                node_type="Full table scan",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="event_type = 'a'",
                join_filter=None,
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            ),
            MyRead(
                "upstream_webhookdelivery",
                node_type="Full table scan",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="attempts = 3",
                join_filter=None,
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            ),
        ],
        [
            "select #1: ALL on upstream_webhookdelivery rows=10",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
            "  select #5: ALL on upstream_webhookdelivery rows=10",
            "       attached_condition: upstream_webhookdelivery.attempts = ?",
        ],
    ),
    "mariadb/sorted_fk_filtered": (
        [
            MyRead(
                "upstream_webhookdelivery",
                node_type="ref",
                rule=None,
                alias=None,
                index_name="upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_",
                filter="endpoint_id = 7 AND event_type = 'invoice.paid'",
                join_filter=None,
                index_condition="endpoint_id = ?",
                unservable=None,
                sort_key=("upstream_webhookdelivery.created_at DESC",),
                sorted_range=True,
                driver=(),
            )
        ],
        [
            (
                "select #1: ref on upstream_webhookdelivery using "
                "upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_ (filesort) rows=1"
            ),
            (
                "     attached_condition: upstream_webhookdelivery.endpoint_id <=> ? and "
                "upstream_webhookdelivery.event_type = ?"
            ),
        ],
    ),
    "mariadb/sort_over_join": (
        [
            MyRead(
                "upstream_webhookdelivery",
                node_type="Full table scan",
                rule="JOIN",
                alias=None,
                index_name=None,
                filter=None,
                join_filter="upstream_webhookendpoint.id = upstream_webhookdelivery.endpoint_id",
                index_condition=None,
                unservable=None,
                sort_key=("upstream_webhookdelivery.attempts DESC",),
                sorted_range=False,
                driver=(("upstream_webhookendpoint", "customer_id = 3"),),
            ),
            MyRead(
                "upstream_webhookendpoint",
                node_type="eq_ref",
                rule="FILTER",
                alias=None,
                index_name="PRIMARY",
                filter="customer_id = 3",
                join_filter="upstream_webhookendpoint.id = upstream_webhookdelivery.endpoint_id",
                index_condition=None,
                unservable=None,
                sort_key=(),
                sorted_range=False,
                driver=(),
            ),
        ],
        [
            "select #1: ALL on upstream_webhookdelivery (filesort) rows=10",
            "select #1: eq_ref on upstream_webhookendpoint using PRIMARY rows=1",
            "     attached_condition: upstream_webhookendpoint.customer_id = ?",
        ],
    ),
    "mariadb/sort_by_joined_table": (
        [
            MyRead(
                "upstream_webhookendpoint",
                node_type="Full table scan",
                rule="SORT_LIMIT",
                alias=None,
                index_name=None,
                filter=None,
                join_filter=None,
                index_condition=None,
                unservable=None,
                sort_key=("upstream_webhookendpoint.created_at DESC",),
                sorted_range=False,
                driver=(),
            )
        ],
        [
            "select #1: ALL on upstream_webhookendpoint (filesort) rows=8",
            (
                "select #1: ref on upstream_webhookdelivery using "
                "upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_ rows=1"
            ),
        ],
    ),
    "mariadb/enabled_channels_page": (
        [
            MyRead(
                "upstream_notificationchannel",
                node_type="range",
                rule=None,
                alias=None,
                index_name="notifchan_cust_enabled_idx",
                filter=None,
                join_filter=None,
                index_condition="customer_id = 3 AND channel_type = 'email' AND enabled",
                unservable=None,
                sort_key=("upstream_notificationchannel.name",),
                sorted_range=True,
                driver=(),
            )
        ],
        [
            (
                "select #1: range on upstream_notificationchannel using "
                "notifchan_cust_enabled_idx (filesort) rows=5"
            ),
            (
                "     index_condition: upstream_notificationchannel.customer_id = ? and "
                "upstream_notificationchannel.channel_type = ? and "
                "upstream_notificationchannel.enabled <> ?"
            ),
        ],
    ),
    "mariadb/busiest_range_with_filter": (
        [
            MyRead(
                "upstream_webhookdelivery",
                node_type="range",
                rule=None,
                alias=None,
                index_name="webhook_endpoint_hist_idx",
                filter="event_type = 'invoice.created'",
                join_filter=None,
                index_condition="endpoint_id > 0",
                unservable=None,
                sort_key=("upstream_webhookdelivery.attempts DESC",),
                sorted_range=True,
                driver=(),
            )
        ],
        [
            (
                "select #1: range on upstream_webhookdelivery using webhook_endpoint_hist_idx "
                "(filesort) rows=10"
            ),
            "     index_condition: upstream_webhookdelivery.endpoint_id > ?",
            "     attached_condition: upstream_webhookdelivery.event_type = ?",
        ],
    ),
    "mariadb/logs_of_connections_page": (
        [
            MyRead(
                "upstream_integrationlog",
                node_type="Full table scan",
                rule="FILTER",
                alias=None,
                index_name=None,
                filter="connection_id = ANY (1,2,3,4,5,6,7,8)",
                join_filter=None,
                index_condition=None,
                unservable=None,
                sort_key=("upstream_integrationlog.end_time DESC",),
                sorted_range=False,
                driver=(),
            )
        ],
        [
            "select #1: ALL on upstream_integrationlog (filesort) rows=10",
            "     attached_condition: upstream_integrationlog.connection_id in (...)",
        ],
    ),
}


def test_every_stored_mariadb_plan_is_read() -> None:
    stored = {
        f"mariadb/{path.stem}"
        for path in (PLANS / "mariadb").glob("*.json")
        if "plan" in json.loads(path.read_text(encoding="utf-8"))
    } | {f"scale/mariadb/{path.stem}" for path in (PLANS / "scale" / "mariadb").glob("*.json")}
    assert set(MARIADB_READ) == stored


@pytest.mark.parametrize("name", sorted(MARIADB_READ))
def test_what_the_mariadb_reader_takes_from_the_plan_and_shows(name: str) -> None:
    from pytest_indexguard.explain.mysql import analyze, render

    plan = _stored_mariadb(name)
    reads, lines = MARIADB_READ[name]
    assert [_my_read(f) for f in analyze(plan, sorted_ranges=True)] == reads
    assert render(plan) == lines


class Settled(NamedTuple):
    table: str
    rule: str | None
    index_name: str | None
    index_condition: str | None
    filter: str | None
    sorted_rows: tuple[int, int] | None


# Every stored MariaDB scenario's reads settled against both stored catalogs (before and after
# the sample app's indexes), production holding a million rows per table, 3,000 keys per
# foreign key and status (6% for the busiest): the catalog stands in for PostgreSQL's probes.
SETTLED: dict[str, list[Settled]] = {
    "aggregate_group_by@initial": [
        Settled("upstream_webhookdelivery", None, None, None, None, None)
    ],
    "aggregate_group_by@indexed": [
        Settled("upstream_webhookdelivery", None, None, None, None, None)
    ],
    "contains@initial": [
        Settled(
            "upstream_webhookendpoint", "UNSERVABLE", None, None, "url ~~ '%example%'::binary", None
        )
    ],
    "contains@indexed": [
        Settled(
            "upstream_webhookendpoint", "UNSERVABLE", None, None, "url ~~ '%example%'::binary", None
        )
    ],
    "count_filter_unindexed@initial": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "count_filter_unindexed@indexed": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "count_unfiltered@initial": [
        Settled("upstream_webhookdelivery", None, "webhook_endpoint_hist_idx", None, None, None)
    ],
    "count_unfiltered@indexed": [
        Settled("upstream_webhookdelivery", None, "webhook_endpoint_hist_idx", None, None, None)
    ],
    "delete_filter_unindexed@initial": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "delete_filter_unindexed@indexed": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "delivery_history_initial@initial": [
        Settled(
            "upstream_webhookdelivery",
            "SORT_RANGE",
            "upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_",
            "endpoint_id = ?",
            "endpoint_id = 7",
            (333, 60000),
        )
    ],
    "delivery_history_initial@indexed": [],
    "enabled_channels_initial@initial": [],
    "enabled_channels_initial@indexed": [],
    "enabled_rules_initial@initial": [],
    "enabled_rules_initial@indexed": [],
    "exists_filter_unindexed@initial": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "exists_filter_unindexed@indexed": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "failed_logs_initial@initial": [
        Settled("upstream_integrationlog", "FILTER", None, None, "status = 'failed'", None)
    ],
    "failed_logs_initial@indexed": [],
    "failed_since_initial@initial": [
        Settled(
            "upstream_integrationlog",
            "FILTER",
            None,
            None,
            "status = 'failed' AND start_time >= '2026-01-15 12:00:00'",
            None,
        )
    ],
    "failed_since_initial@indexed": [],
    "filter_unindexed@initial": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "filter_unindexed@indexed": [
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        )
    ],
    "first_filter_unindexed@initial": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            "PRIMARY",
            None,
            "event_type = 'invoice.paid'",
            None,
        )
    ],
    "first_filter_unindexed@indexed": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            "PRIMARY",
            None,
            "event_type = 'invoice.paid'",
            None,
        )
    ],
    "icontains@initial": [
        Settled("upstream_webhookendpoint", "UNSERVABLE", None, None, "url ~~ '%example%'", None)
    ],
    "icontains@indexed": [
        Settled("upstream_webhookendpoint", "UNSERVABLE", None, None, "url ~~ '%example%'", None)
    ],
    "join_unindexed@initial": [Settled("upstream_webhookattempt", "JOIN", None, None, None, None)],
    "join_unindexed@indexed": [Settled("upstream_webhookattempt", "JOIN", None, None, None, None)],
    "limit_unfiltered@initial": [Settled("upstream_webhookdelivery", None, None, None, None, None)],
    "limit_unfiltered@indexed": [Settled("upstream_webhookdelivery", None, None, None, None, None)],
    "non_leading_index_column@initial": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            None,
            None,
            "next_attempt_at <= '2026-01-15 12:00:00'",
            None,
        )
    ],
    "non_leading_index_column@indexed": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            None,
            None,
            "next_attempt_at <= '2026-01-15 12:00:00'",
            None,
        )
    ],
    "or_across_tables@initial": [
        Settled(
            "upstream_webhookdelivery",
            "UNSERVABLE",
            None,
            None,
            (
                "upstream_webhookdelivery.status = 'failed' OR "
                "upstream_webhookendpoint.url = 'https://a.example'"
            ),
            None,
        )
    ],
    "or_across_tables@indexed": [
        Settled(
            "upstream_webhookdelivery",
            "UNSERVABLE",
            None,
            None,
            (
                "upstream_webhookdelivery.status = 'failed' OR "
                "upstream_webhookendpoint.url = 'https://a.example'"
            ),
            None,
        )
    ],
    "order_by_unfiltered@initial": [
        Settled("upstream_webhookdelivery", None, None, None, None, None)
    ],
    "order_by_unfiltered@indexed": [
        Settled("upstream_webhookdelivery", None, None, None, None, None)
    ],
    "pk_in@initial": [],
    "pk_in@indexed": [],
    "recent_logs_initial@initial": [
        Settled(
            "upstream_integrationlog",
            "SORT_RANGE",
            "upstream_integration_connection_id_66f27c03_fk_upstream_",
            "connection_id = ?",
            "connection_id = 7",
            (333, 60000),
        )
    ],
    "recent_logs_initial@indexed": [],
    "retry_queue_initial@initial": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            None,
            None,
            "next_attempt_at <= '2026-01-15 12:00:00' AND status = 'retrying'",
            None,
        )
    ],
    "retry_queue_initial@indexed": [],
    "select_related_unfiltered@initial": [
        Settled("upstream_webhookendpoint", None, None, None, None, None)
    ],
    "select_related_unfiltered@indexed": [
        Settled("upstream_webhookendpoint", None, None, None, None, None)
    ],
    "sort_limit_unindexed@initial": [
        Settled("upstream_webhookdelivery", "SORT_LIMIT", None, None, None, None)
    ],
    "sort_limit_unindexed@indexed": [
        Settled("upstream_webhookdelivery", "SORT_LIMIT", None, None, None, None)
    ],
    "subquery_filter_unindexed@initial": [
        Settled(
            "upstream_webhookendpoint",
            None,
            "upstream_webhookendp_customer_id_cd82dc35_fk_upstream_",
            None,
            None,
            None,
        ),
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        ),
    ],
    "subquery_filter_unindexed@indexed": [
        Settled(
            "upstream_webhookendpoint",
            None,
            "upstream_webhookendp_customer_id_cd82dc35_fk_upstream_",
            None,
            None,
            None,
        ),
        Settled(
            "upstream_webhookdelivery", "FILTER", None, None, "event_type = 'invoice.paid'", None
        ),
    ],
    "unfiltered@initial": [Settled("upstream_webhookdelivery", None, None, None, None, None)],
    "unfiltered@indexed": [Settled("upstream_webhookdelivery", None, None, None, None, None)],
    "update_filter_unindexed@initial": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            "PRIMARY",
            None,
            "event_type = 'invoice.paid'",
            None,
        )
    ],
    "update_filter_unindexed@indexed": [
        Settled(
            "upstream_webhookdelivery",
            "FILTER",
            "PRIMARY",
            None,
            "event_type = 'invoice.paid'",
            None,
        )
    ],
    "correlated_count_unindexed@initial": [
        Settled("upstream_webhookattempt", "JOIN", None, None, None, None)
    ],
    "correlated_count_unindexed@indexed": [
        Settled("upstream_webhookattempt", "JOIN", None, None, None, None)
    ],
    "join_two_key_parts@initial": [
        Settled("upstream_customer", "FILTER", None, None, "created_at > '2026-01-01'", None)
    ],
    "join_two_key_parts@indexed": [
        Settled("upstream_customer", "FILTER", None, None, "created_at > '2026-01-01'", None)
    ],
    "left_join_unindexed@initial": [
        Settled("upstream_webhookattempt", "JOIN", None, None, None, None)
    ],
    "left_join_unindexed@indexed": [
        Settled("upstream_webhookattempt", "JOIN", None, None, None, None)
    ],
    "join_by_expression@initial": [],
    "join_by_expression@indexed": [],
    "union_filters_unindexed@initial": [
        Settled("upstream_webhookdelivery", "FILTER", None, None, "event_type = 'a'", None),
        Settled("upstream_webhookdelivery", "FILTER", None, None, "attempts = 3", None),
    ],
    "union_filters_unindexed@indexed": [
        Settled("upstream_webhookdelivery", "FILTER", None, None, "event_type = 'a'", None),
        Settled("upstream_webhookdelivery", "FILTER", None, None, "attempts = 3", None),
    ],
    "sorted_fk_filtered@initial": [
        Settled(
            "upstream_webhookdelivery",
            "SORT_RANGE",
            "upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_",
            "endpoint_id = ?",
            "endpoint_id = 7 AND event_type = 'invoice.paid'",
            (333, 60000),
        )
    ],
    "sorted_fk_filtered@indexed": [],
    "sort_over_join@initial": [],
    "sort_over_join@indexed": [],
    "sort_by_joined_table@initial": [
        Settled("upstream_webhookendpoint", "SORT_LIMIT", None, None, None, None)
    ],
    "sort_by_joined_table@indexed": [
        Settled("upstream_webhookendpoint", "SORT_LIMIT", None, None, None, None)
    ],
    "enabled_channels_page@initial": [
        Settled(
            "upstream_notificationchannel",
            "SORT_RANGE",
            "notifchan_cust_enabled_idx",
            "customer_id = 3 AND channel_type = 'email' AND enabled",
            None,
            (333, 60000),
        )
    ],
    "enabled_channels_page@indexed": [
        Settled(
            "upstream_notificationchannel",
            "SORT_RANGE",
            "notifchan_cust_enabled_idx",
            "customer_id = 3 AND channel_type = 'email' AND enabled",
            None,
            (333, 60000),
        )
    ],
    "busiest_range_with_filter@initial": [],
    "busiest_range_with_filter@indexed": [],
    "logs_of_connections_page@initial": [
        Settled(
            "upstream_integrationlog",
            "SORT_RANGE",
            "upstream_integration_connection_id_66f27c03_fk_upstream_",
            "connection_id = ANY (1,2,3,4,5,6,7,8)",
            None,
            (333, 60000),
        )
    ],
    "logs_of_connections_page@indexed": [
        Settled(
            "upstream_integrationlog",
            "SORT_RANGE",
            "intlog_conn_time_idx",
            "connection_id = ANY (1,2,3,4,5,6,7,8)",
            None,
            (333, 60000),
        )
    ],
}


@pytest.mark.parametrize("name", sorted(SETTLED))
def test_what_the_catalog_and_production_keep_of_each_mariadb_plan(name: str) -> None:
    from pytest_indexguard import judge
    from pytest_indexguard.explain.mysql import analyze, schema_of, settle
    from pytest_indexguard.schema import ColumnShape

    scenario, state = name.split("@")
    catalog = schema_of(_data(f"mariadb/catalog_{state}.json")["statistics"])
    tables = [
        "upstream_webhookdelivery",
        "upstream_integrationlog",
        "upstream_webhookendpoint",
        "upstream_customer",
        "upstream_alertrule",
        "upstream_notificationchannel",
        "upstream_webhookattempt",
        "upstream_userprofile",
    ]
    keys = ("endpoint_id", "connection_id", "customer_id", "status", "event_type", "delivery_id")
    shape = ColumnShape(3000, 0.0, None, 0.06)
    production = judge.Production(
        rows=dict.fromkeys(tables, 1_000_000),
        columns={table: dict.fromkeys(keys, shape) for table in tables},
        threshold=1000,
    )
    found = analyze(_stored_mariadb(f"mariadb/{scenario}"), sorted_ranges=True)
    kept = [
        Settled(
            f.table,
            f.rule.name if f.rule else None,
            f.index_name,
            f.index_condition,
            f.filter,
            f.sorted_rows,
        )
        for f in settle(found, catalog, production)
    ]
    assert kept == SETTLED[name]


# -- PostgreSQL's stored plans -----------------------------------------------------------------

# The suggestions for each violation of the stored plans, best first, with the catalog where one
# was stored. Tables of the sample app have their models (field names known); the others not.
EXPECTED = [
    ("pg18/correlated_subquery_unindexed.json", "upstream_webhookdelivery", [("endpoint_id",)]),
    (
        "pg18/retry_queue_missing_index.json",
        "upstream_webhookdelivery",
        [("status", "next_attempt_at")],
    ),
    ("pg18/sort_limit_unindexed.json", "upstream_webhookdelivery", [("-created_at",)]),
    ("judge/pg18/retry_queue.json", "tp_delivery", [("status", "next_attempt_at"), ("status",)]),
    (
        "judge/pg18/recall_select_related_sort.json",
        "rc_item",
        [("is_active", "-created_at"), ("is_active",)],
    ),
    ("judge/pg18/recall_every_queue.json", "rc_ticket", [("created",)]),
    ("judge/pg18/or_of_subqueries.json", "team_project", []),
    # A cast to a type that is no keyword (::interval) names no column.
    ("judge/pg18/or_across_tables.json", "team_profile", []),
    ("judge/pg18/unindexed_order.json", "tp_event", [("-created_at",)]),
]


@pytest.mark.parametrize(
    ("relative", "table", "expected"), EXPECTED, ids=[e[0].split("/")[-1] for e in EXPECTED]
)
def test_the_suggestions_for_stored_plans(
    relative: str, table: str, expected: list[tuple[str, ...]]
) -> None:
    assert [s.columns for s in _suggested(relative, table)] == expected


def test_fields_of_a_model_keep_the_direction() -> None:
    [suggestion] = _suggested("pg18/sort_limit_unindexed.json", "upstream_webhookdelivery")
    assert suggestion.fields == ("-created_at",)
    assert suggestion.migration_code() == (
        'AddIndexConcurrently("webhookdelivery", models.Index(fields=["-created_at"], '
        'name="webhookdeliv_created_0d1f_idx"))'
    )
    [joined] = _suggested("pg18/correlated_subquery_unindexed.json", "upstream_webhookdelivery")
    assert joined.fields == ("endpoint",)


def test_an_iexact_on_a_model_of_an_installed_app() -> None:
    [suggestion] = _suggested("judge/pg18/iexact_and_flag.json", "auth_user")
    assert suggestion.columns == ("upper(email)", "is_active")
    assert suggestion.fields == ("email", "is_active")
    assert (suggestion.kind, suggestion.app) == ("external", "upstream")
    assert suggestion.index_code() == (
        f'models.Index(Upper("email"), F("is_active"), name="{suggestion.name}")'
    )
    assert suggestion.sql() == (
        f"CREATE INDEX CONCURRENTLY {suggestion.name} ON auth_user ((upper(email)), is_active)"
    )
    # Without a rootdir every app is the project's: Meta.indexes, even for auth.User.
    [own] = candidates(
        _pg_findings("judge/pg18/iexact_and_flag.json")[2][0], ModelIndex(), None, None
    )
    assert (own.kind, own.app) == ("model", None)
    assert own.describe() == f"{own.index_code()} in auth.User.Meta.indexes"


def test_where_the_project_is_decides_which_apps_it_owns(tmp_path: Path) -> None:
    [email] = [
        f for f in _pg_findings("judge/pg18/unindexed_email.json")[2] if f.table == "auth_user"
    ]
    # No app under the rootdir: each model belongs to an installed app, and no app of the
    # project is there to hold the migration.
    [nowhere] = candidates(email, ModelIndex(str(tmp_path)))
    assert (nowhere.kind, nowhere.app) == ("external", None)
    assert nowhere.describe() == (
        f"{nowhere.sql()} (auth.User belongs to an installed app the project cannot edit: add it "
        "in a migration of one of your apps, with atomic = False)"
    )
    # A directory whose name starts like the rootdir's is not under it.
    assert ModelIndex(str(REPO / "sample")).kind("upstream_customer") == ("external", None)
    assert ModelIndex(str(REPO)).kind("upstream_customer") == ("model", None)
    # A virtualenv inside the project: what it installed is still not the project's.
    import django

    venv = Path(django.__file__).resolve().parents[2]
    assert "site-packages" in django.__file__
    assert ModelIndex(str(venv)).kind("auth_user")[0] == "external"


def test_what_the_registry_says_about_tables_and_columns() -> None:
    models = ModelIndex(str(REPO))
    # Django's automatic many-to-many tables are models too, of their app.
    assert models.kind("auth_user_groups") == ("external", "upstream")
    assert models.columns("auth_user_groups") == ["id", "user_id", "group_id"]
    assert models.kind("no_such_table") == ("sql", None)
    assert not models.indexable("upstream_webhookdelivery", "payload")
    assert not models.indexable("upstream_notificationchannel", "config")
    assert models.indexable("upstream_webhookdelivery", "status")
    assert models.primary_key("upstream_webhookdelivery") == "id"


def test_index_names() -> None:
    # The app's prefix goes, the rest of the table's name stays.
    assert index_name("auth_user_groups", ["user"]) == "user_groups_user_idx"
    assert index_name("events", ["status"]) == "events_status_idx"
    # Twelve characters of the table fit with no digest; thirteen do not (or two tables would
    # share the name).
    assert index_name("shop_notification", ["kind"]) == "notification_kind_idx"
    assert index_name("shop_notifications", ["kind"]) != "notification_kind_idx"
    # The readable part may be 26 characters (the name then is Django's 30); one more and a
    # digest shortens it.
    assert index_name("shop_customer", ["city", "name", "created"]) == (
        "customer_city_name_created_idx"
    )
    longer = index_name("shop_customer", ["state", "name", "created"])
    assert len(longer) <= 30, longer
    # Seven characters of a column are kept whole; an eighth is a shortening.
    assert index_name("shop_order", ["created"]) == "order_created_idx"
    assert index_name("shop_customer", ["address1"]) != index_name("shop_customer", ["address2"])
    assert index_name("shop_customer", ["upper(message)"]) == "customer_message_upper_idx"
    assert index_name("shop_customer", ["upper(address1)"]) != (
        index_name("shop_customer", ["upper(address2)"])
    )
    assert index_name("shop_customer", ["upper(address1)"]).startswith("customer_address_upp")
    # One direction throughout does not count, shortened names included.
    assert index_name("shop_order", ["created_at"]) == index_name("shop_order", ["-created_at"])
    # A shortened readable part never ends in a separator before the digest.
    name = index_name("upstream_webhookdelivery", ["created", "status"])
    assert name.startswith("webhookdeliv_created_"), name
    assert "__" not in name, name


def test_partitioned_table_suggestion() -> None:
    suggestion = Suggestion(
        table="events",
        columns=("status",),
        model=None,
        fields=("status",),
        name="events_status_idx",
        partitioned=True,
    )
    assert suggestion.sql() == "CREATE INDEX events_status_idx ON events (status)"
    assert suggestion.drop_sql() == "DROP INDEX IF EXISTS events_status_idx"
    assert suggestion.describe() == (
        "CREATE INDEX events_status_idx ON events (status) (a partitioned table: CONCURRENTLY "
        "is not possible on it; to avoid the lock, create the index ON ONLY the table, then "
        "CONCURRENTLY on each partition, and ATTACH those)"
    )


def test_sort_keys_that_name_no_plain_column() -> None:
    # An expression's key gives no column, whether or not the table's columns are known; one
    # under upper()/lower() is the expression an index serves (tests/test_sort_expression.py).
    assert sort_column("(count(id))", []) is None
    assert sort_column("(coalesce(name, title))", ["name"]) is None
    assert sort_column("(lower((name)::text))", []) == "lower(name)"
    assert sort_column("(lower((name)::text))", ["name"]) == "lower(name)"


def test_filter_columns_of_a_table_without_a_model() -> None:
    # Without the model's columns, every identifier of the filter but keywords and type names.
    _, _, [finding] = _pg_findings("judge/pg18/retry_queue.json")
    assert filter_columns(str(finding.filter), []) == (["status"], ["next_attempt_at"])


# -- MariaDB, on the local server --------------------------------------------------------------

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
SCRATCH = f"indexguard_mutkill_{WORKER}_{os.getpid()}"


@pytest.fixture(scope="module")
def mariadb() -> Iterator[Any]:
    """A database of its own on the local MariaDB (``INDEXGUARD_MYSQL_URL``), dropped after."""
    from plans.capture_mysql import connect

    url = reachable_mysql()
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{SCRATCH}`")
        cursor.execute(f"CREATE DATABASE `{SCRATCH}` CHARACTER SET utf8mb4")
        cursor.execute(f"USE `{SCRATCH}`")
    yield conn
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{SCRATCH}`")
    conn.close()


def _mariadb_findings(conn: Any, sql: str) -> tuple[MySQL, list[ScanFinding]]:
    from pytest_indexguard.explain.mysql import analyze

    backend = MySQL()
    with conn.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        backend.identify(str(cursor.fetchone()[0]))
    return backend, analyze(backend.explain(conn, sql, forced=True).plan)


def test_mysql_ddl_names_a_mixed_case_table_in_backticks(mariadb: Any) -> None:
    with mariadb.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS `LegacyEvents`")
        cursor.execute(
            "CREATE TABLE `LegacyEvents` (`id` bigint AUTO_INCREMENT PRIMARY KEY, "
            "`label` varchar(20) NOT NULL, `status` varchar(20) NOT NULL)"
        )
    sql = (
        "SELECT `LegacyEvents`.`id` FROM `LegacyEvents` "
        "WHERE `LegacyEvents`.`status` = 'x' AND `LegacyEvents`.`label` > 'a'"
    )
    backend, [finding] = _mariadb_findings(mariadb, sql)
    assert (finding.rule, finding.filter) == (Rule.FILTER, "status = 'x' AND label > 'a'")
    found = candidates(finding, ModelIndex(str(REPO)), sql, backend.schema(mariadb), "mysql")
    assert [s.columns for s in found] == [("status", "label"), ("status",)]
    suggestion = found[0]
    assert suggestion.sql() == (
        "CREATE INDEX LegacyEvents_status_label_idx ON `LegacyEvents` (status, label)"
    )
    assert suggestion.drop_sql() == "DROP INDEX LegacyEvents_status_label_idx ON `LegacyEvents`"
    # The DDL runs as written, and its reverse removes the index (MySQL names the table).
    with mariadb.cursor() as cursor:
        cursor.execute(suggestion.sql())
        cursor.execute("SHOW INDEX FROM `LegacyEvents`")
        assert suggestion.name in {row[2] for row in cursor.fetchall()}
        cursor.execute(suggestion.drop_sql())
        cursor.execute("SHOW INDEX FROM `LegacyEvents`")
        assert suggestion.name not in {row[2] for row in cursor.fetchall()}


# -- SQLite: the backend's round trips on a live database --------------------------------------


def _analysed(raw: sqlite3.Connection) -> None:
    """Rows and statistics in the log table, as after a test database's ANALYZE."""
    raw.executemany(
        f'INSERT INTO {LOG} ("connection_id", "status", "start_time", "message") '
        "VALUES (1, 'ok', '2025-01-01', ?)",
        [(f"m{n}",) for n in range(20)],
    )
    raw.execute("ANALYZE")


MESSAGE_X = f'SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."message" = \'x\''


def test_explain_says_where_it_planned_and_what_failed(sample_db: sqlite3.Connection) -> None:
    from pytest_indexguard.explain import NotExplained

    backend = SQLite()
    plain = backend.explain(sample_db, MESSAGE_X, forced=True)
    assert (plain.round_trips, plain.plan.copy, plain.plan.text) == (1, False, MESSAGE_X)
    _analysed(sample_db)
    # With statistics, a plan with a full read is planned again on the statistics-free copy.
    copied = backend.explain(sample_db, MESSAGE_X, forced=True)
    assert (copied.round_trips, copied.plan.copy, copied.plan.text) == (3, True, MESSAGE_X)
    with pytest.raises(NotExplained, match=r"^no such table: nowhere$"):
        backend.explain(sample_db, "SELECT * FROM nowhere", forced=True)


def test_the_copy_is_kept_per_schema_and_serves_every_thread(
    sample_db: sqlite3.Connection,
) -> None:
    import threading

    backend = SQLite()
    _analysed(sample_db)
    assert backend._copy(sample_db) is backend._copy(sample_db)
    planned: list[bool] = []

    def explain() -> None:
        planned.append(backend.explain(sample_db, MESSAGE_X, forced=True).plan.copy)

    thread = threading.Thread(target=explain)
    thread.start()
    thread.join()
    assert planned == [True]
    # Four schemas' copies at most (one per database alias, usually): the oldest goes.
    for number in range(5):
        sample_db.execute(f'CREATE TABLE "extra_{number}" ("id" integer PRIMARY KEY)')
        backend._copy(sample_db)
    assert len(backend._copies) == 4


def test_a_virtual_tables_shadow_tables_do_not_stop_the_copy(
    sample_db: sqlite3.Connection,
) -> None:
    sample_db.execute('CREATE VIRTUAL TABLE "notes" USING fts5("body")')
    _analysed(sample_db)
    plan = SQLite().explain(sample_db, MESSAGE_X, forced=True).plan
    assert plan.copy
    assert [f.table for f in _sqlite_analyze(plan) if f.is_violation] == ["upstream_integrationlog"]


def _sqlite_analyze(plan: Any) -> list[ScanFinding]:
    from pytest_indexguard.explain.sqlite import analyze

    found: list[ScanFinding] = analyze(plan)
    return found


def test_the_schema_of_keys_written_by_hand(sample_db: sqlite3.Connection) -> None:
    # A migration's RunSQL may write keywords in lower case and expression keys with a
    # direction and a predicate.
    sample_db.executescript(
        'CREATE TABLE "legacy_tag" ("code" text PRIMARY KEY, "label" text, "rank" integer);\n'
        'create index "tag_label_lower" on "legacy_tag" ("rank", lower("label") desc) '
        'where "rank" is not null;\n'
    )
    indexes = {i.name: i for i in SQLite().schema(sample_db).on("legacy_tag")}
    assert indexes["tag_label_lower"] == IndexInfo(
        table="legacy_tag",
        name="tag_label_lower",
        columns=("rank", 'lower("label") DESC'),
        unique=False,
        primary=False,
        partial=True,
        keys=("rank", None),
        predicate='"rank" is not null',
    )
    assert indexes["sqlite_autoindex_legacy_tag_1"] == IndexInfo(
        table="legacy_tag",
        name="sqlite_autoindex_legacy_tag_1",
        columns=("code",),
        unique=True,
        primary=True,
        partial=False,
        keys=("code",),
    )
    # A rowid table's INTEGER PRIMARY KEY is the table's own B-tree.
    [rowid] = [i for i in SQLite().schema(sample_db).on("upstream_customer") if i.primary]
    assert rowid == IndexInfo(
        table="upstream_customer",
        name="upstream_customer.rowid",
        columns=("id",),
        unique=True,
        primary=True,
        partial=False,
        keys=("id",),
    )


def test_verify_says_why_it_could_not(sample_db: sqlite3.Connection) -> None:
    backend = SQLite()
    plan = backend.explain(sample_db, MESSAGE_X, forced=True).plan
    [finding] = _sqlite_analyze(plan)
    wrong = Suggestion("upstream_integrationlog", ("nope",), None, ("nope",), "log_nope_idx")
    verification = backend.verify(sample_db, MESSAGE_X, finding, wrong)
    assert verification.fixes is None
    assert verification.round_trips == 1
    assert verification.note == "not verified: no such column: nope"


def test_bind_by_name_asks_sqlite_for_what_it_cannot_write_itself(
    sample_db: sqlite3.Connection,
) -> None:
    backend = SQLite()
    text = backend.bind(sample_db, "SELECT %(a)s, %(b)s, %(c)s", {"a": 2.5, "b": False, "c": True})
    assert text == "SELECT 2.5, 0, 1"


def test_watched_tables_only_in_the_assessment(sample_db: sqlite3.Connection) -> None:
    from pytest_indexguard.explain import Context

    backend = SQLite()
    plan = backend.explain(sample_db, MESSAGE_X, forced=True).plan
    schema = backend.schema(sample_db)
    everything = backend.assess(sample_db, MESSAGE_X, plan, Context(schema)).findings
    assert [f.table for f in everything] == ["upstream_integrationlog"]
    unwatched = Context(schema, watched=lambda table: table != "upstream_integrationlog")
    assert backend.assess(sample_db, MESSAGE_X, plan, unwatched).findings == []


# -- MariaDB: the backend's round trips on a live connection -----------------------------------


def test_which_server_the_backend_talks_to() -> None:
    backend = MySQL()
    # Before the handshake is read.
    assert (backend.name, backend.mariadb, backend.version) == ("MySQL/MariaDB", True, ())
    backend.identify("5.5.5-10.11.19-MariaDB-0+deb12u1")
    assert (backend.name, backend.mariadb, backend.version) == ("MariaDB 10.11", True, (10, 11, 19))
    assert "IGNORED = 'YES'" in backend.statistics_query()
    backend.identify("8.0.36")
    assert (backend.name, backend.mariadb, backend.version) == ("MySQL 8.0", False, (8, 0, 36))
    assert "EXPRESSION, IS_VISIBLE = 'NO'" in backend.statistics_query()
    backend.identify("8.0.12")
    assert "NULL, IS_VISIBLE = 'NO'" in backend.statistics_query()
    assert backend.internal("information_schema.tables")
    assert backend.internal("MySQL.user")
    assert not backend.internal("mysql")
    assert not backend.internal("app.mysql.user")
    assert not backend.internal("upstream_customer")


def test_the_mariadb_backend_on_a_live_connection(
    mariadb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_indexguard import explain as boundary
    from pytest_indexguard.explain import NotExplained

    with mariadb.cursor() as cursor:
        cursor.execute("DROP VIEW IF EXISTS `notes`")
        cursor.execute("DROP TABLE IF EXISTS `it's`")
        cursor.execute(
            "CREATE TABLE `it's` (`id` bigint AUTO_INCREMENT PRIMARY KEY, `note` varchar(20))"
        )
        cursor.execute("INSERT INTO `it's` (`note`) VALUES ('a'), ('b'), ('c')")
        cursor.execute("CREATE VIEW `notes` AS SELECT `note` FROM `it's`")
    mariadb.commit()
    backend, _ = _mariadb_findings(mariadb, "SELECT 1")
    assert backend.name.startswith("MariaDB 1")
    assert backend.busy(mariadb) is None
    assert backend.bind(mariadb, "SELECT 1 % 2", None) == "SELECT 1 % 2"
    assert backend.bind(mariadb, "SELECT %s", ["it's"]) == "SELECT 'it\\'s'"
    sql = "SELECT `n`.`id` FROM `it's` AS `n` WHERE `n`.`note` = 'b'"
    explained = backend.explain(mariadb, sql, forced=True)
    assert explained.round_trips == 1
    assert {key: explained.plan[key] for key in ("statement", "server", "forced")} == {
        "statement": sql,
        "server": backend.name,
        "forced": True,
    }
    assert backend.tables_read(explained.plan) == {"it's"}
    assert backend.render(explained.plan)[0].startswith("select #1: ALL on it's n rows=")
    assert backend.explain(mariadb, sql, forced=False).plan["forced"] is False
    with pytest.raises(NotExplained, match=r"^Table '.*\.nowhere' doesn't exist$"):
        backend.explain(mariadb, "SELECT * FROM `nowhere`", forced=True)
    with pytest.raises(NotExplained, match=r"^it reads session state an EXPLAIN before it would"):
        backend.explain(mariadb, "SELECT ROW_COUNT()", forced=True)
    relations = backend.relations(mariadb, ["it's"])
    assert relations.views == frozenset({"notes"})
    assert {"it's", "notes"} <= relations.names
    # Small tables are counted; a table as big as the bound keeps InnoDB's estimate.
    assert backend.table_sizes(mariadb, []) == {}
    assert backend.table_sizes(mariadb, ["it's", "it's"]) == {"it's": (3, "counted")}
    monkeypatch.setattr(boundary, "COUNT_BOUND", 0)
    [(_, source)] = backend.table_sizes(mariadb, ["it's"]).values()
    assert source == "information_schema.TABLES.TABLE_ROWS (estimate)"
    # A statement of the driver's own failing is not a server's answer: it is raised as is.
    closed = _mariadb_connection()
    closed.close()
    assert backend.busy(closed) == "the connection is closed"
    with pytest.raises(Exception, match=r"^\(0, ''\)$") as raised:
        backend.explain(closed, sql, forced=True)
    assert type(raised.value).__name__ == "InterfaceError"


def _odd_table(mariadb: Any, table: str) -> tuple[str, str, ScanFinding]:
    """A table named ``table`` on MariaDB with 50 rows: its quoted name, a filtered read of it
    and that read's finding."""
    quoted = "`" + table.replace("`", "``") + "`"
    with mariadb.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(
            f"CREATE TABLE {quoted} (`id` bigint AUTO_INCREMENT PRIMARY KEY, "
            "`status` varchar(20) NOT NULL, `n` int NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {quoted} (`status`, `n`) VALUES "
            + ", ".join(f"('s{i % 7}', {i})" for i in range(50))
        )
    sql = f"SELECT {quoted}.`id` FROM {quoted} WHERE {quoted}.`status` = 'x' AND {quoted}.`n` > 3"
    _, [finding] = _mariadb_findings(mariadb, sql)
    return quoted, sql, finding


ODD_NAMES = ["Legacy Events", "odd`name", 'say "hi"']


@pytest.mark.parametrize("table", ODD_NAMES)
def test_a_table_named_with_a_space_or_a_quote_keeps_its_filter(mariadb: Any, table: str) -> None:
    # MariaDB writes such a table's conditions as `Legacy Events`.`status`; the reader used to
    # take that qualifier for another table's, and reported the filtered read as unfiltered.
    quoted, sql, finding = _odd_table(mariadb, table)
    assert (finding.table, finding.alias) == (table, table)
    assert (finding.rule, finding.filter, finding.join_filter) == (
        Rule.FILTER,
        "status = 'x' AND n > 3",
        None,
    )
    # The suggestion's DDL names the table as MariaDB reads it: backticks, a backtick doubled.
    suggested = candidates(finding, ModelIndex(str(REPO)), sql, None, dialect="mysql")
    assert [s.columns for s in suggested] == [("status", "n"), ("status",)]
    assert suggested[0].sql().endswith(f" ON {quoted} (status, n)")
    assert suggested[1].drop_sql().endswith(f" ON {quoted}")


@pytest.mark.parametrize("table", ODD_NAMES)
def test_the_ddl_for_a_table_named_with_a_space_or_a_quote_runs(mariadb: Any, table: str) -> None:
    # The index's own name needs no quoting: letters, digits and "_" only.
    quoted, sql, finding = _odd_table(mariadb, table)
    for suggestion in candidates(finding, ModelIndex(str(REPO)), sql, None, dialect="mysql"):
        with mariadb.cursor() as cursor:
            cursor.execute(suggestion.sql())
            cursor.execute(f"SHOW INDEX FROM {quoted} WHERE Key_name = '{suggestion.name}'")
            assert cursor.fetchall(), suggestion.sql()
            cursor.execute(suggestion.drop_sql())


def test_table_sizes_of_several_tables_with_odd_names(mariadb: Any) -> None:
    # One round trip lists them, one more counts the small ones; a backtick and a backslash in
    # a name are quoted for the server as it reads them, and an empty table counts zero rows.
    names = {"tick`tock": 2, "back\\slash": 4, "bare_empty": 0}
    with mariadb.cursor() as cursor:
        for name, rows in names.items():
            quoted = "`" + name.replace("`", "``") + "`"
            cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
            cursor.execute(f"CREATE TABLE {quoted} (`id` bigint AUTO_INCREMENT PRIMARY KEY)")
            for _ in range(rows):
                cursor.execute(f"INSERT INTO {quoted} () VALUES ()")
    backend = MySQL()
    assert backend.table_sizes(mariadb, [*names, "missing"]) == {
        "tick`tock": (2, "counted"),
        "back\\slash": (4, "counted"),
        "bare_empty": (0, "counted"),
    }


def test_assess_on_mariadb_weighs_what_the_context_says(mariadb: Any) -> None:
    # MySQL.assess hands the context on: the watched tables, production's shape (which also
    # lists an index range sorted for a LIMIT, for that shape to judge) and the columns of few
    # values (a filter on one keeps most of the table: production reads it whole too).
    from pytest_indexguard import judge
    from pytest_indexguard.explain import Context
    from pytest_indexguard.schema import ColumnShape

    with mariadb.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS `queue`")
        cursor.execute(
            "CREATE TABLE `queue` (`id` bigint AUTO_INCREMENT PRIMARY KEY, `owner_id` bigint "
            "NOT NULL, `kind` varchar(10) NOT NULL, `created_at` int NOT NULL, "
            "KEY `queue_owner` (`owner_id`))"
        )
        cursor.executemany(
            "INSERT INTO `queue` (`owner_id`, `kind`, `created_at`) VALUES (%s, %s, %s)",
            [(i % 4, "ab"[i % 2], i) for i in range(40)],
        )
        cursor.execute("ANALYZE TABLE `queue`")
        cursor.fetchall()
    backend, _ = _mariadb_findings(mariadb, "SELECT 1")
    schema = backend.schema(mariadb)

    def assessed(sql: str, **context: Any) -> list[tuple[str, str | None, str | None]]:
        plan = backend.explain(mariadb, sql, forced=True).plan
        found = backend.assess(mariadb, sql, plan, Context(schema, **context)).findings
        return [(f.table, f.rule.name if f.rule else None, f.filter) for f in found]

    filtered = "SELECT `queue`.`id` FROM `queue` WHERE `queue`.`kind` = 'a'"
    assert assessed(filtered) == [("queue", "FILTER", "kind = 'a'")]
    assert assessed(filtered, watched=lambda table: table != "queue") == []
    assert assessed(filtered, few_values=lambda table, column: column == "kind") == []
    assert assessed(filtered, few_values=lambda table, column: column == "owner_id") == [
        ("queue", "FILTER", "kind = 'a'")
    ]
    ranged = (
        "SELECT `queue`.`id` FROM `queue` WHERE `queue`.`owner_id` = 2 "
        "ORDER BY `queue`.`created_at` DESC LIMIT 5"
    )
    plan = backend.explain(mariadb, ranged, forced=True).plan
    assert assessed(ranged) == []
    production = judge.Production(
        rows={"queue": 1_000_000},
        columns={"queue": {"owner_id": ColumnShape(4, 0.0, None, 0.25)}},
        threshold=1000,
    )
    [found] = backend.assess(mariadb, ranged, plan, Context(schema, production=production)).findings
    assert (found.table, found.rule, found.index_name, found.sorted_rows) == (
        "queue",
        Rule.SORT_RANGE,
        "queue_owner",
        (250_000, 250_000),
    )


def test_what_the_mysql_backend_says_without_a_round_trip() -> None:
    backend = MySQL()
    note = backend.verify(None, "SELECT 1", None, None).note  # type: ignore[arg-type]
    assert note == "not verified: DDL on MySQL/MariaDB commits the test's transaction"
    # MySQL 8.0.13 and later: functional key parts and invisible indexes.
    for version, extra in (
        ("8.0.12", "NULL, IS_VISIBLE = 'NO'"),
        ("8.0.13", "EXPRESSION, IS_VISIBLE = 'NO'"),
        ("8.4.3", "EXPRESSION, IS_VISIBLE = 'NO'"),
        ("10.11.6-MariaDB", "NULL, IGNORED = 'YES'"),
    ):
        backend.identify(version)
        assert f"SUB_PART, INDEX_TYPE, {extra} FROM" in backend.statistics_query(), version


def test_the_mysql_8_form_of_the_explain_runs_on_mariadb_too(mariadb: Any) -> None:
    # MySQL 8's statement carries its settings as SET_VAR hints, which MariaDB reads as a
    # comment: the same plan comes back, the statement as it was given.
    with mariadb.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS `hinted`")
        cursor.execute("CREATE TABLE `hinted` (`id` bigint PRIMARY KEY, `n` int NOT NULL)")
    sql = "SELECT `hinted`.`id` FROM `hinted` WHERE `hinted`.`n` = 3"
    backend = MySQL()
    backend.identify("8.4.3")
    assert not backend.mariadb
    explained = backend.explain(mariadb, sql, forced=True)
    assert explained.plan["statement"] == sql
    assert explained.plan["server"] == "MySQL 8.4"
    [finding] = analyze_mysql(explained.plan)
    assert (finding.table, finding.rule, finding.filter) == ("hinted", Rule.FILTER, "n = 3")


def _mariadb_connection() -> Any:
    from plans.capture_mysql import connect

    return connect(reachable_mysql(), SCRATCH)


def test_an_unbuffered_result_being_read_makes_the_connection_busy(mariadb: Any) -> None:
    import pymysql.cursors

    conn = _mariadb_connection()
    try:
        cursor = conn.cursor(pymysql.cursors.SSCursor)
        cursor.execute("SELECT 1 UNION ALL SELECT 2")
        cursor.fetchone()
        assert MySQL().busy(conn) == "an unbuffered result is being read"
        cursor.fetchall()
        cursor.close()
        assert MySQL().busy(conn) is None
    finally:
        conn.close()


def test_a_django_connection_to_mariadb(mariadb: Any, django_db_blocker: Any) -> None:
    from django.db.utils import ConnectionHandler

    from sampleproject.dbserver import database_settings

    handler = ConnectionHandler({"default": database_settings(reachable_mysql(), name=SCRATCH)})
    backend = MySQL()
    with django_db_blocker.unblock():
        assert backend.unsupported(handler["default"]) is None
    handler.close_all()
    assert backend.name.startswith("MariaDB 1")
    assert backend.version >= (10, 6)


def test_a_table_named_with_its_schema_is_the_table(sample_db: sqlite3.Connection) -> None:
    # Raw SQL may name the schema (main, temp, an attached database); SQLite's plan then says
    # "SCAN main.upstream_integrationlog", and the statement's conditions are that table's.
    from pytest_indexguard.explain.sqlite import analyze

    sample_db.execute("ATTACH DATABASE ':memory:' AS archive")
    sample_db.execute("CREATE TABLE archive.events (id integer PRIMARY KEY, kind text)")
    for sql, table, condition in (
        ("SELECT id FROM main.upstream_integrationlog WHERE message = 'x'", LOG, "message"),
        ("SELECT id FROM archive.events WHERE kind = 'x'", "events", "kind"),
    ):
        plan = SQLite().explain(sample_db, sql, forced=True).plan
        [finding] = analyze(plan)
        assert (finding.table, finding.rule, finding.filter) == (
            table.strip('"'),
            Rule.FILTER,
            f"{condition} = 'x'",
        )


# -- suggestions: more of the registry, more plans ---------------------------------------------


def test_unmanaged_and_proxy_models_and_their_fields(
    sample_db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unmanaged model (a legacy table) has no migration to hold an index: plain SQL. A proxy
    # shares its table and changes nothing; a model after it is read all the same.
    from django.db import models
    from django.test.utils import isolate_apps

    ten = [(str(n), str(n)) for n in range(10)]
    with isolate_apps("upstream") as registry:

        class Legacy(models.Model):
            code = models.CharField(max_length=10)
            blob = models.BinaryField()
            ten_choices = models.CharField(max_length=2, choices=ten)
            eleven_choices = models.CharField(max_length=2, choices=[*ten, ("x", "x")])

            class Meta:
                app_label = "upstream"
                db_table = "upstream_legacy"
                managed = False

        class LegacyView(Legacy):
            class Meta:
                app_label = "upstream"
                proxy = True

        class Later(models.Model):
            day = models.DateField()

            class Meta:
                app_label = "upstream"
                db_table = "upstream_later"

        monkeypatch.setattr("django.apps.apps", registry)
        index = ModelIndex(str(REPO))
        assert index.kind("upstream_legacy") == ("sql", None)
        assert index.kind("upstream_later") == ("model", None)
        assert not index.indexable("upstream_legacy", "blob")
        assert index.is_low_cardinality("upstream_legacy", "ten_choices")
        assert not index.is_low_cardinality("upstream_legacy", "eleven_choices")
        sample_db.execute(
            'CREATE TABLE "upstream_legacy" ("id" integer PRIMARY KEY, "code" text, "blob" blob, '
            '"ten_choices" text, "eleven_choices" text)'
        )
        sql = 'SELECT "id" FROM "upstream_legacy" WHERE "code" = \'x\' AND "blob" = X\'00\''
        _, [suggestion] = _sqlite_candidates(sample_db, sql, index)
        assert (suggestion.columns, suggestion.model, suggestion.kind) == (
            ("code",),
            "upstream.Legacy",
            "sql",
        )
        assert suggestion.migration_code() == suggestion.sql()
        assert suggestion.describe() == (
            f"{suggestion.sql()} (no Django migration creates this table's indexes)"
        )
        assert Later._meta.db_table == LegacyView._meta.db_table.replace("legacy", "later")


def test_a_field_of_a_few_values_alone_is_never_suggested_even_in_descending_order(
    sample_db: sqlite3.Connection,
) -> None:
    profile = '"upstream_userprofile"'
    finding, found = _sqlite_candidates(
        sample_db, f'SELECT {profile}."id" FROM {profile} ORDER BY {profile}."role" DESC LIMIT 10'
    )
    assert (finding.rule, finding.sort_key) == (Rule.SORT_LIMIT, ('"role" DESC',))
    assert found == []
    # Beside a range, the order of a field of a few values serves nothing (after a range the
    # index holds the rows in the range column's order): the range alone is the candidate.
    rule = '"upstream_alertrule"'
    _, found = _sqlite_candidates(
        sample_db,
        f'SELECT {rule}."id" FROM {rule} WHERE {rule}."threshold" > 5 '
        f'ORDER BY {rule}."comparison" DESC LIMIT 10',
    )
    assert [s.columns for s in found] == [("threshold",)]


def test_an_or_of_the_same_iexact_names_its_expression_once(sample_db: sqlite3.Connection) -> None:
    _, found = _sqlite_candidates(
        sample_db,
        f'SELECT {CUSTOMER}."id" FROM {CUSTOMER} WHERE UPPER({CUSTOMER}."name") = UPPER(\'a\') '
        f"OR UPPER({CUSTOMER}.\"name\") = UPPER('b')",
    )
    assert [s.columns for s in found] == [("upper(name)",)]


def test_mariadb_suggestions_for_a_sorted_range_and_a_join_driven_read() -> None:
    from pytest_indexguard import judge
    from pytest_indexguard.explain.mysql import analyze, schema_of, settle
    from pytest_indexguard.schema import ColumnShape

    catalog = schema_of(_data("mariadb/catalog_initial.json")["statistics"])
    delivery = "upstream_webhookdelivery"
    production = judge.Production(
        rows={delivery: 1_000_000},
        columns={delivery: {"endpoint_id": ColumnShape(3000, 0.0, None, 0.06)}},
        threshold=1000,
    )
    plan = _stored_mariadb("mariadb/delivery_history_initial")
    [ranged] = settle(analyze(plan, sorted_ranges=True), catalog, production)
    assert ranged.rule is Rule.SORT_RANGE
    found = candidates(ranged, ModelIndex(str(REPO)), plan["statement"], catalog, "mysql")
    assert [s.columns for s in found] == [("endpoint_id", "-created_at")]
    # A filter on the table a join reaches: its own column, not the join key.
    plan = _stored_mariadb("scale/mariadb/exclude_across_join")
    [account] = analyze(plan)
    assert (account.rule, account.join_filter) == (
        Rule.FILTER,
        "auth_user.id = rc_account.user_id",
    )
    found = candidates(account, ModelIndex(str(REPO)), plan["statement"], None, "mysql")
    assert [s.columns for s in found] == [("warned_at",)]


# -- SQLite: more of the reader's entry points -------------------------------------------------


def test_analyze_reads_the_rows_of_explain_query_plan_as_the_cursor_returns_them(
    sample_db: sqlite3.Connection,
) -> None:
    from pytest_indexguard.explain.sqlite import Plan, analyze

    sql = MESSAGE_X
    rows = sample_db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    assert len(rows[0]) == 4  # id, parent, notused, detail
    plan = Plan(tuple((row[0], row[1], row[3]) for row in rows), sql)
    assert analyze(rows, sql) == analyze(plan)
    [finding] = analyze(rows, sql)
    assert (finding.table, finding.rule, finding.filter) == (
        "upstream_integrationlog",
        Rule.FILTER,
        "\"message\" = 'x'",
    )


def test_only_a_plan_with_a_full_read_or_a_sort_is_planned_again_without_statistics(
    sample_db: sqlite3.Connection,
) -> None:
    # Statistics for the log table only: the others plan as without them, and only plans that
    # read a table whole (or may) are planned again on the copy.
    _analysed(sample_db)
    backend = SQLite()
    statements = {
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {DELIVERY}."endpoint_id" = 1': False,
        f'SELECT MAX({DELIVERY}."endpoint_id") FROM {DELIVERY}': True,  # a SEARCH with no key
        "SELECT 1": False,  # SCAN CONSTANT ROW
        f'SELECT {DELIVERY}."id", {ENDPOINT}."url" FROM {DELIVERY} LEFT OUTER JOIN {ENDPOINT} '
        f'ON ({DELIVERY}."endpoint_id" = {ENDPOINT}."id") WHERE {DELIVERY}."id" = 1': False,
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} '
        f'WHERE ({DELIVERY}."endpoint_id" = 1 OR {DELIVERY}."id" = 2)': False,  # MULTI-INDEX OR
    }
    for sql, copied in statements.items():
        assert backend.explain(sample_db, sql, forced=True).plan.copy is copied, sql


def test_an_index_that_only_orders_the_rows_does_not_fix_a_filters_full_read(
    sample_db: sqlite3.Connection,
) -> None:
    backend = SQLite()
    sql = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {DELIVERY}."event_type" = \'x\' '
        f'ORDER BY {DELIVERY}."created_at"'
    )
    [finding] = _sqlite_analyze(backend.explain(sample_db, sql, forced=True).plan)
    assert finding.rule is Rule.FILTER

    def fixes(*columns: str) -> bool | None:
        candidate = Suggestion(DELIVERY.strip('"'), columns, None, columns, "probe_idx")
        return backend.verify(sample_db, sql, finding, candidate).fixes

    assert fixes("created_at") is False  # walked whole in its order, the filter on every row
    assert fixes("event_type", "created_at") is True


def test_a_value_sqlite_quotes_itself_is_bound_as_it_quotes_it(
    sample_db: sqlite3.Connection,
) -> None:
    # A text with a NUL character: SQLite's QUOTE() writes what SQLite compares.
    value = "a\x00b"
    expected = sample_db.execute("SELECT QUOTE(?)", [value]).fetchone()[0]
    assert SQLite().bind(sample_db, "SELECT %s", [value]) == f"SELECT {expected}"


def test_a_quoted_cte_name_finds_its_own_select(sample_db: sqlite3.Connection) -> None:
    # django-cte writes WITH "name" AS (...): SQLite's plan says MATERIALIZE name. The CTE's
    # read of a table is judged by the CTE's conditions, not by those of the statement's main
    # SELECT reading the same table.
    from pytest_indexguard.explain.sqlite import analyze

    sql = (
        f'WITH "r" AS MATERIALIZED (SELECT {LOG}."id" FROM {LOG} WHERE {LOG}."message" = \'x\') '
        f'SELECT {LOG}."id" FROM {LOG}, "r" WHERE {LOG}."id" = "r"."id" AND {LOG}."status" = \'y\''
    )
    plan = SQLite().explain(sample_db, sql, forced=True).plan
    assert [detail for _, _, detail in plan.rows][:2] == [
        "MATERIALIZE r",
        "SCAN upstream_integrationlog",
    ]
    [cte_read] = [f for f in analyze(plan) if f.is_violation]
    assert (cte_read.table, cte_read.filter) == ("upstream_integrationlog", "\"message\" = 'x'")


def test_a_sort_key_in_parentheses_names_its_column(sample_db: sqlite3.Connection) -> None:
    finding, found = _sqlite_candidates(
        sample_db, f'SELECT {LOG}."id" FROM {LOG} ORDER BY ({LOG}."end_time") DESC LIMIT 10'
    )
    assert finding.rule is Rule.SORT_LIMIT
    assert [s.columns for s in found] == [("-end_time",)]


# -- SQLite: a literal list of keys that names every row of the referenced table ----------------


def _assessed_with_endpoints(
    raw: sqlite3.Connection, where: str, tail: str = "", *, prefetch: bool = False
) -> tuple[bool, list[tuple[Any, ...]]]:
    """The deliveries read ``WHERE <where>`` judged as the guard judges them on SQLite, three
    endpoints in the test database: whether a list was looked at, and each finding's rule,
    filter, sort keys, what its list covers, whether it is joined and its alias."""
    from pytest_indexguard.explain import Context

    if not raw.execute(f"SELECT 1 FROM {ENDPOINT}").fetchall():
        raw.execute(f"INSERT INTO {CUSTOMER} (\"name\", \"created_at\") VALUES ('a', '2024-01-01')")
    for _ in range(3 - len(raw.execute(f"SELECT 1 FROM {ENDPOINT}").fetchall())):
        raw.execute(
            f'INSERT INTO {ENDPOINT} ("url", "active", "created_at", "customer_id") '
            "VALUES ('u', 1, '2024-01-01', 1)"
        )
    sql = f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {where}{tail}'
    backend = SQLite()
    plan = backend.explain(raw, sql, forced=True).plan
    context = Context(schema=backend.schema(raw), prefetching=lambda: prefetch)
    assessed = backend.assess(raw, sql, plan, context)
    assert assessed.errors == []
    found = [
        (f.rule, f.filter, f.sort_key, f.every_key, f.joined, f.alias) for f in assessed.findings
    ]
    return assessed.keyed, found


THE_TABLE = "upstream_webhookdelivery"
EVERY_ENDPOINT = "upstream_webhookendpoint (all 3 of its rows in the test database)"
A_TYPE = f"{DELIVERY}.\"event_type\" = 'x'"


@pytest.mark.parametrize(
    "keys",
    ["(1, 2, 3)", "('1', '2', '3')", "(3, 2, 1, -1, 4.5)", "( 1 , 2 , 3 )"],
)
def test_a_list_of_every_endpoint_reads_every_delivery(
    sample_db: sqlite3.Connection, keys: str
) -> None:
    # Numbers, quoted strings, keys the table does not hold, spaces inside the parentheses:
    # the list names every endpoint, so the index range keeps no delivery out.
    where = f'({DELIVERY}."endpoint_id" IN {keys} AND {A_TYPE})'
    assert _assessed_with_endpoints(sample_db, where) == (
        True,
        [(Rule.FILTER, "\"event_type\" = 'x'", (), EVERY_ENDPOINT, True, THE_TABLE)],
    )
    # In parentheses of its own, as Django writes a negated or combined filter.
    where = f'(({DELIVERY}."endpoint_id" IN {keys}) AND {A_TYPE})'
    assert _assessed_with_endpoints(sample_db, where)[1][0][3] == EVERY_ENDPOINT


def test_a_list_that_restricts_or_references_nothing(sample_db: sqlite3.Connection) -> None:
    # Two of the three endpoints: asked, and the list restricts.
    some = f'({DELIVERY}."endpoint_id" IN (1, 2) AND {A_TYPE})'
    assert _assessed_with_endpoints(sample_db, some) == (True, [])
    # One key is no list; a list on a column that references nothing is not asked about.
    one = f'({DELIVERY}."endpoint_id" IN (1) AND {A_TYPE})'
    assert _assessed_with_endpoints(sample_db, one) == (False, [])
    status = f"({DELIVERY}.\"status\" IN ('a', 'b') AND {A_TYPE})"
    assert _assessed_with_endpoints(sample_db, status) == (False, [])
    # A prefetch's list is the rows its outer query returned: asked, never every key.
    every = f'({DELIVERY}."endpoint_id" IN (1, 2, 3) AND {A_TYPE})'
    assert _assessed_with_endpoints(sample_db, every, prefetch=True) == (True, [])


def test_a_page_of_every_endpoints_deliveries(sample_db: sqlite3.Connection) -> None:
    every = f'{DELIVERY}."endpoint_id" IN (1, 2, 3)'
    # Sorted by a column no index leads: every delivery is sorted for the page.
    by_created = f' ORDER BY {DELIVERY}."created_at" DESC LIMIT 5'
    assert _assessed_with_endpoints(sample_db, every, by_created) == (
        True,
        [(Rule.SORT_LIMIT, None, ('"created_at" DESC',), EVERY_ENDPOINT, True, THE_TABLE)],
    )
    # By the rowid: production walks it in order and stops at the page.
    by_id = f' ORDER BY {DELIVERY}."id" DESC LIMIT 5'
    assert _assessed_with_endpoints(sample_db, every, by_id) == (True, [])
    # Unless a filter of its own is left: then the walk may read every delivery.
    filtered = f"({every} AND {A_TYPE})"
    assert _assessed_with_endpoints(sample_db, filtered, by_id) == (
        True,
        [(Rule.FILTER, "\"event_type\" = 'x'", ('"id" DESC',), EVERY_ENDPOINT, True, THE_TABLE)],
    )
    # Fed by a sub-query of every endpoint instead, the page sorted by the rowid stands: only a
    # list of every key is read as walked past.
    subquery = f'{DELIVERY}."endpoint_id" IN (SELECT U0."id" FROM {ENDPOINT} U0)'
    assert _assessed_with_endpoints(sample_db, subquery, by_id) == (
        False,
        [(Rule.SORT_LIMIT, None, ('"id" DESC',), None, True, THE_TABLE)],
    )


def test_a_list_that_cannot_be_counted_restricts(sample_db: sqlite3.Connection) -> None:
    # A key referencing a table that is not there: the count fails, the error is kept and the
    # list is judged as restricting.
    from pytest_indexguard.explain import Context

    sample_db.execute(
        'CREATE TABLE "legacy_note" ("id" integer PRIMARY KEY, '
        '"owner_id" integer REFERENCES "legacy_owner" ("id"), "body" text)'
    )
    sample_db.execute('CREATE INDEX "legacy_note_owner" ON "legacy_note" ("owner_id")')
    sql = (
        'SELECT "legacy_note"."id" FROM "legacy_note" WHERE ("legacy_note"."owner_id" IN (1, 2) '
        'AND "legacy_note"."body" = \'x\')'
    )
    backend = SQLite()
    plan = backend.explain(sample_db, sql, forced=True).plan
    schema = backend.schema(sample_db)
    assert schema.references[("legacy_note", "owner_id")] == ("legacy_owner", "id")
    assessed = backend.assess(sample_db, sql, plan, Context(schema=schema))
    assert (assessed.findings, assessed.keyed) == ([], True)
    [error] = assessed.errors
    assert isinstance(error, sqlite3.OperationalError)
    assert str(error) == "no such table: legacy_owner"


# -- suggestions: the seventh pass -------------------------------------------------------------


def test_a_one_to_one_key_is_a_foreign_key_of_the_models() -> None:
    # UserProfile.user is a OneToOneField: a foreign key with a unique constraint, which SQLite's
    # and PostgreSQL's catalogs list with the others (a list of every user's key reads every
    # profile just as a list of every customer's does).
    references = ModelIndex(str(REPO)).references()
    assert references[("upstream_userprofile", "user_id")] == ("auth_user", "id")
    assert references[("upstream_userprofile", "customer_id")] == ("upstream_customer", "id")


def test_a_sort_by_a_place_in_the_select_list_names_no_column() -> None:
    # ORDER BY 3 DESC sorts by the third value selected (the count of flips), which no column of
    # rc_flip gives: the index walked for the order with a filter gets the filter's column only.
    for server in ("pg15", "pg18"):
        found = _suggested(f"judge/{server}/recall_flips_of_every_check.json", "rc_flip")
        assert [s.columns for s in found] == [("created",)], server
    assert sort_column("3 DESC", []) is None
    assert sort_column("3", ["id"]) is None


def test_a_column_named_with_double_quotes_is_found_in_the_filter(
    sample_db: sqlite3.Connection,
) -> None:
    # SQLite writes the name as it is quoted in the statement, its quotes doubled.
    from pytest_indexguard.explain.sqlite import analyze

    sample_db.execute(
        'CREATE TABLE "legacy_odd" ("id" integer PRIMARY KEY, "say ""hi""" text, "since" text)'
    )
    sql = (
        'SELECT "legacy_odd"."id" FROM "legacy_odd" '
        'WHERE "legacy_odd"."say ""hi""" = \'x\' AND "legacy_odd"."since" > \'y\''
    )
    [finding] = analyze(SQLite().explain(sample_db, sql, forced=True).plan)
    assert finding.filter == '("say ""hi""" = \'x\') AND ("since" > \'y\')'
    columns = [row[1] for row in sample_db.execute('PRAGMA table_info("legacy_odd")')]
    assert columns == ["id", 'say "hi"', "since"]
    assert filter_columns(str(finding.filter), columns) == (['say "hi"'], ["since"])


def test_a_page_sorted_by_the_primary_key_backwards_gets_no_index(
    sample_db: sqlite3.Connection,
) -> None:
    # Every endpoint's deliveries by a sub-query, the last five by id: an index leading with the
    # primary key (descending or not) is the table itself, never a suggestion.
    from pytest_indexguard.explain.sqlite import analyze

    backend = SQLite()
    sql = (
        f'SELECT {DELIVERY}."id" FROM {DELIVERY} WHERE {DELIVERY}."endpoint_id" IN '
        f'(SELECT U0."id" FROM {ENDPOINT} U0) ORDER BY {DELIVERY}."id" DESC LIMIT 5'
    )
    [finding] = analyze(backend.explain(sample_db, sql, forced=True).plan)
    assert (finding.rule, finding.sort_key) == (Rule.SORT_LIMIT, ('"id" DESC',))
    assert candidates(finding, ModelIndex(str(REPO)), sql, backend.schema(sample_db)) == []
    # Without the catalog (whose primary key index would be a prefix), the model's key says it.
    assert candidates(finding, ModelIndex(str(REPO)), sql) == []


def test_a_partitions_full_read_gets_an_index_on_its_partitioned_table() -> None:
    # Each year's partition of pt_event read whole for an owner's events of a kind (captured on
    # PostgreSQL 15 with the catalog and each partition's parent): the index goes on the
    # partitioned table, which PostgreSQL cannot index CONCURRENTLY.
    relative = "judge/partitions/pg15/owner_kind_of_every_partition.json"
    data, schema, findings = _pg_findings(relative)
    assert schema is not None
    assert schema.parents == {"pt_event_2024": "pt_event", "pt_event_2025": "pt_event"}
    assert [(f.table, f.rule) for f in findings] == [
        ("pt_event_2024", Rule.FILTER),
        ("pt_event_2025", Rule.FILTER),
    ]
    for finding in findings:
        [suggestion] = candidates(finding, ModelIndex(str(REPO)), data["statement"], schema)
        assert (suggestion.table, suggestion.columns) == ("pt_event", ("owner_id", "kind"))
        assert (suggestion.partitioned, suggestion.kind, suggestion.model) == (True, "sql", None)
        assert suggestion.sql() == (
            "CREATE INDEX event_owner_i_kind_8098_idx ON pt_event (owner_id, kind)"
        )
        assert suggestion.describe().startswith(f"{suggestion.sql()} (a partitioned table:")
        # Without the catalog, the partition is all there is to index.
        [alone] = candidates(finding, ModelIndex(str(REPO)), data["statement"])
        assert (alone.table, alone.partitioned) == (finding.table, False)
        assert alone.sql().startswith("CREATE INDEX CONCURRENTLY")


def test_a_sorted_range_whose_order_no_index_gives_gets_the_filter_first(
    sample_db: sqlite3.Connection,
) -> None:
    # A status's logs (a tenth of a million rows in production) read through the status index,
    # filtered, then sorted at random for five: the index range's column, the filter's equality
    # then its range, before the equality columns alone. No key gives a random order, so no
    # candidate leads with the order.
    from pytest_indexguard import judge
    from pytest_indexguard.explain import Context
    from pytest_indexguard.schema import ColumnShape

    log = "upstream_integrationlog"
    production = judge.Production(
        rows={log: 1_000_000},
        columns={log: {"status": ColumnShape(5, 0.0, None, 0.5)}},
        threshold=1000,
    )
    sql = (
        f'SELECT {LOG}."id" FROM {LOG} WHERE ({LOG}."status" = \'x\' AND {LOG}."message" = \'y\' '
        f"AND {LOG}.\"end_time\" > '2024-01-01') ORDER BY RANDOM() LIMIT 5"
    )
    backend = SQLite()
    plan = backend.explain(sample_db, sql, forced=True).plan
    schema = backend.schema(sample_db)
    assessed = backend.assess(sample_db, sql, plan, Context(schema=schema, production=production))
    [ranged] = assessed.findings
    assert (ranged.rule, ranged.index_condition, ranged.sort_key) == (
        Rule.SORT_RANGE,
        "status=?",
        ("random()",),
    )
    found = candidates(ranged, ModelIndex(str(REPO)), sql, schema, dialect="sqlite")
    # The message is a TextField: kept out beside the status (an index holding it fails on the
    # first message longer than a B-tree entry), and the status alone is the existing index.
    assert [s.columns for s in found] == [("status", "end_time")]


def test_a_descending_sort_by_a_lower_cased_column(sample_db: sqlite3.Connection) -> None:
    sql = f'SELECT {CUSTOMER}."id" FROM {CUSTOMER} ORDER BY LOWER({CUSTOMER}."name") DESC LIMIT 5'
    finding, [suggestion] = _sqlite_candidates(sample_db, sql)
    assert (finding.rule, finding.sort_key) == (Rule.SORT_LIMIT, ('lower("name") DESC',))
    assert (suggestion.columns, suggestion.fields) == (("-lower(name)",), ("-name",))
    assert suggestion.index_code() == (
        'models.Index(Lower("name").desc(), name="customer_name_lower_idx")'
    )
    _applies(sample_db, suggestion)


def test_a_sort_by_arithmetic_on_a_column_names_no_column(sample_db: sqlite3.Connection) -> None:
    # A table without a model: every name of the sort key could be a column, but "n" + 1 is a
    # value no plain index on n orders by.
    sample_db.execute(
        'CREATE TABLE "legacy_ledger" ("id" integer PRIMARY KEY, "label" text, "n" integer)'
    )
    sql = (
        'SELECT "legacy_ledger"."id" FROM "legacy_ledger" WHERE "legacy_ledger"."label" = \'b\' '
        'ORDER BY "legacy_ledger"."n" + 1 DESC LIMIT 5'
    )
    finding, found = _sqlite_candidates(sample_db, sql)
    assert finding.sort_key == ('"n" + 1 DESC',)
    assert [s.columns for s in found] == [("label",)]
    assert sort_column('"n" + 1 DESC', []) is None


def test_names_with_a_dollar_sign(sample_db: sqlite3.Connection) -> None:
    # PostgreSQL and SQLite allow "$" in a name; an index name keeps letters, digits and "_".
    sample_db.execute('CREATE TABLE "legacy_ledger" ("id" integer PRIMARY KEY, "cost$eur" text)')
    sql = (
        'SELECT "legacy_ledger"."id" FROM "legacy_ledger" '
        'WHERE UPPER("legacy_ledger"."cost$eur") = \'A\''
    )
    _, [suggestion] = _sqlite_candidates(sample_db, sql)
    assert suggestion.columns == ("upper(cost$eur)",)
    assert suggestion.name == "ledger_cost_eu_upper_caab_idx"
    _applies(sample_db, suggestion)
    assert index_name("shop_cost$eur", ["price$eur"]) == "cost_eur_price_e_7043_idx"


# -- suggestions: the thirteenth pass ----------------------------------------------------------
# ORs that test one column on every side (suggest.one_column_ors), captured on PostgreSQL 15 by
# capture_judge.py --more: a poller's due rows (next_x < now OR next_x IS NULL) beside a test no
# index serves get one index on that column.


def _more(name: str) -> tuple[dict[str, Any], Schema, ScanFinding]:
    data, schema, [finding] = _pg_findings(f"judge/more/pg15/{name}.json")
    assert schema is not None
    return data, schema, finding


def test_an_or_of_one_column_beside_a_test_no_index_serves_gets_that_column() -> None:
    data, schema, finding = _more("one_column_or_beside_a_test_no_index_serves")
    assert finding.filter == (
        "(((status)::text <> 'draft'::text) AND (((name)::text < 'b'::text) "
        "OR ((name)::text > 'x'::text)))"
    )
    assert one_column_ors(finding.filter, []) == ["name"]
    found = candidates(finding, ModelIndex(str(REPO)), data["statement"], schema)
    assert [s.columns for s in found] == [("name",)]
    assert found[0].sql() == "CREATE INDEX CONCURRENTLY product_name_idx ON shop_product (name)"


def test_an_or_of_an_equality_and_a_range_of_one_column_gets_it_and_not_an_or_of_two() -> None:
    # (name = 'a' OR name > 'x') AND (name < 'c' OR created_at > x): the second OR tests two
    # columns, which one index does not serve.
    data, schema, finding = _more("one_column_or_of_an_equality_and_a_range")
    assert finding.filter is not None
    assert one_column_ors(finding.filter, []) == ["name"]
    assert one_column_ors(finding.filter, ["id", "status", "name", "created_at"]) == ["name"]
    found = candidates(finding, ModelIndex(str(REPO)), data["statement"], schema)
    assert [s.columns for s in found] == [("name",)]


def test_an_or_with_a_side_no_plain_index_serves_gets_nothing() -> None:
    # name < 'b' OR name LIKE '%x%': the pattern's side reads the table whole anyway.
    data, schema, finding = _more("one_column_or_with_a_pattern_side")
    assert finding.filter is not None
    assert one_column_ors(finding.filter, []) == []
    assert candidates(finding, ModelIndex(str(REPO)), data["statement"], schema) == []


def test_an_or_of_three_sides_of_one_column_alone_gets_that_column() -> None:
    # The OR is the whole filter: each side's column is a candidate of its own (filter_columns),
    # and the one column of every side is the same.
    data, schema, finding = _more("one_column_or_of_three_sides")
    assert finding.filter is not None
    assert one_column_ors(finding.filter, []) == ["name"]
    found = candidates(finding, ModelIndex(str(REPO)), data["statement"], schema)
    assert [s.columns for s in found] == [("name",)]


def test_a_range_on_is_null_settled_as_its_filters_gets_the_filters_column() -> None:
    # parent_id IS NULL AND title = 'x' (capture_judge.py --more): judge.null_range makes the
    # range a finding of its filter, the range and the sort left out; the index is the title's,
    # not the range's (parent_id leads an index already), whatever the statement sorts by.
    from pytest_indexguard import judge

    for name, sort in (("roots_of_a_title", ()), ("roots_of_a_title_sorted", ("updated DESC",))):
        data = _data(f"judge/more/pg15/{name}.json")
        schema = _catalog(data)
        [finding] = pg.analyze(data["plan"], None, leading=schema.leading_of, sorted_ranges=True)
        assert finding.sort_key == sort
        [settled] = judge.settle([finding], schema, data["plan"], {})
        assert (settled.rule, settled.index_condition) == (Rule.FILTER, "(parent_id IS NULL)")
        found = candidates(settled, ModelIndex(str(REPO)), data["statement"], schema)
        assert found[0].columns == ("title", *(["-updated"] if sort else []))
        assert all(s.columns[0] != "parent_id" for s in found)
