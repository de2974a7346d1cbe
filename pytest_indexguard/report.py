"""Words for people: the failure message of a test and the session summary."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pytest_indexguard.config import Settings
from pytest_indexguard.explain import for_vendor
from pytest_indexguard.model import (
    DISTINCT_CAP,
    OTHER_DRIVER,
    Occurrence,
    Rule,
    ScanFinding,
    Status,
)
from pytest_indexguard.plan import aliases_in, is_subquery_or, top_level
from pytest_indexguard.results import Results
from pytest_indexguard.sqltext import cast_columns, mask_plan_expression, normalise, shorten
from pytest_indexguard.suggest import Suggestion, ordered_keys, side_columns
from pytest_indexguard.summary import Summary
from pytest_indexguard.words import count_of

# Which test runner the words are for: the remedies name its markers or decorators and options.
Runner = Literal["pytest", "django"]

# What each rule means, as the failure message says it.
RULES: dict[Rule, str] = {
    Rule.FILTER: "filters rows that no index serves",
    Rule.JOIN: "is read in full for every outer row of a nested loop: the join key has no index",
    Rule.SORT_LIMIT: "is read in full and sorted to return the first rows: no index has that order",
    Rule.UNSERVABLE: "is read in full for a predicate no index can serve as written",
    Rule.SORT_RANGE: "feeds a sort of every row its index finds, to return the first ones: "
    "no index has the condition and the order together",
}


# A range reached through the join key for every row of a join's other side, which no
# condition of its own restricts (``plan._joined_range``): its index serves the key, not the
# table's own conditions.
JOINED_FILTER = (
    "is read for every key of a join whose other side nothing restricts (every row in "
    "production) and filters rows that no index serves first"
)

# A whole index a cursor walks in order, filtering rows another index would find.
CURSOR_WALK = "is walked whole in order and filters every row: the cursor skips the filter's index"
CURSOR_FIX = (
    "an index on the filter's columns then the order serves the cursor; or iterate without "
    "order_by(), or ordered by the filtered column"
)
# Why a statement read through ``QuerySet.iterator()`` is judged by the cursor's plan.
CURSOR_NOTE = (
    "read through a server-side cursor (QuerySet.iterator()): judged by the plan PostgreSQL "
    "makes for a cursor, which favours returning the first rows fast"
)


def failure_message(
    occurrences: Sequence[Occurrence], *, verbose: int, runner: Runner = "pytest"
) -> str:
    groups = _group(occurrences)
    tables = sorted({o.finding.table for o in occurrences})
    count = len(groups)
    noun = "statement needs" if count == 1 else "statements need"
    what = "a full scan"
    if any(o.finding.rule is Rule.SORT_RANGE for o in occurrences):
        what = "a full scan or a sort of many rows"
    lines = [f"indexguard: {count} {noun} {what} of a watched table ({', '.join(tables)})"]
    # Each suggested index, by its code: the first block naming it, and its columns there.
    shown: dict[str, tuple[int, tuple[str, ...]]] = {}
    for number, members in enumerate(groups, start=1):
        lines.append("")
        lines.extend(_block(number, members, verbose=verbose, shown=shown))
    lines.append("")
    # Every table of the failure: the marker copied as offered must let the test pass.
    named = ", ".join(f'"{table}"' for table in tables) if tables else '"table"'
    indexed = any(
        o.suggestion is not None and o.suggestion.verified is not False
        for o in occurrences
        if o.finding.rule is not Rule.UNSERVABLE
    )
    if runner == "django":
        accept = (
            f'@indexguard_allow({named}, reason="...") on the test or its class '
            "(from pytest_indexguard.django)"
        )
    else:
        accept = (
            f'@pytest.mark.indexguard_allow({named}, reason="...") on the test, '
            f"`with indexguard.allow({named}):` around the code"
        )
    advised = any(o.finding.rule is Rule.UNSERVABLE or _casts(o) for o in occurrences)
    if indexed:
        fix = "Fix it with the index above"
    elif advised:
        fix = "Fix the statement as said above"
    else:
        fix = "Change the statement so that an index can serve it"
    lines.append(
        fix + f", or accept the scan: {accept}, or record it in a "
        "baseline (--indexguard-baseline=PATH --indexguard-update-baseline)."
    )
    undeclared = sorted({o.finding.table for o in occurrences if o.rows_source is None})
    if undeclared:
        if runner == "django":
            sizes = ", ".join(f'"{table}": N' for table in undeclared)
            where = f'settings: INDEXGUARD["table_rows"] = {{{sizes}}}, with INDEXGUARD["min_rows"]'
            below = 'INDEXGUARD["min_rows"]'
        else:
            sizes = " ".join(f"{table}=N" for table in undeclared)
            where = f"ini: indexguard_table_rows = {sizes}, with indexguard_min_rows"
            below = "indexguard_min_rows"
        lines.append(
            f"If {_either(undeclared)} stays small in production, declare its rows there "
            f"({where} above N): tables declared below {below} do not fail."
        )
    if verbose <= 0:
        lines.append(
            "Add -v to show the plans." if runner == "pytest" else "Add -v 2 to show the plans."
        )
    return "\n".join(lines)


def _either(tables: Sequence[str]) -> str:
    return tables[0] if len(tables) == 1 else ", ".join(tables[:-1]) + " or " + tables[-1]


def _group(occurrences: Iterable[Occurrence]) -> list[list[Occurrence]]:
    groups: dict[tuple[str, str, str, str], list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        finding = occurrence.finding
        key = (finding.table, occurrence.statement.alias, occurrence.statement.sql, repr(finding))
        groups[key].append(occurrence)
    return [groups[key] for key in sorted(groups)]


def _block(
    number: int,
    members: Sequence[Occurrence],
    *,
    verbose: int,
    shown: dict[str, tuple[int, tuple[str, ...]]] | None = None,
) -> list[str]:
    first = members[0]
    finding = first.finding
    statement = first.statement
    suggestion = first.suggestion
    assert finding.rule is not None
    if finding.cursor_walk:
        rule = CURSOR_WALK
    elif finding.joined and finding.rule is Rule.FILTER:
        rule = JOINED_FILTER
    else:
        rule = RULES[finding.rule]
    headline = f"[{number}] {finding.table}: {finding.scan_label} {rule}"
    if suggestion is not None and suggestion.verified is not False:
        headline += f"; no index on ({', '.join(suggestion.columns)})"
    lines = [headline]
    if finding.filter:
        lines.append(f"    filter:  {mask_plan_expression(finding.filter)}")
    if finding.join_filter:
        lines.append(f"    join:    {mask_plan_expression(finding.join_filter)}")
    if finding.index_condition and (finding.rule is Rule.SORT_RANGE or finding.filtered_range):
        condition = mask_plan_expression(finding.index_condition)
        lines.append(f"    range:   {finding.index_name or 'an index'} finds {condition}")
    if finding.every_key:
        lines.append(
            f"    keys:    the list names every row of {finding.every_key}: in production the "
            "range reads every row of the table"
        )
    if finding.sort_key:
        # Under a DISTINCT the sort lists the ORDER BY's keys, then every other selected column
        # (to find the duplicates): only the first are the order to serve.
        keys = ordered_keys(finding.sort_key, statement.sql) or finding.sort_key
        rest = len(finding.sort_key) - len(keys)
        also = f", then the DISTINCT's {count_of(rest, 'other column')}" if rest else ""
        lines.append(f"    order:   {', '.join(keys)}{also} (under a LIMIT)")
    if statement.cursor:
        lines.append(f"    cursor:  {CURSOR_NOTE}")
        if finding.cursor_walk:
            lines.append(f"             {CURSOR_FIX}")
    if finding.sorted_rows is not None:
        typical, busiest = finding.sorted_rows
        verb = "reads:  " if finding.filtered_range else "sorts:  "
        lines.append(
            f"    {verb} in production, {typical:,} rows per call for a typical key, "
            f"{busiest:,} for the busiest (production's column statistics)"
        )
    alias = "" if statement.alias == "default" else f" [database {statement.alias}]"
    _, sql = statement.identity(finding.table)  # normalised once per distinct statement
    lines.append(f"    sql:     {sql if verbose > 0 else shorten(sql)}{alias}")
    if statement.planned_sql is not None:
        lines.append(
            "    planned: on PostgreSQL (--indexguard-plan-on), the query compiled for it"
            + ("" if verbose > 0 else " (-v shows it)")
        )
        if verbose > 0:
            lines.append(f"    as:      {normalise(statement.planned_sql)}")
    elif statement.judged_here is not None:
        backend = for_vendor(statement.vendor)
        lines.append(
            f"    planned: judged on {backend.name if backend else statement.vendor}, the test "
            f"database, not on PostgreSQL: {statement.judged_here}"
        )
    sites: Counter[str] = Counter()
    for member in members:
        site = str(member.call_site) if member.call_site else "(no project frame)"
        if member.built_at is not None:
            site += f" (QuerySet built at {member.built_at})"
        sites[site] += member.executions
    for site, times in sorted(sites.items()):
        suffix = f" ({times} executions)" if times > 1 else ""
        lines.append(f"    at:      {site}{suffix}")
    expired = first.decision.expired
    if expired is not None and expired.until is not None:
        lines.append(
            f"    marker:  {expired.describe()} expired on {expired.until.isoformat()}: "
            "it no longer allows this scan"
        )
    if first.table_rows is not None:
        lines.append(f"    rows:    {first.table_rows:,} ({first.rows_source})")
    casts = _casts(first)
    if finding.rule is Rule.UNSERVABLE:
        lines.extend(rewrite_lines(finding, casts, vendor=statement.vendor))
    elif casts and (suggestion is None or suggestion.verified is False):
        lines.extend(_cast_lines(casts))
    elif shown is not None and suggestion is not None and _index_key(suggestion) in shown:
        # Two statements one index serves (ORDER BY created and ORDER BY created DESC): said
        # once, where it is first suggested.
        first_number, first_columns = shown[_index_key(suggestion)]
        either = (
            "" if first_columns == suggestion.columns else " (an index is read in either direction)"
        )
        lines.append(f"    index:   the index of [{first_number}] serves it too{either}")
    elif (suggestion is None or suggestion.verified is False) and (sides := or_sides(finding)):
        lines.append(_or_line(sides, suggestion))
    else:
        lines.extend(suggestion_lines(suggestion, what=_what(finding)))
        if shown is not None and suggestion is not None and _index_key(suggestion):
            shown.setdefault(_index_key(suggestion), (number, suggestion.columns))
    if finding.rule is not Rule.UNSERVABLE and "::binary" in (finding.filter or ""):
        # MySQL's LIKE BINARY next to a servable condition: the index above may not help.
        lines.append(f"    also:    {_REWRITES['binary-like']}")
    if verbose > 0:
        lines.append("    plan:")
        lines.extend("      " + line for line in statement.plan_lines)
    return lines


def _index_key(suggestion: Suggestion | None) -> str:
    """What makes two suggestions one index: the table and its columns, without their
    direction when they all have one (an index on created serves ORDER BY created DESC)."""
    if suggestion is None or suggestion.verified is False:
        return ""
    columns = suggestion.columns
    if len({c.startswith("-") for c in columns}) == 1:
        columns = tuple(c.lstrip("-") for c in columns)
    return f"{suggestion.table}\0{','.join(columns)}"


_SPLIT_THE_OR = (
    "an OR across tables: no index serves it; split the query at the OR (two queries, or "
    ".union() of two querysets)"
)


_REWRITES = {
    "or-across-tables": f"{_SPLIT_THE_OR} so that each side uses its own index",
    "not-equal": "<> matches most rows: filter on the values you want (field__in=[...]), or a "
    "partial index (models.Index(..., condition=~Q(field=value))) when the excluded value is "
    "most of the table",
    "not-in": "NOT IN matches most rows: filter on the values you want (field__in=[...]), or a "
    "partial index with the exclusion as its condition",
    "not-null": "IS NOT NULL matches most rows: a partial index "
    "(condition=Q(field__isnull=False)) on the column you look up or order by",
    "low-cardinality": "a true/false test alone matches a large share of the rows: a partial "
    "index (condition=Q(flag=...)) on the column you look up or order by",
    "negation": "a negated condition matches most rows: filter on what you want, or a partial "
    "index with the condition",
    "compared-per-row": "each row is compared with a sub-query's result: no index serves that; "
    "a repair or consistency pass reads the table whole by design (accept it with an allow "
    "marker), otherwise keep the compared value in a column and filter on that",
    "regex": "a regular expression: no B-tree index serves it",
    "containment": "a key or containment test of a JSON, hstore or array field (has_key, "
    "has_keys, contains, overlap: ?, ?&, ?|, @>, <@, &&): no B-tree index serves it; a GIN "
    'index does (django.contrib.postgres.indexes.GinIndex(fields=["field"], name="..."))',
    "wildcard": "a pattern with a leading wildcard: no B-tree index serves it",
    "contains": "a case-insensitive substring match (icontains): no B-tree index serves it",
    "binary-like": "LIKE BINARY (startswith, contains on MySQL/MariaDB): no index on a "
    "case-insensitive column serves it; istartswith uses the index, or a range on the prefix "
    "(field__gte=prefix, field__lt=the prefix with its last character incremented)",
    "expression": "the column is compared through a computation (a time zone, a cast to date, "
    "a date function): no index on the column serves it; compare the column itself with a "
    "value computed once (timestamp < the start of that day in that zone), or index that exact "
    "expression",
    "join-limit": "the query joins more tables than PostgreSQL's join_collapse_limit (8), so "
    "it joins them in the order written and cannot start from the other side's few rows: join "
    "fewer tables in this query (select_related fewer, prefetch_related the rest), evaluate the "
    "sub-query first (list(...) of its ids), or raise join_collapse_limit and "
    "from_collapse_limit for it",
    "random-order": "ORDER BY random() (order_by('?')) sorts every row: pick a random key "
    "range instead (a random id, then filter(id__gte=...).order_by('id')[:1])",
}


# What serves a substring, leading-wildcard or regular-expression match, by database: no
# B-tree index does on any of them.
_SEARCH_FIXES = {
    "sqlite": "SQLite has no index for a substring match: search a full-text table (FTS5, "
    "through a raw query), or filter on a column that holds the searched words or prefix",
    "mysql": "a FULLTEXT index (MATCH ... AGAINST, through a raw query or a custom lookup) "
    "for word searches; no MySQL/MariaDB index serves LIKE '%...%' or a regular expression",
}


def rewrite_lines(
    finding: ScanFinding, casts: Sequence[tuple[str, str]] = (), *, vendor: str = "postgresql"
) -> list[str]:
    """What helps a predicate no index serves as written: a rewrite, or the index type that
    can serve it (never a B-tree index that cannot), on the statement's own database. An OR
    whose sides compare a cast column needs more than the split: neither side can use the
    column's index."""
    kind = finding.unservable or ""
    if kind == "or-across-tables" and casts:
        return [f"    why:     {_SPLIT_THE_OR}", *_cast_lines(casts)]
    if kind == "or-across-tables" and any(
        is_subquery_or(conjunct) for conjunct in top_level(finding.filter or "", "AND")
    ):
        return [f"    why:     {_SUBQUERY_OR}"]
    lines = [f"    why:     {_REWRITES.get(kind, 'no index serves this predicate as written')}"]
    if kind in ("wildcard", "contains", "regex"):
        if vendor in _SEARCH_FIXES:
            lines.append(f"    fix:     {_SEARCH_FIXES[vendor]}")
        elif finding.trigram:
            lines.append(
                '    fix:     a trigram GIN index, e.g. GinIndex(OpClass(Upper("field"), '
                'name="gin_trgm_ops"), name="...") for icontains (pg_trgm is installed)'
            )
        else:
            lines.append(
                "    fix:     install pg_trgm (TrigramExtension() in a migration) and add a "
                "trigram GIN index (django.contrib.postgres), or use full-text search"
            )
    return lines


