"""Session totals as plain data: built by each process, sent from xdist workers to the
controller as JSON, merged there, and printed once."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_indexguard.guard import Guard

OUTCOMES = ("failing", "allowed", "below min-rows")


def statement_digest(alias: str, sql: str) -> str:
    """Stable across processes (unlike ``hash``), so workers' distinct counts can be merged."""
    return hashlib.blake2b(f"{alias}\0{sql}".encode(), digest_size=8).hexdigest()


@dataclass
class Summary:
    checked: int = 0
    explained: int = 0
    round_trips: int = 0
    skipped_aborted: int = 0
    invalidations: int = 0
    failing_tests: int = 0
    distinct: set[str] = field(default_factory=set)
    violating: set[str] = field(default_factory=set)
    executions: int = 0
    tables: dict[str, Counter[str]] = field(default_factory=dict)
    informational: set[str] = field(default_factory=set)
    unexplained: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    internal_errors: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, guard: Guard) -> Summary:
        summary = cls(
            checked=guard.checked,
            explained=guard.explained,
            round_trips=guard.round_trips,
            skipped_aborted=guard.skipped_aborted,
            invalidations=guard.invalidations,
            distinct=set(guard.distinct),
            unsupported=dict(guard.unsupported),
            internal_errors=Counter(guard.internal_errors),
            informational=set(guard.informational),
        )
        for (alias, sql), reason in guard.unexplained.items():
            summary.unexplained[statement_digest(alias, sql)] = (alias, sql, reason)
        for run in guard.finished:
            if run.failures():
                summary.failing_tests += 1
            for occurrence in run.occurrences:
                statement = occurrence.statement
                summary.violating.add(statement_digest(statement.alias, statement.sql))
                summary.executions += 1
                counts = summary.tables.setdefault(occurrence.finding.table, Counter())
                if occurrence.allowed_by:
                    counts["allowed"] += 1
                elif occurrence.below_threshold:
                    counts["below min-rows"] += 1
                else:
                    counts["failing"] += 1
        return summary

    def merge(self, other: Summary) -> None:
        for name in (
            "checked",
            "explained",
            "round_trips",
            "skipped_aborted",
            "invalidations",
            "failing_tests",
            "executions",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.distinct |= other.distinct
        self.violating |= other.violating
        self.informational |= other.informational
        for table, counts in other.tables.items():
            self.tables.setdefault(table, Counter()).update(counts)
        self.unexplained.update(other.unexplained)
        for alias, vendor in other.unsupported.items():
            self.unsupported.setdefault(alias, vendor)
        self.internal_errors.update(other.internal_errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "explained": self.explained,
            "round_trips": self.round_trips,
            "skipped_aborted": self.skipped_aborted,
            "invalidations": self.invalidations,
            "failing_tests": self.failing_tests,
            "executions": self.executions,
            "distinct": sorted(self.distinct),
            "violating": sorted(self.violating),
            "informational": sorted(self.informational),
            "tables": {t: dict(c) for t, c in sorted(self.tables.items())},
            "unexplained": {k: list(v) for k, v in sorted(self.unexplained.items())},
            "unsupported": dict(sorted(self.unsupported.items())),
            "internal_errors": dict(sorted(self.internal_errors.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            checked=int(data["checked"]),
            explained=int(data["explained"]),
            round_trips=int(data["round_trips"]),
            skipped_aborted=int(data["skipped_aborted"]),
            invalidations=int(data["invalidations"]),
            failing_tests=int(data["failing_tests"]),
            executions=int(data["executions"]),
            distinct=set(data["distinct"]),
            violating=set(data["violating"]),
            informational=set(data["informational"]),
            tables={t: Counter(c) for t, c in data["tables"].items()},
            unexplained={k: (v[0], v[1], v[2]) for k, v in data["unexplained"].items()},
            unsupported=dict(data["unsupported"]),
            internal_errors=Counter(data["internal_errors"]),
        )
