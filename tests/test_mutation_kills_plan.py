"""Paths of ``plan.py`` that no other fast test pinned, found by the tenth pass of mutation
testing (mutmut, see docs/contributing.md): plans of shapes the other captures lack, captured on
PostgreSQL 15 and 18 by ``capture_judge.py --shapes`` (``tests/plans/judge/shapes/``), read
with no database."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plans.capture_judge import SHAPES
from plans.stored import catalog
from pytest_indexguard import judge
from pytest_indexguard import schema as catalog_of
from pytest_indexguard.model import Rule
from pytest_indexguard.plan import (
    _column_against_column,
    aliases_in,
    analyze,
    index_conditions,
    index_conditions_on,
    indexes_used,
    is_cross_table_or,
    is_disabled,
    mentions,
    relations,
    scanned_from_temporary_schema,
    signature,
    top_level,
    walk_nodes,
)
from pytest_indexguard.schema import ColumnShape, Schema

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
        "filtered_range_of_a_key",
        (15, 18),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                "price > 40",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                True,
                "(owner_id = 3)",
            )
        ],
    ),
    (
        "filtered_range_of_two_conjuncts",
        (15, 18),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                "(price > 40) AND ((state)::text = 'open'::text)",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                True,
                "((owner_id = 3) AND (kind = 1))",
            )
        ],
    ),
    (
        "filtered_range_through_an_index_scan",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Scan",
                None,
                "sh_owner_code_key",
                "kind = 1",
                None,
                (),
                "o",
                None,
                (),
                False,
                False,
                True,
                "((code)::text = 'C1'::text)",
            )
        ],
    ),
    (
        "filtered_range_under_a_limit",
        (15, 18),
        [
            (
                "sh_item",
                "Index Scan",
                None,
                "sh_item_owner_kind",
                "price > 40",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                True,
                "(owner_id = 3)",
            )
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
        "joined_range_with_a_not_null_test",
        (15,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "(owner_id = o.id)",
                (),
                "o",
                None,
                (("sh_item", "state IS NOT NULL"),),
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
                "state IS NOT NULL",
                "(owner_id = o.id)",
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
        "joined_range_with_a_not_null_test",
        (18,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                None,
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
        "joined_range_with_a_not_null_test_and_a_filter",
        (15,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "(owner_id = o.id)",
                (),
                "o",
                None,
                (("sh_item", "(state IS NOT NULL)"), ("sh_item", "(price > 5)")),
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
                "(state IS NOT NULL) AND (price > 5)",
                "(owner_id = o.id)",
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
        "joined_range_with_a_not_null_test_and_a_filter",
        (18,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((name)::text = 'x'::text)",
                "(o.id = owner_id)",
                (),
                "o",
                None,
                (("sh_item", "price > 5"),),
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
                "price > 5",
                "(o.id = owner_id)",
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
    (
        "non_leading_key_of_an_initplans_value",
        (15,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = $0)",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                False,
                "(kind = $0)",
            )
        ],
    ),
    (
        "non_leading_key_of_an_initplans_value",
        (18,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = (InitPlan 1).col1)",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                False,
                "(kind = (InitPlan 1).col1)",
            )
        ],
    ),
    (
        "not_null_test_beside_an_unservable_filter",
        (15,),
        [
            (
                "ShBox",
                "Seq Scan",
                "FILTER",
                None,
                '(("Size" IS NOT NULL) AND (("Label")::text ~~ \'%x%\'::text) AND ("Size" > 2))',
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
    (
        "not_null_test_beside_an_unservable_filter",
        (18,),
        [
            (
                "ShBox",
                "Seq Scan",
                "FILTER",
                None,
                '((("Label")::text ~~ \'%x%\'::text) AND ("Size" > 2))',
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
    (
        "null_test_on_an_indexs_second_column",
        (15,),
        [
            (
                "sh_item",
                "Index Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind IS NULL)",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                False,
                "(kind IS NULL)",
            )
        ],
    ),
    ("null_test_on_an_indexs_second_column", (18,), []),
    (
        "or_across_tables_beside_a_full_read",
        (15, 18),
        [
            (
                "sh_log",
                "Seq Scan",
                "UNSERVABLE",
                None,
                "((sh_log.note)::text = 'x'::text) OR ((\"Label\")::text = 'y'::text)",
                '("OwnerId" = sh_log.owner_id)',
                (),
                "sh_log",
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
        "or_across_two_left_joins",
        (15, 18),
        [
            (
                "sh_owner",
                "Index Only Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                '((i.kind = 1) OR (b."Size" = 2))',
                None,
                (),
                "o",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                '((i.kind = 1) OR (b."Size" = 2))',
                None,
                (),
                "b",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "UNSERVABLE",
                "sh_item_owner_kind",
                '((i.kind = 1) OR (b."Size" = 2))',
                None,
                (),
                "i",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    ("or_across_two_left_joins_of_a_code", (15, 18), []),
    ("or_at_a_join_beside_a_comparison_of_its_tables", (15,), []),
    (
        "or_at_a_join_beside_a_comparison_of_its_tables",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "UNSERVABLE",
                "sh_item_owner_kind",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "i",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "o",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "or_at_a_join_beside_a_driver_of_large_sizes",
        (15,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
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
        "or_at_a_join_beside_a_driver_of_large_sizes",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '("Size" > 3)',
                None,
                (),
                "b",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    ("or_at_a_join_beside_a_driver_of_one_owner", (15, 18), []),
    (
        "or_at_a_join_beside_a_driver_of_one_size",
        (15,),
        [
            (
                "ShBox",
                "Index Scan",
                None,
                "ShBox_OwnerId",
                '"Size" = 3',
                None,
                (),
                "b",
                None,
                (),
                False,
                False,
                True,
                '("OwnerId" IS NOT NULL)',
            )
        ],
    ),
    (
        "or_at_a_join_beside_a_driver_of_one_size",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '("Size" = 3)',
                None,
                (),
                "b",
                None,
                (),
                False,
                False,
                False,
                None,
            )
        ],
    ),
    ("or_at_a_join_beside_a_driver_of_two_owners", (15, 18), []),
    (
        "or_at_a_join_beside_a_not_null_driver",
        (15,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
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
        "or_at_a_join_beside_a_not_null_driver",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "UNSERVABLE",
                "sh_item_owner_kind",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "i",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "o",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "or_at_a_join_beside_a_subplan",
        (15,),
        [
            (
                "sh_owner",
                "Seq Scan",
                "FILTER",
                None,
                '((name)::text = (b."Label")::text)',
                None,
                (),
                "u0",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Index Only Scan",
                "JOIN",
                "sh_item_owner_kind",
                None,
                "(i.owner_id = o.id)",
                (),
                "i",
                None,
                (("ShBox", '"OwnerId" IS NOT NULL'),),
                False,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "or_at_a_join_beside_a_subplan",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '("Size" > (SubPlan 1))',
                None,
                (),
                "b",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Seq Scan",
                "FILTER",
                None,
                '((name)::text = (b."Label")::text)',
                None,
                (),
                "u0",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "or_at_a_join_beside_an_initplan",
        (15,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
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
        "or_at_a_join_beside_an_initplan",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '("Size" > (InitPlan 1).col1)',
                None,
                (),
                "b",
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
        "quoted_names_or_at_a_left_join_sorted",
        (15, 18),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                '(((sh_owner.name)::text = \'x\'::text) OR ("ShBox"."Size" = 3))',
                None,
                ('"ShBox"."Label"',),
                "ShBox",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                '(((sh_owner.name)::text = \'x\'::text) OR ("ShBox"."Size" = 3))',
                None,
                ('"ShBox"."Label"',),
                "sh_owner",
                "or-across-tables",
                (),
                False,
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
                (("ShBox", '"Size" = 3'),),
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
    ("range_sorted_above_an_inner_join", (15, 18), []),
    (
        "sorted_by_the_joined_tables_column_first",
        (15, 18),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                "price > 40",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                True,
                "(owner_id = 3)",
            )
        ],
    ),
    (
        "sorted_range_below_a_left_join",
        (15, 18),
        [
            (
                "ShBox",
                "Bitmap Heap Scan",
                None,
                "ShBox_OwnerId",
                None,
                None,
                ('"ShBox"."Label" DESC',),
                "ShBox",
                None,
                (),
                False,
                True,
                False,
                '("OwnerId" = 3)',
            )
        ],
    ),
    (
        "two_ors_at_a_join_beside_a_not_null_driver",
        (15,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "(((i.kind = 1) OR ((o.name)::text = 'x'::text)))",
                None,
                (),
                "b",
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
        "two_ors_at_a_join_beside_a_not_null_driver",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_item",
                "Bitmap Heap Scan",
                "UNSERVABLE",
                "sh_item_owner_kind",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "i",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "o",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "two_ors_at_a_left_join",
        (15, 18),
        [
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                '(((sh_owner.name)::text = \'x\'::text) OR ("ShBox"."Size" = 3))',
                None,
                (),
                "ShBox",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "UNSERVABLE",
                "sh_owner_pkey",
                '(((sh_owner.name)::text = \'x\'::text) OR ("ShBox"."Size" = 3))',
                None,
                (),
                "sh_owner",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
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
                (("sh_item", "price > 5"), ("sh_item", "(kind = 3)"), ("", "(kind = 3)")),
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
                (("sh_item", "price > 5"), ("sh_item", "(kind = 3)"), ("", "(kind = 3)")),
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
    # The owners' SubPlan (the log's open rows) restricts no row the join starts from: the
    # items' driver holds nothing.
    (
        "driver_beside_a_subplan",
        (15,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "(((name)::text = 'x'::text) OR (hashed SubPlan 1))",
                "(owner_id = o.id)",
                (),
                "o",
                None,
                (("sh_item", "price > 5"),),
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
    # The owners' SubPlan (the log's open rows) restricts no row the join starts from: the
    # items' driver holds nothing.
    (
        "driver_beside_a_subplan",
        (18,),
        [
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "(((name)::text = 'x'::text) OR (ANY (id = (hashed SubPlan 1).col1)))",
                "(o.id = owner_id)",
                (),
                "o",
                None,
                (("sh_item", "price > 5"),),
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
                "price > 5",
                "(o.id = owner_id)",
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
    # The Filter's conjunct of the items' own is kept, the one taking the InitPlan's value
    # left out.
    (
        "filtered_range_beside_an_initplans_value",
        (15, 18),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                "((state)::text = 'done'::text)",
                None,
                (),
                "i",
                None,
                (),
                False,
                False,
                True,
                "(owner_id = 3)",
            ),
            (
                "sh_owner",
                "Seq Scan",
                None,
                None,
                None,
                None,
                (),
                "u0",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    # The log's scan inside the boxes' SubPlan finds its rows by a value, but is no read of
    # the join's: the OR across the LEFT JOINs still names the boxes (on PostgreSQL 15; 18
    # reads the boxes for their SubPlan's filter).
    (
        "or_at_a_join_beside_a_subplan_on_a_value",
        (15,),
        [
            (
                "sh_owner",
                "Index Scan",
                "JOIN",
                "sh_owner_pkey",
                None,
                '(b."OwnerId" = o.id)',
                (),
                "o",
                None,
                (("ShBox", '"OwnerId" IS NOT NULL'),),
                False,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Index Scan",
                "UNSERVABLE",
                "ShBox_OwnerId",
                "((i.kind = 1) OR ((o.name)::text = 'x'::text))",
                None,
                (),
                "b",
                "or-across-tables",
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "or_at_a_join_beside_a_subplan_on_a_value",
        (18,),
        [
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '("Size" > (SubPlan 1))',
                None,
                (),
                "b",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "JOIN",
                "sh_owner_pkey",
                None,
                '(b."OwnerId" = o.id)',
                (),
                "o",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
        ],
    ),
    # The items' index condition, on the side that drives the boxes' loop, holds the kind after
    # the join key: the kind restricts the boxes' driver.
    (
        "value_after_the_join_key_inside_a_driving_side",
        (15,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = 2)",
                "((owner_id = o.id))",
                (),
                "i",
                None,
                (("sh_owner", "(code)::text = 'C1'::text"), ("ShBox", '"Size" > 2')),
                True,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '"Size" > 2',
                '("OwnerId" = i.owner_id)',
                (),
                "b",
                None,
                (
                    ("sh_owner", "(code)::text = 'C1'::text"),
                    ("sh_item", "(kind = 2)"),
                    ("", "(kind = 2)"),
                ),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "value_after_the_join_key_inside_a_driving_side",
        (18,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_item_owner_kind",
                "(kind = 2)",
                "((o.id = owner_id))",
                (),
                "i",
                None,
                (("sh_owner", "(code)::text = 'C1'::text"), ("ShBox", '"Size" > 2')),
                True,
                False,
                False,
                None,
            ),
            (
                "ShBox",
                "Index Scan",
                "FILTER",
                "ShBox_OwnerId",
                '"Size" > 2',
                '("OwnerId" = i.owner_id)',
                (),
                "b",
                None,
                (
                    ("sh_owner", "(code)::text = 'C1'::text"),
                    ("sh_item", "(kind = 2)"),
                    ("", "(kind = 2)"),
                ),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    # The owners' Filter, on the side that drives the items' loop, takes the InitPlan's value
    # before its own conjunct: the name still restricts the items' driver.
    (
        "driver_filtered_after_an_initplans_value",
        (15,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                None,
                None,
                (),
                "u0",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((kind > $0) AND ((name)::text = 'x'::text))",
                "(owner_id = o.id)",
                (),
                "o",
                None,
                (("sh_item", "price > 5"),),
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
                "price > 5",
                "(owner_id = o.id)",
                (),
                "i",
                None,
                (("sh_owner", "((name)::text = 'x'::text)"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    (
        "driver_filtered_after_an_initplans_value",
        (18,),
        [
            (
                "sh_item",
                "Bitmap Heap Scan",
                None,
                "sh_item_owner_kind",
                None,
                None,
                (),
                "u0",
                None,
                (),
                False,
                False,
                False,
                None,
            ),
            (
                "sh_owner",
                "Index Scan",
                "FILTER",
                "sh_owner_pkey",
                "((kind > (InitPlan 1).col1) AND ((name)::text = 'x'::text))",
                "(o.id = owner_id)",
                (),
                "o",
                None,
                (("sh_item", "price > 5"),),
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
                "price > 5",
                "(o.id = owner_id)",
                (),
                "i",
                None,
                (("sh_owner", "((name)::text = 'x'::text)"),),
                True,
                False,
                False,
                None,
            ),
        ],
    ),
    # Without the schema's truths, the test of NULL is one more conjunct of the Filter (18 folds
    # it: no scan at all).
    (
        "null_test_among_the_conjuncts_of_a_filter",
        (15,),
        [
            (
                "sh_log",
                "Bitmap Heap Scan",
                "FILTER",
                "sh_log_state_note",
                "((note)::text = 'a'::text) AND ((owner_id IS NULL) AND (owner_id <> 5))",
                None,
                (),
                "l",
                None,
                (),
                False,
                False,
                False,
                "((note)::text = 'a'::text)",
            ),
        ],
    ),
    ("null_test_among_the_conjuncts_of_a_filter", (18,), []),
    # A cross join: the loop restricts no row of the owners by a condition naming them, so the
    # owners' read has no driver; the logs' is the owners' name.
    (
        "loop_of_a_cross_join",
        (15, 18),
        [
            (
                "sh_owner",
                "Seq Scan",
                "FILTER",
                None,
                "((name)::text = 'x'::text)",
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
                "sh_log",
                "Seq Scan",
                "FILTER",
                None,
                "(owner_id = 5)",
                None,
                (),
                "l",
                None,
                (("sh_owner", "(name)::text = 'x'::text"),),
                False,
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


def _node(name: str, major: int, alias: str) -> Any:
    data, _ = _shape(name, major)
    [node] = [n for n in walk_nodes(data["plan"][0]["Plan"]) if n.get("Alias") == alias]
    return node


@pytest.mark.parametrize("major", MAJORS)
def test_a_literal_is_skipped_whole_when_a_condition_is_split(major: int) -> None:
    text = _node("literal_holding_and_or", major, "ShBox")["Filter"]
    assert top_level(text, "OR") == [
        "((\"Label\")::text = 'a AND (b'' OR c)'::text)",
        '("Size" = 3)',
    ]
    assert top_level(text, "AND") == [text[1:-1]]
    assert aliases_in(text) == []
    assert not is_cross_table_or(text, own="ShBox")
    either = _node("quoted_names_or_with_literals", major, "ShBox")["Filter"]
    assert top_level(either, "OR") == [
        "((\"Label\")::text = 'it''s'::text)",
        "((sh_owner.name)::text = 'a AND b'::text)",
    ]
    assert top_level(either, "AND") == [either[1:-1]]
    assert aliases_in(either) == ["sh_owner"]
    # The label's branch names no table: the scan's own, so the OR crosses tables.
    assert is_cross_table_or(either, own="ShBox")
    assert not is_cross_table_or(either)


@pytest.mark.parametrize("major", MAJORS)
def test_quoted_mixed_case_names_are_read_as_names(major: int) -> None:
    sort = _node("quoted_names_sorted", major, "ShBox")
    data, _ = _shape("quoted_names_sorted", major)
    [key] = data["plan"][0]["Plan"]["Plans"][0]["Sort Key"]
    assert key == '"ShBox"."Label"'
    assert aliases_in(key) == ["ShBox"]
    assert mentions(key, "Label")
    assert not mentions(key, "Labe")
    assert not mentions(key, "label")
    condition = sort["Recheck Cond"]
    assert aliases_in(condition) == ["sh_owner"]
    assert mentions(condition, "OwnerId")
    assert mentions(condition, "id")
    assert not mentions(condition, "Owner")
    assert not mentions(condition, "ownerid")
    assert _column_against_column(condition)
    assert not _column_against_column(sort["Filter"])
    _, schema = _shape("quoted_names_sorted", major)
    assert schema.leading_of("ShBox_OwnerId") == "OwnerId"


@pytest.mark.parametrize("major", MAJORS)
def test_what_a_plan_reads_beside_an_initplan(major: int) -> None:
    # The InitPlan is the Bitmap Heap Scan's first child, before its bitmap: the bitmap's index
    # names the scan, the InitPlan's index reads the owners.
    data, _ = _shape("range_of_an_initplans_value", major)
    plan = data["plan"]
    key = "$0" if major == 15 else "(InitPlan 1).col1"
    assert relations(plan) == {"sh_item", "sh_owner"}
    assert indexes_used(plan) == {"sh_owner_code_key", "sh_item_owner_kind"}
    assert index_conditions(plan, "sh_item_owner_kind") == [f"(owner_id = {key})"]
    assert index_conditions(plan, "sh_owner_code_key") == ["((code)::text = 'C1'::text)"]
    assert index_conditions_on(plan, "sh_item") == [f"(owner_id = {key})"]
    assert index_conditions_on(plan, "sh_owner") == ["((code)::text = 'C1'::text)"]
    assert not scanned_from_temporary_schema(plan, "sh_item")
    # Sorted under a Limit, the range is named by the bitmap's index, not the InitPlan's.
    data, schema = _shape("range_of_an_initplans_value_sorted", major)
    [found] = analyze(data["plan"], None, leading=schema.leading_of, sorted_ranges=True)
    assert found.index_name == "sh_item_owner_kind"
    assert found.index_condition == f"(owner_id = {key})"


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("major", MAJORS)
def test_without_the_flags_only_full_reads_are_listed(name: str, major: int) -> None:
    data, schema = _shape(name, major)
    every = analyze(
        data["plan"], None, leading=schema.leading_of, joined_ranges=True, sorted_ranges=True
    )
    full = analyze(data["plan"], None, leading=schema.leading_of)
    assert full == [
        f for f in every if not f.joined and not f.sorted_range and not f.filtered_range
    ]
    # A table not watched has no finding; the others keep theirs.
    for table in {f.table for f in every}:
        kept = analyze(
            data["plan"],
            lambda t, table=table: t != table,
            leading=schema.leading_of,
            joined_ranges=True,
            sorted_ranges=True,
        )
        assert table not in {f.table for f in kept}
        assert all(f in every for f in kept)
        # The tables an OR across tables names are named for the finding that holds it.
        if not any(f.unservable == "or-across-tables" for f in every):
            assert [f.table for f in kept] == [f.table for f in every if f.table != table]
    if name == "quoted_names_or_at_a_left_join_sorted":
        # The owner is named for the OR the boxes' read holds: with the boxes not watched,
        # neither is named (the join's Filter sifts both, read by their key per box).
        assert analyze(data["plan"], lambda t: t != "ShBox") == []


@pytest.mark.parametrize("major", MAJORS)
def test_the_signature_of_quoted_names_drops_their_qualifiers(major: int) -> None:
    data, schema = _shape("quoted_names_sorted", major)
    [owner, box] = analyze(data["plan"], None, leading=schema.leading_of, joined_ranges=True)
    assert signature(box) == ("ShBox", "filter", '"Size" = 3', '("OwnerId" = id)', ('"Label"',))
    assert signature(owner) == (
        "sh_owner",
        "filter",
        "((name)::text = ?::text)",
        '("OwnerId" = id)',
        (),
    )


# (table, rule, joined, sorted range, filtered range) of each finding with sorted ranges only,
# then with joined ranges only (per server where PostgreSQL 15 and 18 differ).
MODES: dict[str, list[list[tuple[Any, ...]]]] = {
    "anti_join_restricted_inside": [
        [("sh_owner", None, False, False, False)],
        [("sh_owner", None, False, False, False), ("sh_item", "FILTER", True, False, False)],
    ],
    "driver_beside_a_subplan": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("sh_item", "FILTER", True, False, False)],
    ],
    # The InitPlan's own scan of the owners is listed (a full read of a table not watched).
    "filtered_range_beside_an_initplans_value": [
        [("sh_item", None, False, False, True), ("sh_owner", None, False, False, False)],
        [("sh_owner", None, False, False, False)],
    ],
    "or_at_a_join_beside_a_subplan_on_a_value/pg15": [
        [("sh_owner", "JOIN", False, False, False), ("ShBox", "UNSERVABLE", False, False, False)],
        [("sh_owner", "JOIN", False, False, False), ("ShBox", "UNSERVABLE", False, False, False)],
    ],
    "or_at_a_join_beside_a_subplan_on_a_value/pg18": [
        [("ShBox", "FILTER", False, False, False), ("sh_owner", "JOIN", False, False, False)],
        [("ShBox", "FILTER", False, False, False), ("sh_owner", "JOIN", False, False, False)],
    ],
    "value_after_the_join_key_inside_a_driving_side": [
        [],
        [("sh_item", "FILTER", True, False, False), ("ShBox", "FILTER", True, False, False)],
    ],
    "driver_filtered_after_an_initplans_value": [
        [("sh_item", None, False, False, False), ("sh_owner", "FILTER", False, False, False)],
        [
            ("sh_item", None, False, False, False),
            ("sh_owner", "FILTER", False, False, False),
            ("sh_item", "FILTER", True, False, False),
        ],
    ],
    "null_test_among_the_conjuncts_of_a_filter/pg15": [
        [("sh_log", "FILTER", False, False, False)],
        [("sh_log", "FILTER", False, False, False)],
    ],
    "null_test_among_the_conjuncts_of_a_filter/pg18": [[], []],
    "loop_of_a_cross_join": [
        [("sh_owner", "FILTER", False, False, False), ("sh_log", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("sh_log", "FILTER", False, False, False)],
    ],
    "filtered_range_of_a_key": [[("sh_item", None, False, False, True)], []],
    "filtered_range_of_two_conjuncts": [[("sh_item", None, False, False, True)], []],
    "filtered_range_through_an_index_scan": [[("sh_owner", None, False, False, True)], []],
    # Under a LIMIT: a range its Filter sifts, judged only when the Filter looks a row up.
    "filtered_range_under_a_limit": [[("sh_item", None, False, False, True)], []],
    "range_under_a_limit_by_a_state": [[("sh_item", None, False, False, True)], []],
    "range_under_a_limit_by_an_upper_cased_state": [[("sh_item", None, False, False, True)], []],
    "full_read_beside_an_initplan": [
        [("sh_log", "FILTER", False, False, False)],
        [("sh_log", "FILTER", False, False, False)],
    ],
    "join_in_the_filter_of_a_bitmap": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False)],
    ],
    "joined_range_with_a_not_null_test/pg15": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("sh_item", "FILTER", True, False, False)],
    ],
    "joined_range_with_a_not_null_test/pg18": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False)],
    ],
    "joined_range_with_a_not_null_test_and_a_filter": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("sh_item", "FILTER", True, False, False)],
    ],
    "literal_holding_and_or": [
        [("ShBox", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False)],
    ],
    "non_leading_key_of_an_initplans_value": [
        [("sh_item", "FILTER", False, False, False)],
        [("sh_item", "FILTER", False, False, False)],
    ],
    "not_null_test_beside_an_unservable_filter": [
        [("ShBox", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False)],
    ],
    "null_test_on_an_indexs_second_column/pg15": [
        [("sh_item", "FILTER", False, False, False)],
        [("sh_item", "FILTER", False, False, False)],
    ],
    "null_test_on_an_indexs_second_column/pg18": [[], []],
    "or_across_tables_beside_a_full_read": [
        [("sh_log", "UNSERVABLE", False, False, False)],
        [("sh_log", "UNSERVABLE", False, False, False)],
    ],
    "or_across_two_left_joins": [
        [
            ("sh_owner", "UNSERVABLE", False, False, False),
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
        ],
        [
            ("sh_owner", "UNSERVABLE", False, False, False),
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
        ],
    ],
    "or_across_two_left_joins_of_a_code": [[], []],
    "or_at_a_join_beside_a_comparison_of_its_tables/pg15": [[], []],
    "or_at_a_join_beside_a_comparison_of_its_tables/pg18": [
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
    ],
    "or_at_a_join_beside_a_driver_of_large_sizes/pg15": [
        [("ShBox", "UNSERVABLE", False, False, False)],
        [("ShBox", "UNSERVABLE", False, False, False)],
    ],
    "or_at_a_join_beside_a_driver_of_large_sizes/pg18": [
        [("ShBox", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False)],
    ],
    "or_at_a_join_beside_a_driver_of_one_owner": [[], []],
    "or_at_a_join_beside_a_driver_of_one_size/pg15": [[("ShBox", None, False, False, True)], []],
    "or_at_a_join_beside_a_driver_of_one_size/pg18": [
        [("ShBox", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False)],
    ],
    "or_at_a_join_beside_a_driver_of_two_owners": [[], []],
    "or_at_a_join_beside_a_not_null_driver/pg15": [
        [("ShBox", "UNSERVABLE", False, False, False)],
        [("ShBox", "UNSERVABLE", False, False, False)],
    ],
    "or_at_a_join_beside_a_not_null_driver/pg18": [
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
    ],
    "or_at_a_join_beside_a_subplan/pg15": [
        [
            ("sh_owner", "FILTER", False, False, False),
            ("sh_item", "JOIN", False, False, False),
            ("ShBox", "UNSERVABLE", False, False, False),
        ],
        [
            ("sh_owner", "FILTER", False, False, False),
            ("sh_item", "JOIN", False, False, False),
            ("ShBox", "UNSERVABLE", False, False, False),
        ],
    ],
    "or_at_a_join_beside_a_subplan/pg18": [
        [("ShBox", "FILTER", False, False, False), ("sh_owner", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False), ("sh_owner", "FILTER", False, False, False)],
    ],
    "or_at_a_join_beside_an_initplan/pg15": [
        [("ShBox", "UNSERVABLE", False, False, False)],
        [("ShBox", "UNSERVABLE", False, False, False)],
    ],
    "or_at_a_join_beside_an_initplan/pg18": [
        [("ShBox", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False)],
    ],
    "partial_index_of_two_conjuncts": [[], []],
    "quoted_names_or_across_tables": [
        [("sh_owner", "UNSERVABLE", False, False, False)],
        [("sh_owner", "UNSERVABLE", False, False, False), ("ShBox", "FILTER", True, False, False)],
    ],
    "quoted_names_or_at_a_left_join_sorted": [
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
    ],
    "quoted_names_or_with_literals": [
        [("sh_owner", "UNSERVABLE", False, False, False)],
        [("sh_owner", "UNSERVABLE", False, False, False)],
    ],
    "quoted_names_sorted": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("ShBox", "FILTER", True, False, False)],
    ],
    "quoted_names_unservable_sorted": [
        [("ShBox", "FILTER", False, False, False)],
        [("ShBox", "FILTER", False, False, False)],
    ],
    "range_of_an_initplans_value": [[], []],
    "range_of_an_initplans_value_sorted": [[("sh_item", None, False, True, False)], []],
    "range_sorted_above_an_inner_join": [[], []],
    "sorted_by_the_joined_tables_column_first": [[("sh_item", None, False, False, True)], []],
    "sorted_range_below_a_left_join": [[("ShBox", None, False, True, False)], []],
    "two_ors_at_a_join_beside_a_not_null_driver/pg15": [
        [("ShBox", "UNSERVABLE", False, False, False)],
        [("ShBox", "UNSERVABLE", False, False, False)],
    ],
    "two_ors_at_a_join_beside_a_not_null_driver/pg18": [
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_item", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
    ],
    "two_ors_at_a_left_join": [
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
        [
            ("ShBox", "UNSERVABLE", False, False, False),
            ("sh_owner", "UNSERVABLE", False, False, False),
        ],
    ],
    "value_beside_the_join_key": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("sh_item", "FILTER", True, False, False)],
    ],
    "value_beside_the_join_key_alone": [
        [("sh_owner", "FILTER", False, False, False)],
        [("sh_owner", "FILTER", False, False, False), ("sh_item", "FILTER", True, False, False)],
    ],
}


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("major", MAJORS)
def test_findings_with_sorted_or_joined_ranges_alone(name: str, major: int) -> None:
    data, schema = _shape(name, major)
    found = [
        [
            (f.table, f.rule.name if f.rule else None, f.joined, f.sorted_range, f.filtered_range)
            for f in analyze(data["plan"], None, leading=schema.leading_of, **flags)
        ]
        for flags in ({"sorted_ranges": True}, {"joined_ranges": True})
    ]
    assert found == MODES.get(f"{name}/pg{major}", MODES.get(name))


def _every_column_not_null(table: str, conjunct: str) -> bool | None:
    """``Schema.truth`` of the shapes' tables, whose every column is NOT NULL."""
    tested = (catalog_of.tested_not_null(conjunct), catalog_of.tested_null(conjunct))
    return Schema.of([], not_null=[(table, c) for c in tested if c]).truth(table, conjunct)


