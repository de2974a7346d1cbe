"""The EXPLAIN protocol on a real PostgreSQL connection: what it leaves behind is nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import pq

from pytest_indexguard.explain import NotExplained, postgresql
from pytest_indexguard.plan import analyze

INTRANS = pq.TransactionStatus.INTRANS
IDLE = pq.TransactionStatus.IDLE


@pytest.fixture
def conn() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        yield connection


def _setting(conn: psycopg.Connection[tuple[object, ...]], name: str) -> object:
    row = conn.execute("SELECT current_setting(%s)", [name]).fetchone()
    assert row is not None
    return row[0]


def test_in_a_transaction_settings_and_state_are_restored(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("CREATE TEMP TABLE t (id int primary key, city text)")
    conn.execute("SET LOCAL enable_indexscan = off")  # the test's own setting must survive
    explained = postgresql.explain(conn, "SELECT * FROM t WHERE city = 'x'", forced=True)
    assert explained.round_trips == 1
    [finding] = analyze(explained.plan)
    assert (finding.table, finding.node_type, finding.disabled) == ("t", "Seq Scan", True)
    assert conn.pgconn.transaction_status == INTRANS
    assert _setting(conn, "enable_seqscan") == "on"
    assert _setting(conn, "enable_hashjoin") == "on"
    assert _setting(conn, "enable_indexscan") == "off"
    conn.execute("INSERT INTO t VALUES (1, 'x')")  # the transaction is usable
    conn.execute("ROLLBACK")


def test_in_autocommit_runs_as_one_implicit_transaction(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    explained = postgresql.explain(conn, "SELECT * FROM pg_class WHERE relpages = 42", forced=True)
    assert explained.round_trips == 1
    assert conn.pgconn.transaction_status == IDLE
    assert _setting(conn, "enable_seqscan") == "on"
    plan = explained.plan[0]["Plan"]
    assert plan.get("Disabled", plan["Startup Cost"] >= 1e10)  # forced mode applied


def test_error_restores_the_transaction(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("CREATE TEMP TABLE t (id bigint primary key)")
    conn.execute("INSERT INTO t VALUES (7)")
    with pytest.raises(NotExplained, match="invalid input syntax"):
        postgresql.explain(conn, "SELECT * FROM t WHERE id = 'not-a-number'", forced=True)
    assert conn.pgconn.transaction_status == INTRANS
    assert _setting(conn, "enable_seqscan") == "on"
    assert conn.execute("SELECT id FROM t").fetchall() == [(7,)]
    conn.execute("ROLLBACK")


def test_error_in_autocommit_leaves_the_connection_idle(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    with pytest.raises(NotExplained, match="does not exist"):
        postgresql.explain(conn, "SELECT * FROM no_such_table", forced=True)
    assert conn.pgconn.transaction_status == IDLE
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_aborted_transaction_is_not_touched(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute("SELECT 1 / 0")
    assert postgresql.can_explain(conn) == "the transaction is aborted"
    conn.execute("ROLLBACK")
    assert postgresql.can_explain(conn) is None


def _prepared(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM pg_prepared_statements", prepare=False).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_prepared_statements_survive(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("SELECT * FROM pg_class WHERE oid = %s", [1], prepare=True)
    assert _prepared(conn) == 1
    postgresql.explain(conn, "SELECT * FROM pg_class WHERE relname = 'x'", forced=True)
    conn.execute("SELECT * FROM pg_class WHERE oid = %s", [2])
    assert _prepared(conn) == 1
    conn.execute("ROLLBACK")


def test_a_cursor_rollback_to_savepoint_would_drop_them(conn: psycopg.Connection) -> None:
    """Why the exchange bypasses psycopg's cursor: this is what it would cost a project."""
    conn.execute("BEGIN")
    conn.execute("SELECT * FROM pg_class WHERE oid = %s", [1], prepare=True)
    assert _prepared(conn) == 1
    conn.execute("SAVEPOINT s; EXPLAIN SELECT 1; ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s")
    conn.execute("SELECT * FROM pg_class WHERE oid = %s", [2])
    assert _prepared(conn) == 0
    conn.execute("ROLLBACK")


def test_table_sizes(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE sized (id int, note text)")
    conn.execute("INSERT INTO sized SELECT g, repeat('x', 20) FROM generate_series(1, 5000) g")
    conn.execute(
        "CREATE TABLE parted (id int, day date) PARTITION BY RANGE (day);"
        "CREATE TABLE parted_a PARTITION OF parted"
        " FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');"
        "CREATE TABLE parted_b PARTITION OF parted"
        " FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');"
        "INSERT INTO parted SELECT g, '2020-01-01'::date + g % 700 FROM generate_series(1, 3000) g"
    )
    estimated = postgresql.table_sizes(conn, ["sized", "parted", "missing"])
    # Never analysed: counted, not estimated from pages (which makes one row eighty).
    assert estimated["sized"] == (5000, "counted")
    assert "missing" not in estimated
    conn.execute("ANALYZE sized; ANALYZE parted_a; ANALYZE parted_b")
    analysed = postgresql.table_sizes(conn, ["sized", "parted"])
    assert analysed["sized"] == (5000, "pg_class.reltuples")
    assert analysed["parted"] == (3000, "pg_class.reltuples")
    assert conn.pgconn.transaction_status == INTRANS
    conn.execute("ROLLBACK")


def test_a_trailing_comment_does_not_swallow_the_rollback(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE commented (id int, note text)")
    explained = postgresql.explain(
        conn, "SELECT id FROM commented WHERE note = 'x' -- a trailing comment", forced=True
    )
    assert explained.round_trips == 1
    # The rollback ran: the planner settings and the savepoint are gone with it.
    assert _setting(conn, "enable_seqscan") == "on"
    with pytest.raises(psycopg.errors.InvalidSavepointSpecification):
        conn.execute(f"RELEASE SAVEPOINT {postgresql.SAVEPOINT}")
    conn.execute("ROLLBACK")


def test_a_scan_is_not_named_after_an_index_of_its_sub_plan(conn: psycopg.Connection) -> None:
    from pytest_indexguard.plan import analyze

    conn.execute("BEGIN")
    conn.execute(
        "CREATE TABLE grp (id int PRIMARY KEY, name text);"
        "CREATE TABLE perm (id int PRIMARY KEY, object_pk text, kind int);"
        "CREATE INDEX perm_kind ON perm (kind);"
        "INSERT INTO grp VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO perm VALUES (1, '1', 7), (2, '2', 8)"
    )
    plan = postgresql.explain(
        conn,
        # get_objects_for_user's shape: an OR of two sub-queries, each a hashed SubPlan.
        "SELECT * FROM grp WHERE (grp.id)::varchar IN (SELECT object_pk FROM perm WHERE kind = 7)"
        " OR (grp.id)::varchar IN (SELECT object_pk FROM perm WHERE kind = 8)",
        forced=True,
    ).plan
    [scan] = [f for f in analyze(plan) if f.table == "grp"]
    assert "perm_kind" in json.dumps(plan)  # the sub-plan reads perm through its index...
    assert scan.index_name is None  # ...which is not the scan of grp
    conn.execute("ROLLBACK")
