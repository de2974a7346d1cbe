"""The standard's verdict on SQLite's and MariaDB's natural plans at scale (``scale/sqlite``,
``scale/mariadb``), the counterpart of ``oracle.py`` for PostgreSQL.

Pure: the input is a capture of ``capture_standard_backends.py`` (the plan, and what the
statement keeps of each table, counted on the scale rows by ``backend_scale.measure``). The
verdicts and their lines are ``oracle.py``'s: a table is a ``VIOLATION`` when the statement
reads it whole (``WHOLE_SHARE`` of its rows) and its own conditions keep less than
``KEEP_SHARE`` of them, or the statement keeps less than ``JOIN_KEEP_SHARE``, or it sorts them
to return the first few under a ``LIMIT``, or it reads it whole again for every row of an
outer query; ``NEEDED`` when it reads it whole and keeps most of it (or an aggregate consumes
it); ``PARTIAL`` otherwise.

What differs per database is how a plan says which tables are read whole and how many rows a
read examined:

- **SQLite** (``EXPLAIN QUERY PLAN``, after ``ANALYZE``): ``SCAN t`` walks the table or one of
  its indexes from end to end; so does ``SEARCH t`` with no index named (3.40 prints it for a
  ``MAX()`` sub-query it walks whole: its bytecode is a ``Rewind``/``Next`` loop over the
  table). A ``SEARCH ... USING INDEX`` examines the rows its key reaches, counted on the scale
  rows (``reached``: the statement without this table's conditions, other than those on the
  searched columns): the join key of every queue reaches every ticket. A scan in an index's
  order under a ``LIMIT``, with no sort, stops after about ``LIMIT / share kept`` rows. SQLite
  measures nothing, so these are the counts of the data, not of the run.
- **MariaDB** (``ANALYZE FORMAT=JSON``, default settings, after ``ANALYZE TABLE``): every
  table's ``r_rows`` per loop times ``r_loops`` is what it examined, inside derived tables,
  materialised sub-queries and dependent sub-queries too. A statement too slow to run at scale
  (``ANALYZE`` stopped after ``ANALYZE_SECONDS``) is judged on ``EXPLAIN FORMAT=JSON``'s
  estimates: ``access_type`` ``ALL`` or ``index`` over about all rows is a whole read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .backend_scale import Kept, parse
from .oracle import JOIN_KEEP_SHARE, KEEP_SHARE, WHOLE_SHARE, Verdict


@dataclass(frozen=True)
class Read:
    """One read of a table in a plan, as the oracle needs it."""

    alias: str
    access: str  # the plan's words for it
    examined: float  # rows examined, all executions
    executions: float  # how often the read ran (a correlated sub-query: once per outer row)
    whole_each_time: bool  # each execution walks the whole table or index
    sorted_under_limit: bool  # its rows are sorted to return the first few


@dataclass(frozen=True)
class BackendVerdict:
    table: str
    verdict: Verdict
    why: str

    def describe(self) -> str:
        return f"{self.verdict.value} ({self.why})"


def judge_reads(
    statement: str, reads: Sequence[Read], kept: Sequence[Kept]
) -> dict[str, BackendVerdict]:
    """The verdict per table read (a table read twice keeps its worst verdict)."""
    by_alias = {k.alias: k for k in kept}
    verdicts: dict[str, BackendVerdict] = {}
    order = {Verdict.VIOLATION: 0, Verdict.NEEDED: 1, Verdict.PARTIAL: 2}
    for read in reads:
        facts = by_alias.get(read.alias)
        if facts is None:
            raise KeyError(f"the plan reads {read.alias}, which the statement does not name")
        found = _verdict(read, facts)
        known = verdicts.get(facts.table)
        if known is None or order[found.verdict] < order[known.verdict]:
            verdicts[facts.table] = found
    return verdicts


def _verdict(read: Read, facts: Kept) -> BackendVerdict:
    rows = max(facts.rows, 1)
    share = read.examined / rows
    what = f"{read.access}: {read.examined:,.0f} of {facts.rows:,} rows examined"
    if read.whole_each_time and read.executions > 1:
        return BackendVerdict(
            facts.table,
            Verdict.VIOLATION,
            f"{what}, whole again for each of {read.executions:,.0f}",
        )
    if share < WHOLE_SHARE and not read.whole_each_time:
        return BackendVerdict(facts.table, Verdict.PARTIAL, what)
    if read.sorted_under_limit:
        return BackendVerdict(facts.table, Verdict.VIOLATION, f"{what}, sorted under a LIMIT")
    own = facts.own if facts.own is not None else facts.rows
    kept = facts.kept if facts.kept is not None else facts.rows
    detail = f"{what}; its own conditions keep {own:,}, the statement {kept:,}"
    if own < KEEP_SHARE * rows or kept < JOIN_KEEP_SHARE * rows:
        return BackendVerdict(facts.table, Verdict.VIOLATION, detail)
    return BackendVerdict(facts.table, Verdict.NEEDED, detail)


def _sorted_alias(statement: str, sorted_in_plan: bool) -> str | None:
    """The table (alias) whose rows the plan sorts to return the first few under the
    statement's LIMIT: the one of the first sort key. None when nothing is sorted so, or an
    aggregate consumes the rows first."""
    query = parse(statement)
    if not (sorted_in_plan and query.limit is not None and query.order_by) or query.aggregates:
        return None
    qualifier = re.match(r'\s*["`]?(\w+)["`]?\.', query.order_by)
    return qualifier.group(1) if qualifier else None


def _stopped_early(query_limit: int | None, rows: int, kept: int | None) -> float:
    """Rows a scan in the right order examines before the LIMIT has its rows, when the rows
    it keeps are spread evenly."""
    if query_limit is None or not kept:
        return float(rows)
    return min(float(rows), rows * query_limit / kept)


# --- SQLite ---------------------------------------------------------------------------------

_SQLITE_ACCESS = re.compile(r"^(SCAN|SEARCH) (\w+)(?: USING (.*))?$")


def sqlite_reads(record: Mapping[str, Any]) -> list[Read]:
    """The reads of SQLite's ``EXPLAIN QUERY PLAN`` rows ``[id, parent, detail]``."""
    statement = str(record["statement"])
    query = parse(statement)
    kept = {k["alias"]: k for k in record["kept"]}
    rows = [(int(r[0]), int(r[1]), str(r[2])) for r in record["plan"]]
    details = {row_id: detail for row_id, _, detail in rows}
    parents = {row_id: parent for row_id, parent, _ in rows}
    top_sort = any(
        parent == 0 and detail.startswith("USE TEMP B-TREE FOR ORDER BY")
        for _, parent, detail in rows
    )
    sorted_alias = _sorted_alias(statement, top_sort)
    found = []
    top_scans = [r for r in rows if r[1] == 0 and _SQLITE_ACCESS.match(r[2])]
    for row_id, _parent, detail in rows:
        match = _SQLITE_ACCESS.match(detail)
        if not match:
            continue
        kind, alias, using = match.groups()
        facts = kept[alias]
        correlated = _under(row_id, parents, details, "CORRELATED")
        depth0 = not _under(row_id, parents, details, "SUBQUERY")
        whole = kind == "SCAN" or using is None
        if whole:
            examined = float(facts["rows"])
            if (
                depth0
                and not top_sort
                and top_scans
                and top_scans[0][0] == row_id
                and not query.aggregates
                and not query.distinct
            ):
                examined = _stopped_early(query.limit, facts["rows"], facts["kept"])
                whole = examined >= WHOLE_SHARE * facts["rows"]
        else:
            # A correlated search is not counted on its own: what one execution reaches.
            examined = float(record["reached"].get(alias, 0))
        executions = float(record["outer_rows"]) if correlated else 1.0
        found.append(
            Read(
                alias=alias,
                access=detail,
                examined=examined * executions,
                executions=executions,
                whole_each_time=whole,
                sorted_under_limit=depth0 and alias == sorted_alias,
            )
        )
    return found


