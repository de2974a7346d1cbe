"""Running EXPLAIN on the test's own PostgreSQL connection without changing what the test sees.

One round trip per statement: the savepoint, the planner settings, the EXPLAIN and the rollback go
as one multi-statement string. Outside a transaction (autocommit, or psycopg has not sent BEGIN
yet) the string runs as one implicit transaction, so ``SET LOCAL`` still applies and nothing is
left behind.

The exchange uses the libpq wrapper (``Connection.pgconn``) directly rather than a psycopg
cursor: psycopg discards the connection's prepared statements whenever a result says
``ROLLBACK``, and ``ROLLBACK TO SAVEPOINT`` says exactly that. Going through ``pgconn`` keeps a
project that uses server-side binding from losing its prepared statements to the guard.
"""

from __future__ import annotations

import json
import select
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

try:
    from psycopg import pq
except ModuleNotFoundError:  # a psycopg2 project: PostgreSQL.unsupported says so, nothing runs
    pq = None  # type: ignore[assignment]

from pytest_indexguard import explain as boundary
from pytest_indexguard import judge
from pytest_indexguard.model import PSYCOPG2, Rule, ScanFinding
from pytest_indexguard.plan import (
    analyze,
    index_conditions,
    indexes_used,
    mentions,
    relations,
    root_plan,
    scanned_from_temporary_schema,
    signature,
)
from pytest_indexguard.schema import IndexInfo, Schema
from pytest_indexguard.sqltext import mask_plan_expression, quote_identifier
from pytest_indexguard.suggest import Suggestion, expression_key, sql_keys

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from psycopg.pq.abc import PGconn, PGresult


SAVEPOINT = "indexguard_explain"
# Never wait for a lock held by another connection (an ALTER TABLE in progress): the statement
# is reported as not explained, and the test's own statement waits as it would anyway.
LOCK_TIMEOUT = "SET LOCAL lock_timeout = '500ms'; "
FORCED_SETTINGS = (
    LOCK_TIMEOUT + "SET LOCAL enable_seqscan = off; "
    "SET LOCAL enable_hashjoin = off; "
    "SET LOCAL enable_mergejoin = off; "
)
_ROLLBACK = f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"


def can_explain(raw: Any) -> str | None:
    """Why this connection cannot be used for EXPLAIN right now, or None when it can."""
    pgconn = raw.pgconn
    status = pgconn.transaction_status
    if status == pq.TransactionStatus.INERROR:
        return "the transaction is aborted"
    if status not in (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS):
        return "the connection is busy"
    if pgconn.pipeline_status != pq.PipelineStatus.OFF:
        return "the connection is in pipeline mode"
    return None


# For a second opinion on a full *index* scan with a Filter: is there an index whose condition
# serves the filter, which the planner skipped only to walk another index in order?
NO_INDEX_SCANS = "SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; "
# For a sorted index range: is there an index that gives the rows of the key in order, which
# the planner skipped only because sorting a few rows costs nothing?
NO_SORT = "SET LOCAL enable_sort = off; "


def explain(raw: Any, statement: str, *, forced: bool, extra: str = "") -> boundary.Explained:
    """EXPLAIN ``statement`` (parameters already bound) on the psycopg connection ``raw``."""
    body = f"{FORCED_SETTINGS if forced else LOCK_TIMEOUT}{extra}EXPLAIN (FORMAT JSON) {statement}"
    results, round_trips = _protected(raw, body)
    for result in results:
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
            value = result.get_value(0, 0)
            if value is not None:
                return boundary.Explained(plan=json.loads(bytes(value)), round_trips=round_trips)
    raise boundary.NotExplained("EXPLAIN returned no plan")


def explain_many(raw: Any, statements: list[str]) -> list[Any | None]:
    """Forced plans of several statements in one round trip (the judgement's probes). When one
    of them fails, each is planned on its own, and the failing ones answer None."""
    if not statements:
        return []
    body = FORCED_SETTINGS + "\n; ".join(f"EXPLAIN (FORMAT JSON) {s}" for s in statements)
    try:
        results, _ = _protected(raw, body)
    except boundary.NotExplained:
        if len(statements) == 1:
            return [None]
        return [explain_many(raw, [statement])[0] for statement in statements]
    plans = [
        json.loads(bytes(r.get_value(0, 0) or b"null"))
        for r in results
        if r.status == pq.ExecStatus.TUPLES_OK and r.ntuples
    ]
    return plans if len(plans) == len(statements) else [None] * len(statements)


