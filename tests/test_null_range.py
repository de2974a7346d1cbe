"""An index range whose only condition is ``IS NULL`` beside a selective filter no index
serves: ``InviteLink.objects.filter(used_by=None, uuid=u, valid_until__gte=d).first()``
through the index of the nullable foreign key. At scale (300,000 links, 15% unused, a recipe
manager's suite) that range reads 45,000 rows to return one (17 ms; 0.1 ms with an index on
``uuid``): ``IS NULL``, like a flag, keeps a share of the table that is production's data, and
the filter is what to serve. Judged live on the server of ``DATABASE_URL``; each case beside
the one that must stay quiet."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from plans import live_judge
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.suggest import ModelIndex, candidates

SCHEMA = f"indexguard_null_range_{os.getpid()}"
SETUP = (
    "CREATE TABLE auth_user (id bigserial PRIMARY KEY, username varchar(50) NOT NULL)",
    "CREATE TABLE invitelink (id bigserial PRIMARY KEY, uuid uuid NOT NULL, "
    "used_by_id bigint NULL REFERENCES auth_user (id), valid_until date NOT NULL, "
    "is_active boolean NOT NULL DEFAULT true)",
    "CREATE INDEX invitelink_used_by ON invitelink (used_by_id)",
    "INSERT INTO auth_user (username) VALUES ('a'), ('b')",
    "INSERT INTO invitelink (uuid, used_by_id, valid_until) SELECT gen_random_uuid(), "
    "CASE WHEN g % 2 = 0 THEN 1 END, '2030-01-01' FROM generate_series(1, 4) g",
)
UUID = "uuid = '6b1a1c4e-2f1d-4a57-9d1b-111111111111'"
UNUSED = f"used_by_id IS NULL AND {UUID} AND valid_until >= '2025-01-01'"


def judged(
    conn: psycopg.Connection[Any], statement: str, setup: tuple[str, ...] = SETUP
) -> list[ScanFinding]:
    return live_judge.judged(conn, SCHEMA, setup, statement)


@pytest.mark.parametrize("page", ["", " ORDER BY id ASC LIMIT 1"])
def test_an_unused_link_found_by_its_uuid_is_a_filter_to_serve(
    live_postgres: psycopg.Connection[Any], page: str
) -> None:
    [found] = judged(live_postgres, f"SELECT * FROM invitelink WHERE {UNUSED}{page}")
    assert (found.table, found.rule, found.index_name) == (
        "invitelink",
        Rule.FILTER,
        "invitelink_used_by",
    )
    assert "uuid" in (found.filter or "")
    assert candidates(found, ModelIndex())[0].columns[0] == "uuid"


@pytest.mark.parametrize(
    "where",
    [
        # Nothing else to find: every unused link is the answer (or a page of them).
        "used_by_id IS NULL ORDER BY id LIMIT 10",
        # A flag or a range beside it: their share is production's data as well.
        "used_by_id IS NULL AND is_active",
        "used_by_id IS NULL AND valid_until >= '2025-01-01'",
        # A user's links: the range is on a value.
        f"used_by_id = 1 AND {UUID}",
    ],
)
def test_a_null_range_without_a_selective_filter_stays_quiet(
    live_postgres: psycopg.Connection[Any], where: str
) -> None:
    assert judged(live_postgres, f"SELECT * FROM invitelink WHERE {where}") == []


def test_a_partial_index_on_the_unused_links_is_trusted(
    live_postgres: psycopg.Connection[Any],
) -> None:
    # Built for the rows it holds (a queue of unprocessed rows): what production reads.
    setup = (
        *SETUP[:2],
        "CREATE INDEX invitelink_unused ON invitelink (id) WHERE used_by_id IS NULL",
        *SETUP[3:],
    )
    assert judged(live_postgres, f"SELECT * FROM invitelink WHERE {UNUSED}", setup) == []


def test_an_index_on_the_uuid_serves_it(live_postgres: psycopg.Connection[Any]) -> None:
    setup = (*SETUP, "CREATE INDEX invitelink_uuid ON invitelink (uuid)")
    assert judged(live_postgres, f"SELECT * FROM invitelink WHERE {UNUSED}", setup) == []
