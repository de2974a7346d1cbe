"""Capture SQLite's and MariaDB's natural plans of ``backend_scenarios.py`` at scale, into
``scale/sqlite/<case>.json`` and ``scale/mariadb/<case>.json``. Run from the repository root::

    python -m tests.plans.capture_standard_backends sqlite
    python -m tests.plans.capture_standard_backends mariadb   # $INDEXGUARD_MYSQL_URL, else
                                                              # mysql://root@127.0.0.1:3306/test
    python -m tests.plans.capture_standard_backends mariadb --database-url mysql://... CASE ...

Both load the same rows (``backend_scale.py``: 100,000 to 400,000 rows per big table, about
1.6 million in all) into the schema with the project's indexes, take the statistics the
database's own way, and take its natural plan of every case:

- ``sqlite``: a file database in a temporary directory, ``ANALYZE``, ``EXPLAIN QUERY PLAN``
  (about 30 seconds);
- ``mariadb``: a database of its own (``std_scale_capture``, dropped at the end), default
  settings, ``ANALYZE TABLE``, then ``EXPLAIN FORMAT=JSON`` and ``ANALYZE FORMAT=JSON``: the
  statement runs (inside a transaction that is rolled back), so its rows are measured; one
  slower than ``ANALYZE_SECONDS`` keeps only the estimates (about a minute and a half).

Cases that add indexes (``BackendCase.indexes``) are planned after those indexes are built and
the statistics taken again, then the indexes are dropped. Each file records the statement, the
schema and a digest of the scale rows' definition (``scale_digest``), so that
``tests/test_standard_backends.py`` fails when the capture no longer matches its case, and what
the statement keeps of each table, counted on the rows (``backend_scale.measure``), which the
oracle (``backend_oracle.py``) reads beside the plan. Files are JSON with sorted keys, timings
left out, and only rewritten when their content changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import backend_scale
from .backend_oracle import searched_columns
from .backend_scale import SCALE_ROWS, Kept, batches, conjuncts, insert, measure, parse, subqueries
from .backend_scenarios import (
    CASES,
    DDL,
    BackendCase,
    mysql_ddl,
    mysql_statement,
    states,
)
from .capture_mysql import connect, mysql_url

SCALE_DIR = Path(__file__).resolve().parent / "scale"
BACKENDS = ("sqlite", "mariadb")
DATABASE = "std_scale_capture"
# A statement that runs longer than this at scale is judged on MariaDB's estimates.
ANALYZE_SECONDS = 60


def scale_digest() -> str:
    """A digest of how the scale rows are made (``backend_scale.py`` up to its measurements):
    a capture made from other rows is stale."""
    source = Path(backend_scale.__file__).read_text(encoding="utf-8")
    rows_part = source.split("# --- what a statement keeps", 1)[0]
    return hashlib.sha256(rows_part.encode()).hexdigest()[:16]


def statement_for(backend: str, case: BackendCase) -> str:
    return mysql_statement(case.statement) if backend == "mariadb" else case.statement


def schema_for(backend: str, case: BackendCase) -> list[str]:
    """The case's schema as that database is given it: the tables, their indexes, its own."""
    ddl = (*DDL, *case.indexes)
    return (
        [mysql_ddl(s) for s in ddl] if backend == "mariadb" else [" ".join(s.split()) for s in ddl]
    )


def _spelled(backend: str, statement: str) -> str:
    return " ".join((mysql_ddl(statement) if backend == "mariadb" else statement).split())


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def record(
    backend: str, case: BackendCase, version: str, plan: Any, kept: Sequence[Kept], **extra: Any
) -> dict[str, Any]:
    return {
        "scenario": case.name,
        "backend": backend,
        "server_version": version,
        "statement": statement_for(backend, case),
        "schema": [" ".join(s.split()) for s in schema_for(backend, case)],
        "scale": scale_digest(),
        "violations": sorted(case.violations),
        "plan": plan,
        "kept": [k.to_json() for k in kept],
        **extra,
    }


# --- SQLite -----------------------------------------------------------------------------------


def reached(
    statement: str, rows: Sequence[Sequence[Any]], count: Callable[[str], int]
) -> dict[str, int]:
    """For every ``SEARCH t USING ... (key)`` row of SQLite's plan: the rows of t its key
    reaches, counted as the statement without t's conditions other than those on the key."""
    top = parse(statement)
    found: dict[str, int] = {}
    for row in rows:
        detail = str(row[-1])
        if not detail.startswith("SEARCH ") or " USING " not in detail:
            continue
        alias = detail.split()[1]
        query = next((q for q in (top, *subqueries(top)) if alias in q.aliases), None)
        if query is None:
            continue
        key = set(searched_columns(detail))
        terms = []
        for term in conjuncts(query.where):
            named = set(_qualified(term))
            tables = {name for name, _ in named}
            # Another table's condition, or one of this table's on the searched key.
            if alias not in tables or (tables == {alias} and {c for _, c in named} <= key):
                terms.append(term)
        if any(name not in query.aliases for term in terms for name, _ in _qualified(term)):
            continue  # correlated: not counted on its own
        where = f" WHERE {' AND '.join(terms)}" if terms else ""
        column = f'"{alias}"' if alias == query.aliases[alias] else alias
        found[alias] = count(f'SELECT COUNT(DISTINCT {column}."id") FROM {query.source}{where}')
    return found


