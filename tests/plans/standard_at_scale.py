"""The standard's side at scale, live or stored: the oracle's verdicts and the suggestions held
at scale, for ``tests/test_standard.py`` and ``capture_standard.py``.

Live, the scale data is loaded (``scale.load``, about 12 s), every case's natural plan is judged
(``judge_at_scale``), and each index the guard suggested is created on the scale data and the
statement planned again (``suggestions_at_scale``). Stored, the same come from files captured
from a real server: the plans in ``scale/pg<major>/<case>.json`` and the suggestions in
``scale_suggestions/pg<major>.json``, each held current by a test (a plan whose case's DDL or
query changed, a suggestion the guard no longer makes or makes differently, fails until it is
captured again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from pytest_indexguard.suggest import sql_keys

from . import scale
from .guard_run import GuardRun
from .oracle import Catalog, TableVerdict, judge
from .standard_scenarios import CASES, StandardCase

PLANS_DIR = Path(__file__).resolve().parent
SCALE_DIR = PLANS_DIR / "scale"
SUGGESTIONS_DIR = PLANS_DIR / "scale_suggestions"
RECAPTURE = "python -m tests.plans.capture_standard suggestions"

Oracle = dict[str, dict[str, TableVerdict]]
Columns = dict[str, list[tuple[str, str]]]
# (case, table) -> (the suggested index's columns, whether it serves the statement at scale)
Served = dict[tuple[str, str], tuple[tuple[str, ...], bool]]


def _merge(into: Columns, found: Mapping[str, Sequence[tuple[str, str]]]) -> None:
    for table, columns in found.items():
        known = into.setdefault(table, [])
        known.extend(c for c in columns if c not in known)


def judge_at_scale(url: str) -> tuple[Oracle, Columns, dict[str, float]]:
    """On the loaded scale data: the oracle's verdicts per case, the columns of every table (for
    the inner models) and its rows at scale."""
    verdicts: Oracle = {}
    tables: Columns = {}
    rows: dict[str, float] = {}
    catalogs: dict[str, Catalog] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for case in CASES:
            schema = scale.schema_name(case.setup)
            if schema not in catalogs:
                catalogs[schema] = scale.catalog(conn, schema)
                rows.update({t: facts.rows for t, facts in catalogs[schema].tables.items()})
                _merge(tables, scale.columns(conn, schema))
            plan = scale.explain_analyze(conn, schema, case.query)
            verdicts[case.name] = judge(plan, catalogs[schema])
    return verdicts, tables, rows


def stored_plans(major: int) -> dict[str, dict[str, Any]] | None:
    """Every case's plan at scale captured from PostgreSQL ``major``, or None when a case has
    none (a server no capture was made on)."""
    directory = SCALE_DIR / f"pg{major}"
    records = {}
    for case in CASES:
        path = directory / f"{case.name}.json"
        if not path.exists():
            return None
        records[case.name] = json.loads(path.read_text(encoding="utf-8"))
    return records


def judge_stored(records: Mapping[str, Mapping[str, Any]]) -> tuple[Oracle, dict[str, float]]:
    """The oracle's verdicts on the stored plans, and every table's rows at scale."""
    verdicts: Oracle = {}
    rows: dict[str, float] = {}
    for name, record in records.items():
        catalog = Catalog.from_json(record["catalog"])
        rows.update({t: facts.rows for t, facts in catalog.tables.items()})
        verdicts[name] = judge(record["plan"], catalog)
    return verdicts, rows


def schema_columns(url: str, setups: Iterable[Sequence[str]]) -> Columns:
    """Every table's columns as ``judge_at_scale`` gives them, from the setups' ``CREATE
    TABLE`` statements alone, run in a transaction rolled back: no rows are loaded."""
    tables: Columns = {}
    with psycopg.connect(url) as conn, conn.transaction(force_rollback=True):
        for schema, setup in {scale.schema_name(s): s for s in setups}.items():
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute("SELECT set_config('search_path', %s, true)", (schema,))
            for statement in scale.table_ddl(setup):
                conn.execute(statement)
            _merge(tables, scale.columns(conn, schema))
    return tables


def suggested(guard: GuardRun) -> dict[tuple[str, str], tuple[str, ...]]:
    """(case, table) -> the columns of the index the guard suggested and verified on the tiny
    tables, for the guard's violations."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for group in guard.report.get("violations", ()):
        suggestion = group.get("suggestion")
        if not suggestion or suggestion.get("verified") is not True:
            continue
        for test in group.get("tests", ()):
            case = re.search(r"\[([^\]]+)\]", test)
            if case and group["table"] in guard.verdict(case.group(1)):
                found[(case.group(1), str(group["table"]))] = tuple(suggestion["columns"])
    return found


def suggestions_at_scale(url: str, guard: GuardRun) -> Served:
    """Each verified suggestion, created on the loaded scale data (in a transaction rolled back,
    with the table analysed again): whether production's natural plan then no longer reads the
    table whole."""
    by_name: dict[str, StandardCase] = {case.name: case for case in CASES}
    served: Served = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for (name, table), columns in sorted(suggested(guard).items()):
            case = by_name[name]
            schema = scale.schema_name(case.setup)
            with conn.transaction(force_rollback=True), conn.cursor() as cur:
                cur.execute(
                    f'CREATE INDEX indexguard_suggested ON "{schema}"."{table}" '
                    f"({sql_keys(columns)})"
                )
                cur.execute(f'ANALYZE "{schema}"."{table}"')
                catalog = scale.catalog(conn, schema)
                plan = scale.explain_analyze(conn, schema, case.query)
            verdict = judge(plan, catalog).get(table)
            served[(name, table)] = (columns, verdict is None or not verdict.verdict.is_violation)
    return served


def suggestions_path(major: int) -> Path:
    return SUGGESTIONS_DIR / f"pg{major}.json"


def dump_suggestions(served: Served, version: str) -> str:
    entries = [
        {"case": case, "table": table, "columns": list(columns), "serves": serves}
        for (case, table), (columns, serves) in sorted(served.items())
    ]
    text = json.dumps({"server_version": version, "suggestions": entries}, indent=1)
    return text + "\n"


def stored_suggestions(major: int) -> Served | None:
    """The suggestions held at scale on PostgreSQL ``major``, or None when never captured."""
    path = suggestions_path(major)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        (entry["case"], entry["table"]): (tuple(entry["columns"]), bool(entry["serves"]))
        for entry in data["suggestions"]
    }


def stale_suggestions(stored: Served, made: Mapping[tuple[str, str], tuple[str, ...]]) -> list[str]:
    """How the guard's verified suggestions differ from those held at scale: each line one
    (case, table) suggested differently, newly, or no longer."""
    lines = []
    for key in sorted(set(stored) | set(made)):
        held = stored[key][0] if key in stored else None
        now = made.get(key)
        if held != now:
            lines.append(f"{key[0]} / {key[1]}: held at scale {held}, suggested now {now}")
    return lines