_SIZES = """
    SELECT c.relname,
           COALESCE(SUM(CASE WHEN k.reltuples >= 0 AND k.relpages > 0 THEN k.reltuples
                             ELSE (pg_relation_size(k.oid) / current_setting('block_size')::int)
                                  * floor((current_setting('block_size')::int - 24)
                                          / (28 + COALESCE((SELECT sum(CASE WHEN a.attlen > 0
                                                                       THEN a.attlen ELSE 32 END)
                                                            FROM pg_attribute a
                                                            WHERE a.attrelid = k.oid
                                                              AND a.attnum > 0
                                                              AND NOT a.attisdropped), 0)))
                        END), 0)::bigint AS rows,
           bool_or(k.reltuples >= 0 AND k.relpages > 0) AS analysed
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN LATERAL (
        SELECT c.oid WHERE c.relkind <> 'p'
        UNION ALL
        SELECT t.relid FROM pg_partition_tree(c.oid) t WHERE c.relkind = 'p' AND t.isleaf
    ) leaf(oid) ON true
    JOIN pg_class k ON k.oid = leaf.oid
    WHERE c.relkind IN ('r', 'p', 'm') AND {where}
    GROUP BY c.relname
    ORDER BY c.relname
"""
USER_TABLES = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
    "AND n.nspname NOT LIKE 'pg_temp%'"
)


def sizes_query(tables: Iterable[str] | None = None) -> str:
    """Row estimates from the catalog: ``pg_class.reltuples`` once analysed, else the
    page-based estimate (current pages times the rows that fit in a page). A partitioned table
    is the sum of its leaf partitions. Never the plan's ``Plan Rows``, which is an output
    estimate and invented on never-analysed tables. ``tables=None``: every user table."""
    if tables is None:
        return _SIZES.format(where=USER_TABLES)
    literal = ", ".join(_quote_literal(name) for name in sorted(set(tables)))
    return _SIZES.format(where=f"c.relname IN ({literal}) AND pg_table_is_visible(c.oid)")


def size_source(analysed: bool) -> str:
    return "pg_class.reltuples" if analysed else "page-based estimate"


