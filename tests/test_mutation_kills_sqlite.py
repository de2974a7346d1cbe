"""Rules of the SQLite plan reader (``explain/sqlite.py``) that no other fast test pinned, found
by the twelfth mutation pass (mutmut 3.8.1, see docs/contributing.md): each test holds one path
of the reader to its exact result.

Every plan is a real one, made here in process by SQLite on the sample app's schema
(``tests/plans/sqlite/schema-full.sql``), as the guard plans it (forced)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pytest_indexguard.explain.sqlite import SQLite, analyze
from pytest_indexguard.model import Rule, ScanFinding

PLANS = Path(__file__).parent / "plans"

DELIVERY = '"upstream_webhookdelivery"'
ENDPOINT = '"upstream_webhookendpoint"'
CUSTOMER = '"upstream_customer"'
LOG = '"upstream_integrationlog"'


def _found(
    raw: sqlite3.Connection, sql: str, **options: bool
) -> tuple[list[str], list[ScanFinding]]:
    """The plan SQLite makes for ``sql`` (rendered) and what the reader finds in it."""
    backend = SQLite()
    plan = backend.explain(raw, sql, forced=True).plan
    return backend.render(plan), analyze(plan, **options)


def test_a_sorted_range_with_a_filter_of_its_own(sample_db: sqlite3.Connection) -> None:
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."endpoint_id" = 1 AND d."attempts" > 3 '
        'ORDER BY d."event_type" LIMIT 10'
    )
    shown, (found,) = _found(sample_db, sql, sorted_ranges=True)
    assert shown == [
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "USE TEMP B-TREE FOR ORDER BY",
    ]
    assert found.sorted_range
    assert (found.node_type, found.rule, found.index_name) == (
        "SEARCH",
        None,
        "webhook_endpoint_hist_idx",
    )
    # The range leaves the attempts to filter, under the alias's name stripped.
    assert found.filter == '"attempts" > 3'
    assert found.alias == "d"
    assert found.sort_key == ('"event_type"',)
    assert found.index_condition == "endpoint_id=?"
    # Without sorted ranges asked for, the same plan is no finding.
    assert _found(sample_db, sql)[1] == []


def test_a_join_condition_under_an_or_feeds_no_search(sample_db: sqlite3.Connection) -> None:
    """The deliveries are searched by the endpoints' ids: their driver is the endpoints' own
    condition, not the customers' that an OR (written in lower case) names beside the key."""
    sql = (
        f'SELECT d."id" FROM {CUSTOMER} c INNER JOIN {ENDPOINT} e ON e."customer_id" = c."id" '
        f'INNER JOIN {DELIVERY} d ON d."endpoint_id" = e."id" WHERE d."attempts" > 3 '
        'AND (d."endpoint_id" = c."id" or e."active") AND c."name" = \'acme\' AND e."url" = \'x\''
    )
    shown, (endpoints, deliveries) = _found(sample_db, sql)
    assert shown[2] == "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)"
    assert endpoints.driver == (("upstream_customer", "\"name\" = 'acme'"),)
    assert (deliveries.table, deliveries.joined, deliveries.filter) == (
        "upstream_webhookdelivery",
        True,
        '"attempts" > 3',
    )
    assert deliveries.join_filter == "endpoint_id=?"
    assert deliveries.driver == (("upstream_webhookendpoint", "\"url\" = 'x'"),)


def test_the_schemas_truths_drop_a_scans_conditions(sample_db: sqlite3.Connection) -> None:
    """``IS NOT NULL`` on a NOT NULL column restricts nothing; ``IS NULL`` on one reads no row."""
    truth = SQLite().schema(sample_db).truth
    every = f'SELECT d."id" FROM {DELIVERY} d WHERE d."created_at" IS NOT NULL AND d."attempts" > 3'
    shown, (found,) = _found(sample_db, every)
    assert shown == ["SCAN d"]
    assert found.filter == '("created_at" IS NOT NULL) AND ("attempts" > 3)'
    plan = SQLite().explain(sample_db, every, forced=True).plan
    [judged] = analyze(plan, truth=truth)
    assert judged.filter == '"attempts" > 3'
    none = f'SELECT d."id" FROM {DELIVERY} d WHERE d."created_at" IS NULL'
    plan = SQLite().explain(sample_db, none, forced=True).plan
    assert [f.filter for f in analyze(plan)] == ['"created_at" IS NULL']
    assert analyze(plan, truth=truth) == []


