"""The EXPLAIN protocol on a real PostgreSQL connection, through psycopg 3 and through psycopg2:
what it leaves behind is nothing."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import DRIVERS
from pytest_indexguard.explain import NotExplained, postgresql
from pytest_indexguard.plan import analyze, walk_nodes

# libpq's transaction states, the same numbers in both drivers.
IDLE, INTRANS, INERROR = 0, 2, 3


class Session:
    """A connection of either driver in autocommit, transactions opened with BEGIN as text, so
    that the tests say the same to both."""

    def __init__(self, driver: str) -> None:
        self.driver = driver
        if driver == "psycopg2":
            module = pytest.importorskip(
                "psycopg2", reason="psycopg2 is not installed: pip install psycopg2-binary"
            )
            self.raw: Any = module.connect(os.environ["DATABASE_URL"])
            self.raw.autocommit = True
        else:
            self.raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        self.errors = importlib.import_module(f"{driver}.errors")

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description is not None else []
        finally:
            cursor.close()

    def status(self) -> int:
        if self.driver == "psycopg2":
            return int(self.raw.get_transaction_status())
        return int(self.raw.pgconn.transaction_status)

    def setting(self, name: str) -> object:
        return self.execute(f"SELECT current_setting('{name}')")[0][0]


@pytest.fixture(params=DRIVERS)
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    found = Session(str(request.param))
    try:
        yield found
    finally:
        found.raw.close()


@pytest.fixture
def conn() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        yield connection


# One round trip with psycopg 3; psycopg2 returns only the last result of a string, so in a
# transaction the rollback goes as a second one.
ROUND_TRIPS_IN_A_TRANSACTION = {"psycopg": 1, "psycopg2": 2}


def test_in_a_transaction_settings_and_state_are_restored(session: Session) -> None:
    session.execute("BEGIN")
    session.execute("CREATE TEMP TABLE t (id int primary key, city text)")
    session.execute("SET LOCAL enable_indexscan = off")  # the test's own setting must survive
    explained = postgresql.explain(session.raw, "SELECT * FROM t WHERE city = 'x'", forced=True)
    assert explained.round_trips == ROUND_TRIPS_IN_A_TRANSACTION[session.driver]
    [finding] = analyze(explained.plan)
    assert (finding.table, finding.node_type, finding.disabled) == ("t", "Seq Scan", True)
    assert session.status() == INTRANS
    assert session.setting("enable_seqscan") == "on"
    assert session.setting("enable_hashjoin") == "on"
    assert session.setting("enable_indexscan") == "off"
    session.execute("INSERT INTO t VALUES (1, 'x')")  # the transaction is usable
    session.execute("ROLLBACK")


def test_a_join_the_text_does_not_show_is_planned_with_every_setting(session: Session) -> None:
    """A statement with one FROM and no JOIN goes without the join settings; a comma in its FROM
    list joins all the same, and the plan returned must still be the forced plan."""
    session.execute("BEGIN")
    session.execute("CREATE TEMP TABLE t (id int primary key, city text)")
    session.execute("CREATE TEMP TABLE u (id int primary key, t_id int, note text)")
    session.execute(
        "INSERT INTO t SELECT i, 'c' || i FROM generate_series(1, 2000) i; "
        "INSERT INTO u SELECT i, i % 2000 + 1, 'n' FROM generate_series(1, 4000) i; ANALYZE t, u"
    )
    comma = "SELECT t.city, u.note FROM t, u WHERE u.t_id = t.id"
    without, _ = postgresql._explain(session.raw, comma, postgresql.FORCED_ONE_TABLE)
    assert {n["Node Type"] for n in walk_nodes(without.plan[0]["Plan"])} & {
        "Hash Join",
        "Merge Join",
    }, "the case needs a plan that joins without the join settings"
    forced, _ = postgresql._explain(session.raw, comma, postgresql.FORCED_SETTINGS)
    explained = postgresql.explain(session.raw, comma, forced=True)
    assert explained.plan == forced.plan
    assert explained.round_trips == 2 * ROUND_TRIPS_IN_A_TRANSACTION[session.driver]
    one_table = postgresql.explain(session.raw, "SELECT * FROM u WHERE t_id = 3", forced=True)
    assert one_table.round_trips == ROUND_TRIPS_IN_A_TRANSACTION[session.driver]
    assert session.setting("enable_hashjoin") == "on"
    session.execute("ROLLBACK")


def test_in_autocommit_runs_as_one_implicit_transaction(session: Session) -> None:
    explained = postgresql.explain(
        session.raw, "SELECT * FROM pg_class WHERE relpages = 42", forced=True
    )
    assert explained.round_trips == 1
    assert session.status() == IDLE
    assert session.setting("enable_seqscan") == "on"
    plan = explained.plan[0]["Plan"]
    assert plan.get("Disabled", plan["Startup Cost"] >= 1e10)  # forced mode applied


def test_error_restores_the_transaction(session: Session) -> None:
    session.execute("BEGIN")
    session.execute("CREATE TEMP TABLE t (id bigint primary key)")
    session.execute("INSERT INTO t VALUES (7)")
    with pytest.raises(NotExplained, match="invalid input syntax"):
        postgresql.explain(session.raw, "SELECT * FROM t WHERE id = 'not-a-number'", forced=True)
    assert session.status() == INTRANS
    assert session.setting("enable_seqscan") == "on"
    assert session.execute("SELECT id FROM t") == [(7,)]
    session.execute("ROLLBACK")


def test_error_in_autocommit_leaves_the_connection_idle(session: Session) -> None:
    with pytest.raises(NotExplained, match="does not exist"):
        postgresql.explain(session.raw, "SELECT * FROM no_such_table", forced=True)
    assert session.status() == IDLE
    assert session.execute("SELECT 1") == [(1,)]


def test_aborted_transaction_is_not_touched(session: Session) -> None:
    session.execute("BEGIN")
    with pytest.raises(session.errors.DivisionByZero):
        session.execute("SELECT 1 / 0")
    assert postgresql.can_explain(session.raw) == "the transaction is aborted"
    session.execute("ROLLBACK")
    assert postgresql.can_explain(session.raw) is None


def test_psycopg2_before_its_begin_the_transaction_is_left_to_the_statement() -> None:
    """psycopg2 out of autocommit sends BEGIN before the first statement of a transaction
    (Django's atomic() before its first query): the guard's query must neither start that
    transaction nor leave its settings in it."""
    session = Session("psycopg2")
    try:
        session.raw.autocommit = False
        assert session.status() == IDLE
        explained = postgresql.explain(
            session.raw, "SELECT * FROM pg_class WHERE relpages = 42", forced=True
        )
        assert explained.round_trips == 1
        assert session.status() == IDLE
        assert session.raw.autocommit is False
        # The same for the verification, which creates objects in a transaction of its own.
        plan = postgresql.verify_index(
            session.raw, "SELECT * FROM pg_class WHERE relpages = 42", "pg_class", ["relpages"]
        )
        assert postgresql.PROBE in json.dumps(plan)
        assert (session.status(), session.raw.autocommit) == (IDLE, False)
        assert session.setting("enable_seqscan") == "on"  # this statement sends BEGIN
        assert session.status() == INTRANS
        session.raw.rollback()
    finally:
        session.raw.close()


def test_psycopg2_binds_as_it_executes() -> None:
    session = Session("psycopg2")
    try:
        driver = postgresql.driver_of(session.raw)
        text = driver.bind(session.raw, "SELECT %s, %s, %s", ["it's", 3, None])
        assert text == "SELECT 'it''s', 3, NULL"
        assert session.execute(text) == [("it's", 3, None)]
    finally:
        session.raw.close()


NO_PSYCOPG_3 = """
import os
import sys

import psycopg2

from pytest_indexguard.explain import postgresql

raw = psycopg2.connect(os.environ["DATABASE_URL"])
raw.cursor().execute("SELECT 1")  # in a transaction
assert postgresql.explain(raw, "SELECT 1", forced=True).round_trips == 2
postgresql.schema(raw)
postgresql.table_sizes(raw, ["pg_class"])
found = sorted(name for name in sys.modules if name.split(".")[0] == "psycopg")
assert not found, found
"""


def test_psycopg2_never_imports_psycopg_3() -> None:
    """Not even where psycopg 3 is installed, as here."""
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed: pip install psycopg2-binary")
    command = [sys.executable, "-c", NO_PSYCOPG_3]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


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


def test_table_sizes(session: Session) -> None:
    session.execute("BEGIN")
    session.execute("CREATE TABLE sized (id int, note text)")
    session.execute("INSERT INTO sized SELECT g, repeat('x', 20) FROM generate_series(1, 5000) g")
    session.execute(
        "CREATE TABLE parted (id int, day date) PARTITION BY RANGE (day);"
        "CREATE TABLE parted_a PARTITION OF parted"
        " FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');"
        "CREATE TABLE parted_b PARTITION OF parted"
        " FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');"
        "INSERT INTO parted SELECT g, '2020-01-01'::date + g % 700 FROM generate_series(1, 3000) g"
    )
    estimated = postgresql.table_sizes(session.raw, ["sized", "parted", "missing"])
    # Never analysed: counted, not estimated from pages (which makes one row eighty).
    assert estimated == {"sized": (5000, "counted"), "parted": (3000, "counted")}
    session.execute("ANALYZE sized; ANALYZE parted_a; ANALYZE parted_b")
    analysed = postgresql.table_sizes(session.raw, ["sized", "parted"])
    assert analysed["sized"] == (5000, "pg_class.reltuples")
    assert analysed["parted"] == (3000, "pg_class.reltuples")
    assert session.status() == INTRANS
    session.execute("ROLLBACK")


def test_schema_relations_probes_and_verification(session: Session) -> None:
    """Every other query of the guard, in a transaction and outside one."""
    table = f"catalogued_{os.getpid()}"  # xdist workers share the database
    session.execute(
        f"CREATE TABLE {table} (id int PRIMARY KEY, code text NOT NULL, city text, "
        f"CONSTRAINT {table}_code UNIQUE (code))"
    )
    session.execute(f"CREATE VIEW {table}_view AS SELECT id FROM {table}")
    statement = f"SELECT * FROM {table} WHERE city = 'Oslo'"
    try:
        for in_transaction in (True, False):
            if in_transaction:
                session.execute("BEGIN")
            schema = postgresql.schema(session.raw)
            names = {(i.table, i.name, i.columns, i.unique) for i in schema.indexes}
            assert (table, f"{table}_code", ("code",), True) in names
            assert schema.not_null[table] == {"id", "code"}
            views, partitions, tables = postgresql.views_and_partitions(session.raw, [table])
            assert f"{table}_view" in views
            assert {table, f"{table}_view"} <= tables
            assert partitions == set()
            plans = postgresql.explain_many(
                session.raw, [f"SELECT 1 FROM {table} WHERE code = 'x'", "SELECT nonsense"]
            )
            assert plans[0] is not None
            assert plans[1] is None
            assert f"{table}_code" in json.dumps(plans[0])
            plan = postgresql.verify_index(session.raw, statement, table, ["city"])
            assert postgresql.PROBE in json.dumps(plan)
            assert session.status() == (INTRANS if in_transaction else IDLE)
            assert session.setting("enable_seqscan") == "on"
            # The temporary copy and its index went with the rollback.
            assert session.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'") == [
                (0,)
            ]
            if in_transaction:
                session.execute("ROLLBACK")
    finally:
        session.execute(f"DROP VIEW IF EXISTS {table}_view; DROP TABLE IF EXISTS {table}")


def test_a_trailing_comment_does_not_swallow_the_rollback(session: Session) -> None:
    session.execute("BEGIN")
    session.execute("CREATE TABLE commented (id int, note text)")
    explained = postgresql.explain(
        session.raw, "SELECT id FROM commented WHERE note = 'x' -- a trailing comment", forced=True
    )
    assert explained.round_trips == ROUND_TRIPS_IN_A_TRANSACTION[session.driver]
    # The rollback ran: the planner settings and the savepoint are gone with it.
    assert session.setting("enable_seqscan") == "on"
    with pytest.raises(session.errors.InvalidSavepointSpecification):
        session.execute(f"RELEASE SAVEPOINT {postgresql.SAVEPOINT}")
    session.execute("ROLLBACK")


def test_a_scan_is_not_named_after_an_index_of_its_sub_plan(session: Session) -> None:
    session.execute("BEGIN")
    session.execute(
        "CREATE TABLE grp (id int PRIMARY KEY, name text);"
        "CREATE TABLE perm (id int PRIMARY KEY, object_pk text, kind int);"
        "CREATE INDEX perm_kind ON perm (kind);"
        "INSERT INTO grp VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO perm VALUES (1, '1', 7), (2, '2', 8)"
    )
    plan = postgresql.explain(
        session.raw,
        # get_objects_for_user's shape: an OR of two sub-queries, each a hashed SubPlan.
        "SELECT * FROM grp WHERE (grp.id)::varchar IN (SELECT object_pk FROM perm WHERE kind = 7)"
        " OR (grp.id)::varchar IN (SELECT object_pk FROM perm WHERE kind = 8)",
        forced=True,
    ).plan
    [scan] = [f for f in analyze(plan) if f.table == "grp"]
    assert "perm_kind" in json.dumps(plan)  # the sub-plan reads perm through its index...
    assert scan.index_name is None  # ...which is not the scan of grp
    session.execute("ROLLBACK")


def test_a_connection_of_another_driver_is_named_not_checked() -> None:
    from types import SimpleNamespace

    foreign = type("Connection", (), {"__module__": "pg8000.native"})()
    backend = postgresql.PostgreSQL()
    assert backend.unsupported(SimpleNamespace(connection=foreign)) == "PostgreSQL through pg8000"  # type: ignore[arg-type]
    session = Session("psycopg2")
    try:
        assert backend.unsupported(SimpleNamespace(connection=session.raw)) is None  # type: ignore[arg-type]
    finally:
        session.raw.close()
