"""Running EXPLAIN on the test's own PostgreSQL connection without changing what the test sees.

Every query of the guard runs protected: in a transaction, inside a savepoint rolled back after
it (an error in it is rolled back to the savepoint too); outside one (autocommit, or the driver
has not sent BEGIN yet), as one implicit transaction with its settings, so ``SET LOCAL`` still
applies and nothing is left open. The queries, how their results are read and the verdicts are
the same for every driver; what differs is how a driver sends a list of queries and binds
parameters, behind the small ``Driver`` seam: ``pg_psycopg.py`` (psycopg 3: one round trip on
libpq's own connection, which keeps the project's prepared statements) and ``pg_psycopg2.py``
(psycopg2: one ``execute`` a query, since it returns only the last result of a string). Each is
imported only for a connection of its driver: a psycopg2 project never imports psycopg 3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pytest_indexguard import explain as boundary
from pytest_indexguard import judge
from pytest_indexguard.model import OTHER_DRIVER, Rule, ScanFinding
from pytest_indexguard.plan import (
    analyze,
    index_conditions,
    indexes_used,
    mentions,
    relations,
    root_plan,
    scanned_from_temporary_schema,
    signature,
    top_level,
)
from pytest_indexguard.schema import IndexInfo, Schema
from pytest_indexguard.sqltext import mask_plan_expression, quote_identifier
from pytest_indexguard.suggest import Suggestion, expression_key, sql_keys

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


SAVEPOINT = "indexguard_explain"
# Never wait for a lock held by another connection (an ALTER TABLE in progress): the statement
# is reported as not explained, and the test's own statement waits as it would anyway.
LOCK_TIMEOUT = "SET LOCAL lock_timeout = '500ms'; "
FORCED_SETTINGS = (
    LOCK_TIMEOUT + "SET LOCAL enable_seqscan = off; "
    "SET LOCAL enable_hashjoin = off; "
    "SET LOCAL enable_mergejoin = off; "
)
ROLLBACK_TO_SAVEPOINT = f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"
# A statement read through a server-side cursor (``QuerySet.iterator()``) is planned to return
# its first tenth fast (``cursor_tuple_fraction``): at scale ``WHERE category_id = x ORDER BY
# id`` walks the whole primary key and filters, where the same SELECT alone sorts the rows an
# index finds. EXPLAIN plans a DECLARE as the cursor; without HOLD it needs no transaction.
CURSOR = "DECLARE indexguard_cursor NO SCROLL CURSOR FOR "
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)

# The rows of one query, each value as PostgreSQL's text (None for NULL).
Rows = list[tuple[str | None, ...]]


class Driver(Protocol):
    """What differs between psycopg 3 and psycopg2: the rest of this module is shared."""

    name: str

    def busy(self, raw: Any) -> str | None:
        """Why the connection cannot run the guard's queries now, or None."""

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        """``sql`` with ``params`` bound the way the driver binds them."""

    def run(
        self, raw: Any, setup: str, queries: Sequence[str], *, block: bool = False
    ) -> tuple[list[Rows], int]:
        """``setup`` (statements without rows: ``SET LOCAL``, ``CREATE``, each ending in
        "; "), then ``queries``, protected (module docstring): the rows of each query and the
        round trips taken. ``block``: outside a transaction, an explicit one rolled back (for
        ``setup`` that creates objects). A query the server refuses raises ``NotExplained``
        with the transaction restored; anything else raises the driver's error."""


_DRIVERS: dict[type, Driver] = {}


def driver_name(raw: Any) -> str | None:
    """Which driver ``raw`` comes from, without importing any: psycopg 3's connections have
    ``pgconn``, psycopg2's (and psycopg2-compatible ones) ``get_transaction_status``."""
    if hasattr(raw, "pgconn"):
        return "psycopg 3"
    if hasattr(raw, "get_transaction_status") and hasattr(raw, "autocommit"):
        return "psycopg2"
    return None


def driver_of(raw: Any) -> Driver:
    """The driver seam of a connection, decided once per connection type."""
    kind = type(raw)
    found = _DRIVERS.get(kind)
    if found is None:
        name = driver_name(raw)
        if name == "psycopg 3":
            from pytest_indexguard.explain.pg_psycopg import Psycopg

            found = Psycopg()
        elif name == "psycopg2":
            from pytest_indexguard.explain.pg_psycopg2 import Psycopg2

            found = Psycopg2()
        else:
            raise boundary.NotExplained(f"no driver for {kind.__module__}.{kind.__name__}")
        _DRIVERS[kind] = found
    return found