@pytest.mark.parametrize("quote", ['"', ""])
def test_a_rowid_lookup_given_its_value_by_a_condition_of_its_own(
    sample_db: sqlite3.Connection, quote: str
) -> None:
    """The customer's ``id = 5`` gives its rowid lookup the value, not the join: no joined
    read of the customers, whether Django quotes the column (a bug fixed here: the quoted name
    was blanked before it was looked for) or not."""

    def q(name: str) -> str:
        return f"{quote}{name}{quote}"

    sql = (
        f"SELECT e.{q('id')} FROM {q('upstream_webhookendpoint')} e "
        f"CROSS JOIN {q('upstream_customer')} c WHERE c.{q('id')} = e.{q('customer_id')} "
        f"AND e.{q('url')} = 'x' AND c.{q('id')} = 5 AND c.{q('created_at')} > '2020'"
    )
    shown, found = _found(sample_db, sql)
    assert shown == [
        "SEARCH e USING INDEX upstream_webhookendpoint_customer_id_cd82dc35 (customer_id=?)",
        "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)",
    ]
    assert [f.table for f in found] == ["upstream_webhookendpoint"]
    # Fed by the join alone, the same lookup is a joined read filtered by the customers' date.
    fed = sql.replace(f" AND c.{q('id')} = 5", "")
    shown, found = _found(sample_db, fed)
    assert shown[-1] == "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)"
    [customers] = [f for f in found if f.table == "upstream_customer"]
    assert (customers.joined, customers.join_filter) == (True, "rowid=?")
    assert customers.filter == f"{q('created_at')} > '2020'"
    assert customers.driver == (("upstream_webhookendpoint", f"{q('url')} = 'x'"),)


def test_a_table_valued_function_feeds_no_rowid_lookup(sample_db: sqlite3.Connection) -> None:
    """The customers looked up by the values of ``json_each``: a function's rows, not a
    table's, so the lookups are no joined read of the customers."""
    sql = (
        f"SELECT c.\"id\" FROM json_each('[1, 2]') j CROSS JOIN {CUSTOMER} c "
        'WHERE c."id" = j."value" AND c."created_at" > \'2020\''
    )
    shown, found = _found(sample_db, sql)
    assert shown == [
        "SCAN j VIRTUAL TABLE INDEX 1:",
        "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)",
    ]
    assert found == []


def _judged(raw: sqlite3.Connection, sql: str) -> tuple[list[str], list[ScanFinding]]:
    """As ``_found``, with the schema's truths (``Schema.truth``) as the guard reads them."""
    backend = SQLite()
    plan = backend.explain(raw, sql, forced=True).plan
    return backend.render(plan), analyze(plan, truth=backend.schema(raw).truth)


def test_a_search_fed_by_two_join_conditions_drives_by_what_restricts(
    sample_db: sqlite3.Connection,
) -> None:
    """Both columns of the deliveries' search come from the endpoints, the second written
    first; the endpoints' ``IS NOT NULL`` on a NOT NULL column restricts nothing."""
    sql = (
        f'SELECT d."id" FROM {ENDPOINT} e INNER JOIN {DELIVERY} d '
        'ON (d."created_at" > e."created_at" AND d."endpoint_id" = e."id") '
        'WHERE d."attempts" > 3 AND e."created_at" IS NOT NULL AND e."url" = \'x\''
    )
    shown, (endpoints, deliveries) = _judged(sample_db, sql)
    assert shown == [
        "SCAN e",
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=? AND created_at>?)",
    ]
    assert (endpoints.joined, endpoints.filter) == (False, "\"url\" = 'x'")
    assert (deliveries.joined, deliveries.filter) == (True, '"attempts" > 3')
    assert deliveries.join_filter == "endpoint_id=? AND created_at>?"
    assert deliveries.driver == (("upstream_webhookendpoint", "\"url\" = 'x'"),)


