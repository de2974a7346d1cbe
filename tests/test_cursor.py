"""Statements read through a server-side cursor (``QuerySet.iterator()``) judged by the plan of a
cursor, on the server of ``DATABASE_URL``.

PostgreSQL plans a cursor to return its first tenth fast (``cursor_tuple_fraction``). For
``WHERE key = x ORDER BY id`` at scale it walks the primary key in order and filters every row
once the key holds more than about 0.3% of the table, where the same SELECT read at once sorts
what the key's index finds (tests/test_standard.py holds four such cases against production-sized
tables). The guard plans the statement as the cursor it is (``CURSOR``) and keeps such a walk
when the filter's index would not find few rows: a range, or a key that production's
statistics show busy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from plans import live_judge
from pytest_indexguard import judge
from pytest_indexguard.explain.postgresql import CURSOR
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.schema import ColumnShape
from pytest_indexguard.suggest import ModelIndex, candidates

SCHEMA = f"indexguard_cursor_{os.getpid()}"
DDL = (
    "CREATE TABLE product (id bigserial PRIMARY KEY, category_id bigint NOT NULL, "
    "status varchar(20) NOT NULL, created timestamptz NOT NULL)",
    "CREATE INDEX product_category_id ON product (category_id)",
    "CREATE INDEX product_status ON product (status)",
    "CREATE INDEX product_created ON product (created)",
    "INSERT INTO product (category_id, status, created) SELECT 1 + g % 3, 'active', "
    "'2025-01-01'::timestamptz - g * interval '1 day' FROM generate_series(1, 6) g",
)
SELECT = "SELECT id FROM product WHERE "
BY_CATEGORY = SELECT + "category_id = 2 ORDER BY id"
BY_STATUS = SELECT + "status = 'draft' ORDER BY id"
BY_RANGE = SELECT + "created >= '2024-12-01' ORDER BY id"


@pytest.fixture
def server(live_postgres: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    return live_postgres


def judged(
    conn: psycopg.Connection[Any],
    statement: str,
    *,
    production: judge.Production | None = None,
    few_values: Callable[[str, str], bool] | None = None,
) -> list[ScanFinding]:
    return live_judge.judged(
        conn, SCHEMA, DDL, statement, production=production, few_values=few_values
    )


def _categories(n_distinct: float) -> judge.Production:
    shape = ColumnShape(n_distinct=n_distinct)
    return judge.Production(
        rows={"product": 100_000}, columns={"product": {"category_id": shape}}, threshold=1_000
    )


def test_read_at_once_the_filters_index_serves(server: psycopg.Connection[Any]) -> None:
    for statement in (BY_CATEGORY, BY_STATUS, BY_RANGE):
        assert judged(server, statement, production=_categories(200)) == [], statement


def test_a_range_under_a_cursor_is_read_whole(server: psycopg.Connection[Any]) -> None:
    [found] = judged(server, CURSOR + BY_RANGE)
    assert (found.table, found.rule, found.index_name) == ("product", Rule.FILTER, "product_pkey")
    assert found.cursor_walk


def test_a_range_beside_a_key_or_unordered_is_not_walked(
    server: psycopg.Connection[Any],
) -> None:
    # The key's index finds its rows (a user's threads, not hidden); with no ORDER BY the
    # cursor has no order to walk an index for.
    assert judged(server, CURSOR + BY_RANGE.replace("WHERE ", "WHERE category_id = 2 AND ")) == []
    assert judged(server, CURSOR + BY_RANGE.replace(" ORDER BY id", "")) == []


def test_a_few_valued_column_under_a_cursor_is_spared(server: psycopg.Connection[Any]) -> None:
    # A flag or a status is either rare (a soft-delete marker: found by its index at scale) or
    # most of the table (a read that keeps most): measured on a forum's suite at scale.
    def few(table: str, column: str) -> bool:
        return (table, column) == ("product", "status")

    assert judged(server, CURSOR + BY_STATUS, few_values=few) == []
    assert judged(server, CURSOR + BY_STATUS) == []


def test_a_key_under_a_cursor_is_judged_by_production_shape(
    server: psycopg.Connection[Any],
) -> None:
    # Unknown shape: a parent's few children, found by their index (the standard's
    # cursor_foreign_key_of_few_rows).
    assert judged(server, CURSOR + BY_CATEGORY) == []
    # 200 categories: 500 of 100,000 products each, over the 0.3% the cursor walks for.
    [found] = judged(server, CURSOR + BY_CATEGORY, production=_categories(200))
    assert found.cursor_walk
    assert found.filter == "(category_id = 2)"
    # The key then the order: the index that serves the cursor (the existing one does not).
    assert candidates(found, ModelIndex(), BY_CATEGORY)[0].columns == ("category_id", "id")
    # 5,000 categories: 20 products each.
    assert judged(server, CURSOR + BY_CATEGORY, production=_categories(5_000)) == []
