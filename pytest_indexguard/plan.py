"""Pure plan analysis: EXPLAIN (FORMAT JSON) output in, scan findings out.

Nothing here touches a database, so every rule is tested on plans captured from real servers
(``tests/plans/``). The rule is the one of the design document:

A scan node is a *full scan* when it is a Seq Scan (parallel too), or an Index Scan / Index Only
Scan without ``Index Cond``. A full scan is a *violation* when it has a ``Filter`` (a predicate no
index serves), when it is the inner side of a Nested Loop (through Materialize / Memoize: the join
key has no index), or when it feeds a Sort under a Limit (ORDER BY ... LIMIT with no index for the
order). Any other full scan (an unfiltered read, a whole-table aggregate, a read a Limit stops
early) is reported as information: no index can help it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

# Nodes that pass rows through without changing which rows the scan below has to read.
_PASS_THROUGH = frozenset(
    {"Gather", "Gather Merge", "Result", "Materialize", "Memoize", "Subquery Scan", "Append"}
)
_SORTS = frozenset({"Sort", "Incremental Sort"})
_INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan"})
# PostgreSQL < 18 marks a disabled node only by adding disable_cost (1e10) to its cost.
_DISABLE_COST = 1.0e10


class Rule(str, Enum):
    """Why a full scan is a violation."""

    FILTER = "filter"
    JOIN = "join"
    SORT_LIMIT = "sort-limit"

    def describe(self) -> str:
        return _RULE_TEXT[self]


_RULE_TEXT = {
    Rule.FILTER: "filters rows that no index serves",
    Rule.JOIN: "is read in full for every outer row of a nested loop: the join key has no index",
    Rule.SORT_LIMIT: "is read in full and sorted to return the first rows: no index has that order",
}


@dataclass(frozen=True)
class ScanFinding:
    """One full scan of a table in one plan."""

    table: str
    node_type: str
    rule: Rule | None
    index_name: str | None = None
    filter: str | None = None
    join_filter: str | None = None
    sort_key: tuple[str, ...] = ()
    disabled: bool = False
    parallel: bool = False
    alias: str | None = None

    @property
    def is_violation(self) -> bool:
        return self.rule is not None

    @property
    def scan_label(self) -> str:
        label = f"Parallel {self.node_type}" if self.parallel else self.node_type
        if self.index_name:
            label += f" using {self.index_name}"
        return label


@dataclass(frozen=True)
class _Step:
    """A node on the way from the root to the current node."""

    node: Mapping[str, Any]
    relationship: str | None


def root_plan(explain_output: Any) -> Mapping[str, Any]:
    """Return the top plan node of ``EXPLAIN (FORMAT JSON)`` output, as text or as parsed JSON."""
    data = explain_output
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if not data:
            raise ValueError("empty EXPLAIN output")
        data = data[0]
    if isinstance(data, Mapping) and "Plan" in data:
        plan = data["Plan"]
        if isinstance(plan, Mapping):
            return plan
    raise ValueError("not EXPLAIN (FORMAT JSON) output: no top-level 'Plan'")


def analyze(
    explain_output: Any, watched: Callable[[str], bool] | None = None
) -> list[ScanFinding]:
    """Find the full scans of watched tables in a plan, in plan order.

    ``watched`` says whether a table name is watched; ``None`` watches every table.
    """
    findings: list[ScanFinding] = []
    for node, path in _walk(root_plan(explain_output), ()):
        table = node.get("Relation Name")
        if not isinstance(table, str) or not _is_full_scan(node):
            continue
        if watched is not None and not watched(table):
            continue
        findings.append(_finding(node, path, table))
    return findings


def _walk(
    node: Mapping[str, Any], path: tuple[_Step, ...]
) -> Iterator[tuple[Mapping[str, Any], tuple[_Step, ...]]]:
    yield node, path
    step_path = path
    for child in node.get("Plans", ()) or ():
        if isinstance(child, Mapping):
            step = _Step(node=node, relationship=child.get("Parent Relationship"))
            yield from _walk(child, (*step_path, step))


def _is_full_scan(node: Mapping[str, Any]) -> bool:
    node_type = node.get("Node Type")
    if node_type == "Seq Scan":
        return True
    return node_type in _INDEX_SCANS and "Index Cond" not in node


def is_disabled(node: Mapping[str, Any]) -> bool:
    """PostgreSQL 18 says so; older versions put disable_cost on the disabled leaf."""
    if "Disabled" in node:
        return bool(node["Disabled"])
    leaf = not node.get("Plans")
    return leaf and float(node.get("Startup Cost", 0.0)) >= _DISABLE_COST


def _finding(node: Mapping[str, Any], path: tuple[_Step, ...], table: str) -> ScanFinding:
    filter_text = node.get("Filter")
    rule: Rule | None = None
    join_filter: str | None = None
    sort_key: tuple[str, ...] = ()
    if filter_text:
        rule = Rule.FILTER
    if rule is None:
        join = _nested_loop_inner(path)
        if join is not None:
            rule = Rule.JOIN
            join_filter = join.get("Join Filter")
    sort = _sort_under_limit(path)
    if sort is not None:
        sort_key = tuple(str(key) for key in sort.get("Sort Key", ()))
        if rule is None:
            rule = Rule.SORT_LIMIT
    return ScanFinding(
        table=table,
        node_type=str(node.get("Node Type")),
        rule=rule,
        index_name=node.get("Index Name"),
        filter=filter_text or None,
        join_filter=join_filter,
        sort_key=sort_key,
        disabled=is_disabled(node),
        parallel=bool(node.get("Parallel Aware")),
        alias=node.get("Alias"),
    )


def _nested_loop_inner(path: tuple[_Step, ...]) -> Mapping[str, Any] | None:
    """The Nested Loop whose inner side this scan is, looking through Materialize/Memoize."""
    for step in reversed(path):
        node_type = step.node.get("Node Type")
        if node_type == "Nested Loop":
            return step.node if step.relationship == "Inner" else None
        if node_type not in {"Materialize", "Memoize"}:
            return None
    return None


def _sort_under_limit(path: tuple[_Step, ...]) -> Mapping[str, Any] | None:
    """The Sort this scan feeds when that Sort is under a Limit, with only pass-through nodes
    between them."""
    steps = list(reversed(path))
    index = 0
    while index < len(steps) and steps[index].node.get("Node Type") in _PASS_THROUGH:
        index += 1
    if index == len(steps) or steps[index].node.get("Node Type") not in _SORTS:
        return None
    sort = steps[index].node
    index += 1
    while index < len(steps) and steps[index].node.get("Node Type") in _PASS_THROUGH:
        index += 1
    if index < len(steps) and steps[index].node.get("Node Type") == "Limit":
        return sort
    return None


def relations(explain_output: Any) -> set[str]:
    """Every table a plan reads, for index-use bookkeeping and cheap pre-checks."""
    return {
        str(node["Relation Name"])
        for node, _ in _walk(root_plan(explain_output), ())
        if isinstance(node.get("Relation Name"), str)
    }