def test_a_search_fed_by_a_sub_query_drives_by_what_restricts_there(
    sample_db: sqlite3.Connection,
) -> None:
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."endpoint_id" IN (SELECT e."id" FROM '
        f'{ENDPOINT} e WHERE e."created_at" IS NOT NULL AND e."url" = \'x\') AND d."attempts" > 3'
    )
    shown, (deliveries, endpoints) = _judged(sample_db, sql)
    assert shown == [
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "LIST SUBQUERY 1",
        "  -> SCAN e",
    ]
    assert (deliveries.joined, deliveries.filter, deliveries.join_filter) == (
        True,
        '"attempts" > 3',
        "endpoint_id=?",
    )
    assert deliveries.driver == (("upstream_webhookendpoint", "\"url\" = 'x'"),)
    assert (endpoints.table, endpoints.filter) == ("upstream_webhookendpoint", "\"url\" = 'x'")


def test_a_condition_on_the_searched_column_is_no_filter_left(
    sample_db: sqlite3.Connection,
) -> None:
    """The deliveries' own ``endpoint_id > 0`` names the column their search takes from the
    endpoints (written with the alias): only the attempts are left to filter."""
    sql = (
        f'SELECT d."id" FROM {ENDPOINT} e CROSS JOIN {DELIVERY} d WHERE d."endpoint_id" = e."id" '
        'AND d."endpoint_id" > 0 AND d."attempts" > 3 AND e."url" = \'x\''
    )
    shown, [deliveries] = _found(sample_db, sql)
    assert shown == [
        "SEARCH e USING INTEGER PRIMARY KEY (rowid>?)",
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
    ]
    assert (deliveries.table, deliveries.joined) == ("upstream_webhookdelivery", True)
    assert (deliveries.filter, deliveries.join_filter) == ('"attempts" > 3', "endpoint_id=?")


def test_a_skip_scan_is_planned_again_without_statistics(sample_db: sqlite3.Connection) -> None:
    """Statistics saying the index's first column has few values make SQLite skip through them
    (``ANY(status)``), which may read the whole index: the guard plans it again on the copy
    without statistics, where it is a full read."""
    sample_db.execute("ANALYZE sqlite_schema")
    sample_db.execute(
        "INSERT INTO sqlite_stat1 VALUES "
        "('upstream_integrationlog', 'intlog_status_time_idx', '10000 5000 1')"
    )
    sample_db.execute("ANALYZE sqlite_schema")
    sql = f'SELECT l."id" FROM {LOG} l WHERE l."start_time" > \'2020\''
    assert [row[-1] for row in sample_db.execute(f"EXPLAIN QUERY PLAN {sql}")] == [
        "SEARCH l USING COVERING INDEX intlog_status_time_idx (ANY(status) AND start_time>?)"
    ]
    explained = SQLite().explain(sample_db, sql, forced=True)
    assert (explained.plan.copy, explained.round_trips) == (True, 3)
    shown, [found] = _found(sample_db, sql)
    assert shown == ["SCAN l USING COVERING INDEX intlog_conn_time_idx"]
    assert (found.table, found.node_type, found.filter) == (
        "upstream_integrationlog",
        "SCAN",
        "\"start_time\" > '2020'",
    )


def test_a_search_fed_by_a_derived_table_drives_by_its_condition(
    sample_db: sqlite3.Connection,
) -> None:
    """The deliveries searched by the ids of a derived table (a co-routine): the driver's
    condition belongs to no table of the catalog, named ``""``."""
    sql = (
        f'SELECT d."id" FROM (SELECT e."id", e."url" FROM {ENDPOINT} e LIMIT 5) s '
        f'CROSS JOIN {DELIVERY} d WHERE d."endpoint_id" = s."id" AND s."url" = \'x\' '
        'AND d."attempts" > 3'
    )
    shown, found = _found(sample_db, sql)
    assert shown == [
        "CO-ROUTINE s",
        "  -> SCAN e",
        "SCAN s",
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
    ]
    [deliveries] = [f for f in found if f.table == "upstream_webhookdelivery"]
    assert (deliveries.joined, deliveries.filter, deliveries.join_filter) == (
        True,
        '"attempts" > 3',
        "endpoint_id=?",
    )
    assert deliveries.driver == (("", "\"url\" = 'x'"),)