def _under(row_id: int, parents: Mapping[int, int], details: Mapping[int, str], word: str) -> bool:
    parent = parents.get(row_id, 0)
    while parent:
        if word in details.get(parent, ""):
            return True
        parent = parents.get(parent, 0)
    return False


def searched_columns(detail: str) -> list[str]:
    """The columns of a ``SEARCH ... (a=? AND b>?)`` key (``rowid`` is ``id``)."""
    match = re.search(r"\(([^()]*)\)\s*$", detail)
    if not match:
        return []
    columns = [re.split(r"[=<>]", part.strip())[0] for part in match.group(1).split(" AND ")]
    return ["id" if column == "rowid" else column for column in columns]


# --- MariaDB --------------------------------------------------------------------------------


def mariadb_reads(record: Mapping[str, Any]) -> list[Read]:
    """The reads of MariaDB's ``ANALYZE FORMAT=JSON`` (``EXPLAIN FORMAT=JSON`` when the
    statement was too slow to run at scale)."""
    statement = str(record["statement"])
    kept = {k["alias"]: k for k in record["kept"]}
    measured = record["plan"].get("analyze") is not None
    plan = record["plan"]["analyze"] if measured else record["plan"]["explain"]
    block = plan["query_block"]
    sorted_alias = _sorted_alias(statement, _has_filesort(block))
    outer = _outer_rows(block)
    found = []
    for table, dependent in _tables(block, dependent=False):
        alias = str(table["table_name"])
        if alias.startswith("<") or alias not in kept:
            continue
        facts = kept[alias]
        access = str(table.get("access_type", ""))
        correlated = bool(facts["correlated"]) or dependent
        if measured:
            loops = float(table.get("r_loops", 0) or 0)
            per_loop = float(table.get("r_rows", 0) or 0)
        else:
            loops = outer if correlated else 1.0
            per_loop = float(table.get("rows", 0) or 0)
        if loops <= 0:
            continue  # never executed
        whole_each_time = access in ("ALL", "index") and per_loop >= WHOLE_SHARE * facts["rows"]
        key = f" ({table['key']})" if table.get("key") else ""
        found.append(
            Read(
                alias=alias,
                access=f"{alias} {access}{key}" + ("" if measured else ", estimated"),
                examined=per_loop * loops,
                executions=loops if correlated else 1.0,
                whole_each_time=whole_each_time,
                sorted_under_limit=facts["depth"] == 0 and alias == sorted_alias,
            )
        )
    return found


