"""Capture the MySQL/MariaDB plans of every scenario into ``mariadb/<name>.json`` (or ``mysql/``).

The unit tests of ``explain/mysql.py`` run on these files instead of a server, so regenerate them
whenever a scenario changes or another server version is supported. From the repository root::

    python -m tests.plans.capture_mysql                       # $INDEXGUARD_MYSQL_URL, else
                                                              # mysql://root@127.0.0.1:3306/test
    python -m tests.plans.capture_mysql --measure             # also the forcing table
    python -m tests.plans.capture_mysql --more                # mysql_more.py's, into mariadb/more/

Each scenario is explained exactly as the guard explains it (``MySQL.explain``, forced), on
about ten rows per table loaded in a transaction that is rolled back. DDL is not transactional
on MySQL, so the two schemas live in databases of their own (``indexguard_plans_initial`` and
``indexguard_plans_indexed``), dropped at the end. Files are JSON with sorted keys, rewritten
only when their content changes.

``--measure`` prints, for every scenario, the natural plan on the ten rows, the forced plan on
them, and the natural plan once 100,000 deliveries and logs are loaded and analysed: what the
README's forcing table shows.

``--more`` captures the statements of ``mysql_more.MORE`` instead (more shapes for the mutation
tests), on the same schema plus ``mysql_more.EXTRA``, into ``mariadb/more/`` with both states'
catalogs; ``--prefix`` names the scratch databases (default ``indexguard_plans``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pytest_indexguard.explain.mysql import _NOT_NULL, MySQL, analyze, listed_keys, settle

from .mysql_more import EXTRA, MEDIUM, MORE
from .mysql_scenarios import LARGE, SCENARIOS, SMALL, TABLES, Rows, State, rows, schema

PLANS_DIR = Path(__file__).resolve().parent
ENV_VAR = "INDEXGUARD_MYSQL_URL"
DEFAULT_URL = "mysql://root@127.0.0.1:3306/test"


def mysql_url() -> str:
    return os.environ.get(ENV_VAR, "").strip() or DEFAULT_URL


def connect(url: str, database: str | None = None) -> Any:
    """A PyMySQL connection as Django opens one (utf8mb4, autocommit off)."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        charset="utf8mb4",
        autocommit=False,
        connect_timeout=3,
    )


def database(state: State, prefix: str = "indexguard_plans") -> str:
    return f"{prefix}_{state}"