def can_explain(raw: Any) -> str | None:
    """Why this connection cannot be used for EXPLAIN right now, or None when it can."""
    return driver_of(raw).busy(raw)


def _protected(
    raw: Any, setup: str, queries: Sequence[str], *, block: bool = False
) -> tuple[list[Rows], int]:
    return driver_of(raw).run(raw, setup, queries, block=block)


def _plan(results: list[Rows]) -> Any:
    """The plan of the first query's rows."""
    if results and results[0] and results[0][0][0] is not None:
        return json.loads(results[0][0][0])
    raise boundary.NotExplained("EXPLAIN returned no plan")


# For a second opinion on a full *index* scan with a Filter: is there an index whose condition
# serves the filter, which the planner skipped only to walk another index in order?
NO_INDEX_SCANS = "SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; "
# For a sorted index range: is there an index that gives the rows of the key in order, which
# the planner skipped only because sorting a few rows costs nothing?
NO_SORT = "SET LOCAL enable_sort = off; "


def explain(raw: Any, statement: str, *, forced: bool, extra: str = "") -> boundary.Explained:
    """EXPLAIN ``statement`` (parameters already bound) on the connection ``raw``.

    Forced, a statement that names one table (no JOIN, one FROM: most of a suite's) is planned
    without the two join settings, two statements fewer in the round trip: they change nothing
    in a plan that joins nothing. Should its plan hold a hash or merge join all the same (a
    sub-query the planner turned into a join, a comma in the FROM list), it is planned again
    with every setting: the plan returned is always the forced plan."""
    if forced and not extra and _MAY_JOIN.search(statement) is None:
        first, text = _explain(raw, statement, FORCED_ONE_TABLE)
        if not _HASH_OR_MERGE.search(text):
            return first
        again, _ = _explain(raw, statement, FORCED_SETTINGS)
        return boundary.Explained(again.plan, round_trips=first.round_trips + again.round_trips)
    return _explain(raw, statement, f"{FORCED_SETTINGS if forced else LOCK_TIMEOUT}{extra}")[0]


def _explain(raw: Any, statement: str, setup: str) -> tuple[boundary.Explained, str]:
    """The plan and the JSON text it was read from."""
    results, round_trips = _protected(raw, setup, [f"EXPLAIN (FORMAT JSON) {statement}"])
    return boundary.Explained(_plan(results), round_trips), results[0][0][0] or ""


# A statement that may join: a JOIN, or a second FROM (a sub-query). The word inside a string
# literal only costs the two settings back.
_MAY_JOIN = re.compile(r"\bJOIN\b|\bFROM\b[\s\S]*\bFROM\b", re.IGNORECASE)
FORCED_ONE_TABLE = LOCK_TIMEOUT + "SET LOCAL enable_seqscan = off; "
_HASH_OR_MERGE = re.compile(r'"Node Type": "(?:Hash|Merge) Join"')


def explain_many(raw: Any, statements: list[str]) -> list[Any | None]:
    """Forced plans of several statements in one round trip (the judgement's probes). When one
    of them fails, each is planned on its own, and the failing ones answer None."""
    if not statements:
        return []
    queries = [f"EXPLAIN (FORMAT JSON) {s}" for s in statements]
    try:
        results, _ = _protected(raw, FORCED_SETTINGS, queries)
    except boundary.NotExplained:
        if len(statements) == 1:
            return [None]
        return [explain_many(raw, [statement])[0] for statement in statements]
    plans = [json.loads(rows[0][0] or "null") for rows in results if rows]
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
    [estimated], _ = _protected(raw, "", [sizes_query(names)])
    sizes: dict[str, tuple[int, str]] = {}
    for name, rows, analysed in estimated:
        sizes[str(name)] = (int(rows or 0), size_source(analysed == "t"))
    unanalysed = [name for name, (_, source) in sizes.items() if source != size_source(True)]
    if unanalysed:
        # The page-based estimate makes a one-row table 80 rows: count instead, up to a bound
        # (a table that big is big whatever its exact size). One query, one result.
        counts = " UNION ALL ".join(
            f"SELECT {_quote_literal(name)}, count(*) FROM (SELECT 1 FROM "
            f"{quote_identifier(name)} LIMIT {boundary.COUNT_BOUND}) AS bounded"
            for name in unanalysed
        )
        [counted], _ = _protected(raw, "", [counts])
        for name, rows in counted:
            sizes[str(name)] = boundary.counted(int(rows or 0))
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
_FOREIGN_KEYS = f"""
    SELECT c.relname, a.attname, r.relname, ra.attname
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_class r ON r.oid = k.confrelid
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND {USER_TABLES}
"""
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
    NULL columns, the single-column foreign keys: one round trip, inside the protected exchange
    like every other query of the guard."""
    rows, _ = _protected(
        raw,
        "",
        [_INDEXES.format(where=USER_TABLES), _PARENTS, _EXTENSIONS, _NOT_NULL, _FOREIGN_KEYS],
    )

    def cells(result: Rows, width: int) -> list[list[str]]:
        return [[row[col] or "" for col in range(width)] for row in result]

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
    references = {(t, c): (rt, rc) for t, c, rt, rc in cells(rows[4], 4)}
    return Schema.of(found, parents, extensions, not_null, references)


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
    [result], _ = _protected(raw, "", [query])
    found: dict[str, set[str]] = {"view": set(), "partition": set(), "table": set()}
    for kind, name in result:
        found[kind or "table"].add((name or "").rsplit(".", 1)[-1].strip('"'))
    return found["view"], found["partition"], found["table"] | found["view"]


PROBE = "indexguard_probe"


def _ranged(finding: ScanFinding) -> bool:
    return finding.sorted_range or finding.filtered_range


# ``column = ANY ('{1,2,3}'::bigint[])`` in an index condition: Django's ``filter(fk__in=...)``.
_ANY_LIST = re.compile(
    r"""^\(*"?(?P<column>[\w$]+)"?\s*=\s*ANY\s*"""
    r"""\(\s*'(?P<keys>\{[^}']*\})'::(?P<type>[\w ]+)\[\]\s*\)\)*$"""
)


