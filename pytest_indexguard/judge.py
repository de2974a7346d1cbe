"""The judgement: which full scans of a forced plan would be full scans in production.

The standard is what PostgreSQL does with the same statement on production-sized tables with the
project's indexes. Forced planning on a few rows approximates it; this module corrects it where
it does not, with the database's own index catalog (``schema.Schema``) as evidence:

- a scan through a partial index reads only that index's rows (PostgreSQL uses a partial index
  only when the statement implies its predicate): not a full scan;
- when a valid index leads with a column the scan is restricted by (its join key, a column of its
  Filter, its first sort key), the full scan is the planner's choice on tiny tables, provided
  PostgreSQL can really use that index for the condition as written. That is asked of the
  database, not guessed from text: a *probe* plans the condition alone on the table (forced), and
  the index must show up with an Index Cond on that column (or give the order without a Sort).
  A cast or a collation that disables the index makes the probe fail, and the scan stays;
- a Filter none of whose conjuncts an index can serve as written (``<>``, ``NOT IN``, a leading
  wildcard, ``icontains``, an OR across tables) is a real full scan under its own rule,
  ``Rule.UNSERVABLE``: the fix is a rewrite, never an index that cannot help.

``probes`` says which questions to ask; the guard sends them in one round trip; ``settle`` reads
the answers. Both are pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.plan import (
    aliases_in,
    analyze,
    from_another_plan,
    is_cross_table_or,
    is_subquery_or,
    mentions,
    outer_values,
    root_plan,
    signature,
    tests_null,
    top_level,
    walk_nodes,
)
from pytest_indexguard.schema import ColumnShape, Schema, tested_not_null, tested_null
from pytest_indexguard.sqltext import quote_identifier
from pytest_indexguard.suggest import (
    expression_key,
    filter_columns,
    function_columns,
    join_columns,
)


@dataclass(frozen=True)
class Probe:
    """A statement whose forced plan shows whether an existing index serves ``column``."""

    finding: ScanFinding
    column: str
    # "join": an index on the join key, which spares the read only when the other side of the
    # join is restricted to few rows of its own (``driven``).
    # "or": an OR of conditions, each on a column that leads an index: served when the plan
    # combines those indexes (BitmapOr).
    kind: Literal["condition", "order", "join", "or"]
    sql: str
    # The Filter's conjunct a "condition" probe plans (as the plan shows it).
    conjunct: str = ""


def probes(findings: Sequence[ScanFinding], schema: Schema) -> list[Probe]:
    """The questions that decide whether each violation is the planner's choice."""
    found: list[Probe] = []
    for finding in findings:
        if not finding.is_violation or _partial(finding, schema):
            continue
        if finding.rule is Rule.UNSERVABLE:
            continue
        seen: set[tuple[str, str]] = set()
        for probe in _candidates(finding, schema):
            if (probe.column, probe.sql) not in seen:
                seen.add((probe.column, probe.sql))
                found.append(probe)
    return found


@dataclass(frozen=True)
class Production:
    """What is known of production's data without its rows: table sizes and column shapes
    (the stats file, or declared sizes and distinct counts), and how many rows sorted per call
    are too many."""

    rows: Mapping[str, int]
    columns: Mapping[str, Mapping[str, ColumnShape]]
    threshold: int

    def sorted_rows(self, finding: ScanFinding) -> tuple[int, int] | None:
        """Rows one call sorts, for a typical and for the busiest key of the index range's
        equality column; None when production's shape of that column is unknown."""
        if not finding.index_condition:
            return None
        return self.rows_read(finding.table, finding.index_condition)

    def rows_read(self, table: str, condition: str) -> tuple[int, int] | None:
        """Rows a range on ``condition``'s first equality column of known shape reads per
        call, for a typical and for the busiest key; with ``col = ANY ('{...}')``, every listed
        key's rows (every queue's tickets when the list holds every queue). None when the
        shape is unknown."""
        rows = self.rows.get(table)
        shapes = self.columns.get(table, {})
        if rows is None or not shapes:
            return None
        equality, _ = filter_columns(condition, list(shapes))
        column = next((c for c in equality if c in shapes), None)
        if column is None:
            return None
        typical, busiest = shapes[column].rows_per_key(rows)
        keys = _listed_keys(condition, column)
        return min(typical * keys, rows), min(busiest + typical * (keys - 1), rows)


def _listed_keys(condition: str, column: str) -> int:
    """How many values ``column = ANY ('{...}')`` lists in an index condition (1 otherwise)."""
    found = re.search(
        rf'(?<![\w]){re.escape(column)}"?\)?\s*=\s*ANY\s*\(\s*\'\{{([^}}]*)\}}\'', condition
    )
    if found is None or not found.group(1).strip():
        return 1
    return len(found.group(1).split(","))


