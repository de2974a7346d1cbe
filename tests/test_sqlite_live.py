"""The SQLite backend on real sqlite3 databases: plans, forcing, verification, the schema, table
sizes, binding, and that none of it touches the test's transaction or its open cursors.

The databases are files in a temporary directory with the sample app's schemas, as
``tests/plans/capture_sqlite.py`` stored them (``schema-full.sql``, ``schema-bare.sql``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pytest_indexguard import explain as boundary
from pytest_indexguard.explain import Context
from pytest_indexguard.explain.sqlite import SQLite, analyze
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.suggest import Suggestion

PLANS = Path(__file__).parent / "plans" / "sqlite"
LOG = "upstream_integrationlog"
STORED = sorted(PLANS.glob("*.json"))


def database(path: Path, schema: str) -> sqlite3.Connection:
    """A sqlite3 connection as Django makes them: autocommit (BEGIN sent by hand), Django's SQL
    functions registered."""
    from django.db.backends.sqlite3._functions import register

    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    register(raw)
    script = (PLANS / f"schema-{schema}.sql").read_text(encoding="utf-8")
    raw.executescript(f"BEGIN;\n{script}COMMIT;")
    return raw


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    raw = database(tmp_path / "bare.sqlite3", "bare")
    yield raw
    raw.close()


@pytest.fixture
def full(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    raw = database(tmp_path / "full.sqlite3", "full")
    yield raw
    raw.close()


def stored(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def rows_of(raw: sqlite3.Connection, text: str) -> list[tuple[int, int, str]]:
    return [(r[0], r[1], r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {text}").fetchall()]


@pytest.mark.parametrize("path", STORED, ids=[p.stem for p in STORED])
def test_sqlite_still_plans_the_stored_scenarios_so(path: Path, tmp_path: Path) -> None:
    data = stored(path)
    if data["sqlite_version"] != sqlite3.sqlite_version:
        pytest.skip(
            f"captured from SQLite {data['sqlite_version']}, this is {sqlite3.sqlite_version}"
        )
    raw = database(tmp_path / "db.sqlite3", data["schema"])
    raw.execute("BEGIN")
    for statement in data["setup"]:
        raw.execute(statement)
    explained = SQLite().explain(raw, data["text"], forced=data["mode"] == "forced")
    assert explained.plan.copy == data["planned_on_copy"]
    assert [list(row) for row in explained.plan.rows] == [[r[0], r[1], r[3]] for r in data["rows"]]
    raw.execute("ROLLBACK")


@pytest.mark.parametrize("path", STORED, ids=[p.stem for p in STORED])
def test_the_copy_of_the_schema_plans_like_the_database_without_statistics(
    path: Path, tmp_path: Path
) -> None:
    data = stored(path)
    if "ANALYZE" in data["setup"]:
        pytest.skip("planned with statistics: the copy has none, by design")
    raw = database(tmp_path / "db.sqlite3", data["schema"])
    raw.execute("BEGIN")
    for statement in data["setup"]:
        raw.execute(statement)
    backend = SQLite()
    assert backend._copy(raw).explain(data["text"]) == tuple(rows_of(raw, data["text"]))
    raw.execute("ROLLBACK")


# -- forcing -----------------------------------------------------------------------------------

STATEMENT = f'SELECT * FROM "{LOG}" WHERE "{LOG}"."connection_id" IN (2, 3)'


def fill(raw: sqlite3.Connection, rows: int) -> None:
    raw.execute(
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
        f"INSERT INTO \"{LOG}\" SELECT i, 'success', '2026-01-01', NULL, '', i FROM n"
    )


def test_without_statistics_the_plan_does_not_depend_on_the_rows(full: sqlite3.Connection) -> None:
    empty = rows_of(full, STATEMENT)
    fill(full, 5000)
    assert rows_of(full, STATEMENT) == empty
    assert empty[0][2].startswith(f"SEARCH {LOG} USING INDEX")


def test_forced_plans_an_analysed_tiny_table_without_its_statistics(
    full: sqlite3.Connection,
) -> None:
    fill(full, 3)
    full.execute("ANALYZE")
    statistics = full.execute("SELECT * FROM sqlite_stat1 ORDER BY 1, 2").fetchall()
    backend = SQLite()

    natural = backend.explain(full, STATEMENT, forced=False).plan
    forced = backend.explain(full, STATEMENT, forced=True).plan

    assert natural.rows[0][2] == f"SCAN {LOG}"
    assert not natural.copy
    assert forced.copy
    assert forced.rows[0][2].startswith(f"SEARCH {LOG} USING INDEX")
    assert full.execute("SELECT * FROM sqlite_stat1 ORDER BY 1, 2").fetchall() == statistics
    # The database itself still plans with its statistics.
    assert rows_of(full, STATEMENT)[0][2] == f"SCAN {LOG}"


def test_the_copy_follows_the_schema_as_it_changes(full: sqlite3.Connection) -> None:
    fill(full, 3)
    full.execute("ANALYZE")
    backend = SQLite()
    text = f'SELECT * FROM "{LOG}" WHERE "message" = \'x\''
    assert backend.explain(full, text, forced=True).plan.rows[0][2] == f"SCAN {LOG}"
    full.execute("BEGIN")
    full.execute(f'CREATE INDEX "log_message" ON "{LOG}" ("message")')
    assert "log_message" in backend.explain(full, text, forced=True).plan.rows[0][2]
    full.execute("ROLLBACK")
    assert backend.explain(full, text, forced=True).plan.rows[0][2] == f"SCAN {LOG}"


# -- verification -----------------------------------------------------------------------------


def suggestion(table: str, *columns: str) -> Suggestion:
    return Suggestion(table=table, columns=columns, model=None, fields=columns, name="idx")


def finding_of(raw: sqlite3.Connection, text: str, **options: Any) -> ScanFinding:
    plan = SQLite().explain(raw, text, forced=True).plan
    return next(f for f in analyze(plan, **options) if f.is_violation or f.sorted_range)


FAILED_LOGS = (
    f'SELECT "{LOG}"."id" FROM "{LOG}" WHERE "{LOG}"."status" = \'failed\' '
    f'ORDER BY "{LOG}"."start_time" DESC LIMIT 50'
)
RECENT_LOGS = (
    f'SELECT "{LOG}"."id" FROM "{LOG}" WHERE "{LOG}"."connection_id" = 1 '
    f'ORDER BY "{LOG}"."start_time" DESC LIMIT 20'
)


def test_verify_plans_with_the_candidate_index(bare: sqlite3.Connection) -> None:
    backend = SQLite()
    finding = finding_of(bare, FAILED_LOGS)
    assert finding.rule is Rule.FILTER

    assert backend.verify(bare, FAILED_LOGS, finding, suggestion(LOG, "status", "-start_time")) == (
        boundary.Verification(fixes=True, round_trips=1)
    )
    assert not backend.verify(bare, FAILED_LOGS, finding, suggestion(LOG, "message")).fixes
    failed = backend.verify(bare, FAILED_LOGS, finding, suggestion(LOG, "no_such_column"))
    assert failed.fixes is None
    assert failed.note == "not verified: no such column: no_such_column"
    # Nothing of it is left in the database.
    assert "indexguard_probe" not in str(bare.execute("SELECT sql FROM sqlite_master").fetchall())


def test_verify_a_sorted_range(bare: sqlite3.Connection) -> None:
    backend = SQLite()
    finding = finding_of(bare, RECENT_LOGS, sorted_ranges=True)
    assert finding.sorted_range
    ranged = ScanFinding(**{**finding.__dict__, "rule": Rule.SORT_RANGE})
    assert backend.verify(
        bare, RECENT_LOGS, ranged, suggestion(LOG, "connection_id", "-start_time")
    ).fixes
    assert not backend.verify(bare, RECENT_LOGS, ranged, suggestion(LOG, "connection_id")).fixes


def test_verify_says_sqlite_cannot_serve_its_case_insensitive_like(
    full: sqlite3.Connection,
) -> None:
    text = 'SELECT "id" FROM "upstream_customer" WHERE "name" LIKE \'Ac%\' ESCAPE \'\\\''
    finding = finding_of(full, text)
    verdict = SQLite().verify(full, text, finding, suggestion("upstream_customer", "name"))
    assert verdict.fixes is False


# -- the schema and the sizes -------------------------------------------------------------------


def test_schema_reads_every_index(full: sqlite3.Connection) -> None:
    full.execute("BEGIN")
    full.execute(f'CREATE INDEX "log_failed" ON "{LOG}" ("start_time") WHERE "status" = \'failed\'')
    full.execute('CREATE INDEX "customer_lower" ON "upstream_customer" (LOWER("name"), "id" DESC)')
    schema = SQLite().schema(full)
    full.execute("ROLLBACK")

    by_name = {index.name: index for index in schema.indexes}
    retry = by_name["webhook_retry_idx"]
    assert (retry.table, retry.columns, retry.keys) == (
        "upstream_webhookdelivery",
        ("status", "next_attempt_at"),
        ("status", "next_attempt_at"),
    )
    assert by_name["webhook_endpoint_hist_idx"].columns == ("endpoint_id", "created_at DESC")
    assert by_name["upstream_alertrule_customer_id_name_00c2bf83_uniq"].unique
    rowid = by_name[f"{LOG}.rowid"]
    assert (rowid.primary, rowid.unique, rowid.keys) == (True, True, ("id",))
    assert schema.primary_key(LOG) == ("id",)
    partial = by_name["log_failed"]
    assert partial.partial
    assert partial.predicate == "\"status\" = 'failed'"
    expression = by_name["customer_lower"]
    assert expression.columns == ('LOWER("name")', "id DESC")
    assert expression.keys == (None, "id")
    # A unique constraint's automatic index has no SQL but is read all the same.
    assert by_name["sqlite_autoindex_upstream_customer_1"].columns == ("name",)
    assert not any(index.table.startswith("sqlite_") for index in schema.indexes)


def test_relations_and_sizes(bare: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    bare.execute(f'CREATE VIEW "failed_logs" AS SELECT * FROM "{LOG}"')
    fill(bare, 5)
    backend = SQLite()
    relations = backend.relations(bare, [LOG])
    assert relations.views == frozenset({"failed_logs"})
    assert {LOG, "failed_logs", "upstream_customer"} <= relations.names
    assert backend.table_sizes(bare, [LOG, "upstream_customer", "missing"]) == {
        LOG: (5, "counted"),
        "upstream_customer": (0, "counted"),
    }
    monkeypatch.setattr(boundary, "COUNT_BOUND", 4)
    assert backend.table_sizes(bare, [LOG]) == {LOG: (4, "counted, at least 4")}


# -- binding --------------------------------------------------------------------------------


def test_bind_gives_the_literals_sqlite_binds(bare: sqlite3.Connection) -> None:
    backend = SQLite()
    values = ["it's", None, 3, 2.5, b"\x00\xff", True, Decimal("1.50")]
    sqlite3.register_adapter(Decimal, str)
    text = backend.bind(bare, "SELECT " + ", ".join(["%s"] * len(values)), values)
    assert text == "SELECT 'it''s', NULL, 3, 2.5, X'00FF', 1, '1.50'"
    assert (
        bare.execute(text).fetchone()
        == bare.execute("SELECT " + ", ".join(["?"] * len(values)), values).fetchone()
    )
    # Without parameters Django runs the text as written; with them %% is a percent sign.
    assert backend.bind(bare, "SELECT '%%'", None) == "SELECT '%%'"
    assert backend.bind(bare, "SELECT '%%', %s", [1]) == "SELECT '%', 1"
    assert backend.bind(bare, "SELECT %(a)s, %(b)s", {"a": "x", "b": 2}) == "SELECT 'x', 2"
    many = backend.bind(bare, "SELECT " + ", ".join(["%s"] * 1500), list(range(1500)))
    assert bare.execute(many).fetchone() == tuple(range(1500))


def test_bind_through_djangos_connection(tmp_path: Path, django_db_blocker: Any) -> None:
    """A connection of Django's SQLite backend of its own (not the suite's database): the
    parameters Django passes are bound as its cursor would bind them."""
    from django.db.utils import ConnectionHandler

    settings = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "dj.sqlite3")}
    connection = ConnectionHandler({"default": settings})["default"]
    backend = SQLite()
    assert connection.vendor == "sqlite"
    assert backend.unsupported(connection) is None
    sql = "SELECT id FROM t WHERE at <= %s AND name LIKE %s ESCAPE '\\'"
    when = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    params = [connection.ops.adapt_datetimefield_value(when), "a%b"]
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id integer PRIMARY KEY, at datetime, name text)")
        cursor.execute("INSERT INTO t VALUES (1, '2026-01-15 11:00:00', 'aXb')")
        cursor.execute(sql, params)
        expected = cursor.fetchall()
        text = backend.bind(connection.connection, sql, params)
        plan = backend.explain(connection.connection, text, forced=True).plan
        assert connection.connection.execute(text).fetchall() == expected == [(1,)]
    connection.close()
    assert text == (
        "SELECT id FROM t WHERE at <= '2026-01-15 12:00:00' AND name LIKE 'a%b' ESCAPE '\\'"
    )
    assert [f.rule for f in analyze(plan)] == [Rule.FILTER]


# -- the test's transaction and cursors are left alone ----------------------------------------


@pytest.mark.parametrize("in_transaction", [True, False], ids=["transaction", "autocommit"])
@pytest.mark.parametrize("statistics", [True, False], ids=["analysed", "plain"])
def test_nothing_touches_the_transaction_or_open_cursors(
    bare: sqlite3.Connection, in_transaction: bool, statistics: bool
) -> None:
    full = bare
    fill(full, 300)
    if statistics:
        full.execute("ANALYZE")
    backend = SQLite()
    if in_transaction:
        full.execute("BEGIN")
        full.execute(f'UPDATE "{LOG}" SET "message" = \'pending\' WHERE "id" < 10')
    changes = full.total_changes
    reading = full.cursor()
    reading.execute(f'SELECT "id" FROM "{LOG}" ORDER BY "id"')
    first = reading.fetchmany(50)

    text = backend.bind(full, FAILED_LOGS.replace("'failed'", "%s"), ["failed"])
    for forced in (True, False):
        plan = backend.explain(full, text, forced=forced).plan
    schema = backend.schema(full)
    backend.assess(full, text, plan, Context(schema))
    backend.relations(full, [LOG])
    backend.table_sizes(full, [LOG])
    finding = next(f for f in analyze(plan) if f.is_violation)
    assert backend.verify(full, text, finding, suggestion(LOG, "status", "-start_time")).fixes
    with pytest.raises(boundary.NotExplained):
        backend.explain(full, "SELECT * FROM no_such_table", forced=True)

    assert [row[0] for row in first + reading.fetchall()] == list(range(1, 301))
    assert full.in_transaction == in_transaction
    assert full.total_changes == changes
    if in_transaction:
        assert full.execute(
            f'SELECT count(*) FROM "{LOG}" WHERE "message" = \'pending\''
        ).fetchone() == (9,)
        full.execute("ROLLBACK")


# -- reading real plans of statements Django does not write -----------------------------------


@pytest.fixture
def scratch() -> Iterator[sqlite3.Connection]:
    raw = sqlite3.connect(":memory:", isolation_level=None)
    raw.execute("CREATE TABLE t (id integer PRIMARY KEY, name text, flag integer, note text, a, b)")
    yield raw
    raw.close()


def test_literals_comments_and_case_do_not_mislead_the_reader(scratch: sqlite3.Connection) -> None:
    text = (
        "select id from t -- a comment with WHERE x = 1\n"
        "where name = 'a AND b; LIMIT 1 OR (c' and  flag between 1 and 3 "
        "/* ORDER BY x */ and note like '%x%' escape '\\'"
    )
    (found,) = analyze(SQLite().explain(scratch, text, forced=True).plan)
    assert found.rule is Rule.FILTER
    assert found.filter == (
        "(name = 'a AND b; LIMIT 1 OR (c') AND (flag >= 1) AND (flag <= 3) AND (note ~~ '%x%')"
    )
    assert found.sort_key == ()


def test_the_parts_of_a_compound_have_their_own_conditions(scratch: sqlite3.Connection) -> None:
    text = "SELECT id FROM t WHERE a = 1 UNION ALL SELECT id FROM t WHERE b = 2"
    plan = SQLite().explain(scratch, text, forced=True).plan
    assert [detail for _, _, detail in plan.rows] == [
        "COMPOUND QUERY",
        "LEFT-MOST SUBQUERY",
        "SCAN t",
        "UNION ALL",
        "SCAN t",
    ]
    assert [f.filter for f in analyze(plan)] == ["a = 1", "b = 2"]


def test_sqlites_own_tables_are_never_findings(scratch: sqlite3.Connection) -> None:
    text = "SELECT name FROM sqlite_master WHERE type = 'table'"
    plan = SQLite().explain(scratch, text, forced=True).plan
    assert plan.rows[0][2] == "SCAN sqlite_master"
    assert analyze(plan) == []


def test_a_primary_key_that_must_be_null_reads_no_row(bare: sqlite3.Connection) -> None:
    # Django loading a deferred field of an unsaved instance: SQLite's plan says SCAN, but it
    # reads nothing (the rowid is never NULL). A NULL test on a column that can be NULL scans.
    backend = SQLite()
    context = Context(backend.schema(bare))

    def findings(text: str) -> list[ScanFinding]:
        plan = backend.explain(bare, text, forced=True).plan
        return backend.assess(bare, text, plan, context).findings

    never = (
        f'SELECT "{LOG}"."id", "{LOG}"."status" FROM "{LOG}" WHERE "{LOG}"."id" IS NULL LIMIT 21'
    )
    assert findings(never) == []
    nullable = f'SELECT "{LOG}"."id" FROM "{LOG}" WHERE "{LOG}"."end_time" IS NULL'
    [finding] = findings(nullable)
    assert finding.rule is Rule.FILTER


def test_is_not_null_on_a_not_null_column_restricts_nothing(bare: sqlite3.Connection) -> None:
    # Django's dates(), the admin's date_hierarchy and isnull=False write "col IS NOT NULL"
    # whatever the column; on a NOT NULL column every row passes it, so the read is unfiltered
    # (PostgreSQL 17 drops the test from the plan), and under a LIMIT it is the sort that
    # counts. On a column that can be NULL it still filters.
    backend = SQLite()
    schema = backend.schema(bare)
    assert {"id", "start_time", "status"} <= schema.not_null[LOG]
    assert "end_time" not in schema.not_null[LOG]
    context = Context(schema)

    def findings(text: str) -> list[ScanFinding]:
        plan = backend.explain(bare, text, forced=True).plan
        return backend.assess(bare, text, plan, context).findings

    every = f'SELECT "{LOG}"."id" FROM "{LOG}" WHERE "{LOG}"."start_time" IS NOT NULL'
    assert [f for f in findings(every) if f.is_violation] == []
    [newest] = findings(f'{every} ORDER BY "{LOG}"."message" DESC LIMIT 5')
    assert (newest.rule, newest.filter) == (Rule.SORT_LIMIT, None)
    [ended] = findings(f'SELECT "{LOG}"."id" FROM "{LOG}" WHERE "{LOG}"."end_time" IS NOT NULL')
    assert (ended.rule, ended.unservable) == (Rule.UNSERVABLE, "not-null")
    # taggit's tags_for(): the joined table's IS NOT NULL restricts nothing, so the outer
    # table is read whole because every row of it is wanted, not for want of an index.
    connection = "upstream_integrationconnection"
    joined = (
        f'SELECT DISTINCT "{connection}"."id", "{connection}"."name" FROM "{connection}" '
        f'INNER JOIN "{LOG}" ON ("{connection}"."id" = "{LOG}"."connection_id") '
        f'WHERE "{LOG}"."start_time" IS NOT NULL'
    )
    assert [f for f in findings(joined) if f.is_violation] == []
    # And IS NULL on a NOT NULL column: no row passes, SQLite reads none (simple-history's
    # most_recent() on a deleted instance tests a NOT NULL "id" that is not the key).
    never = (
        f'SELECT "{LOG}"."id" FROM "{LOG}" WHERE "{LOG}"."start_time" IS NULL '
        f'ORDER BY "{LOG}"."message" DESC LIMIT 1'
    )
    assert findings(never) == []
