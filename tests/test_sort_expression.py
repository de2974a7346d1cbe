"""A page sorted by a function of a column: ``Food.objects.filter(space=s).order_by(Lower("name"))
[:25]`` (a recipe manager's food list). With a space holding many of the foods (production's
shape: a stats file), the index range on ``space_id`` is read whole and sorted for the page
(100,010 rows, 201 ms at scale); ``Index(F("space"), Lower("name"))`` serves it (0.42 ms). The
suggestion names that expression index, and the PostgreSQL backend verifies it serves the
statement on the live server of ``DATABASE_URL``."""

from __future__ import annotations

import os
from typing import Any

import psycopg

from plans import live_judge
from pytest_indexguard import judge
from pytest_indexguard.explain.postgresql import PostgreSQL
from pytest_indexguard.model import Rule
from pytest_indexguard.schema import ColumnShape
from pytest_indexguard.suggest import ModelIndex, candidates, sort_column

SCHEMA = f"indexguard_sort_expression_{os.getpid()}"
SETUP = (
    "CREATE TABLE space (id bigserial PRIMARY KEY, name varchar(100) NOT NULL)",
    "CREATE TABLE food (id bigserial PRIMARY KEY, name varchar(128) NOT NULL, "
    "space_id bigint NOT NULL REFERENCES space (id))",
    "CREATE INDEX food_space_id ON food (space_id)",
    "CREATE TABLE recipe (id bigserial PRIMARY KEY, name varchar(128) NOT NULL)",
    "ALTER TABLE food ADD COLUMN recipe_id bigint NULL REFERENCES recipe (id)",
    "CREATE INDEX food_recipe_id ON food (recipe_id)",
    "INSERT INTO space (name) VALUES ('a'), ('b')",
    "INSERT INTO food (name, space_id) SELECT 'food ' || g, 1 + g % 2 FROM generate_series(1, 6) g",
)
PAGE = "SELECT id, name FROM food WHERE space_id = 1 ORDER BY lower((name)::text) ASC LIMIT 25"
# One space holds 9% of a million foods (the busiest key of the stats file).
BUSY = judge.Production(
    rows={"food": 1_000_000},
    columns={"food": {"space_id": ColumnShape(n_distinct=1_000, max_frequency=0.09)}},
    threshold=1_000,
)


def test_a_sort_key_under_lower_is_an_expression_column() -> None:
    assert sort_column("lower((food.name)::text) DESC", []) == "-lower(name)"
    assert sort_column('(upper(("email")::text))', []) == "upper(email)"
    assert sort_column("lower((name)::text)", ["title"]) is None
    assert sort_column("created DESC", []) == "-created"


def test_a_busy_spaces_page_by_lower_name_gets_the_expression_index(
    live_postgres: psycopg.Connection[Any],
) -> None:
    [found] = live_judge.judged(live_postgres, SCHEMA, SETUP, PAGE, production=BUSY)
    assert (found.table, found.rule) == ("food", Rule.SORT_RANGE)
    [first, *_] = candidates(found, ModelIndex(), PAGE)
    assert first.columns == ("space_id", "lower(name)")
    # Verified on the server: with the index the statement reads no range to sort.
    with live_postgres.transaction(force_rollback=True), live_postgres.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{SCHEMA}"')
        cursor.execute("SELECT set_config('search_path', %s, true)", (SCHEMA,))
        for statement in SETUP:
            cursor.execute(statement)
        verdict = PostgreSQL().verify(live_postgres, PAGE, found, first)
    assert verdict.fixes is True, verdict.note


# The list page as the view sends it: the food's recipe joined for each row (select_related of
# a nullable foreign key, a LEFT JOIN that keeps every food of the space).
JOINED_PAGE = (
    "SELECT food.id, recipe.name FROM food LEFT OUTER JOIN recipe ON (food.recipe_id = "
    "recipe.id) WHERE food.space_id = 1 ORDER BY lower((food.name)::text) ASC LIMIT 25"
)


def test_the_page_through_left_joins_sorts_the_whole_range(
    live_postgres: psycopg.Connection[Any],
) -> None:
    [found] = live_judge.judged(live_postgres, SCHEMA, SETUP, JOINED_PAGE, production=BUSY)
    assert (found.table, found.rule, found.sorted_rows) == (
        "food",
        Rule.SORT_RANGE,
        (1_000, 90_000),
    )
    assert candidates(found, ModelIndex(), JOINED_PAGE)[0].columns == ("space_id", "lower(name)")
    # Without production's shape, how many foods a space holds is not known: no finding.
    assert live_judge.judged(live_postgres, SCHEMA, SETUP, JOINED_PAGE) == []
