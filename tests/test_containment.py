"""A key or containment test of a JSON, hstore or array column (``has_keys``, ``contains``,
``overlap``) is served by a GIN index, never a B-tree one: without one the table is read whole
for a predicate no B-tree index serves, and the advice names the GIN index (a forum's
``deleteprofilefield`` command was offered a B-tree index on its hstore column). Judged live on
the server of ``DATABASE_URL``."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from plans import live_judge
from pytest_indexguard.model import Rule
from pytest_indexguard.report import rewrite_lines

SCHEMA = f"indexguard_containment_{os.getpid()}"
SETUP = (
    "CREATE TABLE profile (id bigserial PRIMARY KEY, fields jsonb NOT NULL, tags text[] NOT NULL)",
    "INSERT INTO profile (fields, tags) SELECT jsonb_build_object('bio', g), ARRAY['t' || g] "
    "FROM generate_series(1, 6) g",
)
CONTAINS = """SELECT id FROM profile WHERE fields @> '{"bio": 2}'::jsonb"""
HAS_KEYS = "SELECT id FROM profile WHERE fields ?& '{bio,website}'::text[]"
OVERLAP = "SELECT id FROM profile WHERE tags && '{t2}'::text[]"


@pytest.fixture
def server(live_postgres: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    return live_postgres


@pytest.mark.parametrize("statement", [CONTAINS, HAS_KEYS, OVERLAP])
def test_without_a_gin_index_the_advice_is_one(
    server: psycopg.Connection[Any], statement: str
) -> None:
    [found] = live_judge.judged(server, SCHEMA, SETUP, statement)
    assert (found.rule, found.unservable) == (Rule.UNSERVABLE, "containment")
    advice = "\n".join(rewrite_lines(found))
    assert "no B-tree index serves it; a GIN index does" in advice


@pytest.mark.parametrize("statement", [CONTAINS, HAS_KEYS, OVERLAP])
def test_a_gin_index_serves_it(server: psycopg.Connection[Any], statement: str) -> None:
    indexed = (
        *SETUP,
        "CREATE INDEX profile_fields ON profile USING gin (fields)",
        "CREATE INDEX profile_tags ON profile USING gin (tags)",
    )
    assert live_judge.judged(server, SCHEMA, indexed, statement) == []
