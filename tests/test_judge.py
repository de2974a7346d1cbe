"""The judgement on stored plans, with no database: the index catalog, the forced plan and the
probes' plans of every accuracy statement, captured from PostgreSQL 15 and 18 by
``plans/capture_judge.py``. ``test_accuracy.py`` checks the same verdicts live."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plans.accuracy import EXPECTED, STATEMENTS
from plans.stored import catalog
from pytest_indexguard import judge
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.plan import analyze, is_cross_table_or, top_level
from pytest_indexguard.schema import ColumnShape, IndexInfo, Schema
from pytest_indexguard.suggest import ModelIndex, candidates

JUDGE_DIR = Path(__file__).parent / "plans" / "judge"
FILES = sorted(JUDGE_DIR.glob("pg*/*.json"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


_schema = catalog


def test_every_statement_is_stored_for_both_versions() -> None:
    assert {(p.parent.name, p.stem) for p in FILES} == {
        (major, name) for major in ("pg15", "pg18") for name in STATEMENTS
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_verdict_on_stored_plans(path: Path) -> None:
    data = _load(path)
    assert data["statement"] == STATEMENTS[path.stem], "stale file: rerun capture_judge"
    schema = _schema(data)
    findings = analyze(data["plan"], None, leading=schema.leading_of, joined_ranges=True)
    probes = judge.probes(findings, schema)
    # The probes are the ones the server answered (the file is not stale).
    assert [p.sql for p in probes] == [p["sql"] for p in data["probes"]]
    answers = {probe: stored["plan"] for probe, stored in zip(probes, data["probes"], strict=True)}
    settled = judge.settle(findings, schema, data["plan"], answers)
    verdict = {f.rule.value for f in settled if f.rule}
    expected = EXPECTED[path.stem]
    assert verdict == ({expected} if expected else set()), (verdict, findings)


def test_without_the_probes_answers_the_scans_stay() -> None:
    # A probe that could not be planned proves nothing: the violation is kept.
    data = _load(JUDGE_DIR / "pg15" / "join_order_member.json")
    schema = _schema(data)
    findings = analyze(data["plan"], None, leading=schema.leading_of, joined_ranges=True)
    probes = judge.probes(findings, schema)
    assert probes
    settled = judge.settle(findings, schema, data["plan"], dict.fromkeys(probes))
    assert [f.rule for f in settled if f.rule] == [Rule.JOIN]


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("((status)::text = 'x'::text)", None),
        ("((status)::text <> 'x'::text)", "not-equal"),
        ("(NOT ((status)::text = 'x'::text))", "not-equal"),
        ("(customer_id <> ALL ('{1,2}'::integer[]))", "not-in"),
        ("((name)::text ~~ '%amm%'::text)", "wildcard"),
        ("((name)::text ~~ 'amm%'::text)", None),
        ("(upper((name)::text) ~~ '%AMM%'::text)", "contains"),
        ("((name)::text ~~* '%amm%'::text)", "contains"),
        ("(upper((email)::text) = 'A'::text)", None),
        ("(NOT is_active)", "low-cardinality"),
        ("is_active", "low-cardinality"),
        ("(processed IS NOT NULL)", "not-null"),
        # treebeard's _fix_numchild: each row against a correlated count (PostgreSQL, MariaDB).
        ("(NOT (numchild = (SubPlan 1)))", "compared-per-row"),
        ("numchild <> (subquery#5)", "compared-per-row"),
        ("(NOT (ANY (id = (hashed SubPlan 1).col1)))", "not-equal"),
        ("((kind)::text <> 'x'::text) AND (created_at > now())", None),
        ("(((email)::text = 'a'::text) OR ((username)::text = 'b'::text))", None),
        ("((a.x = 1) OR (b.y = 2))", "or-across-tables"),
        ("((hashed SubPlan 1) OR (hashed SubPlan 2))", "or-across-tables"),
        ("((stock < 2) OR ((name)::text ~~ '%a%'::text))", "wildcard"),
        # Found by mutation testing: each kind by its exact name.
        ("((name)::text !~~ 'x%'::text)", "not-equal"),
        ("((name)::text ~~ '_mm%'::text)", "wildcard"),
        ("(lower((name)::text) ~~ '%amm%'::text)", "contains"),
        ("((name)::text ~~ 'a%'::binary)", "binary-like"),
        ("((name)::text ~ '^a'::text)", "regex"),
        ("((status)::text <> ALL ('{active,draft}'::text[]))", "not-in"),
        (
            "(date_trunc('day'::text, created_at) = "
            "'2024-01-01 00:00:00'::timestamp without time zone)",
            "expression",
        ),
        ("(NOT ((name)::text ~~ 'a%'::text))", "negation"),
        # hstore has_keys, JSON contains, array overlap: a GIN index serves them, no B-tree.
        ("(data ?& '{bio,website}'::text[])", "containment"),
        ("(meta @> '{\"a\": 1}'::jsonb)", "containment"),
        ("((tags)::text[] && '{x}'::text[])", "containment"),
        # A placeholder is no operator (SQLite's and MySQL's plan texts keep them).
        ("(city = ?)", None),
        # One sub-plan in an OR is no OR of sub-plans; equality with a sub-plan's row is servable.
        ("((hashed SubPlan 1) OR (owner_id = 1))", None),
        ("(id = (SubPlan 1))", None),
        ("", None),
    ],
)
def test_which_filters_no_index_serves(expression: str, kind: str | None) -> None:
    assert judge.unservable(expression) == kind


def test_conditions_split_at_the_top_level_only() -> None:
    assert top_level("((a = 'x AND y') AND (b OR c) AND (d))", "AND") == [
        "(a = 'x AND y')",
        "(b OR c)",
        "(d)",
    ]
    assert top_level("((t.a = 1) OR (u.b = 2))", "OR") == ["(t.a = 1)", "(u.b = 2)"]
    assert is_cross_table_or("((t.a = 1) OR (u.b = 2))")
    assert not is_cross_table_or("((t.a = 1) OR (t.b = 2))")


def test_the_schema_knows_prefixes_primary_keys_and_parents() -> None:
    schema = Schema.of(
        [
            IndexInfo("t", "t_pkey", ("id",), True, True, False, keys=("id",)),
            IndexInfo("t", "t_ab", ("a", "b DESC"), False, False, False, keys=("a", "b")),
            IndexInfo("t", "t_c", ("c",), False, False, True, keys=("c",), predicate="c > 0"),
            IndexInfo("t", "t_up", ("upper(e::text)",), False, False, False, keys=(None,)),
        ],
        parents={"t_2026": "t"},
    )
    assert schema.primary_key("t") == ("id",)
    assert schema.has_prefix("t", ["a"]) is not None
    assert schema.has_prefix("t", ["a", "-b"]) is not None
    assert schema.has_prefix("t", ["b"]) is None
    assert schema.has_prefix("t", ["c"]) is None  # partial: it does not serve every query
    assert [i.name for i in schema.leading("t_2026", "a")] == ["t_ab"]
    assert schema.leading_of("t_up") is None
    assert schema.parent("t_2026") == "t"


def _ordered_logs(major: int) -> Any:
    path = Path(__file__).parent / "plans" / f"pg{major}" / "fk_lookup_indexed_ordered.json"
    return _load(path)["plan"]


@pytest.mark.parametrize("major", [15, 18])
def test_a_sorted_index_range_is_judged_by_production_shape(major: int) -> None:
    plan = _ordered_logs(major)
    [found] = analyze(plan, None, sorted_ranges=True)
    assert found.sorted_range
    assert found.rule is None
    assert analyze(plan) == []  # not a full scan: only the shape can make it a violation
    table = "upstream_integrationlog"

    def production(n_distinct: float, frequency: float | None) -> judge.Production:
        shape = ColumnShape(n_distinct=n_distinct, max_frequency=frequency)
        return judge.Production(
            rows={table: 1_000_000}, columns={table: {"connection_id": shape}}, threshold=1_000
        )

    # 5,000 connections, the busiest with 7% of the logs: 70,000 rows sorted per call.
    [busy] = judge.settle([found], Schema(), plan, {}, production(5_000, 0.07))
    assert busy.rule is Rule.SORT_RANGE
    assert busy.sorted_rows == (200, 70_000)
    # 5,000 connections evenly: 200 rows per call, under the threshold.
    assert judge.settle([found], Schema(), plan, {}, production(5_000, None)) == []
    # Unknown shape: no verdict, nothing reported.
    assert judge.settle([found], Schema(), plan, {}, None) == []
    unknown = judge.Production(rows={}, columns={}, threshold=1_000)
    assert judge.settle([found], Schema(), plan, {}, unknown) == []


@pytest.mark.parametrize("major", [15, 18])
def test_a_list_of_every_key_is_no_restriction(major: int) -> None:
    """``queue_id IN (<every queue>)``: the index range on the list keeps every ticket when the
    list holds every queue of production (its distinct count, from a stats file or declared):
    the filter is what an index must serve. A list of a few of many queues restricts."""
    data = _load(JUDGE_DIR / f"pg{major}" / "every_queue_as_a_list.json")
    plan, schema = data["plan"], _schema(data)
    assert analyze(plan, None, leading=schema.leading_of, joined_ranges=True) == []
    [found] = analyze(plan, None, sorted_ranges=True)
    assert found.filtered_range
    assert found.table == "rc_ticket"
    table = "rc_ticket"

    def production(queues: int) -> judge.Production:
        shape = ColumnShape(n_distinct=queues)
        return judge.Production(
            rows={table: 500_000}, columns={table: {"queue_id": shape}}, threshold=1_000
        )

    # Ten queues, all ten listed: every ticket read per call.
    [every] = judge.settle([found], schema, plan, {}, production(10))
    assert (every.rule, every.sorted_rows) == (Rule.FILTER, (500_000, 500_000))
    assert candidates(every, ModelIndex())[0].columns[0] == "queue_id"
    # 100,000 queues, ten listed: 50 tickets a call.
    assert judge.settle([found], schema, plan, {}, production(100_000)) == []


@pytest.mark.parametrize("major", [15, 18])
def test_an_or_across_two_aliases_of_a_link_table_names_the_tables_read_whole(major: int) -> None:
    """A supplier's products: the OR across two aliases of the small link table is checked by
    the top join. Production reads the products and their stock records whole (the driver, and
    the table reached by a join key alone); the finding names them, not the link table it
    sifts through nor the partner found by its primary key. Restricted to one product by its
    key, nothing is read whole."""
    for name, tables in (
        ("supplier_products_or_across_link_aliases", {"rc_product", "rc_stock"}),
        ("supplier_product_by_id", set()),
    ):
        data = _load(JUDGE_DIR / f"pg{major}" / f"{name}.json")
        schema = _schema(data)
        findings = analyze(data["plan"], None, leading=schema.leading_of, joined_ranges=True)
        probes = judge.probes(findings, schema)
        answers = {p: s["plan"] for p, s in zip(probes, data["probes"], strict=True)}
        settled = judge.settle(findings, schema, data["plan"], answers)
        assert {f.table for f in settled} == tables, (name, settled)
        assert {f.unservable for f in settled} <= {"or-across-tables"}


@pytest.mark.parametrize("major", [15, 18])
def test_a_filtered_index_range_is_judged_by_production_shape(major: int) -> None:
    """One queue's tickets of the last day through the queue_id index alone: every ticket of
    the queue is read to keep a few. Not a full scan on any plan; a violation when production's
    queue holds many tickets (a baby tracker's feedings of one child, 100,000 read for 480)."""
    data = _load(JUDGE_DIR / f"pg{major}" / "filtered_range_of_a_key.json")
    plan, schema = data["plan"], _schema(data)
    assert analyze(plan, None, leading=schema.leading_of, joined_ranges=True) == []
    [found] = analyze(plan, None, sorted_ranges=True)
    assert (found.filtered_range, found.rule, found.table) == (True, None, "rc_ticket")
    table = "rc_ticket"

    def production(n_distinct: float, frequency: float | None = None) -> judge.Production:
        shape = ColumnShape(n_distinct=n_distinct, max_frequency=frequency)
        return judge.Production(
            rows={table: 500_000}, columns={table: {"queue_id": shape}}, threshold=1_000
        )

    # Ten queues: 50,000 tickets read per call to keep a day's.
    [busy] = judge.settle([found], schema, plan, {}, production(10))
    assert (busy.rule, busy.sorted_rows) == (Rule.FILTER, (50_000, 50_000))
    # The range's key then the filter's column: one index for both (verified on the database).
    assert candidates(busy, ModelIndex())[0].columns == ("queue_id", "created")
    # 5,000 queues: 100 tickets a call, under the threshold; unknown shape: no verdict.
    assert judge.settle([found], schema, plan, {}, production(5_000)) == []
    assert judge.settle([found], schema, plan, {}, None) == []
    # An index that leads with the filter's column: production may use it instead.
    created = IndexInfo(
        table=table,
        name="rc_ticket_created",
        columns=("created",),
        unique=False,
        primary=False,
        partial=False,
        keys=("created",),
    )
    indexed = Schema.of([*schema.indexes, created], extensions=())
    assert judge.settle([found], indexed, plan, {}, production(10)) == []


@pytest.mark.parametrize("major", [15, 18])
def test_is_not_null_on_a_nullable_column_is_judged_by_its_null_fraction(major: int) -> None:
    # filter(last_login__isnull=False), planned on a few rows (standard case
    # nullable_column_is_not_null): with no statistics an unservable IS NOT NULL; with
    # production's null_frac under a half the read keeps most rows, as it does at scale.
    path = Path(__file__).parent / "plans" / "standard" / f"pg{major}"
    plan = _load(path / "nullable_column_is_not_null.json")["plan"]
    [found] = analyze(plan)
    assert (found.table, found.rule) == ("auth_user", Rule.FILTER)

    def production(null_frac: float) -> judge.Production:
        shape = ColumnShape(n_distinct=-0.8, null_frac=null_frac)
        return judge.Production(
            rows={"auth_user": 100_000}, columns={"auth_user": {"last_login": shape}}, threshold=0
        )

    [unknown] = judge.settle([found], Schema(), plan, {}, None)
    assert (unknown.rule, unknown.unservable) == (Rule.UNSERVABLE, "not-null")
    assert judge.settle([found], Schema(), plan, {}, production(0.2)) == []
    [rarely_set] = judge.settle([found], Schema(), plan, {}, production(0.9))
    assert (rarely_set.rule, rarely_set.unservable) == (Rule.UNSERVABLE, "not-null")


def test_rows_per_key_from_pg_stats_numbers() -> None:
    # n_distinct < 0 is minus the fraction of rows; null_frac rows have no key.
    shape = ColumnShape(n_distinct=-0.001, null_frac=0.5, max_frequency=0.2)
    assert shape.distinct(1_000_000) == 1_000
    assert shape.rows_per_key(1_000_000) == (500, 200_000)
    assert ColumnShape(n_distinct=20).rows_per_key(400) == (20, 20)


def test_an_expression_index_that_exists_is_found_by_its_suggestion_key() -> None:
    schema = Schema.of(
        [IndexInfo("u", "u_up", ("upper(email::text)",), False, False, False, keys=(None,))]
    )
    assert schema.has_prefix("u", ["upper(email)"]) is not None
    assert schema.has_prefix("u", ["email"]) is None


@pytest.mark.parametrize(
    ("condition", "sort_key", "stands"),
    [
        # An anti join's condition: every row must be checked for a missing match.
        ("(NOT (hashed SubPlan 1))", (), False),
        # exclude(pk=...): one row fewer than the whole table.
        ("(id <> 5)", (), False),
        ("(NOT (id = 5))", (), False),
        # A field of a few values alone, no LIMIT: half the table comes back.
        ("((sex)::text = 'girl'::text)", (), False),
        ("(NOT hidden)", (), False),
        # ...but the first rows of it in an order are a real sort of the whole table.
        ("((sex)::text = 'girl'::text)", ("age_in_days",), True),
        # A column of many values, or an exclusion that keeps an unknown share: they stand.
        ("((city)::text = 'Oslo'::text)", (), True),
        ("((status)::text <> 'done'::text)", (), True),
        ("(hashed SubPlan 1)", (), True),
        # A flag next to a selective condition under a function: the condition decides.
        ("(is_active AND (upper((email)::text) = 'A'::text))", (), True),
    ],
)
def test_filters_that_keep_most_of_the_table(
    condition: str, sort_key: tuple[str, ...], stands: bool
) -> None:
    schema = Schema.of([IndexInfo("t", "t_pkey", ("id",), True, True, False, keys=("id",))])
    finding = ScanFinding("t", "Seq Scan", Rule.FILTER, filter=condition, sort_key=sort_key)
    settled = judge.settle(
        [finding],
        schema,
        {"Plan": {}},
        {},
        few_values=lambda t, c: c in ("sex", "hidden", "is_active"),
    )
    assert bool(settled) is stands


def test_an_or_the_indexes_combine_is_no_forgiveness_when_a_side_reads_a_busy_key() -> None:
    """The pinned threads of a category: each side of the OR starts with the category's index
    range, so the indexes combine; but when production's category holds most threads
    (a stats file's frequency), each side reads them all for a few pinned ones."""
    finding = ScanFinding(
        table="thread",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(((category_id = 3) AND (pinned > 0)) OR ((category_id = 3) AND (pinned = 2)))",
        alias="thread",
    )
    conjunct = finding.filter or ""
    probe = judge.Probe(
        finding, "category_id,category_id", "or", f"SELECT 1 FROM thread WHERE {conjunct}"
    )

    def production(frequency: float) -> judge.Production:
        shape = ColumnShape(n_distinct=50, max_frequency=frequency)
        return judge.Production(
            rows={"thread": 300_000}, columns={"thread": {"category_id": shape}}, threshold=1_000
        )

    assert judge._busy_sides(probe, production(0.9))  # 270,000 threads of one category
    assert not judge._busy_sides(probe, None)  # unknown shape: the indexes serve it
    small = judge.Production(
        rows={"thread": 300_000},
        columns={"thread": {"category_id": ColumnShape(n_distinct=100_000)}},
        threshold=1_000,
    )
    assert not judge._busy_sides(probe, small)  # three threads a category
    keys_alone = judge.Probe(
        finding,
        "id,parent_id",
        "or",
        "SELECT 1 FROM thread WHERE ((category_id = 3) OR (parent_id = 1))",
    )
    assert not judge._busy_sides(keys_alone, production(0.9))  # every row found is wanted


def test_a_plain_index_does_not_serve_a_column_compared_under_upper() -> None:
    # event.vouchers.get(code__iexact=c): the range on event_id reads every voucher of the
    # event (120,000 in a busy one) and filters upper(code). A plain index on code cannot serve
    # that filter, so the range stands with production's shape; an index on upper(code) does.
    voucher = "voucher"
    ranged = ScanFinding(
        table=voucher,
        node_type="Index Scan",
        rule=Rule.FILTER,
        index_name="voucher_event_id",
        index_condition="(event_id = 1)",
        filter="(upper((code)::text) = upper('ABC'::text))",
        filtered_range=True,
    )
    by_event = IndexInfo(
        voucher, "voucher_event_id", ("event_id",), False, False, False, ("event_id",)
    )
    plain = IndexInfo(voucher, "voucher_code", ("code",), False, False, False, ("code",))
    upper = IndexInfo(
        voucher, "voucher_upper_code", ("upper((code)::text)",), False, False, False, (None,)
    )
    production = judge.Production(
        rows={voucher: 300_000},
        columns={voucher: {"event_id": ColumnShape(n_distinct=3, max_frequency=0.4)}},
        threshold=1_000,
    )

    def settled(*indexes: IndexInfo, condition: str = ranged.filter or "") -> list[ScanFinding]:
        found = replace(ranged, filter=condition)
        return judge.settle([found], Schema.of([by_event, *indexes]), None, {}, production)

    [stands] = settled(plain)
    assert stands.rule is Rule.FILTER
    assert stands.sorted_rows == (100_000, 120_000)  # the busiest event's vouchers, read
    assert settled(upper) == []
    # Compared plainly, the index on code serves it: production combines the two.
    assert settled(plain, condition="((code)::text = 'ABC'::text)") == []
    # After a conjunct no index serves (an exclusion), the next is still asked.
    assert settled(plain, condition="((NOT (state = 4)) AND ((code)::text = 'ABC'::text))") == []
    # Qualified by the scan's alias, as a join's plan shows it.
    aliased = replace(ranged, alias="v", filter="(upper((v.code)::text) = upper('ABC'::text))")
    schema = Schema.of([by_event, upper])
    assert judge.settle([aliased], schema, None, {}, production) == []
    assert len(judge.settle([aliased], Schema.of([by_event, plain]), None, {}, production)) == 1


def _busy_range(
    table: str, key: str, other: str, condition: str, *, shapes: dict[str, ColumnShape], rows: int
) -> list[ScanFinding]:
    """A range on ``key = 1`` whose Filter holds ``condition`` on ``other`` and an e-mail
    compared under upper(), with an index on each of the two columns, settled with
    production's ``shapes`` for a table of ``rows`` rows."""
    ranged = ScanFinding(
        table=table,
        node_type="Index Scan",
        rule=None,
        index_name=f"{table}_{key}",
        index_condition=f"({key} = 1)",
        filter=f"(({condition}) AND (upper((email)::text) = upper('a@example.org'::text)))",
        filtered_range=True,
    )
    schema = Schema.of(
        [
            IndexInfo(table, f"{table}_{column}", (column,), False, False, False, (column,))
            for column in (key, other)
        ]
    )
    production = judge.Production(rows={table: rows}, columns={table: shapes}, threshold=1_000)
    return judge.settle([ranged], schema, None, {}, production)


def test_an_index_on_a_column_as_busy_as_the_range_does_not_serve_its_filter() -> None:
    # pretix's resend link: the orders of one event by upper(email), with the event's organizer
    # in the same filter. The range on event_id reads a busy event's 100,000 orders; the index
    # on organizer_id would read as many for a busy organizer, so it does not serve the filter
    # when production's shape says so. Unknown, or an organizer of a few orders, it does.
    def settled(organizer: ColumnShape | None) -> list[ScanFinding]:
        shapes = {"event_id": ColumnShape(n_distinct=3, max_frequency=0.4)}
        if organizer is not None:
            shapes["organizer_id"] = organizer
        return _busy_range(
            "shop_order",
            "event_id",
            "organizer_id",
            "organizer_id = 1",
            shapes=shapes,
            rows=300_000,
        )

    [stands] = settled(ColumnShape(n_distinct=2, max_frequency=0.5))
    assert (stands.rule, stands.sorted_rows) == (Rule.FILTER, (100_000, 120_000))
    assert settled(ColumnShape(n_distinct=50_000)) == []  # six orders an organizer
    assert settled(None) == []  # the organizer's shape unknown: its index may serve


def test_an_index_that_finds_is_null_does_not_serve_a_busy_ranges_filter() -> None:
    # pretix's waiting-list check: one item's entries (50,000 for a busy item) by upper(email),
    # for no subevent. The index on subevent_id finds subevent_id IS NULL, but that keeps a
    # share of the table (every entry of an event without dates); only when production's
    # shape shows the NULLs few does that index serve.
    def settled(null_frac: float | None) -> list[ScanFinding]:
        shapes = {"item_id": ColumnShape(n_distinct=10, max_frequency=0.5)}
        if null_frac is not None:
            shapes["subevent_id"] = ColumnShape(n_distinct=100, null_frac=null_frac)
        return _busy_range(
            "shop_entry",
            "item_id",
            "subevent_id",
            "subevent_id IS NULL",
            shapes=shapes,
            rows=100_000,
        )

    [stands] = settled(None)
    assert (stands.rule, stands.sorted_rows) == (Rule.FILTER, (10_000, 50_000))
    assert len(settled(0.9)) == 1  # 90,000 entries without a subevent
    assert settled(0.001) == []  # a hundred: the index finds them
