"""Django glue: one execute wrapper on every connection of every alias, in every thread.

Django keeps a separate ``DatabaseWrapper`` per alias *and per thread* (the async ORM runs its
queries on a worker thread's own connection). The wrapper is put on the current thread's
connections when a test starts, and on any other thread's connection when it connects
(``connection_created``). It stays installed for the session and does nothing while no test phase
is being watched, so a connection opened once and reused by later tests is still covered.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

Execute = Callable[[Any, Any, bool, dict[str, Any]], Any]

# Statements a plan can be asked for. Anything else (SAVEPOINT, SET, BEGIN, TRUNCATE, ...) passes.
_EXPLAINABLE = re.compile(
    r"\A(?:\s|/\*.*?\*/|--[^\n]*\n)*\(*\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|VALUES|TABLE|MERGE)\b",
    re.IGNORECASE | re.DOTALL,
)
# Statements after which cached plans may be wrong (an index created or dropped, ...).
_SCHEMA_CHANGE = re.compile(
    r"\A(?:\s|/\*.*?\*/|--[^\n]*\n)*(?:CREATE|ALTER|DROP|RENAME|REINDEX|COMMENT|ANALY[SZ]E|VACUUM|CLUSTER)\b",
    re.IGNORECASE | re.DOTALL,
)


_INSERT = frozenset({"INSERT", "insert", "Insert"})


def is_explainable(sql: str) -> bool:
    return _EXPLAINABLE.match(sql) is not None


def changes_schema(sql: str) -> bool:
    return _SCHEMA_CHANGE.match(sql) is not None


class Observer(Protocol):
    """What the wrapper reports to: the guard."""

    active: bool

    def observe(
        self,
        connection: BaseDatabaseWrapper,
        sql: str,
        params: Any,
        many: bool,
        cursor: bool = False,
    ) -> object | None:
        """Judge the statement before it runs; what to record once it has run, if anything.
        ``cursor``: it is read through a server-side cursor (``QuerySet.iterator()``)."""

    def executed(self, connection: BaseDatabaseWrapper, pending: object) -> None:
        """The statement ran without an error: record what ``observe`` found."""

    def schema_changed(self, alias: str, sql: str = "") -> None:
        """DDL ran on the alias (``sql``, when known): its catalog and plans are stale."""

    def inserted(self, connection: BaseDatabaseWrapper, sql: str) -> None:
        """An INSERT is about to run (whether or not a test phase is watched)."""

    def internal_error(self, error: BaseException) -> None: ...


class Capture:
    """The execute wrapper. Never raises: an exception from here could be swallowed by
    application code while PostgreSQL aborted its transaction."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self._installed: weakref.WeakSet[BaseDatabaseWrapper] = weakref.WeakSet()

    def __call__(
        self, execute: Execute, sql: object, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        observer = self.observer
        pending = None
        if not isinstance(sql, str):
            pass  # a psycopg sql.Composed object: rare, and not worth composing here
        else:
            if sql[:6] in _INSERT:
                try:
                    observer.inserted(context["connection"], sql)
                except Exception as error:  # reported at the end, never raised here
                    observer.internal_error(error)
            if observer.active:
                if many and not isinstance(params, list | tuple):
                    # executemany accepts any iterable, a generator too: materialise it once
                    # and pass the list on, so the statement still gets every parameter set.
                    params = list(params)
                try:
                    pending = observer.observe(
                        context["connection"], sql, params, many, server_side(context)
                    )
                except Exception as error:  # reported at the end, never raised here
                    observer.internal_error(error)
            elif changes_schema(sql):
                observer.schema_changed(context["connection"].alias, sql)
        result = execute(sql, params, many, context)
        # Only a statement that ran counts against the test: one that raised (a lost
        # connection, an integrity error) fails the test with its own error, or not at all.
        if pending is not None:
            try:
                observer.executed(context["connection"], pending)
            except Exception as error:
                observer.internal_error(error)
        return result

    # -- installation -------------------------------------------------------------------------

    def listen(self) -> None:
        """Cover every connection opened from now on: those of the test databases' set-up too
        (which tables migrations fill), before any test runs."""
        from django.db.backends.signals import connection_created

        connection_created.connect(self._on_connection_created, dispatch_uid=id(self))

    def install(self) -> None:
        """Cover every alias in this thread now, and every connection any thread opens later."""
        from django.db import connections
        from django.db.backends.signals import connection_created

        connection_created.connect(self._on_connection_created, dispatch_uid=id(self))
        for alias in connections:
            self._attach(connections[alias])

    def uninstall(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.disconnect(dispatch_uid=id(self))
        for connection in list(self._installed):
            while self in connection.execute_wrappers:
                connection.execute_wrappers.remove(self)
        self._installed = weakref.WeakSet()

    def _on_connection_created(
        self, sender: object, connection: BaseDatabaseWrapper, **_: Any
    ) -> None:
        self._attach(connection)

    def _attach(self, connection: BaseDatabaseWrapper) -> None:
        if getattr(connection, "indexguard_shadow", False):
            return  # the guard's own database of --indexguard-plan-on (shadow.py)
        if self not in connection.execute_wrappers:
            # Outermost position: other wrappers (query counters, debug toolbars) see the real
            # statement, and ours runs before any of them can fail it.
            connection.execute_wrappers.insert(0, self)
            self._installed.add(connection)


def server_side(context: dict[str, Any]) -> bool:
    """Whether the statement is sent through a server-side cursor: Django opens one, named,
    for ``QuerySet.iterator()`` on PostgreSQL (unless ``DISABLE_SERVER_SIDE_CURSORS``); psycopg
    3's server cursor and psycopg2's named cursor carry the name, client cursors none."""
    wrapper = context.get("cursor")
    return bool(getattr(getattr(wrapper, "cursor", None), "name", None))


def first_parameters(params: Any, many: bool) -> Any:
    """The parameters to explain a statement with: the first set of an executemany."""
    if not many:
        return params
    if isinstance(params, Iterable) and not isinstance(params, str | bytes):
        for first in params:
            return first
    return None
