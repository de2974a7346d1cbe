"""Pure plan analysis: EXPLAIN (FORMAT JSON) output in, scan findings out.

Nothing here touches a database, so every rule is tested on plans captured from real servers
(``tests/plans/``). The rule is the one of the design document:

A scan node is a *full scan* when it is a Seq Scan (parallel too), an Index Scan / Index Only
Scan without ``Index Cond``, or a Bitmap Heap Scan whose bitmap comes from index scans without
``Index Cond`` (the planner builds one from any index when sequential scans are disabled and the
query can be answered from an index alone). A full scan is a *violation* when it has a ``Filter``
(a predicate no index serves), when it is the inner side of a Nested Loop (through Materialize /
Memoize: the join key has no index), or when it feeds a Sort under a Limit (ORDER BY ... LIMIT
with no index for the order). Any other full scan (an unfiltered read, a whole-table aggregate, a
read a Limit stops early) is reported as information: no index can help it.

One extension, found on captured plans: the planner may put the unindexed table on the *outer*
side of the Nested Loop instead, reading it whole and probing the other table. When that loop
restricts rows (a Join Filter, or a Filter on its inner side) the whole read is avoidable with an
index on the join key, so it is a join violation too. Without any restriction (a plain
``select_related`` of every row) it stays information.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

# Nodes that pass rows through without changing which rows the scan below has to read.
_PASS_THROUGH = frozenset(
    {
        "Gather",
        "Gather Merge",
        "Result",
        "Materialize",
        "Memoize",
        "Subquery Scan",
        "Append",
        "LockRows",
        "Unique",
    }
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


def analyze(explain_output: Any, watched: Callable[[str], bool] | None = None) -> list[ScanFinding]:
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
    if node_type == "Bitmap Heap Scan":
        bitmap = [c for c in node.get("Plans", ()) or () if isinstance(c, Mapping)]
        return bool(bitmap) and _bitmap_is_full(bitmap[0])
    return node_type in _INDEX_SCANS and "Index Cond" not in node


def _bitmap_is_full(node: Mapping[str, Any]) -> bool:
    """Whether a bitmap covers the whole table: an index scan without a condition, alone, in
    every branch of an AND, or in any branch of an OR."""
    node_type = node.get("Node Type")
    children = [c for c in node.get("Plans", ()) or () if isinstance(c, Mapping)]
    if node_type == "BitmapAnd":
        return all(_bitmap_is_full(c) for c in children)
    if node_type == "BitmapOr":
        return any(_bitmap_is_full(c) for c in children)
    return node_type == "Bitmap Index Scan" and "Index Cond" not in node


def _bitmap_index_name(node: Mapping[str, Any]) -> str | None:
    for child in node.get("Plans", ()) or ():
        if isinstance(child, Mapping):
            if child.get("Index Name"):
                return str(child["Index Name"])
            return _bitmap_index_name(child)
    return None


def is_disabled(node: Mapping[str, Any]) -> bool:
    """PostgreSQL 18 says so. Older versions add disable_cost (1e10) to the disabled node's cost,
    and to every node above it; only a Seq Scan leaf can be disabled in the guard's modes, and an
    InitPlan's inflated cost can land on an enabled index scan, so only a Seq Scan counts."""
    if "Disabled" in node:
        return bool(node["Disabled"])
    leaf = not node.get("Plans")
    return (
        leaf
        and node.get("Node Type") == "Seq Scan"
        and float(node.get("Startup Cost", 0.0)) >= _DISABLE_COST
    )


def _finding(node: Mapping[str, Any], path: tuple[_Step, ...], table: str) -> ScanFinding:
    filter_text = node.get("Filter")
    rule: Rule | None = None
    join_filter: str | None = None
    sort_key: tuple[str, ...] = ()
    if filter_text:
        rule = Rule.FILTER
    if rule is None:
        join = _restricting_nested_loop(path)
        if join is not None:
            rule = Rule.JOIN
            join_filter = join.get("Join Filter") or _join_condition(join, node.get("Alias"))
    sort = _sort_under_limit(path)
    if sort is not None:
        sort_key = tuple(str(key) for key in sort.get("Sort Key", ()))
        if rule is None:
            rule = Rule.SORT_LIMIT
    return ScanFinding(
        table=table,
        node_type=str(node.get("Node Type")),
        rule=rule,
        index_name=node.get("Index Name") or _bitmap_index_name(node),
        filter=filter_text or None,
        join_filter=join_filter,
        sort_key=sort_key,
        disabled=is_disabled(node),
        parallel=bool(node.get("Parallel Aware")),
        alias=node.get("Alias"),
    )


