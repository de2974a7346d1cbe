"""The baseline file: violations a team knows about, so CI fails only on new ones.

JSON, sorted, one entry per fingerprint with the table, the normalised statement (placeholders,
never parameter values) and the tests that hit it, so that it diffs cleanly in review. Written
only when its content changes, atomically, and only by the process that prints the summary (the
xdist controller).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_indexguard.files import invalid, read_document, write_atomically

FORMAT = "pytest-indexguard baseline"
VERSION = 1
OPTION = "--indexguard-baseline"


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    alias: str
    table: str
    sql: str
    tests: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "alias": self.alias,
            "table": self.table,
            "sql": self.sql,
            "tests": sorted(set(self.tests)),
        }


def load(path: Path, *, missing_ok: bool, option: str = OPTION) -> dict[str, Entry]:
    """The entries of ``path`` by fingerprint. Every problem is one line naming ``option``: a
    usage error."""
    if missing_ok and (not os.path.lexists(path) or _empty(path)):
        return {}  # a file to write: missing, or created empty for it (touch)
    data = read_document(
        path,
        option=option,
        kind="baseline",
        format_name=FORMAT,
        version=VERSION,
        missing_hint="record one with --indexguard-update-baseline",
    )
    return parse(data, path, option=option)


def _empty(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def parse(data: dict[str, Any], path: Path, *, option: str = OPTION) -> dict[str, Entry]:
    def bad(why: str) -> pytest.UsageError:
        return invalid(path, option=option, kind="baseline", why=why)

    violations = data.get("violations")
    if not isinstance(violations, list):
        raise bad('"violations" must be a list')
    entries: dict[str, Entry] = {}
    for number, item in enumerate(violations, start=1):
        if not isinstance(item, dict):
            raise bad(f"entry {number} is not an object")
        try:
            entry = Entry(
                fingerprint=_text(item, "fingerprint"),
                alias=_text(item, "alias"),
                table=_text(item, "table"),
                sql=_text(item, "sql"),
                tests=tuple(_texts(item, "tests")),
            )
        except ValueError as exc:
            raise bad(f"entry {number}: {exc}") from None
        entries[entry.fingerprint] = entry
    return entries


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f'"{key}" must be a non-empty string')
    return value


def _texts(item: dict[str, Any], key: str) -> list[str]:
    value = item.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'"{key}" must be a list of strings')
    return value


def planned_on(path: Path) -> str | None:
    """Whose planner judged the run that recorded the baseline at ``path``: "postgresql" when
    it ran with --indexguard-plan-on, None otherwise (or when it cannot be read: ``load``
    says why)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("planned_on") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def dumps(entries: Iterable[Entry], *, planned_on: str | None = None) -> str:
    ordered = sorted(entries, key=lambda e: (e.table, e.sql, e.alias, e.fingerprint))
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if planned_on is not None:
        # Recorded with --indexguard-plan-on: PostgreSQL's verdicts on another test database.
        document["planned_on"] = planned_on
    document["violations"] = [entry.to_json() for entry in ordered]
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def write(
    path: Path, entries: Iterable[Entry], *, option: str = OPTION, planned_on: str | None = None
) -> bool:
    """Write the file if its content changes; True when it did. Raises ``OutputError`` (one
    line) when it cannot be written; the old file is then left as it was."""
    text = dumps(entries, planned_on=planned_on)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    write_atomically(path, text, option=option)
    return True