def settle(
    findings: Sequence[ScanFinding],
    schema: Schema,
    plan: Any,
    answers: Mapping[Probe, Any | None],
    production: Production | None = None,
    *,
    unsorted: Any | None = None,
    few_values: Callable[[str, str], bool] | None = None,
    joined_by_index: Iterable[ScanFinding] = (),
    cursor: bool = False,
    every_key: Mapping[ScanFinding, str] | None = None,
) -> list[ScanFinding]:
    """The findings that stand, with unservable filters under their own rule. ``answers`` holds
    each probe's plan (None when the probe could not be planned: the scan then stays). An index
    range sorted under a Limit stands when production would sort at least ``threshold`` rows
    for its busiest key. ``joined_by_index``: reads restricted by a join whose key an index of
    theirs leads, known without a probe (a reader whose planner takes no probes). ``cursor``:
    the plan is a server-side cursor's (``QuerySet.iterator()``), which production plans to
    return its first rows fast (``_walked_for_a_cursor``). ``every_key``: index ranges on a list
    that names every row of the table their foreign key references (in the test database),
    with what it covers: read whole, whatever production's shape."""
    served = {
        probe.finding
        for probe, answer in answers.items()
        if probe.kind != "join"
        and answer is not None
        and _serves(probe, answer, schema)
        and not (probe.kind == "or" and _busy_sides(probe, production))
        and not _null_beside_selective(probe, few_values, production)
    }
    joins = {
        probe.finding
        for probe, answer in answers.items()
        if probe.kind == "join" and answer is not None and _serves(probe, answer, schema)
    } | set(joined_by_index)
    ordered = _ordered_by_an_index(unsorted, schema) if unsorted is not None else set()
    # Which side the tiny tables' plan drove a join from (statistics left by autovacuum or by
    # earlier tests) must not decide which table is named: a joined read with a selective
    # filter of its own is not spared by the other side's condition when that condition is
    # itself a filter no index serves (``driven``).
    unserved = frozenset(
        f.table
        for f in findings
        if f.rule in (Rule.FILTER, Rule.UNSERVABLE)
        and not (f.sorted_range or f.filtered_range)
        and _sifts_itself(f)
        and f not in served
        and not _partial(f, schema)
    )
    settled: list[ScanFinding] = []
    for finding in findings:
        if finding.sorted_range and finding.table in ordered:
            continue  # an index gives the key's rows in order: the sort is the tiny table's
        if (
            (finding.sorted_range or finding.filtered_range)
            and (production is None or production.sorted_rows(finding) is None)
            and null_range(finding, schema, few_values, production)
            and not _filter_indexed(finding, schema, production)
        ):
            if _join_key_indexed(finding, schema) and driven(
                finding, few_values, production, unserved
            ):
                continue  # production starts from the other side's few rows, then the index
            # The rows the index finds are a share of the table that is production's data;
            # the selective filter is what to serve.
            settled.append(
                replace(finding, rule=Rule.FILTER, sorted_range=False, filtered_range=False)
            )
            continue
        listed = (every_key or {}).get(finding)
        if finding.sorted_range:
            estimate = production.sorted_rows(finding) if production is not None else None
            threshold = production.threshold if production is not None else 0
            if estimate is not None and estimate[1] >= threshold:
                settled.append(replace(finding, rule=Rule.SORT_RANGE, sorted_rows=estimate))
            elif (
                estimate is None
                and listed is not None
                and not _walked_past_the_list(finding, unsorted, schema, few_values)
            ):
                settled.append(replace(finding, rule=Rule.SORT_RANGE, every_key=listed))
            continue
        if finding.filtered_range:
            estimate = production.sorted_rows(finding) if production is not None else None
            threshold = production.threshold if production is not None else 0
            many = estimate[1] >= threshold if estimate is not None else listed is not None
            if (
                many
                and finding.filter
                and unservable(finding.filter) is None
                and not _filter_indexed(finding, schema, production)
                and (not finding.limited or _looks_up(finding, few_values, production))
            ):
                settled.append(
                    replace(
                        finding,
                        rule=Rule.FILTER,
                        sorted_rows=estimate,
                        every_key=listed if estimate is None else None,
                    )
                )
            continue
        if not finding.is_violation:
            settled.append(finding)
            continue
        if _partial(finding, schema):
            continue  # what production reads is what the partial index holds
        if cursor and finding in served and _walked_for_a_cursor(finding, production):
            # The cursor walks the whole index and filters every row.
            settled.append(replace(finding, cursor_walk=True))
            continue
        if _partial(finding, schema) or finding in served:
            continue  # what production reads is what an index finds
        if _led_elsewhere(finding, schema):
            continue  # a tie on an empty table: production uses the index that leads with it
        if (
            finding.joined
            and _primary(finding, schema)
            and (not _sifts_itself(finding) or driven(finding, few_values, production, unserved))
        ):
            # One row per row of the other side: its read is its own finding, unless a
            # filter of this table's own could start the join instead (then only the other
            # side's few rows spare it).
            continue
        if finding in joins or finding.joined:
            if finding.crowded and finding.rule is Rule.JOIN:
                # More tables than join_collapse_limit: PostgreSQL joins the two sides as
                # written and reads this one whole, whatever the other side's few rows.
                settled.append(replace(finding, rule=Rule.UNSERVABLE, unservable="join-limit"))
                continue
            if driven(finding, few_values, production, unserved):
                continue  # production starts from the other side's few rows, then the index
            if finding.rule is Rule.JOIN and not finding.sort_key:
                continue  # restricted only by the join to a side that keeps most: no index helps
        if _null_share_found_by_an_index(finding, findings, schema, production):
            continue  # production finds that share through the index; what it reaches is read
        if finding.unservable == "or-across-tables" and (
            _restricted_elsewhere(plan, schema)
            or any(
                other.table != finding.table
                and other in served
                and _selective(other.table, other.filter or "", few_values, production)
                for other in findings
            )
            or any(
                other.unservable == "or-across-tables"
                and _filter_indexed(other, schema, production)
                for other in findings
            )
            or driven(finding, few_values, production, unserved)
        ):
            # The OR only sifts rows an index already found, or would find at scale (a
            # condition the few rows' plan filtered, which a probe showed an index serves, or
            # an ``IS NULL`` beside the OR that production's shape shows keeping few rows), or
            # rows reached from the other side's few (one plan's runs, on MySQL/MariaDB).
            continue
        if finding.rule is Rule.FILTER and _keeps_most(finding, schema, few_values, production):
            continue  # production reads it whole because it needs most of it
        filtered = finding.rule is Rule.FILTER and finding.filter
        kind = unservable(finding.filter) if filtered and finding.filter else None
        if finding.rule is Rule.SORT_LIMIT and "random()" in " ".join(finding.sort_key[:1]):
            kind = "random-order"
        if kind in _KEEPS_MOST_KINDS and finding.sort_key:
            # A filter that keeps most rows under ORDER BY ... LIMIT: an index in the sort's
            # order finds the first rows that pass it and stops; the sort is what to serve.
            settled.append(replace(finding, rule=Rule.SORT_LIMIT))
            continue
        if kind is not None:
            trigram = "pg_trgm" in schema.extensions
            settled.append(replace(finding, rule=Rule.UNSERVABLE, unservable=kind, trigram=trigram))
        else:
            settled.append(finding)
    return _on_parents(settled, schema)