def test_comments_in_an_indexs_sql_hide_nothing(sample_db: sqlite3.Connection) -> None:
    """The keys of an index written with comments, one of them ending in a parenthesis: the
    expression key is read as written, the column key by its name."""
    sample_db.execute(
        'CREATE INDEX "customer_lower_idx" ON "upstream_customer" '
        '(lower("name"), -- by name, then (\n "created_at" /* newest ( */)'
    )
    [index] = [i for i in SQLite().schema(sample_db).indexes if i.name == "customer_lower_idx"]
    assert index.columns == ('lower("name")', "created_at")
    assert index.keys == (None, "created_at")
    assert (index.table, index.unique, index.partial) == ("upstream_customer", False, False)


def test_a_delete_by_a_sorted_page_of_a_sub_query(sample_db: sqlite3.Connection) -> None:
    """A DELETE of the rows a sorted page of a sub-query picks: the deletion's own lookup by
    rowid is no finding, the page's sorted range of the retry index is."""
    sql = (
        f'DELETE FROM {DELIVERY} WHERE {DELIVERY}."attempts" > 3 AND {DELIVERY}."id" IN '
        f'(SELECT U0."id" FROM {DELIVERY} U0 WHERE U0."status" = \'x\' '
        'ORDER BY U0."created_at" LIMIT 5)'
    )
    shown, [found] = _found(sample_db, sql, sorted_ranges=True)
    assert shown == [
        "SEARCH upstream_webhookdelivery USING INTEGER PRIMARY KEY (rowid=?)",
        "LIST SUBQUERY 1",
        "  -> SEARCH U0 USING INDEX webhook_retry_idx (status=?)",
        "  -> USE TEMP B-TREE FOR ORDER BY",
    ]
    assert (found.alias, found.sorted_range, found.index_condition) == ("U0", True, "status=?")
    assert (found.sort_key, found.filter) == (('"created_at"',), None)


def test_a_join_to_a_table_restricted_by_nothing_is_no_join_filter(
    sample_db: sqlite3.Connection,
) -> None:
    """The endpoints' ``IS NOT NULL`` on a NOT NULL column restricts nothing: with the
    schema's truths, the deliveries' scan has no join condition restricting it."""
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d INNER JOIN {ENDPOINT} e ON d."endpoint_id" = e."id" '
        'WHERE e."created_at" IS NOT NULL AND d."attempts" > 3'
    )
    shown, [deliveries] = _judged(sample_db, sql)
    assert shown == ["SCAN d", "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"]
    assert (deliveries.table, deliveries.filter) == ("upstream_webhookdelivery", '"attempts" > 3')
    assert deliveries.join_filter is None
    _, found = _found(sample_db, sql)
    assert [(f.table, f.join_filter) for f in found] == [
        ("upstream_webhookdelivery", 'd."endpoint_id" = e."id"'),
        ("upstream_webhookendpoint", "rowid=?"),
    ]


def test_the_rows_of_a_nested_plan_as_the_cursor_returns_them(
    sample_db: sqlite3.Connection,
) -> None:
    """``analyze`` reads the four columns of ``EXPLAIN QUERY PLAN`` (id, parent, unused,
    detail) as it reads a ``Plan``: the sub-query's rows under their header."""
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."attempts" > 3 AND d."endpoint_id" IN '
        f'(SELECT e."id" FROM {ENDPOINT} e WHERE e."url" = \'x\' ORDER BY e."created_at" LIMIT 5)'
    )
    rows = sample_db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    assert [row[-1] for row in rows] == [
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "LIST SUBQUERY 1",
        "SCAN e",
        "USE TEMP B-TREE FOR ORDER BY",
    ]
    assert rows[2][1] == rows[1][0] != 0
    found = analyze(rows, sql)
    assert [(f.table, f.alias, f.filter, f.sort_key) for f in found] == [
        ("upstream_webhookdelivery", "d", '"attempts" > 3', ()),
        ("upstream_webhookendpoint", "e", "\"url\" = 'x'", ('"created_at"',)),
    ]
    assert found == analyze(SQLite().explain(sample_db, sql, forced=True).plan)


