"""The guard's state for one session: the plan cache, the current test, what was found.

The route of one statement: ``capture.Capture`` (Django's execute wrapper, on every alias)
calls ``Guard.observe`` before the statement runs. A statement seen before costs one dictionary
lookup in the plan cache. A new one goes to the alias's backend (``explain/``, chosen by the
connection's vendor): ``Backend.explain`` plans it in one protected round trip, and
``Backend.assess`` reads that plan into ``model.ScanFinding``s and settles them with the pure
rules of ``judge.py`` (the schema's indexes, production's shape). The ``model.Statement`` is
cached with its violations. Once the statement has run, ``Guard.executed`` records each
violation against the running test (``policy.TestPolicy.decide``: allowed by a marker?), with
its call site, the table's size and a suggested index that ``Backend.verify`` checked on the
database. ``plugin.py`` fails the test with the words of ``report.py``.

Everything that only matters for reporting (call sites, suggestions, table sizes) is computed
for violations only. Every question to the database goes through ``Guard._ask``: a failure
there never reaches the test; it is counted in the summary and the verdict rests on what is
known.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_indexguard import judge
from pytest_indexguard.callsite import CallSiteFinder
from pytest_indexguard.capture import Capture, changes_schema, first_parameters, is_explainable
from pytest_indexguard.config import Settings
from pytest_indexguard.explain import (
    Backend,
    Context,
    NotExplained,
    Relations,
    every_key_query,
    for_vendor,
)
from pytest_indexguard.explain.postgresql import PostgreSQL
from pytest_indexguard.fingerprint import statement_digest
from pytest_indexguard.model import (
    DISTINCT_CAP,
    Key,
    Occurrence,
    Rule,
    ScanFinding,
    Statement,
    Status,
    TestRun,
    Watch,
)
from pytest_indexguard.origin import APPLICATION, MIGRATION, TEST
from pytest_indexguard.policy import Decision, TestPolicy
from pytest_indexguard.schema import Schema
from pytest_indexguard.shadow import Shadow
from pytest_indexguard.sqltext import mask_message
from pytest_indexguard.suggest import ModelIndex, Suggestion, candidates
from pytest_indexguard.summary import LET_THROUGH_CAP, Summary

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

T = TypeVar("T")

# The cache entry of statements that are never explained: those of aliases no backend checks,
# those that name no watched table (nor a view, which could read one), and strings of several
# statements. A statement the database could not explain is not cached: the error may belong
# to one execution's parameters, and the next execution is tried again.
_NOT_CHECKED = Statement(alias="", sql="", findings=(), plan=None)
# Where a statement read through a server-side cursor is cached: apart from the same SQL read
# at once, whose plan differs.
CURSOR_KEY = "\x00cursor\x00"
# At most this many variants of one statement are kept (``Statement.variants``); beyond them
# a statement with other values is judged again at each execution, never by another's verdict.
VARIANTS_CAP = 1_000
# Rows sorted per call that make a sorted index range a violation, when production's shape is
# known and no --indexguard-min-rows says otherwise.
SORT_THRESHOLD = 1_000


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
        # The session's counters, defined once in ``Summary``.
        self.totals = Summary()
        # Per alias: its backend (None: not checked), the plan cache by SQL text exactly as
        # Django sent it (it carries placeholders), the index catalog, the watched names.
        self.backends: dict[str, Backend | None] = {}
        self.plans: dict[str, dict[str, Statement]] = {}
        self.schemas: dict[str, Schema] = {}
        self.watch_names: dict[str, Watch] = {}
        self.table_rows: dict[tuple[str, str], tuple[int, str] | None] = {}
        # Tables migrate-time code inserted rows into (data migrations, loaddata in a
        # migration) -> where: reference data shipped with the app, presumed small until
        # application code inserts into them (``totals.grown``).
        self.shipped: dict[str, str] = {}
        # Once a test has run, only inserts into tables presumed small need a look at the stack.
        self.migrated = False
        # --indexguard-plan-on: the shadow PostgreSQL database statements of another
        # database are planned on (made at the first one).
        self.shadow = Shadow(settings.plan_on) if settings.plan_on else None
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

    def summary(self) -> Summary:
        """This process's totals, with the size of the plan cache at the end."""
        summary = Summary()
        summary.merge(self.totals)
        summary.cached = sum(len(plans) for plans in self.plans.values())
        return summary

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
        if phase == "call":
            self.migrated = True
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
        self,
        connection: BaseDatabaseWrapper,
        sql: str,
        params: Any,
        many: bool,
        cursor: bool = False,
    ) -> Statement | None:
        """Judge a statement before it runs (from the cache, or with one round trip); return it
        when it has violations to record once it has run (``executed``). ``cursor``: read
        through a server-side cursor, which the database may plan otherwise (cached apart)."""
        plans = self.plans.get(connection.alias)
        if plans is None:
            plans = self.plans[connection.alias] = {}
        statement = plans.get(CURSOR_KEY + sql if cursor else sql)
        if statement is not None:
            if statement.variants is not None:
                statement = statement.variants.get(
                    shape(
                        params,
                        many,
                        patterned=statement.patterned,
                        keyed=statement.keyed,
                        scope=self._scope(),
                    )
                )
            elif statement is not _NOT_CHECKED and _has_null(params, many):
                statement = None  # planned with values: a NULL may be planned otherwise
        if statement is None:
            statement = self._inspect(connection, plans, sql, params, many, cursor=cursor)
            if statement is None:
                return None
        if statement is _NOT_CHECKED:
            return None
        statement.executions += 1
        self.totals.checked += 1
        if statement.violations and self.current is not None:
            return statement
        return None

    def executed(self, connection: BaseDatabaseWrapper, pending: object) -> None:
        if isinstance(pending, Statement) and self.current is not None:
            for finding in pending.violations:
                self._record(connection, pending, finding)

    def inserted(self, connection: BaseDatabaseWrapper, sql: str) -> None:
        """An INSERT, watched or not: who inserts rows into which table decides which tables
        are reference data shipped with the app (``small``)."""
        match = _INSERT_INTO.match(sql)
        if match is None:
            return
        table = match.group(1)
        small = table in self.shipped or table in self.settings.small_tables
        if (self.migrated and not small) or table in self.totals.grown:
            return
        location = self.call_sites.locate()
        if location.origin == MIGRATION:
            if not self.migrated:
                self.shipped.setdefault(table, str(location.call_site or "by migrate"))
        elif location.origin == APPLICATION and small and location.call_site is not None:
            # Application code, a view or a command; not Django's own machinery with no frame
            # of the project (a TransactionTestCase's serialized rollback reloading the rows).
            self.totals.grown[table] = str(location.call_site)

    def small(self, table: str) -> str | None:
        """Why a table whose size is not declared is presumed small, if it is."""
        if table in self.settings.table_rows or table in self.totals.grown:
            return None
        if table in self.settings.small_tables:
            return (
                "a table listed in indexguard_small_tables (by default Django's own that stay "
                "small)"
            )
        where = self.shipped.get(table)
        if where is not None:
            return (
                f"reference data shipped with the app: its rows were inserted at migrate time "
                f"({where}), never by application code"
            )
        return None

    def schema_changed(self, alias: str, sql: str = "") -> None:
        renamed = _RENAME_TABLE.match(sql) if sql else None
        if renamed is not None:
            # A model renamed by a migration (RenameModel) keeps the rows migrate-time code
            # inserted under its old name: still reference data shipped with the app.
            old, new = renamed.group(1), renamed.group(2)
            for tables in (self.shipped, self.totals.grown):
                if old in tables:
                    tables[new] = tables.pop(old)
        self.schemas.pop(alias, None)
        self.totals.catalog.pop(alias, None)
        self.watch_names.pop(alias, None)
        if self.plans.get(alias):
            self.plans[alias] = {}
            self.totals.invalidations += 1
        for size_key in [k for k in self.table_rows if k[0] == alias]:
            del self.table_rows[size_key]

    def internal_error(self, error: BaseException) -> None:
        self.totals.internal_errors[f"{type(error).__name__}: {error}"] += 1

    def _ask(self, question: Callable[[], T], fallback: T) -> T:
        """A question to the database whose failure must not change the verdict's shape: on
        any error, ``fallback``, and the error counted for the summary."""
        try:
            return question()
        except Exception as exc:
            self.internal_error(exc)
            return fallback

    def _backend(self, connection: BaseDatabaseWrapper) -> Backend | None:
        """The alias's backend, decided once: None for an engine or driver no backend
        checks (the summary says so)."""
        alias = connection.alias
        if alias in self.backends:
            return self.backends[alias]
        backend = for_vendor(connection.vendor)
        reason: str | None = connection.display_name
        if backend is not None:
            checks = backend
            reason = self._ask(lambda: checks.unsupported(connection), None)
        if reason is not None:
            self.totals.unsupported.setdefault(alias, reason)
            backend = None
        self.backends[alias] = backend
        return backend

    def _inspect(
        self,
        connection: BaseDatabaseWrapper,
        plans: dict[str, Statement],
        sql: str,
        params: Any,
        many: bool,
        *,
        cursor: bool = False,
    ) -> Statement | None:
        alias = connection.alias
        key = (alias, sql)
        cached = CURSOR_KEY + sql if cursor else sql
        raw = connection.connection
        backend = self._backend(connection) if raw is not None else None
        if backend is None:
            self._cache(plans, cached, _NOT_CHECKED)
            return _NOT_CHECKED
        if not is_explainable(sql):
            if changes_schema(sql):
                self.schema_changed(alias, sql)
            return None
        if backend.busy(raw) is not None:
            self.totals.skipped_aborted += 1
            return None
        if ";" in sql and _several_statements(sql):
            self._unexplained(key, "several statements in one string")
            self._cache(plans, cached, _NOT_CHECKED)
            return _NOT_CHECKED
        watch = self._watch(alias, backend, raw)
        if watch.names is not None and not any(name in sql for name in watch.names):
            self.totals.skipped_unwatched += 1
            self._cache(plans, cached, _NOT_CHECKED)
            return _NOT_CHECKED
        own = _Planner(backend, raw, alias, connection.vendor)
        planner = self._planner(connection, sql, own)
        if planner.sql is not None:  # the shadow's own views and partitions
            watch = self._watch(planner.key, planner.backend, planner.raw)
        bound = first_parameters(params, many)
        if many and bound is None:
            # An executemany of no rows: its placeholders have nothing to bind, and EXPLAIN of
            # unbound placeholders is a syntax error (on PostgreSQL raised before the
            # savepoint of the same string exists: it would abort the test's transaction).
            self._unexplained(key, "executemany without parameters")
            return None
        while True:
            backend, raw = planner.backend, planner.raw
            values = bound if planner.sql is None else planner.params
            try:
                source = sql if planner.sql is None else planner.sql
                text = (source if values is None else backend.bind(raw, source, values)).strip()
                text = text.rstrip(";")
                if cursor:
                    text = backend.declared(text)
                explained = backend.explain(raw, text, forced=self.forced)
            except NotExplained as exc:
                self.totals.round_trips += 1
                if planner.sql is not None:  # PostgreSQL refused it: judged on its own database
                    why = mask_message(str(exc), values).splitlines()[0]
                    planner = replace(own, judged_here=f"PostgreSQL could not plan it ({why})")
                    continue
                self._unexplained(key, mask_message(str(exc), bound))
                return None
            except Exception as exc:  # a binding or connection problem of this statement
                problem = mask_message(f"{type(exc).__name__}: {exc}".strip(), values)
                if planner.sql is not None:  # the shadow's: judged on its own database
                    why = problem.splitlines()[0]
                    planner = replace(own, judged_here=f"the shadow database failed ({why})")
                    continue
                self._unexplained(key, problem)
                return None
            break
        self.totals.explained += 1
        self.totals.round_trips += explained.round_trips
        digest = statement_digest(alias, sql)
        if len(self.totals.distinct) < DISTINCT_CAP:
            self.totals.distinct.add(digest)
        if planner.sql is not None:
            self.totals.planned_on.add(digest)
        elif planner.judged_here is not None:
            self.totals.judged_here.setdefault(planner.judged_here, set()).add(digest)
        schema = self._schema(planner.key, backend, raw)
        context = Context(
            schema,
            watch.watches,
            self.production,
            self.models.is_low_cardinality,
            prefetching=prefetching,
            rows_elsewhere=(
                None if planner.sql is None else functools.partial(_every_key_on, connection)
            ),
        )
        assessment = backend.assess(raw, text, explained.plan, context)
        self.totals.round_trips += assessment.round_trips
        for error in assessment.errors:
            self.internal_error(error)
        statement = Statement(
            alias=alias,
            sql=sql,
            findings=tuple(assessment.findings),
            plan=explained.plan,
            vendor=planner.vendor,
            cursor=cursor,
            planned_sql=planner.sql,
            judged_here=planner.judged_here,
        )
        for finding in statement.findings:
            if not finding.is_violation and not finding.sorted_range:
                self.totals.informational.add(finding.table)
                sent = self.totals.let_through.setdefault(finding.table, set())
                if len(sent) < LET_THROUGH_CAP:
                    sent.add(sql)
        if self.settings.coverage:
            self._note_coverage(alias, backend, schema, statement)
        if statement.violations:
            statement.text = text
            statement.plan_lines = tuple(self._ask(lambda: backend.render(explained.plan), []))
        else:
            statement.plan = None
        patterned = _patterned(sql)
        keyed = assessment.keyed
        self._cache_variant(
            plans,
            statement,
            shape(params, many, patterned=patterned, keyed=keyed, scope=self._scope()),
            patterned,
            keyed,
        )
        return statement

    def _planner(self, connection: BaseDatabaseWrapper, sql: str, own: _Planner) -> _Planner:
        """Where the statement is planned: on its own database, or (``--indexguard-plan-on``,
        a test database that is not PostgreSQL) compiled for PostgreSQL and planned on the
        shadow database; when it cannot be, on its own, saying why."""
        shadow = self.shadow
        if shadow is None or connection.vendor == "postgresql":
            return own
        with self.suspended():  # its own questions to the test database are not judged
            compiled = shadow.compile(connection, sql)
        if isinstance(compiled, str):
            if shadow.failed is not None:
                self.totals.shadow.setdefault("failed", shadow.failed)
            return replace(own, judged_here=compiled)
        self.totals.shadow.setdefault("schema", f"{shadow.built}, in {shadow.seconds:.1f} s")
        return _Planner(
            POSTGRESQL,
            shadow.raw(),
            SHADOW_KEY,
            "postgresql",
            sql=compiled.sql,
            params=compiled.params,
        )

    def _scope(self) -> str:
        """The running test: a verdict on a list of keys holds for the rows of one test."""
        return self.current.nodeid if self.current is not None else ""

    def _cache_variant(
        self,
        plans: dict[str, Statement],
        statement: Statement,
        key: tuple[tuple[str, ...], tuple[int, ...]],
        patterned: bool,
        keyed: bool = False,
    ) -> None:
        """Cache the statement by its SQL text, or, when its verdict may depend on the values
        (a pattern; a NULL among them; a list of keys), as the variant of its shape: whichever
        test first sends a NULL or a value, or a list of every key or of some, each gets the
        verdict of its own values."""
        sql = CURSOR_KEY + statement.sql if statement.cursor else statement.sql
        existing = plans.get(sql)
        plain = not patterned and not keyed and not key[1]
        if plain and (existing is None or existing.variants is None):
            self._cache(plans, sql, statement)
            return
        if existing is not None and existing.variants is not None:
            holder = existing
            if keyed and not holder.keyed:
                # Variants cached by the kind of their values are looked up by their values
                # from now on: each is judged again once, then found.
                holder.keyed = True
                existing.variants.clear()
        else:
            variants: dict[tuple[tuple[str, ...], tuple[int, ...]], Statement] = {}
            if existing is not None and existing is not _NOT_CHECKED and not keyed:
                # Planned with values, none of them NULL (a keyed entry is looked up by its
                # values, which the plain entry was cached without).
                variants[((), ())] = existing
            holder = Statement(
                alias=statement.alias,
                sql=statement.sql,
                cursor=statement.cursor,
                findings=(),
                plan=None,
                variants=variants,
                patterned=patterned,
                keyed=keyed,
            )
            self._cache(plans, sql, holder)
        assert holder.variants is not None
        if len(holder.variants) < VARIANTS_CAP:
            holder.variants[key] = statement

    def _schema(self, alias: str, backend: Backend, raw: Any) -> Schema:
        """The alias's index catalog, read once (and again after a schema change); without
        it, the verdict rests on the plan alone."""
        found = self.schemas.get(alias)
        if found is None:
            found = self._ask(lambda: backend.schema(raw), Schema())
            # The models' foreign keys, for a database that has no constraints for them.
            found = self.schemas[alias] = found.with_references(
                self._ask(self.models.references, {})
            )
        return found

    def _cache(self, plans: dict[str, Statement], sql: str, statement: Statement) -> None:
        """Bounded per alias: the oldest entry goes first (no bookkeeping on cache hits)."""
        if len(plans) >= self.settings.cache_size:
            del plans[next(iter(plans))]
            self.totals.evictions += 1
        plans[sql] = statement

    def _watch(self, alias: str, backend: Backend, raw: Any) -> Watch:
        """Which tables count on this alias: the watched ones and their partitions. The names
        also include every view, since a view's plan reads the tables under it."""
        found = self.watch_names.get(alias)
        if found is None:
            tables = self.settings.tables
            if tables is None:
                found = Watch(names=None, watched=None, internal=backend.internal)
            else:
                # On failure: explain everything rather than miss a table.
                names = self._ask(lambda: backend.relations(raw, tables), None)
                if names is not None:
                    self._note_missing(tables, names.names)
                names = names or Relations()
                watched = frozenset(tables | names.partitions)
                found = Watch(
                    names=frozenset(watched | names.views),
                    watched=watched,
                    internal=backend.internal,
                )
            self.watch_names[alias] = found
        return found

    def _note_missing(self, tables: frozenset[str], relations: Iterable[str]) -> None:
        """Which watched names this database has, and for the others the nearest table name
        (a typo, or the wrong case: PostgreSQL folds unquoted names to lower case)."""
        relations = set(relations)
        self.totals.watch_checks += 1
        self.totals.watched_present.update(tables & relations)
        lowered = {name.lower(): name for name in relations}
        for table in tables - relations:
            close = lowered.get(table.lower()) or next(
                iter(difflib.get_close_matches(table, sorted(relations), n=1)), None
            )
            if close and table not in self.totals.nearest:
                self.totals.nearest[table] = close

    def _note_coverage(
        self, alias: str, backend: Backend, schema: Schema, statement: Statement
    ) -> None:
        """Which indexes this statement's plan uses; the index catalog, once per alias."""
        digest = statement_digest(alias, statement.sql)
        for index in backend.indexes_used(statement.plan):
            self.totals.index_usage.setdefault(f"{alias}\t{index}", set()).add(digest)
        self.totals.tables_read.update(backend.tables_read(statement.plan))
        if alias not in self.totals.catalog:
            self.totals.catalog[alias] = [info.to_json() for info in schema.indexes]

    def _unexplained(self, key: Key, reason: str) -> None:
        alias, sql = key
        first = reason.splitlines()[0] if reason else "unknown"
        self.totals.unexplained[statement_digest(alias, sql)] = (alias, sql, first)

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
        small = self.small(finding.table)
        table = finding.table
        if small is None and exempt is None and table not in self.totals.test_rows:
            self._note_test_rows(connection, table, rows)
        judged = decision.allowed_by is None and not below and not warned and exempt is None
        # A table presumed small as reference data counts once application code inserts into
        # it, maybe later in the run: its suggestion is verified all the same, so that whether
        # it says "verified" does not depend on which test ran first.
        verify = judged and (small is None or table not in self.settings.small_tables)
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
            suggestion=self._suggestion(connection, statement, finding, verify=verify),
            warned=warned,
            small=small,
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
        shadowed = statement.planned_sql is not None and self.shadow is not None
        key = SHADOW_KEY if shadowed else statement.alias
        schema = self.schemas.get(key)
        sql = statement.planned_sql or statement.sql
        found = candidates(finding, self.models, sql, schema, statement.vendor)
        if not found:
            statement.suggestions[finding] = None
            return None
        if not verify:
            return replace(found[0], note="not verified: the scan does not count against the test")
        result = found[0]
        backend = POSTGRESQL if shadowed else self.backends.get(statement.alias)
        raw = self.shadow.raw() if shadowed and self.shadow else connection.connection
        if statement.text is not None and backend is not None and raw is not None:
            result = self._verify(backend, raw, statement.text, finding, found)
        statement.suggestions[finding] = result
        return result

    def _verify(
        self, backend: Backend, raw: Any, text: str, finding: ScanFinding, found: list[Suggestion]
    ) -> Suggestion:
        """The first candidate the database confirms; the first one, unverified, with the
        reason, when it cannot say."""
        for candidate in found:
            if backend.busy(raw) is not None:
                return replace(found[0], note="not verified: the connection was busy")
            try:
                verdict = backend.verify(raw, text, finding, candidate)
            except Exception as exc:  # the check failed; the suggestion stays, unverified
                self.totals.round_trips += 1
                return replace(found[0], note=f"not verified: {str(exc).splitlines()[0]}")
            self.totals.round_trips += verdict.round_trips
            if verdict.fixes is None:
                return replace(found[0], note=verdict.note)
            if verdict.fixes:
                return replace(candidate, verified=True, note=verdict.note)
        return replace(found[0], verified=False)

    def _note_test_rows(
        self, connection: BaseDatabaseWrapper, table: str, rows: int | None
    ) -> None:
        """The test database's rows of a table with a violation and no declared size, for the
        summary's block of sizes to declare: counted once per table and session."""
        if table in self.settings.table_rows:
            return
        if rows is None:
            backend = self.backends.get(connection.alias)
            if backend is None:
                return
            raw = connection.connection
            nothing: dict[str, tuple[int, str]] = {}
            rows = self._ask(lambda: backend.table_sizes(raw, [table]), nothing).get(
                table, (None, "")
            )[0]
        if rows is not None:
            self.totals.test_rows[table] = rows

    def _size(self, connection: BaseDatabaseWrapper, table: str) -> tuple[int | None, str | None]:
        declared = self.settings.table_rows.get(table)
        if declared is not None:
            return declared
        backend = self.backends.get(connection.alias)
        if self.settings.min_rows <= 0 or backend is None:
            return None, None
        key = (connection.alias, table)
        if key not in self.table_rows:
            raw = connection.connection
            nothing: dict[str, tuple[int, str]] = {}
            sizes = self._ask(lambda: backend.table_sizes(raw, [table]), nothing)
            self.table_rows[key] = sizes.get(table)
        found = self.table_rows[key]
        return (found[0], found[1]) if found else (None, None)


