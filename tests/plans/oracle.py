"""The standard's verdict, read from PostgreSQL's natural plan of a statement on tables at scale.

DESIGN.md: *a full scan is a violation when PostgreSQL would read that table whole on
production-sized tables with the project's indexes*. This module decides that from what the
server did, not from what it estimated: the input is ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)``
of the statement on the scale data (``scale.py``; run in a transaction that is rolled back, so
writes are safe), plus the catalog's facts about the tables and indexes (``Catalog``). Pure: no
database here, so it is unit-tested on stored plans (``scale/pg<major>/*.json``).

Per table, one of three verdicts:

- ``VIOLATION``: the statement reads the table whole *and throws most of it away*: an index (or
  a rewrite) could have spared the read;
- ``NEEDED``: it reads the table whole because it needs it (an unfiltered read, a whole-table
  aggregate, a join that keeps the rows): no index helps;
- ``PARTIAL``: it does not read the table whole.

**Rows examined** by a scan node: ``(Actual Rows + Rows Removed by Filter + Rows Removed by
Index Recheck) x Actual Loops`` (EXPLAIN gives per-loop averages). A parallel scan's loops are
its processes, so one execution of it is its total over the loops of the Gather above it.

**Whole** (``WHOLE_SHARE``, half of the table per execution), any of:

- a Seq Scan, always. One stopped early by a Limit is still a search that only the data bounds:
  the planner bet that matches are dense and spread evenly; a rarer value, or matches clustered
  at the end of the heap (the newest rows), and it reads everything. Whether that bet discarded
  most of what it read decides below between ``VIOLATION`` and ``NEEDED``;
- a scan that examined at least half of the table's rows in one execution (an Index Scan
  walking a whole index in order, a Bitmap Heap Scan whose bitmap covers the table);
- an index read whole: an index scan whose Index Cond does not constrain the index's leading
  column (a condition on a later column of a composite index) and whose reads reach half of the
  index's pages. Its rows examined are then the index's entries, not the rows it returned.
  Reads are the node's buffer accesses (``BUFFERS``). Before PostgreSQL 18 such a scan reads the
  index from end to end unless a Limit stops it, and its buffers tell which; PostgreSQL 18 may
  skip scan (``Index Searches``), reading little over few leading values and everything over
  many, so there only index pages count: the buffers minus one heap access per row an Index
  Scan fetched, or minus an Index Only Scan's heap fetches (a Bitmap Index Scan reads only its
  index).

**Thrown away**: the rows examined that do not survive to the first node that needs them all.
Survivors start as the scan's own output (its Filter and Index Recheck removed the rest) and
shrink to the output of each ancestor up to the first of: an aggregate, Unique, SetOp or window
(whole-table aggregates need every row), a write (ModifyTable), a Limit (its output is the last
reduction: a Sort under a Limit keeps few rows), the edge of an InitPlan or SubPlan, or a Hash.
A Hash is the build side of a hash join, which PostgreSQL reads whole by design (it hashes the
smaller input), so the join's output says nothing about it and only the probe side is judged;
except under a right semi or anti join, whose output is build rows (PostgreSQL 18 builds the
hash on either side of a semi join, and the verdict must not depend on which). So a Join Filter
above the scan, a join that keeps few of the probe side's rows and a top-N sort all throw rows
away, and an outer join that keeps every row does not.

A sequential scan that a Limit stopped early (it examined less than ``WHOLE_SHARE`` of the
table) measures nothing by its few rows: one match in the first two rows says nothing about a 3%
filter. For such a scan, the share its Filter keeps is the planner's estimate from the table's
statistics (its ``Plan Rows``, which a Limit does not scale down, over the table's rows); what
the nodes above keep of its output stays measured.

**Most**: a whole read is a violation when

- its own Filter (and Index Recheck) keeps less than ``KEEP_SHARE``, half, of the rows it
  examined. Half is the standard's "most", and PostgreSQL's own line: on the scale data both 15
  and 18 serve ``stock < k`` with the stock index (a bitmap scan) up to 51% of the products and
  read the table whole only beyond. A filter that keeps less than half is one an index serves;
- or less than ``JOIN_KEEP_SHARE``, a fifth, of the rows it examined survive the joins and the
  Limit above it: the probe side "much larger than the join output". A join is served by an
  index only through one probe per row of the other side, so PostgreSQL reads the probe side
  whole long before a fifth: with the foreign key index, PostgreSQL 18 probes the deliveries by
  endpoint up to 0.7% of them and hashes beyond. A stricter line would make every ordinary
  hash join a violation on 100,000 rows; the scenarios' literals are parents of typical weight
  (``scale.py``), so their joins keep well under a fifth when an index is missing and use it
  when it is there.

``ScanJudgement.kept`` reports the share that survived, so a verdict near a line is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# A scan is whole when one execution examined at least this share of its table (or index).
WHOLE_SHARE = 0.5
# A whole read is a violation when its own Filter keeps less than this share of what it
# examined, or when less than JOIN_KEEP_SHARE of it survives the nodes above it.
KEEP_SHARE = 0.5
JOIN_KEEP_SHARE = 0.2

SCAN_NODES = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"})
INDEX_NODES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})
# Nodes that need every row they are given: survivors stop shrinking there.
_CONSUMERS = frozenset({"Aggregate", "WindowAgg", "Unique", "SetOp", "Group", "ModifyTable"})
_SUBPLAN_EDGES = frozenset({"InitPlan", "SubPlan"})


class Verdict(str, Enum):
    VIOLATION = "violation"
    NEEDED = "needed"
    PARTIAL = "partial"

    @property
    def is_violation(self) -> bool:
        return self is Verdict.VIOLATION


@dataclass(frozen=True)
class TableFacts:
    rows: float
    pages: int


@dataclass(frozen=True)
class IndexFacts:
    table: str
    # The index's first key as pg_get_indexdef(index, 1, true) gives it: a column name, or an
    # expression.
    leading: str
    partial: bool
    pages: int
    tuples: float


@dataclass(frozen=True)
class Catalog:
    tables: Mapping[str, TableFacts]
    indexes: Mapping[str, IndexFacts]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        return cls(
            tables={name: TableFacts(**facts) for name, facts in data["tables"].items()},
            indexes={name: IndexFacts(**facts) for name, facts in data["indexes"].items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": {name: vars(facts) for name, facts in sorted(self.tables.items())},
            "indexes": {name: vars(facts) for name, facts in sorted(self.indexes.items())},
        }


@dataclass(frozen=True)
class ScanJudgement:
    """One scan node of a table, judged."""

    table: str
    node: str  # "Seq Scan", "Index Scan using x", ...
    examined: float  # rows (or index entries) examined, all loops
    survivors: float
    whole: str | None  # why the scan is whole, or None
    verdict: Verdict
    # Survivors from the planner's estimate of the Filter: a sequential scan stopped early.
    estimated: bool = False

    @property
    def kept(self) -> float:
        return self.survivors / self.examined if self.examined else 1.0

    def describe(self) -> str:
        kept = "an estimated " if self.estimated else ""
        text = f"{self.node}: {self.examined:,.0f} examined, {kept}{self.survivors:,.0f} kept"
        return f"{text} ({self.whole})" if self.whole else text


@dataclass(frozen=True)
class TableVerdict:
    table: str
    verdict: Verdict
    # The scan that decided: the violating one, else a whole one, else the first one.
    key: ScanJudgement
    scans: tuple[ScanJudgement, ...] = field(default=())

    @property
    def kept(self) -> float:
        return self.key.kept


def judge(explain_output: Any, catalog: Catalog) -> dict[str, TableVerdict]:
    """The verdict per table read by the plan (tables a plan names but never scans, such as the
    target of an INSERT, are left out)."""
    by_table: dict[str, list[ScanJudgement]] = {}
    for node, path in _walk(_root(explain_output), ()):
        if node.get("Node Type") not in SCAN_NODES or not isinstance(
            node.get("Relation Name"), str
        ):
            continue
        judgement = _judge_scan(node, path, catalog)
        if judgement is not None:
            by_table.setdefault(judgement.table, []).append(judgement)
    verdicts = {}
    for table, scans in by_table.items():
        ordered = sorted(scans, key=_rank)
        verdicts[table] = TableVerdict(
            table=table, verdict=ordered[0].verdict, key=ordered[0], scans=tuple(scans)
        )
    return verdicts


def _rank(scan: ScanJudgement) -> tuple[int, float]:
    order = {Verdict.VIOLATION: 0, Verdict.NEEDED: 1, Verdict.PARTIAL: 2}
    return order[scan.verdict], scan.kept


# --- one scan ----------------------------------------------------------------------------------

Path = tuple[tuple[Mapping[str, Any], str | None], ...]  # (ancestor, relationship of the child)


def _judge_scan(node: Mapping[str, Any], path: Path, catalog: Catalog) -> ScanJudgement | None:
    table = str(node["Relation Name"])
    loops = float(node.get("Actual Loops", 0) or 0)
    if loops <= 0:
        return None  # never executed: nothing read
    facts = catalog.tables.get(table)
    table_rows = facts.rows if facts else 0.0
    rows = float(node.get("Actual Rows", 0) or 0)
    removed = float(node.get("Rows Removed by Filter", 0) or 0) + float(
        node.get("Rows Removed by Index Recheck", 0) or 0
    )
    examined = (rows + removed) * loops
    executions = _executions(node, path)
    label = _label(node)
    whole: str | None = None
    if node["Node Type"] == "Seq Scan":
        whole = "a sequential scan"
    elif table_rows > 0 and examined / executions >= WHOLE_SHARE * table_rows:
        whole = f"{examined / executions:,.0f} of {table_rows:,.0f} rows per execution"
    for index_node in _index_nodes(node):
        entries = _whole_index_entries(index_node, catalog, executions)
        if entries is not None:
            name = index_node.get("Index Name")
            whole = whole or f"all of {name}: its leading column is not in the Index Cond"
            examined = max(examined, entries * executions)
    survivors = _survivors(rows * loops, path)
    estimated = False
    share = 1.0
    if (
        node["Node Type"] == "Seq Scan"
        and node.get("Filter")
        and table_rows > 0
        and examined / executions < WHOLE_SHARE * table_rows
        and "Plan Rows" in node
    ):
        # A search the Limit cut short: the few rows it read measure nothing. What its Filter
        # keeps is the planner's estimate from the table's statistics (Plan Rows, which a Limit
        # above the scan does not scale down); what the nodes above keep of its output stays
        # measured.
        share = min(float(node["Plan Rows"]) * executions / table_rows, 1.0)
        output = rows * loops
        survivors = examined * share * (survivors / output if output else 1.0)
        estimated = True
    own = (rows * loops if not estimated else examined * share) if examined else 0.0
    if whole is None:
        verdict = Verdict.PARTIAL
    elif examined > 0 and (own < KEEP_SHARE * examined or survivors < JOIN_KEEP_SHARE * examined):
        verdict = Verdict.VIOLATION
    else:
        verdict = Verdict.NEEDED
    return ScanJudgement(
        table=table,
        node=label,
        examined=examined,
        survivors=min(survivors, examined),
        whole=whole,
        verdict=verdict,
        estimated=estimated,
    )


def _label(node: Mapping[str, Any]) -> str:
    label = str(node["Node Type"])
    if node.get("Parallel Aware"):
        label = f"Parallel {label}"
    if node.get("Index Name"):
        label += f" using {node['Index Name']}"
    elif node["Node Type"] == "Bitmap Heap Scan":
        names = [str(n["Index Name"]) for n in _index_nodes(node) if n.get("Index Name")]
        if names:
            label += f" ({' + '.join(names)})"
    return label


def _executions(node: Mapping[str, Any], path: Path) -> float:
    """How many times the scan ran as a whole: its loops, or for a parallel scan (whose loops
    are its processes) the loops of the Gather that collects it."""
    if node.get("Parallel Aware"):
        for ancestor, _ in reversed(path):
            if ancestor.get("Node Type") in ("Gather", "Gather Merge"):
                return max(float(ancestor.get("Actual Loops", 1) or 1), 1.0)
    return max(float(node.get("Actual Loops", 1) or 1), 1.0)


def _index_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The index scans that feed a scan node: itself, or the bitmap index scans under a Bitmap
    Heap Scan (through BitmapAnd / BitmapOr)."""
    if node.get("Node Type") in INDEX_NODES:
        yield node
        return
    for child in node.get("Plans", ()) or ():
        if child.get("Node Type") in INDEX_NODES or child.get("Node Type") in (
            "BitmapAnd",
            "BitmapOr",
        ):
            yield from _index_nodes(child)


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_QUALIFIED = re.compile(r'"?[A-Za-z_][\w$]*"?\."?[A-Za-z_][\w$]*"?')