def null_range(
    finding: ScanFinding,
    schema: Schema,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None = None,
) -> bool:
    """An index range whose only condition is ``IS NULL`` (the links no user has used yet,
    through the index of the nullable foreign key) beside a selective filter of the table's
    own that no index serves (``uuid = x``): like a flag, ``IS NULL`` keeps a share of the
    table that is production's data (15% of 300,000 invite links: 45,000 rows read for one,
    17 ms), and the filter is what an index must serve. Not through a partial index, which is
    built for the rows it holds (the queue of unprocessed rows: ``_partial``)."""
    if not finding.index_condition or not finding.filter:
        return False
    index = schema.index(finding.index_name)
    if index is None or index.partial:
        return False
    conditions = top_level(finding.index_condition, "AND")
    if not all(tested_null(c) is not None for c in conditions):
        return False
    return _selective_of_its_own(finding, few_values, production)


def _selective_of_its_own(
    finding: ScanFinding,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None,
    *,
    besides: str | None = None,
) -> bool:
    """Whether the finding's Filter holds a selective conjunct on its own table (other than
    ``besides``)."""
    alias = finding.alias or finding.table
    return any(
        conjunct != besides
        and _local(conjunct, alias)
        and _selective(finding.table, conjunct, few_values, production)
        for conjunct in top_level(finding.filter or "", "AND")
    )


def _null_beside_selective(
    probe: Probe,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None,
) -> bool:
    """A probe that found an index for ``IS NULL`` beside a selective conjunct of the same
    Filter: as in ``null_range``, the rows ``IS NULL`` finds are a share of the table that is
    production's data (most settings are for every event), and the selective conjunct is what
    an index must serve."""
    if probe.kind != "condition" or tested_null(probe.conjunct) is None:
        return False
    return _selective_of_its_own(probe.finding, few_values, production, besides=probe.conjunct)


def _null_share_found_by_an_index(
    finding: ScanFinding,
    findings: Sequence[ScanFinding],
    schema: Schema,
    production: Production | None,
) -> bool:
    """A read an OR across tables restricts beside ``IS [NOT] NULL`` (``plan._beside_an_or``:
    the open runs), when production's shape shows that test keeping less than half of the
    table, an index leads with the column, and the join reaches other tables from the read
    (the runs' executions): production finds the share through the index, and what it reads
    whole are the tables reached from it, one lookup per row of a share no index narrows (a
    fifth of 20,000 runs found by the stop_date index, 100,000 executions hashed). Without
    production's shape the share is unknown (a soft delete's ``deleted_at IS NULL`` keeps
    nearly every row), and the read is named too."""
    if finding.unservable != "or-across-tables" or finding.joined or production is None:
        return False
    alias = finding.alias or finding.table
    shares = []
    for conjunct in top_level(finding.filter or "", "AND"):
        if not _local(conjunct, alias) or not _columns(conjunct, finding.table, schema):
            continue
        column = tested_null(conjunct) or tested_not_null(conjunct)
        shape = production.columns.get(finding.table, {}).get(column or "")
        if shape is not None:
            shares.append(shape.null_frac if tested_null(conjunct) else 1 - shape.null_frac)
    if not shares or min(shares) >= 0.5:
        return False
    return any(
        other.joined and other.unservable == "or-across-tables" and other.filter == finding.filter
        for other in findings
    )


def _join_key_indexed(finding: ScanFinding, schema: Schema) -> bool:
    """Whether an index of the finding's table leads with a column of its join condition
    (``rc_setting.user_id = v0.id``): production can reach the table from the other side."""
    if not finding.join_filter:
        return False
    alias = finding.alias or finding.table
    return any(
        schema.leading(finding.table, column)
        for column in join_columns(finding.join_filter, alias, [])
    )


def _looks_up(
    finding: ScanFinding,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None,
) -> bool:
    """Whether a range under a LIMIT keeps few rows of its key, so that the LIMIT does not stop
    it early: its Filter holds a selective equality of the table's own (a submission found by
    its code within an event, ``.get()`` or ``.exists()``), which finds one row, or none, after
    reading every row of the key. A Filter that keeps many rows (a flag, a status) is met within
    the first rows."""
    alias = finding.alias or finding.table
    return any(
        _local(conjunct, alias)
        and (
            _selective(finding.table, conjunct, few_values, production)
            # ``code__iexact``: a column compared under upper()/lower() is an equality too.
            or any(
                few_values is None or not few_values(finding.table, _argument(column))
                for column in function_columns(conjunct, [])
            )
        )
        for conjunct in top_level(finding.filter or "", "AND")
    )


def _argument(key: str) -> str:
    """The column of an expression key (``upper(code)``: ``code``)."""
    expression = expression_key(key)
    return expression[1] if expression else key


def _walked_past_the_list(
    finding: ScanFinding,
    unsorted: Any | None,
    schema: Schema,
    few_values: Callable[[str, str], bool] | None,
) -> bool:
    """Whether a sorted range on a list of every key (``every_key``) is, at scale, a walk of an
    index in the sort's order that stops at the LIMIT: planned with sorts off, the statement
    reads the table through an index in order and filters nothing but the list and conditions
    that keep most rows (``<>``, ``IS NOT NULL``, a flag). The list keeps every row, so the
    first rows walked are the page (``queue_id IN (<every queue>) ORDER BY id DESC LIMIT 25``:
    0.06 ms at 500,000 tickets). A filter of its own that keeps few rows stands: the walk
    then reads until it finds them (159 ms for the oldest month, walked from the newest)."""
    if unsorted is None:
        return False
    listed = {_bare(c) for c in top_level(finding.index_condition or "", "AND")}
    unique = [i.leading for i in schema.on(finding.table) if i.unique and len(i.keys) == 1]
    for walk in analyze(unsorted, None, leading=schema.leading_of, sorted_ranges=True):
        if (
            walk.table != finding.table
            or walk.index_name is None
            or walk.index_condition
            or walk.sorted_range
            or walk.sort_key
        ):
            continue
        rest = [c for c in top_level(walk.filter or "", "AND") if _bare(c) not in listed]
        if all(
            _conjunct_kind(c) in _KEEPS_MOST_KINDS
            or _excludes_one(c, unique)
            or (few_values is not None and _few_valued(c, finding.table, few_values))
            for c in rest
        ):
            return True
    return False


