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

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.sqltext import quote_identifier

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
    explain_output: Any,
    watched: Callable[[str], bool] | None = None,
    leading: Callable[[str], str | None] | None = None,
    *,
    sorted_ranges: bool = False,
    truth: Callable[[str, str], bool | None] | None = None,
    joined_ranges: bool = False,
) -> list[ScanFinding]:
    """Find the full scans of watched tables in a plan, in plan order.

    ``watched`` says whether a table name is watched; ``None`` watches every table. ``leading``
    gives an index's first column by index name (None when unknown or an expression): with it,
    an Index Cond that does not constrain that column reads the whole index, a full scan. With
    ``sorted_ranges``, an index range that feeds a Sort under a Limit is listed too (rule None,
    ``sorted_range``): whether it matters depends on how many rows a key has in production.
    ``truth(table, conjunct)`` says which conjuncts every row passes and which none does
    (``IS [NOT] NULL`` on a NOT NULL column, ``Schema.truth``): the first restrict nothing, so
    they are no filter; a scan with the second reads no row (PostgreSQL 17 folds it away).
    With ``joined_ranges``, an index range on the join key alone that filters rows of its own
    is listed too (``joined``): whether it reads the table whole depends on the other side
    (``judge.settle``).
    """
    findings: list[ScanFinding] = []
    nulls: list[ScanFinding] = []  # reads an OR across tables restricts beside IS NULL
    for node, path in _walk(root_plan(explain_output), ()):
        table = node.get("Relation Name")
        if not isinstance(table, str):
            continue
        if watched is not None and not watched(table):
            continue
        condition = _non_leading_condition(node, leading) if leading is not None else None
        if condition is not None or _is_full_scan(node):
            if truth is not None and _reads_no_row(node, table, truth):
                continue
            found = _finding(node, path, table, condition, truth)
            beside = _beside_an_or(found, path)
            if beside is not None:
                nulls.append(beside)
            else:
                findings.append(found)
            continue
        beside = _null_range_beside_an_or(node, path, table, truth)
        if beside is not None:
            nulls.append(beside)
            continue
        joined = _joined_range(node, path, table, truth, leading) if joined_ranges else None
        if joined is not None:
            findings.append(joined)
        elif sorted_ranges:
            ranged = _sorted_range(node, path, table) or _filtered_range(node, path, table)
            if ranged is not None:
                findings.append(ranged)
    settled = _with_or_tables(explain_output, findings, watched)
    nulls += _reached_from(explain_output, nulls, watched)
    extra = _join_ors(explain_output, settled + nulls, watched)
    replaced = {f.table for f in extra} | {f.table for f in nulls}
    return [f for f in settled if f.table not in replaced] + nulls + extra


def _join_ors(
    explain_output: Any, findings: list[ScanFinding], watched: Callable[[str], bool] | None
) -> list[ScanFinding]:
    """An OR across tables that a join node checks (``Filter`` or ``Join Filter`` of a Nested
    Loop, a Hash or Merge Join), typically across two aliases of a link table reached through
    LEFT JOINs (a supplier's products: ``partner_users.user_id = x OR t10.user_id = x``): no
    index restricts the join, so production reads whole the table that drives it and every
    table it reaches by a join key alone, and sifts them at the end. One finding each (rule
    unservable, "or-across-tables"), naming those tables, not the ones the OR sifts through
    (``judge.settle`` drops lookups by primary key, and the whole OR when a scan of the join
    is restricted by an index condition on a value)."""
    # A table with a finding of its own keeps it (an index on its filter restricts the join);
    # a read through the join key alone is what this finding explains.
    named = {f.table for f in findings if f.rule is not None and f.rule is not Rule.JOIN}
    joins = [
        node for node, _ in _walk(root_plan(explain_output), ()) if node.get("Node Type") in _JOINS
    ]
    # The tables the statement sifts at its joins (a link table's user, a title's pattern):
    # what production reads whole to sift them is named, not they.
    sifted: set[str] = set()
    ors_of: list[tuple[Mapping[str, Any], str]] = []
    for node in joins:
        for key in ("Filter", "Join Filter"):
            text = node.get(key)
            if not isinstance(text, str):
                continue
            for conjunct in top_level(text, "AND"):
                crossing = is_cross_table_or(conjunct) and not from_another_plan(conjunct)
                if key == "Filter" or crossing:
                    sifted.update(aliases_in(conjunct))
                if crossing:
                    ors_of.append((node, conjunct))
    extra: list[ScanFinding] = []
    for node, conjunct in ors_of:
        for scan, joined in _read_for_the_join(node):
            table = scan.get("Relation Name")
            alias = scan.get("Alias")
            if not isinstance(table, str) or not isinstance(alias, str) or alias in sifted:
                continue
            if table in named or (watched is not None and not watched(table)):
                continue
            named.add(table)
            extra.append(
                ScanFinding(
                    table=table,
                    node_type=str(scan.get("Node Type")),
                    rule=Rule.UNSERVABLE,
                    index_name=scan.get("Index Name") or _bitmap_index_name(scan),
                    filter=f"({conjunct})",
                    alias=alias,
                    unservable="or-across-tables",
                    disabled=is_disabled(scan),
                    parallel=bool(scan.get("Parallel Aware")),
                    joined=joined,
                )
            )
    return extra


def _read_for_the_join(join: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], bool]]:
    """The scans under a join node that its rows come from unrestricted: the one that drives
    it (its outermost scan) when no index condition on a value restricts that, and the scans
    reached from it by a join key alone (``True``: an index lookup per row of the other side).
    Nothing when some scan is restricted by a value: production may start there."""
    scans = [
        n
        for n, path in _walk(join, ())
        if isinstance(n.get("Relation Name"), str)
        and not any(step.relationship in ("SubPlan", "InitPlan") for step in path)
    ]
    found: list[tuple[Mapping[str, Any], bool]] = []
    for scan in scans:
        alias = str(scan.get("Alias"))
        condition = scan.get("Index Cond") or scan.get("Recheck Cond")
        conjuncts = top_level(condition, "AND") if isinstance(condition, str) else []
        values = [
            c for c in conjuncts if not _compares_with_another(c, alias) and not tests_null(c)
        ]
        if values:
            return []  # found by an index on a value: not a read of everything
        sifted = scan.get("Filter")
        if isinstance(sifted, str) and any(
            _EQUALITY.search(c) and not _compares_with_another(c, alias) and "SubPlan" not in c
            for c in top_level(sifted, "AND")
        ):
            # Kept to the rows of one value (``owner_id = 1``): an index there restricts the
            # join, and that scan's own finding says so.
            return []
        found.append((scan, any(_compares_with_another(c, alias) for c in conjuncts)))
    return found