@dataclass(frozen=True)
class ListedKeys:
    """An index range on a list of keys of a foreign key, and the query that tells whether the
    list names every row of the referenced table (``target``)."""

    finding: ScanFinding
    target: str
    query: str
    # The referenced key and the listed keys as SQL literals, for a database that holds the
    # rows elsewhere (``boundary.Context.rows_elsewhere``).
    key: str = ""
    keys: tuple[str, ...] = ()
    # The column by which the target refers to itself (a tree's parent), if any.
    parent: str | None = None


def listed_keys(findings: Sequence[ScanFinding], schema: Schema) -> list[ListedKeys]:
    """The index ranges on a list of two keys or more of a foreign key (``queue_id IN (1, 2,
    3)``): how much each reads depends on the listed values."""
    questions: list[ListedKeys] = []
    for finding in findings:
        if not _ranged(finding) or not finding.index_condition:
            continue
        for conjunct in top_level(finding.index_condition, "AND"):
            match = _ANY_LIST.match(conjunct.strip())
            if match is None:
                continue
            keys = {k.strip() for k in match["keys"].strip("{}").split(",") if k.strip()}
            column = match["column"]
            reference = schema.references.get((finding.table, column)) or schema.references.get(
                (schema.parent(finding.table), column)
            )
            if reference is None or len(keys) < 2:
                continue
            target, key = reference
            listed = f"{_quote_literal(match['keys'])}::{match['type']}[]"
            parent = schema.parent_column(target, key)
            query = boundary.every_key_query(
                quote_identifier, target, key, f"= ANY ({listed})", keys=len(keys), parent=parent
            )
            literals = tuple(
                k if re.fullmatch(r"-?\d+(?:\.\d+)?", k) else _quote_literal(k.strip('"'))
                for k in sorted(keys)
            )
            questions.append(ListedKeys(finding, target, query, key, literals, parent))
            break
    return questions


def every_key(
    raw: Any,
    questions: Sequence[ListedKeys],
    prefetching: Callable[[], bool] | None = None,
    elsewhere: Callable[[str, str, list[str], str | None], tuple[Any, ...]] | None = None,
) -> dict[ScanFinding, str]:
    """The index ranges (``listed_keys``) whose list names every row of the table the foreign
    key references, as the test database holds it (``queue_id IN (<every queue>)``: the tickets
    of every queue a user may see), each with what the list covers. Such a range keeps no row
    out in production: it reads the whole table, however its plan looks. One round trip. Not
    for a prefetch (``prefetching``): its keys are the rows the outer query returned (a page of
    them, in production), judged on their own."""
    if not questions or (prefetching is not None and prefetching()):
        return {}
    if elsewhere is not None:  # a shadow database: the rows are the test database's
        answers = [elsewhere(q.target, q.key, list(q.keys), q.parent) for q in questions]
    else:
        results, _ = _protected(raw, "", [question.query for question in questions])
        answers = [rows[0] for rows in results]
    found: dict[ScanFinding, str] = {}
    for question, answer in zip(questions, answers, strict=True):
        covered = boundary.every_key(question.target, *answer)
        if covered is not None:
            found[question.finding] = covered
    return found