# (table, rule, filter, join filter, index condition) of the findings that the NOT NULL columns
# change: PostgreSQL 15 keeps the tests of NULL that 18 folds away.
TRUTH_FIELDS: dict[str, list[tuple[Any, ...]]] = {
    "joined_range_with_a_not_null_test/pg15": [
        ("sh_owner", "FILTER", "((name)::text = 'x'::text)", "(owner_id = o.id)", None)
    ],
    "joined_range_with_a_not_null_test_and_a_filter/pg15": [
        ("sh_owner", "FILTER", "((name)::text = 'x'::text)", "(owner_id = o.id)", None),
        ("sh_item", "FILTER", "(price > 5)", "(owner_id = o.id)", None),
    ],
    "not_null_test_beside_an_unservable_filter/pg15": [
        ("ShBox", "FILTER", '(("Label")::text ~~ \'%x%\'::text) AND ("Size" > 2)', None, None)
    ],
    "null_test_on_an_indexs_second_column/pg15": [],
    # The test of NULL on the NOT NULL column, one of the Filter's conjuncts: no row passes.
    "null_test_among_the_conjuncts_of_a_filter/pg15": [],
}


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("major", MAJORS)
def test_findings_with_the_not_null_columns(name: str, major: int) -> None:
    data, schema = _shape(name, major)
    flags = {"leading": schema.leading_of, "joined_ranges": True, "sorted_ranges": True}
    found = analyze(data["plan"], None, truth=_every_column_not_null, **flags)
    if f"{name}/pg{major}" not in TRUTH_FIELDS:
        assert found == analyze(data["plan"], None, **flags)
        return
    assert [
        (f.table, f.rule.name if f.rule else None, f.filter, f.join_filter, f.index_condition)
        for f in found
    ] == TRUTH_FIELDS[f"{name}/pg{major}"]