# ``id IN (SELECT ...) OR organiser_id IN (SELECT ...)`` on one table: each sub-query tested
# row by row (hashed SubPlans), every row read to test them.
_SUBQUERY_OR = (
    "an OR of sub-queries (IN (SELECT ...) OR IN (SELECT ...)): each row is tested against "
    "both, so the table is read whole; split the query at the OR (.union() of two querysets), "
    "or make it one IN over a single sub-query"
)


def _casts(occurrence: Occurrence) -> list[tuple[str, str]]:
    """The columns of the scanned table its statement compares through a cast."""
    finding = occurrence.finding
    return cast_columns(occurrence.statement.sql, {finding.table, finding.alias or finding.table})


def _cast_lines(casts: Sequence[tuple[str, str]]) -> list[str]:
    """A column compared through a cast (``CAST("t"."id" AS text) IN (SELECT ...)``, the
    shape of generic object permissions): no index on the column serves the comparison."""
    lines = []
    for column, kind in casts:
        lines.append(
            f"    cast:    the statement compares CAST({column} AS {kind}): no index on {column} "
            f"serves that; compare values of {column}'s own type (a foreign key instead of a "
            f"text object id), or index the expression, "
            f'models.Index(Cast("{column}", output_field=...), name="...")'
        )
    return lines


