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

from pytest_indexguard.explain.postgresql import size_source, sizes_query
from pytest_indexguard.files import invalid, read_document

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
    data = read_document(
        path,
        option=OPTION,
        kind="stats file",
        format_name=FORMAT,
        version=VERSION,
        missing_hint=(
            "write it with `python -m pytest_indexguard stats --database-url URL --output FILE`"
        ),
    )
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise invalid(path, option=OPTION, kind="stats file", why='"tables" must be an object')
    sizes = {}
    for name, entry in tables.items():
        rows = entry.get("rows") if isinstance(entry, dict) else None
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise invalid(
                path,
                option=OPTION,
                kind="stats file",
                why=f'table {name!r}: "rows" must be a whole number >= 0',
            )
        sizes[str(name)] = rows
    return sizes
