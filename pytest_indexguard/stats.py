"""Production's data shape without production's data: read from a live database by
``python -m pytest_indexguard stats``, read back by ``--indexguard-stats=FILE``.

Per table, the row estimate (so ``--indexguard-min-rows`` compares against the sizes that
matter). Per column (version 2), what ``pg_stats`` knows without any row value: ``n_distinct``,
``null_frac``, ``correlation``, and ``max_frequency``, the frequency of the most common value
(how big the busiest key is) but never the value itself. With them the guard can tell a sort of
twenty rules per customer from a sort of 70,000 deliveries of the busiest endpoint. Version 1
files (sizes only) still load.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_indexguard.files import invalid, read_document
from pytest_indexguard.schema import ColumnShape

FORMAT = "pytest-indexguard stats"
VERSION = 2
READABLE = (1, 2)
OPTION = "--indexguard-stats"

# Only aggregate statistics: most_common_vals, histogram_bounds and the other arrays that hold
# row values are never selected.
_COLUMNS = """
    SELECT CASE WHEN c.relkind = 'p' OR NOT EXISTS (
                    SELECT 1 FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
                    WHERE h.inhrelid = c.oid AND p.relkind = 'p')
                THEN s.tablename END,
           s.attname, s.null_frac, s.n_distinct, s.correlation,
           (SELECT max(f) FROM unnest(s.most_common_freqs) AS f)
    FROM pg_stats s
    JOIN pg_namespace n ON n.nspname = s.schemaname
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
    WHERE s.inherited = (c.relkind = 'p') AND c.relkind IN ('r', 'p', 'm')
      AND {where}
    ORDER BY 1, 2
"""


def driver() -> Any:
    """The driver ``stats`` connects with: psycopg 3, else psycopg2 (a psycopg2 project's
    environment), else None."""
    import importlib

    for name in ("psycopg", "psycopg2"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def collect(database_url: str) -> dict[str, Any]:
    """Row estimates of every user table (partitioned tables: the sum of their partitions) and
    the shape of every analysed column."""
    module = driver()
    if module.__name__ == "psycopg2":
        raw = module.connect(database_url)
        try:
            raw.autocommit = True
            return collect_on(_Psycopg2(raw), describe(database_url))
        finally:
            raw.close()
    with module.connect(database_url, autocommit=True) as connection:
        return collect_on(connection, describe(database_url))


class _Psycopg2:
    """What ``collect_on`` uses of a psycopg 3 connection, on a psycopg2 one."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.info = type("Info", (), {"server_version": raw.server_version})()

    def execute(self, query: str) -> Any:
        cursor = self.raw.cursor()
        cursor.execute(query)
        return cursor


def collect_on(connection: Any, database: str) -> dict[str, Any]:
    """The same, on an open psycopg 3 connection or one that answers like it (``database``
    says which, for the file)."""
    # Imported here: reading a stats file must work on a project without psycopg 3.
    from pytest_indexguard.explain.postgresql import USER_TABLES, size_source, sizes_query

    rows = connection.execute(sizes_query(None)).fetchall()
    shapes = connection.execute(_COLUMNS.format(where=USER_TABLES)).fetchall()
    server = connection.info.server_version
    tables: dict[str, dict[str, Any]] = {
        str(name): {"rows": int(count), "source": size_source(bool(analysed)), "columns": {}}
        for name, count, analysed in rows
    }
    for table, column, null_frac, n_distinct, correlation, frequency in shapes:
        if table is None or table not in tables:
            continue  # a partition: its parent carries the shape of the whole
        tables[table]["columns"][str(column)] = {
            "n_distinct": _number(n_distinct),
            "null_frac": _number(null_frac),
            "correlation": None if correlation is None else _number(correlation),
            "max_frequency": None if frequency is None else _number(frequency),
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "database": database,
        "server_version": server,
        "collected_at": datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat(),
        "tables": dict(sorted(tables.items())),
    }


def _number(value: Any) -> float:
    return round(float(value), 6)


_POSTGRESQL_SCHEMES = ("postgres", "postgresql")


def not_postgresql(database_url: str) -> str | None:
    """Why ``stats`` cannot read this database, when its URL names another one: it reads
    PostgreSQL's catalog only (libpq would only complain about the URL's syntax)."""
    if "://" not in database_url:
        return None  # a libpq connection string (host=... dbname=...)
    scheme = database_url.split("://", 1)[0].lower().split("+", 1)[0]
    if scheme in _POSTGRESQL_SCHEMES:
        return None
    return (
        f"reads PostgreSQL only (its catalog's row estimates and column statistics); "
        f"{scheme}:// is not a PostgreSQL URL. For another database, declare production's "
        "sizes in indexguard_table_rows (table=rows, one per line)"
    )


def describe(database_url: str) -> str:
    """Where the sizes came from, without credentials."""
    parts = urlsplit(database_url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}/{parts.path.lstrip('/')}"


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load(path: Path, option: str = OPTION) -> dict[str, int]:
    """Table sizes from a stats file; every problem is a one-line usage error."""
    return {table: rows for table, (rows, _) in read(path, option=option).items()}


def read(path: Path, option: str = OPTION) -> dict[str, tuple[int, dict[str, ColumnShape]]]:
    """Each table's size and column shapes (none in a version 1 file); errors name ``option``,
    the setting the user wrote."""
    data = read_document(
        path,
        option=option,
        kind="stats file",
        format_name=FORMAT,
        version=READABLE,
        missing_hint=(
            "write it with `python -m pytest_indexguard stats --database-url URL --output FILE`"
        ),
    )
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise invalid(path, option=option, kind="stats file", why='"tables" must be an object')
    found = {}
    for name, entry in tables.items():
        rows = entry.get("rows") if isinstance(entry, dict) else None
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise invalid(
                path,
                option=option,
                kind="stats file",
                why=f'table {name!r}: "rows" must be a whole number >= 0',
            )
        assert isinstance(entry, dict)
        found[str(name)] = (rows, _shapes(path, option, str(name), entry.get("columns", {})))
    return found


def _shapes(path: Path, option: str, table: str, columns: Any) -> dict[str, ColumnShape]:
    def bad(why: str) -> pytest.UsageError:
        return invalid(path, option=option, kind="stats file", why=f"table {table!r}: {why}")

    if not isinstance(columns, dict):
        raise bad('"columns" must be an object')
    shapes = {}
    for column, entry in columns.items():
        if not isinstance(entry, dict):
            raise bad(f"column {column!r} must be an object")
        values = {}
        for key in ("n_distinct", "null_frac", "correlation", "max_frequency"):
            value = entry.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise bad(f"column {column!r}: {key!r} must be a number")
            values[key] = None if value is None else float(value)
        if values["n_distinct"] is None:
            raise bad(f'column {column!r}: "n_distinct" is missing')
        shapes[str(column)] = ColumnShape(
            n_distinct=values["n_distinct"],
            null_frac=values["null_frac"] or 0.0,
            correlation=values["correlation"],
            max_frequency=values["max_frequency"],
        )
    return shapes
