"""Capture what the judgement sees for every accuracy statement (``accuracy.py``) from a real
server into ``judge/pg<major>/<name>.json``: the index catalog of its tables, the forced plan, and
each probe with the plan the server gave it. ``tests/test_judge.py`` replays the judgement on
these files, with no database. Run from the repository root::

    python -m tests.plans.capture_judge --database-url postgres://postgres@127.0.0.1:5432/postgres
    python -m tests.plans.capture_judge          # $DATABASE_URL, else an embedded PostgreSQL 18

Everything happens in a schema of its own inside a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg

from pytest_indexguard import judge
from pytest_indexguard.explain import postgresql
from pytest_indexguard.plan import analyze
from pytest_indexguard.schema import Schema

from .accuracy import ARTIFACTS, STATEMENTS
from .capture_plans import server_major, server_version, start_embedded_server

JUDGE_DIR = Path(__file__).resolve().parent / "judge"
SCHEMA = "indexguard_judge"


def capture(conn: psycopg.Connection[Any], statement: str) -> dict[str, Any]:
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{SCHEMA}"')
        cur.execute("SELECT set_config('search_path', %s, true)", (SCHEMA,))
        cur.execute(ARTIFACTS)
        catalog = postgresql.schema(conn)
        ours = {
            row[0]
            for row in cur.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,)
            ).fetchall()
        }
        indexes = [i for i in catalog.indexes if i.table in ours]
        plan = postgresql.explain(conn, statement, forced=True).plan
        schema = Schema.of(indexes, catalog.parents, catalog.extensions)
        findings = analyze(plan, None, leading=schema.leading_of, joined_ranges=True)
        probes = judge.probes(findings, schema)
        answers = postgresql.explain_many(conn, [p.sql for p in probes])
    return {
        "server_version": server_version(conn),
        "statement": statement,
        "indexes": [asdict(i) for i in indexes],
        "extensions": sorted(catalog.extensions),
        "plan": plan,
        "probes": [{"sql": p.sql, "plan": a} for p, a in zip(probes, answers, strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or start_embedded_server()
    with psycopg.connect(url) as conn:
        folder = JUDGE_DIR / f"pg{server_major(conn)}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, statement in sorted(STATEMENTS.items()):
            data = capture(conn, statement)
            text = json.dumps(data, indent=1, sort_keys=True) + "\n"
            path = folder / f"{name}.json"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            print(f"{path.relative_to(JUDGE_DIR.parent)}")


if __name__ == "__main__":
    main()