def _bare(condition: str) -> str:
    """A condition without the parentheses around it."""
    text = condition.strip()
    while text.startswith("(") and text.endswith(")") and len(top_level(text, "AND")) == 1:
        inner = text[1:-1].strip()
        if inner.count("(") != inner.count(")"):
            break
        text = inner
    return text


def _walked_for_a_cursor(
    finding: ScanFinding,
    production: Production | None,
) -> bool:
    """A whole index walked in order with a Filter another index serves, in a server-side
    cursor's plan: PostgreSQL plans a cursor to return its first tenth fast
    (``cursor_tuple_fraction``), so at scale it walks the index of the ORDER BY and filters
    every row rather than sort what the filter's index finds, unless that index finds very few
    rows (measured on PostgreSQL 15 at 100,000 rows: 327 rows of a category walked the primary
    key, 274 rows of a date range and 9 of an endpoint were found by their index). Kept when
    every condition of the filter is a range (a window of dates: how wide is production's
    data, and a month of a year is walked), or when production's statistics show the busiest
    key of an equality over ``_CURSOR_SHARE`` of the table. Spared otherwise: an equality on a
    key (a parent's few children), a flag, a field of a few values or ``IS NULL``, whose
    share is either small (a soft-delete marker: found by its index) or most of the table
    (a read that keeps most: no index helps); measured on a forum's suite at scale."""
    if finding.joined or finding.index_condition or not finding.index_name or not finding.filter:
        return False
    if finding.node_type not in ("Index Scan", "Index Only Scan"):
        return False
    conjuncts = top_level(finding.filter, "AND")
    if all(_range_only(conjunct) for conjunct in conjuncts):
        return True
    if production is None:
        return False
    estimate = production.rows_read(finding.table, finding.filter)
    rows = production.rows.get(finding.table)
    return estimate is not None and rows is not None and estimate[1] >= _CURSOR_SHARE * rows


def _range_only(conjunct: str) -> bool:
    """A condition that compares columns by range only (``posted_at >= x``)."""
    if len(top_level(conjunct, "OR")) > 1 or unservable(conjunct) is not None:
        return False
    equality, ranges = filter_columns(conjunct, [])
    return bool(ranges) and not equality


# The share of a table above which a cursor's plan walks the index of its order rather than
# sort what a filter's index finds (0.33% walked, 0.27% did not, at 100,000 rows).
_CURSOR_SHARE = 0.003


def _keeps_most(
    finding: ScanFinding,
    schema: Schema,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None = None,
) -> bool:
    """A Filter that keeps most of the table, so that reading it whole is what production does
    too: an anti-join condition (``NOT (SubPlan)``: every row must be checked for a missing
    match), the exclusion of one value of a unique column (``exclude(pk=...)``), or, with no
    Limit to stop early, equality on columns of a few values only (a flag, a field with a
    handful of choices: ``filter(sex="girl")`` returns half the table) and ``IS NOT NULL`` on
    columns production's statistics show mostly set (``null_frac`` under a half)."""
    if not finding.filter:
        return False
    conjuncts = top_level(finding.filter, "AND")
    if all(_NEGATED_SUBPLAN.match(c.strip()) for c in conjuncts):
        return True
    unique = [i.leading for i in schema.on(finding.table) if i.unique and len(i.keys) == 1]
    if all(_excludes_one(c, unique) for c in conjuncts):
        return True
    if finding.sort_key:
        return False
    return all(
        (few_values is not None and _few_valued(c, finding.table, few_values))
        or _mostly_set(c, finding.table, production)
        for c in conjuncts
    )


# Filters that keep most of a table (a flag, a column set in most rows, all values but one).
_KEEPS_MOST_KINDS = frozenset({"low-cardinality", "not-null", "not-equal"})


def driven(
    finding: ScanFinding,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None,
    unserved: frozenset[str] = frozenset(),
) -> bool:
    """Whether the other side of the finding's join holds a selective condition of its own
    on a value (``ScanFinding.driver``, as the plan attributes conditions to tables): then
    production starts from that side's few rows and reaches this table through the index on the
    join key. Not when that side is unrestricted (``select_related`` of a lookup table,
    ``IN (SELECT id FROM queue)``), restricted only through this table (an OR across the two,
    ``exclude()`` across the join, a join condition), or by a test that keeps most of it (a flag,
    a field of a few choices, ``<>``, ``IS [NOT] NULL``, a range, whose share is production's
    data). Nor, when this table has a selective filter of its own, when that condition is a
    filter no index serves (``unserved``: tables read for such a filter): either side may then
    be the one production reads whole, whichever the tiny tables' plan started from, so both
    are named, unless production's sizes (declared or from a stats file) show the other side
    smaller: production starts there."""
    alias = finding.alias or finding.table
    rival = any(
        (_local(conjunct, alias) and _selective(finding.table, conjunct, few_values, production))
        # An OR of sub-queries tested row by row (the projects a user may see) reads every row
        # to test it: as much a rival to be read whole as a selective filter no index serves.
        or (len(top_level(conjunct, "OR")) > 1 and "SubPlan" in conjunct)
        for conjunct in top_level(finding.filter or "", "AND")
    )
    for table, condition in finding.driver:
        if not _selective(table, condition, few_values, production):
            continue
        mine = production.rows.get(finding.table) if production else None
        theirs = production.rows.get(table) if production and table else None
        if table in unserved and rival and not (mine and theirs and theirs < mine):
            continue  # either may be read whole; with production's sizes, the smaller is
        if production and mine and theirs and mine / theirs >= production.threshold:
            continue  # one row of a small table still leads to many of this one
        return True
    return False


