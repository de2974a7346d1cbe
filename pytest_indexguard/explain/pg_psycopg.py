"""psycopg 3's side of the PostgreSQL backend (``postgresql.Driver``): one round trip a query list.

The savepoint, the settings, every query and the rollback go as one multi-statement string,
sent with the libpq wrapper (``Connection.pgconn``) directly rather than a psycopg cursor:
psycopg discards the connection's prepared statements whenever a result says ``ROLLBACK``, and
``ROLLBACK TO SAVEPOINT`` says exactly that. Going through ``pgconn`` keeps a project that uses
server-side binding from losing its prepared statements to the guard, and libpq hands back the
result of every statement of the string. Imported only for a psycopg 3 connection.
"""

from __future__ import annotations

import select
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import pq

from pytest_indexguard.explain import NotExplained
from pytest_indexguard.explain.postgresql import ROLLBACK_TO_SAVEPOINT, SAVEPOINT, Rows

if TYPE_CHECKING:
    from psycopg.pq.abc import PGconn, PGresult


class Psycopg:
    name = "psycopg 3"

    def busy(self, raw: Any) -> str | None:
        pgconn = raw.pgconn
        status = pgconn.transaction_status
        if status == pq.TransactionStatus.INERROR:
            return "the transaction is aborted"
        if status not in (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS):
            return "the connection is busy"
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            return "the connection is in pipeline mode"
        return None

    def bind(self, raw: Any, sql: str, params: Any) -> str:
        from psycopg import ClientCursor

        with ClientCursor(raw) as cursor:
            return cursor.mogrify(sql, params)

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
        error = _first_error(results, encoding)
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
            for result in results
            if result.status == pq.ExecStatus.TUPLES_OK
        ], round_trips


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