def test_a_search_fed_by_two_sub_queries_drives_by_both(sample_db: sqlite3.Connection) -> None:
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."endpoint_id" IN (SELECT e."id" FROM '
        f'{ENDPOINT} e WHERE e."url" = \'x\') AND d."endpoint_id" IN (SELECT f."id" FROM '
        f'{ENDPOINT} f WHERE f."active") AND d."attempts" > 3'
    )
    shown, found = _found(sample_db, sql)
    assert shown == [
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "LIST SUBQUERY 1",
        "  -> SCAN e",
        "LIST SUBQUERY 2",
        "  -> SCAN f",
    ]
    deliveries = found[0]
    assert (deliveries.joined, deliveries.filter) == (True, '"attempts" > 3')
    assert deliveries.driver == (
        ("upstream_webhookendpoint", "\"url\" = 'x'"),
        ("upstream_webhookendpoint", '"active"'),
    )
    assert [(f.alias, f.filter) for f in found[1:]] == [("e", "\"url\" = 'x'"), ("f", '"active"')]


def test_an_index_fixes_its_tables_sorted_range_beside_another_tables_violation(
    sample_db: sqlite3.Connection,
) -> None:
    """The candidate index serves the deliveries' sorted range; the log's full read of the
    join is another table's, left for its own candidate."""
    from dataclasses import replace

    from pytest_indexguard.explain.sqlite import PROBE, fixes
    from pytest_indexguard.model import Rule

    sql = (
        f'SELECT d."id" FROM {DELIVERY} d INNER JOIN {LOG} l ON l."message" = d."event_type" '
        'WHERE d."status" = \'x\' ORDER BY d."created_at" LIMIT 5'
    )
    shown, (ranged, _) = _found(sample_db, sql, sorted_ranges=True)
    assert shown == [
        "SEARCH d USING INDEX webhook_retry_idx (status=?)",
        "SCAN l",
        "USE TEMP B-TREE FOR ORDER BY",
    ]
    assert (ranged.table, ranged.sorted_range) == ("upstream_webhookdelivery", True)
    sample_db.execute(f'CREATE INDEX "{PROBE}" ON {DELIVERY} ("status", "created_at")')
    plan = SQLite().explain(sample_db, sql, forced=True).plan
    [log] = analyze(plan, sorted_ranges=True)
    assert (log.table, log.is_violation) == ("upstream_integrationlog", True)
    assert fixes(plan, replace(ranged, rule=Rule.SORT_RANGE))


# The fourteenth pass (docs/contributing.md): statements the twelfth pass left unplanned.


def test_an_insert_of_a_compound_reads_both_parts(sample_db: sqlite3.Connection) -> None:
    """An INSERT ... SELECT of a UNION ALL: the SELECT's parts are cut at the operator, each
    with its own filter, the INSERT's head left out."""
    sql = (
        f'INSERT INTO {CUSTOMER} ("name", "created_at") SELECT e."url", e."created_at" '
        f'FROM {ENDPOINT} e WHERE e."active" UNION ALL SELECT c."name", c."created_at" '
        f"FROM {CUSTOMER} c WHERE c.\"created_at\" > 'x'"
    )
    shown, found = _found(sample_db, sql)
    assert shown == [
        "COMPOUND QUERY",
        "  -> LEFT-MOST SUBQUERY",
        "    -> SCAN e",
        "  -> UNION ALL",
        "    -> SCAN c",
    ]
    assert [(f.table, f.alias, f.filter) for f in found] == [
        ("upstream_webhookendpoint", "e", '"active"'),
        ("upstream_customer", "c", "\"created_at\" > 'x'"),
    ]


def test_an_upserts_own_where_is_no_condition_of_the_select(
    sample_db: sqlite3.Connection,
) -> None:
    """``ON CONFLICT ... DO UPDATE ... WHERE e."created_at" > ...`` tests the row the INSERT
    would replace (the target, here under the same alias as the SELECT's table): the SELECT
    reads every endpoint, with no filter of its own."""
    sql = (
        f'INSERT INTO {CUSTOMER} AS e ("name", "created_at") SELECT e."url", e."created_at" '
        f'FROM {ENDPOINT} e ORDER BY e."id" ON CONFLICT("name") DO UPDATE SET '
        '"created_at" = excluded."created_at" WHERE e."created_at" > \'2020\''
    )
    shown, [found] = _found(sample_db, sql)
    assert shown == ["SCAN e"]
    assert (found.table, found.alias, found.node_type) == ("upstream_webhookendpoint", "e", "SCAN")
    assert (found.filter, found.rule) == (None, None)