def _selective(
    table: str,
    condition: str,
    few_values: Callable[[str, str], bool] | None,
    production: Production | None,
) -> bool:
    branches = top_level(condition, "OR")
    if len(branches) > 1:
        return all(_selective(table, branch, few_values, production) for branch in branches)
    if _conjunct_kind(condition) is not None or re.search(r"\bIS NULL\b", condition, re.I):
        return False
    if "SubPlan" in condition:
        # ``(hashed SubPlan 1)``: an IN (sub-query) tested row by row, which PostgreSQL can
        # neither estimate nor drive a join from (the events a user may see, ORed with those
        # of their teams: at scale every submission is read to join them). Not a column.
        return False
    equality, _ = filter_columns(condition, [])
    equality = [column for column in equality if not re.fullmatch(r"\d+", column)]
    if not equality:
        return False
    for column in equality:
        if table and few_values is not None and few_values(table, column):
            return False
        shape = production.columns.get(table, {}).get(column) if production and table else None
        rows = production.rows.get(table) if production and table else None
        if shape is not None and rows and shape.distinct(rows) < _FEW_DISTINCT:
            return False
    return True


# Fewer distinct values than this in production: equality on the column keeps a large share.
_FEW_DISTINCT = 20


def _mostly_set(conjunct: str, table: str, production: Production | None) -> bool:
    """``column IS NOT NULL`` on a column that production's statistics show set in most rows."""
    column = tested_not_null(conjunct)
    if column is None or production is None:
        return False
    shape = production.columns.get(table, {}).get(column)
    return shape is not None and shape.null_frac < 0.5


def _few_valued(conjunct: str, table: str, few_values: Callable[[str, str], bool]) -> bool:
    """A conjunct that only compares columns of a few values with equality."""
    if re.search(r"\w\(", conjunct) or len(top_level(conjunct, "OR")) > 1:
        return False  # a function of a column (upper(email) = ...) may be selective
    equality, ranges = filter_columns(conjunct, [])
    return (
        bool(equality)
        and not ranges
        and unservable(conjunct) in (None, "low-cardinality")
        and all(few_values(table, column) for column in equality)
    )


_NEGATED_SUBPLAN = re.compile(r"^\(*NOT \(*(?:hashed )?SubPlan \d+\)*$|^\(*NOT \(*EXISTS")


def _excludes_one(conjunct: str, unique: Sequence[str | None]) -> bool:
    text = conjunct.strip()
    if not (re.search(r"<>|!=", text) or text.upper().lstrip("(").startswith("NOT ")):
        return False
    if "ALL" in text.upper() or "SubPlan" in text:
        return False
    return any(column and mentions(text, column) for column in unique)


def _on_parents(findings: Sequence[ScanFinding], schema: Schema) -> list[ScanFinding]:
    """A partitioned table's scans are one finding, on the table the project declared (and
    indexes): the plan names each partition it reads."""
    found: list[ScanFinding] = []
    seen: set[tuple[object, ...]] = set()
    for finding in findings:
        parent = schema.parents.get(finding.table)
        if parent is not None:
            finding = replace(finding, table=parent, index_name=None)  # noqa: PLW2901
            key = signature(finding)
            if key in seen:
                continue
            seen.add(key)
        found.append(finding)
    return found


def _ordered_by_an_index(unsorted: Any, schema: Schema) -> set[str]:
    """Tables whose rows the statement, planned with sorts off, takes from an index range in
    order: no sort of a range and no full scan of the table is left."""
    findings = analyze(unsorted, None, leading=schema.leading_of, sorted_ranges=True)
    blamed = {f.table for f in findings if f.sorted_range or f.is_violation}
    return {
        str(node["Relation Name"])
        for node in walk_nodes(root_plan(unsorted))
        if isinstance(node.get("Relation Name"), str) and node["Relation Name"] not in blamed
    }


# -- which indexes to ask about --------------------------------------------------------------


def _primary(finding: ScanFinding, schema: Schema) -> bool:
    index = schema.index(finding.index_name)
    return index is not None and index.primary


def _partial(finding: ScanFinding, schema: Schema) -> bool:
    """A read through a partial index that reads only that index's rows: the statement implies
    its predicate and filters nothing beyond it. A Filter left over (``status = 'active' AND
    stock < 2`` through an index ``WHERE status = 'active'``) sifts every row the predicate
    keeps, which is most of the table unless the predicate picks out a few rows by a missing
    value (``WHERE processed IS NULL``: the queue of unprocessed rows)."""
    index = schema.index(finding.index_name)
    if index is None or not index.partial:
        return False
    if not finding.filter and not finding.join_filter:
        return True
    return bool(index.predicate) and all(
        re.search(r"\bIS NULL\)*$", conjunct.strip(), re.IGNORECASE)
        for conjunct in top_level(str(index.predicate), "AND")
    )