# An equality on a value: ``col = 5``, ``col = ANY ('{...}')``, not ``<>``, ``<=``, ``>=``.
_EQUALITY = re.compile(r"(?<![<>!])=(?!=)")


def tests_null(conjunct: str) -> bool:
    """``col IS NULL`` / ``IS NOT NULL``: keeps a share production's data decides, most rows
    for a nullable foreign key."""
    return re.search(r"\bIS\s+(?:NOT\s+)?NULL\s*\)*$", conjunct.strip(), re.IGNORECASE) is not None


def _with_or_tables(
    explain_output: Any, findings: list[ScanFinding], watched: Callable[[str], bool] | None
) -> list[ScanFinding]:
    """An OR across tables reads every table it names whole in production (no index serves
    either side), not only the one the forced plan happened to read whole: one finding each."""
    ors = [f for f in findings if f.unservable == "or-across-tables" and f.filter]
    if not ors:
        return findings
    relations = {
        str(node["Alias"]): node
        for node in walk_nodes(root_plan(explain_output))
        if isinstance(node.get("Relation Name"), str) and isinstance(node.get("Alias"), str)
    }
    named = {f.table for f in findings if f.rule is not None}
    extra = []
    for finding in ors:
        assert finding.filter is not None
        for alias in sorted(set(re.findall(r'(?<![\w."])"?([A-Za-z_][\w$]*)"?\.', finding.filter))):
            node = relations.get(alias)
            if node is None:
                continue
            table = str(node["Relation Name"])
            if table in named or (watched is not None and not watched(table)):
                continue
            named.add(table)
            extra.append(_on_scan(finding, node, join_filter=None))
    return [f for f in findings if f.table not in {e.table for e in extra}] + extra


def _on_scan(finding: ScanFinding, scan: Mapping[str, Any], **changes: Any) -> ScanFinding:
    """``finding`` (an OR across tables) said of another scan the OR names or reaches."""
    return replace(
        finding,
        table=str(scan["Relation Name"]),
        node_type=str(scan.get("Node Type")),
        index_name=scan.get("Index Name") or _bitmap_index_name(scan),
        alias=str(scan["Alias"]),
        disabled=is_disabled(scan),
        parallel=bool(scan.get("Parallel Aware")),
        **changes,
    )


def _joined_range(
    node: Mapping[str, Any],
    path: tuple[_Step, ...],
    table: str,
    truth: Callable[[str, str], bool | None] | None,
    leading: Callable[[str], str | None] | None = None,
) -> ScanFinding | None:
    """An index scan on the inner side of a Nested Loop whose only index condition is the join
    key (``Index Cond: (queue_id = q.id)``) and that filters rows of its own, or feeds a sort
    under a LIMIT by its own first key (the ticket list's page): it reads every
    row of the outer side's keys, so when the outer side is not restricted to few rows
    (``select_related`` of a lookup table, ``IN (SELECT id FROM queue)``) it reads the table
    whole in production, and its Filter is what an index must serve. ``judge.settle`` keeps it
    only when the outer side has no selective condition of its own (``ScanFinding.driver``)."""
    alias = node.get("Alias")
    condition = node.get("Index Cond") or node.get("Recheck Cond")
    if not isinstance(alias, str) or not isinstance(condition, str):
        return None
    loop = _inner_of_nested_loop(path)  # first: most index scans are no loop's inner side
    if loop is None:
        return None
    conjuncts = top_level(condition, "AND")
    joins = [c for c in conjuncts if _compares_with_another(c, alias)]
    values = [c for c in conjuncts if c not in joins]
    if not joins or any(from_another_plan(c) for c in values):
        return None
    first = leading(str(node.get("Index Name") or _bitmap_index_name(node))) if leading else None
    if first is not None and (
        not any(mentions(c, first) for c in joins) or any(mentions(c, first) for c in values)
    ):
        return None  # the index's range starts from a value: a real restriction
    filter_text = node.get("Filter")
    # Only conditions on this table's own columns: one that compares with the other side's row
    # (an OR across the join, an exclude() across it) is the join's. A value compared on a later
    # column of the index (``owner_id = c.id AND created > x`` on (owner_id, created)) is one:
    # the index reads every row of every key the other side gives.
    own = [
        c
        for c in [*values, *top_level(filter_text or "", "AND")]
        if not set(aliases_in(c)) - {alias} and "SubPlan" not in c and "$" not in c
    ]
    if truth is not None:
        own = [c for c in own if truth(table, c) is not True]
    # Production may as well walk this table first, in the order of an index on the sort key.
    sort = _sort_under_limit(path, alias, sides=frozenset({"Outer", "Inner"}))
    if not own and sort is None:
        return None
    if values:  # the join key's part of the index condition
        condition = " AND ".join(f"({c})" for c in joins)
    query = _query_aliases(path, node)
    return ScanFinding(
        table=table,
        node_type=str(node.get("Node Type")),
        rule=Rule.FILTER if own else Rule.SORT_LIMIT,
        index_name=node.get("Index Name") or _bitmap_index_name(node),
        filter=" AND ".join(own) or None,
        join_filter=condition,
        sort_key=tuple(str(key) for key in sort.get("Sort Key", ())) if sort else (),
        alias=alias,
        driver=_driver(loop, "Outer", query) + _above(path, loop),
        joined=True,
        outer=_outer_tables(path, node, query),
    )


def _compares_with_another(conjunct: str, alias: str) -> bool:
    """A condition that compares a column with another table's column (a join key): it names
    another table's alias, and no parameter or sub-plan."""
    if from_another_plan(conjunct):
        return False
    return bool(set(aliases_in(conjunct)) - {alias})