def _tables(node: Any, dependent: bool) -> Iterator[tuple[Mapping[str, Any], bool]]:
    """Every ``table`` object of a plan, and whether it is inside a dependent sub-query (an
    expression cache, MariaDB's mark of a correlated sub-query)."""
    if isinstance(node, list):
        for item in node:
            yield from _tables(item, dependent)
        return
    if not isinstance(node, Mapping):
        return
    if isinstance(node.get("table_name"), str):
        yield node, dependent
    for key, child in node.items():
        yield from _tables(child, dependent or key == "expression_cache")


def _has_filesort(block: Mapping[str, Any]) -> bool:
    """Whether the statement's own block sorts rows (its sub-queries not counted)."""

    def visit(node: Any) -> bool:
        if isinstance(node, list):
            return any(visit(item) for item in node)
        if not isinstance(node, Mapping):
            return False
        if node.get("using_filesort") or "filesort" in node or "read_sorted_file" in node:
            return True
        return any(visit(child) for key, child in node.items() if key != "subqueries")

    return visit(block)


def _outer_rows(block: Mapping[str, Any]) -> float:
    """The estimated rows of the statement's own join: how often a dependent sub-query runs."""
    total = 1.0
    for item in block.get("nested_loop", ()) or ():
        table = item.get("table", {}) if isinstance(item, Mapping) else {}
        total *= float(table.get("rows", 1) or 1) * float(table.get("filtered", 100) or 100) / 100
    return total


READERS = {"sqlite": sqlite_reads, "mariadb": mariadb_reads}


def judge(record: Mapping[str, Any]) -> dict[str, BackendVerdict]:
    """The standard's verdict per table of a stored capture."""
    reads = READERS[str(record["backend"])](record)
    kept = [Kept(**k) for k in record["kept"]]
    return judge_reads(str(record["statement"]), reads, kept)


def violations(record: Mapping[str, Any]) -> set[str]:
    return {table for table, v in judge(record).items() if v.verdict.is_violation}
