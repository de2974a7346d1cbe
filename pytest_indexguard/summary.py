"""Session totals as plain data: built by each process, sent from xdist workers to the
controller as JSON, merged there, and printed once."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_indexguard.guard import Guard


def statement_digest(alias: str, sql: str) -> str:
    """Stable across processes (unlike ``hash``), so workers' distinct counts can be merged."""
    return hashlib.blake2b(f"{alias}\0{sql}".encode(), digest_size=8).hexdigest()


@dataclass
class Summary:
    checked: int = 0
    explained: int = 0
    round_trips: int = 0
    skipped_aborted: int = 0
    skipped_unwatched: int = 0
    invalidations: int = 0
    evictions: int = 0
    cached: int = 0  # plans held at the end, over every alias (and every xdist worker)
    distinct: set[str] = field(default_factory=set)
    informational: set[str] = field(default_factory=set)
    index_usage: dict[str, set[str]] = field(default_factory=dict)
    tables_read: set[str] = field(default_factory=set)
    catalog: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
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
            skipped_unwatched=guard.skipped_unwatched,
            invalidations=guard.invalidations,
            evictions=guard.evictions,
            cached=sum(len(plans) for plans in guard.plans.values()),
            distinct=set(guard.distinct),
            unsupported=dict(guard.unsupported),
            internal_errors=Counter(guard.internal_errors),
            informational=set(guard.informational),
            index_usage={k: set(v) for k, v in guard.index_usage.items()},
            tables_read=set(guard.tables_read),
            catalog=dict(guard.catalog),
        )
        for (alias, sql), reason in guard.unexplained.items():
            summary.unexplained[statement_digest(alias, sql)] = (alias, sql, reason)
        return summary

    def merge(self, other: Summary) -> None:
        for name in (
            "checked",
            "explained",
            "round_trips",
            "skipped_aborted",
            "skipped_unwatched",
            "invalidations",
            "evictions",
            "cached",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.distinct |= other.distinct
        self.informational |= other.informational
        for index, digests in other.index_usage.items():
            self.index_usage.setdefault(index, set()).update(digests)
        self.tables_read |= other.tables_read
        for alias, indexes in other.catalog.items():
            self.catalog.setdefault(alias, indexes)
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
            "skipped_unwatched": self.skipped_unwatched,
            "invalidations": self.invalidations,
            "evictions": self.evictions,
            "cached": self.cached,
            "distinct": sorted(self.distinct),
            "informational": sorted(self.informational),
            "index_usage": {k: sorted(v) for k, v in sorted(self.index_usage.items())},
            "tables_read": sorted(self.tables_read),
            "catalog": dict(sorted(self.catalog.items())),
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
            skipped_unwatched=int(data["skipped_unwatched"]),
            invalidations=int(data["invalidations"]),
            evictions=int(data["evictions"]),
            cached=int(data["cached"]),
            distinct=set(data["distinct"]),
            informational=set(data["informational"]),
            index_usage={k: set(v) for k, v in data["index_usage"].items()},
            tables_read=set(data["tables_read"]),
            catalog=dict(data["catalog"]),
            unexplained={k: (v[0], v[1], v[2]) for k, v in data["unexplained"].items()},
            unsupported=dict(data["unsupported"]),
            internal_errors=Counter(data["internal_errors"]),
        )