@pytest.mark.parametrize("major", MAJORS)
def test_a_range_under_a_limit_counts_only_when_its_filter_looks_a_row_up(major: int) -> None:
    # owner_id = 3 AND price > 40 LIMIT 3: the range stops at the first rows over 40, whatever
    # production's owner holds; a lookup by a selective equality would read them all.
    data, schema = _shape("filtered_range_under_a_limit", major)
    [found] = analyze(data["plan"], None, leading=schema.leading_of, sorted_ranges=True)
    assert (found.filtered_range, found.limited) == (True, True)
    busy = judge.Production(
        rows={"sh_item": 300_000},
        columns={"sh_item": {"owner_id": ColumnShape(n_distinct=200, max_frequency=0.2)}},
        threshold=1_000,
    )
    assert judge.settle([found], schema, data["plan"], {}, busy) == []
    lookup = replace(found, filter="(code)::text = 'C1'::text")
    [settled] = judge.settle([lookup], schema, data["plan"], {}, busy)
    assert (settled.rule, settled.sorted_rows) == (Rule.FILTER, (1_500, 60_000))
    unlimited = replace(found, limited=False)
    [settled] = judge.settle([unlimited], schema, data["plan"], {}, busy)
    assert settled.rule is Rule.FILTER


# -- a bitmap that reads a whole index through its second column ------------------------------