def from_another_plan(condition: str) -> bool:
    """Whether a plan condition takes a value from another plan: an outer query's parameter
    (``$1``), a sub-plan or an InitPlan's result."""
    return "$" in condition or "SubPlan" in condition or "InitPlan" in condition


def _inner_of_nested_loop(path: tuple[_Step, ...]) -> Mapping[str, Any] | None:
    """The Nested Loop whose inner side this scan is (through Materialize or Memoize)."""
    for step in reversed(path):
        node_type = step.node.get("Node Type")
        if node_type == "Nested Loop":
            return step.node if step.relationship == "Inner" else None
        if node_type not in ("Materialize", "Memoize"):
            return None
    return None


_QUALIFIERS = re.compile(r'(?<![\w."$])"?([A-Za-z_][\w$]*)"?\.(?=["A-Za-z_])')


def aliases_in(text: str) -> list[str]:
    """The table aliases that qualify columns in a plan condition (string literals aside)."""
    return _QUALIFIERS.findall(_LITERAL.sub("''", text))


def _driver(
    loop: Mapping[str, Any], side: str, query: frozenset[str] | None = None
) -> tuple[tuple[str, str], ...]:
    """The conditions on values that the loop's ``side`` ("Outer" or "Inner") holds of its own
    tables: each (table, condition), the table "" for a join node's condition. Not a join
    condition, not one that names a table of the other side, no parameter of an outer plan.

    ``query``: the aliases of the sub-query the loop belongs to, when it is a correlated
    sub-plan's (``_query_aliases``). A column of the outer query's row is a value there: the
    sub-plan runs once per outer row (``COUNT(*) ... WHERE used_membership_id =
    membership.id``, a usage count beside each membership), so ``used_membership_id =
    membership.id`` finds one membership's rows, as ``used_membership_id = 5`` would."""
    child = next(
        (
            c
            for c in loop.get("Plans", ()) or ()
            if isinstance(c, Mapping) and c.get("Parent Relationship") == side
        ),
        None,
    )
    if child is None:
        return ()
    nodes = list(_without_subplans(child))
    aliases = {str(n["Alias"]) for n in nodes if isinstance(n.get("Alias"), str)}
    found: list[tuple[str, str]] = []
    for node in nodes:
        table = node.get("Relation Name")
        own = str(node["Alias"]) if isinstance(node.get("Alias"), str) else None
        # A Bitmap Heap Scan's index condition is its bitmap's (below it) and its Recheck Cond.
        bitmap = node.get("Node Type") == "Bitmap Heap Scan"
        keys = ("Filter",) if bitmap else ("Index Cond", "Filter")
        keys = (*keys, "Recheck Cond", "Join Filter")
        for key in keys:
            text = node.get(key)
            if not isinstance(text, str):
                continue
            for shown in top_level(text, "AND"):
                if from_another_plan(shown):
                    continue
                named = set(aliases_in(shown))
                conjunct = shown
                if query is not None and (outer := named - query):
                    conjunct = outer_values(shown, [(a, None) for a in outer])
                    named -= outer
                if not named <= aliases or _column_against_column(conjunct):
                    continue
                entry = (str(table) if isinstance(table, str) and named <= {own} else "", conjunct)
                if entry not in found:
                    found.append(entry)
    return tuple(found)


def _query_aliases(path: tuple[_Step, ...], node: Mapping[str, Any]) -> frozenset[str] | None:
    """The aliases of the sub-query ``node`` (reached by ``path``) belongs to: every alias under
    the nearest SubPlan above it. None outside any sub-plan: there is no outer row."""
    for number in range(len(path) - 1, -1, -1):
        if path[number].relationship == "SubPlan":
            root = path[number + 1].node if number + 1 < len(path) else node
            return frozenset(
                str(n["Alias"]) for n in walk_nodes(root) if isinstance(n.get("Alias"), str)
            )
    return None


def _outer_tables(
    path: tuple[_Step, ...], node: Mapping[str, Any], query: frozenset[str] | None
) -> tuple[tuple[str, str], ...]:
    """For a scan in a correlated sub-plan (``query``: its aliases, ``_query_aliases``), the
    outer query's aliases its conditions name, with their tables: (alias, table), in the order
    the plan shows them."""
    if query is None:
        return ()
    named: list[str] = []
    for key in ("Index Cond", "Recheck Cond", "Filter"):
        text = node.get(key)
        if isinstance(text, str):
            named.extend(a for a in aliases_in(text) if a not in query and a not in named)
    if not named:
        return ()
    root = path[0].node if path else node
    tables = {
        str(n["Alias"]): str(n["Relation Name"])
        for n in walk_nodes(root)
        if isinstance(n.get("Alias"), str) and isinstance(n.get("Relation Name"), str)
    }
    return tuple((alias, tables[alias]) for alias in named if alias in tables)


def outer_values(
    conjunct: str, outer: Iterable[tuple[str, str | None]], *, plannable: bool = True
) -> str:
    """``conjunct`` with the columns of the outer query's rows, ``(alias, table)``, written as
    values: with ``plannable``, a value the database can plan the conjunct with on its own,
    ``used_membership_id = (SELECT "id" FROM "membership" LIMIT 1)`` (a parameter, as in the
    sub-plan); else ``?``, as the guard writes values (``used_membership_id = ?``)."""
    for alias, table in outer:
        if plannable and table is not None:
            value = f"(SELECT \\1 FROM {quote_identifier(table)} LIMIT 1)"
        else:
            value = "?"
        conjunct = _outer_column(alias).sub(value, conjunct)
    return conjunct


@functools.lru_cache(maxsize=256)
def _outer_column(alias: str) -> re.Pattern[str]:
    return re.compile(rf'(?<![\w."$])"?{re.escape(alias)}"?\.("[^"]*"|[\w$]+)')


