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
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import reachable_mysql
from pytest_indexguard.explain import Context
from pytest_indexguard.explain.mysql import MySQL
from pytest_indexguard.explain.sqlite import SQLite

SCHEMA = """
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" varchar(150) NOT NULL UNIQUE, "last_login" datetime NULL);
CREATE TABLE "rc_brand" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(100) NOT NULL);
CREATE TABLE "rc_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "brand_id" bigint NOT NULL REFERENCES "rc_brand" ("id") DEFERRABLE INITIALLY DEFERRED,
    "is_active" bool NOT NULL, "created_at" datetime NOT NULL);
CREATE INDEX "rc_item_brand_id_5d1e2f3a" ON "rc_item" ("brand_id");
CREATE TABLE "rc_queue" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" varchar(100) NOT NULL);
CREATE TABLE "rc_ticket" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "queue_id" bigint NOT NULL REFERENCES "rc_queue" ("id") DEFERRABLE INITIALLY DEFERRED,
    "status" integer NOT NULL, "created" datetime NOT NULL);
CREATE INDEX "rc_ticket_queue_id_7a2b9c1d" ON "rc_ticket" ("queue_id");
CREATE TABLE "rc_customer" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" varchar(254) NOT NULL UNIQUE);
CREATE TABLE "rc_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "customer_id" bigint NOT NULL REFERENCES "rc_customer" ("id") DEFERRABLE INITIALLY DEFERRED,
    "email" varchar(254) NOT NULL, "ref" varchar(20) NOT NULL);
CREATE INDEX "rc_order_customer_id_3e4f5a6b" ON "rc_order" ("customer_id");
CREATE TABLE "rc_account" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" integer NOT NULL UNIQUE REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
    "warned_at" datetime NULL, "kind" integer NOT NULL);
CREATE TABLE "rc_flip" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "owner_id" bigint NOT NULL, "created" datetime NOT NULL);
CREATE INDEX "rc_flip_owner_created" ON "rc_flip" ("owner_id", "created");
INSERT INTO "rc_flip" ("owner_id", "created") VALUES (1, '2024-12-01'), (2, '2024-12-02');
INSERT INTO "auth_user" ("username", "last_login") VALUES ('alice', '2024-12-01'), ('bob', NULL);
INSERT INTO "rc_brand" ("name") VALUES ('acme'), ('globex');
INSERT INTO "rc_item" ("brand_id", "is_active", "created_at") VALUES
    (1, 1, '2024-12-30'), (2, 0, '2024-12-31');
INSERT INTO "rc_queue" ("title") VALUES ('support'), ('sales');
INSERT INTO "rc_ticket" ("queue_id", "status", "created") VALUES
    (1, 1, '2024-12-30'), (2, 3, '2024-12-01');
INSERT INTO "rc_customer" ("email") VALUES ('a@example.org'), ('b@example.org');
INSERT INTO "rc_order" ("customer_id", "email", "ref") VALUES
    (1, 'a@example.org', 'r1'), (2, 'z@example.org', 'r2');
INSERT INTO "rc_account" ("user_id", "warned_at", "kind") VALUES
    (1, '2024-12-30', 1), (2, NULL, 2);
"""

