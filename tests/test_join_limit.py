"""A read driven from an IN sub-query's few rows, past PostgreSQL's join_collapse_limit: Kiwi
TCMS's case history, ``HistoricalTestCase`` rows of the cases of one product
(``id__in=<sub-query>``) with seven lookups select_related beside each, ten tables in all. On a
few rows the plan walks the history and checks the sub-query per row, and an index on the
history's ``id`` looked like the way production would start from the product's cases. Past
join_collapse_limit (8) PostgreSQL joins the sub-query's side as written: at 600,000 history
rows it reads them all (1.1 s; 131 ms with the limits raised to 12, and the same with two
lookups fewer). Judged live on the server of ``DATABASE_URL``; each case beside the one that
must stay quiet. The standard holds the same shape at scale
(``recall_executions_of_a_manager_past_the_join_limit``)."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from plans import live_judge
from pytest_indexguard.model import Rule
from pytest_indexguard.report import rewrite_lines

SCHEMA = f"indexguard_join_limit_{os.getpid()}"
_USER = "int NULL REFERENCES auth_user (id)"
SETUP = (
    "CREATE TABLE auth_user (id serial PRIMARY KEY, username varchar(150) NOT NULL UNIQUE)",
    "CREATE TABLE product (id serial PRIMARY KEY, name varchar(64) NOT NULL)",
    "CREATE TABLE category (id serial PRIMARY KEY, name varchar(255) NOT NULL, "
    "product_id int NOT NULL REFERENCES product (id))",
    "CREATE INDEX category_product ON category (product_id)",
    "CREATE TABLE casestatus (id serial PRIMARY KEY, name varchar(255) NOT NULL)",
    "CREATE TABLE priority (id serial PRIMARY KEY, value varchar(64) NOT NULL)",
    "CREATE TABLE testcase (id serial PRIMARY KEY, summary text NOT NULL, "
    "category_id int NOT NULL REFERENCES category (id), "
    "author_id int NOT NULL REFERENCES auth_user (id))",
    "CREATE INDEX testcase_category ON testcase (category_id)",
    # django-simple-history's table: the case's id, indexed, beside a key of its own.
    "CREATE TABLE historicaltestcase (history_id serial PRIMARY KEY, id int NOT NULL, "
    "summary text NOT NULL, history_date timestamptz NOT NULL, "
    f"history_user_id {_USER}, author_id {_USER}, default_tester_id {_USER}, "
    f"reviewer_id {_USER}, case_status_id int NULL REFERENCES casestatus (id), "
    "category_id int NULL REFERENCES category (id), "
    "priority_id int NULL REFERENCES priority (id))",
    "CREATE INDEX h_id ON historicaltestcase (id)",
    "CREATE INDEX h_date ON historicaltestcase (history_date)",
    *(
        f"CREATE INDEX h_{column} ON historicaltestcase ({column})"
        for column in (
            "history_user_id",
            "author_id",
            "default_tester_id",
            "reviewer_id",
            "case_status_id",
            "category_id",
            "priority_id",
        )
    ),
    "INSERT INTO auth_user (username) VALUES ('a'), ('b')",
    "INSERT INTO product (name) VALUES ('p1'), ('p2')",
    "INSERT INTO category (name, product_id) VALUES ('c1', 1), ('c2', 2)",
    "INSERT INTO casestatus (name) VALUES ('s1'), ('s2')",
    "INSERT INTO priority (value) VALUES ('P1'), ('P2')",
    "INSERT INTO testcase (summary, category_id, author_id) VALUES ('t1', 1, 1), ('t2', 2, 2)",
    "INSERT INTO historicaltestcase (id, summary, history_date, history_user_id, author_id, "
    "default_tester_id, reviewer_id, case_status_id, category_id, priority_id) VALUES "
    "(1, 't1', now(), 1, 1, 2, 1, 1, 1, 1), (2, 't2', now(), 2, 2, 1, 2, 2, 2, 2), "
    "(1, 't1b', now(), 1, 1, 2, 1, 1, 1, 1)",
    "ANALYZE",
)
HISTORY = """SELECT h.history_id, h.id, h.summary, hu.username, a.username, dt.username,
r.username, cs.name, c.name, p.value
FROM historicaltestcase h
LEFT OUTER JOIN auth_user hu ON (h.history_user_id = hu.id)
LEFT OUTER JOIN auth_user a ON (h.author_id = a.id)
LEFT OUTER JOIN auth_user dt ON (h.default_tester_id = dt.id)
LEFT OUTER JOIN auth_user r ON (h.reviewer_id = r.id)
LEFT OUTER JOIN casestatus cs ON (h.case_status_id = cs.id)
LEFT OUTER JOIN category c ON (h.category_id = c.id)
LEFT OUTER JOIN priority p ON (h.priority_id = p.id)
WHERE h.id IN (SELECT U0.id FROM testcase U0 INNER JOIN category U1
ON (U0.category_id = U1.id) WHERE U1.product_id = 1)
ORDER BY h.history_date DESC, h.history_id DESC"""
LOOKUPS = (
    ("LEFT OUTER JOIN priority p ON (h.priority_id = p.id)\n", ", p.value"),
    ("LEFT OUTER JOIN category c ON (h.category_id = c.id)\n", ", c.name"),
)


def _without(lookups: int) -> str:
    """The history statement with its last ``lookups`` lookups left out."""
    statement = HISTORY
    for join, column in LOOKUPS[:lookups]:
        statement = statement.replace(join, "").replace(column, "")
    return statement


@pytest.mark.parametrize("fewer", [0, 1])
def test_past_the_join_limit_the_history_is_read_whole(
    live_postgres: psycopg.Connection[Any], fewer: int
) -> None:
    # Ten tables, and nine: more than join_collapse_limit.
    [found] = live_judge.judged(live_postgres, SCHEMA, SETUP, _without(fewer))
    assert (found.table, found.rule, found.unservable) == (
        "historicaltestcase",
        Rule.UNSERVABLE,
        "join-limit",
    )
    assert found.crowded == 10 - fewer
    assert "join_collapse_limit" in " ".join(rewrite_lines(found))


def test_within_the_join_limit_the_sub_query_drives(
    live_postgres: psycopg.Connection[Any],
) -> None:
    # Eight tables: PostgreSQL starts from the product's cases and finds their history rows
    # through the index on id.
    assert live_judge.judged(live_postgres, SCHEMA, SETUP, _without(2)) == []


def test_without_an_index_on_the_key_the_join_stands_on_its_own(
    live_postgres: psycopg.Connection[Any],
) -> None:
    # No index leads with the history's id: the join key is what to index, past the limit or
    # not.
    setup = tuple(s for s in SETUP if not s.startswith("CREATE INDEX h_id "))
    for fewer in (0, 2):
        [found] = live_judge.judged(live_postgres, SCHEMA, setup, _without(fewer))
        assert (found.table, found.rule) == ("historicaltestcase", Rule.JOIN)