def _qualified(term: str) -> Iterator[tuple[str, str]]:
    """(qualifier, column) of every column ``term`` names outside literals and sub-queries."""
    masked = re.sub(r"'(?:[^']|'')*'", "''", term)
    masked = re.sub(r"\(\s*SELECT\b.*", "", masked, flags=re.IGNORECASE | re.DOTALL)
    for match in re.finditer(r'(?:"(\w+)"|\b(\w+))\."(\w+)"', masked):
        yield (match.group(1) or match.group(2)), match.group(3)


def capture_sqlite(cases: Sequence[BackendCase]) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="std_scale_") as directory:
        raw = sqlite3.connect(Path(directory) / "scale.sqlite3", isolation_level=None)
        try:
            for statement in DDL:
                raw.execute(statement)
            raw.execute("BEGIN")
            for rows in SCALE_ROWS.values():
                for batch in batches(rows):
                    raw.executemany(insert(rows), batch)
            raw.execute("COMMIT")

            def count(sql: str) -> int:
                return int(raw.execute(sql).fetchone()[0])

            for indexes, selected in states(cases).items():
                for statement in indexes:
                    raw.execute(statement)
                raw.execute("ANALYZE")
                for case in selected:
                    plan = [
                        [row[0], row[1], row[3]]
                        for row in raw.execute(f"EXPLAIN QUERY PLAN {case.statement}")
                    ]
                    kept = measure(case.statement, count)
                    outer = max((k.kept or 0 for k in kept if k.depth == 0), default=0)
                    yield record(
                        "sqlite",
                        case,
                        sqlite3.sqlite_version,
                        plan,
                        kept,
                        reached=reached(case.statement, plan, count),
                        outer_rows=outer,
                    )
                for statement in indexes:
                    raw.execute(f'DROP INDEX "{_index_name(statement)}"')
        finally:
            raw.close()


def _index_name(statement: str) -> str:
    return statement.split('"')[1]


# --- MariaDB ----------------------------------------------------------------------------------

_TIMINGS = ("r_total_time_ms", "r_table_time_ms", "r_other_time_ms", "r_engine_stats")


def _without_timings(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    if isinstance(value, Mapping):
        return {
            key: _without_timings(child)
            for key, child in value.items()
            if key not in _TIMINGS and not key.endswith("_time_ms") and key != "query_optimization"
        }
    return value


def capture_mariadb(url: str, cases: Sequence[BackendCase]) -> Iterator[dict[str, Any]]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
            cur.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
            cur.execute(f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4")
            cur.execute(f"USE `{DATABASE}`")
            for statement in DDL:
                cur.execute(mysql_ddl(statement))
            for rows in SCALE_ROWS.values():
                for batch in batches(rows):
                    cur.executemany(insert(rows, "`", "%s"), batch)
                conn.commit()

            def count(sql: str) -> int:
                cur.execute(sql)
                return int(cur.fetchone()[0])

            for indexes, selected in states(cases).items():
                for statement in indexes:
                    cur.execute(mysql_ddl(statement))
                cur.execute("ANALYZE TABLE " + ", ".join(f"`{t}`" for t in SCALE_ROWS))
                cur.fetchall()
                for case in selected:
                    statement = mysql_statement(case.statement)
                    cur.execute(f"EXPLAIN FORMAT=JSON {statement}")
                    explain = json.loads(cur.fetchone()[0])
                    analyze = _analyze(cur, statement)
                    conn.rollback()
                    plan = {"explain": explain, "analyze": analyze}
                    yield record("mariadb", case, version, plan, measure(statement, count, "`"))
                for statement in indexes:
                    table = statement.split(" ON ")[1].split('"')[1]
                    cur.execute(f"DROP INDEX `{_index_name(statement)}` ON `{table}`")
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        finally:
            conn.close()


def _analyze(cur: Any, statement: str) -> Any:
    started = time.perf_counter()
    try:
        limit = f"SET STATEMENT max_statement_time={ANALYZE_SECONDS} FOR"
        cur.execute(f"{limit} ANALYZE FORMAT=JSON {statement}")
    except Exception as exc:  # max_statement_time exceeded: estimates only
        if time.perf_counter() - started < ANALYZE_SECONDS:
            raise
        print(f"  ANALYZE stopped after {ANALYZE_SECONDS} s: {exc}", file=sys.stderr)
        return None
    return _without_timings(json.loads(cur.fetchone()[0]))


# --- files ------------------------------------------------------------------------------------


def capture(backend: str, url: str, names: Sequence[str] = ()) -> tuple[Path, list[str]]:
    unknown = set(names) - {case.name for case in CASES}
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    selected = [case for case in CASES if not names or case.name in names]
    directory = SCALE_DIR / backend
    directory.mkdir(parents=True, exist_ok=True)
    records = capture_sqlite(selected) if backend == "sqlite" else capture_mariadb(url, selected)
    changed = []
    for found in records:
        path = directory / f"{found['scenario']}.json"
        text = dumps(found)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path.name)
    if not names:
        for stale in sorted(directory.glob("*.json")):
            if stale.stem not in {case.name for case in CASES}:
                stale.unlink()
                changed.append(f"{stale.name} (removed)")
    return directory, changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("backend", choices=BACKENDS)
    parser.add_argument("--database-url", default=mysql_url(), help="MariaDB's (mariadb only)")
    parser.add_argument("cases", nargs="*", metavar="CASE", help="only these (default: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    directory, changed = capture(args.backend, args.database_url, args.cases)
    seconds = time.perf_counter() - started
    print(f"scale/{directory.name}: {len(changed)} file(s) changed in {seconds:.0f} s")
    for name in changed:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
