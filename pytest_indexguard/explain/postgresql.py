"""Running EXPLAIN on the test's own PostgreSQL connection without changing what the test sees.

One round trip per statement: the savepoint, the planner settings, the EXPLAIN and the rollback go
as one multi-statement string. Outside a transaction (autocommit, or psycopg has not sent BEGIN
yet) the string runs as one implicit transaction, so ``SET LOCAL`` still applies and nothing is
left behind.

The exchange uses the libpq wrapper (``Connection.pgconn``) directly rather than a psycopg
cursor: psycopg discards the connection's prepared statements whenever a result says
``ROLLBACK``, and ``ROLLBACK TO SAVEPOINT`` says exactly that. Going through ``pgconn`` keeps a
project that uses server-side binding from losing its prepared statements to the guard.
"""

from __future__ import annotations

import json
import select
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg import pq

if TYPE_CHECKING:
    from psycopg.pq.abc import PGconn, PGresult

SAVEPOINT = "indexguard_explain"
FORCED_SETTINGS = (
    "SET LOCAL enable_seqscan = off; "
    "SET LOCAL enable_hashjoin = off; "
    "SET LOCAL enable_mergejoin = off; "
)
_ROLLBACK = f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"


class NotExplained(Exception):
    """The statement could not be explained; the message says why, in a few words."""


@dataclass(frozen=True)
class Explained:
    plan: Any
    round_trips: int


def can_explain(raw: Any) -> str | None:
    """Why this connection cannot be used for EXPLAIN right now, or None when it can."""
    pgconn = raw.pgconn
    status = pgconn.transaction_status
    if status == pq.TransactionStatus.INERROR:
        return "the transaction is aborted"
    if status not in (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS):
        return "the connection is busy"
    if pgconn.pipeline_status != pq.PipelineStatus.OFF:
        return "the connection is in pipeline mode"
    return None


def explain(raw: Any, statement: str, *, forced: bool) -> Explained:
    """EXPLAIN ``statement`` (parameters already bound) on the psycopg connection ``raw``."""
    body = f"{FORCED_SETTINGS if forced else ''}EXPLAIN (FORMAT JSON) {statement}"
    results, round_trips = _protected(raw, body)
    for result in results:
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
            value = result.get_value(0, 0)
            if value is not None:
                return Explained(plan=json.loads(bytes(value)), round_trips=round_trips)
    raise NotExplained("EXPLAIN returned no plan")


def table_sizes(raw: Any, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Row estimates of ``tables`` from the catalog: ``pg_class.reltuples`` once analysed, else
    the page-based estimate (current pages times the rows that fit in a page). A partitioned
    table is the sum of its partitions. Never the plan's ``Plan Rows``, which is an output
    estimate and invented on never-analysed tables."""
    names = sorted(set(tables))
    if not names:
        return {}
    literal = ", ".join(_quote_literal(name) for name in names)
    query = f"""
        SELECT c.relname,
               COALESCE(SUM(CASE WHEN p.reltuples >= 0 AND p.relpages > 0 THEN p.reltuples
                                 ELSE (pg_relation_size(p.oid)
                                       / current_setting('block_size')::int)
                                      * floor((current_setting('block_size')::int - 24)
                                              / (28 + COALESCE((SELECT sum(CASE WHEN a.attlen > 0
                                                                THEN a.attlen ELSE 32 END)
                                                         FROM pg_attribute a
                                                         WHERE a.attrelid = p.oid
                                                           AND a.attnum > 0
                                                           AND NOT a.attisdropped), 0)))
                            END), 0)::bigint,
               bool_or(p.reltuples >= 0 AND p.relpages > 0)
        FROM pg_class c
        JOIN LATERAL (
            SELECT c.oid, c.reltuples, c.relpages WHERE c.relkind <> 'p'
            UNION ALL
            SELECT i.inhrelid, k.reltuples, k.relpages
            FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
            WHERE c.relkind = 'p'
        ) p(oid, reltuples, relpages) ON true
        WHERE c.relname IN ({literal}) AND c.relkind IN ('r', 'p', 'm')
          AND pg_table_is_visible(c.oid)
        GROUP BY c.relname
    """
    results, _ = _protected(raw, query)
    sizes: dict[str, tuple[int, str]] = {}
    for result in results:
        if result.status != pq.ExecStatus.TUPLES_OK:
            continue
        for row in range(result.ntuples):
            name = bytes(result.get_value(row, 0) or b"").decode()
            rows = int(bytes(result.get_value(row, 1) or b"0"))
            analysed = bytes(result.get_value(row, 2) or b"f") == b"t"
            source = "pg_class.reltuples" if analysed else "page-based estimate"
            sizes[name] = (rows, source)
    return sizes


def _protected(raw: Any, body: str) -> tuple[list[PGresult], int]:
    """Run ``body`` so that whatever it does is undone and an error in it leaves the test's
    transaction as it was."""
    pgconn = raw.pgconn
    in_transaction = pgconn.transaction_status == pq.TransactionStatus.INTRANS
    query = f"SAVEPOINT {SAVEPOINT}; {body}; {_ROLLBACK}" if in_transaction else body
    encoding = raw.info.encoding
    results = _exchange(pgconn, query.encode(encoding))
    round_trips = 1
    error = _first_error(results, encoding)
    if error is not None:
        # The server skipped the rest of the string: restore the transaction by hand.
        if in_transaction:
            _exchange(pgconn, _ROLLBACK.encode(encoding))
            round_trips += 1
        raise NotExplained(error)
    return results, round_trips


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


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def describe_settings(forced: bool) -> Mapping[str, str]:
    """The planner settings a mode changes, for reports."""
    if not forced:
        return {}
    return {"enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}