def or_sides(finding: ScanFinding) -> list[tuple[str, ...]]:
    """For a Filter that is one OR of the table's own columns (``remote_id = x OR origin_id =
    y``), the columns each side compares (``upper(email)`` for ``email__iexact``), when every
    side compares some; else nothing. No one index serves such an OR: one on each side's columns
    does, the database reading each side through its own and combining the rows."""
    if not finding.filter or finding.join_filter:
        return []
    conjuncts = top_level(finding.filter, "AND")
    if len(conjuncts) != 1:
        return []
    own = {finding.alias or finding.table, finding.table}
    sides: list[tuple[str, ...]] = []
    for side in top_level(conjuncts[0], "OR"):
        columns = tuple(side_columns(side, []))
        if not columns or not set(aliases_in(side)) <= own:
            return []  # a side with no column of its own, or another table's
        if columns not in sides:
            sides.append(columns)
    return sides if len(sides) > 1 else []


def _or_line(sides: Sequence[tuple[str, ...]], tried: Suggestion | None) -> str:
    each = ", ".join(f"({', '.join(columns)})" for columns in sides)
    planned = (
        f" (planned with ({', '.join(tried.columns)}), the full scan stays)"
        if tried is not None
        else ""
    )
    return (
        f"    index:   no one index serves an OR{planned}: an index on each side, {each}, lets "
        "the database read each side through its own and combine the rows (not verified); or "
        "split the query at the OR (.union() of two querysets)"
    )


