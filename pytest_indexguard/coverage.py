"""Index coverage: for each watched table, the indexes some explained plan used (and by how many
distinct statements), the ones no plan used, and single-column indexes that a composite index
already covers (its leading column), which cost writes and serve nothing the composite cannot."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pytest_indexguard.config import Settings
from pytest_indexguard.summary import Summary


@dataclass(frozen=True)
class TableCoverage:
    alias: str
    table: str
    used: list[tuple[str, int]]  # (index, distinct statements)
    unused: list[str]
    redundant: list[tuple[str, str, str]]  # (index, its column, covering index)
    columns: dict[str, list[str]]
    # Unique and primary-key indexes: they enforce a constraint, whatever their speed.
    constraints: tuple[str, ...] = ()


def coverage(settings: Settings, summary: Summary) -> list[TableCoverage]:
    found = []
    for alias, catalog in sorted(summary.catalog.items()):
        by_table: dict[str, list[dict[str, Any]]] = {}
        for index in catalog:
            by_table.setdefault(index["table"], []).append(index)
        tables: Iterable[str] = (
            settings.tables if settings.tables is not None else summary.tables_read
        )
        for table in sorted(t for t in tables if t in by_table):
            indexes = sorted(by_table[table], key=lambda i: i["name"])
            used = []
            unused = []
            for index in indexes:
                statements = len(summary.index_usage.get(f"{alias}\t{index['name']}", ()))
                if statements:
                    used.append((index["name"], statements))
                else:
                    unused.append(index["name"])
            found.append(
                TableCoverage(
                    alias=alias,
                    table=table,
                    used=sorted(used, key=lambda u: (-u[1], u[0])),
                    unused=unused,
                    redundant=redundant(indexes),
                    columns={i["name"]: list(i["columns"]) for i in indexes},
                    constraints=tuple(i["name"] for i in indexes if i["unique"] or i["primary"]),
                )
            )
    return found


def redundant(indexes: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Plain single-column indexes whose column leads a multi-column index of the table."""
    found = []
    for index in indexes:
        columns = index["columns"]
        if len(columns) != 1 or index["unique"] or index["primary"] or index["partial"]:
            continue
        for other in indexes:
            if (
                other is not index
                and len(other["columns"]) > 1
                and other["columns"][0].removesuffix(" DESC") == columns[0].removesuffix(" DESC")
                and not other["partial"]
            ):
                found.append((index["name"], columns[0], other["name"]))
                break
    return found


def coverage_lines(settings: Settings, summary: Summary) -> list[str]:
    tables = coverage(settings, summary)
    if not tables:
        return ["index coverage: no watched table was read by an explained statement"]
    lines = [
        "index coverage (what this suite's plans used; the suite may not exercise every "
        "query, so an index no plan used may still serve production):"
    ]
    for entry in tables:
        where = "" if entry.alias == "default" else f" [database {entry.alias}]"
        lines.append(f"  {entry.table}{where}")

        def described(name: str, entry: TableCoverage = entry) -> str:
            return f"{name} ({', '.join(entry.columns.get(name, []))})"

        if entry.used:
            lines.append(
                "    used:      "
                + ", ".join(
                    f"{described(n)}: {c} statement{'s' if c != 1 else ''}" for n, c in entry.used
                )
            )
        if entry.unused:
            lines.append("    unused:    " + ", ".join(described(n) for n in entry.unused))
        for name, column, covering in entry.redundant:
            lines.append(
                f"    redundant: {name} ({column}) is the leading column of {described(covering)}"
            )
        lines.extend(_shape_lines(settings, entry, described))
    return lines


def _shape_lines(
    settings: Settings, entry: TableCoverage, described: Callable[[str], str]
) -> list[str]:
    """With production's column shape: composite indexes whose first column already narrows a
    lookup to a few rows, so that their other columns spare at most a sort or filter of those."""
    from pytest_indexguard.guard import SORT_THRESHOLD

    shapes = settings.columns.get(entry.table, {})
    size = settings.table_rows.get(entry.table)
    if not shapes or size is None:
        return []
    threshold = settings.min_rows or SORT_THRESHOLD
    lines = []
    for name, columns in sorted(entry.columns.items()):
        first = columns[0].removesuffix(" DESC") if columns else ""
        if len(columns) < 2 or first not in shapes or name in entry.constraints:
            continue
        typical, busiest = shapes[first].rows_per_key(size[0])
        if busiest < threshold:
            lines.append(
                f"    at scale:  {described(name)}: in production ({first}) alone finds "
                f"{typical:,} rows per key, {busiest:,} for the busiest, under the threshold "
                f"of {threshold:,}: its other columns spare at most a sort or filter of those"
            )
    return lines