@pytest.mark.parametrize("verb", ["INSERT", "REPLACE"])
def test_an_insert_of_values_reads_its_scalar_sub_query(
    sample_db: sqlite3.Connection, verb: str
) -> None:
    """An INSERT (or REPLACE) of VALUES has no SELECT of its own; the sub-query in its values
    is read as the plan numbers it."""
    sql = (
        f'{verb} INTO {CUSTOMER} ("name", "created_at") VALUES '
        f'((SELECT e."url" FROM {ENDPOINT} e WHERE e."active"), \'x\')'
    )
    shown, [found] = _found(sample_db, sql)
    assert shown == ["SCALAR SUBQUERY 1", "  -> SCAN e"]
    assert (found.table, found.alias, found.filter) == ("upstream_webhookendpoint", "e", '"active"')


def test_a_sub_query_beside_a_compound_at_its_depth(sample_db: sqlite3.Connection) -> None:
    """Two sub-queries side by side, the second a UNION: the first is not cut at the second's
    operator, and each keeps its number."""
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."endpoint_id" IN (SELECT e."id" FROM '
        f'{ENDPOINT} e WHERE e."active") AND d."status" IN (SELECT c."name" FROM {CUSTOMER} c '
        f'WHERE c."created_at" > \'a\' UNION SELECT e2."url" FROM {ENDPOINT} e2 WHERE e2."active")'
    )
    shown, found = _found(sample_db, sql)
    assert shown == [
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "LIST SUBQUERY 1",
        "  -> SCAN e",
        "LIST SUBQUERY 3",
        "  -> COMPOUND QUERY",
        "    -> LEFT-MOST SUBQUERY",
        "      -> SCAN c",
        "    -> UNION USING TEMP B-TREE",
        "      -> SCAN e2",
    ]
    deliveries, endpoints, customers, others = found
    assert (deliveries.joined, deliveries.join_filter) == (True, "endpoint_id=?")
    # PostgreSQL's spelling of ``col IN (sub-query)``: the compound's number, its last part's.
    assert deliveries.filter == "(SubPlan 3)"
    assert deliveries.driver == (("upstream_webhookendpoint", '"active"'),)
    assert [(f.alias, f.filter) for f in (endpoints, customers, others)] == [
        ("e", '"active"'),
        ("c", "\"created_at\" > 'a'"),
        ("e2", '"active"'),
    ]


def test_a_sub_query_under_a_multi_index_or_is_read(sample_db: sqlite3.Connection) -> None:
    """The endpoints scanned for the list one side of a MULTI-INDEX OR searches by: the list
    sub-query is a SELECT of its own, not a search of the OR."""
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."endpoint_id" = 1 OR d."status" IN '
        f'(SELECT e."url" FROM {ENDPOINT} e WHERE e."active")'
    )
    shown, [found] = _found(sample_db, sql)
    assert shown == [
        "MULTI-INDEX OR",
        "  -> INDEX 1",
        "    -> SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "  -> INDEX 2",
        "    -> LIST SUBQUERY 1",
        "      -> SCAN e",
        "    -> SEARCH d USING INDEX webhook_retry_idx (status=?)",
    ]
    assert (found.table, found.alias, found.filter) == ("upstream_webhookendpoint", "e", '"active"')


