"""SQLite: ``EXPLAIN QUERY PLAN`` on Django's sqlite3 connection, read into neutral findings.

The route of one statement: the guard binds its parameters (``SQLite.bind``: SQLite's own
``QUOTE()`` of each value, as Django's ``last_executed_query`` does), explains it on a fresh
cursor of the test's connection (``SQLite.explain``; nothing is written, no savepoint, so the
test's transaction and its open cursors are untouched), and asks for a verdict
(``SQLite.assess``): ``analyze`` below reads the plan rows and the statement's text into
``plan.ScanFinding``s, and ``judge.settle`` keeps what production would really do, by the same
rules as on PostgreSQL. No probes are needed: without statistics SQLite's planner is rule-based
and uses every index that can serve a condition, a join key or an order, so a full scan it
chooses is one no index of the schema serves.

**Reading the plan.** A row ``SCAN t`` (``SCAN t USING [COVERING] INDEX i`` included: a whole
index read) is a full read; so is a ``SEARCH`` without a condition (SQLite labels min()/max()
reads that way) and ``SEARCH t USING AUTOMATIC [PARTIAL] COVERING INDEX (col=?)``: SQLite reads
the table whole to build an index on the join key for this one statement. ``SEARCH ... (col=?)``
through an index or the ``INTEGER PRIMARY KEY`` is fine. The plan shows no filters, join
conditions or LIMIT: those come from the statement's text, where Django qualifies every column
(``"table"."col"``, ``U0."col"``). Each SELECT of the text (a sub-query, a CTE, a compound's part)
is matched to the plan rows under its header (``LIST SUBQUERY n``, ``CORRELATED SCALAR SUBQUERY
n``: SQLite numbers SELECTs in the order they end in the text; ``CO-ROUTINE name``,
``MATERIALIZE name``; the parts of ``COMPOUND QUERY`` in order). A full read of a watched table
is a violation when the table has a condition of its own in that SELECT (``Rule.FILTER``, or
``Rule.UNSERVABLE`` when ``judge.unservable`` says no index serves it as written), when it is
read again for every row of an outer loop (an inner loop of the join, a correlated sub-query or
an automatic index: ``Rule.JOIN``), when it is the outer loop of a join that another table's
condition restricts (``Rule.JOIN``: an index on its join key lets SQLite start from that table),
or when it feeds ``USE TEMP B-TREE FOR ORDER BY`` under a LIMIT (``Rule.SORT_LIMIT``). An index
range (``SEARCH``) that feeds such a sort is a sorted range, judged by production's rows per key
(``Rule.SORT_RANGE``). Any other full read (every row asked for, an aggregate) is information.
The conditions are handed to the shared judgement in the shape it reads (PostgreSQL's plan
spelling: ``LIKE`` as ``~~``, ``NOT IN (...)`` as ``<> ALL (...)``, a sub-query as ``SubPlan``).

**Forcing, measured** (SQLite 3.40.1; ``python benchmarks/sqlite_backend.py``). Without
``sqlite_stat1`` the planner assumes every table holds about a million rows (``nRowLogEst`` 200)
and ten rows per index key, and looks at no row: twenty statements that an index serves are
planned identically at 3, 1,000 and 100,000 rows. Django never runs ANALYZE, so a Django test
database plans as for large tables with no help. After ``ANALYZE`` of 3-row tables, 9 of the 20
switch to a ``SCAN`` the index would have spared (a range, an IN list, an OR of two indexed
columns, a join's driving table). So ``forced`` (the default) plans on a statistics-free copy of
the schema when the database has statistics and the plan has a full read or a sort (a plan that
searches indexes only stands as it is): an in-memory database made from ``sqlite_master``'s
SQL, in the same SQLite library, rebuilt when the schema's text changes; all 20 are then
planned as without statistics. Hiding the statistics on the test's own connection (a savepoint:
delete ``sqlite_stat1``, ``ANALYZE sqlite_schema``, explain, roll back, reload) works too, but
rolling back a savepoint that changed the schema or its statistics aborts every open read
cursor of the connection (measured: "abort due to ROLLBACK" on a ``QuerySet.iterator()`` half
read), and it writes to the database. ``planner`` mode plans on the test's connection,
statistics and all.

**Verification.** The candidate index is created in the same statistics-free copy (inside its
savepoint) and the statement re-planned there, never on the test's connection: a ``CREATE INDEX``
rolled back to a savepoint of the test's connection aborts its open cursors (measured) and takes
the database's write lock. The copy has the schema but no rows, which is all SQLite's planner
looks at without statistics.

**What SQLite's plan cannot show.** Conditions are read from the statement's text, so the
conditions inside a view's definition are not attributed to the tables it reads (its full reads
are information). A ``SEARCH`` without a condition may be a one-row max() through an index or a
whole read: it is judged by the table's own conditions only. Django's ``startswith`` and
``iexact`` are case-insensitive ``LIKE`` on SQLite, which no index with the default BINARY
collation serves: the suggested index then verifies as not fixing it. There are no row estimates,
costs or invalid indexes; ``BLOOM FILTER`` rows appear only with statistics.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_indexguard import explain as boundary
from pytest_indexguard import judge
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.plan import mentions, signature, top_level
from pytest_indexguard.schema import IndexInfo, Schema
from pytest_indexguard.sqltext import quote_identifier
from pytest_indexguard.suggest import filter_columns, join_columns, sort_column, sql_keys

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from pytest_indexguard.suggest import Suggestion

# The four-column EXPLAIN QUERY PLAN (id, parent, notused, detail) this module reads.
MINIMUM_VERSION = (3, 24, 0)
# Rows counted at most per table: a table that big is big whatever its exact size.
SAVEPOINT = "indexguard_verify"
PROBE = "indexguard_probe"
# Schemas whose statistics-free copies are kept (one per database alias, usually).
TWINS = 4

Row = tuple[int, int, str]


@dataclass(frozen=True)
class Plan:
    """One statement's ``EXPLAIN QUERY PLAN`` rows (id, parent, detail) and the statement they
    belong to (parameters bound): the rows name tables by their alias, the text says which."""

    rows: tuple[Row, ...]
    text: str
    # Planned on the statistics-free copy of the schema (``forced`` with statistics present).
    copy: bool = False


class SQLite:
    """The ``explain.Backend`` of Django's sqlite3 connections."""

    name = "SQLite"

    def __init__(self) -> None:
        self._copies: dict[tuple[tuple[str, str, str], ...], _Copy] = {}
        self._lock = threading.Lock()

    # -- the protocol ------------------------------------------------------------------------

    def unsupported(self, connection: BaseDatabaseWrapper) -> str | None:
        if sqlite3.sqlite_version_info < MINIMUM_VERSION:
            return f"SQLite {sqlite3.sqlite_version} (the guard reads the plans of 3.24 and later)"
        return None

    def busy(self, raw: Any) -> str | None:
        return None  # EXPLAIN QUERY PLAN reads the schema only, whatever the transaction's state

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        """``sql`` (Django's ``%s`` placeholders) with each value as the SQL literal SQLite makes
        of it (``QUOTE(?)``, through the driver's own adapters). Without parameters Django runs
        the text as it is, ``%%`` included."""
        if params is None:
            return sql
        if isinstance(params, Mapping):
            names = list(params)
            values = _literals(raw, [params[name] for name in names])
            return sql % dict(zip(names, values, strict=True))
        return sql % tuple(_literals(raw, list(params)))

    def declared(self, text: str) -> str:
        return text  # Django's SQLite backend reads ``iterator()`` through a plain cursor

    def explain(self, raw: Any, text: str, *, forced: bool) -> boundary.Explained:
        """Planned on the test's connection; ``forced`` with statistics present, on the
        statistics-free copy of the schema (see the module's docstring)."""
        try:
            rows = _explain(raw, text)
            # Statistics change the choice between an index and a whole read: a plan that
            # searches indexes only is planned as it would be without them.
            if forced and _interesting(rows) and _has_statistics(raw):
                copy = self._copy(raw)
                return boundary.Explained(Plan(copy.explain(text), text, copy=True), round_trips=3)
            return boundary.Explained(Plan(rows, text), round_trips=1)
        except sqlite3.Error as exc:
            raise boundary.NotExplained(
                str(exc).splitlines()[0] if str(exc) else "EXPLAIN failed"
            ) from exc

    def assess(
        self, raw: Any, text: str, plan: Any, context: boundary.Context
    ) -> boundary.Assessment:
        """``analyze`` then ``judge.settle``, without probes (the planner is rule-based), without
        a second plan (an index that gives the order would have been used) and without touching
        the connection."""
        production = context.production
        asked = _EveryKey(raw, context)
        try:
            findings = analyze(
                plan,
                text,
                context.watched,
                sorted_ranges=production is not None,
                truth=context.schema.truth,
                listed=asked,
            )
        except Exception as exc:  # a statement this reader cannot follow: no verdict on it
            return boundary.Assessment(findings=[], errors=[exc])
        schema = context.schema
        # A page of a list of every key sorted by a column an index leads with (the rowid
        # under ORDER BY id): production walks that index in order, the list keeps every row,
        # the first rows walked are the page.
        findings = [f for f in findings if not _walked_past_the_list(f, schema)]
        # No finding arrives with ``unservable`` set, so settle never reads ``plan`` as
        # PostgreSQL's JSON; ``unservable()`` then classifies the filters. No probes: a read
        # restricted by a join whose key an index leads could start from the other side.
        keyed = [
            f
            for f in findings
            if f.rule is Rule.JOIN
            and f.join_filter
            and any(
                schema.leading(f.table, column)
                for column in join_columns(f.join_filter, f.alias or f.table, [])
            )
        ]
        settled = judge.settle(
            findings,
            schema,
            plan,
            {},
            production,
            few_values=context.few_values,
            joined_by_index=keyed,
        )
        return boundary.Assessment(findings=settled, errors=asked.errors, keyed=asked.asked)

    def schema(self, raw: Any) -> Schema:
        """Every index of the user tables (main and temp), with the ``INTEGER PRIMARY KEY`` of a
        rowid table as an index of its own (``<table>.rowid``): it is the table's B-tree."""
        entries = _fetch(raw, _INDEXES)
        definitions = dict(_fetch(raw, _INDEX_SQL))
        keys: dict[tuple[str, str], list[tuple[int, str | None, bool]]] = {}
        flags: dict[tuple[str, str], tuple[bool, str, bool]] = {}
        for table, index, unique, origin, partial, cid, column, descending, key in entries:
            if not key:
                continue  # the rowid (or primary key) appended to every entry
            flags[(table, index)] = (bool(unique), str(origin), bool(partial))
            keys.setdefault((table, index), []).append((int(cid), column, bool(descending)))
        found = []
        for (table, index), columns in sorted(keys.items()):
            unique, origin, partial = flags[(table, index)]
            sql = definitions.get(index)
            expressions = _index_keys(sql) if sql else []
            shown, plain = [], []
            for position, (cid, column, descending) in enumerate(columns):
                text = column if cid >= 0 and column else None
                if text is None:
                    written = expressions[position] if position < len(expressions) else "<expr>"
                    text = re.sub(r"\s+(?:ASC|DESC)$", "", written, flags=re.IGNORECASE)
                shown.append(f"{text} DESC" if descending else text)
                plain.append(column if cid >= 0 else None)
            found.append(
                IndexInfo(
                    table=table,
                    name=index,
                    columns=tuple(shown),
                    unique=unique,
                    primary=origin == "pk",
                    partial=partial,
                    keys=tuple(plain),
                    predicate=_predicate(sql) if partial and sql else None,
                )
            )
        rowid_keys = _fetch(raw, _ROWID_KEYS)
        for table, column in rowid_keys:
            found.append(
                IndexInfo(
                    table=table,
                    name=f"{table}.rowid",
                    columns=(column,),
                    unique=True,
                    primary=True,
                    partial=False,
                    keys=(column,),
                )
            )
        # The rowid is never NULL, whatever its column declares.
        not_null = [*_fetch(raw, _NOT_NULL), *rowid_keys]
        references = {
            (str(table), str(column)): (str(target), str(key))
            for table, column, target, key in _fetch(raw, _FOREIGN_KEYS)
        }
        return Schema.of(
            found, not_null=[(str(t), str(c)) for t, c in not_null], references=references
        )

    def relations(self, raw: Any, tables: Iterable[str]) -> boundary.Relations:
        found = _fetch(raw, _RELATIONS)
        views = frozenset(name for kind, name in found if kind == "view")
        return boundary.Relations(views=views, names=frozenset(name for _, name in found))

    def table_sizes(self, raw: Any, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Rows counted, up to ``COUNT_BOUND`` (SQLite keeps no estimate without ANALYZE, and
        counting a test database's table costs next to nothing)."""
        sizes = {}
        for name in sorted(set(tables)):
            bound = boundary.COUNT_BOUND
            query = f"SELECT count(*) FROM (SELECT 1 FROM {quote_identifier(name)} LIMIT {bound})"
            try:
                rows = int(_fetch(raw, query)[0][0])
            except sqlite3.Error:
                continue  # no such table here
            sizes[name] = boundary.counted(rows)
        return sizes

    def verify(
        self, raw: Any, text: str, finding: ScanFinding, candidate: Suggestion
    ) -> boundary.Verification:
        """Plan ``text`` in the statistics-free copy of the schema with ``candidate``'s index
        added (in a savepoint of the copy, rolled back): the test's connection is only read."""
        create = (
            f"CREATE INDEX {PROBE} ON {quote_identifier(candidate.table)} "
            f"({sql_keys(candidate.columns)})"
        )
        try:
            copy = self._copy(raw)
            rows = copy.explain(text, before=create)
        except sqlite3.Error as exc:
            note = f"not verified: {str(exc).splitlines()[0] if str(exc) else 'SQLite failed'}"
            return boundary.Verification(fixes=None, round_trips=1, note=note)
        return boundary.Verification(fixes=fixes(Plan(rows, text), finding), round_trips=1)

    def render(self, plan: Any) -> list[str]:
        """The plan as SQLite's shell shows it, one line a row, indented under its parent."""
        rows = _rows(plan)
        depth: dict[int, int] = {0: -1}
        lines = []
        for row_id, parent, detail in rows:
            depth[row_id] = depth.get(parent, -1) + 1
            lines.append("  " * depth[row_id] + ("-> " if depth[row_id] else "") + detail)
        return lines or ["(no plan)"]

    def indexes_used(self, plan: Any) -> set[str]:
        used = set()
        for loop in _loops(plan):
            if loop.index is not None and not loop.automatic:
                used.add(loop.index)
            elif loop.rowid and loop.table is not None:
                used.add(f"{loop.table}.rowid")
        return used

    def tables_read(self, plan: Any) -> set[str]:
        return {loop.table for loop in _loops(plan) if loop.table is not None}

    def internal(self, table: str) -> bool:
        return table.lower().startswith("sqlite_")

    # -- the statistics-free copy of the schema -----------------------------------------------

    def _copy(self, raw: Any) -> _Copy:
        """The copy of ``raw``'s schema as it is now (its SQL read anew each time: a test may
        create or drop tables and indexes, and roll them back)."""
        entries = tuple(_fetch(raw, _SCHEMA_SQL))
        with self._lock:
            found = self._copies.get(entries)
            if found is None:
                while len(self._copies) >= TWINS:
                    self._copies.pop(next(iter(self._copies))).close()
                automatic = bool(_fetch(raw, "PRAGMA automatic_index")[0][0])
                found = self._copies[entries] = _Copy(entries, automatic=automatic)
            return found


class _Copy:
    """An in-memory database with a schema's tables, indexes and views and nothing else: no
    rows, no statistics. Django's SQL functions are registered, so its statements plan."""

    def __init__(self, entries: Sequence[tuple[str, str, str]], *, automatic: bool) -> None:
        self.connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.lock = threading.Lock()
        self.connection.execute(f"PRAGMA automatic_index = {int(automatic)}")
        try:
            from django.db.backends.sqlite3._functions import (  # type: ignore[import-untyped]
                register,
            )
        except ImportError:  # pragma: no cover - every supported Django has it
            pass
        else:
            register(self.connection)
        order = {"table": 0, "index": 1, "view": 2}
        for _kind, _name, sql in sorted(entries, key=lambda entry: order.get(entry[0], 3)):
            # A virtual table's shadow tables, a missing extension: planned without them.
            with contextlib.suppress(sqlite3.Error):
                self.connection.execute(sql)

    def explain(self, text: str, *, before: str | None = None) -> tuple[Row, ...]:
        with self.lock:
            cursor = self.connection.cursor()
            try:
                if before is None:
                    return _plan_rows(cursor.execute(f"EXPLAIN QUERY PLAN {text}"))
                cursor.execute(f"SAVEPOINT {SAVEPOINT}")
                try:
                    cursor.execute(before)
                    return _plan_rows(cursor.execute(f"EXPLAIN QUERY PLAN {text}"))
                finally:
                    cursor.execute(f"ROLLBACK TO {SAVEPOINT}")
                    cursor.execute(f"RELEASE {SAVEPOINT}")
            finally:
                cursor.close()

    def close(self) -> None:
        self.connection.close()


# -- round trips on the test's connection ----------------------------------------------------

# Every table of the connection's databases (main and temp), as m.name.
_TABLES = """(SELECT name FROM sqlite_master WHERE type = 'table'
    UNION ALL SELECT name FROM sqlite_temp_master WHERE type = 'table') AS m"""
_INDEXES = f"""
    SELECT m.name, il.name, il."unique", il.origin, il.partial, ix.cid, ix.name, ix."desc", ix.key
    FROM {_TABLES}
    JOIN pragma_index_list(m.name) AS il
    JOIN pragma_index_xinfo(il.name) AS ix
    WHERE m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
    ORDER BY m.name, il.name, ix.seqno
"""
_INDEX_SQL = """
    SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
    UNION ALL SELECT name, sql FROM sqlite_temp_master WHERE type = 'index' AND sql IS NOT NULL
"""
_NOT_NULL = f"""
    SELECT m.name, ti.name
    FROM {_TABLES}
    JOIN pragma_table_info(m.name) AS ti
    WHERE ti."notnull" AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
"""
# The column that is the rowid: a single INTEGER primary key of a table with no primary-key
# index (a WITHOUT ROWID table and any other primary key have one, origin 'pk').
_ROWID_KEYS = f"""
    SELECT m.name, ti.name
    FROM {_TABLES}
    JOIN pragma_table_info(m.name) AS ti
    WHERE ti.pk = 1 AND upper(ti.type) = 'INTEGER'
      AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
      AND NOT EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE pk > 1)
      AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) WHERE origin = 'pk')
    ORDER BY m.name
"""
# Single-column foreign keys: (table, column, referenced table, referenced column).
_FOREIGN_KEYS = f"""
    SELECT m.name, fk."from", fk."table", fk."to"
    FROM {_TABLES}
    JOIN pragma_foreign_key_list(m.name) AS fk
    WHERE m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND fk."to" IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM pragma_foreign_key_list(m.name) AS part WHERE part.id = fk.id AND part.seq > 0
      )
"""
_RELATIONS = """
    SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')
    UNION ALL SELECT type, name FROM sqlite_temp_master WHERE type IN ('table', 'view')
"""
_SCHEMA_SQL = """
    SELECT type, name, sql FROM sqlite_master
    WHERE type IN ('table', 'index', 'view') AND sql IS NOT NULL
      AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
    UNION ALL
    SELECT type, name, sql FROM sqlite_temp_master
    WHERE type IN ('table', 'index', 'view') AND sql IS NOT NULL
    ORDER BY 1, 2
"""
_STATISTICS = (
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1')"
)


def _fetch(raw: Any, query: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of ``query`` on a cursor of its own, closed after (Django's cursors and their
    pending rows are left alone; a read starts no transaction)."""
    cursor = raw.cursor()
    try:
        return list(cursor.execute(query, params).fetchall())
    finally:
        cursor.close()


def _literals(raw: Any, values: list[Any]) -> list[str]:
    """SQLite's literal for each value: the text, integer and NULL that Django passes written
    here as ``QUOTE()`` writes them; any other value (a float, bytes, a value with an adapter)
    by ``QUOTE(?)`` itself, 999 at a time (the oldest SQLITE_MAX_VARIABLE_NUMBER)."""
    literals: list[str | None] = [_literal(value) for value in values]
    asked = [index for index, literal in enumerate(literals) if literal is None]
    for start in range(0, len(asked), 999):
        chunk = asked[start : start + 999]
        query = "SELECT " + ", ".join(["QUOTE(?)"] * len(chunk))
        row = _fetch(raw, query, [values[index] for index in chunk])[0]
        for index, literal in zip(chunk, row, strict=True):
            literals[index] = str(literal)
    return [str(literal) for literal in literals]


def _literal(value: Any) -> str | None:
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is str and "\x00" not in value:
        return "'" + str(value).replace("'", "''") + "'"
    if kind is bool:
        return "1" if value else "0"
    if kind is int and -(2**63) <= value < 2**63:
        return str(value)
    return None


def _explain(raw: Any, text: str) -> tuple[Row, ...]:
    cursor = raw.cursor()
    try:
        return _plan_rows(cursor.execute(f"EXPLAIN QUERY PLAN {text}"))
    finally:
        cursor.close()


def _plan_rows(cursor: Any) -> tuple[Row, ...]:
    return tuple((int(row[0]), int(row[1]), str(row[-1])) for row in cursor.fetchall())


def _has_statistics(raw: Any) -> bool:
    if not _fetch(raw, _STATISTICS)[0][0]:
        return False
    return bool(_fetch(raw, "SELECT EXISTS (SELECT 1 FROM sqlite_stat1)")[0][0])


def _index_keys(sql: str) -> list[str]:
    """The keys of a ``CREATE INDEX`` as written, for expression keys (``lower("email")``)."""
    masked = _mask(sql)
    found = re.search(r"\bON\s+\S+?\s*\(", masked, re.IGNORECASE)
    if found is None:
        return []
    start = found.end()
    end = _pairs(masked).get(start - 1, len(sql))
    return [sql[a:b].strip() for a, b in _Levels(masked).split(start, end, ",")]


def _predicate(sql: str) -> str | None:
    masked = _mask(sql)
    found = [m for m in re.finditer(r"\bWHERE\b", masked, re.IGNORECASE)]
    return sql[found[-1].end() :].strip() if found else None


# -- reading a plan --------------------------------------------------------------------------


def analyze(
    plan: Plan | Sequence[Sequence[Any]],
    sql: str | None = None,
    watched: Callable[[str], bool] | None = None,
    *,
    sorted_ranges: bool = False,
    truth: Callable[[str, str], bool | None] | None = None,
    listed: Listed | None = None,
) -> list[ScanFinding]:
    """The full reads of watched tables in ``plan`` (rows of ``EXPLAIN QUERY PLAN``, or a
    ``Plan``), in plan order, with their rules (see the module's docstring). ``sql`` is the
    statement (parameters bound; a ``Plan`` carries it); ``watched`` says whether a table
    counts (None: every table but SQLite's own). With ``sorted_ranges``, an index range that
    feeds a sort under a LIMIT is listed too (rule None, ``sorted_range``).
    ``truth(table, conjunct)`` (``Schema.truth``) says which conditions every row passes
    (they restrict nothing, here or on another table of the join) and which none does (SQLite
    reads no row for ``WHERE id IS NULL``: Django loading a field of an unsaved instance).
    ``listed(table, column, keys)`` says whether a literal list of keys an index search takes
    (``queue_id IN (1, 2, 3)``) names every row of the table the column references, and what
    it covers: such a search is read as one fed by every row of that table (``every_key``)."""
    rows = _rows(plan)
    searches = [detail for _, _, detail in rows if detail.startswith("SEARCH ")]
    text = plan.text if isinstance(plan, Plan) and sql is None else sql or ""
    if (
        not any(_full_read(detail) for _, _, detail in rows)
        and not (sorted_ranges and any(_SORT.match(detail) for _, _, detail in rows))
        and not (len(searches) > 1 or any("IN-OPERATOR" in d for _, _, d in rows))
        and not (listed is not None and searches and _A_LIST.search(text))
    ):
        return []  # one index search: the statement's text is not even read
    found: list[ScanFinding] = []
    for loop in _loops(plan, sql):
        table = loop.table
        if table is None or table.lower().startswith("sqlite_"):
            continue
        if watched is not None and not watched(table):
            continue
        finding = _finding(loop, sorted_ranges=sorted_ranges, truth=truth, listed=listed)
        if finding is not None:
            found.append(finding)
    return found


def fixes(plan: Plan, finding: ScanFinding) -> bool:
    """Whether ``finding`` is gone from ``plan`` (made with the candidate index): no full read
    with the same signature, no sorted range of the table left for a sorted range, and the
    candidate index read with a condition or for the order."""
    if finding.rule is Rule.SORT_RANGE:
        remaining = analyze(plan, sorted_ranges=True)
        if any(f.table == finding.table and (f.sorted_range or f.is_violation) for f in remaining):
            return False
    else:
        wanted = signature(finding)
        if any(signature(f) == wanted for f in analyze(plan) if f.is_violation):
            return False
    return any(loop.index == PROBE for loop in _loops(plan))


@dataclass(frozen=True)
class _Loop:
    """One table access of the plan, with what the statement's text says about it."""

    detail: str
    table: str | None
    alias: str
    index: str | None = None
    rowid: bool = False
    automatic: bool = False
    condition: str | None = None  # the index condition SQLite shows: "connection_id=?"
    full: bool = False
    position: int = 0  # its loop's place in the join, 0 for the outermost
    repeated: bool = False  # inside a correlated sub-query: run again for every outer row
    sorted: bool = False  # its SELECT sorts in a temporary B-tree under a LIMIT
    bloom: bool = False
    select: _Select | None = None
    others: tuple[str, ...] = ()  # the other aliases joined in the same loop nest
    statement: _Statement | None = field(default=None, compare=False, repr=False)


def _full_read(detail: str) -> bool:
    """A row that reads a table whole (or may: a condition-less SEARCH, a skip-scan)."""
    if detail.startswith("SCAN "):
        return not detail.startswith("SCAN CONSTANT ROW")
    if not detail.startswith("SEARCH "):
        return False
    return (
        "AUTOMATIC" in detail
        or "ANY(" in detail
        or not detail.rstrip().endswith((")", ") LEFT-JOIN", ") RIGHT-JOIN"))
    )


_ACCESS = re.compile(
    r"^(?P<verb>SCAN|SEARCH)\s+(?:TABLE\s+)?(?P<name>\([^)]*\)|\S+)(?:\s+AS\s+(?P<alias>\S+))?"
    r"(?:\s+USING\s+(?P<using>AUTOMATIC\s+(?:PARTIAL\s+)?COVERING\s+INDEX|INTEGER\s+PRIMARY\s+KEY"
    r"|PRIMARY\s+KEY|(?:COVERING\s+)?INDEX\s+(?P<index>\S+)))?"
    r"(?:\s+\((?P<condition>.*)\))?(?:\s+(?:LEFT|RIGHT)-JOIN)?\s*$"
)
_SUBQUERY = re.compile(r"^(?P<correlated>CORRELATED\s+)?(?:SCALAR|LIST)\s+SUBQUERY\s+(?P<id>\d+)$")
_NAMED = re.compile(r"^(?:CO-ROUTINE|MATERIALIZE)\s+(?P<name>.+)$")
_COMPOUND = re.compile(r"^(?:COMPOUND QUERY|MERGE \(.*\))$")
_SORT = re.compile(r"^USE TEMP B-TREE FOR (?:(?:RIGHT PART|LAST \d+ TERMS) OF )?ORDER BY$")
_BLOOM = re.compile(r"^BLOOM FILTER ON (?P<name>\S+)")


def _interesting(rows: Sequence[Row]) -> bool:
    """Whether a plan has anything a verdict could rest on: a full read or a sort."""
    return any(_full_read(detail) or _SORT.match(detail) for _, _, detail in rows)


def _rows(plan: Plan | Sequence[Sequence[Any]]) -> tuple[Row, ...]:
    if isinstance(plan, Plan):
        return plan.rows
    return tuple((int(row[0]), int(row[1]), str(row[-1])) for row in plan)


def _loops(plan: Plan | Sequence[Sequence[Any]], sql: str | None = None) -> list[_Loop]:
    """The table accesses of the plan in plan order, each with its SELECT of the statement."""
    rows = _rows(plan)
    text = plan.text if isinstance(plan, Plan) and sql is None else sql or ""
    statement = _Statement(text)
    details = {row_id: detail for row_id, _, detail in rows}
    parents = {row_id: parent for row_id, parent, _ in rows}
    children: dict[int, list[int]] = {}
    for row_id, parent, _ in rows:
        children.setdefault(parent, []).append(row_id)

    def scope(row_id: int) -> int:
        """The header the row is under (0: the statement's own SELECT)."""
        current = parents.get(row_id, 0)
        while current and not _is_header(current, details, parents):
            current = parents.get(current, 0)
        return current

    def select_of(header: int) -> _Select | None:
        if header == 0:
            return statement.part(0, 0)
        detail = details[header]
        found = _SUBQUERY.match(detail)
        if found:
            return statement.numbered(int(found.group("id")))
        found = _NAMED.match(detail)
        if found:
            return statement.named(found.group("name"))
        compound = parents.get(header, 0)  # a part of a compound query: its place there
        around = select_of(scope(compound))
        return statement.part(around.region if around else 0, children[compound].index(header))

    accesses: dict[int, list[tuple[int, str]]] = {}  # by scope: (row, access detail)
    for row_id, _, detail in rows:
        if detail == "MULTI-INDEX OR":
            first = _first_access(row_id, details, children)
            if first is not None:  # the table its searches read
                accesses.setdefault(scope(row_id), []).append((row_id, details[first]))
        elif _ACCESS.match(detail) and not _under_multi_index(row_id, details, parents):
            accesses.setdefault(scope(row_id), []).append((row_id, detail))
    found: list[tuple[int, _Loop]] = []
    for header, members in accesses.items():
        select = select_of(header)
        in_scope = [details[r] for r, _, _ in rows if scope(r) == header]
        sorts = select is not None and select.limit and any(_SORT.match(d) for d in in_scope)
        blooms = {m.group("name").lower() for d in in_scope if (m := _BLOOM.match(d))}
        subquery = _SUBQUERY.match(details[header]) if header else None
        # The tables whose own conditions could drive the join: not the inner side of a LEFT
        # JOIN (its condition, IS NULL say, cannot restrict the outer table's rows).
        names = ["" if " LEFT-JOIN" in detail else _shown(detail).lower() for _, detail in members]
        for position, (row_id, detail) in enumerate(members):
            loop = _loop(
                detail,
                statement,
                select,
                position=position,
                repeated=bool(subquery and subquery.group("correlated")),
                sorted=sorts,
                blooms=blooms,
                others=tuple(n for i, n in enumerate(names) if i != position),
            )
            found.append((row_id, loop))
    return [loop for _, loop in sorted(found, key=lambda pair: pair[0])]


def _is_header(row_id: int, details: Mapping[int, str], parents: Mapping[int, int]) -> bool:
    detail = details.get(row_id, "")
    if _SUBQUERY.match(detail) or _NAMED.match(detail):
        return True
    return bool(_COMPOUND.match(details.get(parents.get(row_id, -1), "")))


def _under_multi_index(row_id: int, details: Mapping[int, str], parents: Mapping[int, int]) -> bool:
    current = parents.get(row_id, 0)
    while current:
        if details.get(current) == "MULTI-INDEX OR":
            return True
        if _is_header(current, details, parents):
            return False
        current = parents.get(current, 0)
    return False


def _first_access(
    row_id: int, details: Mapping[int, str], children: Mapping[int, list[int]]
) -> int | None:
    """The first table access under ``row_id``."""
    for child in children.get(row_id, []):
        if _ACCESS.match(details[child]):
            return child
        found = _first_access(child, details, children)
        if found is not None:
            return found
    return None


def _shown(detail: str) -> str:
    """The name an access row shows: the alias when the statement gives one, else the table
    (without the schema SQLite shows when the statement names one: ``main.t``, ``archive.t``)."""
    found = _ACCESS.match(detail)
    assert found is not None
    if found.group("alias"):
        return str(found.group("alias"))
    name = str(found.group("name"))
    return name if name.startswith("(") else name.rsplit(".", 1)[-1]


def _loop(
    detail: str,
    statement: _Statement,
    select: _Select | None,
    *,
    position: int,
    repeated: bool,
    sorted: bool,
    blooms: set[str],
    others: tuple[str, ...],
) -> _Loop:
    found = _ACCESS.match(detail)
    assert found is not None
    shown = _shown(detail)
    using = found.group("using") or ""
    condition = found.group("condition")
    automatic = using.startswith("AUTOMATIC")
    owner, table = statement.resolve(shown, select)
    return _Loop(
        detail=detail,
        table=table,
        alias=owner.aliases.get(shown.lower(), shown) if owner else shown,
        index=found.group("index"),
        rowid=using.startswith("INTEGER"),
        automatic=automatic,
        condition=condition,
        full=found.group("verb") == "SCAN" or automatic or condition is None,
        position=position,
        repeated=repeated,
        sorted=sorted,
        bloom=shown.lower() in blooms,
        select=owner,
        others=others,
        statement=statement,
    )


def _finding(
    loop: _Loop,
    *,
    sorted_ranges: bool,
    truth: Callable[[str, str], bool | None] | None = None,
    listed: Listed | None = None,
) -> ScanFinding | None:
    select = loop.select
    alias = loop.alias
    own, joins, ors = select.conditions_of(alias, truth) if select else ([], [], [])
    if own is None:
        return None  # a condition no row passes: SQLite reads nothing
    sort_key = select.sort_keys(alias) if select and loop.sorted and loop.position == 0 else ()
    if not loop.full:
        joined = _joined_search(loop, own, joins, truth, listed)
        if joined is not None:
            return joined
        if not (sorted_ranges and sort_key and loop.condition):
            return None
        # What the index range leaves to filter: conjuncts on columns its condition lacks.
        rest = [c for c in own if not _within(_neutral(c, alias), loop.condition)]
        return ScanFinding(
            table=str(loop.table),
            node_type="SEARCH",
            rule=None,
            index_name=loop.index,
            filter=_and(rest, alias) or None,
            sort_key=sort_key,
            alias=alias,
            index_condition=loop.condition,
            sorted_range=True,
        )
    rule: Rule | None = None
    filter_text = _and(own, alias) or _and(ors, None)
    if filter_text:
        rule = Rule.FILTER
    join_filter = _and(joins, None) or None
    inner = loop.position > 0 or loop.repeated or loop.automatic or loop.bloom
    restricting = loop.position == 0 and select is not None and select.restricts(loop.others, truth)
    if join_filter and (inner or restricting):
        rule = rule or Rule.JOIN
    elif not inner:
        join_filter = None
    if sort_key:
        rule = rule or Rule.SORT_LIMIT
    node_type = "SCAN for an AUTOMATIC INDEX" if loop.automatic else loop.detail.split()[0]
    return ScanFinding(
        table=str(loop.table),
        node_type=node_type,
        rule=rule,
        index_name=loop.index,
        filter=filter_text or None,
        join_filter=join_filter,
        sort_key=sort_key,
        alias=alias,
    )


def _joined_search(
    loop: _Loop,
    own: Sequence[str],
    joins: Sequence[str],
    truth: Callable[[str, str], bool | None] | None,
    listed: Listed | None = None,
) -> ScanFinding | None:
    """A ``SEARCH`` whose index condition only takes the join key's values from another table
    (``queue_id=?`` fed by ``"ticket"."queue_id" = "queue"."id"`` or by ``queue_id IN (SELECT
    ...)``, or by a literal list that ``listed`` finds names every queue) while the table has
    conditions of its own left: when the other side keeps most of its rows, that reads the
    table whole (``ScanFinding.joined``, ``judge.settle``)."""
    select, alias = loop.select, loop.alias
    if select is None or not loop.condition or "LEFT-JOIN" in loop.detail:
        # The WHERE conditions of a LEFT JOIN's inner table (``IS NULL``: an anti join) are
        # judged after the join.
        return None
    columns = re.findall(r"(\w+)\s*(?:=|>|<|>=|<=)\s*\?", loop.condition)
    if not columns:
        return None
    key = alias.lower()
    driver: list[tuple[str, str]] = []
    fed: set[str] = set()
    feeding: set[str] = set()
    every: str | None = None
    for column in columns:
        for conjunct in joins:
            # A rowid lookup is fed by the join on the table's integer primary key, whatever
            # the column's name: one row per row of the other side, filtered by this table's
            # own conditions (judged as PostgreSQL's primary-key lookups are).
            named = column == "rowid" and loop.rowid and _feeds_rowid(loop, own, conjunct)
            if not (named or _names_column(conjunct, key, column)) or " OR " in conjunct.upper():
                continue
            fed.add(column)
            driver.extend(_own_conditions(select, sorted(_qualifiers(conjunct) - {key}), truth))
        for conjunct in own:
            found = _IN_SUBQUERY.match(conjunct.strip())
            if found and _names_column(found.group(1), key, column):
                sub = loop.statement.numbered(int(found.group(2))) if loop.statement else None
                if sub is None:
                    continue
                fed.add(column)
                feeding.add(conjunct)
                driver.extend(_own_conditions(sub, sub.sources, truth))
                continue
            keys = _listed_keys(conjunct, key, column)
            covered = listed(str(loop.table), column, keys) if keys and listed else None
            if covered is not None:
                fed.add(column)
                feeding.add(conjunct)
                every = covered
    if fed != set(columns):
        return None
    rest = [c for c in own if c not in feeding and not _within(_neutral(c, alias), loop.condition)]
    # Sorted under a LIMIT by its own first key (the page of a ticket list): production may as
    # well walk this table first, in the order of an index on that key.
    sort_key = select.sort_keys(alias) if loop.sorted else ()
    if not rest and not sort_key:
        return None
    return ScanFinding(
        table=str(loop.table),
        node_type="SEARCH",
        rule=Rule.FILTER if rest else Rule.SORT_LIMIT,
        index_name=loop.index,
        filter=_and(rest, alias) or None,
        join_filter=loop.condition,
        sort_key=sort_key,
        alias=alias,
        driver=tuple(dict.fromkeys(driver)),
        joined=True,
        every_key=every,
    )


def _walked_past_the_list(finding: ScanFinding, schema: Schema) -> bool:
    if not finding.every_key or finding.filter or not finding.sort_key:
        return False
    column = sort_column(finding.sort_key[0], [])
    return column is not None and bool(schema.leading(finding.table, column.lstrip("-")))


class _EveryKey:
    """``Listed`` on the test's connection: whether a literal list of keys names every row of
    the table its column references (one query per list, only for a foreign key's column). Not
    for a prefetch, whose list is the rows its outer query returned. ``asked``: a list was
    looked at, so the verdict rests on the values; ``errors``: queries that failed (the list is
    then judged as restricting)."""

    def __init__(self, raw: Any, context: boundary.Context) -> None:
        self.raw = raw
        self.context = context
        self.asked = False
        self.errors: list[BaseException] = []

    def __call__(self, table: str, column: str, keys: list[str]) -> str | None:
        reference = self.context.schema.references.get((table, column))
        if reference is None or len(keys) < 2:
            return None
        self.asked = True
        prefetching = self.context.prefetching
        if prefetching is not None and prefetching():
            return None
        target, key = reference
        query = boundary.every_key_query(
            quote_identifier,
            target,
            key,
            f"IN ({', '.join(keys)})",
            keys=len(keys),
            parent=self.context.schema.parent_column(target, key),
        )
        try:
            [answer] = _fetch(self.raw, query)
        except Exception as exc:
            self.errors.append(exc)
            return None
        return boundary.every_key(target, *answer)


# A literal list of two keys or more: numbers or quoted strings.
_LITERAL = r"(?:-?\d+(?:\.\d+)?|'(?:[^']|'')*')"
_A_LIST = re.compile(rf"\bIN\s*\(\s*{_LITERAL}\s*,", re.IGNORECASE)
_LIST_OF_KEYS = re.compile(
    rf"^\(*\s*(.+?)\s+IN\s*\((\s*{_LITERAL}(?:\s*,\s*{_LITERAL})+\s*)\)\s*\)*$", re.IGNORECASE
)
# (table, column, the list's keys as SQL literals) -> what the list covers, when it names every
# row of the table the column references (``SQLite.assess``).
Listed = Callable[[str, str, list[str]], "str | None"]


def _listed_keys(conjunct: str, alias: str, column: str) -> list[str] | None:
    """The keys of ``conjunct`` when it is ``<alias>.<column> IN (<two literals or more>)``."""
    found = _LIST_OF_KEYS.match(conjunct.strip())
    if found is None or not _names_column(found.group(1), alias, column):
        return None
    return re.findall(_LITERAL, found.group(2))


def _feeds_rowid(loop: _Loop, own: Sequence[str], conjunct: str) -> bool:
    """Whether the join condition ``conjunct`` gives a later table's rowid lookup its value
    from another table: it names a column of the table, no condition of the table's own names
    that column (``"id" = 5`` gives the value itself), and the other side is a table, not a
    derived table or a CTE (whose rows are restricted inside it)."""
    select = loop.select
    if loop.position == 0 or select is None:
        return False
    others = _qualifiers(conjunct) - {loop.alias.lower()}
    ctes = loop.statement.ctes if loop.statement else set()
    if not others or any(
        o in ctes or not (select.sources.get(o) or select.sources.get(o.lower())) for o in others
    ):
        return False
    columns = [
        match.group(1)
        for match in re.finditer(rf'{_alias_pattern(loop.alias)}\."?(\w+)"?', conjunct)
    ]
    return bool(columns) and not any(
        # Literals blanked, quoted names kept: Django quotes every column it names.
        re.search(rf"\b{re.escape(column)}\b", _STRING.sub("''", condition))
        for condition in own
        for column in columns
    )


def _own_conditions(
    select: _Select,
    aliases: Iterable[str],
    truth: Callable[[str, str], bool | None] | None,
) -> list[tuple[str, str]]:
    """Each condition ``select`` holds of one of ``aliases`` alone, with that alias's table
    ("" for a derived table), in the judgement's spelling (``ScanFinding.driver``)."""
    return [
        (select.sources.get(alias) or "", _neutral(condition, alias))
        for alias in aliases
        for condition in select.conditions_of(alias, truth)[0] or []
    ]


_IN_SUBQUERY = re.compile(r"^\(*\s*(.+?)\s+IN\s*\(SubPlan (\d+)\)\s*\)*$", re.IGNORECASE)


def _names_column(text: str, alias: str, column: str) -> bool:
    """Whether ``text`` names ``alias.column`` (quoted or not)."""
    pattern = (
        rf'(?i)(?<![\w"]){_alias_pattern(alias)}\.(?:"{re.escape(column)}"|{re.escape(column)}\b)'
    )
    return re.search(pattern, text) is not None


def _within(conjunct: str, condition: str) -> bool:
    """Whether every column ``conjunct`` compares is in an index ``condition`` ("a=? AND b>?")."""
    equality, ranges = filter_columns(conjunct, [])
    columns = [*equality, *ranges]
    return bool(columns) and all(mentions(condition, column) for column in columns)


def _and(conditions: Sequence[str], own: str | None) -> str:
    """Conjuncts as one condition in the judgement's spelling (see ``_neutral``)."""
    parts = [_neutral(condition, own) for condition in conditions]
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({part})" for part in parts)


# -- the statement's text --------------------------------------------------------------------

_OPAQUE = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|/\*.*?(?:\*/|\Z)",
    re.DOTALL,
)
_STRING = re.compile(r"'(?:[^']|'')*'")
_UPPER = re.compile(
    r"\b(?:and|or|not|in|is|null|like|glob|regexp|escape|between|exists|all|any)\b", re.I
)
_NAME = r"(?:\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]|[\w$]+)"
_SOURCE = re.compile(
    rf"^(?P<name>{_NAME}(?:\s*\.\s*{_NAME})?|\(\s*SubPlan\s+(?P<sub>\d+)\s*\))"
    rf"(?P<call>\s*\()?(?:\s+(?:AS\s+)?(?P<alias>{_NAME}))?",
    re.IGNORECASE,
)
_AGGREGATE = re.compile(r"\b(?:SUM|COUNT|AVG|MIN|MAX|TOTAL|GROUP_CONCAT)\s*\(", re.IGNORECASE)
_CLAUSES = re.compile(
    r"\b(?:FROM|WHERE|GROUP\s+BY|HAVING|WINDOW|ORDER\s+BY|LIMIT|OFFSET|RETURNING|SET"
    r"|ON\s+CONFLICT)\b",
    re.IGNORECASE,
)
_JOIN = re.compile(
    r",|\b(?:NATURAL\s+)?(?:(?:LEFT|RIGHT|FULL)\s+(?:OUTER\s+)?|INNER\s+|CROSS\s+)?JOIN\b",
    re.IGNORECASE,
)
_COMPOUND_OPERATOR = re.compile(r"\b(?:UNION\s+ALL|UNION|INTERSECT|EXCEPT)\b", re.IGNORECASE)
_BODY = re.compile(r"\b(?:SELECT|VALUES|INSERT|REPLACE|UPDATE|DELETE)\b", re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\b", re.IGNORECASE)
_ON = re.compile(r"\bON\b", re.IGNORECASE)
_TAIL = re.compile(r"\bON\s+CONFLICT\b|\bRETURNING\b", re.IGNORECASE)
_QUERY_START = re.compile(r"\(\s*(?:SELECT|WITH|VALUES)\b", re.IGNORECASE)
_QUALIFIER = re.compile(r'(?<![\w."$])("?)([A-Za-z_][\w$]*)\1\.(?=["A-Za-z_`\[])')
_BETWEEN = re.compile(
    rf"(?P<operand>{_NAME}(?:\.{_NAME})?)\s+(?P<negated>NOT\s+)?BETWEEN\s+"
    r"(?P<low>'(?:[^']|'')*'|[-+\w.]+)\s+AND\s+(?P<high>'(?:[^']|'')*'|[-+\w.]+)",
    re.IGNORECASE,
)


def _mask(text: str) -> str:
    """``text`` with the insides of literals, quoted names and comments blanked, same length:
    keywords and parentheses can then be found by position."""

    def blank(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith(("--", "/*")):
            return " " * len(token)
        return token[0] + "_" * (len(token) - 2) + token[-1]

    return _OPAQUE.sub(blank, text)


_TOKENS = re.compile(
    rf"(?P<opaque>{_OPAQUE.pattern})|(?P<space>\s+)|(?P<word>{_UPPER.pattern})", re.I | re.S
)


# Django's own SQL needs no normalising: single spaces, upper-case keywords, no comments.
_UNUSUAL = re.compile(rf"--|/\*|\s\s|[\t\n\r\f\v]|{_UPPER.pattern}")


def _normalise(text: str) -> str:
    """Comments dropped, white space folded and the operator keywords upper-cased, outside
    literals and quoted names."""
    if _UNUSUAL.search(text) is None:
        return text.strip()

    def token(match: re.Match[str]) -> str:
        if match.group("space") is not None:
            return " "
        found = match.group(0)
        if match.group("word") is not None:
            return found.upper()
        return " " if found.startswith(("--", "/*")) else found

    return _TOKENS.sub(token, text).strip()


def _pairs(masked: str) -> dict[int, int]:
    """The closing parenthesis of each opening one."""
    pairs, stack = {}, []
    for parenthesis in _PARENTHESIS.finditer(masked):
        if parenthesis.group(0) == "(":
            stack.append(parenthesis.start())
        elif stack:
            pairs[stack.pop()] = parenthesis.start()
    return pairs


_PARENTHESIS = re.compile(r"[()]")


class _Levels:
    """A masked text and where its parentheses are, to find what lies outside them."""

    def __init__(self, masked: str) -> None:
        self.masked = masked
        self.opens: list[int] = []
        self.closes: list[int] = []
        for parenthesis in _PARENTHESIS.finditer(masked):
            (self.opens if parenthesis.group(0) == "(" else self.closes).append(parenthesis.start())

    def top(
        self, pattern: re.Pattern[str], start: int = 0, end: int | None = None
    ) -> list[re.Match[str]]:
        """Matches of ``pattern`` in ``masked[start:end]`` outside any parenthesis opened there."""
        end = len(self.masked) if end is None else end
        found = list(pattern.finditer(self.masked, start, end))
        if not found:
            return found
        level = bisect.bisect_left(self.opens, start) - bisect.bisect_left(self.closes, start)
        return [
            m
            for m in found
            if bisect.bisect_left(self.opens, m.start())
            - bisect.bisect_right(self.closes, m.start())
            == level
        ]

    def split(self, start: int, end: int, separator: str) -> list[tuple[int, int]]:
        """Spans of ``masked[start:end]`` between top-level ``separator`` characters."""
        spans, begin = [], start
        for cut in self.top(re.compile(re.escape(separator)), start, end):
            spans.append((begin, cut.start()))
            begin = cut.end()
        spans.append((begin, end))
        return spans


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] in '"`[' and name[-1] in '"`]':
        inner = name[1:-1]
        return inner.replace('""', '"') if name[0] == '"' else inner
    return name


def _qualifiers(text: str) -> set[str]:
    """Lower-cased names before a dot outside literals: the tables a condition refers to."""
    plain = _STRING.sub("''", text)
    return {match.group(2).lower() for match in _QUALIFIER.finditer(plain)}


@dataclass
class _Select:
    """One SELECT of the statement (a compound's part, a sub-query, a CTE), or its UPDATE or
    DELETE: the tables it reads by alias and what it says about them."""

    start: int
    end: int
    region: int
    part: int
    kind: str = "select"
    name: str | None = None
    sources: dict[str, str | None] = field(default_factory=dict)  # alias -> table (None: derived)
    aliases: dict[str, str] = field(default_factory=dict)  # lower-cased alias -> as written
    conditions: list[str] = field(default_factory=list)
    order_by: list[str] = field(default_factory=list)
    limit: bool = False
    grouped: bool = False  # GROUP BY: the rows sorted are groups

    def conditions_of(
        self, alias: str, truth: Callable[[str, str], bool | None] | None = None
    ) -> tuple[list[str] | None, list[str], list[str]]:
        """The conjuncts about ``alias`` alone, those joining it to other tables, and the ORs
        across tables that name it. With ``truth``, the first leave out what every row of the
        table passes, and are None when a conjunct no row passes stands among them."""
        key = alias.lower()
        single = len(self.sources) == 1
        table = self.sources.get(alias) or self.sources.get(key)
        own: list[str] | None = []
        joins, ors = [], []
        for condition in self.conditions:
            named = _qualifiers(condition)
            if named <= {key} and (named or single):
                verdict = truth(table, condition) if truth is not None and table else None
                if verdict is False:
                    own = None
                elif verdict is None and own is not None:
                    own.append(condition)
            elif key in named and " OR " in condition and len(top_level(condition, "OR")) > 1:
                ors.append(condition)
            elif key in named:
                joins.append(condition)
        return own, joins, ors

    def restricts(
        self, others: Iterable[str], truth: Callable[[str, str], bool | None] | None = None
    ) -> bool:
        """Whether a condition of its own restricts one of ``others`` (aliases)."""
        return any(
            self.conditions_of(other, truth)[0] != [] for other in others if other in self.sources
        )

    def sort_keys(self, alias: str) -> tuple[str, ...]:
        """The ORDER BY keys that belong to ``alias``, up to the first that does not. Of a
        grouped SELECT only the table's own columns, as Django writes them (qualified): a
        position (``ORDER BY 2``), an aggregate or an annotation's name orders by a value
        no index holds."""
        keys = []
        for key in self.order_by:
            named = _qualifiers(key)
            if not (named <= {alias.lower()} and (named or len(self.sources) == 1)):
                break
            if self.grouped and (not named or _AGGREGATE.search(key)):
                break
            keys.append(_neutral(key, alias))
        return tuple(keys)


class _Statement:
    """A statement's SELECTs, numbered as SQLite numbers them: in the order they end."""

    def __init__(self, text: str) -> None:
        self.text = _normalise(text)
        masked = _mask(self.text)
        levels = _Levels(masked)
        pairs = _pairs(masked)
        regions = [(0, len(self.text))] + [
            (m.start() + 1, pairs.get(m.start(), len(self.text)))
            for m in _QUERY_START.finditer(masked)
        ]
        self.selects: list[_Select] = []
        names: dict[int, str] = {}
        for number, (start, end) in enumerate(regions):
            self.selects.extend(
                _parts(levels, (start, end), number, regions=regions, names=names, text=self.text)
            )
        # A CTE is read by its name like a table; its own SELECT's reads are what count.
        self.ctes = {_unquote(self.text[a:b]).lower() for a, b in _cte_names(masked, regions)}
        numbered = sorted((s for s in self.selects if s.kind == "select"), key=lambda s: s.end)
        self.by_number = {number: select for number, select in enumerate(numbered, 1)}
        # A parenthesised query is known by the number of its last part.
        last = {s.region: number for number, s in self.by_number.items()}
        for select in self.selects:
            select.name = names.get(select.region)
            _read(select, self.text, masked, regions=regions, last=last, names=names)
        for select in self.selects:  # derived tables named in a FROM clause of another
            if select.name is None:
                select.name = names.get(select.region)

    def part(self, region: int, part: int) -> _Select | None:
        return next((s for s in self.selects if s.region == region and s.part == part), None)

    def numbered(self, number: int) -> _Select | None:
        return self.by_number.get(number)

    def named(self, name: str) -> _Select | None:
        key = _unquote(name).lower()
        return next((s for s in self.selects if s.name and s.name.lower() == key), None)

    def resolve(self, shown: str, select: _Select | None) -> tuple[_Select | None, str | None]:
        """The SELECT that reads ``shown`` (the plan's name: an alias or a table) and its table:
        the plan row's own SELECT first, then any (SQLite flattens sub-queries and views).
        A name no SELECT declares is taken as a table (read by a view)."""
        key = shown.lower()
        if key in self.ctes or shown.startswith("("):
            return None, None  # a CTE or a derived table: its own SELECT's reads count
        if select is not None and key in select.sources:
            return select, select.sources[key]
        for other in self.selects:
            if other.sources.get(key) is not None:
                return other, other.sources[key]
        if any(key in other.sources for other in self.selects):
            return None, None  # a derived table
        return None, shown


def _parts(
    levels: _Levels,
    span: tuple[int, int],
    region: int,
    *,
    regions: Sequence[tuple[int, int]],
    names: dict[int, str],
    text: str,
) -> list[_Select]:
    """The SELECTs of one parenthesised query (or the statement): after its CTEs, the parts
    of a compound, the SELECT of an INSERT, or an UPDATE or a DELETE."""
    start, end = span
    masked = levels.masked
    body = next(iter(levels.top(_BODY, start, end)), None)
    if body is None:
        return []
    _name_ctes(masked, text, start, body.start(), regions=regions, names=names)
    keyword = body.group(0).upper()
    if keyword in ("UPDATE", "DELETE"):
        return [_Select(body.start(), end, region, 0, kind=keyword.lower())]
    begin = body.start()
    if keyword in ("INSERT", "REPLACE"):
        select = next(iter(levels.top(_SELECT, begin, end)), None)
        if select is None:
            return []
        conflict = levels.top(_TAIL, start, end)
        begin = select.start()
        end = next((m.start() for m in conflict if m.start() > begin), end)
    cuts = [m for m in levels.top(_COMPOUND_OPERATOR, start, end) if m.start() > begin]
    spans, part_start = [], begin
    for cut in cuts:
        spans.append((part_start, cut.start()))
        part_start = cut.end()
    spans.append((part_start, end))
    return [_Select(a, b, region, number) for number, (a, b) in enumerate(spans)]


_CTE = re.compile(
    rf"({_NAME})\s*(?:\([^()]*\))?\s+AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?$", re.IGNORECASE
)


def _cte(masked: str, start: int, inner: int) -> re.Match[str] | None:
    """``name [(columns)] AS [NOT] [MATERIALIZED]`` right before the query at ``inner``."""
    return _CTE.search(masked, start, inner - 1)


def _cte_names(masked: str, regions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of the names of every CTE of the statement."""
    found = []
    for inner, _ in regions[1:]:
        match = _cte(masked, 0, inner)
        if match is not None:
            found.append(match.span(1))
    return found


def _name_ctes(
    masked: str,
    text: str,
    start: int,
    body: int,
    *,
    regions: Sequence[tuple[int, int]],
    names: dict[int, str],
) -> None:
    """The names of the CTEs defined before ``body``, by their query's region, as the plan
    shows them (unquoted: ``MATERIALIZE name`` for ``WITH "name" AS ...``)."""
    for number, (inner, _) in enumerate(regions):
        if start < inner <= body:
            found = _cte(masked, start, inner)
            if found is not None:
                names[number] = _unquote(text[found.start(1) : found.end(1)])


def _read(
    select: _Select,
    text: str,
    masked: str,
    *,
    regions: Sequence[tuple[int, int]],
    last: Mapping[int, int],
    names: dict[int, str],
) -> None:
    """Fill ``select`` from its own text: every sub-query in it replaced by ``SubPlan n``."""
    own, own_masked = _flatten(select, text, masked, regions, last)
    levels = _Levels(own_masked)
    clauses = [(m.group(0).split()[0].upper(), m) for m in levels.top(_CLAUSES)]
    spans: dict[str, tuple[int, int]] = {}
    for index, (keyword, match) in enumerate(clauses):
        if keyword not in spans:
            stop = clauses[index + 1][1].start() if index + 1 < len(clauses) else len(own)
            spans[keyword] = (match.end(), stop)

    def clause(keyword: str) -> str:
        start, stop = spans.get(keyword, (0, 0))
        return own[start:stop].strip()

    if select.kind == "update":
        head = own[: clauses[0][1].start()] if clauses else own
        target = re.sub(r"^UPDATE\s+(?:OR\s+\w+\s+)?", "", head.strip(), flags=re.IGNORECASE)
        _add_source(select, target, names, last)
    elif select.kind == "delete":
        _add_source(select, clause("FROM"), names, last)
    if "FROM" in spans and select.kind != "delete":
        _read_from(select, own, levels, spans["FROM"], names=names, last=last)
    if "WHERE" in spans:
        select.conditions.extend(_conjuncts(clause("WHERE")))
    if "ORDER" in spans:
        start, stop = spans["ORDER"]
        select.order_by = [own[a:b].strip() for a, b in levels.split(start, stop, ",")]
    limit = clause("LIMIT").split(" ")[0]
    select.limit = bool(limit) and limit != "-1"
    select.grouped = "GROUP" in spans


def _flatten(
    select: _Select,
    text: str,
    masked: str,
    regions: Sequence[tuple[int, int]],
    last: Mapping[int, int],
) -> tuple[str, str]:
    """The SELECT's text and its mask with each directly nested query as ``SubPlan n``."""
    nested = sorted(
        (inner, stop, number)
        for number, (inner, stop) in enumerate(regions)
        if number != select.region and select.start <= inner and stop <= select.end
    )
    pieces, masks, position = [], [], select.start
    for inner, stop, number in nested:
        if inner < position:
            continue  # inside a query already replaced
        label = f"SubPlan {last.get(number, 0)}"
        pieces += [text[position:inner], label]
        masks += [masked[position:inner], label]
        position = stop
    pieces.append(text[position : select.end])
    masks.append(masked[position : select.end])
    return "".join(pieces), "".join(masks)


def _read_from(
    select: _Select,
    text: str,
    levels: _Levels,
    span: tuple[int, int],
    *,
    names: dict[int, str],
    last: Mapping[int, int],
) -> None:
    """The tables of a FROM clause (``text[span]``) and the conditions of its joins."""
    start, stop = span
    items, begin = [], start
    for cut in levels.top(_JOIN, start, stop):
        items.append((begin, cut.start()))
        begin = cut.end()
    items.append((begin, stop))
    for a, b in items:
        on = levels.top(_ON, a, b)
        if on:
            select.conditions.extend(_conjuncts(text[on[0].end() : b]))
            b = on[0].start()  # noqa: PLW2901
        _add_source(select, text[a:b], names, last)


def _add_source(select: _Select, item: str, names: dict[int, str], last: Mapping[int, int]) -> None:
    item = re.sub(r"\s+(?:INDEXED\s+BY\s+\S+|NOT\s+INDEXED)\b.*$", "", item.strip(), flags=re.I)
    item = re.sub(r"\s+USING\s*\(.*$", "", item, flags=re.IGNORECASE)
    found = _SOURCE.match(item)
    if found is None:
        return
    alias = found.group("alias")
    if alias and alias.upper() in ("WHERE", "ON", "SET", "USING"):
        alias = None
    if found.group("sub"):
        written = _unquote(alias) if alias else f"(subquery-{found.group('sub')})"
        select.sources[written.lower()] = None
        select.aliases[written.lower()] = written
        number = int(found.group("sub"))
        for region, numbered in last.items():
            if numbered == number and alias:
                names.setdefault(region, written)
        return
    table = _unquote(re.split(r"\s*\.\s*(?=[\"`\[\w$])", found.group("name"))[-1])
    written = _unquote(alias) if alias else table
    select.sources[written.lower()] = None if found.group("call") else table
    select.aliases[written.lower()] = written


def _conjuncts(text: str) -> list[str]:
    """A condition's top-level conjuncts, ``BETWEEN a AND b`` as two of them."""

    def between(match: re.Match[str]) -> str:
        operand, low, high = match.group("operand"), match.group("low"), match.group("high")
        both = f"{operand} >= {low} AND {operand} <= {high}"
        return f"NOT ({both})" if match.group("negated") else both

    text = text.strip()
    if "BETWEEN" in text:
        text = _outside_literals(text, lambda part: part, between_pattern=between)
    if " AND " not in text and not text.startswith("("):
        return [text] if text else []
    return [part for part in top_level(text, "AND") if part]


def _outside_literals(
    text: str,
    change: Callable[[str], str],
    *,
    between_pattern: Callable[[re.Match[str]], str] | None = None,
) -> str:
    """``change`` applied to the text between string literals (the BETWEEN rewrite needs the
    literals it spans, so it runs on the whole text with the literals' insides masked)."""
    if between_pattern is not None:
        masked = _STRING.sub(lambda m: "'" + "_" * (len(m.group(0)) - 2) + "'", text)
        pieces, position = [], 0
        for match in _BETWEEN.finditer(masked):
            real = _BETWEEN.match(text, match.start())
            if real is None:
                continue
            pieces += [text[position : match.start()], between_pattern(real)]
            position = real.end()
        pieces.append(text[position:])
        text = "".join(pieces)
    if "'" not in text:
        return change(text)
    pieces, position = [], 0
    for match in _STRING.finditer(text):
        pieces += [change(text[position : match.start()]), match.group(0)]
        position = match.end()
    pieces.append(change(text[position:]))
    return "".join(pieces)


_QUALIFIED_NAME = rf"{_NAME}(?:\.{_NAME})?"
# (a word the text must hold, the pattern, its replacement): the judgement's spelling.
_SPELLING: tuple[tuple[str, re.Pattern[str], Any], ...] = (
    ('"', re.compile(r'(?<![\w."])"([A-Za-z_][\w$]*)"\.'), r"\1."),
    (
        "SubPlan",
        re.compile(rf"{_QUALIFIED_NAME}\s+NOT\s+IN\s*\(\s*(SubPlan \d+)\s*\)"),
        r"NOT (\1)",
    ),
    ("SubPlan", re.compile(rf"{_QUALIFIED_NAME}\s+IN\s*\(\s*(SubPlan \d+)\s*\)"), r"(\1)"),
    ("IN", re.compile(r"\bNOT\s+IN\s*\("), "<> ALL ("),
    ("IN", re.compile(r"\bIN\s*\("), "= ANY ("),
    ("LIKE", re.compile(r"\bNOT\s+LIKE\b"), "!~~"),
    ("LIKE", re.compile(r"\bLIKE\b"), "~~"),
    ("REGEXP", re.compile(r"\bNOT\s+REGEXP\b"), "!~"),
    ("REGEXP", re.compile(r"\bREGEXP\b"), "~"),
    ("RAND", re.compile(r"\bRAND(?:OM)?\(\)"), "random()"),
    ("UPPER", re.compile(r"\bUPPER\("), "upper("),
    ("LOWER", re.compile(r"\bLOWER\("), "lower("),
)
_ESCAPE = re.compile(r"\s+ESCAPE\s+'(?:[^']|'')*'")
_NOT_ANY = re.compile(rf"NOT \(({_QUALIFIED_NAME}) = ANY (\(.*\))\)")


def _neutral(condition: str, own: str | None) -> str:
    """A condition of the statement in the spelling the shared judgement reads (PostgreSQL's
    plans): the scanned table's own qualifier dropped and the others unquoted, ``LIKE`` as
    ``~~``, ``IN (list)`` as ``= ANY (list)``, ``NOT IN`` as ``<> ALL``, ``col IN (sub-query)``
    as ``(SubPlan n)``, ``upper()``/``lower()``/``random()`` in lower case (Django's SQLite
    functions are upper-case, its random is ``RAND()``)."""
    text = _ESCAPE.sub("", condition.strip())
    mine = re.compile(rf'(?<![\w."]){_alias_pattern(own)}\.') if own is not None else None

    def change(part: str) -> str:
        if mine is not None:
            part = mine.sub("", part)
        upper = part.upper()
        for word, pattern, replacement in _SPELLING:
            if word in (part if word in ('"', "SubPlan") else upper):
                part = pattern.sub(replacement, part)
        return part

    text = _outside_literals(text, change)
    # exclude(field__in=[...]): NOT (field = ANY (...)) is what PostgreSQL shows as <> ALL.
    found = _NOT_ANY.fullmatch(text)
    if found and _pairs(_mask(found.group(2))).get(0) == len(found.group(2)) - 1:
        return f"{found.group(1)} <> ALL {found.group(2)}"
    return text


def _alias_pattern(alias: str) -> str:
    quoted = '"' + alias.replace('"', '""') + '"'
    return f"(?i:{re.escape(quoted)}|{re.escape(alias)})"
