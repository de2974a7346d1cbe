"""Capture the plans of the standard's cases from a real server. Run from the repository root::

    python -m tests.plans.capture_standard tiny --database-url postgres://.../indexguard_capture_std
    python -m tests.plans.capture_standard scale --database-url postgres://.../indexguard_capture_std
    python -m tests.plans.capture_standard suggestions --database-url postgres://.../indexguard_capture_std
    python -m tests.plans.capture_standard tiny   # $DATABASE_URL, else an embedded PostgreSQL 18

``tiny``: the new cases' (``standard_scenarios.NEW_CASES``) ``EXPLAIN (FORMAT JSON)`` on their
few rows, planned as the plugin plans in their mode, like ``capture_plans.py`` does for
``scenarios.py``, into ``standard/pg<major>/<name>.json``.

``scale``: every case's natural plan on the scale data (``scale.py``), ``EXPLAIN (ANALYZE,
BUFFERS, FORMAT JSON)`` with the catalog facts the oracle needs, into
``scale/pg<major>/<name>.json``. The scale schemas are built in the given database and dropped
again afterwards; statements run in transactions that are rolled back.

``suggestions``: every case run under the guard on its tiny tables (as ``test_standard.py``
does), and each index it suggests and verifies created on the scale data: whether production's
natural plan then serves the statement, into ``scale_suggestions/pg<major>.json``. Capture it
again when the guard's suggestions change (``test_standard.py`` says so).

Files are JSON with sorted keys and only rewritten when their content changes. At-scale plans
carry timings, so each capture rewrites them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from . import scale
from . import standard_at_scale as at_scale
from .capture_plans import dumps, explain, server_major, server_version, start_embedded_server
from .guard_run import run_guard
from .oracle import Catalog
from .scenarios import Scenario
from .standard_scenarios import CASES, NEW_CASES, StandardCase

PLANS_DIR = Path(__file__).resolve().parent
TINY_DIR = PLANS_DIR / "standard"
SCALE_DIR = PLANS_DIR / "scale"


def as_scenario(case: StandardCase) -> Scenario:
    """The case in the shape capture_plans.explain takes (its expectation is not used)."""
    return Scenario(
        name=case.name,
        description=case.description,
        setup=case.setup,
        query=case.query,
        expected=(),
        mode=case.mode,
        extra_settings=case.extra_settings,
    )


def tiny_record(case: StandardCase, version: str, plan: Any) -> dict[str, Any]:
    return {
        "scenario": case.name,
        "server_version": version,
        "mode": case.mode,
        "settings": case.settings,
        "setup": list(case.setup),
        "query": case.query,
        "violations": sorted(case.violations),
        "plan": plan,
    }


def scale_record(case: StandardCase, version: str, plan: Any, catalog: Catalog) -> dict[str, Any]:
    return {
        "scenario": case.name,
        "server_version": version,
        "schema": scale.schema_name(case.setup),
        "settings": dict(scale.EXPLAIN_SETTINGS),
        "query": case.query,
        "violations": sorted(case.violations),
        "plan": plan,
        "catalog": catalog.to_json(),
    }


def _write(path: Path, text: str, changed: list[str]) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        changed.append(path.name)


def _select(cases: Sequence[StandardCase], names: Sequence[str]) -> list[StandardCase]:
    unknown = set(names) - {case.name for case in cases}
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    return [case for case in cases if not names or case.name in names]


def capture_tiny(url: str, names: Sequence[str] = ()) -> tuple[Path, list[str]]:
    selected = _select(NEW_CASES, names)
    changed: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        version = server_version(conn)
        directory = TINY_DIR / f"pg{server_major(conn)}"
        directory.mkdir(parents=True, exist_ok=True)
        for case in selected:
            plan = explain(conn, as_scenario(case), schema="indexguard_standard_plans")
            _write(
                directory / f"{case.name}.json", dumps(tiny_record(case, version, plan)), changed
            )
    if not names:
        _remove_stale(directory, {case.name for case in NEW_CASES}, changed)
    return directory, changed


def capture_scale(url: str, names: Sequence[str] = ()) -> tuple[Path, list[str]]:
    selected = _select(CASES, names)
    changed: list[str] = []
    scale.load(url, [case.setup for case in selected])
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            version = server_version(conn)
            directory = SCALE_DIR / f"pg{server_major(conn)}"
            directory.mkdir(parents=True, exist_ok=True)
            catalogs: dict[str, Catalog] = {}
            for case in selected:
                schema = scale.schema_name(case.setup)
                if schema not in catalogs:
                    catalogs[schema] = scale.catalog(conn, schema)
                plan = scale.explain_analyze(conn, schema, case.query)
                record = scale_record(case, version, plan, catalogs[schema])
                _write(directory / f"{case.name}.json", dumps(record), changed)
    finally:
        _drop_scale(url, selected)
    if not names:
        _remove_stale(directory, {case.name for case in CASES}, changed)
    return directory, changed


def capture_suggestions(url: str, names: Sequence[str] = ()) -> tuple[Path, list[str]]:
    """Run every case under the guard on its tiny tables, create each index it suggests and
    verifies on the scale data, and store whether production's plan then serves the statement
    (``standard_at_scale.suggestions_at_scale``)."""
    if names:
        raise SystemExit("suggestions are captured for every case at once")
    changed: list[str] = []
    scale.load(url, [case.setup for case in CASES])
    os.environ["DATABASE_URL"] = url  # the inner run's server
    try:
        _, tables, _ = at_scale.judge_at_scale(url)
        with tempfile.TemporaryDirectory() as directory:
            guard = run_guard(Path(directory), CASES, tables, database="indexguard_capture_inner")
        if guard.returncode not in (0, 1):
            raise SystemExit(f"the guard's inner run failed:\n{guard.output}")
        served = at_scale.suggestions_at_scale(url, guard)
        with psycopg.connect(url, autocommit=True) as conn:
            version = server_version(conn)
            path = at_scale.suggestions_path(server_major(conn))
    finally:
        _drop_scale(url, CASES)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, at_scale.dump_suggestions(served, version), changed)
    return path.parent, changed


def _drop_scale(url: str, cases: Sequence[StandardCase]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in {scale.schema_name(case.setup) for case in cases}:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'DROP SCHEMA IF EXISTS "{scale.HELPER_SCHEMA}" CASCADE')


def _remove_stale(directory: Path, known: set[str], changed: list[str]) -> None:
    for stale in sorted(directory.glob("*.json")):
        if stale.stem not in known:
            stale.unlink()
            changed.append(f"{stale.name} (removed)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("kind", choices=["tiny", "scale", "suggestions"])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="server to capture from (default: $DATABASE_URL, else an embedded PostgreSQL 18)",
    )
    parser.add_argument("cases", nargs="*", metavar="CASE", help="only these (default: all)")
    args = parser.parse_args(argv)
    url = args.database_url or start_embedded_server()
    capture = {"tiny": capture_tiny, "scale": capture_scale, "suggestions": capture_suggestions}[
        args.kind
    ]
    directory, changed = capture(url, args.cases)
    print(f"{directory.relative_to(PLANS_DIR)}: {len(changed)} file(s) changed")
    for name in changed:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
