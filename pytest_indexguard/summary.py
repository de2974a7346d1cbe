"""Session totals as plain data: built by each process, sent from xdist workers to the
controller as JSON, merged there, and printed once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

LET_THROUGH_CAP = 20


@dataclass
class Summary:
    """Counters and sets, each defined once here: ``merge`` and the JSON round trip
    follow the fields (numbers add up, sets and mappings unite). The guard counts into one
    (``Guard.totals``)."""

    checked: int = 0
    explained: int = 0
    round_trips: int = 0
    skipped_aborted: int = 0
    skipped_unwatched: int = 0
    invalidations: int = 0
    evictions: int = 0
    cached: int = 0  # plans held at the end, over every alias (and every xdist worker)
    watch_checks: int = 0  # aliases whose tables were compared with the watched names
    distinct: set[str] = field(default_factory=set)
    informational: set[str] = field(default_factory=set)
    # The same full scans by statement: table -> the SQL of its statements as Django sent them
    # (placeholders, no values), at most LET_THROUGH_CAP per table in each process.
    let_through: dict[str, set[str]] = field(default_factory=dict)
    tables_read: set[str] = field(default_factory=set)
    watched_present: set[str] = field(default_factory=set)  # watched names some database has
    index_usage: dict[str, set[str]] = field(default_factory=dict)
    catalog: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unexplained: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    nearest: dict[str, str] = field(default_factory=dict)  # missing watched name -> a table
    # Tables presumed small that application code inserted into -> where (the first seen).
    grown: dict[str, str] = field(default_factory=dict)
    # Rows in the test database of tables with violations and no declared size.
    test_rows: dict[str, int] = field(default_factory=dict)
    internal_errors: Counter[str] = field(default_factory=Counter)
    # --indexguard-plan-on: the distinct statements planned on PostgreSQL's shadow database;
    # those judged on their own database instead, by why (raw SQL, ...); how the shadow's
    # schema was made, or why there is none ("schema" or "failed" -> words).
    planned_on: set[str] = field(default_factory=set)
    judged_here: dict[str, set[str]] = field(default_factory=dict)
    shadow: dict[str, str] = field(default_factory=dict)

    def merge(self, other: Summary) -> None:
        for item in fields(self):
            self._add(item.name, getattr(other, item.name))

    def _add(self, name: str, value: Any) -> None:
        mine = getattr(self, name)
        if isinstance(mine, int):
            setattr(self, name, mine + int(value))
        elif isinstance(mine, set):
            mine |= set(value)
        elif isinstance(mine, Counter):
            mine.update(value)
        else:
            for key, item in value.items():
                if isinstance(item, set):
                    mine.setdefault(key, set()).update(item)
                else:
                    mine.setdefault(key, item)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, set):
                value = sorted(value)
            elif isinstance(value, dict):
                value = {
                    k: sorted(v) if isinstance(v, set) else list(v) if isinstance(v, tuple) else v
                    for k, v in sorted(value.items())
                }
            data[item.name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        summary = cls()
        for item in fields(cls):
            value = data.get(item.name, getattr(summary, item.name))
            empty = getattr(summary, item.name)
            if isinstance(empty, int):
                setattr(summary, item.name, int(value))
            elif isinstance(empty, set):
                setattr(summary, item.name, set(value))
            elif isinstance(empty, Counter):
                setattr(summary, item.name, Counter(value))
            elif item.name in ("index_usage", "let_through"):
                setattr(summary, item.name, {k: set(v) for k, v in value.items()})
            elif item.name == "unexplained":
                setattr(summary, item.name, {k: (v[0], v[1], v[2]) for k, v in value.items()})
            else:
                setattr(summary, item.name, dict(value))
        return summary
