"""MySQL 8 and MariaDB 10.6+: ``EXPLAIN FORMAT=JSON`` on the test's own connection.

Best effort, and honest about it. What differs from PostgreSQL:

- **No savepoint is needed, none is taken.** An EXPLAIN that fails on MySQL/MariaDB fails alone:
  the transaction goes on (unlike PostgreSQL, which aborts it). The guard's EXPLAIN runs on a
  fresh cursor of the driver's connection, before the test's statement, and changes no data.
- **Planning as for large tables: nothing to force, the catalog judges instead.** Measured on
  MariaDB 10.11 (``python -m tests.plans.capture_mysql --measure``, 41 statements): the natural
  plan on ten-row tables already equals the 100,000-row plan for 35; for the other six (a third
  of a tiny table matches the filter, a covering secondary index beats the primary key, the
  join order flips) none of seven session settings tried changes a single plan
  (``max_seeks_for_key=1``, ``optimizer_use_condition_selectivity=1``,
  ``eq_range_index_dive_limit=0``, ``join_cache_level=0``, ``optimizer_prune_level=0``,
  ``optimizer_switch`` without index merge and rowid filters, all of them together). What
  settles them is the judgement: a full read whose filter, join key or first sort key leads an
  index of the catalog is the tiny table's choice (``settle``), and with it the verdicts on ten
  rows equal the verdicts on 100,000 rows for all 41. ``max_seeks_for_key=1`` is still set
  (the manuals' lever for "prefer an index to a scan"; it costs nothing and MySQL 8 is not
  measured here), for the one statement only: MariaDB's ``SET STATEMENT ... FOR EXPLAIN`` and
  MySQL 8's ``SET_VAR`` hint (statements that start with ``SELECT``/``INSERT``/``UPDATE``/
  ``DELETE``/``REPLACE``; others are planned as they are), one round trip, the session never
  changed. MySQL 8 is not tested on a server here: its code follows MySQL's documented JSON.
- **Suggestions are not verified.** DDL commits the transaction on MySQL/MariaDB, so the guard
  never creates an index to try it: ``verify`` says "not verified".
- **Sizes are estimates or counts.** ``information_schema.TABLES.TABLE_ROWS`` is InnoDB's
  estimate; below ``boundary.COUNT_BOUND`` rows the table is counted instead (exact, in the test's
  transaction), in the same round trip.

The plan the guard keeps is ``{"statement", "server", "forced", "explain"}``: the statement's
text travels with its plan because MySQL's JSON names tables by their alias, never shows a LIMIT,
and on MySQL 8 not the sort keys either; ``analyze`` reads those from the statement.

The route of one statement here: the guard calls ``MySQL.explain`` (one round trip, the JSON
and the statement kept together), then ``MySQL.assess``: ``analyze`` (pure) reads the JSON into
backend-neutral ``ScanFinding``s, conditions rewritten in a PostgreSQL plan's words
(``expression``) so that ``judge`` and ``suggest`` read them as they read PostgreSQL's;
``settle`` drops the scans an index of the catalog serves and hands the rest to
``judge.settle`` (unservable predicates, production's shape). The guard then suggests an index
from the finding's filter, join key or sort key (``suggest.candidates``), and ``MySQL.verify``
answers "not verified" without touching the schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from pytest_indexguard import explain as boundary
from pytest_indexguard import judge
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.plan import is_cross_table_or, top_level
from pytest_indexguard.schema import IndexInfo, Schema
from pytest_indexguard.sqltext import mask_plan_expression
from pytest_indexguard.suggest import order_by_keys

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from pytest_indexguard.suggest import Suggestion

# Planner variables for one statement, as measured (see the module docstring). The lock waits
# keep an EXPLAIN from hanging on another connection's metadata or row lock: the statement is
# then reported as not explained, and the test's own statement waits as it would anyway.
FORCED = {"max_seeks_for_key": "1"}
LOCK_WAITS = {"lock_wait_timeout": "1", "innodb_lock_wait_timeout": "1"}
OLDEST_MARIADB = (10, 6)
OLDEST_MYSQL = (8, 0)
INTERNAL_SCHEMAS = frozenset({"mysql", "sys", "information_schema", "performance_schema"})
_INTERNAL_REFERENCE = re.compile(
    r"(?<![\w`])`?(?:mysql|sys|information_schema|performance_schema)`?\s*\.", re.IGNORECASE
)
# Session state an EXPLAIN in between would change for the statement that reads it.
_SESSION_STATE = re.compile(r"\b(?:FOUND_ROWS|ROW_COUNT)\s*\(|@@warning_count|@@error_count", re.I)
_HINTABLE = re.compile(r"^\s*(SELECT|INSERT|REPLACE|UPDATE|DELETE)\b", re.IGNORECASE)


class MySQL:
    """The backend of Django's ``mysql`` vendor: MySQL 8 or MariaDB 10.6+, through PyMySQL or
    mysqlclient (both give the DB-API connection Django holds as ``connection.connection``)."""

    def __init__(self) -> None:
        self.name = "MySQL/MariaDB"
        self.mariadb = True
        self.version: tuple[int, ...] = ()

    # -- the connection -------------------------------------------------------------------------

    def unsupported(self, connection: BaseDatabaseWrapper) -> str | None:
        connection.ensure_connection()
        raw = connection.connection
        module = type(raw).__module__.split(".")[0]
        if module not in ("pymysql", "MySQLdb"):
            return f"MySQL through {module}, which the guard cannot drive"
        # The handshake's version: no statement (Django's mysql_server_info would send one
        # through the very execute wrapper the guard sits in).
        self.identify(str(raw.get_server_info()))
        oldest = OLDEST_MARIADB if self.mariadb else OLDEST_MYSQL
        if self.version and self.version[:2] < oldest:
            product = "MariaDB" if self.mariadb else "MySQL"
            return f"{self.name} is older than {product} {'.'.join(map(str, oldest))}"
        return None

    def identify(self, server_version: str) -> None:
        """Which server this is, from ``SELECT VERSION()`` ("10.11.19-MariaDB-0+deb12u1",
        "8.4.3")."""
        self.mariadb = "mariadb" in server_version.lower()
        # MariaDB's handshake says "5.5.5-10.11.19-MariaDB" for old clients' sake.
        version = server_version.removeprefix("5.5.5-")
        self.version = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
        product = "MariaDB" if self.mariadb else "MySQL"
        self.name = f"{product} {'.'.join(str(v) for v in self.version[:2])}".strip()

    def busy(self, raw: Any) -> str | None:
        if not getattr(raw, "open", True):
            return "the connection is closed"
        result = getattr(raw, "_result", None)  # PyMySQL: an unbuffered result still being read
        if result is not None and getattr(result, "unbuffered_active", False):
            return "an unbuffered result is being read"
        return None

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        if params is None:
            return sql
        cursor = raw.cursor()
        try:
            text = cursor.mogrify(sql, params)
        finally:
            cursor.close()
        return text.decode() if isinstance(text, bytes) else str(text)

    # -- explaining -----------------------------------------------------------------------------

    def declared(self, text: str) -> str:
        return text  # Django's MySQL/MariaDB backend reads ``iterator()`` through a plain cursor

    def explain(self, raw: Any, text: str, *, forced: bool) -> boundary.Explained:
        if _SESSION_STATE.search(text):
            raise boundary.NotExplained("it reads session state an EXPLAIN before it would change")
        settings = {**LOCK_WAITS, **(FORCED if forced else {})}
        if self.mariadb:
            statements = [f"SET STATEMENT {_assignments(settings)} FOR EXPLAIN FORMAT=JSON {text}"]
        else:
            statements = [f"EXPLAIN FORMAT=JSON {with_hints(text, settings)}"]
        rows = _run(raw, statements)
        if not rows or not rows[-1]:
            raise boundary.NotExplained("EXPLAIN returned no plan")
        value = rows[-1][0][0]
        plan = {
            "statement": text,
            "server": self.name,
            "forced": forced,
            "explain": plan_json(value.decode() if isinstance(value, bytes) else value),
        }
        return boundary.Explained(plan=plan, round_trips=len(statements))

    def assess(
        self, raw: Any, text: str, plan: Any, context: boundary.Context
    ) -> boundary.Assessment:
        """``analyze`` then ``settle``: pure, no round trip (the catalog answers what
        PostgreSQL's probes ask)."""
        findings = analyze(
            plan,
            context.watched,
            sorted_ranges=context.production is not None,
            truth=context.schema.truth,
        )
        if _INTERNAL_REFERENCE.search(text):
            # The server's own catalogs (Django's introspection): only the project's tables
            # count, and a catalog the FROM list names by an alias is none of them.
            tables = {t for t in alias_map(text).values() if not self.internal(t)}
            findings = [f for f in findings if f.table in tables]
        questions = listed_keys(findings, context.schema)
        every: dict[tuple[ScanFinding, str], str] = {}
        errors: list[BaseException] = []
        prefetching = context.prefetching
        if questions and not (prefetching is not None and prefetching()):
            try:
                answers = _run(raw, [question.query for question in questions])
            except Exception as exc:  # judge the lists as restricting
                errors.append(exc)
            else:
                for question, rows in zip(questions, answers, strict=True):
                    covered = boundary.every_key(question.target, *rows[0])
                    if covered is not None:
                        every[(question.finding, question.column)] = covered
        if context.production is None:
            # A range on a list is judged by production's shape: without it, only a list of
            # every key says how much it reads.
            listed = {finding for finding, _ in every}
            findings = [f for f in findings if not f.filtered_range or f in listed]
        settled = settle(
            findings,
            context.schema,
            context.production,
            few_values=context.few_values,
            every_key=every,
        )
        return boundary.Assessment(findings=settled, errors=errors, keyed=bool(questions))

    def verify(
        self, raw: Any, text: str, finding: ScanFinding, candidate: Suggestion
    ) -> boundary.Verification:
        return boundary.Verification(
            fixes=None,
            note="not verified: DDL on MySQL/MariaDB commits the test's transaction",
        )

    # -- the catalog ----------------------------------------------------------------------------

    def schema(self, raw: Any) -> Schema:
        rows, required = _run(raw, [self.statistics_query(), _NOT_NULL])
        return schema_of(rows, expressions=not self.mariadb, not_null=required)

    def statistics_query(self) -> str:
        # MySQL 8.0.13+ has functional key parts (EXPRESSION) and invisible indexes; MariaDB
        # 10.6+ has ignored indexes (IGNORED), which the optimizer may not use either.
        if self.mariadb:
            extra = "NULL, IGNORED = 'YES'"
        elif self.version[:3] >= (8, 0, 13):
            extra = "EXPRESSION, IS_VISIBLE = 'NO'"
        else:
            extra = "NULL, IS_VISIBLE = 'NO'"
        return (
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, COLLATION, "
            f"SUB_PART, INDEX_TYPE, {extra} FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        )

    def relations(self, raw: Any, tables: Iterable[str]) -> boundary.Relations:
        # A partitioned table's plan names the table itself (its partitions are listed inside
        # the table's node), so there are no partition names to map to a parent.
        rows = _run(
            raw,
            [
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE()"
            ],
        )[0]
        views = frozenset(str(name) for name, kind in rows if kind == "VIEW")
        return boundary.Relations(views=views, names=frozenset(str(name) for name, _ in rows))

    def table_sizes(self, raw: Any, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
        names = sorted(set(tables))
        if not names:
            return {}
        listed = ", ".join(_literal(name) for name in names)
        estimates = {
            str(name): int(rows or 0)
            for name, rows in _run(
                raw,
                [
                    "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
                    f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({listed})"
                ],
            )[0]
        }
        sizes = {name: (rows, ESTIMATED) for name, rows in estimates.items()}
        small = [name for name, rows in estimates.items() if rows < boundary.COUNT_BOUND]
        if small:
            counts = " UNION ALL ".join(
                f"SELECT {_literal(name)}, COUNT(*) FROM (SELECT 1 FROM {quote_name(name)} "
                f"LIMIT {boundary.COUNT_BOUND}) AS bounded"
                for name in small
            )
            for name, rows in _run(raw, [counts])[0]:
                sizes[str(name)] = boundary.counted(int(rows))
        return sizes

    def internal(self, table: str) -> bool:
        return table.partition(".")[0].lower() in INTERNAL_SCHEMAS and "." in table

    # -- the plan for people and bookkeeping -----------------------------------------------------

    def render(self, plan: Any) -> list[str]:
        return render(plan)

    def indexes_used(self, plan: Any) -> set[str]:
        return {
            str(node["key"])
            for node, _ in _tables(_explain_of(plan))
            if isinstance(node.get("key"), str) and not _derived(node)
        }

    def tables_read(self, plan: Any) -> set[str]:
        aliases = alias_map(_statement_of(plan))
        return {
            aliases.get(str(node["table_name"]), str(node["table_name"]))
            for node, _ in _tables(_explain_of(plan))
            if not _derived(node)
        }


ESTIMATED = "information_schema.TABLES.TABLE_ROWS (estimate)"


def _assignments(settings: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in settings.items())


def with_hints(text: str, settings: Mapping[str, str]) -> str:
    """MySQL 8: the statement with ``SET_VAR`` hints after its first keyword, which sets the
    variables for that statement only. A statement that does not start with a keyword that
    takes hints (``WITH``, a parenthesised union) is left as it is: planned naturally."""
    match = _HINTABLE.match(text)
    if match is None:
        return text
    hints = " ".join(f"SET_VAR({name}={value})" for name, value in settings.items())
    return f"{text[: match.end()]} /*+ {hints} */{text[match.end() :]}"


def _run(raw: Any, statements: Sequence[str]) -> list[list[tuple[Any, ...]]]:
    """Each statement on a fresh cursor of the driver's connection; its rows. A server error
    becomes ``NotExplained``: on MySQL/MariaDB it leaves the transaction as it was."""
    results = []
    cursor = raw.cursor()
    try:
        for statement in statements:
            try:
                cursor.execute(statement)
            except Exception as exc:
                if _is_server_error(exc):
                    raise boundary.NotExplained(_message(exc)) from exc
                raise
            results.append(list(cursor.fetchall() or ()))
    finally:
        cursor.close()
    return results


def plan_json(text: str) -> Any:
    """``EXPLAIN FORMAT=JSON``'s output as data. MariaDB writes a condition's string literals
    into its JSON without escaping their double quotes (``'$."kind"'`` in a JSONField lookup),
    which no JSON parser reads: each ``"key": "value"`` line of such output gets its inner
    quotes escaped. Raw control characters (a newline in a literal) are allowed too."""
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        lines = []
        for line in text.split("\n"):
            found = _VALUE_LINE.match(line)
            if found is None:
                lines.append(line)
                continue
            inner = _BARE_QUOTE.sub(r'\1\\"', found.group(2))
            lines.append(f"{found.group(1)}{inner}{found.group(3)}")
        return json.loads("\n".join(lines), strict=False)


# One "key": "value" line of MariaDB's EXPLAIN JSON, and a double quote that no backslash escapes
# (an even run of backslashes before it escapes only themselves).
_VALUE_LINE = re.compile(r'^(\s*"[^"\\]+":\s*")(.*)("\s*,?\s*)$')
_BARE_QUOTE = re.compile(r'(?<!\\)((?:\\\\)*)"')


def _is_server_error(exc: BaseException) -> bool:
    # Both drivers raise DB-API errors whose args are (code, message).
    return type(exc).__name__ in {
        "ProgrammingError",
        "OperationalError",
        "InternalError",
        "NotSupportedError",
        "DataError",
        "IntegrityError",
    } and bool(getattr(exc, "args", ()))


def _message(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return str(exc) or "EXPLAIN failed"


def quote_name(name: str) -> str:
    """A name as MySQL reads it whatever its characters: in backticks."""
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


_NOT_NULL = (
    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = DATABASE() AND IS_NULLABLE = 'NO'"
)


def schema_of(
    rows: Iterable[Sequence[Any]],
    *,
    expressions: bool = False,
    not_null: Iterable[Sequence[Any]] = (),
) -> Schema:
    """The catalog from ``information_schema.STATISTICS`` rows (table, index, non-unique,
    position, column, collation, prefix length, type, expression, unusable), in key order, and
    the (table, column) rows of the NOT NULL columns."""
    grouped: dict[tuple[str, str], list[Sequence[Any]]] = {}
    for row in rows:
        grouped.setdefault((_text(row[0]), _text(row[1])), []).append(row)
    indexes = []
    for (table, name), keys in grouped.items():
        columns, plain = [], []
        for key in sorted(keys, key=lambda row: int(row[3])):
            column = _text(key[4]) if key[4] is not None else None
            expression = _text(key[8]) if expressions and key[8] is not None else None
            shown = column or (f"({expression})" if expression else "?")
            if key[6] is not None:
                shown += f"({int(key[6])})"
            if _text(key[5]) == "D":
                shown += " DESC"
            columns.append(shown)
            plain.append(column)
        first = keys[0]
        method = _text(first[7]).lower()
        indexes.append(
            IndexInfo(
                table=table,
                name=name,
                columns=tuple(columns),
                unique=str(first[2]) == "0",
                primary=name == "PRIMARY",
                partial=False,
                keys=tuple(plain),
                valid=not bool(int(first[9] or 0)),
                method="btree" if method == "btree" else method,
            )
        )
    return Schema.of(indexes, not_null=[(_text(t), _text(c)) for t, c in not_null])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- reading the JSON: pure ----------------------------------------------------------------------

_FULL = frozenset({"ALL", "index", "hash_ALL", "hash_index"})
# What a finding's node type says for people ("Full table scan filters rows that ...").
_ACCESS_LABELS = {
    "ALL": "Full table scan",
    "index": "Full index scan",
    "hash_ALL": "Full table scan for a hash join",
    "hash_index": "Full index scan for a hash join",
}


def access_label(access_type: str) -> str:
    """A full read's ``access_type`` in words (a lookup keeps MySQL's: ``ref``, ``range``)."""
    return _ACCESS_LABELS.get(access_type, access_type)


_LOOKUPS = frozenset({"ref", "eq_ref", "range", "ref_or_null", "hash_range", "index_merge"})


class _Place(NamedTuple):
    """Where a table node sits: its query block, its nested loop and position in it, the join
    buffer around it, and whether its rows are sorted."""

    block: int
    outermost: bool
    loop: tuple[Mapping[str, Any], ...]
    position: int
    buffer_condition: str | None
    buffered: bool
    sorted_by: str | None
    sorted_first: bool


def _explain_of(plan: Any) -> Mapping[str, Any]:
    if isinstance(plan, Mapping) and "explain" in plan:
        plan = plan["explain"]
    if isinstance(plan, str | bytes):
        plan = plan_json(plan.decode() if isinstance(plan, bytes) else plan)
    if not isinstance(plan, Mapping) or "query_block" not in plan:
        raise ValueError("not EXPLAIN FORMAT=JSON output of MySQL or MariaDB: no 'query_block'")
    return plan


def _statement_of(plan: Any) -> str:
    return str(plan.get("statement", "")) if isinstance(plan, Mapping) else ""


def _derived(node: Mapping[str, Any]) -> bool:
    """A temporary table of the plan's own (``<derived2>``, ``<subquery3>``, ``<union1,2>``)."""
    return str(node.get("table_name", "")).startswith("<")


# The place a walk of one table of a loop starts from (the loop's own place is not needed).
_PLACE = _Place(0, False, (), 1, None, False, None, False)


def _tables(explain: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], _Place]]:
    """Every table node in plan order, with its place."""
    yield from _walk(explain, _Place(0, True, (), 0, None, False, None, False), depth=0)


def _walk(value: Any, place: _Place, depth: int) -> Iterator[tuple[Mapping[str, Any], _Place]]:
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, place, depth)
        return
    if not isinstance(value, Mapping):
        return
    if "table_name" in value and "query_specifications" not in value:
        yield value, place
    for key, child in value.items():
        if not isinstance(child, Mapping | list):
            continue
        inner = place
        if key == "query_block" and isinstance(child, Mapping):
            outermost = depth == 0
            inner = _Place(
                int(child.get("select_id", 0) or 0), outermost, (), 0, None, False, None, False
            )
            yield from _walk(child, inner, depth + 1)
            continue
        if key == "nested_loop" and isinstance(child, list):
            loop = tuple(item for item in child if isinstance(item, Mapping))
            for position, item in enumerate(loop):
                yield from _walk(
                    item,
                    place._replace(loop=loop, position=position, buffer_condition=None),
                    depth,
                )
            continue
        if key == "block-nl-join" and isinstance(child, Mapping):
            condition = child.get("attached_condition")
            inner = place._replace(
                buffered=True,
                buffer_condition=condition if isinstance(condition, str) else None,
            )
        elif key in ("filesort", "read_sorted_file") and isinstance(child, Mapping):
            sort_key = child.get("sort_key") if key == "filesort" else None
            over_join = "temporary_table" in child
            inner = place._replace(
                sorted_by=str(sort_key) if sort_key else place.sorted_by or "",
                sorted_first=not over_join,
            )
        elif key == "ordering_operation" and isinstance(child, Mapping):
            if child.get("using_filesort"):
                inner = place._replace(
                    sorted_by="", sorted_first=not child.get("using_temporary_table")
                )
        elif key == "temporary_table" and place.sorted_by is not None:
            inner = place._replace(sorted_first=False)
        if key in ("materialized", "materialized_from_subquery", "subqueries"):
            inner = place._replace(sorted_by=None, sorted_first=False)
        yield from _walk(child, inner, depth + 1)


def analyze(
    plan: Any,
    watched: Callable[[str], bool] | None = None,
    *,
    sorted_ranges: bool = False,
    truth: Callable[[str, str], bool | None] | None = None,
) -> list[ScanFinding]:
    """The full scans of watched tables in a MySQL/MariaDB plan, in plan order, by the rules of
    ``plan.py``: a full scan (``access_type`` ``ALL``, or ``index``: the whole index walked) is
    a violation when it filters rows (``attached_condition`` on this table alone), when it is
    read in full for every row of an earlier table (a join buffer, or a condition joining an
    earlier table: the join key has no index), when it is read whole as the first table of a
    join whose later tables look it up and filter (the other way round: an index on its join
    key would let it be found instead), or when it is sorted whole for a LIMIT. Any other full
    scan is information. With ``sorted_ranges``, an index lookup whose rows are all sorted for
    a LIMIT is listed too (rule None, ``sorted_range``), for production's shape to judge.

    Conditions come out in PostgreSQL's words (``expression``), which the judgement and the
    suggestions read; those every row passes (``truth(table, conjunct)``, ``Schema.truth``)
    restrict nothing and are left out (MySQL itself finds no row for one that none passes)."""
    explain = _explain_of(plan)
    suspects = [
        (node, place)
        for node, place in _tables(explain)
        if not _derived(node)
        and (
            node.get("access_type") in _FULL
            or (sorted_ranges and node.get("access_type") in _LOOKUPS and _sorts_this(place))
            or _primary_lookup(node, place)
            or _listed_range(node)
        )
    ]
    if not suspects:  # the common case: every table found through an index
        return []
    statement = _statement_of(plan)
    aliases = alias_map(statement)
    limited = has_limit(statement)
    order = _order_keys(statement)
    nulls = frozenset(_NULL_TESTED.findall(statement))
    findings: list[ScanFinding] = []
    for node, place in suspects:
        alias = str(node["table_name"])
        table = aliases.get(alias, alias)
        if watched is not None and not watched(table):
            continue
        if node["access_type"] in _FULL:
            findings.append(
                _full_scan(
                    node,
                    place,
                    table,
                    alias,
                    limited=limited,
                    order=order,
                    truth=truth,
                    aliases=aliases,
                    nulls=nulls,
                )
            )
        elif _primary_lookup(node, place):
            found = _filtered_lookup(node, place, table, alias, truth=truth, aliases=aliases)
            if found is not None:
                findings.append(found)
        elif sorted_ranges and node.get("access_type") in _LOOKUPS and _sorts_this(place):
            if limited:
                findings.append(_sorted_range(node, place, table, alias, order))
        elif not limited:
            found = _filtered_range(node, table, alias, truth=truth)
            if found is not None:
                findings.append(found)
    return findings


def _listed_range(node: Mapping[str, Any]) -> bool:
    """An index range on a list of values (``queue_id in (1,2,3)``) that also filters rows."""
    condition = node.get("index_condition")
    return (
        node.get("access_type") == "range"
        and isinstance(node.get("attached_condition"), str)
        and isinstance(condition, str)
        and " in (" in condition.lower()
    )


def _filtered_range(
    node: Mapping[str, Any],
    table: str,
    alias: str,
    *,
    truth: Callable[[str, str], bool | None] | None,
) -> ScanFinding | None:
    """An index range on a list of values whose rows a filter of the table's own sifts
    (``queue_id IN (1, 2, 3) AND created >= x``), as PostgreSQL's ``filtered_range``: how much
    it reads is production's shape, or every row when the list names every row of the table
    the key references (``listed_keys``, ``judge.settle``)."""
    attached = node.get("attached_condition")
    condition = node.get("index_condition")
    if not isinstance(attached, str) or not isinstance(condition, str) or _outer_joined(attached):
        return None
    own = _own_conjuncts(attached, table, alias, truth)
    if not own:
        return None
    return ScanFinding(
        table=table,
        node_type=access_label("range"),
        rule=None,
        index_name=str(node.get("key")) if node.get("key") else None,
        filter=" AND ".join(unqualified(c, alias) for c in own),
        alias=alias,
        index_condition=unqualified(expression(condition), alias),
        filtered_range=True,
    )


def _own_conjuncts(
    attached: str, table: str, alias: str, truth: Callable[[str, str], bool | None] | None
) -> list[str]:
    """The conjuncts of an attached condition on this table alone (in PostgreSQL's words),
    but an OR across tables and those every row passes."""
    return [
        conjunct
        for conjunct in top_level(expression(attached), "AND")
        if qualifiers(conjunct) <= {alias}
        and not _or_across(conjunct)
        and (truth is None or truth(table, conjunct) is not True)
    ]


def _outer_joined(condition: Any) -> bool:
    """An attached condition MariaDB and MySQL wrap in ``trigcond()``: the inner side of an
    outer join, whose condition keeps every row of the other side."""
    return isinstance(condition, str) and condition.lstrip().startswith("trigcond(")


def _primary_lookup(node: Mapping[str, Any], place: _Place) -> bool:
    """A later table of a join found by its primary key from an earlier table's rows
    (``eq_ref`` on ``PRIMARY``)."""
    return (
        place.position > 0 and node.get("access_type") == "eq_ref" and node.get("key") == "PRIMARY"
    )


def _filtered_lookup(
    node: Mapping[str, Any],
    place: _Place,
    table: str,
    alias: str,
    *,
    truth: Callable[[str, str], bool | None] | None,
    aliases: Mapping[str, str],
) -> ScanFinding | None:
    """A primary-key lookup per row of an earlier table that filters by this table's own
    conditions (``o.customer_id = c.id AND c.email LIKE x``): production may start from this
    table and read it whole, unless the earlier side holds a selective condition
    (``ScanFinding.joined``, ``judge.settle``, as for PostgreSQL's primary-key lookups)."""
    attached = node.get("attached_condition")
    if not isinstance(attached, str) or _outer_joined(attached):
        return None  # no filter, or the inner side of an outer join: judged after the join
    local = _own_conjuncts(attached, table, alias, truth)
    if not local:
        return None
    return ScanFinding(
        table=table,
        node_type=access_label("eq_ref"),
        rule=Rule.FILTER,
        index_name="PRIMARY",
        filter=" AND ".join(unqualified(c, alias) for c in local),
        join_filter=_lookup_condition(node, alias),
        alias=alias,
        driver=_driver(place.loop, alias, aliases),
        joined=True,
    )


def _sorts_this(place: _Place) -> bool:
    """The rows of this table are sorted before the outermost LIMIT: a filesort over it alone
    (the first table of the join), in the outermost query block."""
    return (
        place.outermost
        and place.sorted_by is not None
        and place.sorted_first
        and (place.position == 0)
    )


def _full_scan(
    node: Mapping[str, Any],
    place: _Place,
    table: str,
    alias: str,
    *,
    limited: bool,
    order: tuple[str, ...],
    truth: Callable[[str, str], bool | None] | None = None,
    aliases: Mapping[str, str] | None = None,
    nulls: frozenset[str] = frozenset(),
) -> ScanFinding:
    conditions = [
        text
        for text in (node.get("attached_condition"), place.buffer_condition)
        if isinstance(text, str)
    ]
    local: list[str] = []
    joining: list[str] = []
    if place.position == 0:
        # MariaDB turns a long IN list (in_predicate_conversion_threshold, 1000 values) into a
        # join with a table of the values: the list is this table's own condition.
        local.extend(f"{alias}.{column} = ANY (...)" for column in _listed(place.loop, alias))
    for text in conditions:
        outer = _outer_joined(text)
        for conjunct in top_level(expression(text), "AND"):
            named = qualifiers(conjunct)
            if named - {alias} or _or_across(conjunct):
                joining.append(conjunct)
            elif outer and truth is not None and truth(table, conjunct) is False:
                # The inner side of an outer join tested for the row the join adds (``LEFT
                # JOIN ... WHERE inner.id IS NULL``): it restricts none of this table's rows.
                continue
            elif truth is None or truth(table, conjunct) is not True:
                local.append(conjunct)
    rule: Rule | None = None
    unservable = None
    filter_text = (
        " AND ".join(f"({c})" if " OR " in c else c for c in (unqualified(c, alias) for c in local))
        or None
    )
    join_filter = " AND ".join(joining) or None
    if filter_text:
        rule = Rule.FILTER
    elif join_filter and (place.position > 0 or place.buffered or _correlated(place, joining)):
        rule = Rule.JOIN
    across = [
        c
        for c in joining
        if _or_across(c)
        and alias in qualifiers(c)
        and all(len(qualifiers(b)) == 1 for b in top_level(c, "OR"))
    ]
    if across and rule in (None, Rule.JOIN):
        # c.email = x OR o.email = x checked per pair: no index serves it, the table is read
        # whole (its join key's index included).
        rule, unservable, filter_text = Rule.UNSERVABLE, "or-across-tables", across[0]
    if rule is Rule.FILTER and place.position == 0 and not join_filter:
        join_filter = _joined_later(place.loop, alias)
    if rule is None and place.position == 0:
        later = _restricting_lookup(place.loop, alias)
        if later is not None:
            condition, restriction = later
            if _or_across(restriction):
                rule, unservable, filter_text = Rule.UNSERVABLE, "or-across-tables", restriction
            elif condition:
                rule, join_filter = Rule.JOIN, condition
    sort_key: tuple[str, ...] = ()
    if limited and (
        _sorts_this(place) or _sorts_this_through_join(place, alias, str(node.get("access_type")))
    ):
        sort_key = _sort_key(place, order)
        if rule is None:
            rule = Rule.SORT_LIMIT
    # The other side's conditions: an OR across the two sifts the rows reached from that
    # side's few as much as a join key does (``judge.settle``).
    driver = _driver(place.loop, alias, aliases or {}, nulls) if join_filter else ()
    if join_filter and rule is not Rule.JOIN and rule is not Rule.FILTER:
        join_filter = None
    return ScanFinding(
        table=table,
        node_type=access_label(str(node["access_type"])),
        rule=rule,
        index_name=str(node["key"]) if node.get("key") and node["access_type"] != "ALL" else None,
        filter=filter_text,
        join_filter=join_filter,
        sort_key=sort_key,
        alias=alias,
        unservable=unservable,
        driver=driver,
    )


def _correlated(place: _Place, joining: Sequence[str]) -> bool:
    """A table of a sub-query (a ``DEPENDENT SUBQUERY``) whose condition names a table of the
    query around it: it is read again for every row of that query."""
    if place.outermost:
        return False
    inside = {
        str(node.get("table_name")) for item in place.loop for node, _ in _walk(item, _PLACE, 1)
    }
    return any(qualifiers(conjunct) - inside for conjunct in joining)


def _listed(loop: Sequence[Mapping[str, Any]], alias: str) -> list[str]:
    """Columns of ``alias`` that a later table of the loop looks up in a derived table of
    literal values (``IN (v1, ..., v1000)`` converted to a join): no table is read for it."""
    found = []
    for item in loop[1:]:
        node = item.get("table") if isinstance(item, Mapping) else None
        if not isinstance(node, Mapping) or not _derived(node):
            continue
        body = json.dumps(node.get("materialized", {}))
        if "No tables used" not in body or '"table_name"' in body:
            continue
        for ref in node.get("ref", ()) or ():
            parts = _unqualified_ref(str(ref)).split(".")
            if len(parts) == 2 and parts[0] == alias and parts[1] not in found:
                found.append(parts[1])
    return found


def _sorts_this_through_join(place: _Place, alias: str, access: str) -> bool:
    """A table of a join whose rows are sorted (with the join's, in a temporary table) by keys
    of its own only: an index in that order lets it be read first, joined row by row, and
    stopped at the LIMIT (``select_related`` under ``order_by("-created_at")[:20]``). Not the
    first table only: on a few rows the lookup table may come first and the sorted one be
    joined to it by its foreign key, which at scale reads every row of it. Not a table found
    by its unique key (one row per row of another), nor a sort by an aggregate's value (the
    groups' order: no index gives it)."""
    if not (place.outermost and place.sorted_by):
        return False
    if place.position > 0 and access in ("eq_ref", "const", "system"):
        return False
    keys = [k.strip() for k in expression(place.sorted_by).split(",") if k.strip()]
    return (
        bool(keys)
        and all(qualifiers(k) == {alias} for k in keys)
        and not any(_AGGREGATE.search(k) for k in keys)
    )


# An aggregate's value as a sort key: ``sum(t.qty) desc``.
_AGGREGATE = re.compile(r"\b(?:sum|count|avg|min|max|group_concat|std|variance)\s*\(", re.I)


def _joined_later(loop: Sequence[Mapping[str, Any]], alias: str) -> str | None:
    """For the first table of a join: the conditions by which later tables join it."""
    found: list[str] = []
    for item in loop[1:]:
        texts = []
        for node, _ in _walk(item, _PLACE, depth=1):
            texts.append(node.get("attached_condition"))
            if not _derived(node):
                found.extend(_refs_to(node, alias))
        buffer = item.get("block-nl-join") if isinstance(item, Mapping) else None
        if isinstance(buffer, Mapping):
            texts.append(buffer.get("attached_condition"))
        for text in texts:
            if isinstance(text, str):
                found.extend(
                    c
                    for c in top_level(expression(text), "AND")
                    if alias in qualifiers(c) and len(qualifiers(c)) > 1 and not _or_across(c)
                )
    return " AND ".join(dict.fromkeys(found)) or None


def _refs_to(node: Mapping[str, Any], alias: str) -> list[str]:
    """The lookups of an index scan by ``alias``'s columns (its ``ref``), as join conditions."""
    other = str(node.get("table_name"))
    return [
        f"{other}.{part} = {_unqualified_ref(str(ref))}"
        for part, ref in zip(
            node.get("used_key_parts", ()) or (), node.get("ref", ()) or (), strict=False
        )
        if _unqualified_ref(str(ref)).split(".")[0] == alias
    ]


def _driver(
    loop: Sequence[Mapping[str, Any]],
    alias: str,
    aliases: Mapping[str, str],
    nulls: frozenset[str] = frozenset(),
) -> tuple[tuple[str, str], ...]:
    """The other tables' conditions on values of their own in the same nested loop
    (``ScanFinding.driver``): attached conditions naming only that table, and index lookups
    by a constant. ``nulls``: columns the statement tests with ``IS NULL``, which MySQL's plan
    shows as a lookup by a constant like any other (``stop_date IS NULL``: a share of the
    table, not one value's rows)."""
    found: list[tuple[str, str]] = []
    for item in loop:
        buffer = item.get("block-nl-join") if isinstance(item, Mapping) else None
        for node, _ in _walk(item, _PLACE, depth=1):
            other = str(node.get("table_name"))
            if other == alias or _derived(node):
                continue
            table = aliases.get(other, other)
            texts = [node.get("attached_condition")]
            if isinstance(buffer, Mapping):
                texts.append(buffer.get("attached_condition"))
            if any(_outer_joined(t) for t in texts):
                continue  # the inner side of an outer join: it keeps every row of the other
            for text in texts:
                if not isinstance(text, str):
                    continue
                for conjunct in top_level(expression(text), "AND"):
                    if qualifiers(conjunct) <= {other} and "subquery" not in conjunct:
                        found.append((table, unqualified(conjunct, other)))
            for part, ref in zip(
                node.get("used_key_parts", ()) or (), node.get("ref", ()) or (), strict=False
            ):
                if str(ref) == "const":
                    found.append((table, f"{part} IS NULL" if part in nulls else f"{part} = ?"))
    return tuple(dict.fromkeys(found))


def _sorted_range(
    node: Mapping[str, Any], place: _Place, table: str, alias: str, order: tuple[str, ...]
) -> ScanFinding:
    condition = node.get("index_condition")
    if not isinstance(condition, str):
        condition = _lookup_condition(node, alias)
    condition = unqualified(expression(condition), alias)
    attached = node.get("attached_condition")
    return ScanFinding(
        table=table,
        node_type=str(node["access_type"]),
        rule=None,
        index_name=str(node.get("key")) if node.get("key") else None,
        filter=unqualified(expression(attached), alias) if isinstance(attached, str) else None,
        sort_key=_sort_key(place, order),
        alias=alias,
        index_condition=condition,
        sorted_range=True,
    )


def _lookup_condition(node: Mapping[str, Any], alias: str) -> str:
    """An index lookup's condition from its key parts and what they are compared to."""
    parts = [str(p) for p in node.get("used_key_parts", ()) or ()]
    refs = [str(r) for r in node.get("ref", ()) or ()]
    found = []
    for position, part in enumerate(parts):
        ref = refs[position] if position < len(refs) else "const"
        value = "?" if ref in ("const", "func") else _unqualified_ref(ref)
        found.append(f"{alias}.{part} = {value}")
    return " AND ".join(found)


def _unqualified_ref(ref: str) -> str:
    """``db.table.column`` as ``table.column`` (MariaDB and MySQL qualify refs with the
    database)."""
    parts = _identifier_parts(ref)
    return ".".join(parts[-2:]) if len(parts) >= 2 else ref


def _identifier_parts(text: str) -> list[str]:
    return [p.strip("`") for p in re.findall(r"`(?:[^`]|``)*`|[^.]+", text)]


def _restricting_lookup(
    loop: Sequence[Mapping[str, Any]], alias: str
) -> tuple[str | None, str] | None:
    """For the first table of a join read whole: a later table found by this table's columns
    (its ``ref``) or joined by a condition naming it, when that later table also filters rows
    (its own condition). Returns the join condition and the restriction."""
    for item in loop[1:]:
        for node, _ in _walk(item, _PLACE, depth=1):
            attached = node.get("attached_condition")
            if not isinstance(attached, str) or _derived(node):
                continue
            other = str(node.get("table_name"))
            text = expression(attached)
            conjuncts = top_level(text, "AND")
            joins = [c for c in conjuncts if alias in qualifiers(c) and not _or_across(c)]
            ors = [c for c in conjuncts if _or_across(c) and alias in qualifiers(c)]
            if ors:
                return None, ors[0]
            refs = _refs_to(node, alias)
            restricts = [c for c in conjuncts if c not in joins and qualifiers(c) <= {other}]
            keyed = node.get("access_type") in _LOOKUPS | {"const"} and any(
                str(r) == "const" for r in node.get("ref", ()) or ()
            )
            if (refs or joins) and (restricts or keyed):
                return " AND ".join(refs + joins), " AND ".join(restricts)
    return None


def _or_across(text: str) -> bool:
    return " OR " in text and is_cross_table_or(text, by_value=False)


def _sort_key(place: _Place, order: tuple[str, ...]) -> tuple[str, ...]:
    if place.sorted_by:
        return tuple(k.strip() for k in expression(place.sorted_by).split(","))
    return order


def _order_keys(statement: str) -> tuple[str, ...]:
    """The statement's last ORDER BY, for MySQL 8, whose JSON does not show the sort keys."""
    plain = statement.replace("`", "")
    return tuple(key.strip() for key in order_by_keys(plain, "") if key.strip()) or tuple(
        _ORDER.findall(plain)[-1:]
    )


_ORDER = re.compile(r"\bORDER BY\s+([\w.]+(?:\s+(?:ASC|DESC))?)", re.IGNORECASE)


# -- the statement's text: aliases and LIMIT -------------------------------------------------------

_NAME = r"(?:`(?:[^`]|``)+`|[A-Za-z_][\w$]*)"
_REFERENCE = re.compile(
    rf"\b(?:FROM|JOIN|UPDATE|INTO)\s+({_NAME}(?:\s*\.\s*{_NAME})?)"
    rf"(?:\s+(?:AS\s+)?(?!(?:WHERE|ON|USING|SET|INNER|LEFT|RIGHT|CROSS|NATURAL|STRAIGHT_JOIN|"
    rf"JOIN|GROUP|ORDER|LIMIT|HAVING|WINDOW|UNION|FOR|LOCK|FORCE|USE|IGNORE|PARTITION|VALUES|"
    rf"SELECT|RETURNING)\b)({_NAME}))?",
    re.IGNORECASE,
)


# A column the statement tests with IS NULL (`t`.`col` IS NULL), by name.
_NULL_TESTED = re.compile(r"[`\"]?(\w+)[`\"]?\s+IS\s+NULL\b", re.IGNORECASE)


def alias_map(statement: str) -> dict[str, str]:
    """Alias (or bare name) -> table, from the statement's FROM, JOIN, UPDATE and INTO clauses.
    MySQL's plans name each table by its alias; a table of another schema keeps the schema
    (``information_schema.tables``), so that ``internal`` can tell it."""
    found: dict[str, str] = {}
    for match in _REFERENCE.finditer(statement):
        parts = [p.strip().strip("`").replace("``", "`") for p in match.group(1).split(".")]
        table = (
            ".".join(parts)
            if len(parts) == 2 and parts[0].lower() in INTERNAL_SCHEMAS
            else (parts[-1])
        )
        alias = match.group(2)
        name = alias.strip("`").replace("``", "`") if alias else parts[-1]
        found.setdefault(name, table)
        found.setdefault(parts[-1], table)
    return found


def has_limit(statement: str) -> bool:
    """Whether the statement ends in a LIMIT of its own (outside parentheses)."""
    depth = 0
    found = False
    for token in re.finditer(
        r"'(?:[^'\\]|\\.|'')*'|`(?:[^`]|``)*`|[()]|\bLIMIT\b", statement, re.I
    ):
        text = token.group(0)
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif text.upper() == "LIMIT" and depth == 0:
            found = True
    return found


# -- conditions in PostgreSQL's words --------------------------------------------------------------

# Not after a dot: a column may be named like a keyword (treebeard's "desc").
_KEYWORDS = re.compile(
    r"(?<!\.)\b(and|or|not|is null|is not null|in|like|between|regexp|rlike|xor|asc|desc)\b",
    re.IGNORECASE,
)


def expression(text: str) -> str:
    """A MySQL/MariaDB plan condition in the words of a PostgreSQL plan, which ``judge`` and
    ``suggest`` read: identifiers unquoted and without the database, ``LIKE`` as ``~~``,
    ``IN (...)`` as ``= ANY``, ``NOT IN`` as ``<> ALL``, ``<=>`` as ``=``, and the optimizer's
    wrappers (``<cache>``, ``trigcond``, casts of literals) removed; a subquery is a SubPlan."""
    value, strings = _mask_strings(text)
    value = _unwrap(value, ("<cache>", "trigcond", "<in_optimizer>", "<exists>", "<expr_cache>"))
    value = re.sub(r"!\s*\(?\s*SubPlan", "NOT (SubPlan", value)
    # LIKE BINARY (Django's startswith and contains): no index on a case-insensitive column
    # serves it, so the literal keeps a mark (judge: "binary-like").
    value = re.sub(
        r"cast\((\x00\d+\x00) as char charset binary\)", r"\1::binary", value, flags=re.IGNORECASE
    )
    value = re.sub(r"cast\((\x00\d+\x00) as [^)]*\)", r"\1", value, flags=re.IGNORECASE)
    value = re.sub(r"`((?:[^`]|``)+)`", lambda m: _plain(m.group(1)), value)
    # db.table.column -> table.column
    value = re.sub(
        r"(?<![\w.$])[A-Za-z_][\w$]*\.([A-Za-z_][\w$]*\.[A-Za-z_\"][\w$\"]*)", r"\1", value
    )
    value = value.replace("<=>", "=")
    value = re.sub(r"\bnot\s+in\s*\(", "<> ALL (", value, flags=re.IGNORECASE)
    value = re.sub(r"\bin\s*\(", "= ANY (", value, flags=re.IGNORECASE)
    value = re.sub(r"\bnot\s+like\b", "!~~", value, flags=re.IGNORECASE)
    value = re.sub(r"\blike\b", "~~", value, flags=re.IGNORECASE)
    value = re.sub(r"\b(?:regexp|rlike)\b", "~", value, flags=re.IGNORECASE)
    value = re.sub(
        r"([\w.\"]+)\s+between\s+(\S+)\s+and\s+(\S+)",
        r"(\1 >= \2 AND \1 <= \3)",
        value,
        flags=re.IGNORECASE,
    )
    # A boolean column tested on its own: MariaDB writes "enabled <> 0", PostgreSQL "enabled".
    value = re.sub(r"([\w.\"]+) <> 0\b(?!\.)", r"\1", value)
    value = _KEYWORDS.sub(lambda m: m.group(1).upper(), value)
    value = re.sub(r"\s+", " ", value).strip()
    return _unmask(value, strings)


def _plain(name: str) -> str:
    name = name.replace("``", "`")
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _mask_strings(text: str) -> tuple[str, list[str]]:
    strings: list[str] = []

    def keep(match: re.Match[str]) -> str:
        strings.append(match.group(0))
        return f"\x00{len(strings) - 1}\x00"

    return re.sub(r"'(?:[^'\\]|\\.|'')*'", keep, text), strings


def _unmask(text: str, strings: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: strings[int(m.group(1))], text)


def _unwrap(text: str, wrappers: Sequence[str]) -> str:
    """Remove ``wrapper(...)`` around its argument; a subquery wrapper becomes ``SubPlan``."""
    for wrapper in wrappers:
        while True:
            start = text.find(wrapper + "(")
            if start < 0:
                break
            open_at = start + len(wrapper)
            close = _closing_parenthesis(text, open_at)
            if close < 0:
                break
            inner = text[open_at + 1 : close]
            if wrapper in ("<in_optimizer>", "<exists>", "<expr_cache>") and re.search(
                r"\bselect\b|<subquery|<primary_index_lookup>|<index_lookup>", inner, re.I
            ):
                inner = "SubPlan 1"
            elif wrapper == "<in_optimizer>":
                inner = inner.split(",", 1)[-1] if inner.count(",") else inner
            text = text[:start] + inner + text[close + 1 :]
    return text


def _closing_parenthesis(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def unqualified(text: str, alias: str) -> str:
    """The scanned table's own columns without their qualifier, as a PostgreSQL scan node's
    Filter and Index Cond show them (other tables' columns keep theirs)."""
    value, strings = _mask_strings(text)
    quoted = '"' + alias.replace('"', '""') + '"'
    pattern = rf'(?<![\w."$])(?:{re.escape(quoted)}|{re.escape(alias)})\.(?=["A-Za-z_])'
    return _unmask(re.sub(pattern, "", value), strings)


# A qualifier: a plain name, or a quoted one (``_plain``: a name with a space, a backtick, a
# double quote or a capital letter), followed by the dot before its column.
_QUALIFIER = re.compile(r'(?<![\w."$])(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))\.(?=["A-Za-z_])')


def qualifiers(text: str) -> set[str]:
    """The table aliases a condition names (``alias.column``), unquoted."""
    value, _ = _mask_strings(text)
    return {
        quoted.replace('""', '"') if quoted else plain
        for quoted, plain in _QUALIFIER.findall(value)
    }


# -- the judgement ---------------------------------------------------------------------------------


def settle(
    findings: Sequence[ScanFinding],
    schema: Schema,
    production: judge.Production | None = None,
    *,
    few_values: Callable[[str, str], bool] | None = None,
    every_key: Mapping[tuple[ScanFinding, str], str] | None = None,
) -> list[ScanFinding]:
    """``judge.settle`` on a MySQL plan's findings, with the catalog standing in for the
    probes PostgreSQL answers: a full scan is the tiny table's choice when an index leads with
    a column its filter compares as written (equality, range, ``IN``, ``IS NULL``, a prefix
    ``LIKE``), its join key, or its first sort key. MySQL is not asked: a cast or collation that
    disables such an index is not detected here. ``every_key``: (finding, column) whose list
    of keys names every row of the table the column references (``listed_keys``): that
    column's index spares nothing, the finding is judged by its other columns."""
    unserved = []
    for finding in findings:
        if not finding.is_violation or finding.rule is Rule.UNSERVABLE:
            unserved.append(finding)
            continue
        listed = [
            (column, covered)
            for (found, column), covered in (every_key or {}).items()
            if found == finding
        ]
        if listed:
            skip = {column for column, _ in listed}
            read = replace(finding, every_key=listed[0][1])
            if finding.rule is Rule.FILTER and not _filters_beyond(finding, skip):
                if not finding.sort_key:
                    continue  # the list keeps every row: nothing is thrown away
                # Every row is sorted for the LIMIT: the sort is what to serve.
                read = replace(read, rule=Rule.SORT_LIMIT)
            if _served_by_index(read, schema, skip=skip) is None:
                unserved.append(read)
            continue
        column = _served_by_index(finding, schema)
        if (
            column is not None
            and _by_join_key_only(finding, column)
            and not judge.driven(finding, few_values, production)
        ):
            if finding.rule is not Rule.JOIN:
                unserved.append(finding)  # its own filter or sort is what to serve
            continue  # (a join to a side that keeps most of it: no index helps)
        if column is None:
            unserved.append(finding)
        elif finding.sort_key and production is not None:
            # At scale the index finds the key's rows, and every one of them is still sorted
            # for the LIMIT: what production's shape judges.
            ranged = _as_sorted_range(finding, column, schema)
            if ranged is not None:
                unserved.append(ranged)
    ranges = {
        found: covered for (found, _), covered in (every_key or {}).items() if found.filtered_range
    }
    kept = judge.settle(
        unserved, schema, _NO_PG_PLAN, {}, production, few_values=few_values, every_key=ranges
    )
    return [f for f in kept if not (f.sorted_range and _ordered_by(f, schema))]


@dataclass(frozen=True)
class ListedKeys:
    """A filter's list of keys of a foreign key (``queue_id = ANY (1,2,3)``, as ``expression``
    writes ``queue_id IN (1, 2, 3)``), and the query that tells whether it names every row of
    the referenced table (``target``)."""

    finding: ScanFinding
    column: str
    target: str
    query: str


_ANY_LIST = re.compile(
    r"^\(*\s*`?(?P<column>[\w$]+)`?\s*=\s*ANY\s*\((?P<keys>[^()]*)\)\s*\)*$", re.IGNORECASE
)
_LITERAL = re.compile(r"-?\d+(?:\.\d+)?|'(?:[^'\\]|\\.|'')*'")


def listed_keys(findings: Sequence[ScanFinding], schema: Schema) -> list[ListedKeys]:
    """The full reads whose filter compares a foreign key with a list of two keys or more
    that an index of the key would serve: how much that index spares depends on the values."""
    questions = []
    for finding in findings:
        listing = finding.index_condition if finding.filtered_range else finding.filter
        if not (finding.is_violation or finding.filtered_range) or not listing:
            continue
        for conjunct in top_level(listing, "AND"):
            match = _ANY_LIST.match(conjunct.strip())
            if match is None:
                continue
            column = match["column"]
            keys = _LITERAL.findall(match["keys"])
            reference = schema.references.get((finding.table, column))
            if reference is None or len(keys) < 2 or not schema.leading(finding.table, column):
                continue
            target, key = reference
            query = boundary.every_key_query(
                quote_name,
                target,
                key,
                f"IN ({', '.join(keys)})",
                keys=len(keys),
                parent=schema.parent_column(target, key),
            )
            questions.append(ListedKeys(finding, column, target, query))
    return questions


def _filters_beyond(finding: ScanFinding, columns: set[str]) -> bool:
    """Whether the finding's filter compares more than the listed ``columns``."""
    for conjunct in top_level(finding.filter or "", "AND"):
        match = _ANY_LIST.match(conjunct.strip())
        if match is None or match["column"] not in columns:
            return True
    return False


def _by_join_key_only(finding: ScanFinding, column: str) -> bool:
    """Whether the index found serves only the finding's join key: it spares the read only
    when the other side of the join is restricted to few rows of its own (``judge.driven``)."""
    from pytest_indexguard.suggest import filter_columns, join_columns

    alias = finding.alias or finding.table
    if finding.filter:
        equality, ranges = filter_columns(finding.filter, [])
        if column in equality or column in ranges:
            return False
    if not finding.join_filter:
        return False
    return column in join_columns(finding.join_filter, alias, [])


def _as_sorted_range(finding: ScanFinding, column: str, schema: Schema) -> ScanFinding | None:
    """A full read sorted under a LIMIT whose filter an index serves, as the index range it is
    on a large table: the conjuncts on ``column`` become the range's condition (None when the
    index serves a join key or the order instead)."""
    alias = finding.alias or finding.table
    conjuncts = top_level(finding.filter, "AND") if finding.filter else []
    served = [c for c in conjuncts if _compared_plainly(c, alias, column)]
    if not served:
        return None
    rest = [c for c in conjuncts if c not in served]
    return replace(
        finding,
        rule=None,
        index_name=schema.leading(finding.table, column)[0].name,
        index_condition=" AND ".join(served),
        filter=" AND ".join(rest) or None,
        sorted_range=True,
    )


# ``judge.settle`` reads a PostgreSQL plan only to ask whether an OR across tables merely sifts
# rows an index found elsewhere; ``analyze`` answers that on a MySQL plan (the OR is reported
# only on a table read whole as the join's driver), so it gets a plan with no index condition.
_NO_PG_PLAN: Mapping[str, Any] = {"Plan": {"Node Type": "Result"}}


def _served_by_index(
    finding: ScanFinding, schema: Schema, *, skip: Iterable[str] = ()
) -> str | None:
    """A column of the finding that leads a usable index of its table, compared as written
    (not one of ``skip``)."""
    from pytest_indexguard.suggest import filter_columns, join_columns, sort_column

    table = finding.table
    alias = finding.alias or table
    if finding.filter:
        equality, ranges = filter_columns(finding.filter, [])
        # A prefix LIKE is a range of a MySQL index (PostgreSQL's needs a pattern opclass).
        prefixes: list[str] = re.findall(
            rf'(?<![\w("])"?([A-Za-z_][\w$]*)"?\s*{_PREFIX_LIKE}', finding.filter
        )
        for column in [*equality, *ranges, *prefixes]:
            if column in skip:
                continue
            if schema.leading(table, column) and _compared_plainly(finding.filter, alias, column):
                return column
    if finding.join_filter:
        for column in join_columns(finding.join_filter, alias, []):
            if schema.leading(table, column):
                return column
    if finding.sort_key and finding.rule is Rule.SORT_LIMIT:
        sorted_on = sort_column(finding.sort_key[0], [])
        if sorted_on and schema.leading(table, sorted_on.lstrip("-")):
            return sorted_on.lstrip("-")
    return None


# LIKE with a pattern that does not start with a wildcard, and not LIKE BINARY: a range of the
# column's index.
_PREFIX_LIKE = r"~~\s*'[^%_'][^']*'(?!::binary)"
_RANGE_OPERATORS = rf"(?:=\s*ANY|IS NULL|=|<=|>=|<|>|{_PREFIX_LIKE})"


def _compared_plainly(text: str, alias: str, column: str) -> bool:
    """The column compared bare (not inside a function), with an operator a B-tree serves, in a
    conjunct that is not an OR of other columns."""
    for conjunct in top_level(text, "AND"):
        if len(top_level(conjunct, "OR")) > 1:
            continue
        pattern = (
            rf"(?<![\w.(]){re.escape(alias)}\.\"?{re.escape(column)}\"?\s*{_RANGE_OPERATORS}"
            rf"|(?<![\w.(])\"?{re.escape(column)}\"?\s*{_RANGE_OPERATORS}"
        )
        if re.search(pattern, conjunct) and judge.unservable(conjunct) is None:
            return True
    return False


def _ordered_by(finding: ScanFinding, schema: Schema) -> bool:
    """An index range sorted for a LIMIT when an index has the range's equality columns and
    then the sort key: the tiny table's choice (with thousands of rows per key MySQL walks that
    index in order)."""
    from pytest_indexguard.suggest import filter_columns, sort_column

    if not finding.sort_key or not finding.index_condition:
        return False
    equality, _ = filter_columns(finding.index_condition, [])
    sort = sort_column(finding.sort_key[0], [])
    if not sort:
        return False
    for index in schema.on(finding.table):
        keys = [k for k in index.keys]
        if (
            len(keys) > len(equality)
            and set(keys[: len(equality)]) == set(equality)
            and keys[len(equality)] == sort.lstrip("-")
        ):
            return True
    return False


# -- for people ------------------------------------------------------------------------------------


def render(plan: Any) -> list[str]:
    """The plan as indented lines (table, access, index, rows; conditions with values masked)."""
    try:
        explain = _explain_of(plan)
    except ValueError:
        return ["(no plan)"]
    lines: list[str] = []
    aliases = alias_map(_statement_of(plan))
    for node, place in _tables(explain):
        if "access_type" not in node and "message" not in node:
            continue
        alias = str(node.get("table_name", ""))
        table = aliases.get(alias, alias)
        label = f"{node.get('access_type', '?')} on {table}"
        if alias != table:
            label += f" {alias}"
        if node.get("key"):
            label += f" using {node['key']}"
        if place.buffered:
            label += " (join buffer)"
        if place.sorted_by is not None and place.sorted_first and place.position == 0:
            label += " (filesort)"
        rows = node.get("rows", node.get("rows_examined_per_scan"))
        if rows is not None:
            label += f" rows={rows}"
        indent = "  " if place.block > 1 else ""
        lines.append(f"{indent}select #{place.block or 1}: {label}")
        for key in ("index_condition", "attached_condition"):
            if isinstance(node.get(key), str):
                lines.append(f"{indent}     {key}: {mask_plan_expression(str(node[key]))}")
        if place.buffer_condition:
            lines.append(
                f"{indent}     join condition: {mask_plan_expression(place.buffer_condition)}"
            )
    for message in _messages(explain):
        lines.append(message)
    return lines or ["(no table read)"]


def _messages(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key == "message" and isinstance(child, str):
                yield child
            else:
                yield from _messages(child)
    elif isinstance(value, list):
        for item in value:
            yield from _messages(item)