STANDARD_TINY = Path(__file__).resolve().parent / "plans" / "standard"
PLANS = Path(__file__).resolve().parent / "plans"
# The retry index of the standard's webhook cases: CREATE INDEX webhook_retry_idx ON
# upstream_webhookdelivery (status, next_attempt_at).
RETRY_INDEX_LEADS = {"webhook_retry_idx": "status"}.get


@pytest.mark.parametrize("major", MAJORS)
@pytest.mark.parametrize(
    "case", ["or_of_ranges_on_a_non_leading_column", "or_of_a_status_and_a_non_leading_column"]
)
def test_an_or_with_a_side_read_through_a_second_column_reads_the_whole_index(
    case: str, major: int
) -> None:
    data = json.loads((STANDARD_TINY / f"pg{major}" / f"{case}.json").read_text())
    node = data["plan"][0]["Plan"]
    assert (node["Node Type"], node["Plans"][0]["Node Type"]) == ("Bitmap Heap Scan", "BitmapOr")
    [finding] = analyze(data["plan"], None, leading=RETRY_INDEX_LEADS)
    assert (finding.table, finding.rule) == ("upstream_webhookdelivery", Rule.FILTER)
    # The whole OR, each side of which an index must serve, not the one side found unled.
    assert finding.filter == finding.index_condition == node["Recheck Cond"]
    assert finding.index_name == "webhook_retry_idx"
    # The same bitmap through an index that leads with the OR's column restricts both sides of
    # the first case's OR; the second case's status side is then the one read whole.
    other = analyze(data["plan"], None, leading={"webhook_retry_idx": "next_attempt_at"}.get)
    assert len(other) == (case == "or_of_a_status_and_a_non_leading_column")
    assert analyze(data["plan"], None) == []


@pytest.mark.parametrize("major", MAJORS)
def test_a_bitmap_and_reads_a_whole_index_only_when_every_side_does(major: int) -> None:
    # (connection_id = 1) AND (status = 'failed'), each through an index of its own.
    data = json.loads((PLANS / f"pg{major}" / "bitmap_and_sorted_range.json").read_text())
    [heap] = [
        n for n in walk_nodes(data["plan"][0]["Plan"]) if n["Node Type"] == "Bitmap Heap Scan"
    ]
    assert heap["Plans"][0]["Node Type"] == "BitmapAnd"
    by_connection = "upstream_integrationlog_connection_id_0c5e7d91"
    by_status = "upstream_integrationlog_status_9a1b2c3d"
    one_unled = {by_connection: "connection_id", by_status: "start_time"}.get
    assert [f for f in analyze(data["plan"], None, leading=one_unled) if f.rule] == []
    both_unled = {by_connection: "start_time", by_status: "start_time"}.get
    [finding] = [f for f in analyze(data["plan"], None, leading=both_unled) if f.rule]
    assert finding.index_condition == heap["Recheck Cond"]
    assert finding.index_name == by_connection