def _candidates(finding: ScanFinding, schema: Schema) -> list[Probe]:
    table = finding.table
    alias = finding.alias or table
    source = f"{quote_identifier(table)} AS {quote_identifier(alias)}"
    found = []
    if finding.filter and finding.index_condition is None:
        for shown in top_level(finding.filter, "AND"):
            # In a correlated sub-plan the outer row's columns are values (``finding.outer``).
            conjunct = outer_values(shown, finding.outer) if finding.outer else shown
            if not _local(conjunct, alias):
                continue
            if len(top_level(conjunct, "OR")) > 1:
                served = _or_columns(conjunct, table, schema)
                if served:
                    sql = f"SELECT 1 FROM {source} WHERE {conjunct}"
                    found.append(Probe(finding, ",".join(served), "or", sql))
                continue
            restricted = outer_values(shown, finding.outer, plannable=False)
            for column in _columns(restricted, table, schema):
                sql = f"SELECT 1 FROM {source} WHERE {conjunct}"
                found.append(Probe(finding, column, "condition", sql, shown))
    if (
        finding.join_filter
        and not finding.joined
        and len(top_level(finding.join_filter, "OR")) == 1
    ):
        for column in join_columns(finding.join_filter, alias, []):
            if not schema.leading(table, column):
                continue
            expression = _expression_of(finding.join_filter, alias, column)
            other = expression.replace(f"{alias}.", "indexguard_other.")
            found.append(
                Probe(
                    finding,
                    column,
                    "join",
                    f"SELECT 1 FROM {source} WHERE {expression} = "
                    f"(SELECT {other} FROM {quote_identifier(table)} AS indexguard_other LIMIT 1)",
                )
            )
    if finding.sort_key:
        key = finding.sort_key[0]
        sorted_on = _sort_column(key, alias)
        if sorted_on is not None and schema.leading(table, sorted_on):
            found.append(
                Probe(finding, sorted_on, "order", f"SELECT 1 FROM {source} ORDER BY {key} LIMIT 1")
            )
    return found


def _filter_indexed(
    finding: ScanFinding, schema: Schema, production: Production | None = None
) -> bool:
    """Whether an index leads with a column the Filter restricts: production may read it, or
    combine it with the range's index, rather than every row of the key. A column compared
    under ``upper()``/``lower()`` (``code__iexact``) counts only through an index on that
    expression: a plain index on ``code`` cannot serve ``upper(code) = ...``. Nor does an index
    on a column whose busiest value production's shape shows holding too many rows itself
    (the organizer beside the event of an order: one organizer's orders are as many), nor one
    that finds ``IS NULL`` unless production's shape shows the NULLs few (``_few_nulls``)."""
    alias = finding.alias or finding.table
    for conjunct in top_level(finding.filter or "", "AND"):
        if not _local(conjunct, alias) or _conjunct_kind(conjunct) is not None:
            continue
        if tested_null(conjunct) is not None and not _few_nulls(
            finding.table, conjunct, production
        ):
            continue  # the share IS NULL keeps is production's data, as in null_range
        unqualified = conjunct.replace(f"{alias}.", "")
        if any(
            schema.has_prefix(finding.table, [key]) for key in function_columns(unqualified, [])
        ):
            return True
        if _columns(_CASED.sub("(?)", conjunct), finding.table, schema) and not _busy(
            finding.table, conjunct, production
        ):
            return True
    return False


def _few_nulls(table: str, conjunct: str, production: Production | None) -> bool:
    """For ``column IS NULL``: whether production's shape shows fewer NULLs than the
    threshold, so that an index on the column finds them cheaply. Unknown, ``IS NULL`` keeps a
    share of the table that is production's data (``null_range``)."""
    column = tested_null(conjunct)
    if column is None or production is None:
        return False
    shape = production.columns.get(table, {}).get(column)
    rows = production.rows.get(table)
    return shape is not None and rows is not None and shape.null_frac * rows < production.threshold


def _busy(table: str, condition: str, production: Production | None) -> bool:
    """Whether production's shape shows the busiest key of ``condition``'s column holding at
    least the threshold's rows: an index range on it reads that many."""
    if production is None:
        return False
    estimate = production.rows_read(table, condition)
    return estimate is not None and estimate[1] >= production.threshold


# A column under upper() or lower(), as PostgreSQL shows iexact: upper((code)::text).
_CASED = re.compile(r"\b(?:upper|lower)\(\(?[\w$.\"]+\)?(?:::[\w ]+)?\)", re.IGNORECASE)


def _led_elsewhere(finding: ScanFinding, schema: Schema) -> bool:
    """A whole index read for a condition on one of its later columns, when another index
    leads with that column (``id = 1`` through an index on ``(category_id, id)`` beside the
    primary key): on a wide table never analysed, the two cost the same and the planner may
    take either; with rows, it always takes the one that leads with the column."""
    if finding.rule is not Rule.FILTER or not finding.index_condition or finding.sorted_range:
        return False
    for conjunct in top_level(finding.index_condition, "AND"):
        if _conjunct_kind(conjunct) is not None:
            continue
        for column in _columns(conjunct, finding.table, schema):
            if any(
                index.name != finding.index_name and not index.partial
                for index in schema.leading(finding.table, column)
            ):
                return True
    return False


def _busy_sides(probe: Probe, production: Production | None) -> bool:
    """Whether a side of the OR the indexes combine reads, in production, many rows of one key
    to keep a few (``category_id IN (x) AND pinned > 0`` where that category holds 90% of the
    threads): the BitmapOr reads them all, as a filtered range does (``settle``)."""
    if production is None:
        return False
    conjunct = probe.sql.split(" WHERE ", 1)[1]
    for side in top_level(conjunct, "OR"):
        if len(top_level(side, "AND")) < 2:
            continue  # the key alone: every row it finds is wanted
        read = production.rows_read(probe.finding.table, side)
        if read is not None and read[1] >= production.threshold:
            return True
    return False


def _or_columns(conjunct: str, table: str, schema: Schema) -> list[str]:
    """For an OR whose every side compares a column that leads an index in a way an index
    serves (``id IN (...) OR parent_id IN (...)``): one such column per side; else nothing."""
    columns = []
    for branch in top_level(conjunct, "OR"):
        if _conjunct_kind(branch) is not None:
            return []
        led = _columns(branch, table, schema)
        if not led:
            return []
        columns.append(led[0])
    return columns


# Index methods that serve a condition on any of their keys, not only the first: a Bloom
# index an equality on any column, a GIN index a tsvector's @@ or an array's containment.
ANY_KEY_METHODS = frozenset({"bloom", "gin"})


