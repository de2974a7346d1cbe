"""``python -m pytest_indexguard stats --database-url URL [--output FILE]`` and
``python -m pytest_indexguard merge REPORT... [--baseline B] [--update-baseline] ...``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "merge":
        return _merge(arguments)
    return _stats(arguments)


def build_parser() -> argparse.ArgumentParser:
    """The commands and their options (the documentation's reference is generated from it)."""
    parser = argparse.ArgumentParser(prog="python -m pytest_indexguard")
    commands = parser.add_subparsers(dest="command", required=True)
    stats = commands.add_parser(
        "stats",
        help="write the row estimates of a live database's tables, for --indexguard-stats",
        description="Read table row estimates (pg_class.reltuples, partitions summed under "
        "their parent) from a live PostgreSQL database and write the JSON that "
        "--indexguard-stats reads. Only the catalog is read; run it against production or a "
        "replica to make --indexguard-min-rows compare against real sizes.",
    )
    stats.add_argument(
        "--database-url", required=True, help="postgres://user:password@host:port/dbname"
    )
    stats.add_argument("--output", type=Path, help="file to write (default: standard output)")
    merge = commands.add_parser(
        "merge",
        help="one verdict from the JSON reports of a suite split across CI jobs",
        description="Read the JSON reports (--indexguard-report) of the jobs a suite was split "
        "into and give the verdict one run of the whole suite would give: new, known and stale "
        "violations, one SARIF file, one GitHub step summary, one baseline update. Exit code 1 "
        "when there are new violations (or stale baseline entries with --fail-stale), 2 for "
        "bad input or an output that cannot be written.",
    )
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="JSON reports")
    merge.add_argument(
        "--baseline",
        type=Path,
        help="the baseline file: decides which violations are known; needed for stale entries "
        "and --update-baseline",
    )
    merge.add_argument(
        "--update-baseline",
        action="store_true",
        help="write the merged violations to the baseline file instead of failing on new ones",
    )
    merge.add_argument(
        "--fail-stale",
        action="store_true",
        help="exit 1 when the baseline has entries nothing hit although all their tests ran",
    )
    merge.add_argument("--sarif", type=Path, help="write the merged SARIF 2.1.0 file here")
    merge.add_argument("--report", type=Path, help="write the merged JSON report here")
    merge.add_argument(
        "--github-summary",
        nargs="?",
        const="",
        metavar="PATH",
        help="append the Markdown summary to PATH (default: the file GITHUB_STEP_SUMMARY names)",
    )
    return parser


def _merge(arguments: argparse.Namespace) -> int:
    from pytest_indexguard.merge import MergeError, Options, merge

    summary: Path | None = None
    if arguments.github_summary is not None:
        target = arguments.github_summary or os.environ.get("GITHUB_STEP_SUMMARY", "")
        if not target:
            print(
                "merge: --github-summary: no PATH given and GITHUB_STEP_SUMMARY is not set",
                file=sys.stderr,
            )
            return 2
        summary = Path(target)
    options = Options(
        reports=arguments.reports,
        baseline=arguments.baseline,
        update_baseline=arguments.update_baseline,
        fail_stale=arguments.fail_stale,
        sarif=arguments.sarif,
        report=arguments.report,
        github_summary=summary,
    )
    try:
        outcome = merge(options)
    except MergeError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for line in outcome.lines:
        print(line)
    return outcome.exit_code


def _stats(arguments: argparse.Namespace) -> int:
    from pytest_indexguard import stats as stats_module
    from pytest_indexguard.files import OutputError, check_directory, write_atomically

    driver = stats_module.driver()
    if driver is None:
        print(
            "stats: needs psycopg 3 or psycopg2 to read the database: "
            "pip install 'pytest-indexguard[psycopg]'",
            file=sys.stderr,
        )
        return 2

    refusal = stats_module.not_postgresql(arguments.database_url)
    if refusal is not None:
        print(f"stats: {refusal}", file=sys.stderr)
        return 2
    if arguments.output is not None:
        try:  # before reading a whole catalog
            check_directory(arguments.output, option="stats --output")
        except OutputError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    try:
        data = stats_module.collect(arguments.database_url)
    except driver.Error as exc:
        where = stats_module.describe(arguments.database_url)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"stats: cannot read {where}: {message}", file=sys.stderr)
        return 2
    text = stats_module.dumps(data)
    if arguments.output is None:
        sys.stdout.write(text)
    else:
        try:
            write_atomically(arguments.output, text, option="stats --output")
        except OutputError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(
            f"stats: {len(data['tables'])} tables from {data['database']} written to "
            f"{arguments.output}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
