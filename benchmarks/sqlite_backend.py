"""The SQLite backend measured: ``python benchmarks/sqlite_backend.py`` (``--quick``: fewer rounds).

Two questions, answered on real sqlite3 databases with the sample app's schema (as
``tests/plans/capture_sqlite.py`` stored it) and nothing else running:

1. Does SQLite's planner need forcing on a test database's tiny tables? Twenty statements, each
   with an index that serves it, are planned at 3, 1,000 and 100,000 rows without statistics,
   then at 3 rows after ANALYZE (what a project that analyses its test database gets), then the
   guard's way (``forced``: the statistics-free copy of the schema).
2. What does a distinct statement cost? Side by side in interleaved rounds (the order rotates
   every round), per statement of the stored scenarios: a bare ``EXPLAIN QUERY PLAN`` on a fresh
   cursor, the backend's ``bind`` + ``explain``, the same + ``assess`` (the guard's path for a
   new statement), and ``explain`` + ``assess`` forced on a database with statistics (planned on
   the copy). Printed as medians with the lowest and highest round, and as ratios to the bare
   EXPLAIN taken within each round.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stats import Spread
from pytest_indexguard.explain import Context
from pytest_indexguard.explain.sqlite import SQLite

REPO = Path(__file__).resolve().parent.parent
PLANS = REPO / "tests" / "plans" / "sqlite"
LOG = '"upstream_integrationlog"'
DELIVERY = '"upstream_webhookdelivery"'
ENDPOINT = '"upstream_webhookendpoint"'
CUSTOMER = '"upstream_customer"'
# Statements an index of the sample app's full schema (with two extra ones) serves.
EXTRA_INDEXES = (
    f'CREATE INDEX "log_end" ON {LOG} ("end_time")',
    f'CREATE INDEX "delivery_status" ON {DELIVERY} ("status")',
)
SERVED = (
    f"SELECT * FROM {LOG} WHERE connection_id = 2",
    f"SELECT * FROM {LOG} WHERE connection_id IN (2, 3)",
    f"SELECT * FROM {LOG} WHERE connection_id > 2",
    f"SELECT * FROM {LOG} WHERE end_time > '2026-01-02'",
    f"SELECT * FROM {LOG} WHERE end_time BETWEEN '2026-01-01' AND '2026-01-02'",
    f"SELECT * FROM {LOG} WHERE status = 'failed' ORDER BY start_time DESC LIMIT 5",
    f"SELECT * FROM {LOG} WHERE connection_id = 2 ORDER BY start_time DESC LIMIT 5",
    f"SELECT * FROM {LOG} ORDER BY end_time LIMIT 5",
    f"SELECT * FROM {LOG} WHERE connection_id = 2 OR end_time = '2026-01-02'",
    f"SELECT count(*) FROM {LOG} WHERE connection_id = 2",
    f"SELECT 1 FROM {LOG} WHERE connection_id = 2 LIMIT 1",
    f"UPDATE {LOG} SET message = '' WHERE connection_id = 2",
    f"DELETE FROM {LOG} WHERE end_time < '2026-01-01'",
    f"SELECT * FROM {DELIVERY} WHERE status = 'retrying' AND next_attempt_at <= '2026-01-02'",
    f"SELECT * FROM {DELIVERY} WHERE endpoint_id = 2 ORDER BY created_at DESC LIMIT 5",
    f"SELECT * FROM {DELIVERY} WHERE status IN ('failed', 'retrying')",
    f"SELECT * FROM {ENDPOINT} e JOIN {DELIVERY} d ON d.endpoint_id = e.id WHERE e.customer_id = 2",
    f"SELECT * FROM {DELIVERY} d JOIN {ENDPOINT} e ON d.endpoint_id = e.id WHERE d.status = 'x'",
    f"SELECT * FROM {CUSTOMER} WHERE id IN (SELECT customer_id FROM {ENDPOINT} WHERE id = 2)",
    f"SELECT * FROM {CUSTOMER} WHERE name = 'customer-2'",
)


def database(name: str, schema: str = "full") -> sqlite3.Connection:
    """The sample app's schema (and the extra indexes), Django's SQL functions registered, in
    memory as Django makes a test database on SQLite."""
    from django.db.backends.sqlite3._functions import register  # type: ignore[import-untyped]

    uri = f"file:indexguard_{name}?mode=memory&cache=shared"
    raw = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    register(raw)
    script = (PLANS / f"schema-{schema}.sql").read_text(encoding="utf-8")
    raw.executescript(f"BEGIN;\n{script}{';'.join(EXTRA_INDEXES)};\nCOMMIT;")
    return raw


def fill(raw: sqlite3.Connection, rows: int) -> None:
    series = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
    raw.executescript(
        "BEGIN;"
        + "".join(f"DELETE FROM {table};" for table in (LOG, DELIVERY, ENDPOINT, CUSTOMER))
        + f"{series} INSERT INTO {CUSTOMER} SELECT i, 'customer-' || i, '2026-01-01' FROM n;"
        f"{series} INSERT INTO {ENDPOINT} SELECT i, 'https://h/' || i, 1, '2026-01-01', i FROM n;"
        f"{series} INSERT INTO {LOG} SELECT i, 'success', '2026-01-01', "
        "'2026-01-0' || (i % 9 + 1), '', i FROM n;"
        f"{series} INSERT INTO {DELIVERY} SELECT i, 'e', '{{}}', 'pending', 0, NULL, "
        "'2026-01-01', '', i FROM n;"
        "COMMIT;"
    )


def plans(raw: sqlite3.Connection, explain: Callable[[str], Sequence[Any]]) -> list[list[str]]:
    return [[str(row[-1]) for row in explain(text)] for text in SERVED]


def forcing() -> list[str]:
    raw = database("forcing")

    def natural(text: str) -> Sequence[Any]:
        return raw.execute(f"EXPLAIN QUERY PLAN {text}").fetchall()

    lines = ["Forcing: planned without statistics, by table size"]
    fill(raw, 3)
    small = plans(raw, natural)
    scans = sum(any(d.startswith("SCAN") for d in plan) for plan in small)
    lines.append(f"  3 rows: {len(SERVED)} statements, {scans} with a SCAN")
    for rows in (1_000, 100_000):
        fill(raw, rows)
        same = sum(a == b for a, b in zip(small, plans(raw, natural), strict=True))
        lines.append(f"  {rows:,} rows: {same} of {len(SERVED)} plans identical to those at 3 rows")
    fill(raw, 3)
    raw.execute("ANALYZE")
    analysed = plans(raw, natural)
    changed = sum(a != b for a, b in zip(small, analysed, strict=True))
    to_scan = sum(
        any(d.startswith("SCAN") for d in b) and not any(d.startswith("SCAN") for d in a)
        for a, b in zip(small, analysed, strict=True)
    )
    backend = SQLite()
    forced = [[d for _, _, d in backend.explain(raw, t, forced=True).plan.rows] for t in SERVED]
    same = sum(a == b for a, b in zip(small, forced, strict=True))
    lines += [
        f"  3 rows after ANALYZE: {changed} of {len(SERVED)} plans change, "
        f"{to_scan} of them to a SCAN the index would have spared",
        f"  3 rows after ANALYZE, forced: {same} of {len(SERVED)} plans identical to those "
        "without statistics",
    ]
    raw.close()
    return lines


Work = list[tuple[sqlite3.Connection, str, list[Any], str]]


def cost(rounds: int, repeat: int) -> list[str]:
    """Measured inside a transaction, as a Django test runs its statements."""
    backend = SQLite()
    databases = {schema: database(schema, schema) for schema in ("full", "bare")}
    analysed = database("analysed", "full")
    fill(analysed, 3)
    analysed.execute("ANALYZE")
    for raw in (*databases.values(), analysed):
        raw.execute("BEGIN")
    schemas = {id(raw): backend.schema(raw) for raw in (*databases.values(), analysed)}
    searches: Work = []
    reads: Work = []
    for path in sorted(PLANS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["setup"]:
            continue
        raw = databases[data["schema"]]
        rows = backend.explain(raw, data["text"], forced=True).plan.rows
        searched = not any(d.startswith("SCAN") or "TEMP B-TREE" in d for _, _, d in rows)
        (searches if searched else reads).append((raw, data["sql"], data["params"], data["text"]))
    lines = [f"Cost per distinct statement ({rounds} rounds, median [lowest..highest]):"]
    for label, work in (
        ("plans that search indexes only", searches),
        ("plans with a full read or a sort", reads),
    ):
        lines.append(f"  {len(work)} {label}:")
        lines += _measure(backend, work, schemas, analysed, rounds=rounds, repeat=repeat)
    for raw in (*databases.values(), analysed):
        raw.execute("ROLLBACK")
        raw.close()
    return lines


def _measure(
    backend: SQLite,
    work: Work,
    schemas: dict[int, Any],
    analysed: sqlite3.Connection,
    *,
    rounds: int,
    repeat: int,
) -> list[str]:
    def bare() -> None:
        for raw, _, _, text in work:
            cursor = raw.cursor()
            cursor.execute(f"EXPLAIN QUERY PLAN {text}").fetchall()
            cursor.close()

    def explained() -> None:
        for raw, sql, params, _ in work:
            backend.explain(raw, backend.bind(raw, sql, params), forced=True)

    def assessed(on: sqlite3.Connection | None) -> Callable[[], None]:
        def run() -> None:
            for raw, sql, params, _ in work:
                planner = on or raw
                text = backend.bind(planner, sql, params)
                plan = backend.explain(planner, text, forced=True).plan
                backend.assess(planner, text, plan, Context(schemas[id(planner)]))

        return run

    variants: dict[str, Callable[[], None]] = {
        "bare EXPLAIN QUERY PLAN": bare,
        "bind + explain": explained,
        "bind + explain + assess (the guard's path)": assessed(None),
    }
    if all(raw is not analysed for raw, _, _, _ in work):
        full = [item for item in work if "upstream_" in item[3]]
        if len(full) == len(work):
            variants["the same on an analysed database (forced: the copy)"] = assessed(analysed)
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        measured = {}
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            for _ in range(repeat):
                variants[name]()
            measured[name] = (time.perf_counter() - start) / (repeat * len(work)) * 1e6
        for name in names:
            times[name].append(measured[name])
            ratios[name].append(measured[name] / measured[names[0]])
    return [
        f"    {name}: {Spread.of(times[name]).format(1, ' us')}, "
        f"x{Spread.of(ratios[name]).format(1)}"
        for name in names
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 9")
    args = parser.parse_args(argv)
    print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    for line in forcing():
        print(line)
    for line in cost(rounds=3 if args.quick else 9, repeat=20):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
