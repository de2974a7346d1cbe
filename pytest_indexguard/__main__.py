"""``python -m pytest_indexguard stats --database-url URL [--output FILE]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
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
    arguments = parser.parse_args(argv)

    try:
        import psycopg
    except ImportError:
        print(
            "stats: needs psycopg 3 to read the database: pip install 'pytest-indexguard[psycopg]' "
            "(in a separate environment if your project uses psycopg2)",
            file=sys.stderr,
        )
        return 2

    from pytest_indexguard import stats as stats_module
    from pytest_indexguard.files import write_atomically

    try:
        data = stats_module.collect(arguments.database_url)
    except psycopg.Error as exc:
        where = stats_module.describe(arguments.database_url)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"stats: cannot read {where}: {message}", file=sys.stderr)
        return 2
    text = stats_module.dumps(data)
    if arguments.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(arguments.output, text)
        print(
            f"stats: {len(data['tables'])} tables from {data['database']} written to "
            f"{arguments.output}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