def constrains(condition: str, leading: str) -> bool:
    """Whether an Index Cond mentions the index's leading key (a column or an expression),
    ignoring literals and other tables' columns (a join key's outer side is qualified)."""
    text = _QUALIFIED.sub(" ", _LITERAL.sub(" ", condition)).replace('"', "")
    key = leading.replace('"', "")
    if re.fullmatch(r"[A-Za-z_][\w$]*", key):
        return re.search(rf"(?<![\w$.]){re.escape(key)}(?![\w$])", text) is not None
    return key in condition.replace('"', "")


def _whole_index_entries(
    node: Mapping[str, Any], catalog: Catalog, executions: float
) -> float | None:
    """The index entries one execution examined when it read the index whole, else None.

    Only an Index Cond that leaves the leading column free can read the whole index. Before
    PostgreSQL 18 a B-tree has no other way to apply it (it reads from end to end, unless a
    Limit stops it early, which its buffer reads show). PostgreSQL 18 may skip from one leading
    value to the next (a skip scan, counted in ``Index Searches``), which reads little when
    there are few leading values and everything when there are many: there the index pages it
    read decide, counted without its heap accesses.
    """
    condition = node.get("Index Cond")
    name = node.get("Index Name")
    index = catalog.indexes.get(str(name)) if name else None
    if not condition or index is None or constrains(str(condition), index.leading):
        return None
    buffers = sum(
        float(node.get(key, 0) or 0)
        for key in (
            "Shared Hit Blocks",
            "Shared Read Blocks",
            "Local Hit Blocks",
            "Local Read Blocks",
        )
    )
    if "Index Searches" in node:
        loops = float(node.get("Actual Loops", 1) or 1)
        if node.get("Node Type") == "Index Scan":
            rows = float(node.get("Actual Rows", 0) or 0)
            removed = float(node.get("Rows Removed by Filter", 0) or 0)
            buffers -= (rows + removed) * loops  # at most one heap access per row fetched
        elif node.get("Node Type") == "Index Only Scan":
            buffers -= float(node.get("Heap Fetches", 0) or 0)
    if index.pages <= 0 or max(buffers, 0.0) / executions < WHOLE_SHARE * index.pages:
        return None
    return index.tuples