def _what(finding: ScanFinding) -> str:
    return "the sort" if finding.rule is Rule.SORT_RANGE else "the full scan"


def suggestion_lines(suggestion: Suggestion | None, *, what: str = "the full scan") -> list[str]:
    if suggestion is None:
        return ["    index:   no simple B-tree index serves this predicate"]
    if suggestion.verified is False:
        return [
            "    index:   no simple index fixes it: planned with "
            f"({', '.join(suggestion.columns)}) {what} stays",
        ]
    if suggestion.verified:
        state = f"verified: {suggestion.note or f'planned with it, {what} is gone'}"
    else:
        state = suggestion.note or "not verified"
    lines = [
        f"    index:   {suggestion.describe()}",
        f"    migrate: {suggestion.migration_code()}",
    ]
    if lines[-1].startswith("    migrate: AddIndexConcurrently("):
        # CREATE INDEX CONCURRENTLY cannot run in a transaction: Django's migrations do.
        lines.append(
            "             (from django.contrib.postgres.operations import AddIndexConcurrently; "
            "the migration needs atomic = False)"
        )
    lines.append(f"             ({state})")
    return lines


def summary_lines(
    settings: Settings, summary: Summary, results: Results, *, runner: Runner = "pytest"
) -> list[str]:
    lines = [header_line(settings)]
    distinct = f"{len(summary.distinct):,}"
    if len(summary.distinct) >= DISTINCT_CAP:
        distinct += "+"
    # Each count says what it counts: executions, distinct statements judged, EXPLAINs run, and
    # the cache's entries, which hold the statements skipped too.
    lines.append(
        f"statements checked: {summary.checked:,} executions of {distinct} distinct statements "
        f"(EXPLAIN run {_count(summary.explained, 'time')}, in "
        f"{_count(summary.round_trips, 'round trip')})"
    )
    cache = (
        f"plan cache: {_count(summary.cached, 'distinct statement')} remembered, checked or "
        f"skipped (at most {settings.cache_size:,} per alias)"
    )
    if summary.evictions:
        cache += f", {summary.evictions:,} dropped as the oldest"
    if summary.invalidations:
        cache += f", cleared {summary.invalidations} times by schema changes"
    lines.append(cache)
    if summary.skipped_unwatched:
        verb = "names" if summary.skipped_unwatched == 1 else "name"
        lines.append(
            f"skipped: {_count(summary.skipped_unwatched, 'distinct statement')} that {verb} no "
            "watched table (never explained)"
        )
    lines.extend(_plan_on_lines(settings, summary))
    lines.extend(verdict_lines(settings, results, summary.test_rows, runner))
    if summary.informational:
        # Other statements than the violations: a table can have both.
        failing = set(results.table_counts())
        tables = [
            f"{table} (its other statements)" if table in failing else table
            for table in sorted(summary.informational)
        ]
        lines.append(
            "full scans no index can help, not failed (statements that read the whole table "
            "by design: unfiltered reads, aggregates, LIMIT-bounded): "
            + ", ".join(tables)
            + ("" if settings.verbose > 0 else " (-v lists their statements)")
        )
        if settings.verbose > 0:
            for table in sorted(summary.let_through):
                for sql in sorted({normalise(sql) for sql in summary.let_through[table]}):
                    lines.append(f"  {table}: {_short(sql, 160)}")
    if summary.unexplained:
        lines.append(f"not explained: {_count(len(summary.unexplained), 'distinct statement')}")
        for alias, sql, reason in sorted(summary.unexplained.values()):
            lines.append(f"  {reason}: {_short(normalise(sql))} [{alias}]")
    if summary.skipped_aborted:
        lines.append(
            f"skipped: {_count(summary.skipped_aborted, 'statement')} issued in an aborted "
            "transaction"
        )
    if settings.tables is not None and summary.watch_checks:
        for table in sorted(settings.tables - summary.watched_present):
            nearest = summary.nearest.get(table)
            hint = f"; did you mean {nearest}?" if nearest else ""
            lines.append(
                f"warning: watched table {table} exists in no checked database{hint} "
                "(its scans are never reported)"
            )
    for alias, vendor in sorted(summary.unsupported.items()):
        lines.append(
            f"not checked: database '{alias}' ({vendor}): indexguard checks "
            + (
                "PostgreSQL connections made through psycopg 3 or psycopg2"
                if vendor.startswith(OTHER_DRIVER)
                else "PostgreSQL, SQLite, MySQL and MariaDB"
            )
        )
    for error, times in sorted(summary.internal_errors.items()):
        lines.append(f"internal error ({times}x, tests unaffected): {error}")
    return lines


