"""What the MySQL/MariaDB backend costs per distinct statement: ``python benchmarks/mysql_cost.py``.

Per distinct statement the guard explains it once (``MySQL.explain``, forced) and assesses the
plan (``MySQL.assess``: the JSON read into findings, judged against the catalog). The yardstick
is a bare ``EXPLAIN FORMAT=JSON`` of the same text on the same connection. Both run side by side
in this one run, in interleaved rounds (the order alternates), inside a transaction holding the
ten-row data set of ``tests/plans/mysql_scenarios.py``, as a test would; the ratio is taken
within each round, then its median and its lowest and highest round are printed.

Server: ``INDEXGUARD_MYSQL_URL`` (default ``mysql://root@127.0.0.1:3306/test``). It works in a
database of its own (``indexguard_bench``), dropped at the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if str(Path(__file__).resolve().parent.parent / "tests") not in sys.path:
    # The scenarios' schema and rows, imported as the tests import them.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchmarks.stats import Spread
from plans.capture_mysql import (  # type: ignore[import-not-found]
    backend,
    connect,
    create,
    database,
    load,
    mysql_url,
)
from plans.mysql_scenarios import SCENARIOS, SMALL  # type: ignore[import-not-found]
from pytest_indexguard.explain import Context
from pytest_indexguard.explain.mysql import MySQL
from sampleproject.markdown import table

PREFIX = "indexguard_bench"


def statements(count: int, *, full_reads: bool) -> list[str]:
    """``count`` distinct texts: the statements of the indexed schema's scenarios that read some
    table whole (``full_reads``: the judgement has work to do) or none (index lookups only, what
    most of a suite's statements are), each made distinct by a trailing comment (the server
    parses and plans each one anew)."""
    base = [s.query for s in SCENARIOS if s.state == "indexed" and bool(s.expected) is full_reads]
    return [f"{base[i % len(base)]} /* {i} */" for i in range(count)]


def bare(conn: Any) -> Callable[[str], None]:
    def run(text: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"EXPLAIN FORMAT=JSON {text}")
            cur.fetchall()

    return run


def explain_only(conn: Any, guard: MySQL) -> Callable[[str], None]:
    def run(text: str) -> None:
        guard.explain(conn, text, forced=True)

    return run


def explain_and_assess(conn: Any, guard: MySQL, schema: Any) -> Callable[[str], None]:
    def run(text: str) -> None:
        plan = guard.explain(conn, text, forced=True).plan
        guard.assess(conn, text, plan, Context(schema))

    return run


def assess_only(
    conn: Any, guard: MySQL, schema: Any, plans: dict[str, Any]
) -> Callable[[str], None]:
    def run(text: str) -> None:
        guard.assess(conn, text, plans[text], Context(schema))

    return run


def timed(run: Callable[[str], None], texts: Sequence[str]) -> float:
    """Seconds per statement."""
    start = time.perf_counter()
    for text in texts:
        run(text)
    return (time.perf_counter() - start) / len(texts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/mysql_cost.py", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--statements", type=int, default=2000, help="distinct texts per round")
    args = parser.parse_args(argv)
    url = mysql_url()
    conn = connect(url)
    guard = backend(conn)
    create(conn, "indexed", PREFIX)
    try:
        load(conn, SMALL)
        started = time.perf_counter()
        schema = guard.schema(conn)
        schema_ms = (time.perf_counter() - started) * 1e3
        configs = {
            "bare EXPLAIN FORMAT=JSON": bare(conn),
            "MySQL.explain (forced)": explain_only(conn, guard),
            "MySQL.explain + MySQL.assess": explain_and_assess(conn, guard, schema),
        }
        sets = {
            "index lookups only": statements(args.statements, full_reads=False),
            "a table read whole": statements(args.statements, full_reads=True),
        }
        for run in configs.values():  # warm up the server's caches and Python's
            for texts in sets.values():
                timed(run, texts[:100])
        seconds: dict[tuple[str, str], list[float]] = {
            (kind, name): [] for kind in sets for name in configs
        }
        # The pure part alone, on plans explained once: no round trip, so no server noise.
        plans = {
            kind: {text: guard.explain(conn, text, forced=True).plan for text in texts}
            for kind, texts in sets.items()
        }
        pure = "MySQL.assess alone (no round trip)"
        for kind in sets:
            seconds[(kind, pure)] = []
        for round_number in range(args.rounds):
            order = list(configs) if round_number % 2 == 0 else list(reversed(configs))
            for kind, texts in sets.items():
                for name in order:
                    seconds[(kind, name)].append(timed(configs[name], texts))
                seconds[(kind, pure)].append(
                    timed(assess_only(conn, guard, schema, plans[kind]), texts)
                )
        conn.rollback()
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database('indexed', PREFIX)}`")
        conn.close()
    print(
        f"{guard.name} at {url}, {args.statements:,} distinct statements per round, "
        f"{args.rounds} rounds, median [lowest..highest round]\n"
    )
    names = [*configs, pure]
    rows = []
    for kind in sets:
        for name in names:
            values = seconds[(kind, name)]
            cost = Spread.of([v * 1e6 for v in values]).format(1)
            if name == names[0]:
                ratio = "1"
            else:
                ratio = Spread.of(
                    [g / b for g, b in zip(values, seconds[(kind, names[0])], strict=True)]
                ).format(2)
            rows.append([kind, name, cost, ratio])
    print(table(["statements", "per distinct statement", "µs", "/ bare EXPLAIN, per round"], rows))
    print(f"\ncatalog read once per database alias (MySQL.schema): {schema_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
