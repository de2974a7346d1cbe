"""The guard's state for one session: the plan cache, the current test, what was found.

The per-statement path is ``observe``: a repeated statement costs one dictionary lookup; a new one
costs one round trip (EXPLAIN on the same connection, see ``explain/postgresql.py``) and the pure
plan analysis. Everything that only matters for reporting (call sites, suggestions, table sizes)
is computed for violations only.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_indexguard import judge
from pytest_indexguard.callsite import CallSite, CallSiteFinder
from pytest_indexguard.capture import Capture, changes_schema, first_parameters, is_explainable
from pytest_indexguard.config import Settings
from pytest_indexguard.fingerprint import fingerprint_sql
from pytest_indexguard.origin import APPLICATION, MIGRATION, TEST
from pytest_indexguard.plan import (
    Rule,
    ScanFinding,
    analyze,
    index_conditions,
    indexes_used,
    mentions,
    relations,
    scanned_from_temporary_schema,
    signature,
)
from pytest_indexguard.policy import Decision, TestPolicy
from pytest_indexguard.schema import Schema
from pytest_indexguard.suggest import ModelIndex, Suggestion, candidates, expression_key
from pytest_indexguard.summary import statement_digest

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

Key = tuple[str, str]  # (alias, SQL text exactly as Django sent it)


@dataclass
class Statement:
    """A distinct statement (per alias) and what its plan showed. Cached for the session."""

    alias: str
    sql: str
    findings: tuple[ScanFinding, ...]
    plan: Any  # kept only for statements with violations: -v and reports show it
    executions: int = 0
    violations: tuple[ScanFinding, ...] = ()
    # The statement with its parameters bound, kept only when it has violations (to verify
    # suggested indexes on it).
    text: str | None = None
    _identities: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    suggestions: dict[ScanFinding, Suggestion | None] = field(default_factory=dict, repr=False)
    # For a statement whose plan depends on its parameters' values (a LIKE pattern with or
    # without a leading wildcard), the cache entry holds one Statement per kind of value.
    variants: dict[tuple[str, ...], Statement] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.violations = tuple(f for f in self.findings if f.is_violation)

    def identity(self, table: str) -> tuple[str, str]:
        """Fingerprint and normalised SQL of this statement's scan of ``table``; computed once
        per distinct statement (sqlparse is slow), when it first violates."""
        found = self._identities.get(table)
        if found is None:
            found = self._identities[table] = fingerprint_sql(self.alias, table, self.sql)
        return found


@dataclass(frozen=True)
class Watch:
    """Per alias: ``names`` a statement must mention to be worth explaining (None: any), and
    ``watched`` the tables whose scans count (None: every table)."""

    names: frozenset[str] | None
    watched: frozenset[str] | None

    def watches(self, table: str) -> bool:
        if self.watched is None:
            # Every table of the project: not PostgreSQL's own catalogs (introspection reads them,
            # and nobody can index them).
            return not table.startswith("pg_")
        return table in self.watched


class Status:
    NEW = "new"
    KNOWN = "known"
    ALLOWED = "allowed"
    WARNED = "warned"
    BELOW_THRESHOLD = "below min-rows"
    # Statements that never run in production (see origin.py): reported, never failed, never
    # recorded in a baseline.
    TEST_CODE = "test code"
    MIGRATE_TIME = "migrate time"

    VIOLATIONS = (NEW, KNOWN, ALLOWED, WARNED, BELOW_THRESHOLD)
    EXEMPT = (TEST_CODE, MIGRATE_TIME)
    ORDER = (*VIOLATIONS, *EXEMPT)


@dataclass(eq=False)
class Occurrence:
    """A violation seen while a test ran: one per statement, scan, call site, phase and
    decision, counting its executions (a loop of a thousand scans is one occurrence)."""

    statement: Statement
    finding: ScanFinding
    phase: str
    call_site: CallSite | None
    decision: Decision
    table_rows: int | None
    rows_source: str | None
    below_threshold: bool
    fingerprint: str
    known: bool
    suggestion: Suggestion | None = None
    executions: int = 1
    # A predicate no index serves, under indexguard_unservable = warn: reported, not failed.
    warned: bool = False
    # Who issued it (origin.APPLICATION, TEST or MIGRATION), and where project code built the
    # lazy QuerySet that other code evaluated.
    origin: str = APPLICATION
    built_at: CallSite | None = None
    # Status.TEST_CODE or Status.MIGRATE_TIME when the origin keeps it from counting.
    exempt: str | None = None

    @property
    def allowed_by(self) -> str | None:
        return self.decision.allowed_by

    @property
    def status(self) -> str:
        if self.exempt is not None:
            return self.exempt
        if self.decision.allowed_by:
            return Status.ALLOWED
        if self.warned:
            return Status.WARNED
        if self.below_threshold:
            return Status.BELOW_THRESHOLD
        return Status.KNOWN if self.known else Status.NEW

    @property
    def fails(self) -> bool:
        return self.status == Status.NEW


@dataclass
class TestRun:
    nodeid: str
    policy: TestPolicy
    occurrences: list[Occurrence] = field(default_factory=list)
    failed_by_guard: bool = False
    reported: bool = False
    _seen: dict[tuple[Any, ...], Occurrence] = field(default_factory=dict, repr=False)

    def failures(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.fails]

    def repeated(self, key: tuple[Any, ...], statement: Statement) -> bool:
        """Count one more execution on the occurrence already recorded under ``key``, if any
        (``key`` holds the statement's id: the identity check guards against a reused id)."""
        seen = self._seen.get(key)
        if seen is None or seen.statement is not statement:
            return False
        seen.executions += 1
        return True


# The cache entry of statements that are never explained: those of non-PostgreSQL aliases,
# those that name no watched table (nor a view, which could read one), and strings of several
# statements. A statement PostgreSQL could not explain is not cached: the error may belong to
# one execution's parameters, and the next execution is tried again.
_NOT_CHECKED = Statement(alias="", sql="", findings=(), plan=None)
# What the summary says of a PostgreSQL alias whose connection is not psycopg 3's.
PSYCOPG2 = "PostgreSQL through psycopg2"
# Rows sorted per call that make a sorted index range a violation, when production's shape is
# known and no --indexguard-min-rows says otherwise.
SORT_THRESHOLD = 1_000
# Distinct statements are counted exactly up to this many, so memory stays bounded.
DISTINCT_CAP = 200_000


class Guard:
    def __init__(
        self, settings: Settings, rootdir: Path, known: frozenset[str] = frozenset()
    ) -> None:
        self.settings = settings
        # Fingerprints in the baseline: reported as known, they do not fail tests.
        self.known = known
        self.forced = settings.mode == "forced"
        self.capture = Capture(self)
        self.models = ModelIndex(str(rootdir))
        self.call_sites = CallSiteFinder(rootdir)
        self.active = False
        self._watching = False
        self._suspended = 0
        self._lock = threading.Lock()
        self.current: TestRun | None = None
        self.phase = "setup"
        # Plans by alias, then by SQL text exactly as Django sent it (it carries placeholders).
        self.plans: dict[str, dict[str, Statement]] = {}
        self.table_rows: dict[tuple[str, str], tuple[int, str] | None] = {}
        # Session totals for the summary.
        self.checked = 0  # executions of explainable statements while watching
        self.explained = 0  # EXPLAIN round trips that returned a plan
        self.round_trips = 0
        self.skipped_aborted = 0
        self.unexplained: dict[Key, str] = {}
        self.unsupported: dict[str, str] = {}
        self.internal_errors: Counter[str] = Counter()
        self.invalidations = 0
        self.distinct: set[str] = set()  # digests of every (alias, SQL) explained this session
        self.informational: set[str] = set()  # tables with full scans no index can help
        self.skipped_unwatched = 0
        self.evictions = 0
        self.watch_names: dict[str, Watch] = {}
        # Index coverage (--indexguard-coverage): statements per index, the index catalog.
        self.index_usage: dict[str, set[str]] = {}
        self.tables_read: set[str] = set()
        self.catalog: dict[str, list[dict[str, Any]]] = {}
        self.schemas: dict[str, Schema] = {}
        # Watched names some checked database has, the nearest table to the others.
        self.watch_checks = 0
        self.watched_present: set[str] = set()
        self.nearest: dict[str, str] = {}
        # Production's shape, when declared: it decides whether a sorted index range matters.
        self.production = (
            judge.Production(
                rows={table: rows for table, (rows, _) in settings.table_rows.items()},
                columns=settings.columns,
                threshold=settings.min_rows or SORT_THRESHOLD,
            )
            if settings.columns
            else None
        )

    # -- test phases --------------------------------------------------------------------------

    def begin_test(self, nodeid: str, policy: TestPolicy) -> TestRun:
        self.capture.install()
        self.current = TestRun(nodeid=nodeid, policy=policy)
        return self.current

    def end_test(self) -> TestRun | None:
        run, self.current = self.current, None
        return run

    @contextmanager
    def watching(self, phase: str) -> Iterator[None]:
        run = self.current
        self.phase = phase
        self._watching = run is not None and not run.policy.skip
        self._update()
        try:
            yield
        finally:
            self._watching = False
            self._update()

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Statements of session-, module- and class-scoped fixtures are not the test's own."""
        self._suspended += 1
        self._update()
        try:
            yield
        finally:
            self._suspended -= 1
            self._update()

    def _update(self) -> None:
        self.active = self._watching and self._suspended == 0

    # -- the execute wrapper's side -----------------------------------------------------------

    def observe(
        self, connection: BaseDatabaseWrapper, sql: str, params: Any, many: bool
    ) -> Statement | None:
        """Judge a statement before it runs (from the cache, or with one round trip); return it
        when it has violations to record once it has run (``executed``)."""
        plans = self.plans.get(connection.alias)
        if plans is None:
            plans = self.plans[connection.alias] = {}
        statement = plans.get(sql)
        if statement is not None and statement.variants is not None:
            statement = statement.variants.get(pattern_shape(params, many))
        if statement is None:
            statement = self._inspect(connection, plans, sql, params, many)
            if statement is None:
                return None
        if statement is _NOT_CHECKED:
            return None
        statement.executions += 1
        self.checked += 1
        if statement.violations and self.current is not None:
            return statement
        return None

    def executed(self, connection: BaseDatabaseWrapper, pending: object) -> None:
        if isinstance(pending, Statement) and self.current is not None:
            for finding in pending.violations:
                self._record(connection, pending, finding)

    def schema_changed(self, alias: str) -> None:
        self.catalog.pop(alias, None)
        self.schemas.pop(alias, None)
        self.watch_names.pop(alias, None)
        if self.plans.get(alias):
            self.plans[alias] = {}
            self.invalidations += 1
        for size_key in [k for k in self.table_rows if k[0] == alias]:
            del self.table_rows[size_key]

    def internal_error(self, error: BaseException) -> None:
        self.internal_errors[f"{type(error).__name__}: {error}"] += 1

    def _inspect(
        self,
        connection: BaseDatabaseWrapper,
        plans: dict[str, Statement],
        sql: str,
        params: Any,
        many: bool,
    ) -> Statement | None:
        alias = connection.alias
        key = (alias, sql)
        if connection.vendor != "postgresql":
            self.unsupported.setdefault(alias, connection.display_name)
            self._cache(plans, sql, _NOT_CHECKED)
            return _NOT_CHECKED
        if not is_explainable(sql):
            if changes_schema(sql):
                self.schema_changed(alias)
            return None
        raw = connection.connection
        if raw is None or not hasattr(raw, "pgconn"):
            # psycopg2 (or no psycopg 3 at all): checked before anything imports psycopg 3.
            self.unsupported.setdefault(alias, PSYCOPG2)
            self._cache(plans, sql, _NOT_CHECKED)
            return _NOT_CHECKED
        from pytest_indexguard.explain import postgresql

        busy = postgresql.can_explain(raw)
        if busy is not None:
            self.skipped_aborted += 1
            return None
        if ";" in sql and _several_statements(sql):
            self._unexplained(key, "several statements in one string")
            self._cache(plans, sql, _NOT_CHECKED)
            return _NOT_CHECKED
        watch = self._watch(alias, raw)
        if watch.names is not None and not any(name in sql for name in watch.names):
            self.skipped_unwatched += 1
            self._cache(plans, sql, _NOT_CHECKED)
            return _NOT_CHECKED
        bound = first_parameters(params, many)
        if many and bound is None:
            # An executemany of no rows: its placeholders have nothing to bind, and EXPLAIN of
            # unbound placeholders is a syntax error, which PostgreSQL raises before the
            # savepoint of the same string exists: it would abort the test's transaction.
            self._unexplained(key, "executemany without parameters")
            return None
        try:
            text = sql if bound is None else _mogrify(raw, sql, bound)
            explained = postgresql.explain(raw, text.strip().rstrip(";"), forced=self.forced)
        except postgresql.NotExplained as exc:
            self.round_trips += 1
            self._unexplained(key, str(exc))
            return None
        except Exception as exc:  # a binding or connection problem of this statement
            self._unexplained(key, f"{type(exc).__name__}: {exc}".strip())
            return None
        self.explained += 1
        if len(self.distinct) < DISTINCT_CAP:
            self.distinct.add(statement_digest(alias, sql))
        self.round_trips += explained.round_trips
        findings = self._judge(alias, raw, text.strip().rstrip(";"), explained.plan, watch)
        statement = Statement(
            alias=alias,
            sql=sql,
            findings=tuple(findings),
            plan=explained.plan,
        )
        self.informational.update(
            f.table for f in statement.findings if not f.is_violation and not f.sorted_range
        )
        if self.settings.coverage:
            self._note_coverage(connection, raw, statement)
        if statement.violations:
            statement.text = text
        else:
            statement.plan = None
        if _PATTERN_PARAMETER.search(sql):
            holder = plans.get(sql)
            if holder is None or holder.variants is None:
                holder = Statement(alias=alias, sql=sql, findings=(), plan=None, variants={})
                self._cache(plans, sql, holder)
            assert holder.variants is not None
            holder.variants[pattern_shape(params, many)] = statement
        else:
            self._cache(plans, sql, statement)
        return statement

    def _judge(self, alias: str, raw: Any, text: str, plan: Any, watch: Watch) -> list[ScanFinding]:
        """The forced plan's findings, settled against the schema's indexes (``assess``)."""
        from pytest_indexguard.assess import assess

        schema = self._schema(alias, raw)
        result = assess(
            raw,
            text,
            plan,
            schema,
            watched=watch.watches,
            production=self.production,
            few_values=self.models.is_low_cardinality,
        )
        self.round_trips += result.round_trips
        for error in result.errors:
            self.internal_error(error)
        return result.findings

    def _schema(self, alias: str, raw: Any) -> Schema:
        """The alias's index catalog, read once (and again after a schema change)."""
        found = self.schemas.get(alias)
        if found is None:
            from pytest_indexguard.explain import postgresql

            try:
                found = postgresql.schema(raw)
            except Exception as exc:  # judge on the plan alone rather than not at all
                self.internal_error(exc)
                found = Schema()
            self.schemas[alias] = found
        return found

    def _cache(self, plans: dict[str, Statement], sql: str, statement: Statement) -> None:
        """Bounded per alias: the oldest entry goes first (no bookkeeping on cache hits)."""
        if len(plans) >= self.settings.cache_size:
            del plans[next(iter(plans))]
            self.evictions += 1
        plans[sql] = statement

    def _watch(self, alias: str, raw: Any) -> Watch:
        """Which tables count on this alias: the watched ones and their partitions. The names
        also include every view, since a view's plan reads the tables under it."""
        found = self.watch_names.get(alias)
        if found is None:
            tables = self.settings.tables
            if tables is None:
                found = Watch(names=None, watched=None)
            else:
                from pytest_indexguard.explain import postgresql

                try:
                    views, partitions, relations = postgresql.views_and_partitions(raw, tables)
                except Exception as exc:  # explain everything rather than miss a table
                    self.internal_error(exc)
                    views, partitions, relations = set(), set(), set()
                else:
                    self._note_missing(tables, relations)
                watched = frozenset(tables | partitions)
                found = Watch(names=frozenset(watched | views), watched=watched)
            self.watch_names[alias] = found
        return found

    def _note_missing(self, tables: frozenset[str], relations: set[str]) -> None:
        """Which watched names this database has, and for the others the nearest table name
        (a typo, or the wrong case: PostgreSQL folds unquoted names to lower case)."""
        import difflib

        self.watch_checks += 1
        self.watched_present.update(tables & relations)
        lowered = {name.lower(): name for name in relations}
        for table in tables - relations:
            close = lowered.get(table.lower()) or next(
                iter(difflib.get_close_matches(table, sorted(relations), n=1)), None
            )
            if close and table not in self.nearest:
                self.nearest[table] = close

    def _note_coverage(
        self, connection: BaseDatabaseWrapper, raw: Any, statement: Statement
    ) -> None:
        """Which indexes this statement's plan uses; the index catalog, once per alias."""

        alias = connection.alias
        digest = statement_digest(alias, statement.sql)
        for index in indexes_used(statement.plan):
            self.index_usage.setdefault(f"{alias}\t{index}", set()).add(digest)
        self.tables_read.update(relations(statement.plan))
        if alias not in self.catalog:
            self.catalog[alias] = [info.to_json() for info in self._schema(alias, raw).indexes]

    def _unexplained(self, key: Key, reason: str) -> None:
        self.unexplained[key] = reason.splitlines()[0] if reason else "unknown"

    def _record(
        self, connection: BaseDatabaseWrapper, statement: Statement, finding: ScanFinding
    ) -> None:
        run = self.current
        if run is None:
            return
        location = self.call_sites.locate()
        exempt = (
            Status.MIGRATE_TIME
            if location.origin == MIGRATION
            else Status.TEST_CODE
            if location.origin == TEST and not self.settings.check_test_code
            else None
        )
        # An exempt statement is not the markers' business: a marker that only allowed such
        # statements is reported as unused.
        decision = Decision() if exempt else run.policy.decide(finding.table)
        key = (id(statement), finding, location, self.phase, decision)
        with self._lock:
            if run.repeated(key, statement):
                return
        rows, source = self._size(connection, finding.table)
        below = self.settings.min_rows > 0 and rows is not None and rows < self.settings.min_rows
        fingerprint, _ = statement.identity(finding.table)
        known = fingerprint in self.known
        # Only a violation that counts (fails the test, or is in the baseline and will once its
        # entry goes) is worth the round trips of verifying an index for it.
        warned = finding.rule is Rule.UNSERVABLE and self.settings.unservable == "warn"
        counts = decision.allowed_by is None and not below and not warned and exempt is None
        occurrence = Occurrence(
            statement=statement,
            finding=finding,
            phase=self.phase,
            call_site=location.call_site,
            origin=location.origin,
            built_at=location.built_at,
            exempt=exempt,
            decision=decision,
            table_rows=rows,
            rows_source=source,
            below_threshold=below,
            fingerprint=fingerprint,
            known=known,
            suggestion=self._suggestion(connection, statement, finding, verify=counts),
            warned=warned,
        )
        with self._lock:  # another thread may have recorded the same one meanwhile
            if not run.repeated(key, statement):
                run._seen[key] = occurrence
                run.occurrences.append(occurrence)

    def _suggestion(
        self,
        connection: BaseDatabaseWrapper,
        statement: Statement,
        finding: ScanFinding,
        *,
        verify: bool,
    ) -> Suggestion | None:
        """The first candidate index that removes the full scan when the statement is planned
        with it; verified once per distinct statement and scan. A scan that was allowed or is
        below the row threshold gets the first candidate unverified, without a round trip."""
        if finding in statement.suggestions:
            return statement.suggestions[finding]
        found = candidates(finding, self.models, statement.sql, self.schemas.get(statement.alias))
        if not found:
            statement.suggestions[finding] = None
            return None
        if not verify:
            return replace(found[0], note="not verified: the scan does not count against the test")
        result = found[0]
        if statement.text is not None:
            result = self._verify(connection.connection, statement.text, finding, found)
        statement.suggestions[finding] = result
        return result

    def _verify(
        self, raw: Any, text: str, finding: ScanFinding, found: list[Suggestion]
    ) -> Suggestion:
        from pytest_indexguard.explain import postgresql

        for candidate in found:
            try:
                if postgresql.can_explain(raw) is not None:
                    return replace(found[0], note="not verified: the connection was busy")
                extra = postgresql.NO_SORT if finding.rule is Rule.SORT_RANGE else ""
                plan = postgresql.verify_index(
                    raw, text, finding.table, candidate.columns, extra=extra
                )
            except Exception as exc:  # the check failed; the suggestion stays, unverified
                self.round_trips += 1
                return replace(found[0], note=f"not verified: {str(exc).splitlines()[0]}")
            self.round_trips += 1
            if not scanned_from_temporary_schema(plan, finding.table):
                return replace(
                    found[0], note="not verified: the statement names the table's schema"
                )
            if _fixes(plan, finding, candidate):
                return replace(candidate, verified=True)
        return replace(found[0], verified=False)

    def _size(self, connection: BaseDatabaseWrapper, table: str) -> tuple[int | None, str | None]:
        declared = self.settings.table_rows.get(table)
        if declared is not None:
            return declared
        if self.settings.min_rows <= 0:
            return None, None
        key = (connection.alias, table)
        if key not in self.table_rows:
            from pytest_indexguard.explain import postgresql

            try:
                sizes = postgresql.table_sizes(connection.connection, [table])
            except Exception as exc:  # reported in the summary
                self.internal_error(exc)
                sizes = {}
            self.table_rows[key] = sizes.get(table)
        found = self.table_rows[key]
        return (found[0], found[1]) if found else (None, None)


def _fixes(plan: Any, finding: ScanFinding, candidate: Suggestion) -> bool:
    """The finding is gone from the plan made with the candidate index, and every use of that
    index constrains its leading column (a condition on a later column alone still reads the
    whole index)."""
    from pytest_indexguard.explain.postgresql import PROBE

    wanted = signature(finding)
    if any(signature(f) == wanted for f in analyze(plan) if f.is_violation):
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


def _mogrify(raw: Any, sql: str, params: Any) -> str:
    from psycopg import ClientCursor

    with ClientCursor(raw) as cursor:
        return cursor.mogrify(sql, params)


# A parameter used as a pattern: whether an index can serve it depends on its value ('abc%'
# can use a text_pattern_ops index, '%abc%' cannot).
_PATTERN_PARAMETER = re.compile(
    r"(?:\bLIKE|\bSIMILAR\s+TO|~~?\*?)\s*(?:UPPER\(|LOWER\()?\s*%s", re.IGNORECASE
)


def pattern_shape(params: Any, many: bool) -> tuple[str, ...]:
    """How each parameter of a pattern statement starts: with a wildcard, an anchor, or text."""
    first = first_parameters(params, many)
    values = first.values() if isinstance(first, dict) else first
    if not isinstance(values, Iterable) or isinstance(values, str | bytes):
        return ()
    return tuple(
        ("%" if value[:1] in ("%", "_") else "^" if value[:1] == "^" else "a")
        if isinstance(value, str)
        else ""
        for value in values
    )


def _several_statements(sql: str) -> bool:
    import sqlparse
    from sqlparse.exceptions import SQLParseError

    try:
        parts = sqlparse.split(sql)
    except SQLParseError:  # too long for sqlparse: one statement unless ";" ends a line
        return bool(re.search(r";\s*\S", sql.strip().rstrip(";")))
    return len([part for part in parts if part.strip().rstrip(";").strip()]) > 1