def verify_index(
    raw: Any,
    statement: str,
    table: str,
    columns: Iterable[str],
    *,
    extra: str = "",
    others: bool = True,
) -> Any:
    """The plan of ``statement`` with a candidate index, without touching the real table.

    Inside a savepoint (or an explicit transaction rolled back after it), a temporary copy of
    the table shadows it (``pg_temp`` comes first in the search path) and gets the candidate
    index; the statement is planned the forced way. Creating the index on the real table would
    fail in the many tests whose transaction has pending foreign-key trigger events, and could
    leave it behind if interrupted; the temporary table is gone with the rollback either way.
    Returns the plan (VERBOSE, so the caller can check the copy was used). Without
    ``others``, the copy has the candidate index alone: whether the statement can use it at
    all, the full read being disabled.
    """
    quoted = quote_identifier(table)
    keys = sql_keys(list(columns))
    including = "INCLUDING DEFAULTS INCLUDING INDEXES" if others else "INCLUDING DEFAULTS"
    setup = (
        f"CREATE TEMPORARY TABLE {quoted} (LIKE {quoted} {including}); "
        f"CREATE INDEX {PROBE} ON pg_temp.{quoted} ({keys}); "
        f"{FORCED_SETTINGS}{extra}"
    )
    # Outside a transaction, an explicit one rolled back (an implicit one would commit the DDL).
    results, _ = _protected(raw, setup, [f"EXPLAIN (FORMAT JSON, VERBOSE) {statement}"], block=True)
    return _plan(results)


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgreSQL:
    """The ``Backend`` of PostgreSQL 13 and later, through psycopg 3 or psycopg2."""

    name = "PostgreSQL"

    def unsupported(self, connection: BaseDatabaseWrapper) -> str | None:
        raw = connection.connection
        if raw is None:
            return None
        try:
            driver_of(raw)  # imports the driver's side: psycopg 3's only for its connections
        except (ImportError, boundary.NotExplained):
            return OTHER_DRIVER + type(raw).__module__.split(".")[0]
        return None

    def busy(self, raw: Any) -> str | None:
        return driver_of(raw).busy(raw)

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        return driver_of(raw).bind(raw, sql, params)

    def declared(self, text: str) -> str:
        return CURSOR + text

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
            sorted_ranges=True,
            truth=schema.truth,
            joined_ranges=True,
        )
        if not findings:  # nothing read whole, no range to weigh: nothing to ask or settle
            return result
        every: dict[ScanFinding, str] = {}
        listed = listed_keys(findings, schema)
        result.keyed = bool(listed)
        try:
            every = every_key(raw, listed, context.prefetching, context.rows_elsewhere)
        except Exception as exc:  # judge the ranges as if the lists were not known
            result.errors.append(exc)
        if production is None:
            # An index range is judged by production's shape: without it, only a list of every
            # key (``every_key``) says how much it reads.
            findings = [
                f
                for f in findings
                if not _ranged(f) or f in every or judge.null_range(f, schema, context.few_values)
            ]
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
            # Without an ORDER BY the cursor has no order to walk an index for: a walk on the
            # few rows is the tiny table's (a forum's thread loop walked a composite index).
            cursor=text.startswith(CURSOR) and _ORDER_BY.search(text) is not None,
            every_key=every,
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
        if fixes(plan, finding, candidate):
            return boundary.Verification(True, round_trips=1)
        # Not for a cursor: planned to return its first rows fast, it walks the order in
        # production too, whatever serves its Filter.
        alone = None if text.startswith(CURSOR) else judge.filter_alone(finding)
        if alone is None:
            return boundary.Verification(False, round_trips=1)
        # A whole index walked for its order: on a few rows the walk stays whatever serves the
        # Filter; whether the candidate serves the Filter is what decides in production. Asked
        # of a copy with that index alone: on a copy never analysed, a whole read of another
        # index stands in for the disabled full read as cheaply as the candidate's ranges.
        plan = verify_index(raw, alone, finding.table, candidate.columns, others=False)
        if not fixes(plan, finding, candidate):
            return boundary.Verification(False, round_trips=2)
        return boundary.Verification(
            True,
            round_trips=2,
            note=(
                "the filter planned alone reads it; on a few rows the statement still walks "
                f"{finding.index_name} for its order, which production does only while many "
                "rows match"
            ),
        )

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