def _columns(conjunct: str, table: str, schema: Schema) -> list[str]:
    """Columns of ``table`` that lead one of its indexes, or are a key of an index that serves
    any of its keys (``ANY_KEY_METHODS``), and that ``conjunct`` restricts."""
    names = {
        name
        for index in schema.on(table)
        if (name := index.leading) and schema.leading(table, name)
    }
    names |= {
        column
        for index in schema.on(table)
        if index.method in ANY_KEY_METHODS and not index.partial
        for column in index.keys
        if column
    }
    return sorted(name for name in names if mentions(conjunct, name))


def _any_key(schema: Schema, table: str, column: str, name: str) -> bool:
    """Whether the index ``name`` of ``table`` serves any of its keys and has ``column`` among
    them."""
    return any(
        index.name == name
        and index.method in ANY_KEY_METHODS
        and not index.partial
        and column in index.keys
        for index in schema.on(table)
    )


def _local(conjunct: str, alias: str) -> bool:
    """Whether a Filter conjunct can be planned on its own table: no parameters of an outer
    plan, no sub-plans, no other table's columns."""
    if from_another_plan(conjunct):
        return False
    return set(aliases_in(conjunct)) <= {alias}  # string literals aside: 'a@example.org'


def filter_alone(finding: ScanFinding) -> str | None:
    """For a whole index walked for its order with a Filter of the table's own (``ORDER BY id
    LIMIT 1`` through the primary key, ``next_nag_date < x`` sifted row by row), that Filter as
    a statement of its own, or None. On a few rows the planner keeps the walk whatever index
    serves the Filter (it expects a match within the first rows); in production, with few rows
    matching, it reads the index that serves the Filter and sorts what it finds. Whether a
    candidate index serves the Filter is the question its verification can answer."""
    if (
        finding.rule is not Rule.FILTER
        or not finding.index_name
        or finding.index_condition
        or finding.join_filter
        or finding.sort_key
        or not finding.filter
    ):
        return None
    alias = finding.alias or finding.table
    local = [c for c in top_level(finding.filter, "AND") if _local(c, alias)]
    if not local:
        return None
    source = f"{quote_identifier(finding.table)} AS {quote_identifier(alias)}"
    return f"SELECT 1 FROM {source} WHERE " + " AND ".join(f"({c})" for c in local)


def _sifts_itself(finding: ScanFinding) -> bool:
    """Whether the finding's Filter tests the table's own columns (not only other tables'
    through the join, as an OR across tables checked at the lookup does)."""
    alias = finding.alias or finding.table
    return any(_local(conjunct, alias) for conjunct in top_level(finding.filter or "", "AND"))


def _expression_of(text: str, alias: str, column: str) -> str:
    """How the join condition uses the column: plain, or under a cast (which may disable an
    index, so the probe must carry it)."""
    cast = re.search(rf"\(({re.escape(alias)}\.{re.escape(column)})\)(::[\w ]+(?:\[\])?)", text)
    if cast:
        return f"({cast.group(1)}){cast.group(2).rstrip()}"
    return f"{alias}.{column}"


def _sort_column(key: str, alias: str) -> str | None:
    text = re.sub(r"\s+(ASC|DESC|NULLS FIRST|NULLS LAST)\b", "", key, flags=re.IGNORECASE)
    text = text.strip()
    if text.startswith(f"{alias}."):
        text = text[len(alias) + 1 :]
    text = text.strip('"')
    return text if re.fullmatch(r"[\w$]+", text) else None


def _serves(probe: Probe, answer: Any, schema: Schema) -> bool:
    """Whether the probe's plan reads the table through an index that leads with the column:
    with an Index Cond on it, or (for an order) without sorting."""
    nodes = list(walk_nodes(root_plan(answer)))
    if probe.kind == "or":
        return any(_combines(node, probe, schema) for node in nodes)
    if probe.kind == "order":
        if any(node.get("Node Type") in ("Sort", "Incremental Sort") for node in nodes):
            return False
        return any(
            _leads(schema, probe.finding.table, node.get("Index Name"), probe.column)
            for node in nodes
        )
    leading = schema.leading(probe.finding.table, probe.column)
    for node in nodes:
        condition = node.get("Index Cond")
        if not isinstance(condition, str) or not mentions(condition, probe.column):
            if leading and _filtered_through_an_index(node, probe, schema):
                return True  # a tie on an empty table, as below
            continue
        if _leads(schema, probe.finding.table, node.get("Index Name"), probe.column):
            return True
        name = node.get("Index Name")
        if isinstance(name, str) and _any_key(schema, probe.finding.table, probe.column, name):
            return True  # a Bloom or GIN index finds the rows by this key
        if leading:
            return True  # a tie on an empty table, as in _led_elsewhere: the leading one serves
    return False


def _filtered_through_an_index(node: Mapping[str, Any], probe: Probe, schema: Schema) -> bool:
    """A whole index of the table that holds the column as a later key, read for the column's
    condition in its Filter (``offer_id = ANY (...)`` through an index on ``(voucher_id,
    offer_id)``): on tables analysed empty, or a page of rows, that read costs what a range of
    the index leading with the column costs, and the planner may take either; with rows, that
    index. Not an index without the column (a primary key walked, every row filtered)."""
    index = schema.index(
        node.get("Index Name") if isinstance(node.get("Index Name"), str) else None
    )
    condition = node.get("Filter")
    return (
        index is not None
        and index in schema.on(probe.finding.table)
        and probe.column in index.keys[1:]
        and isinstance(condition, str)
        and mentions(condition, probe.column)
    )


def _combines(node: Mapping[str, Any], probe: Probe, schema: Schema) -> bool:
    """A BitmapOr whose every member reads an index of the table with a condition of its own:
    each side of the OR found by its index, none read whole."""
    if node.get("Node Type") != "BitmapOr":
        return False
    members = [m for m in node.get("Plans", ()) or () if isinstance(m, Mapping)]
    names = {index.name for index in schema.on(probe.finding.table)}
    return bool(members) and all(
        m.get("Node Type") == "Bitmap Index Scan"
        and isinstance(m.get("Index Cond"), str)
        and m.get("Index Name") in names
        and not _non_leading(m, schema)
        for m in members
    )