def _survivors(output: float, path: Path) -> float:
    """What survives of a scan's ``output`` up to the first node that needs all its input."""
    survivors = output
    steps = list(reversed(path))
    position = 0
    while position < len(steps):
        ancestor, relationship = steps[position]
        if relationship in _SUBPLAN_EDGES:
            break
        node_type = ancestor.get("Node Type")
        if node_type == "Hash":
            # The build side. Only a right semi or anti join returns (or drops) build rows
            # as its output, so only there does the join's output measure what it kept.
            join = steps[position + 1][0] if position + 1 < len(steps) else {}
            if join.get("Join Type") not in ("Right Semi", "Right Anti"):
                break
            position += 1
            continue
        if node_type in _CONSUMERS:
            break
        total = float(ancestor.get("Actual Rows", 0) or 0) * float(
            ancestor.get("Actual Loops", 0) or 0
        )
        survivors = min(survivors, total)
        if node_type == "Limit":
            break
        position += 1
    return survivors


# --- plan walking --------------------------------------------------------------------------


def _root(explain_output: Any) -> Mapping[str, Any]:
    data = explain_output
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        data = data[0]
    if isinstance(data, Mapping) and isinstance(data.get("Plan"), Mapping):
        return data["Plan"]  # type: ignore[no-any-return]
    raise ValueError("not EXPLAIN (FORMAT JSON) output: no top-level 'Plan'")


def _walk(node: Mapping[str, Any], path: Path) -> Iterator[tuple[Mapping[str, Any], Path]]:
    yield node, path
    for child in node.get("Plans", ()) or ():
        if isinstance(child, Mapping):
            yield from _walk(child, (*path, (node, child.get("Parent Relationship"))))


# --- figures -------------------------------------------------------------------------------


def describe_figures(figures: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Recall and precision per rule from true positives, false negatives and false positives
    (``{"tp": n, "fn": n, "fp": n}`` per rule), one line each, "overall" last."""
    lines = []
    for rule in sorted(figures, key=lambda r: (r == "overall", r)):
        tp, fn, fp = (figures[rule][k] for k in ("tp", "fn", "fp"))
        recall = f"{tp / (tp + fn):.0%}" if tp + fn else "-"
        precision = f"{tp / (tp + fp):.0%}" if tp + fp else "-"
        lines.append(
            f"{rule:>12}: recall {recall} ({tp} of {tp + fn}), "
            f"precision {precision} ({tp} of {tp + fp})"
        )
    return lines
