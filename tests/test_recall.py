"""Recall on SQLite and MySQL/MariaDB: a join key's index does not spare a read when the other
side of the join keeps most of its rows (``research/join-recall``; the PostgreSQL cases are in
``plans/accuracy.py`` and the standard). Each statement is planned by the database itself and
judged by its backend, as in a test run; MariaDB's tests are skipped, saying why, when no server
answers (``INDEXGUARD_MYSQL_URL``, default the machine's MariaDB).

Each shape comes with the case where the other side is restricted to one row by a unique
column, so that the rule is held both ways.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import mysql_database
from plans.backend_scenarios import (
    RECALL_CASES,
    RECALL_DDL,
    RECALL_ROWS,
    judged,
    mysql_ddl,
    mysql_statement,
)
from pytest_indexguard.explain.mysql import MySQL
from pytest_indexguard.explain.sqlite import SQLite

# name -> (statement as Django writes it for SQLite, {table: rule} the guard must keep). The
# same statements are held to each database's plans at scale in tests/test_standard_backends.py.
CASES: dict[str, tuple[str, dict[str, str]]] = {
    case.name: (case.statement, dict(case.rules)) for case in RECALL_CASES
}


@pytest.fixture(scope="module")
def database() -> Iterator[sqlite3.Connection]:
    raw = sqlite3.connect(":memory:", isolation_level=None)
    for statement in (*RECALL_DDL, *RECALL_ROWS):
        raw.execute(statement)
    yield raw
    raw.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_sqlite_join_key_spares_a_read_only_when_the_other_side_is_restricted(
    database: sqlite3.Connection, name: str
) -> None:
    statement, expected = CASES[name]
    assert judged(SQLite(), database, statement) == expected


MYSQL_SCHEMA = [mysql_ddl(statement) for statement in (*RECALL_DDL, *RECALL_ROWS)]
MYSQL_DATABASE = f"indexguard_recall_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


@pytest.fixture(scope="module")
def mariadb() -> Iterator[Any]:
    yield from mysql_database(MYSQL_DATABASE, MYSQL_SCHEMA)


@pytest.mark.parametrize("name", sorted(CASES))
def test_mariadb_join_key_spares_a_read_only_when_the_other_side_is_restricted(
    mariadb: Any, name: str
) -> None:
    statement, expected = CASES[name]
    backend = MySQL()
    with mariadb.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        backend.identify(str(cursor.fetchone()[0]))
    assert judged(backend, mariadb, mysql_statement(statement)) == expected