@contextmanager
def scratch(
    conn: Any, state: State, prefix: str = "indexguard_plans", extra: Sequence[str] = ()
) -> Iterator[None]:
    """The state's schema (and ``extra`` statements) in a database of its own, made current;
    dropped afterwards, whatever happened."""
    name = database(state, prefix)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{name}`")
        for statement in (*schema(state), *extra):
            cur.execute(statement)
    try:
        yield
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def load(conn: Any, size: Rows) -> None:
    with conn.cursor() as cur:
        for statement, values in rows(size):
            for start in range(0, len(values), 2000):
                cur.executemany(statement, values[start : start + 2000])


def natural(conn: Any, query: str, prefix: str = "") -> Any:
    """The plan as the optimizer chooses it (MariaDB: with ``prefix`` settings for it alone)."""
    statement = f"EXPLAIN FORMAT=JSON {query}"
    if prefix:
        statement = f"SET STATEMENT {prefix} FOR {statement}"
    with conn.cursor() as cur:
        cur.execute(statement)
        return json.loads(cur.fetchone()[0])


def backend(conn: Any) -> MySQL:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
    found = MySQL()
    found.identify(version)
    return found


def plans(
    url: str, names: Sequence[str] = (), prefix: str = "indexguard_plans"
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(scenario, record) for the selected scenarios, each state's databases dropped after."""
    conn = connect(url)
    try:
        guard = backend(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
        for state in ("initial", "indexed"):
            selected = [s for s in SCENARIOS if s.state == state and (not names or s.name in names)]
            if not selected:
                continue
            with scratch(conn, state, prefix):
                yield (
                    f"catalog_{state}",
                    {"state": state, "server_version": version, "statistics": catalog(conn, guard)},
                )
                load(conn, SMALL)
                for scenario in selected:
                    forced = guard.explain(conn, scenario.query, forced=True).plan
                    yield (
                        scenario.name,
                        _record(
                            scenario, state, version, forced, natural=natural(conn, scenario.query)
                        ),
                    )
    finally:
        conn.close()


def capture_more(url: str, prefix: str = "indexguard_plans") -> tuple[Path, list[str]]:
    """``mysql_more.MORE`` into ``mariadb/more/`` (``mysql/more/`` on MySQL), with each state's
    catalog; files of statements no longer listed are removed."""
    changed: list[str] = []
    written: set[str] = set()
    conn = connect(url)
    try:
        guard = backend(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
        directory = directory_for(version) / "more"
        directory.mkdir(parents=True, exist_ok=True)
        for state in ("initial", "indexed"):
            with scratch(conn, state, prefix, EXTRA):
                records: list[tuple[str, dict[str, Any]]] = [
                    (
                        f"catalog_{state}",
                        {
                            "state": state,
                            "server_version": version,
                            "statistics": catalog(conn, guard),
                            "not_null": not_null(conn),
                            "references": references(conn),
                        },
                    )
                ]
                load(conn, SMALL)
                medium = False
                known = guard.schema(conn).with_references(
                    {(t, c): (rt, rc) for t, c, rt, rc in records[0][1]["references"]}
                )
                selected = [s for s in MORE if s.state == state]
                for scenario in sorted(selected, key=lambda s: s.size == "medium"):
                    if scenario.size == "medium" and not medium:
                        conn.rollback()
                        load(conn, MEDIUM)
                        with conn.cursor() as cur:
                            cur.execute("ANALYZE TABLE " + ", ".join(f"`{t}`" for t in TABLES))
                            cur.fetchall()
                        medium = True
                    forced = guard.explain(conn, scenario.query, forced=True).plan
                    found = analyze(forced, truth=known.truth)
                    questions = [q.query for q in listed_keys(found, known)]
                    answers = [[list(rows[0]) for rows in _answers(conn, questions)]]
                    every_key = [
                        [question, answer]
                        for question, answer in zip(questions, answers[0], strict=True)
                    ]
                    records.append(
                        (
                            scenario.name,
                            _record(scenario, state, version, forced, every_key=every_key),
                        )
                    )
                for name, record in records:
                    path = directory / f"{name}.json"
                    text = dumps(record)
                    written.add(path.name)
                    if not path.exists() or path.read_text(encoding="utf-8") != text:
                        path.write_text(text, encoding="utf-8")
                        changed.append(path.name)
    finally:
        conn.close()
    for stale in sorted(directory.glob("*.json")):
        if stale.name not in written:
            stale.unlink()
            changed.append(f"{stale.name} (removed)")
    return directory, changed


def _record(scenario: Any, state: str, version: str, plan: Any, **more: Any) -> dict[str, Any]:
    """A stored statement: its scenario, state, server, text and forced plan, and ``more``."""
    return {
        "scenario": scenario.name,
        "state": state,
        "server_version": version,
        "query": scenario.query,
        "plan": plan,
        **more,
    }


def catalog(conn: Any, guard: MySQL) -> list[list[Any]]:
    """The ``information_schema.STATISTICS`` rows ``MySQL.schema`` reads, as JSON."""
    with conn.cursor() as cur:
        cur.execute(guard.statistics_query())
        return [[_jsonable(value) for value in row] for row in cur.fetchall()]


def not_null(conn: Any) -> list[list[str]]:
    """The (table, column) rows of the NOT NULL columns that ``MySQL.schema`` reads, sorted."""
    with conn.cursor() as cur:
        cur.execute(_NOT_NULL)
        return sorted([_jsonable(table), _jsonable(column)] for table, column in cur.fetchall())


def references(conn: Any) -> list[list[str]]:
    """The single-column foreign keys (table, column, referenced table, referenced column)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
            "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() "
            "AND REFERENCED_TABLE_NAME IS NOT NULL"
        )
        return sorted([_jsonable(value) for value in row] for row in cur.fetchall())


def _answers(conn: Any, questions: Sequence[str]) -> list[list[tuple[Any, ...]]]:
    found = []
    with conn.cursor() as cur:
        for question in questions:
            cur.execute(question)
            found.append([tuple(int(value) for value in row) for row in cur.fetchall()])
    return found


def _jsonable(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def directory_for(server_version: str) -> Path:
    return PLANS_DIR / ("mariadb" if "mariadb" in server_version.lower() else "mysql")


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def capture(url: str, names: Sequence[str] = ()) -> tuple[Path | None, list[str]]:
    unknown = set(names) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    changed = []
    directory = None
    for name, record in plans(url, names):
        directory = directory_for(record["server_version"])
        directory.mkdir(exist_ok=True)
        path = directory / f"{name}.json"
        text = dumps(record)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path.name)
    if directory is not None and not names:
        known = {f"{s.name}.json" for s in SCENARIOS} | {
            "catalog_initial.json",
            "catalog_indexed.json",
        }
        for stale in sorted(directory.glob("*.json")):
            if stale.name not in known:
                stale.unlink()
                changed.append(f"{stale.name} (removed)")
    return directory, changed


# -- the forcing table ----------------------------------------------------------------------------


def shape(explain: Any) -> str:
    """A plan in a few words: each table's access (index), with filesort / join buffer."""
    found: list[str] = []

    def visit(value: Any, notes: tuple[str, ...]) -> None:
        if isinstance(value, list):
            for item in value:
                visit(item, notes)
            return
        if not isinstance(value, Mapping):
            return
        name = value.get("table_name")
        if isinstance(name, str) and "access_type" in value and not name.startswith("<"):
            text = f"{name.removeprefix('upstream_')} {value['access_type']}"
            if value.get("key") and value["access_type"] != "ALL":
                text += f"({value['key']})"
            extra = [*notes]
            if value.get("attached_condition"):
                extra.append("filter")
            if value.get("using_join_buffer"):
                extra.append("join buffer")
            if extra:
                text += " [" + ", ".join(extra) + "]"
            found.append(text)
        for key, child in value.items():
            more = notes
            if key in ("read_sorted_file", "filesort") or (
                key == "ordering_operation" and child.get("using_filesort")
            ):
                more = (*notes, "filesort") if "filesort" not in notes else notes
            elif key == "block-nl-join":
                more = (*notes, "join buffer")
            elif key in ("materialized", "subqueries", "materialized_from_subquery"):
                more = ()
            visit(child, more)

    visit(explain, ())
    return "; ".join(found) or "(no table)"


# Session variables tried, alone and together, on MariaDB (SET STATEMENT ... FOR EXPLAIN).
CANDIDATES: Mapping[str, str] = {
    "max_seeks_for_key=1": "max_seeks_for_key=1",
    "optimizer_use_condition_selectivity=1": "optimizer_use_condition_selectivity=1",
    "eq_range_index_dive_limit=0": "eq_range_index_dive_limit=0",
    "join_cache_level=0": "join_cache_level=0",
    "optimizer_prune_level=0": "optimizer_prune_level=0",
    "optimizer_switch (no index_merge, rowid_filter)": (
        "optimizer_switch='index_merge=off,rowid_filter=off'"
    ),
    "all of them": (
        "max_seeks_for_key=1, optimizer_use_condition_selectivity=1, "
        "eq_range_index_dive_limit=0, join_cache_level=0, optimizer_prune_level=0, "
        "optimizer_switch='index_merge=off,rowid_filter=off'"
    ),
}


def measure(url: str) -> tuple[list[tuple[str, ...]], dict[str, list[str]]]:
    """(scenario, natural on ten rows, forced on ten rows, natural on 100,000 rows), and for
    each candidate setting the scenarios whose ten-row plan still differs from the large one."""
    small: dict[tuple[str, str], str] = {}
    found = []
    differing: dict[str, list[str]] = {name: [] for name in ("natural", *CANDIDATES)}
    conn = connect(url)
    try:
        guard = backend(conn)
        for state in ("initial", "indexed"):
            selected = [s for s in SCENARIOS if s.state == state]
            with scratch(conn, state):
                load(conn, SMALL)
                for scenario in selected:
                    small[(scenario.name, "natural")] = shape(natural(conn, scenario.query))
                    forced = guard.explain(conn, scenario.query, forced=True).plan
                    small[(scenario.name, "forced")] = shape(forced["explain"])
                    small[(scenario.name, "verdict")] = verdict(forced, guard.schema(conn))
                    if guard.mariadb:
                        for name, setting in CANDIDATES.items():
                            plan = natural(conn, f"{scenario.query}", prefix=setting)
                            small[(scenario.name, name)] = shape(plan)
                conn.rollback()
                load(conn, LARGE)
                conn.commit()
                with conn.cursor() as cur:
                    cur.execute("ANALYZE TABLE " + ", ".join(f"`{t}`" for t in TABLES))
                    cur.fetchall()
                catalog_now = guard.schema(conn)
                for scenario in selected:
                    plan = natural(conn, scenario.query)
                    large = shape(plan)
                    found.append(
                        (
                            scenario.name,
                            small[(scenario.name, "natural")],
                            small[(scenario.name, "forced")],
                            large,
                            small[(scenario.name, "verdict")],
                            verdict({"statement": scenario.query, "explain": plan}, catalog_now),
                        )
                    )
                    for name, names in differing.items():
                        if (scenario.name, name) in small and small[(scenario.name, name)] != large:
                            names.append(scenario.name)
    finally:
        conn.close()
    return found, differing


def verdict(plan: Any, catalog_now: Any) -> str:
    """The judgement on a plan, in a few words: each violation's table and rule."""
    findings = settle(analyze(plan), catalog_now)
    found = [f"{f.table.removeprefix('upstream_')} {f.rule.value}" for f in findings if f.rule]
    return ", ".join(found) or "pass"


def table(measured: Sequence[tuple[str, ...]], differing: Mapping[str, list[str]]) -> str:
    lines = [
        f"| statement | natural, {SMALL.deliveries} rows | forced, {SMALL.deliveries} rows | "
        f"natural, {LARGE.deliveries:,} rows | verdict, {SMALL.deliveries} rows | "
        f"verdict, {LARGE.deliveries:,} rows |",
        "|---|---|---|---|---|---|",
    ]
    for name, natural_small, forced_small, natural_large, small_verdict, large_verdict in measured:
        mark = "" if forced_small == natural_large else " **differs**"
        same = "" if small_verdict == large_verdict else " **differs**"
        lines.append(
            f"| {name} | {natural_small} | {forced_small} | {natural_large}{mark} | "
            f"{small_verdict} | {large_verdict}{same} |"
        )
    lines += [
        "",
        f"| setting on {SMALL.deliveries} rows | plans that differ from "
        f"{LARGE.deliveries:,} rows (of {len(measured)}) | which |",
        "|---|---|---|",
    ]
    for name, names in differing.items():
        lines.append(f"| {name} | {len(names)} | {', '.join(names)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=mysql_url(), help=f"default: ${ENV_VAR}")
    parser.add_argument("--measure", action="store_true", help="print the forcing table")
    parser.add_argument("--more", action="store_true", help="the statements of mysql_more.MORE")
    parser.add_argument(
        "--prefix", default="indexguard_plans", help="the scratch databases' name prefix"
    )
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    args = parser.parse_args(argv)
    if args.measure:
        print(table(*measure(args.database_url)))
        return 0
    if args.more:
        folder, written = capture_more(args.database_url, args.prefix)
        print(f"{folder.parent.name}/more: {len(MORE)} statement(s), {len(written)} changed")
        for name in written:
            print(f"  {name}")
        return 0
    directory, changed = capture(args.database_url, args.scenarios)
    count = len(args.scenarios) or len(SCENARIOS)
    where = directory.name if directory else "-"
    print(f"{where}: {count} scenario(s) captured, {len(changed)} file(s) changed")
    for name in changed:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
