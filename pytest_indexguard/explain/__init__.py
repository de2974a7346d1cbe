"""The database boundary: what the guard needs of a database, one module per engine.

The guard (``guard.py``) never speaks SQL of its own. For each database alias it picks the
backend of the connection's vendor (``for_vendor``) and asks it, through the ``Backend``
protocol, to explain a statement in one protected round trip, to read the schema's indexes, to
assess a plan (the backend reads its own plan format into backend-neutral ``ScanFinding``s, and
the pure rules of ``judge.py`` settle them), to verify a candidate index and to say why a
connection cannot be checked. Each engine lives in its own module:

- ``explain/postgresql.py``: ``EXPLAIN (FORMAT JSON)`` through psycopg 3 or psycopg2 (a small
  driver seam: ``explain/pg_psycopg.py``, ``explain/pg_psycopg2.py``).
- ``explain/sqlite.py``: ``EXPLAIN QUERY PLAN`` on the sqlite3 connection.
- ``explain/mysql.py``: ``EXPLAIN FORMAT=JSON`` on MySQL 8 and MariaDB 10.6+.

``raw`` below is the driver's connection (Django's ``connection.connection``); ``text`` is a
statement with its parameters bound (``Backend.bind``), so it can be explained on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from pytest_indexguard.judge import Production
    from pytest_indexguard.model import ScanFinding
    from pytest_indexguard.schema import Schema
    from pytest_indexguard.suggest import Suggestion


# Tables without a row estimate are counted, up to this many rows (a table that big is big
# whatever its exact size).
COUNT_BOUND = 100_000


def counted(rows: int) -> tuple[int, str]:
    """A table size counted with ``LIMIT COUNT_BOUND``, and where the figure comes from."""
    return rows, "counted" if rows < COUNT_BOUND else f"counted, at least {COUNT_BOUND:,}"


def every_key_query(
    quote: Callable[[str], str],
    target: str,
    key: str,
    listed: str,
    *,
    keys: int,
    parent: str | None = None,
) -> str:
    """The query that tells whether a list of ``keys`` keys names every row of the table
    ``target`` a foreign key references: its rows, counted up to one more than the list holds,
    those the list names (``listed``: the backend's own ``IN (...)`` or ``= ANY (...)``, after
    the quoted ``key``), and, when the table refers to itself through ``parent`` (a tree: a
    product's parent), those the list names together with their parent. A list of every key is
    no restriction: the tickets of every queue a user may see are every ticket in production.
    A row and its parent (``product_id__in=(product.id, product.parent_id)``) are one family's
    rows, however few the test database holds."""
    table, named = quote(target), f"{quote(key)} {listed}"
    family = (
        f", (SELECT count(*) FROM {table} WHERE {named} AND {quote(parent)} {listed})"
        if parent
        else ""
    )
    return (
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {keys + 1}) AS bounded), "
        f"(SELECT count(*) FROM {table} WHERE {named}){family}"
    )


def every_key(target: str, total: Any, matched: Any, family: Any = 0) -> str | None:
    """What a list covers, from ``every_key_query``'s answer, when it names every row of
    ``target`` and is not a row with its parent; None otherwise. Keys the table does not hold
    (yet) change nothing."""
    total, matched = int(total or 0), int(matched or 0)
    if total == matched >= 2 and not int(family or 0):
        return f"{target} (all {total} of its rows in the test database)"
    return None


class NotExplained(Exception):
    """The statement could not be explained; the message says why, in a few words."""


@dataclass(frozen=True)
class Explained:
    """A statement's plan in the backend's own format, and the round trips it cost."""

    plan: Any
    round_trips: int


@dataclass
class Assessment:
    """One statement's verdict: its full scans as the judgement settled them."""

    findings: list[ScanFinding]
    round_trips: int = 0
    # What went wrong on the way (the verdict then rests on what was known): for the summary.
    errors: list[BaseException] = field(default_factory=list)
    # The verdict rests on the values of a list of keys (whether it names every row of the
    # table its foreign key references) or on whether the statement is a prefetch: another
    # execution with other values is judged again.
    keyed: bool = False


@dataclass(frozen=True)
class Context:
    """What the judgement knows besides the plan: the database's indexes, which tables count,
    production's shape when declared, and which columns hold few distinct values."""

    schema: Schema
    watched: Callable[[str], bool] | None = None
    production: Production | None = None
    few_values: Callable[[str, str], bool] | None = None
    # Whether the statement is a prefetch of related rows (``prefetch_related``): its list of
    # keys is what the outer query returned, which that query's own verdict bounds. Asked only
    # when a list of keys would decide.
    prefetching: Callable[[], bool] | None = None
    # Where the rows are, when the plan comes from elsewhere (--indexguard-plan-on: a shadow
    # database without rows): (referenced table, its key, the listed keys as SQL literals, the
    # table's parent column) -> ``every_key_query``'s answer, asked of the test database.
    rows_elsewhere: Callable[[str, str, list[str], str | None], tuple[Any, ...]] | None = None


@dataclass(frozen=True)
class Relations:
    """Names in one database: its views (a view's plan may read a watched table), the
    partitions of the watched tables (plans name the partition, not its parent) and every
    table and view (to tell a watched name that exists nowhere)."""

    views: frozenset[str] = frozenset()
    partitions: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Verification:
    """Whether a candidate index removes the finding when the statement is planned with it.
    ``fixes`` is None when it could not be checked on the database; ``note`` then says why."""

    fixes: bool | None
    round_trips: int = 0
    note: str | None = None


class Backend(Protocol):
    """What the guard needs of one database engine. Every method that takes ``raw`` leaves
    the connection's transaction, data and session settings as it found them, and raises
    (``NotExplained`` or the driver's error) rather than half-succeeding."""

    # For people: "PostgreSQL", "SQLite", "MariaDB 11.8", ...
    name: str

    def unsupported(self, connection: BaseDatabaseWrapper) -> str | None:
        """Why statements on this connection cannot be checked at all (a driver the backend
        cannot drive, a server too old), or None. Asked once per alias."""

    def busy(self, raw: Any) -> str | None:
        """Why the connection cannot be used for EXPLAIN right now (an aborted transaction, a
        pipeline), or None when it can."""

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        """``sql`` with ``params`` bound the way the driver would bind them."""

    def explain(self, raw: Any, text: str, *, forced: bool) -> Explained:
        """The plan of ``text``, in one protected round trip. ``forced``: planned as for large
        tables (the guard's default), however few rows the test database holds."""

    def declared(self, text: str) -> str:
        """``text`` as the database plans it when it is read through a server-side cursor
        (Django's ``QuerySet.iterator()``): the statement ``explain``, ``assess`` and
        ``verify`` are then given. A backend whose Django connection opens no such cursor
        returns ``text``."""

    def assess(self, raw: Any, text: str, plan: Any, context: Context) -> Assessment:
        """The verdict on ``text`` whose plan is ``plan``: the full scans of the watched tables
        production would really do (rules in ``judge.py``)."""

    def schema(self, raw: Any) -> Schema:
        """The indexes of the user tables (the parent of each partition, the extensions)."""

    def relations(self, raw: Any, tables: Iterable[str]) -> Relations:
        """The views, the partitions of ``tables`` and every table name of the database."""

    def table_sizes(self, raw: Any, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Rows of each of ``tables`` and where the figure comes from."""

    def verify(
        self, raw: Any, text: str, finding: ScanFinding, candidate: Suggestion
    ) -> Verification:
        """Plan ``text`` with ``candidate``'s index in place, without leaving it behind."""

    def render(self, plan: Any) -> list[str]:
        """The plan as lines of text for people (``-v`` and the reports)."""

    def indexes_used(self, plan: Any) -> set[str]:
        """Names of the indexes the plan reads (``--indexguard-coverage``)."""

    def tables_read(self, plan: Any) -> set[str]:
        """Names of the tables the plan reads."""

    def internal(self, table: str) -> bool:
        """Whether ``table`` is the engine's own catalog, which no project can index."""


def for_vendor(vendor: str) -> Backend | None:
    """The backend of a Django connection's ``vendor``, or None for an engine the guard cannot
    check. Imported on first use: a project on SQLite never imports psycopg."""
    if vendor == "postgresql":
        from pytest_indexguard.explain.postgresql import PostgreSQL

        return PostgreSQL()
    if vendor == "sqlite":
        from pytest_indexguard.explain.sqlite import SQLite

        return SQLite()
    if vendor == "mysql":
        from pytest_indexguard.explain.mysql import MySQL

        return MySQL()
    return None
