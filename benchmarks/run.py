"""What the guard costs: ``python benchmarks/run.py`` (``--quick`` for a short run).

Not part of the test suite's pass or fail: the figures depend on the machine, and on a shared
one they move by tens of percent from one second to the next. So every comparison is measured
side by side in this one run, in interleaved rounds (the order rotates every round), and is
printed as a median with the lowest and highest round next to it; differences are taken within
a round before the median, so that slow drifts of the machine cancel out.

Uses ``DATABASE_URL`` when set, else starts one embedded PostgreSQL for the whole run; the suite's
subprocesses get its URL, so the server starts once.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import suite, workload
from benchmarks.stats import Spread
from sampleproject.markdown import table

TARGET_SUITE_RATIO = 1.10
TARGET_REPEAT_US = 5.0
TARGET_DISTINCT_RATIO = 1.3
TARGET_PLAN_ON_RATIO = 1.5


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Measure what pytest-indexguard adds, next to django-perf-rec and "
        "pytest-django's query capture.",
    )
    parser.add_argument("--rounds", type=int, help="workload rounds (default 7, --quick 3)")
    parser.add_argument(
        "--perf-rec-rounds",
        type=int,
        help="rounds that include django-perf-rec, which takes about 20 s per workload "
        "(default 3, --quick 1)",
    )
    parser.add_argument(
        "--suite-runs",
        type=int,
        help="runs of the sample suite in each mode (default 15, --quick 5)",
    )
    parser.add_argument(
        "--statements", type=int, default=10_000, help="statements per workload (default 10,000)"
    )
    parser.add_argument(
        "--distinct",
        default="100,1000,5000",
        help="distinct SQL texts per workload, comma-separated (default 100,1000,5000)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a rough figure fast")
    parser.add_argument("--skip-suite", action="store_true", help="only the synthetic workload")
    parser.add_argument("--skip-workload", action="store_true", help="only the sample suite")
    parser.add_argument(
        "--skip-plan-on",
        action="store_true",
        help="leave out the sample suite on SQLite judged by PostgreSQL (--indexguard-plan-on)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 7)
    if args.perf_rec_rounds is None:
        args.perf_rec_rounds = 1 if args.quick else 3
    args.perf_rec_rounds = min(args.perf_rec_rounds, args.rounds)
    args.suite_runs = args.suite_runs or (5 if args.quick else 15)
    args.distinct = sorted({int(k) for k in args.distinct.split(",")})
    if len(args.distinct) < 2 or args.distinct[-1] > args.statements:
        parser.error("--distinct needs at least two counts, none above --statements")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url, embedded = _server_url()
    environment = _environment(url, embedded)
    results: dict[str, Any] = {"environment": environment, "arguments": _jsonable(args)}
    print(_environment_line(environment))
    if not args.skip_suite:
        results["suite"] = measure_suite(url, args.suite_runs)
    if not args.skip_plan_on:
        results["plan_on"] = measure_plan_on(url, args.suite_runs)
    if not args.skip_workload:
        results["workload"] = measure_workload(url, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"\nwrote {args.json}")
    return 0


# -- the sample suite ----------------------------------------------------------------------------


def measure_suite(url: str, runs: int) -> dict[str, Any]:
    print(f"\n## Sample app suite: {runs} runs in each mode, alternating\n", flush=True)
    samples: dict[str, list[suite.SuiteRun]] = {mode: [] for mode in suite.MODES}
    for i in range(runs):
        order = list(suite.MODES) if i % 2 == 0 else list(reversed(suite.MODES))
        for mode in order:
            samples[mode].append(suite.run(mode, url))
    wall = {mode: Spread.of([r.wall for r in samples[mode]]) for mode in suite.MODES}
    own = {mode: Spread.of([r.pytest_time for r in samples[mode]]) for mode in suite.MODES}
    pair_ratios = Spread.of(
        [w.wall / wo.wall for w, wo in zip(samples["with"], samples["without"], strict=True)]
    )
    ratio = wall["with"].median / wall["without"].median
    own_ratio = own["with"].median / own["without"].median
    rows = [
        [f"`{suite.MODES[mode]}`", wall[mode].format(3), own[mode].format(3)]
        for mode in suite.MODES
    ]
    print(f"`python {' '.join(suite.command('with')[1:])}`, {samples['with'][0].passed} tests\n")
    print(table(["run", "wall time, s", "pytest's own time, s"], rows))
    print(
        f"\nratio of medians, wall: {ratio:.3f} (per pair: {pair_ratios.format(3)}); "
        f"pytest's own time: {own_ratio:.3f}"
    )
    print(_verdict("suite ratio (wall time)", ratio, TARGET_SUITE_RATIO, digits=3))
    return {
        "command": {mode: suite.command(mode)[1:] for mode in suite.MODES},
        "wall_s": {mode: wall[mode].to_json() for mode in suite.MODES},
        "pytest_s": {mode: own[mode].to_json() for mode in suite.MODES},
        "ratio_of_medians": ratio,
        "pair_ratios": pair_ratios.to_json(),
        "pytest_time_ratio": own_ratio,
        "raw": {mode: [r.__dict__ for r in samples[mode]] for mode in suite.MODES},
    }


def measure_plan_on(url: str, runs: int) -> dict[str, Any]:
    """The sample suite on SQLite: without the guard, judged by SQLite, and judged by
    PostgreSQL on a shadow database of the server of ``url`` (made in each run: its time is
    part of the run's, and printed apart)."""
    modes = list(suite.PLAN_ON_MODES)
    print(f"\n## Sample app suite on SQLite: {runs} runs in each mode, rotating\n", flush=True)
    samples: dict[str, list[suite.SuiteRun]] = {mode: [] for mode in modes}
    for i in range(runs):
        for mode in modes[i % len(modes) :] + modes[: i % len(modes)]:
            samples[mode].append(suite.run(mode, url))
    wall = {mode: Spread.of([r.wall for r in samples[mode]]) for mode in modes}
    shadow = Spread.of([r.shadow_s or 0.0 for r in samples["sqlite, plan-on"]])
    pairs = Spread.of(
        [
            p.wall / w.wall
            for p, w in zip(samples["sqlite, plan-on"], samples["sqlite"], strict=True)
        ]
    )
    ratio = wall["sqlite, plan-on"].median / wall["sqlite"].median
    guard = wall["sqlite, guard"].median / wall["sqlite"].median
    print(table(["run", "wall time, s"], [[f"`{m}`", wall[m].format(3)] for m in modes]))
    print(
        f"\nshadow database made in {shadow.format(2)} s per run (its migrations included)\n"
        f"ratio of medians, wall, planned on PostgreSQL against no guard: {ratio:.3f} (per "
        f"pair: {pairs.format(3)}); judged by SQLite against no guard: {guard:.3f}"
    )
    print(_verdict("plan-on suite ratio (wall time)", ratio, TARGET_PLAN_ON_RATIO, digits=3))
    return {
        "command": {mode: suite.command(mode, "URL")[1:] for mode in modes},
        "wall_s": {mode: wall[mode].to_json() for mode in modes},
        "shadow_s": shadow.to_json(),
        "ratio_of_medians": ratio,
        "pair_ratios": pairs.to_json(),
        "guard_ratio": guard,
    }


# -- the synthetic workload ----------------------------------------------------------------------


def measure_workload(url: str, args: argparse.Namespace) -> dict[str, Any]:
    total: int = args.statements
    counts: list[int] = args.distinct
    if args.perf_rec_rounds and importlib.util.find_spec("django_perf_rec") is None:
        print("django-perf-rec is not installed (pip install django-perf-rec): left out")
        args.perf_rec_rounds = 0
    print(
        f"\n## Synthetic workload: {total:,} statements, {', '.join(f'{k:,}' for k in counts)} "
        f"distinct; {args.rounds} rounds (django-perf-rec: {args.perf_rec_rounds})\n",
        flush=True,
    )
    database = workload.Database(url)
    database.create()
    try:
        workload.configure_django(url, database.name)
        workload.create_table()
        return _workload_rounds(args, total, counts)
    finally:
        database.drop()


def _workload_rounds(args: argparse.Namespace, total: int, counts: list[int]) -> dict[str, Any]:
    loads = {k: workload.statements(total, k) for k in counts}
    references_sample = workload.statements(1_000, 1_000)
    violating = workload.violating_statements(10)
    configs = list(workload.CONFIGS)
    # seconds[config][k] = one value per round that ran it
    seconds: dict[str, dict[int, list[float]]] = {c: {k: [] for k in counts} for c in configs}
    references: dict[str, list[float]] = {}
    drivers: dict[str, list[float]] = {}
    wrapper: dict[str, list[float]] = {}
    checks: list[dict[str, Any]] = []
    for round_no in range(args.rounds):
        shift = round_no % len(configs)
        names = configs[shift:] + configs[:shift]
        if round_no >= args.perf_rec_rounds:  # about 20 s a workload: fewer rounds
            names.remove(workload.PERF_REC)
        for k in counts if round_no % 2 == 0 else list(reversed(counts)):
            elapsed, check = workload.run_round(names, loads[k])
            for config, value in elapsed.items():
                seconds[config][k].append(value)
            if check is not None:
                checks.append({"distinct": k, **check.__dict__})
                _sanity(check, total, k)
        for name, value in workload.reference_round_trips(references_sample).items():
            references.setdefault(name, []).append(value)
        for name, value in workload.by_driver(references_sample).items():
            drivers.setdefault(name, []).append(value)
        for name, value in workload.wrapper_only(loads[counts[0]], violating).items():
            wrapper.setdefault(name, []).append(value)
        print(f"  round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    measured = {config: by_k for config, by_k in seconds.items() if by_k[counts[0]]}
    return _workload_report(
        seconds=measured,
        references=references,
        drivers=drivers,
        wrapper=wrapper,
        checks=checks,
        total=total,
        counts=counts,
    )


def _sanity(check: workload.GuardCheck, total: int, distinct: int) -> None:
    if (check.checked, check.explained, check.unexplained, check.internal_errors) != (
        total,
        distinct,
        0,
        0,
    ):
        raise RuntimeError(f"the guard did not check the workload as expected: {check}")


def _workload_report(
    *,
    seconds: dict[str, dict[int, list[float]]],
    references: dict[str, list[float]],
    drivers: dict[str, list[float]],
    wrapper: dict[str, list[float]],
    checks: list[dict[str, Any]],
    total: int,
    counts: list[int],
) -> dict[str, Any]:
    low, high = counts[0], counts[-1]
    per_statement = {
        config: {k: Spread.of([s / total * 1e6 for s in by_k[k]]) for k in counts}
        for config, by_k in seconds.items()
    }
    print("µs per statement, whole workload (median [lowest..highest round]):\n")
    print(
        table(
            ["configuration", *(f"{k:,} distinct" for k in counts)],
            [[config, *(per_statement[config][k].format() for k in counts)] for config in seconds],
        )
    )

    # Added cost, paired within each round: T(config, k) - T(bare, k).
    added: dict[str, dict[int, list[float]]] = {}
    derived: dict[str, dict[str, list[float]]] = {}
    for config in seconds:
        if config == "bare":
            continue
        rounds = len(seconds[config][low])
        added[config] = {
            k: [
                (seconds[config][k][r] - seconds["bare"][k][r]) / total * 1e6 for r in range(rounds)
            ]
            for k in counts
        }
        # Added time T(k) = total * repeat + k * distinct: two unknowns, two workloads.
        distinct_us = [
            (added[config][high][r] - added[config][low][r]) * total / (high - low)
            for r in range(rounds)
        ]
        repeat_us = [added[config][low][r] - low * distinct_us[r] / total for r in range(rounds)]
        derived[config] = {"repeat_us": repeat_us, "distinct_us": distinct_us}

    print("\nµs added per statement over bare, paired within each round:\n")
    print(
        table(
            ["configuration", *(f"{k:,} distinct" for k in counts)],
            [[config, *(Spread.of(added[config][k]).format() for k in counts)] for config in added],
        )
    )
    print(
        f"\nPer repeated statement = added cost at {low:,} distinct less their share of the "
        f"distinct cost; per distinct statement = (added at {high:,} - added at {low:,}) / "
        f"{high - low:,}, in whole-workload µs:\n"
    )
    print(
        table(
            ["configuration", "µs per repeated statement", "µs per distinct statement"],
            [
                [
                    config,
                    Spread.of(derived[config]["repeat_us"]).format(),
                    Spread.of(derived[config]["distinct_us"]).format(),
                ]
                for config in derived
            ],
        )
    )

    reference_spreads = {name: Spread.of(values) for name, values in references.items()}
    print("\nRound trips and the guard's steps for one distinct statement, µs per call:\n")
    print(table(["what", "µs"], [[n, s.format()] for n, s in reference_spreads.items()]))
    by_driver = _by_driver_report(drivers)
    wrapper_spreads = {name: Spread.of(values) for name, values in wrapper.items()}
    print("\nThe guard's execute wrapper alone on a warm cache (no database), µs added per call:\n")
    print(
        table(
            ["statement", "µs"],
            [[n, s.format(2)] for n, s in wrapper_spreads.items()],
        )
    )

    guard = derived[workload.GUARD]
    yardstick = derived[workload.BARE_EXPLAIN_CONFIG]
    standalone = references[workload.BARE_EXPLAIN]
    ratio = Spread.of(
        [g / b for g, b in zip(guard["distinct_us"], yardstick["distinct_us"], strict=True)]
    )
    ratio_standalone = Spread.of(
        [g / b for g, b in zip(guard["distinct_us"], standalone, strict=True)]
    )
    repeat = Spread.of(guard["repeat_us"])
    repeat_cpu = wrapper_spreads[workload.REPEATED]
    print("\nTargets:\n")
    print(
        _verdict("µs per repeated statement, in the workload", repeat.median, TARGET_REPEAT_US)
        + f" Per round: {repeat.format()}."
    )
    print(
        _verdict(
            "µs per repeated statement, the wrapper alone",
            repeat_cpu.median,
            TARGET_REPEAT_US,
            digits=2,
        )
        + f" Per round: {repeat_cpu.format(2)}."
    )
    print(
        _verdict(
            "distinct statement / bare EXPLAIN per distinct statement, both in the workload",
            ratio.median,
            TARGET_DISTINCT_RATIO,
            digits=2,
        )
        + f" Per round: {ratio.format(2)}."
    )
    print(
        f"- For reference, distinct statement / the bare EXPLAIN round trip alone "
        f"(back to back, autocommit): {ratio_standalone.format(2)}."
    )
    return {
        "statements": total,
        "distinct": counts,
        "us_per_statement": {
            c: {str(k): s.to_json() for k, s in by_k.items()} for c, by_k in per_statement.items()
        },
        "us_added_per_statement": {
            c: {str(k): Spread.of(v).to_json() for k, v in by_k.items()}
            for c, by_k in added.items()
        },
        "derived": {
            c: {name: Spread.of(v).to_json() for name, v in d.items()} for c, d in derived.items()
        },
        "references_us": {n: s.to_json() for n, s in reference_spreads.items()},
        "by_driver": by_driver,
        "wrapper_only_us": {n: s.to_json() for n, s in wrapper_spreads.items()},
        "distinct_over_bare_explain_in_workload": ratio.to_json(),
        "distinct_over_bare_explain_round_trip": ratio_standalone.to_json(),
        "guard_checks": checks,
        "raw_seconds": {c: {str(k): v for k, v in by_k.items()} for c, by_k in seconds.items()},
    }


def _by_driver_report(drivers: dict[str, list[float]]) -> dict[str, Any]:
    """The guard's cost for a new statement through psycopg 3 and psycopg2, next to a bare
    EXPLAIN through the same driver: measured side by side (``workload.by_driver``), the
    ratios paired within each round."""
    spreads = {name: Spread.of(values) for name, values in drivers.items()}
    print(
        "\nA new statement, by driver: the guard's whole work for it (bind, protected EXPLAIN, "
        "judgement) and a bare EXPLAIN of it, in a transaction, side by side, µs per call:\n"
    )
    print(table(["what", "µs"], [[n, s.format()] for n, s in spreads.items()]))
    ratios: dict[str, Spread] = {}
    present = [
        d for d in (workload.PSYCOPG3, workload.PSYCOPG2) if workload.bare_explain(d) in drivers
    ]
    for driver in present:
        guard, bare = (
            drivers[workload.guard_new_statement(driver)],
            drivers[workload.bare_explain(driver)],
        )
        ratios[f"{driver}: the guard / bare EXPLAIN"] = Spread.of(
            [g / b for g, b in zip(guard, bare, strict=True)]
        )
    if len(present) == 2:
        guard2 = drivers[workload.guard_new_statement(workload.PSYCOPG2)]
        guard3 = drivers[workload.guard_new_statement(workload.PSYCOPG3)]
        ratios["the guard: psycopg2 / psycopg 3"] = Spread.of(
            [a / b for a, b in zip(guard2, guard3, strict=True)]
        )
    else:
        print("\npsycopg2 is not installed (pip install psycopg2-binary): its rows are left out")
    print()
    for name, spread in ratios.items():
        print(f"- {name}: {spread.format(2)} (median [lowest..highest round])")
    return {
        "us": {n: s.to_json() for n, s in spreads.items()},
        "ratios": {n: s.to_json() for n, s in ratios.items()},
    }


# -- helpers -------------------------------------------------------------------------------------


def _verdict(what: str, value: float, target: float, digits: int = 1) -> str:
    met = "met" if value <= target else "NOT met"
    shown = digits
    while round(value, shown) == target and value != target and shown < digits + 3:
        shown += 1  # 1.1003 must not print as 1.100 next to "NOT met"
    return f"- {what}: {value:.{shown}f} (target <= {target:.{digits}f}): {met}."


def _server_url() -> tuple[str, bool]:
    """The server's URL, and whether it is the embedded one this process started."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url, False
    from sampleproject.dbserver import database_url

    return database_url(), True  # exports DATABASE_URL: the suite's subprocesses reuse it


def _environment(url: str, embedded: bool) -> dict[str, Any]:
    import django
    import psycopg

    with psycopg.connect(url) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        host = connection.info.host
    try:
        from importlib.metadata import version as package_version

        perf_rec = package_version("django-perf-rec")
    except Exception:
        perf_rec = "not installed"
    return {
        "postgresql": version[0] if version else "?",
        "connection": "unix socket" if host.startswith("/") else f"TCP {host}",
        "embedded": embedded,
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "django_perf_rec": perf_rec,
        "cpus": os.cpu_count(),
        "pytest_indexguard": _revision(),
    }


def _revision() -> str:
    """The commit measured, with ``-dirty`` when the working tree has uncommitted changes."""
    import subprocess

    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=suite.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def _environment_line(env: dict[str, Any]) -> str:
    return (
        f"# pytest-indexguard benchmark\n\nPostgreSQL {env['postgresql']} "
        f"({'embedded, ' if env['embedded'] else ''}{env['connection']}), "
        f"Python {env['python']}, Django {env['django']}, psycopg {env['psycopg']}, "
        f"django-perf-rec {env['django_perf_rec']}, {env['cpus']} CPUs, "
        f"pytest-indexguard at {env['pytest_indexguard']}"
    )


def _jsonable(args: argparse.Namespace) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}


if __name__ == "__main__":
    raise SystemExit(main())