def _plan_on_lines(settings: Settings, summary: Summary) -> list[str]:
    """``--indexguard-plan-on``: how many statements PostgreSQL judged, on what schema, and
    how many their own database judged instead, and why."""
    if settings.plan_on is None:
        return []
    lines: list[str] = []
    if summary.planned_on or "schema" in summary.shadow:
        lines.append(
            f"planned on PostgreSQL (--indexguard-plan-on): "
            f"{_count(len(summary.planned_on), 'distinct statement')}, on a database with no "
            f"rows made from {summary.shadow.get('schema', 'the project')}"
        )
    if "failed" in summary.shadow:
        lines.append(f"no PostgreSQL to plan on (--indexguard-plan-on): {summary.shadow['failed']}")
    here = sum(len(digests) for digests in summary.judged_here.values())
    if not lines and not here and summary.explained:
        lines.append(
            "--indexguard-plan-on: every statement was judged on a PostgreSQL test database "
            "itself (the option plans on PostgreSQL only what another database runs)"
        )
    if here:
        lines.append(
            f"judged on the test database, not on PostgreSQL: {_count(here, 'distinct statement')}"
        )
        for reason, digests in sorted(summary.judged_here.items()):
            lines.append(f"  {len(digests):,}: {reason}")
    return lines


def verdict_lines(
    settings: Settings,
    results: Results,
    test_rows: Mapping[str, int] | None = None,
    runner: Runner = "pytest",
) -> list[str]:
    """What the run found, by table, and the baseline's and markers' hygiene: the part of the
    summary that ``merge`` prints for several jobs too."""
    lines: list[str] = []
    mismatch = results.planning_mismatch()
    if mismatch is not None:
        lines.append(mismatch)
    counts = results.table_counts()
    if counts:
        failing = len(results.failing_tests())
        outcome = (
            f"{count_of(failing, 'test')} with new ones, recorded in the baseline"
            if settings.update_baseline
            else count_of(failing, "failing test")
        )
        xfailed = len(results.xfailed_tests())
        if xfailed and not settings.update_baseline:
            outcome += (
                f"; {count_of(xfailed, 'test')} marked xfail with new ones, which pytest "
                "counts as xfailed"
                if runner == "pytest"
                else f"; {count_of(xfailed, 'expected failure')} (@expectedFailure) with new "
                "ones, which unittest counts apart"
            )
        lines.append(f"violations by table, distinct statements ({outcome}):")
        for table, table_counts in sorted(counts.items()):
            detail = ", ".join(
                f"{table_counts[k]} {k}" for k in (*Status.VIOLATIONS, "stale") if table_counts[k]
            )
            runs = table_counts["executions"]
            suffix = f" ({count_of(runs, 'execution')})" if runs else ""
            lines.append(f"  {table}: {detail}{suffix}")
    else:
        lines.append("violations: none")
    test_rows = test_rows or {}
    lines.extend(_small_lines(results))
    lines.extend(_declare_block(settings, results, test_rows, runner))
    exempt = results.exempt_counts()
    if exempt[Status.TEST_CODE]:
        lines.append(
            f"issued by test code: {_count(exempt[Status.TEST_CODE], 'distinct statement')} "
            "(not failed; --indexguard-check-test-code to check them)"
        )
    if exempt[Status.MIGRATE_TIME]:
        lines.append(
            f"at migrate time: {_count(exempt[Status.MIGRATE_TIME], 'distinct statement')} "
            "(never failed)"
        )
    for entry in results.stale():
        lines.append(
            f"stale baseline entry (nothing hits it any more): {entry.table}: "
            f"{_short(shorten(entry.sql))} [{entry.fingerprint}]"
        )
    unexercised = results.unexercised()
    if unexercised:
        lines.append(
            f"baseline entries kept as they are (not all of their tests ran): {len(unexercised)}"
        )
    for node, marker in results.unused:
        lines.append(f"unused marker (allowed nothing): {node}: {marker}")
    return lines