def _every_key_on(
    connection: BaseDatabaseWrapper, target: str, key: str, keys: list[str], parent: str | None
) -> tuple[Any, ...]:
    """``every_key_query``'s answer from the test database (a statement planned on the shadow
    database of --indexguard-plan-on, which holds no rows): on the driver's own cursor, not
    through Django's (no execute wrapper sees it); a read, on SQLite or MySQL."""
    quote = connection.ops.quote_name
    listed = f"IN ({', '.join(keys)})"
    query = every_key_query(quote, target, key, listed, keys=len(keys), parent=parent)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(query)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return tuple(row)


@dataclass(frozen=True)
class _Planner:
    """Where a statement is planned: a backend and its connection, the key its catalog and
    watched names are kept under, the vendor whose advice the reports give; for the shadow of
    ``--indexguard-plan-on``, the statement compiled for it (``sql``, ``params``)."""

    backend: Backend
    raw: Any
    key: str
    vendor: str
    sql: str | None = None
    params: Any = None
    judged_here: str | None = None


# The shadow's catalog and watched names are kept under this key (no alias is named so).
SHADOW_KEY = "\x00shadow"
POSTGRESQL = PostgreSQL()


# A table renamed, as Django's schema editors write it: ``ALTER TABLE "a" RENAME TO "b"``
# (PostgreSQL, SQLite), ``RENAME TABLE `a` TO `b``` (MySQL/MariaDB).
_RENAME_TABLE = re.compile(
    r'\s*(?:ALTER\s+TABLE|RENAME\s+TABLE)\s+[`"]?([^\s`"]+)[`"]?\s+(?:RENAME\s+)?TO\s+'
    r'[`"]?([^\s`"]+)[`"]?\s*$',
    re.IGNORECASE,
)
_INSERT_INTO = re.compile(r'\s*INSERT\s+INTO\s+[`"]?([^\s`"(]+)', re.IGNORECASE)

