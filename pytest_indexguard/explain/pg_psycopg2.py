"""psycopg2's side of the PostgreSQL backend (``postgresql.Driver``). Imported only for a
psycopg2 connection: a psycopg2 project has no psycopg 3, and the guard never installs it.

psycopg2 hands back only the last result of a multi-statement string, so each query that
returns rows goes as its own ``execute``:

- In a transaction: ``SAVEPOINT``, the settings and the first query as one string, then each
  further query, then ``ROLLBACK TO SAVEPOINT; RELEASE SAVEPOINT``: one round trip more than
  queries. (A statement the server cannot parse fails the whole first string, savepoint
  included, and aborts the transaction: so does the statement itself right after, with the same
  error, since the server parses a statement before it looks at the transaction's state.)
- Outside a transaction: the settings and each query as one string, an implicit transaction
  that leaves nothing open (``BEGIN`` ... ``ROLLBACK`` around them when they create objects).
- Inside ``atomic()`` before its first statement, psycopg2 has not sent ``BEGIN`` yet and would
  send it before the guard's first ``execute``: the guard's strings run in autocommit then (no
  round trip), so the transaction still starts with the test's own statement.

Values come back as PostgreSQL's text (a cursor-local typecaster): the shared code reads them
the same whichever driver fetched them, and the project's own typecasters are not involved.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
from psycopg2 import extensions

from pytest_indexguard.explain import NotExplained
from pytest_indexguard.explain.postgresql import ROLLBACK_TO_SAVEPOINT, SAVEPOINT, Rows

IDLE = extensions.TRANSACTION_STATUS_IDLE
INTRANS = extensions.TRANSACTION_STATUS_INTRANS
INERROR = extensions.TRANSACTION_STATUS_INERROR

# bool, int2, int4, int8, oid, float4, float8, numeric, json, jsonb: kept as text.
_AS_TEXT = extensions.new_type(
    (16, 21, 23, 20, 26, 700, 701, 1700, 114, 3802),
    "INDEXGUARD_AS_TEXT",
    lambda value, cursor: value,
)


class Psycopg2:
    name = "psycopg2"

    def busy(self, raw: Any) -> str | None:
        if raw.closed:
            return "the connection is closed"
        if getattr(raw, "async_", False):
            return "the connection is asynchronous"
        status = raw.get_transaction_status()
        if status == INERROR:
            return "the transaction is aborted"
        if status not in (IDLE, INTRANS):
            return "the connection is busy"
        if select.select([raw.fileno()], [], [], 0)[0]:
            # Something the server sent unasked, most often that it is closing the connection:
            # psycopg2 closes its connection on the guard's query then, and the statement would
            # get "connection already closed" instead of the server's own error.
            return "the server sent something unasked"
        return None

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        with raw.cursor(cursor_factory=extensions.cursor) as cursor:
            bound: bytes = cursor.mogrify(sql, params)
        return bound.decode(extensions.encodings.get(raw.encoding, raw.encoding))

    def run(
        self, raw: Any, setup: str, queries: Sequence[str], *, block: bool = False
    ) -> tuple[list[Rows], int]:
        with _begin_deferred(raw), raw.cursor(cursor_factory=extensions.cursor) as cursor:
            extensions.register_type(_AS_TEXT, cursor)
            if raw.get_transaction_status() == INTRANS:
                opening = f"SAVEPOINT {SAVEPOINT}"
                return _enclosed(cursor, opening, setup, queries, ROLLBACK_TO_SAVEPOINT)
            if block:
                return _enclosed(cursor, "BEGIN", setup, queries, "ROLLBACK")
            found = [_fetch(cursor, setup + query) for query in queries]
            return found, len(queries)


def _enclosed(
    cursor: Any, opening: str, setup: str, queries: Sequence[str], closing: str
) -> tuple[list[Rows], int]:
    try:
        found = [
            _fetch(cursor, q if i else f"{opening}; {setup}{q}") for i, q in enumerate(queries)
        ]
    except NotExplained:
        # The transaction as it was before the opening. A string the server could not parse
        # ran none of it: no transaction to roll back, or no savepoint (the statement aborts
        # the transaction with the same error right after).
        if cursor.connection.get_transaction_status() != IDLE:
            with contextlib.suppress(psycopg2.Error):
                cursor.execute(closing)
        raise
    cursor.execute(closing)
    return found, len(queries) + 1


def _fetch(cursor: Any, query: str) -> Rows:
    try:
        cursor.execute(query)
    except psycopg2.Error as exc:
        if exc.pgcode is None:  # not the server's answer: the connection, the client
            raise
        message = exc.diag.message_primary or str(exc).strip().split("\n", 1)[0]
        raise NotExplained(message or "EXPLAIN failed") from None
    rows: Rows = cursor.fetchall() if cursor.description is not None else []
    return rows


@contextlib.contextmanager
def _begin_deferred(raw: Any) -> Iterator[None]:
    """Autocommit while the guard's strings run when psycopg2 would otherwise send ``BEGIN``
    first (not autocommit, no transaction yet); as it was after."""
    if raw.autocommit or raw.get_transaction_status() != IDLE:
        yield
        return
    raw.autocommit = True
    try:
        yield
    finally:
        raw.autocommit = False