def test_an_or_inside_a_join_condition_feeds_no_search(sample_db: sqlite3.Connection) -> None:
    """``NOT (d.endpoint_id = c.id OR e.active)`` names the deliveries' key beside the
    customers, inside parentheses: it gives the search no values, so the customers' own
    condition is no driver of it (the endpoints' is)."""
    sql = (
        f'SELECT d."id" FROM {CUSTOMER} c INNER JOIN {ENDPOINT} e ON e."customer_id" = c."id" '
        f'INNER JOIN {DELIVERY} d ON d."endpoint_id" = e."id" WHERE d."attempts" > 3 '
        'AND NOT (d."endpoint_id" = c."id" OR e."active") AND c."name" = \'acme\' '
        "AND e.\"url\" = 'x'"
    )
    shown, (endpoints, deliveries) = _found(sample_db, sql)
    assert shown[2] == "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)"
    assert endpoints.driver == (("upstream_customer", "\"name\" = 'acme'"),)
    assert (deliveries.joined, deliveries.filter, deliveries.join_filter) == (
        True,
        '"attempts" > 3',
        "endpoint_id=?",
    )
    assert deliveries.driver == (("upstream_webhookendpoint", "\"url\" = 'x'"),)


def test_a_compound_inside_a_sub_query_reads_its_own_parts(
    sample_db: sqlite3.Connection,
) -> None:
    """A UNION inside an IN list, its first part under the outer query's alias: the part's
    scan takes its own filter, not the outer deliveries'."""
    sql = (
        f'SELECT d."id" FROM {DELIVERY} d WHERE d."attempts" > 5 AND d."endpoint_id" IN '
        f'(SELECT d."endpoint_id" FROM {DELIVERY} d WHERE d."last_error" = \'x\' '
        f'UNION SELECT e."id" FROM {ENDPOINT} e WHERE e."active")'
    )
    shown, (outer, inner, endpoints) = _found(sample_db, sql)
    assert shown == [
        "SEARCH d USING INDEX webhook_endpoint_hist_idx (endpoint_id=?)",
        "LIST SUBQUERY 2",
        "  -> COMPOUND QUERY",
        "    -> LEFT-MOST SUBQUERY",
        "      -> SCAN d",
        "    -> UNION USING TEMP B-TREE",
        "      -> SCAN e",
    ]
    assert (outer.node_type, outer.filter, outer.joined) == ("SEARCH", '"attempts" > 5', True)
    assert outer.driver == (("upstream_webhookendpoint", '"active"'),)
    assert (inner.node_type, inner.alias, inner.filter) == ("SCAN", "d", "\"last_error\" = 'x'")
    assert (endpoints.alias, endpoints.filter) == ("e", '"active"')


def test_comments_before_the_separators_of_an_indexs_keys(sample_db: sqlite3.Connection) -> None:
    """Comments before the commas of an index's expression keys, holding commas and
    parentheses of their own: the keys are cut at the real commas (a comment blanked to its
    own length), each read as written."""
    sample_db.execute(
        'CREATE INDEX "customer_exprs_idx" ON "upstream_customer" '
        '(lower("name") /* by (name, "id" */, -- then, ("id"\n upper("created_at"))'
    )
    [index] = [i for i in SQLite().schema(sample_db).indexes if i.name == "customer_exprs_idx"]
    assert index.columns == (
        'lower("name") /* by (name, "id" */',
        '-- then, ("id"\n upper("created_at")',
    )
    assert index.keys == (None, None)


def test_an_or_of_two_tables_inside_parentheses_joins_a_scan(
    sample_db: sqlite3.Connection,
) -> None:
    """``NOT (d.status = e.url OR e.active)`` names both tables inside parentheses: a join
    condition of the deliveries' scan beside the join key, not an OR across tables of its own."""
    sql = (
        f'SELECT d."id" FROM {ENDPOINT} e INNER JOIN {DELIVERY} d ON d."attempts" = '
        'e."customer_id" WHERE NOT (d."status" = e."url" OR e."active") AND e."url" = \'x\''
    )
    shown, (deliveries, endpoints) = _found(sample_db, sql)
    assert shown == [
        "SCAN d",
        "SEARCH e USING INDEX upstream_webhookendpoint_customer_id_cd82dc35 (customer_id=?)",
    ]
    assert (deliveries.node_type, deliveries.rule, deliveries.filter) == ("SCAN", Rule.JOIN, None)
    assert deliveries.join_filter == (
        '(d."attempts" = e."customer_id") AND (NOT (d."status" = e."url" OR e."active"))'
    )
    assert (endpoints.rule, endpoints.filter, endpoints.joined) == (
        Rule.FILTER,
        "\"url\" = 'x'",
        True,
    )