# A parameter used as a pattern: whether an index can serve it depends on its value ('abc%'
# can use a text_pattern_ops index, '%abc%' cannot).
_PATTERN_PARAMETER = re.compile(
    r"(?:\bLIKE|\bSIMILAR\s+TO|~~?\*?)\s*(?:UPPER\(|LOWER\()?\s*%s", re.IGNORECASE
)


_QUERY_MODULE = os.path.join("django", "db", "models", "query.py")


def prefetching() -> bool:
    """Whether the statement being judged is a prefetch of related rows: Django's
    ``prefetch_one_level`` (``prefetch_related``, ``prefetch_related_objects``) is on the
    stack."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "prefetch_one_level" and code.co_filename.endswith(_QUERY_MODULE):
            return True
        frame = frame.f_back
    return False


def shape(
    params: Any, many: bool, patterned: bool, keyed: bool = False, scope: str = ""
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """What of the parameters' values a plan may depend on: the kind of each pattern, and
    which values are NULL; for a verdict that rests on a list of keys (``Statement.keyed``),
    the values themselves, the test (``scope``) and whether the statement is a prefetch: the
    same keys name every queue in one test and three of four in the next (SQLite and MySQL
    number rows from 1 again after a test's rollback)."""
    first = first_parameters(params, many)
    values = list(first.values()) if isinstance(first, dict) else first
    nulls: tuple[int, ...] = ()
    if isinstance(values, list | tuple) and None in values:
        nulls = tuple(i for i, value in enumerate(values) if value is None)
    if keyed:
        if prefetching():  # a prefetch's list is never judged as every key: one verdict
            return (("prefetch",), nulls)
        listed = repr(tuple(values) if isinstance(values, list | tuple) else values)
        digest = hashlib.blake2b(listed.encode(), digest_size=16).hexdigest()
        return (("values", digest, scope), nulls)
    return (pattern_shape(params, many) if patterned else (), nulls)


def _patterned(sql: str) -> bool:
    # The search costs about 6 µs on a statement of 200 characters; most statements hold none
    # of its words, which a look at the upper-cased text tells in a tenth of that.
    upper = sql.upper()
    if "LIKE" not in upper and "SIMILAR" not in upper and "~" not in sql:
        return False
    return _PATTERN_PARAMETER.search(sql) is not None


def _has_null(params: Any, many: bool) -> bool:
    first = first_parameters(params, many) if many else params
    if isinstance(first, list | tuple):
        return None in first
    if isinstance(first, dict):
        return None in first.values()
    return False


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
