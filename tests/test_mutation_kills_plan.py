"""Paths of ``plan.py`` that no other fast test pinned, found by the tenth pass of mutation
testing (mutmut, see docs/contributing.md): plans of shapes the other captures lack, captured on
PostgreSQL 15 and 18 by ``capture_judge.py --shapes`` (``tests/plans/judge/shapes/``), read
with no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plans.capture_judge import SHAPES
from plans.stored import catalog
from pytest_indexguard.plan import analyze, is_disabled, walk_nodes
from pytest_indexguard.schema import Schema

PLANS = Path(__file__).parent / "plans"
MAJORS = (15, 18)


def _shape(name: str, major: int) -> tuple[dict[str, Any], Schema]:
    data: dict[str, Any] = json.loads(
        (PLANS / "judge" / "shapes" / f"pg{major}" / f"{name}.json").read_text(encoding="utf-8")
    )
    assert data["statement"] == SHAPES[name], "stale file: capture_judge.py --shapes"
    return data, catalog(data)


def test_every_shape_is_captured_on_both_servers() -> None:
    for major in MAJORS:
        stored = {p.stem for p in (PLANS / "judge" / "shapes" / f"pg{major}").glob("*.json")}
        assert stored == set(SHAPES)


# (table, node type, rule, index, filter, join filter, sort key, alias, unservable, driver,
# joined, sorted range, filtered range, index condition) of every finding, with joined and
# sorted ranges listed and the catalog's leading columns.
SHAPE_FIELDS = [
    (
        "anti_join_restricted_inside",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Only Scan",
                None,
                "sh_owner_pkey",
                None,
                None,
                (),
                "o",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Index Scan",
                "FILTER",
                "sh_item_owner_kind",
                "price > 5",
                "(owner_id = o.id)",
                (),
                "i",
                None,
                (),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "full_read_beside_an_initplan",
        (15,),
        [
            (
                "sh_log",
                "Seq Scan",
                "FILTER",
                None,
                "(upper((note)::text) = $0)",
                None,
                (),
                "l",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    (
        "full_read_beside_an_initplan",
        (18,),
        [
            (
                "sh_log",
                "Seq Scan",
                "FILTER",
                None,
                "(upper((note)::text) = (InitPlan 1).col1)",
                None,
                (),
                "l",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    (
        "join_in_the_filter_of_a_bitmap",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "(price > o.kind)",
                (),
                "o",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    (
        "literal_holding_and_or",
        (15, 18),
        [
            (
                "ShBox",
                "Seq Scan",
                "FILTER",
                None,
                "(((\"Label\")::text = 'a AND (b'' OR c)'::text) OR (\"Size\" = 3))",
                None,
                (),
                "ShBox",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    ("partial_index_of_two_conjuncts", (15, 18), []),
    (
        "quoted_names_or_across_tables",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                "(((\"Label\")::text = 'x'::text) OR ((sh_owner.name)::text = 'y'::text))",
                '("OwnerId" = sh_owner.id)',
                (),
                "sh_owner",
                "or-across-tables",
                (("ShBox", '("Size" = 3)'),),
                False,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '("Size" = 3)',
                '("OwnerId" = sh_owner.id)',
                (),
                "ShBox",
                None,
                (),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "quoted_names_or_with_literals",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                "((\"Label\")::text = 'it''s'::text) OR ((sh_owner.name)::text = 'a AND b'::text)",
                '("OwnerId" = sh_owner.id)',
                (),
                "sh_owner",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    (
        "quoted_names_sorted",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                '("OwnerId" = sh_owner.id)',
                (),
                "sh_owner",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Bitmap Heap Scan",
                "FILTER",
                "ShBox_OwnerId",
                '"Size" = 3',
                '("OwnerId" = sh_owner.id)',
                ('"ShBox"."Label"',),
                "ShBox",
                None,
                (("sh_owner", "(name)::text = 'x'::text"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "quoted_names_unservable_sorted",
        (15, 18),
        [
            (
                "ShBox",
                "Seq Scan",
                "FILTER",
                None,
                "((\"Label\")::text ~~ '%x%'::text)",
                None,
                ('"Size"',),
                "ShBox",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    ("range_of_an_initplans_value", (15, 18), []),
    (
        "range_of_an_initplans_value_sorted",
        (15,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                "(price > 5)",
                None,
                ("i.created DESC",),
                "i",
                None,
                (),
                False,
                True,
                False,
                "(owner_id = $0)",
            )
        ],
    ),
    (
        "range_of_an_initplans_value_sorted",
        (18,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                "(price > 5)",
                None,
                ("i.created DESC",),
                "i",
                None,
                (),
                False,
                True,
                False,
                "(owner_id = (InitPlan 1).col1)",
            )
        ],
    ),
    (
        "value_beside_the_join_key",
        (15,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "((owner_id = o.id) AND (kind = 3))",
                (),
                "o",
                None,
                (("sh_item", "(kind = 3)"), ("", "(kind = 3)")),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = 3) AND price > 5",
                "((owner_id = o.id))",
                (),
                "i",
                None,
                (("sh_owner", "(name)::text = 'x'::text"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "value_beside_the_join_key",
        (18,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "((o.id = owner_id) AND (kind = 3))",
                (),
                "o",
                None,
                (("sh_item", "(kind = 3)"), ("", "(kind = 3)")),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = 3) AND price > 5",
                "((o.id = owner_id))",
                (),
                "i",
                None,
                (("sh_owner", "(name)::text = 'x'::text"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "value_beside_the_join_key_alone",
        (15,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "((owner_id = o.id) AND (kind = 3))",
                (),
                "o",
                None,
                (("sh_item", "(kind = 3)"), ("", "(kind = 3)")),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = 3)",
                "((owner_id = o.id))",
                (),
                "i",
                None,
                (("sh_owner", "(name)::text = 'x'::text"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "value_beside_the_join_key_alone",
        (18,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "((o.id = owner_id) AND (kind = 3))",
                (),
                "o",
                None,
                (("sh_item", "(kind = 3)"), ("", "(kind = 3)")),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = 3)",
                "((o.id = owner_id))",
                (),
                "i",
                None,
                (("sh_owner", "(name)::text = 'x'::text"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "majors", "expected"),
    SHAPE_FIELDS,
    ids=[f"{name}-{'-'.join(map(str, majors))}" for name, majors, _ in SHAPE_FIELDS],
)
def test_findings_of_each_shape_field_by_field(
    name: str, majors: tuple[int, ...], expected: list[tuple[Any, ...]]
) -> None:
    for major in majors:
        data, schema = _shape(name, major)
        findings = analyze(
            data["plan"], None, leading=schema.leading_of, joined_ranges=True, sorted_ranges=True
        )
        assert [
            (
                f.table,
                f.node_type,
                f.rule.name if f.rule else None,
                f.index_name,
                f.filter,
                f.join_filter,
                f.sort_key,
                f.alias,
                f.unservable,
                f.driver,
                f.joined,
                f.sorted_range,
                f.filtered_range,
                f.index_condition,
            )
            for f in findings
        ] == expected, major


def _scans(name: str, major: int) -> list[tuple[str, bool]]:
    data, _ = _shape(name, major)
    return [
        (str(node["Alias"]), is_disabled(node))
        for node in walk_nodes(data["plan"][0]["Plan"])
        if "Relation Name" in node
    ]


@pytest.mark.parametrize("major", MAJORS)
def test_only_a_seq_scan_is_read_disabled(major: int) -> None:
    # PostgreSQL 15 adds disable_cost to the Seq Scan's cost; 18 says so. Index scans and
    # bitmaps are never disabled in forced mode.
    assert _scans("quoted_names_unservable_sorted", major) == [("ShBox", True)]
    assert _scans("range_of_an_initplans_value_sorted", major) == [("u0", False), ("i", False)]
    assert _scans("join_in_the_filter_of_a_bitmap", major) == [("o", False), ("i", False)]


@pytest.mark.parametrize("major", MAJORS)
def test_a_seq_scan_beside_its_initplan_is_read_disabled(major: int) -> None:
    # The InitPlan that gives the filter's value is listed under the Seq Scan: the scan is
    # still a leaf, disabled on PostgreSQL 15 as on 18 (it was read enabled on 15).
    assert _scans("full_read_beside_an_initplan", major) == [("l", True), ("u0", False)]
    data, schema = _shape("full_read_beside_an_initplan", major)
    [finding] = analyze(data["plan"], None, leading=schema.leading_of)
    assert finding.disabled
