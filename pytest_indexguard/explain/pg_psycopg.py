"""psycopg 3's side of the PostgreSQL backend (``postgresql.Driver``): one round trip a query list.

The savepoint, the settings, every query and the rollback go as one multi-statement string,
sent with the libpq wrapper (``Connection.pgconn``) directly rather than a psycopg cursor:
psycopg discards the connection's prepared statements whenever a result says ``ROLLBACK``, and
``ROLLBACK TO SAVEPOINT`` says exactly that. Going through ``pgconn`` keeps a project that uses
server-side binding from losing its prepared statements to the guard, and libpq hands back the
result of every statement of the string. Imported only for a psycopg 3 connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import pq

from pytest_indexguard.explain import NotExplained
from pytest_indexguard.explain.postgresql import ROLLBACK_TO_SAVEPOINT, SAVEPOINT, Rows

if TYPE_CHECKING:
    from psycopg.pq.abc import PGconn, PGresult


_READY = frozenset((pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS))
_PIPELINE_OFF = pq.PipelineStatus.OFF


class Psycopg:
    name = "psycopg 3"

    def __init__(self) -> None:
        self._binder: Any = None

    def busy(self, raw: Any) -> str | None:
        pgconn = raw.pgconn
        status = pgconn.transaction_status
        if status not in _READY:
            if status == pq.TransactionStatus.INERROR:
                return "the transaction is aborted"
            return "the connection is busy"
        if pgconn.pipeline_status != _PIPELINE_OFF:
            return "the connection is in pipeline mode"
        return None

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        # The client-side cursor of the last connection bound through, kept: making one
        # copies the connection's adapters (Django registers its own), which costs more than
        # the binding. Another connection (another alias, another thread's) gets a new one.
        cursor = self._binder
        if cursor is None or cursor.connection is not raw or raw.closed:
            from psycopg import ClientCursor

            cursor = self._binder = ClientCursor(raw)
        bound: str = cursor.mogrify(sql, params)
        return bound

    def run(
        self, raw: Any, setup: str, queries: Sequence[str], *, block: bool = False
    ) -> tuple[list[Rows], int]:
        pgconn = raw.pgconn
        in_transaction = pgconn.transaction_status == pq.TransactionStatus.INTRANS
        # A newline before each ";" that follows a query: a trailing "-- comment" in it must
        # not swallow what follows.
        body = setup + "\n; ".join(queries)
        if in_transaction:
            query = f"SAVEPOINT {SAVEPOINT}; {body}\n; {ROLLBACK_TO_SAVEPOINT}"
        elif block:  # an explicit transaction, rolled back (an implicit one would commit DDL)
            query = f"BEGIN; {body}\n; ROLLBACK"
        else:  # one implicit transaction: SET LOCAL applies, nothing is left open
            query = body
        encoding = raw.info.encoding
        results = _exchange(pgconn, query.encode(encoding))
        round_trips = 1
        statuses = [result.status for result in results]
        error = None if _ALL_OK.issuperset(statuses) else _first_error(results, encoding)
        if error is not None:
            # The server skipped the rest of the string: restore the transaction by hand.
            if in_transaction:
                _exchange(pgconn, ROLLBACK_TO_SAVEPOINT.encode(encoding))
                round_trips += 1
            elif pgconn.transaction_status != pq.TransactionStatus.IDLE:
                _exchange(pgconn, b"ROLLBACK")
            raise NotExplained(error)
        return [
            _rows(result, encoding)
            for result, status in zip(results, statuses, strict=True)
            if status == _TUPLES_OK
        ], round_trips


_TUPLES_OK = pq.ExecStatus.TUPLES_OK
# Every result of a string that went through: the usual case, told without a loop in Python.
_ALL_OK = frozenset((pq.ExecStatus.COMMAND_OK, _TUPLES_OK))


def _rows(result: PGresult, encoding: str) -> Rows:
    width = result.nfields
    rows: Rows = []
    for row in range(result.ntuples):
        values = (result.get_value(row, column) for column in range(width))
        rows.append(tuple(None if v is None else bytes(v).decode(encoding) for v in values))
    return rows


def _first_error(results: Sequence[PGresult], encoding: str) -> str | None:
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b""
            return bytes(message).decode(encoding, "replace") or "EXPLAIN failed"
        if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
            return f"unexpected result status {pq.ExecStatus(result.status).name}"
    return None


def _exchange(pgconn: PGconn, query: bytes) -> list[PGresult]:
    """Send one query string and collect all its results. psycopg keeps its connections in
    libpq's non-blocking mode and waits on the socket in Python; for the guard's exchange the
    connection is blocking, so that libpq waits in C (cheaper per statement), and is put back
    as it was."""
    nonblocking = pgconn.nonblocking
    if nonblocking:
        pgconn.nonblocking = 0
    try:
        pgconn.send_query(query)
        results: list[PGresult] = []
        while (result := pgconn.get_result()) is not None:
            results.append(result)
        return results
    finally:
        if nonblocking:
            pgconn.nonblocking = nonblocking