def table_sizes(raw: Any, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Row estimates of ``tables`` on the test's connection (see ``sizes_query``); a table never
    analysed is counted (up to ``COUNT_BOUND`` rows) rather than estimated from its pages."""
    names = sorted(set(tables))
    if not names:
        return {}
    results, _ = _protected(raw, sizes_query(names))
    sizes: dict[str, tuple[int, str]] = {}
    for result in results:
        if result.status != pq.ExecStatus.TUPLES_OK:
            continue
        for row in range(result.ntuples):
            name = bytes(result.get_value(row, 0) or b"").decode()
            rows = int(bytes(result.get_value(row, 1) or b"0"))
            analysed = bytes(result.get_value(row, 2) or b"f") == b"t"
            sizes[name] = (rows, size_source(analysed))
    unanalysed = [name for name, (_, source) in sizes.items() if source != size_source(True)]
    if unanalysed:
        # The page-based estimate makes a one-row table 80 rows: count instead, up to a bound
        # (a table that big is big whatever its exact size).
        counts = "; ".join(
            f"SELECT count(*) FROM (SELECT 1 FROM {quote_identifier(name)} "
            f"LIMIT {boundary.COUNT_BOUND}) AS bounded"
            for name in unanalysed
        )
        counted, _ = _protected(raw, counts)
        values = [r for r in counted if r.status == pq.ExecStatus.TUPLES_OK and r.ntuples]
        for name, result in zip(unanalysed, values, strict=False):
            rows = int(bytes(result.get_value(0, 0) or b"0"))
            sizes[name] = boundary.counted(rows)
    return sizes


_INDEXES = """
    SELECT t.relname, i.relname, x.indisunique, x.indisprimary, x.indpred IS NOT NULL,
           array_to_string(ARRAY(
               SELECT COALESCE(a.attname, pg_get_indexdef(x.indexrelid, k.position::int, true))
                      || CASE WHEN (x.indoption[k.position - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                      || E'\\x1e' || COALESCE(a.attname, '')
               FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, position)
               LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                                       AND k.attnum > 0
               WHERE k.position <= x.indnkeyatts
               ORDER BY k.position
           ), E'\\x1f'),
           x.indisvalid AND x.indisready, am.amname, pg_get_expr(x.indpred, x.indrelid, true)
    FROM pg_index x
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE {where}
    ORDER BY t.relname, i.relname
"""
_PARENTS = f"""
    SELECT c.relname, p.relname
    FROM pg_inherits h
    JOIN pg_class c ON c.oid = h.inhrelid
    JOIN pg_class p ON p.oid = h.inhparent
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE p.relkind = 'p' AND {USER_TABLES}
"""
_EXTENSIONS = "SELECT extname FROM pg_extension"
_NOT_NULL = f"""
    SELECT c.relname, a.attname
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attnotnull AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
      AND {USER_TABLES}
"""


def indexes(raw: Any) -> list[IndexInfo]:
    """Every index of the user tables visible on this connection."""
    return list(schema(raw).indexes)


def schema(raw: Any) -> Schema:
    """The indexes of the user tables, the parent of each partition, the extensions, the NOT
    NULL columns: one round trip, inside the protected exchange like every other query of the
    guard."""
    results, _ = _protected(
        raw, f"{_INDEXES.format(where=USER_TABLES)}; {_PARENTS}; {_EXTENSIONS}; {_NOT_NULL}"
    )
    rows = [r for r in results if r.status == pq.ExecStatus.TUPLES_OK]
    encoding = raw.info.encoding

    def cells(result: Any, width: int) -> list[list[str]]:
        return [
            [bytes(result.get_value(row, col) or b"").decode(encoding) for col in range(width)]
            for row in range(result.ntuples)
        ]

    found = []
    for values in cells(rows[0], 9):
        # Each key as "shown\x1eplain column" (the plain column empty for an expression).
        keys = [key.split("\x1e") for key in values[5].split("\x1f") if key]
        found.append(
            IndexInfo(
                table=values[0],
                name=values[1],
                unique=values[2] == "t",
                primary=values[3] == "t",
                partial=values[4] == "t",
                columns=tuple(shown for shown, _ in keys),
                keys=tuple(plain or None for _, plain in keys),
                valid=values[6] == "t",
                method=values[7],
                predicate=values[8] or None,
            )
        )
    parents = {child: parent for child, parent in cells(rows[1], 2)}
    extensions = [name for (name,) in cells(rows[2], 1)]
    not_null = [(table, column) for table, column in cells(rows[3], 2)]
    return Schema.of(found, parents, extensions, not_null)


def views_and_partitions(raw: Any, tables: Iterable[str]) -> tuple[set[str], set[str], set[str]]:
    """Names of every view (its plan may read a watched table), the partitions of the watched
    tables (plans name the partition, not its parent), and every table and view (to tell a
    watched name that exists nowhere)."""
    literal = ", ".join(_quote_literal(name) for name in sorted(set(tables))) or "''"
    query = f"""
        SELECT CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'r', 'p', 'm', 'f') AND {USER_TABLES}
        UNION ALL
        SELECT 'partition', t.relid::regclass::text
        FROM pg_class c, pg_partition_tree(c.oid) t
        WHERE c.relname IN ({literal}) AND c.relkind = 'p' AND t.relid <> c.oid
    """
    results, _ = _protected(raw, query)
    found: dict[str, set[str]] = {"view": set(), "partition": set(), "table": set()}
    for result in results:
        if result.status != pq.ExecStatus.TUPLES_OK:
            continue
        for row in range(result.ntuples):
            kind = bytes(result.get_value(row, 0) or b"").decode()
            name = bytes(result.get_value(row, 1) or b"").decode().rsplit(".", 1)[-1].strip('"')
            found[kind].add(name)
    return found["view"], found["partition"], found["table"] | found["view"]


PROBE = "indexguard_probe"


def verify_index(
    raw: Any, statement: str, table: str, columns: Iterable[str], *, extra: str = ""
) -> Any:
    """The plan of ``statement`` with a candidate index, without touching the real table.

    Inside a savepoint (or a transaction rolled back in the same string), a temporary copy of
    the table shadows it (``pg_temp`` comes first in the search path) and gets the candidate
    index; the statement is planned the forced way. Creating the index on the real table would
    fail in the many tests whose transaction has pending foreign-key trigger events, and could
    leave it behind if interrupted; the temporary table is gone with the rollback either way.
    Returns the plan (VERBOSE, so the caller can check the copy was used).
    """
    quoted = quote_identifier(table)
    keys = sql_keys(list(columns))
    body = (
        f"CREATE TEMPORARY TABLE {quoted} (LIKE {quoted} INCLUDING DEFAULTS INCLUDING INDEXES); "
        f"CREATE INDEX {PROBE} ON pg_temp.{quoted} ({keys}); "
        f"{FORCED_SETTINGS}{extra}EXPLAIN (FORMAT JSON, VERBOSE) {statement}"
    )
    pgconn = raw.pgconn
    if pgconn.transaction_status == pq.TransactionStatus.INTRANS:
        results, _ = _protected(raw, body)
    else:
        results, _ = _protected_block(raw, body)
    for result in results:
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
            value = result.get_value(0, 0)
            if value is not None:
                return json.loads(bytes(value))
    raise boundary.NotExplained("EXPLAIN returned no plan")


def _protected_block(raw: Any, body: str) -> tuple[list[PGresult], int]:
    """Outside a transaction: an explicit one, rolled back in the same string (an implicit
    transaction would commit the DDL)."""
    encoding = raw.info.encoding
    results = _exchange(raw.pgconn, f"BEGIN; {body}\n; ROLLBACK".encode(encoding))
    error = _first_error(results, encoding)
    if error is not None:
        if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            _exchange(raw.pgconn, b"ROLLBACK")
        raise boundary.NotExplained(error)
    return results, 1


def _protected(raw: Any, body: str) -> tuple[list[PGresult], int]:
    """Run ``body`` so that whatever it does is undone and an error in it leaves the test's
    transaction as it was."""
    pgconn = raw.pgconn
    in_transaction = pgconn.transaction_status == pq.TransactionStatus.INTRANS
    # A newline before each ";" that follows the statement: a trailing "-- comment" in it must
    # not swallow the rollback.
    query = f"SAVEPOINT {SAVEPOINT}; {body}\n; {_ROLLBACK}" if in_transaction else body
    encoding = raw.info.encoding
    results = _exchange(pgconn, query.encode(encoding))
    round_trips = 1
    error = _first_error(results, encoding)
    if error is not None:
        # The server skipped the rest of the string: restore the transaction by hand.
        if in_transaction:
            _exchange(pgconn, _ROLLBACK.encode(encoding))
            round_trips += 1
        raise boundary.NotExplained(error)
    return results, round_trips


def _first_error(results: Sequence[PGresult], encoding: str) -> str | None:
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b""
            return bytes(message).decode(encoding, "replace") or "EXPLAIN failed"
        if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
            return f"unexpected result status {pq.ExecStatus(result.status).name}"
    return None


def _exchange(pgconn: PGconn, query: bytes) -> list[PGresult]:
    """Send one query string and collect all its results, waiting on the socket the way psycopg
    does for its non-blocking connections."""
    pgconn.send_query(query)
    while pgconn.flush() != 0:
        readable = _wait(pgconn.socket, write=True)
        if readable:
            pgconn.consume_input()
    results: list[PGresult] = []
    while True:
        while pgconn.is_busy():
            _wait(pgconn.socket, write=False)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            return results
        results.append(result)


def _wait(fileno: int, *, write: bool) -> bool:
    """Block until the socket is readable (or writable when ``write``); True if readable."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN | (select.POLLOUT if write else 0))
        events = poller.poll()
        return any(event & (select.POLLIN | select.POLLERR | select.POLLHUP) for _, event in events)
    readable, _, _ = select.select([fileno], [fileno] if write else [], [])
    return bool(readable)


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgreSQL:
    """The ``Backend`` of PostgreSQL 13 and later, through psycopg 3."""

    name = "PostgreSQL"

    def unsupported(self, connection: BaseDatabaseWrapper) -> str | None:
        raw = connection.connection
        if raw is not None and not hasattr(raw, "pgconn"):
            return PSYCOPG2  # decided before anything imports psycopg 3 on its behalf
        return None

    def busy(self, raw: Any) -> str | None:
        return can_explain(raw)

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        from psycopg import ClientCursor

        with ClientCursor(raw) as cursor:
            return cursor.mogrify(sql, params)

    def explain(self, raw: Any, text: str, *, forced: bool) -> boundary.Explained:
        return explain(raw, text, forced=forced)

    def assess(
        self, raw: Any, text: str, plan: Any, context: boundary.Context
    ) -> boundary.Assessment:
        """The forced plan's full scans and sorted ranges (``plan.analyze``); the existing
        indexes ``judge.probes`` asks about, answered in one more round trip (and the statement
        planned once more with sorts off when a sorted range needs it); then ``judge.settle``
        keeps what production would really do."""
        schema, production = context.schema, context.production
        result = boundary.Assessment(findings=[])
        findings = analyze(
            plan,
            context.watched,
            leading=schema.leading_of,
            sorted_ranges=production is not None,
            truth=schema.truth,
            joined_ranges=True,
        )
        questions = judge.probes(findings, schema)
        unsorted = None
        if any(f.sorted_range for f in findings):
            try:
                again = explain(raw, text, forced=True, extra=NO_SORT)
                unsorted = again.plan
                result.round_trips += again.round_trips
            except Exception as exc:  # judge the range on the first plan alone
                result.errors.append(exc)
        answers: list[Any] = [None] * len(questions)
        if questions:
            try:
                answers = explain_many(raw, [q.sql for q in questions])
            except Exception as exc:  # keep the findings as the forced plan shows them
                result.errors.append(exc)
            result.round_trips += 1
        result.findings = judge.settle(
            findings,
            schema,
            plan,
            dict(zip(questions, answers, strict=True)),
            production,
            unsorted=unsorted,
            few_values=context.few_values,
        )
        return result

    def schema(self, raw: Any) -> Schema:
        return schema(raw)

    def relations(self, raw: Any, tables: Iterable[str]) -> boundary.Relations:
        views, partitions, names = views_and_partitions(raw, tables)
        return boundary.Relations(frozenset(views), frozenset(partitions), frozenset(names))

    def table_sizes(self, raw: Any, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
        return table_sizes(raw, tables)

    def verify(
        self, raw: Any, text: str, finding: ScanFinding, candidate: Suggestion
    ) -> boundary.Verification:
        extra = NO_SORT if finding.rule is Rule.SORT_RANGE else ""
        plan = verify_index(raw, text, finding.table, candidate.columns, extra=extra)
        if not scanned_from_temporary_schema(plan, finding.table):
            return boundary.Verification(
                None, round_trips=1, note="not verified: the statement names the table's schema"
            )
        return boundary.Verification(fixes(plan, finding, candidate), round_trips=1)

    def render(self, plan: Any) -> list[str]:
        return render_plan(plan)

    def indexes_used(self, plan: Any) -> set[str]:
        return indexes_used(plan)

    def tables_read(self, plan: Any) -> set[str]:
        return relations(plan)

    def internal(self, table: str) -> bool:
        return table.startswith("pg_")


def fixes(plan: Any, finding: ScanFinding, candidate: Suggestion) -> bool:
    """The finding is gone from the plan made with the candidate index, the plan reads that
    index (a plan without it is the plan the finding came from, whatever its signature says),
    and every use of it constrains its leading column (a condition on a later column alone
    still reads the whole index)."""
    if PROBE not in indexes_used(plan):
        return False
    wanted = signature(finding)
    if any(signature(f) == wanted for f in analyze(plan, joined_ranges=True) if f.is_violation):
        return False
    if finding.rule is Rule.SORT_RANGE and any(
        f.table == finding.table for f in analyze(plan, sorted_ranges=True) if f.sorted_range
    ):
        return False  # the rows are still sorted
    first = candidate.columns[0].lstrip("-")
    expression = expression_key(first)
    column = expression[1] if expression else first
    # A use without a condition reads the index in order (under a LIMIT): the plan analysis
    # above already judged it.
    return all(
        not condition or mentions(condition, column) for condition in index_conditions(plan, PROBE)
    )


def render_plan(plan: Any) -> list[str]:
    """EXPLAIN's text shape, from its JSON, with literal values masked."""
    lines: list[str] = []

    def visit(node: Mapping[str, Any], depth: int) -> None:
        label = str(node.get("Node Type"))
        if node.get("Parallel Aware"):
            label = f"Parallel {label}"
        if node.get("Index Name"):
            label += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            label += f" on {node['Relation Name']}"
        if node.get("Disabled") or (
            "Disabled" not in node
            and node.get("Node Type") == "Seq Scan"
            and float(node.get("Startup Cost", 0)) >= 1e10
        ):
            label += " (disabled)"
        prefix = "  " * depth + ("-> " if depth else "")
        lines.append(prefix + label)
        for detail in ("Index Cond", "Filter", "Join Filter", "Sort Key", "Recheck Cond"):
            if detail in node:
                value = node[detail]
                text = ", ".join(value) if isinstance(value, list) else str(value)
                lines.append("  " * depth + f"     {detail}: {mask_plan_expression(text)}")
        for child in node.get("Plans", ()) or ():
            visit(child, depth + 1)

    try:
        visit(root_plan(plan), 0)
    except ValueError:
        lines.append("(no plan)")
    return lines
