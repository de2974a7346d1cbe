"""The PostgreSQL backend's whole judgement (forced plan, probes, ``judge.settle``) of one
statement on tables made for it, on a live server: the tests that hold a rule to what the
database plans, without an inner pytest session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from pytest_indexguard.explain import Context
from pytest_indexguard.explain.postgresql import PostgreSQL, explain
from pytest_indexguard.explain.postgresql import schema as catalog_of
from pytest_indexguard.judge import Production
from pytest_indexguard.model import ScanFinding
from pytest_indexguard.schema import Schema


def judged(
    conn: psycopg.Connection[Any],
    schema_name: str,
    setup: Sequence[str],
    statement: str,
    *,
    production: Production | None = None,
    few_values: Callable[[str, str], bool] | None = None,
    prefetching: Callable[[], bool] | None = None,
) -> list[ScanFinding]:
    """The findings that stand for ``statement`` after ``setup`` (tables, indexes, rows,
    ANALYZE) in a schema of its own, rolled back after. The catalog is the guard's own
    (``explain.postgresql.schema``), narrowed to that schema's tables."""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema_name}"')
        cur.execute("SELECT set_config('search_path', %s, true)", (schema_name,))
        for sql in setup:
            cur.execute(sql)
        ours = {
            row[0]
            for row in cur.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema_name,)
            ).fetchall()
        }
        catalog = catalog_of(conn)
        schema = Schema.of(
            [i for i in catalog.indexes if i.table in ours],
            catalog.parents,
            catalog.extensions,
            [(t, c) for t, columns in catalog.not_null.items() if t in ours for c in columns],
            {k: v for k, v in catalog.references.items() if k[0] in ours},
        )
        plan = explain(conn, statement, forced=True).plan
        context = Context(
            schema=schema, production=production, few_values=few_values, prefetching=prefetching
        )
        assessed = PostgreSQL().assess(conn, statement, plan, context)
    assert not assessed.errors, assessed.errors
    return assessed.findings