def _without_subplans(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """``node`` and the nodes below it, without what a SubPlan below them reads: a sub-query
    tested row by row (``(hashed SubPlan 1) OR (hashed SubPlan 2)``, the projects a user may
    see) restricts the rows it returns, not the side's, which is read whole to test each row.
    An InitPlan's conditions stay: it is evaluated once, and its value restricts the side."""
    yield node
    for child in node.get("Plans", ()) or ():
        if isinstance(child, Mapping) and child.get("Parent Relationship") != "SubPlan":
            yield from _without_subplans(child)


def _above(path: tuple[_Step, ...], loop: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The conditions on values of the other sides of the joins above ``loop`` that restrict
    the rows on its side (``_driver``): on a few rows the plan may join a table found by its
    unique code last, above a loop between two unrestricted ones, where production starts
    from it. Not the other side of a side a join keeps whole (an outer or anti join's), nor of a
    join with no condition between its sides: ``o.id = vo.offer_id AND vo.offer_id = 2`` becomes
    ``o.id = 2`` beside ``vo.offer_id = 2``, and the other side's condition restricts this side
    only through this side's own, which an index of its own must serve."""
    found: list[tuple[str, str]] = []
    for step in _above_loop(path, loop):
        if step.node.get("Node Type") not in _JOINS or step.relationship not in _SIDES:
            continue
        if step.relationship in _PRESERVED.get(str(step.node.get("Join Type")), ()):
            continue
        if not _joins_its_sides(step.node):
            continue
        for entry in _driver(step.node, _SIDES[step.relationship]):
            if entry not in found:
                found.append(entry)
    return tuple(found)


def _joins_its_sides(join: Mapping[str, Any]) -> bool:
    """Whether a join holds a condition between its sides: its own (a Join Filter, a Hash or
    Merge Cond), or a condition of its inner side on a column of its outer side (a Nested
    Loop's parameter: ``Index Cond: (voucher_id = v.id)``)."""
    if any(isinstance(join.get(key), str) for key in ("Join Filter", "Hash Cond", "Merge Cond")):
        return True
    sides = {
        child.get("Parent Relationship"): child
        for child in join.get("Plans", ()) or ()
        if isinstance(child, Mapping)
    }
    outer, inner = sides.get("Outer"), sides.get("Inner")
    if outer is None or inner is None:
        return True  # not a join of two sides this reader knows: as before
    aliases = {str(n["Alias"]) for n in walk_nodes(outer) if isinstance(n.get("Alias"), str)}
    return any(
        set(aliases_in(text)) & aliases
        for node in walk_nodes(inner)
        for key in ("Index Cond", "Filter", "Recheck Cond", "Join Filter")
        if isinstance(text := node.get(key), str)
    )


def _above_loop(path: tuple[_Step, ...], loop: Mapping[str, Any]) -> list[_Step]:
    """The steps of ``path`` above ``loop``, nearest first (none when it is not on the path)."""
    index = next((i for i, step in enumerate(path) if step.node is loop), None)
    return [] if index is None else list(reversed(path[:index]))


_SIDES = {"Outer": "Inner", "Inner": "Outer"}
# The sides of a join whose every row it keeps, whatever the other side holds.
_PRESERVED = {
    "Left": ("Outer",),
    "Right": ("Inner",),
    "Anti": ("Outer",),
    "Full": ("Outer", "Inner"),
}


def _column_against_column(conjunct: str) -> bool:
    """Whether every branch of the condition compares two columns (``id = u2.project_id``)
    rather than a column with a value."""
    for branch in top_level(conjunct, "OR"):
        text = re.sub(r"\b\w+\(\s*\)", "?", re.sub(r"::[\w ]+(?:\[\])?", "", branch))
        text = text.replace("(", " ").replace(")", " ")
        match = _TWO_COLUMNS.fullmatch(text.strip())
        if match is None or not (match.group(1) or match.group(2)):
            return False
    return True


_NAME = r'"?[A-Za-z_][\w$]*"?'
_TWO_COLUMNS = re.compile(
    rf"({_NAME}\.)?{_NAME}\s*(?:=|<>|!=|<=|>=|<|>)\s*({_NAME}\.)?{_NAME}", re.IGNORECASE
)


def _sorted_range(
    node: Mapping[str, Any], path: tuple[_Step, ...], table: str
) -> ScanFinding | None:
    condition = node.get("Index Cond") or node.get("Recheck Cond")
    sort = _sort_under_limit(path)
    if sort is None and _left_joined_below_the_sort(path):
        # LEFT JOINs keep every row of the range (select_related of nullable foreign keys
        # under order_by(...)[:n]): its rows are all sorted for the page.
        sort = _sort_under_limit(path, node.get("Alias"))
    if not isinstance(condition, str) or sort is None:
        return None
    return ScanFinding(
        table=table,
        node_type=str(node.get("Node Type")),
        rule=None,
        index_name=node.get("Index Name") or _bitmap_index_name(node),
        filter=node.get("Filter") or None,
        sort_key=tuple(str(key) for key in sort.get("Sort Key", ())),
        alias=node.get("Alias"),
        index_condition=condition,
        sorted_range=True,
    )


def _filtered_range(
    node: Mapping[str, Any], path: tuple[_Step, ...], table: str
) -> ScanFinding | None:
    """An index range on a value (no join key) whose rows a Filter of the table's own sifts:
    every row of the key is read to keep a few (``child_id = x AND start > y`` through an index
    on child_id alone). Whether that matters depends on how many rows the key has in production
    and, under a LIMIT (``limited``), on whether the Filter looks one row up (``judge.settle``)."""
    alias = node.get("Alias")
    condition = node.get("Index Cond") or node.get("Recheck Cond")
    text = node.get("Filter")
    if not isinstance(alias, str) or not isinstance(condition, str) or not isinstance(text, str):
        return None
    if from_another_plan(condition) or any(
        _compares_with_another(c, alias) for c in top_level(condition, "AND")
    ):
        return None
    limited = any(step.node.get("Node Type") == "Limit" for step in path)
    own = [
        c
        for c in top_level(text, "AND")
        if not set(aliases_in(c)) - {alias} and not from_another_plan(c)
    ]
    if not own:
        return None
    # On the outer side of a join that restricts its rows, production may start from the other
    # side instead and reach this table through an index on the join key (``judge.settle``).
    join_filter: str | None = None
    driver: tuple[tuple[str, str], ...] = ()
    loop, relationship = _restricting_nested_loop(path)
    if loop is not None and relationship == "Outer":
        join_filter = _join_condition(loop, alias)
        if join_filter is not None:
            driver = _driver(loop, "Inner", _query_aliases(path, node)) + _above(path, loop)
    return ScanFinding(
        table=table,
        node_type=str(node.get("Node Type")),
        rule=None,
        index_name=node.get("Index Name") or _bitmap_index_name(node),
        filter=" AND ".join(own),
        join_filter=join_filter,
        alias=alias,
        index_condition=condition,
        filtered_range=True,
        limited=limited,
        driver=driver,
    )


def _non_leading_condition(
    node: Mapping[str, Any], leading: Callable[[str], str | None]
) -> str | None:
    """The Index Cond of an index (or bitmap index) scan when it leaves the index's first column
    unconstrained: the scan walks the whole index (PostgreSQL 18 may skip-scan it, which still
    visits every distinct leading value)."""
    if node.get("Node Type") in _INDEX_SCANS:
        return _unled(node, leading)
    if node.get("Node Type") != "Bitmap Heap Scan":
        return None
    bitmap = next(iter(_bitmap_children(node)), None)
    if bitmap is None:
        return None
    found = _whole_bitmap(bitmap, leading)
    recheck = node.get("Recheck Cond")
    if found is not None and bitmap.get("Node Type") != "Bitmap Index Scan":
        # The whole condition the bitmap finds: both sides of an OR, each of which an index
        # must serve.
        return recheck if isinstance(recheck, str) else found
    return found


def _unled(scan: Mapping[str, Any], leading: Callable[[str], str | None]) -> str | None:
    """The Index Cond of one index scan that leaves its index's first column unconstrained."""
    condition = scan.get("Index Cond")
    name = scan.get("Index Name")
    if not isinstance(condition, str) or not isinstance(name, str):
        return None
    first = leading(name)
    return condition if first is not None and not mentions(condition, first) else None


def _whole_bitmap(node: Mapping[str, Any], leading: Callable[[str], str | None]) -> str | None:
    """A non-leading condition that makes a bitmap read its whole index: a Bitmap Index Scan's
    own; a BitmapOr's when any of its members reads a whole index (the OR keeps every row of
    that side: ``created_at < x OR created_at > y`` over an index on ``(status,
    created_at)``); a BitmapAnd's only when every member does (one restricted member
    restricts the rows, and at scale the planner drops the others)."""
    kind = node.get("Node Type")
    if kind == "Bitmap Index Scan":
        return _unled(node, leading)
    members = [_whole_bitmap(child, leading) for child in _bitmap_children(node)]
    if kind == "BitmapOr":
        return next((m for m in members if m is not None), None)
    if kind == "BitmapAnd" and members and all(m is not None for m in members):
        return members[0]
    return None


def _bitmap_children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The bitmap nodes under a Bitmap Heap Scan, BitmapOr or BitmapAnd: not its sub-plans
    (an InitPlan, a SubPlan), which read other tables."""
    return [
        child
        for child in node.get("Plans", ()) or ()
        if isinstance(child, Mapping)
        and child.get("Parent Relationship") in (None, "Outer", "Member")
        and child.get("Node Type") in ("Bitmap Index Scan", "BitmapOr", "BitmapAnd")
    ]


def mentions(text: str, column: str) -> bool:
    """Whether a plan condition refers to ``column`` (bare, qualified or quoted)."""
    return _mention(column).search(text) is not None


@functools.lru_cache(maxsize=1024)
def _mention(column: str) -> re.Pattern[str]:
    quoted = '"' + column.replace('"', '""') + '"'
    return re.compile(rf'(?<![\w$"])(?:{re.escape(quoted)}|{re.escape(column)}(?![\w$"]))')


def _walk(
    node: Mapping[str, Any], path: tuple[_Step, ...]
) -> Iterator[tuple[Mapping[str, Any], tuple[_Step, ...]]]:
    yield node, path
    step_path = path
    for child in node.get("Plans", ()) or ():
        if isinstance(child, Mapping):
            step = _Step(node=node, relationship=child.get("Parent Relationship"))
            yield from _walk(child, (*step_path, step))


def walk_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of a plan, root first."""
    for found, _ in _walk(node, ()):
        yield found


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
    """The index a Bitmap Heap Scan reads through (the first one of a BitmapAnd/Or). Only
    the bitmap under it counts: a scan's sub-plans (an InitPlan, a SubPlan) read other
    tables."""
    if node.get("Node Type") not in ("Bitmap Heap Scan", "BitmapAnd", "BitmapOr"):
        return None
    for child in _bitmap_children(node):
        if child.get("Index Name"):
            return str(child["Index Name"])
        found = _bitmap_index_name(child)
        if found is not None:
            return found
    return None


def is_disabled(node: Mapping[str, Any]) -> bool:
    """PostgreSQL 18 says so. Older versions add disable_cost (1e10) to the disabled node's cost,
    and to every node above it; only a Seq Scan leaf can be disabled in the guard's modes, and an
    InitPlan's inflated cost can land on an enabled index scan, so only a Seq Scan counts. A Seq
    Scan whose filter takes an InitPlan's value has that InitPlan under it, and is still a leaf:
    PostgreSQL 15 reads it disabled, with the InitPlan's cost added."""
    if "Disabled" in node:
        return bool(node["Disabled"])
    # An InitPlan or SubPlan under a scan is another plan, not a child it reads rows from.
    leaf = not any(
        isinstance(child, Mapping)
        and child.get("Parent Relationship") not in ("InitPlan", "SubPlan")
        for child in node.get("Plans", ()) or ()
    )
    return (
        leaf
        and node.get("Node Type") == "Seq Scan"
        and float(node.get("Startup Cost", 0.0)) >= _DISABLE_COST
    )


def _finding(
    node: Mapping[str, Any],
    path: tuple[_Step, ...],
    table: str,
    index_condition: str | None,
    truth: Callable[[str, str], bool | None] | None = None,
) -> ScanFinding:
    filter_text = node.get("Filter")
    if truth is not None:
        filter_text = _restricting(filter_text, table, truth)
        index_condition = _restricting(index_condition, table, truth)
    if index_condition is not None:
        filter_text = f"{index_condition} AND {filter_text}" if filter_text else index_condition
    rule: Rule | None = None
    join_filter: str | None = None
    sort_key: tuple[str, ...] = ()
    crowded = 0
    alias = node.get("Alias")
    if filter_text:
        rule = Rule.FILTER
    join, relationship = _restricting_nested_loop(path)
    driver: tuple[tuple[str, str], ...] = ()
    query = _query_aliases(path, node)
    if join is not None:
        join_filter = _join_condition(join, alias)
        if relationship == "Outer" and join_filter is None:
            join = None  # the loop restricts other tables' rows, not this one's
        else:
            side = "Inner" if relationship == "Outer" else "Outer"
            driver = _driver(join, side, query)
            driver += _above(path, join)
            crowded = _relations(join)
            if rule is None:
                rule = Rule.JOIN
    unservable = None
    across = _or_across_tables(path) if relationship == "Outer" or join is None else None
    if across is not None and rule in (None, Rule.JOIN):
        rule, unservable, filter_text = Rule.UNSERVABLE, "or-across-tables", across
    sort = _sort_under_limit(path, alias if isinstance(alias, str) else None)
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
        alias=alias,
        index_condition=index_condition,
        unservable=unservable,
        driver=driver,
        outer=_outer_tables(path, node, query),
        crowded=crowded if crowded > COLLAPSE_LIMIT else 0,
    )


# PostgreSQL's join_collapse_limit and from_collapse_limit, 8 unless a project changes them:
# past that many tables, the planner joins the query's parts in the order it writes them
# (a select_related of seven tables, then an IN sub-query's two) instead of searching every
# order, so it cannot start from a sub-query's few rows to reach the rest through an index.
COLLAPSE_LIMIT = 8


def _relations(join: Mapping[str, Any]) -> int:
    """The tables a join node's two sides read (its own query's, not a sub-plan's)."""
    return sum(
        1
        for node, path in _walk(join, ())
        if isinstance(node.get("Relation Name"), str)
        and not any(step.relationship in ("SubPlan", "InitPlan") for step in path)
    )


def _beside_an_or(found: ScanFinding, path: tuple[_Step, ...]) -> ScanFinding | None:
    """A read whose own condition only tests for NULL (``stop_date IS NULL``: the open runs)
    under a join an OR across tables restricts (a dashboard's runs a user manages, tests, or
    has an execution of): the share ``IS NULL`` keeps is production's data, so the OR is what
    restricts, and no index serves it. The finding names the OR and, beside it, the table's
    own condition (qualified), which ``judge.settle`` weighs with production's shape (the
    NULLs may be few there). None when the read is not such a one."""
    if found.rule is not Rule.FILTER or not _nulls_only(found.filter):
        return None
    join, relationship = _restricting_nested_loop(path)
    across = _or_across_tables(path) if relationship == "Outer" or join is None else None
    if across is None:
        return None
    own = " AND ".join(_qualified(c, found.alias) for c in top_level(str(found.filter), "AND"))
    return replace(
        found,
        rule=Rule.UNSERVABLE,
        unservable="or-across-tables",
        filter=f"{across} AND {own}",
        join_filter=None,
    )


def _null_range_beside_an_or(
    node: Mapping[str, Any],
    path: tuple[_Step, ...],
    table: str,
    truth: Callable[[str, str], bool | None] | None,
) -> ScanFinding | None:
    """The same read through an index range on ``IS [NOT] NULL`` alone (the stopped runs,
    through the index on stop_date), when the OR names the table: a driver the OR does not
    name is ``_join_ors``'s, with the tables reached from it by a join key alone."""
    condition = node.get("Index Cond") or node.get("Recheck Cond")
    if not isinstance(condition, str) or "NULL" not in condition or not _nulls_only(condition):
        return None  # (the test for NULL first: this runs for every index read of every plan)
    if node.get("Filter") is not None and not _nulls_only(node.get("Filter")):
        return None
    found = _beside_an_or(_finding(node, path, table, condition, truth), path)
    if found is None or found.alias not in aliases_in(top_level(str(found.filter), "AND")[0]):
        return None
    return found


def _reached_from(
    explain_output: Any, drivers: list[ScanFinding], watched: Callable[[str], bool] | None
) -> list[ScanFinding]:
    """The tables an OR across tables beside ``IS NULL`` names that the plan reaches from the
    read it restricts by a join key (each run's executions, through run_id): at scale the join
    meets them for every row of that share, and production hashes them whole. Not a table
    reached from another one (a link table hanging off a partner found by its key), which the
    OR sifts through (``_join_ors``)."""
    if not drivers:
        return []
    nodes = list(walk_nodes(root_plan(explain_output)))
    scans = [
        node
        for node in nodes
        if isinstance(node.get("Relation Name"), str) and isinstance(node.get("Alias"), str)
    ]
    # Join conditions a loop checks (a whole read of the other side under it, on a few rows).
    checked = [
        conjunct
        for node in nodes
        if node.get("Node Type") == "Nested Loop" and isinstance(node.get("Join Filter"), str)
        for conjunct in top_level(str(node["Join Filter"]), "AND")
    ]
    named = {f.table for f in drivers}
    found: list[ScanFinding] = []
    for driver in drivers:
        source = driver.alias or driver.table
        ors = top_level(str(driver.filter), "AND")[0]
        for scan in scans:
            table, alias = str(scan["Relation Name"]), str(scan["Alias"])
            if table in named or alias not in aliases_in(ors):
                continue
            if watched is not None and not watched(table):
                continue
            condition = scan.get("Index Cond") or scan.get("Recheck Cond")
            conjuncts = top_level(condition, "AND") if isinstance(condition, str) else []
            if any(not _compares_with_another(c, alias) for c in conjuncts):
                continue  # found by a value: restricted of its own
            # Looked up by the read's rows (its own columns unqualified), or matched to them
            # by a loop's Join Filter.
            if not any(source in aliases_in(c) for c in conjuncts) and not any(
                {source, alias} <= set(aliases_in(c)) for c in checked
            ):
                continue
            named.add(table)
            # A lookup by primary key is the other side's read (``joined``, as ``settle`` has
            # it).
            found.append(
                _on_scan(driver, scan, index_condition=None, joined=True, driver=(), outer=())
            )
    return found


def _nulls_only(condition: str | None) -> bool:
    """A scan's own condition that only tests columns for NULL: no restriction production's
    data does not decide (``tests_null``)."""
    return bool(condition) and all(tests_null(c) for c in top_level(str(condition), "AND"))


def _qualified(conjunct: str, alias: Any) -> str:
    """A scan's own conjunct (its columns unqualified in the plan) with its alias, to stand
    beside other tables' conditions: ``(stop_date IS NULL)`` -> ``(testrun.stop_date IS
    NULL)``."""
    text = conjunct.strip()
    if not isinstance(alias, str) or aliases_in(text):
        return text
    return re.sub(r"^(\(*)", lambda m: f"{m.group(1)}{alias}.", text, count=1)


def _restricting(
    condition: str | None, table: str, truth: Callable[[str, str], bool | None]
) -> str | None:
    """``condition`` without the conjuncts every row of ``table`` passes; None when none is
    left."""
    if not condition:
        return condition
    conjuncts = top_level(condition, "AND")
    kept = [c for c in conjuncts if truth(table, c) is not True]
    if len(kept) == len(conjuncts):
        return condition
    return " AND ".join(kept) or None


def _reads_no_row(
    node: Mapping[str, Any], table: str, truth: Callable[[str, str], bool | None]
) -> bool:
    """A conjunct of the scan's Filter or Index Cond that no row passes."""
    return any(
        truth(table, conjunct) is False
        for key in ("Filter", "Index Cond")
        if node.get(key)
        for conjunct in top_level(str(node[key]), "AND")
    )


def _restricting_nested_loop(
    path: tuple[_Step, ...],
) -> tuple[Mapping[str, Any] | None, str | None]:
    """The Nested Loop that makes this full scan avoidable with an index on the join key, and
    the side the scan is on.

    Inner side (looking through Materialize/Memoize): always, the scan repeats per outer row.
    Outer side (looking through pass-through nodes): when the loop restricts rows, by a Join
    Filter or a Filter on its inner side.
    """
    # Passed up through left joins that keep this side: only a loop this side drives can
    # restrict it then, and otherwise the first of them is the answer (the scan on its outer
    # side).
    left = False
    for position, step in enumerate(reversed(path)):
        node_type = step.node.get("Node Type")
        if node_type == "Nested Loop":
            if step.relationship == "Inner":
                return (None, "Outer") if left else (step.node, "Inner")
            # An anti join keeps the outer rows that have no match: it must look at every one
            # of them, whatever the indexes (NOT EXISTS over the whole table is its purpose);
            # a left join keeps every outer row, whatever its inner side's conditions.
            kept = _PRESERVED.get(str(step.node.get("Join Type")), ())
            if (
                step.relationship == "Outer"
                and "Outer" not in kept
                and (_loop_restricts(step.node) or _restricted_above(path, step.node))
            ):
                return step.node, "Outer"
            if step.relationship == "Outer" and step.node.get("Join Type") == "Left":
                # A left join passes every row of this side up, looked-up columns added (a
                # history row's user, status, category): a loop above may restrict them (the
                # semi join of an IN sub-query).
                left = True
                continue
            return None, "Outer" if left else step.relationship
        through = {"Materialize", "Memoize"} if position == 0 else set()
        if node_type not in _PASS_THROUGH and node_type not in through:
            break
    return (None, "Outer") if left else (None, None)


_JOINS = frozenset({"Nested Loop", "Hash Join", "Merge Join"})


def _or_across_tables(path: tuple[_Step, ...]) -> str | None:
    """A Filter or Join Filter of a join above this scan, reached through the outer sides of
    Nested Loops, that is an OR whose branches name different tables: no index serves it, so
    whichever table drives the join is read whole."""
    for step in reversed(path):
        node_type = step.node.get("Node Type")
        if node_type in _JOINS:
            for key in ("Join Filter", "Filter"):
                text = step.node.get(key)
                if not isinstance(text, str):
                    continue
                if is_cross_table_or(text):
                    return text
                # Beside the join key, on tables analysed while empty: ``(o.customer_id =
                # c.id) AND (c.email = x OR o.email = x)``.
                for conjunct in top_level(text, "AND"):
                    if is_cross_table_or(conjunct):
                        return conjunct
            if node_type != "Nested Loop" or step.relationship != "Outer":
                return None
            # The inner side's scans filter by an OR of their own columns (unqualified in the
            # plan) and this table's: ``c.email = x OR o.email = x`` checked per row of this
            # table, which the loop reads whole.
            for child in step.node.get("Plans", ()) or ():
                if not isinstance(child, Mapping) or child.get("Parent Relationship") != "Inner":
                    continue
                for node in walk_nodes(child):
                    text = node.get("Filter")
                    own = node.get("Alias")
                    if isinstance(text, str) and isinstance(own, str):
                        for conjunct in top_level(text, "AND"):
                            if is_cross_table_or(conjunct, own=own):
                                return conjunct
        elif node_type not in _PASS_THROUGH:
            return None
    return None


def is_subquery_or(conjunct: str) -> bool:
    """An OR of sub-queries tested row by row (``id IN (SELECT ...) OR organiser_id IN (SELECT
    ...)``: ``(hashed SubPlan 1) OR (hashed SubPlan 2)``): each side could use an index as a
    semi join, the OR of them cannot, and every row is read to test it."""
    return sum("SubPlan" in side for side in top_level(conjunct, "OR")) > 1


def is_cross_table_or(text: str, own: str | None = None, *, by_value: bool = True) -> bool:
    """An OR whose branches name columns of different tables. ``own``: the alias of the scan
    whose condition it is, the table of a branch that names none (a plan leaves a node's own
    columns unqualified). ``by_value``: only when some branch compares a column with a value
    (MySQL's reader, which keeps such an OR out of the join conditions it shows, asks
    without)."""
    branches = top_level(text, "OR")
    if len(branches) < 2:
        return False
    qualifiers = [
        set(re.findall(r'(?<![\w."])"?([A-Za-z_][\w$]*)"?\.', _LITERAL.sub("''", b)))
        for b in branches
    ]
    if own is not None:
        qualifiers = [names or {own} for names in qualifiers]
    if not all(qualifiers) or len(set().union(*qualifiers)) < 2:
        return False
    # Django's NULL-safe negation of a comparison across a join, ``exclude(user__last_login__gt=
    # F("deletion_notice_date"))``: ``(u.last_login <= p.deletion_notice_date) OR (u.last_login
    # IS NULL) OR (deletion_notice_date IS NULL)`` compares no column with a value, so it
    # restricts neither table, and splitting it would serve nothing.
    return not by_value or any(
        not tests_null(b) and not _column_against_column(b) for b in branches
    )


def top_level(text: str, operator: str) -> list[str]:
    """Split a plan condition at its top-level ``AND`` or ``OR`` (outer parentheses removed)."""
    text = text.strip()
    while text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    parts, depth, start, index = [], 0, 0, 0
    word = f" {operator} "
    while index < len(text):
        char = text[index]
        if char == "'":
            index = text.find("'", index + 1)
            if index < 0:
                break
            while index + 1 < len(text) and text[index + 1] == "'":
                index = text.find("'", index + 2)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(word, index):
            parts.append(text[start:index].strip())
            start = index + len(word)
            index = start
            continue
        index += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (quotes respected)."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "'":
            index = text.find("'", index + 1)
            if index < 0:
                return -1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _join_condition(loop: Mapping[str, Any], alias: Any) -> str | None:
    """The condition that joins the scanned table: the loop's Join Filter, or an Index Cond (or
    Filter) of another node under the loop that refers to the scan's alias."""
    if not isinstance(alias, str):
        return None
    join_filter = loop.get("Join Filter")
    if isinstance(join_filter, str) and f"{alias}." in join_filter:
        return join_filter
    for node, _ in _walk(loop, ()):
        for key in ("Index Cond", "Filter", "Recheck Cond"):
            text = node.get(key)
            if isinstance(text, str) and f"{alias}." in text:
                return text
    return None


def _loop_restricts(loop: Mapping[str, Any]) -> bool:
    """Whether the loop keeps fewer rows than its outer side gives: a Join Filter, a Filter on
    its inner side, or an inner index condition on a value beside the join key."""
    if loop.get("Join Filter"):
        return True
    for child in loop.get("Plans", ()) or ():
        if isinstance(child, Mapping) and child.get("Parent Relationship") == "Inner":
            return any(
                "Filter" in node or _values_in(node.get("Index Cond"))
                for node, _ in _walk(child, ())
            )
    return False


def _values_in(condition: Any) -> bool:
    """An index condition with a conjunct on a value (``id = ANY ('{1,2}')``), beside one on
    another table's column."""
    if not isinstance(condition, str):
        return False
    conjuncts = top_level(condition, "AND")
    return len(conjuncts) > 1 and any(
        not from_another_plan(c) and not _column_against_column(c) for c in conjuncts
    )


def _restricted_above(path: tuple[_Step, ...], loop: Mapping[str, Any]) -> bool:
    """Whether a Nested Loop above ``loop``, reached through outer sides and pass-through
    nodes, restricts the rows: on a few rows analysed, the plan may find the restricting table
    (customers by their ids) last, above the loop that joins this table."""
    for step in _above_loop(path, loop):
        node_type = step.node.get("Node Type")
        if node_type == "Nested Loop" and step.relationship == "Outer":
            if _loop_restricts(step.node):
                return True
        elif node_type not in _PASS_THROUGH:
            return False
    return False


def _left_joined_below_the_sort(path: tuple[_Step, ...]) -> bool:
    """Whether every join between the scan and the Sort above it is a LEFT JOIN, at least one."""
    joins = 0
    for step in reversed(path):
        node_type = step.node.get("Node Type")
        if node_type in _SORTS:
            return joins > 0
        if node_type in ("Nested Loop", "Hash Join", "Merge Join"):
            if step.node.get("Join Type") != "Left":
                return False
            joins += 1
    return False


def _sort_under_limit(
    path: tuple[_Step, ...], alias: str | None = None, sides: frozenset[str] = frozenset({"Outer"})
) -> Mapping[str, Any] | None:
    """The Sort this scan feeds when that Sort is under a Limit, with only pass-through nodes
    between them. With the scan's ``alias``, also through the joins above it when the first sort
    key is this table's (the outer side of Nested Loops, or ``sides``, and the probe side of
    Hash Joins): an index in that order lets production walk this table first, join each row
    and stop at the Limit (``select_related`` under ``order_by("-created_at")[:20]``)."""
    steps = list(reversed(path))
    index = 0
    through_join = False
    while index < len(steps):
        node_type = steps[index].node.get("Node Type")
        relationship = steps[index].relationship
        if alias is not None and (
            (node_type == "Nested Loop" and relationship in sides)
            or (node_type == "Hash Join" and relationship == "Outer")
            # DISTINCT over the join (PostgreSQL 18 hashes it): the groups are its rows.
            or (node_type == "Aggregate" and steps[index].node.get("Group Key"))
        ):
            through_join = True
        elif node_type not in _PASS_THROUGH:
            break
        index += 1
    if index == len(steps) or steps[index].node.get("Node Type") not in _SORTS:
        return None
    sort = steps[index].node
    keys = sort.get("Sort Key", ()) or ()
    if through_join and not (keys and set(aliases_in(str(keys[0]))) == {alias}):
        return None  # the order starts with another table's column
    index += 1
    while index < len(steps) and steps[index].node.get("Node Type") in _PASS_THROUGH:
        index += 1
    if index < len(steps) and steps[index].node.get("Node Type") == "Limit":
        return sort
    return None


def relations(explain_output: Any) -> set[str]:
    """Every table a plan reads, for index-use bookkeeping and cheap pre-checks."""
    return _names(explain_output, "Relation Name")


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
    return _names(explain_output, "Index Name")


def _names(explain_output: Any, key: str) -> set[str]:
    return {
        str(node[key])
        for node, _ in _walk(root_plan(explain_output), ())
        if isinstance(node.get(key), str)
    }