def _restricting_nested_loop(path: tuple[_Step, ...]) -> Mapping[str, Any] | None:
    """The Nested Loop that makes this full scan avoidable with an index on the join key.

    Inner side (looking through Materialize/Memoize): always, the scan repeats per outer row.
    Outer side (looking through pass-through nodes): when the loop restricts rows, by a Join
    Filter or a Filter on its inner side.
    """
    for position, step in enumerate(reversed(path)):
        node_type = step.node.get("Node Type")
        if node_type == "Nested Loop":
            if step.relationship == "Inner":
                return step.node
            if step.relationship == "Outer" and _loop_restricts(step.node):
                return step.node
            return None
        through = {"Materialize", "Memoize"} if position == 0 else set()
        if node_type not in _PASS_THROUGH and node_type not in through:
            return None
    return None


def _join_condition(loop: Mapping[str, Any], alias: Any) -> str | None:
    """The condition that joins the scanned table when it is the outer side: an Index Cond (or
    Filter) of the inner side that refers to the scan's alias."""
    if not isinstance(alias, str):
        return None
    for node, _ in _walk(loop, ()):
        for key in ("Index Cond", "Filter", "Recheck Cond"):
            text = node.get(key)
            if isinstance(text, str) and f"{alias}." in text:
                return text
    return None


def _loop_restricts(loop: Mapping[str, Any]) -> bool:
    if loop.get("Join Filter"):
        return True
    for child in loop.get("Plans", ()) or ():
        if isinstance(child, Mapping) and child.get("Parent Relationship") == "Inner":
            return any("Filter" in node for node, _ in _walk(child, ()))
    return False


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


def scanned_from_temporary_schema(explain_output: Any, table: str) -> bool:
    """Whether a VERBOSE plan reads ``table`` from a temporary schema: the copy used to verify
    a suggested index, rather than the real table."""
    schemas = {
        str(node.get("Schema", ""))
        for node, _ in _walk(root_plan(explain_output), ())
        if node.get("Relation Name") == table
    }
    return bool(schemas) and all(schema.startswith("pg_temp") for schema in schemas)


_QUALIFIER = re.compile(r'"?[A-Za-z_][\w$]*"?\.(?=["A-Za-z_(])')
_LITERAL = re.compile(r"'(?:[^']|'')*'")


def signature(finding: ScanFinding) -> tuple[str, str | None, str, str, tuple[str, ...]]:
    """What identifies a finding across plans of the same statement, VERBOSE or not (VERBOSE
    qualifies column names, and another index may change literals' casts)."""

    def plain(text: str | None) -> str:
        return _QUALIFIER.sub("", _LITERAL.sub("?", text or ""))

    return (
        finding.table,
        finding.rule.value if finding.rule else None,
        plain(finding.filter),
        plain(finding.join_filter),
        tuple(plain(key) for key in finding.sort_key),
    )


def index_conditions(explain_output: Any, index_name: str) -> list[str]:
    """The Index Cond of every node that scans ``index_name`` ("" when it has none)."""
    return [
        str(node.get("Index Cond", ""))
        for node, _ in _walk(root_plan(explain_output), ())
        if node.get("Index Name") == index_name
    ]


def index_conditions_on(explain_output: Any, table: str) -> list[str]:
    """What an index finds of ``table`` in this plan: the Index Cond of its index scans and the
    Recheck Cond of its bitmap heap scans (the conditions of the bitmap index scans under
    them)."""
    found = []
    for node, _ in _walk(root_plan(explain_output), ()):
        if node.get("Relation Name") != table:
            continue
        for key in ("Index Cond", "Recheck Cond"):
            if node.get(key):
                found.append(str(node[key]))
    return found


def indexes_used(explain_output: Any) -> set[str]:
    """Names of the indexes a plan scans."""
    return {
        str(node["Index Name"])
        for node, _ in _walk(root_plan(explain_output), ())
        if isinstance(node.get("Index Name"), str)
    }
