"""The data the guard deals in, in one place: a full scan found in a plan (``ScanFinding``),
a distinct statement and its verdict (``Statement``), one violation seen while a test ran
(``Occurrence``) and its status, a test's run (``TestRun``), and the plain records that carry
violations to reports, baselines and the xdist controller (``ViolationRecord``).

Nothing here runs SQL or words anything for people (``report.py`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, TypedDict

from pytest_indexguard.fingerprint import fingerprint_sql
from pytest_indexguard.origin import APPLICATION

if TYPE_CHECKING:
    from pytest_indexguard.callsite import CallSite
    from pytest_indexguard.policy import Decision, TestPolicy
    from pytest_indexguard.suggest import Suggestion

# Distinct statements are counted exactly up to this many, so memory stays bounded.
DISTINCT_CAP = 200_000
# Why an alias is not checked, when it is PostgreSQL through a driver the guard cannot drive
# (followed by the driver's name; the summary says which drivers it can).
OTHER_DRIVER = "PostgreSQL through "


class Rule(str, Enum):
    """Why a full scan is a violation."""

    FILTER = "filter"
    JOIN = "join"
    SORT_LIMIT = "sort-limit"
    # The table is read whole because of a predicate no index can serve as written (an OR across
    # tables, <>, NOT IN, a leading wildcard): the fix is a rewrite, not an index.
    UNSERVABLE = "unservable"
    # An index finds the rows of a key, and all of them are sorted to return the first few:
    # harmless for twenty rows per key, slow for 70,000 (judged with production's shape).
    SORT_RANGE = "sort-range"


@dataclass(frozen=True)
class ScanFinding:
    """One full scan of a table in one plan."""

    table: str
    node_type: str
    rule: Rule | None
    index_name: str | None = None
    filter: str | None = None
    join_filter: str | None = None
    sort_key: tuple[str, ...] = ()
    disabled: bool = False
    parallel: bool = False
    alias: str | None = None
    # An Index Cond that does not constrain the index's first column: the whole index is read.
    index_condition: str | None = None
    # Which kind of unservable predicate (Rule.UNSERVABLE): "or-across-tables", "not-equal", ...
    unservable: str | None = None
    # Whether the database has pg_trgm, whose GIN indexes serve wildcard patterns.
    trigram: bool = False
    # Not a full scan: an index range feeding a Sort under a Limit (see Rule.SORT_RANGE).
    sorted_range: bool = False
    # Rows production would sort per call, for a typical key and for the busiest key.
    sorted_rows: tuple[int, int] | None = None
    # Not a full scan: an index range on a value that filters rows of its own
    # (``child_id = x AND start > y``); a violation when production's key has many rows.
    filtered_range: bool = False
    # That range is under a LIMIT (``.get()``, ``.exists()``): it stops at the first rows the
    # Filter keeps, so it matters only when the Filter looks one row up (``judge.settle``).
    limited: bool = False
    # For a scan joined by a Nested Loop: the conditions of the loop's other side on values of
    # its own, as (table, condition), the table "" when the condition spans several of them.
    # An index on the join key spares this scan only when one of them is selective: production
    # then starts from the other side with few rows (``judge.driven``).
    driver: tuple[tuple[str, str], ...] = ()
    # An index range whose only condition is the join key (``Index Cond: (queue_id = q.id)``):
    # restricted only through the other side, so it reads the table whole unless that side is.
    joined: bool = False
    # A whole index walked in order by a server-side cursor's plan, with a Filter another index
    # serves: the cursor does not use that index (``judge._walked_for_a_cursor``).
    cursor_walk: bool = False
    # An index range on a list that names every row of the table its foreign key references,
    # in the test database ("helpdesk_queue (all 3 of its rows ...)"): it reads every row.
    every_key: str | None = None
    # A scan in a correlated sub-plan: the outer query's aliases its conditions compare with,
    # as (alias, table). The sub-plan runs once per outer row, whose columns are values to it
    # (``used_membership_id = membership.id``): the probes plan the condition with a value.
    outer: tuple[tuple[str, str], ...] = ()
    # The tables the Nested Loop that restricts this read joins, when more than PostgreSQL's
    # join_collapse_limit (``plan.COLLAPSE_LIMIT``): the planner joins those two sides as the
    # query writes them, so an index on the join key does not let it start from the other
    # side's few rows (``judge.settle``).
    crowded: int = 0

    @property
    def is_violation(self) -> bool:
        return self.rule is not None

    @property
    def scan_label(self) -> str:
        label = f"Parallel {self.node_type}" if self.parallel else self.node_type
        if self.index_name:
            label += f" using {self.index_name}"
        return label


Key = tuple[str, str]  # (alias, SQL text exactly as Django sent it)


@dataclass
class Statement:
    """A distinct statement (per alias) and what its plan showed. Cached for the session."""

    alias: str
    sql: str
    findings: tuple[ScanFinding, ...]
    plan: Any  # the backend's own format; kept only for statements with violations
    executions: int = 0
    # The plan as the backend renders it for people (-v and the reports), for violations only.
    plan_lines: tuple[str, ...] = ()
    violations: tuple[ScanFinding, ...] = ()
    # The statement with its parameters bound, kept only when it has violations (to verify
    # suggested indexes on it).
    text: str | None = None
    _identities: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    suggestions: dict[ScanFinding, Suggestion | None] = field(default_factory=dict, repr=False)
    # For a statement whose plan depends on its parameters' values (a LIKE pattern with or
    # without a leading wildcard; a NULL, which PostgreSQL folds away: ``col = NULL`` reads no
    # row), the cache entry holds one Statement per shape of the values (``guard.shape``).
    variants: dict[tuple[tuple[str, ...], tuple[int, ...]], Statement] | None = field(
        default=None, repr=False
    )
    # Whether its parameters include a pattern (their kind is part of the shape).
    patterned: bool = False
    # Django's vendor of the connection ("postgresql", "sqlite", "mysql"): the advice the
    # reports give is that database's.
    vendor: str = "postgresql"
    # Read through a server-side cursor (``QuerySet.iterator()``), and planned as one.
    cursor: bool = False
    # Its verdict rests on the values of a list of keys (``explain.Assessment.keyed``): the
    # cache entry holds one Statement per list of values (``guard.shape``).
    keyed: bool = False
    # --indexguard-plan-on (shadow.py): the statement as compiled for PostgreSQL and planned
    # on the shadow database; or, judged on its own database instead, why ("raw SQL").
    planned_sql: str | None = None
    judged_here: str | None = None

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
    # The engine's own catalogs (introspection reads them, and nobody can index them).
    internal: Callable[[str], bool] = field(default=lambda table: False, compare=False)

    def watches(self, table: str) -> bool:
        if self.watched is None:
            return not self.internal(table)  # every table of the project
        return table in self.watched


class Status:
    NEW = "new"
    KNOWN = "known"
    ALLOWED = "allowed"
    WARNED = "warned"
    BELOW_THRESHOLD = "below min-rows"
    # A table presumed small with no declared size: Django's own tables that stay small, and
    # reference data shipped with the app (rows inserted by migrations only). Shown, not failed.
    SMALL = "small table"
    # Statements that never run in production (see origin.py): reported, never failed, never
    # recorded in a baseline.
    TEST_CODE = "test code"
    MIGRATE_TIME = "migrate time"

    VIOLATIONS = (NEW, KNOWN, ALLOWED, WARNED, BELOW_THRESHOLD, SMALL)
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
    # Why the table is presumed small (Status.SMALL), when its size is not declared.
    small: str | None = None

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
        if self.small:
            return Status.SMALL
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


class Place(TypedDict):
    """A line of code: where a statement was issued, or where its QuerySet was built."""

    path: str
    line: int
    function: str


class SuggestionRecord(TypedDict):
    model: str | None
    fields: list[str]
    columns: list[str]
    index: str
    migration: str
    verified: bool | None
    note: str | None
    kind: str


class ViolationRecord(TypedDict):
    """One violation of one test as plain data (JSON): attached to the test's report, so that
    it reaches the xdist controller with it, and read by the JUnit property, the baseline and
    the JSON and SARIF reports. Parameter values never appear."""

    test: str
    fingerprint: str
    alias: str
    table: str
    sql: str
    node: str
    rule: str | None
    filter: str | None
    join_filter: str | None
    sort_key: list[str]
    unservable: str | None
    # An OR no one index serves: the columns of each side, one index each (report.or_sides).
    or_sides: list[list[str]]
    # The database whose planner judged it ("postgresql" under --indexguard-plan-on, else the
    # test database's vendor), and, judged on the test database despite the option, why.
    judged_by: str
    judged_here: str | None
    cursor: bool
    status: str
    allowed_by: str | None
    marker: str | None
    expired_marker: str | None
    rows: int | None
    rows_source: str | None
    small: str | None
    phase: str
    call_site: Place | None
    origin: str
    built_at: Place | None
    executions: int
    suggestion: SuggestionRecord | None
    plan: list[str]