def _non_leading(scan: Mapping[str, Any], schema: Schema) -> bool:
    index = schema.index(scan.get("Index Name"))
    first = index.leading if index is not None else None
    return first is None or not mentions(str(scan.get("Index Cond")), first)


def _leads(schema: Schema, table: str, name: Any, column: str) -> bool:
    index = schema.index(name if isinstance(name, str) else None)
    return index is not None and index.leading == column and index in schema.on(table)


def _restricted_elsewhere(plan: Any, schema: Schema) -> bool:
    """Whether some scan of the statement's own join is restricted by an index condition on a
    value (not on another table's row): the rows an OR across tables sifts were found by an
    index. A sub-plan's scans (an InitPlan, a SubPlan) restrict their own query, not the join's
    rows."""
    pending = [root_plan(plan)]
    while pending:
        node = pending.pop()
        condition = node.get("Index Cond")
        if (
            isinstance(condition, str)
            and not _joins(condition)
            and not all(tests_null(c) for c in top_level(condition, "AND"))
        ):
            return True
        pending.extend(
            child
            for child in node.get("Plans", ()) or ()
            if isinstance(child, Mapping)
            and child.get("Parent Relationship") not in ("SubPlan", "InitPlan")
        )
    return False


def _joins(condition: str) -> bool:
    """A condition that compares to another table's column (a join), not to a value."""
    return bool(re.search(r"=\s*\(?\"?[A-Za-z_][\w$]*\"?\.", condition)) or "$" in condition


# -- which filters no index can serve --------------------------------------------------------

_COLUMN = r'\(*(?:"?[A-Za-z_][\w$]*"?\.)?"?[A-Za-z_][\w$]*"?\)*(?:::[\w ]+(?:\[\])?\)*)*'
_FUNCTION = r"[a-z_]+\(+" + _COLUMN + r"\)*(?:::[\w ]+\)*)*"
# A key or containment test of a JSON, hstore or array column (``has_keys``, ``contains``,
# ``overlap``): ``data ?& '{a,b}'::text[]``. A GIN index serves it, never a B-tree one.
_CONTAINMENT = re.compile(r"""(?<=[\w")\]])\s+(?:\?[|&]?|@>|<@|&&)\s+['(A-Za-z]""")
_SERVABLE = re.compile(
    rf"^\(*(?:{_FUNCTION}|{_COLUMN})\s*(?:=|<=|>=|<|>|=\s*ANY|IS NULL)\s*",
    re.IGNORECASE,
)
_PATTERN = re.compile(rf"^\(*(?:{_FUNCTION}|{_COLUMN})\s*(!?~~\*?|!?~\*?)\s*'(.*)'", re.IGNORECASE)


def unservable(expression: str) -> str | None:
    """The kind of predicate no index serves as written, when no conjunct of the Filter is one
    an index could serve; None when some conjunct is servable (a missing index). A conjunct
    that keeps few rows names the kind before one that keeps most (``state <> 'draft' AND
    upper(title) LIKE '%x%'``: the pattern is what reads the table whole, and what to fix)."""
    kinds = []
    for conjunct in top_level(expression, "AND"):
        kind = _conjunct_kind(conjunct)
        if kind is None:
            return None
        kinds.append(kind)
    return next((k for k in kinds if k not in _KEEPS_MOST_KINDS), kinds[0]) if kinds else None


def _conjunct_kind(conjunct: str) -> str | None:
    branches = top_level(conjunct, "OR")
    if len(branches) > 1:
        if is_cross_table_or(conjunct) or is_subquery_or(conjunct):
            # pk IN (subquery) OR pk IN (another): each side could use an index (a semi join),
            # the OR of them cannot.
            return "or-across-tables"
        kinds = [unservable(branch) for branch in branches]
        return next((k for k in kinds if k is not None), None)
    text = _bare(conjunct)
    pattern = _PATTERN.match(text)
    if pattern:
        operator, value = pattern.group(1), pattern.group(2)
        if operator.startswith("!"):
            return "not-equal"
        if operator.startswith("~~") and value[:1] in ("%", "_"):
            return (
                "contains"
                if operator == "~~*" or text.lower().startswith(("upper", "lower"))
                else "wildcard"
            )
        if operator.startswith("~~") and text.rstrip(")").endswith("::binary"):
            return "binary-like"  # MySQL's LIKE BINARY, see explain/mysql.py
        if operator.startswith("~~"):
            return None
        return "regex"
    if re.search(r"<>\s*ALL\b", text, re.IGNORECASE):
        return "not-in"
    negated = "<>" in text or "!=" in text or text.upper().startswith("NOT ")
    if negated and re.search(r"(?:<>|!=|=)\s*\(?\s*(?:SubPlan|subquery#)", text):
        return "compared-per-row"  # NOT (numchild = (SELECT COUNT(*) ...)): a repair pass
    if "<>" in text or "!=" in text:
        return "not-equal"
    if re.search(r"\bIS NOT NULL\s*\)*$", text, re.IGNORECASE):
        return "not-null"
    if _COMPUTED.search(text):
        return "expression"
    if _CONTAINMENT.search(text):
        return "containment"
    if _SERVABLE.match(text):
        return None
    if re.fullmatch(rf"(?:NOT\s+)?{_COLUMN}", text, re.IGNORECASE):
        return "low-cardinality"
    if text.upper().startswith("NOT "):
        return "not-equal" if "=" in text else "negation"
    return None  # an expression this module does not know: let the index rules speak


# A column compared through a computation that a plain index on it cannot serve.
_COMPUTED = re.compile(
    r"\bAT TIME ZONE\b|\b(?:date_trunc|date_part|extract|timezone)\(|\)::(?:date|timestamp)",
    re.IGNORECASE,
)