def _small_lines(results: Results) -> list[str]:
    """Which tables were presumed small, and why: their scans are shown, not failed."""
    reasons: dict[str, str] = {}
    for record in results.records:
        if record["status"] == Status.SMALL and record.get("small"):
            reasons.setdefault(record["table"], str(record["small"]))
    lines = []
    if reasons:
        lines.append(
            "small tables (their full scans do not fail; declare their sizes in "
            "indexguard_table_rows to judge them):"
        )
        lines.extend(f"  {table}: {reason}" for table, reason in sorted(reasons.items()))
    return lines


def _declare_block(
    settings: Settings, results: Results, test_rows: Mapping[str, int], runner: Runner
) -> list[str]:
    """Tables with new full scans whose size is not declared: the lines to paste (the ini
    file's, or Django's ``INDEXGUARD`` setting under its test runner), with the test database's
    rows to replace with production's."""
    rows = {
        record["table"]: test_rows.get(record["table"])
        for record in results.records
        if record["status"] == Status.NEW and record["table"] not in settings.table_rows
    }
    if not rows:
        return []
    django = runner == "django"
    threshold = settings.min_rows or 1000

    def note(count: int | None) -> str:
        # No count (or an estimate of 0 for a table never analysed) says nothing of the table.
        return f"  # {count_of(count, 'row')} in the test database" if count else ""

    lines = [
        f"{_count(len(rows), 'table')} with new full scans and no declared size. A table that "
        "stays small in production need not fail: declare production's rows "
        + (
            '(settings.INDEXGUARD), then those below "min_rows" pass:'
            if django
            else "(ini), then those below indexguard_min_rows pass:"
        ),
    ]
    if django:
        lines += [f'  "min_rows": {threshold},', '  "table_rows": {']
        lines += [f'      "{table}": N,{note(count)}' for table, count in sorted(rows.items())]
        lines.append("  },")
    else:
        lines += [f"  indexguard_min_rows = {threshold}", "  indexguard_table_rows ="]
        lines += [f"      {table}=N{note(count)}" for table, count in sorted(rows.items())]
    lines.append(
        "  (N: the table's rows in production; `python -m pytest_indexguard stats "
        "--database-url <replica> --output indexguard-stats.json` writes every table's, for "
        + ('"stats")' if django else "indexguard_stats)")
    )
    return lines


def header_line(settings: Settings) -> str:
    if settings.tables is None:
        tables = "every table"
    else:
        tables = f"{count_of(len(settings.tables), 'table')}: " + ", ".join(sorted(settings.tables))
    threshold = f", min-rows {settings.min_rows:,}" if settings.min_rows else ""
    test_code = ", test code checked" if settings.check_test_code else ""
    planned = ", planned on PostgreSQL (--indexguard-plan-on)" if settings.plan_on else ""
    line = f"indexguard: on, mode {settings.mode}, watching {tables}{threshold}{test_code}{planned}"
    if settings.min_rows and not settings.table_rows:
        line += (
            "\nindexguard: min-rows compares with the test database's own row estimates, which "
            "make every table small, so it exempts (nearly) every table: declare production "
            "sizes (ini indexguard_table_rows, or --indexguard-stats with a file from "
            "`python -m pytest_indexguard stats`)"
        )
    return line


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")
