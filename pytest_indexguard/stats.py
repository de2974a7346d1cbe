"""Production table sizes: read from a live database by ``python -m pytest_indexguard stats``,
read back by ``--indexguard-stats=FILE`` so that ``--indexguard-min-rows`` compares against the
sizes that matter (a scan of a ten-row table is harmless, of a ten-million-row one is not)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_indexguard.explain.postgresql import size_source, sizes_query

FORMAT = "pytest-indexguard stats"
VERSION = 1
OPTION = "--indexguard-stats"


def collect(database_url: str) -> dict[str, Any]:
    """Row estimates of every user table (partitioned tables: the sum of their partitions)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(sizes_query(None)).fetchall()
        server = connection.info.server_version
    tables = {
        str(name): {"rows": int(count), "source": size_source(bool(analysed))}
        for name, count, analysed in rows
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "database": describe(database_url),
        "server_version": server,
        "collected_at": datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat(),
        "tables": dict(sorted(tables.items())),
    }


def describe(database_url: str) -> str:
    """Where the sizes came from, without credentials."""
    parts = urlsplit(database_url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}/{parts.path.lstrip('/')}"


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load(path: Path) -> dict[str, int]:
    """Table sizes from a stats file; every problem is a one-line usage error."""

    def bad(why: str) -> pytest.UsageError:
        return pytest.UsageError(f"{OPTION}: {str(path)!r} {why}")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad(
            "does not exist; write it with `python -m pytest_indexguard stats "
            "--database-url URL --output FILE`"
        ) from None
    except OSError as exc:
        raise bad(f"cannot be read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise bad(f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f'is not an indexguard stats file: expected "format": "{FORMAT}"')
    if data.get("version") != VERSION:
        raise bad(f"has unsupported version {data.get('version')!r} (this plugin reads 1)")
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise bad('is not an indexguard stats file: "tables" must be an object')
    sizes = {}
    for name, entry in tables.items():
        rows = entry.get("rows") if isinstance(entry, dict) else None
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise bad(f'has a bad entry for table {name!r}: "rows" must be a whole number >= 0')
        sizes[str(name)] = rows
    return sizes