ITEM = '"rc_item"."id", "rc_item"."brand_id", "rc_brand"."id", "rc_brand"."name"'
# name -> (statement as Django writes it for SQLite, {table: rule} the guard must keep)
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "select_related_sort": (
        f'SELECT {ITEM} FROM "rc_item" INNER JOIN "rc_brand" '
        'ON ("rc_item"."brand_id" = "rc_brand"."id") WHERE "rc_item"."is_active" '
        'ORDER BY "rc_item"."created_at" DESC LIMIT 20',
        {"rc_item": "sort-limit"},
    ),
    "every_queue": (
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(SELECT U0."id" FROM "rc_queue" U0) AND "rc_ticket"."created" >= \'2024-12-01\' '
        'AND NOT ("rc_ticket"."status" = 3))',
        {"rc_ticket": "filter"},
    ),
    "every_queue_joined": (
        'SELECT "rc_ticket"."id", "rc_queue"."title" FROM "rc_ticket" INNER JOIN "rc_queue" '
        'ON ("rc_ticket"."queue_id" = "rc_queue"."id") WHERE ("rc_ticket"."created" >= '
        '\'2024-12-01\' AND NOT ("rc_ticket"."status" = 3))',
        {"rc_ticket": "filter"},
    ),
    "or_across_join": (
        'SELECT COUNT(*) AS "__count" FROM "rc_order" INNER JOIN "rc_customer" '
        'ON ("rc_order"."customer_id" = "rc_customer"."id") WHERE ("rc_customer"."email" = '
        "'a@example.org' OR \"rc_order\".\"email\" = 'a@example.org')",
        {"rc_order": "unservable"},
    ),
    "exclude_across_join": (
        'SELECT "rc_account"."id" FROM "rc_account" INNER JOIN "auth_user" '
        'ON ("rc_account"."user_id" = "auth_user"."id") WHERE ("rc_account"."warned_at" < '
        '\'2025-01-01\' AND NOT ("auth_user"."last_login" > ("rc_account"."warned_at") '
        'AND "auth_user"."last_login" IS NOT NULL)) ORDER BY "rc_account"."id" ASC',
        {"rc_account": "filter"},
    ),
    # Against them: the other side restricted to few rows of its own.
    "driven_by_unique_email": (
        'SELECT "rc_order"."id" FROM "rc_order" INNER JOIN "rc_customer" '
        'ON ("rc_order"."customer_id" = "rc_customer"."id") WHERE ("rc_customer"."email" = '
        "'a@example.org' AND \"rc_order\".\"ref\" = 'r1')",
        {},
    ),
    "driven_by_unique_username": (
        'SELECT "rc_account"."id" FROM "rc_account" INNER JOIN "auth_user" '
        'ON ("rc_account"."user_id" = "auth_user"."id") WHERE ("auth_user"."username" = '
        '\'alice\' AND "rc_account"."kind" = 1)',
        {},
    ),
    "queue_found_by_its_key": (
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(SELECT U0."id" FROM "rc_queue" U0 WHERE U0."title" = \'support\') '
        'AND NOT ("rc_ticket"."status" = 3))',
        # The queue's title has no index: that read is the queue's own finding, not the tickets'.
        {"rc_queue": "filter"},
    ),
    # A long IN list (MariaDB turns one of 1,000 values or more into a join with a table of
    # the values): the list is the table's own condition, served when its column is indexed.
    "long_in_list_unindexed": (
        'SELECT "rc_ticket"."id" FROM "rc_ticket" WHERE "rc_ticket"."status" IN ('
        + ", ".join(str(i) for i in range(1, 1201))
        + ")",
        {"rc_ticket": "filter"},
    ),
    "long_in_list_indexed": (
        'SELECT "rc_ticket"."id" FROM "rc_ticket" WHERE "rc_ticket"."queue_id" IN ('
        + ", ".join(str(i) for i in range(1, 1201))
        + ")",
        {},
    ),
    # An aggregate ordered by its value (``annotate(n=Count(...)).order_by("-n")[:10]``): no
    # index holds that order; every row is counted whatever the indexes.
    "aggregate_ordered_by_its_value": (
        'SELECT "rc_ticket"."queue_id", COUNT("rc_ticket"."id") AS "n" FROM "rc_ticket" '
        'GROUP BY "rc_ticket"."queue_id" ORDER BY "n" DESC LIMIT 10',
        {},
    ),
    "aggregate_ordered_by_position": (
        'SELECT "rc_ticket"."queue_id", COUNT("rc_ticket"."id") AS "n" FROM "rc_ticket" '
        'GROUP BY "rc_ticket"."queue_id" ORDER BY 2 DESC LIMIT 10',
        {},
    ),
    # The page of a ticket list: DISTINCT over the join to every queue, ordered by created.
    "distinct_page_of_every_queue": (
        'SELECT DISTINCT "rc_ticket"."id", "rc_ticket"."created", "rc_queue"."title" '
        'FROM "rc_ticket" INNER JOIN "rc_queue" ON ("rc_ticket"."queue_id" = "rc_queue"."id") '
        'WHERE "rc_ticket"."queue_id" IN (SELECT U0."id" FROM "rc_queue" U0) '
        'ORDER BY "rc_ticket"."created" ASC LIMIT 25',
        {"rc_ticket": "sort-limit"},
    ),
    # A correlated sub-query (MariaDB's DEPENDENT SUBQUERY) that walks a whole index, the
    # second column of (owner_id, created), again for every ticket.
    "correlated_subquery_reads_a_whole_index": (
        'SELECT "rc_ticket"."id", (SELECT MAX(U0."created") FROM "rc_flip" U0 '
        'WHERE U0."created" > ("rc_ticket"."created")) AS "latest" FROM "rc_ticket"',
        {"rc_flip": "join"},
    ),
    # A flag on the other side keeps most of it: no restriction.
    "queue_restricted_by_a_flag_only": (
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(SELECT U0."id" FROM "rc_queue" U0 WHERE U0."title" IS NOT NULL) '
        'AND "rc_ticket"."created" >= \'2024-12-01\')',
        {"rc_ticket": "filter"},
    ),
}


