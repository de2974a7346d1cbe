"""Which findings fail a test: allowlist markers, the fixture's allow blocks and the row threshold.

Precedence, strongest first: ``indexguard_skip`` (nothing is checked), then the statement's
origin (statements of migrations, and of test code unless ``--indexguard-check-test-code``, are
reported apart and never reach the markers; see ``origin.py``), then
``indexguard_allow`` markers (until their expiry date) and ``indexguard.allow()`` blocks (the scan
is reported as allowed), then the row threshold (a table smaller than ``--indexguard-min-rows``
does not fail), then the baseline (a known scan does not fail), then the default: a violation
fails the test.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import pytest

ALLOW_MARK = "indexguard_allow"
SKIP_MARK = "indexguard_skip"


@dataclass(frozen=True)
class AllowMark:
    tables: frozenset[str] | None  # None: every table
    reason: str | None
    until: datetime.date | None = None
    # The node id of what carries the marker: the test, its class or its module. A marker of a
    # module or class is one marker for all their tests (unused only if unused in all).
    node: str = ""

    def covers(self, table: str) -> bool:
        return self.tables is None or table in self.tables

    def expired(self, today: datetime.date) -> bool:
        return self.until is not None and today > self.until

    def describe(self) -> str:
        args = [f'"{t}"' for t in sorted(self.tables or ())]
        if self.reason is not None:
            # Double quotes, as the table names and the date: the marker as one would write it.
            args.append(f"reason={json.dumps(self.reason, ensure_ascii=False)}")
        if self.until is not None:
            args.append(f'until="{self.until.isoformat()}"')
        return f"@pytest.mark.{ALLOW_MARK}({', '.join(args)})"


def _allow_signature(
    *tables: str, reason: str | None = None, until: str | datetime.date | None = None
) -> AllowMark:
    for table in tables:
        if not isinstance(table, str) or not table.strip():
            raise TypeError(f"table names must be non-empty strings, got {table!r}")
    if reason is not None and not isinstance(reason, str):
        raise TypeError(f"reason must be a string, got {reason!r}")
    return AllowMark(
        tables=frozenset(t.strip() for t in tables) or None,
        reason=reason,
        until=_parse_until(until),
    )


def _parse_until(until: object) -> datetime.date | None:
    if until is None:
        return None
    if isinstance(until, datetime.datetime):
        return until.date()
    if isinstance(until, datetime.date):
        return until
    if isinstance(until, str):
        try:
            return datetime.date.fromisoformat(until.strip())
        except ValueError:
            pass
    raise TypeError(f"until must be a date as YYYY-MM-DD, got {until!r}")


def _skip_signature(reason: str | None = None) -> str | None:
    if reason is not None and not isinstance(reason, str):
        raise TypeError(f"reason must be a string, got {reason!r}")
    return reason


_SIGNATURES: dict[str, tuple[str, Callable[..., object]]] = {
    ALLOW_MARK: (
        '*tables: str, reason: str | None = None, until: "YYYY-MM-DD" | None = None',
        _allow_signature,
    ),
    SKIP_MARK: ("reason: str | None = None", _skip_signature),
}


def marker_errors(item: pytest.Item) -> list[str]:
    """One line per marker of ``item`` whose arguments are wrong."""
    return mark_errors(
        item.nodeid, (mark for name in _SIGNATURES for mark in item.iter_markers(name))
    )


def mark_errors(nodeid: str, marks: Iterable[pytest.Mark]) -> list[str]:
    """One line per marker of the guard among ``marks`` whose arguments are wrong."""
    errors = []
    for marker in marks:
        if marker.name not in _SIGNATURES:
            continue
        accepted, signature = _SIGNATURES[marker.name]
        try:
            signature(*marker.args, **marker.kwargs)
        except TypeError as exc:
            detail = str(exc).replace(f"{signature.__name__}()", "it")
            errors.append(
                f"{nodeid}: @pytest.mark.{marker.name}: {detail} "
                f"(it accepts {marker.name}({accepted}))"
            )
    return errors


@dataclass(frozen=True)
class Decision:
    """Why a violation does not fail its test (``allowed_by``), or which expired marker would
    have allowed it."""

    allowed_by: str | None = None
    mark: AllowMark | None = None
    expired: AllowMark | None = None


@dataclass
class TestPolicy:
    """What the markers of one test allow; the fixture pushes and pops allow blocks."""

    skip: bool = False
    marks: tuple[AllowMark, ...] = ()
    blocks: list[frozenset[str] | None] = field(default_factory=list)
    today: datetime.date = field(default_factory=datetime.date.today)
    used: set[AllowMark] = field(default_factory=set)
    expired_hits: set[AllowMark] = field(default_factory=set)

    @classmethod
    def for_item(cls, item: pytest.Item) -> TestPolicy:
        return cls.of((node.nodeid, marker) for node, marker in item.iter_markers_with_node())

    @classmethod
    def of(cls, markers: Iterable[tuple[str, pytest.Mark]]) -> TestPolicy:
        """From the markers in effect for a test, closest first, each with the node id of
        what carries it (the test, its class or its module); others than the guard's are
        ignored."""
        skip_markers = []
        marks = []
        for node, marker in markers:
            if marker.name == SKIP_MARK:
                skip_markers.append(marker)
            elif marker.name == ALLOW_MARK:
                marks.append(replace(_allow_signature(*marker.args, **marker.kwargs), node=node))
        return cls(skip=bool(skip_markers), marks=tuple(marks))

    def decide(self, table: str) -> Decision:
        """Whether a violation on ``table`` is allowed right now, and by what."""
        expired = None
        for mark in self.marks:
            if mark.covers(table):
                if mark.expired(self.today):
                    self.expired_hits.add(mark)
                    expired = expired or mark
                    continue
                self.used.add(mark)
                return Decision(allowed_by="marker", mark=mark)
        for block in reversed(self.blocks):
            if block is None or table in block:
                return Decision(allowed_by="fixture")
        return Decision(expired=expired)

    def unused_marks(self) -> list[AllowMark]:
        """Markers that matched nothing in this test. An expired marker that matched a scan is
        not listed: the test's failure already says it expired."""
        return [mark for mark in self.marks if not self.was_used(mark)]

    def was_used(self, mark: AllowMark) -> bool:
        return mark in self.used or mark in self.expired_hits

    def mark_usage(self) -> list[dict[str, object]]:
        """Each marker in effect for this test, where it is placed and whether it allowed
        something here: the run's results gather them over every test a marker covers."""
        return [
            {"node": mark.node, "marker": mark.describe(), "used": self.was_used(mark)}
            for mark in self.marks
        ]


def block_tables(tables: Iterable[str]) -> frozenset[str] | None:
    names = []
    for table in tables:
        if not isinstance(table, str) or not table.strip():
            raise TypeError(
                f"indexguard.allow(): table names must be non-empty strings, got {table!r}"
            )
        names.append(table.strip())
    return frozenset(names) or None