@pytest.fixture(scope="module")
def database() -> Iterator[sqlite3.Connection]:
    raw = sqlite3.connect(":memory:", isolation_level=None)
    raw.executescript(SCHEMA)
    yield raw
    raw.close()


def _judged(backend: Any, raw: Any, statement: str) -> dict[str, str]:
    plan = backend.explain(raw, statement, forced=True).plan
    context = Context(
        schema=backend.schema(raw),
        few_values=lambda table, column: column == "is_active",
    )
    assessment = backend.assess(raw, statement, plan, context)
    assert not assessment.errors, assessment.errors
    return {f.table: f.rule.value for f in assessment.findings if f.rule is not None}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sqlite_join_key_spares_a_read_only_when_the_other_side_is_restricted(
    database: sqlite3.Connection, name: str
) -> None:
    statement, expected = CASES[name]
    assert _judged(SQLite(), database, statement) == expected


# MySQL's spelling of the schema: backquotes, its own column types, the foreign keys left out
# (every one of them has an index of its own already, which is all InnoDB would add).
MYSQL_SCHEMA = [
    re.sub(r' REFERENCES "\w+" \("id"\) DEFERRABLE INITIALLY DEFERRED', "", statement)
    .replace('"', "`")
    .replace(
        "integer NOT NULL PRIMARY KEY AUTOINCREMENT", "integer AUTO_INCREMENT NOT NULL PRIMARY KEY"
    )
    .replace("datetime", "datetime(6)")
    for statement in SCHEMA.split(";")
    if statement.strip()
]
MYSQL_DATABASE = f"indexguard_recall_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture(scope="module")
def mariadb() -> Iterator[Any]:
    from plans.capture_mysql import connect

    url = reachable_mysql()
    raw = connect(url)
    with raw.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{MYSQL_DATABASE}`")
        cursor.execute(f"CREATE DATABASE `{MYSQL_DATABASE}` CHARACTER SET utf8mb4")
        cursor.execute(f"USE `{MYSQL_DATABASE}`")
        for statement in MYSQL_SCHEMA:
            cursor.execute(statement)
    yield raw
    with raw.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{MYSQL_DATABASE}`")
    raw.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_mariadb_join_key_spares_a_read_only_when_the_other_side_is_restricted(
    mariadb: Any, name: str
) -> None:
    statement, expected = CASES[name]
    backend = MySQL()
    with mariadb.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        backend.identify(str(cursor.fetchone()[0]))
    assert _judged(backend, mariadb, statement.replace('"', "`")) == expected
