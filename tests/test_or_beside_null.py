"""An OR across tables beside an ``IS NULL`` of the driving table's own: a test-case manager's
dashboard, ``TestRun.objects.filter(Q(manager=u) | Q(default_tester=u) |
Q(executions__assignee=u), stop_date__isnull=True).order_by("-pk").distinct()`` (Kiwi TCMS).
The few rows' plan walks the runs by primary key, filters ``stop_date IS NULL`` there, and
reaches each run's executions through the run_id index; an index on stop_date serves the
``IS NULL``, which the guard took as the restriction, and let the statement go. At scale (30,000
runs, 1,000,000 executions) PostgreSQL hashes the open runs and reads the executions whole,
371 to 789 ms: ``IS NULL`` keeps a share of the runs that is production's data (the open
ones), and the OR, which no index serves, is the real restriction. Judged live on the server
of ``DATABASE_URL``; each case beside the one that must stay quiet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import mysql_database
from plans import live_judge
from plans.backend_scenarios import judged as backend_judged
from pytest_indexguard.explain.mysql import MySQL
from pytest_indexguard.judge import Production
from pytest_indexguard.model import Rule
from pytest_indexguard.schema import ColumnShape

SCHEMA = f"indexguard_or_beside_null_{os.getpid()}"
SETUP = (
    "CREATE TABLE auth_user (id serial PRIMARY KEY, username varchar(150) NOT NULL UNIQUE)",
    "CREATE TABLE testplan (id serial PRIMARY KEY, name varchar(255) NOT NULL)",
    "CREATE TABLE testrun (id serial PRIMARY KEY, summary text NOT NULL, "
    "stop_date timestamptz NULL, plan_id int NOT NULL REFERENCES testplan (id), "
    "manager_id int NOT NULL REFERENCES auth_user (id), "
    "default_tester_id int NULL REFERENCES auth_user (id))",
    "CREATE INDEX testrun_plan ON testrun (plan_id)",
    "CREATE INDEX testrun_manager ON testrun (manager_id)",
    "CREATE INDEX testrun_tester ON testrun (default_tester_id)",
    "CREATE INDEX testrun_stop ON testrun (stop_date)",
    "CREATE TABLE testexecution (id serial PRIMARY KEY, "
    "run_id int NOT NULL REFERENCES testrun (id), "
    "assignee_id int NULL REFERENCES auth_user (id), status int NOT NULL)",
    "CREATE INDEX te_run ON testexecution (run_id)",
    "CREATE INDEX te_assignee ON testexecution (assignee_id)",
    "INSERT INTO auth_user (username) VALUES ('a'), ('b'), ('c')",
    "INSERT INTO testplan (name) VALUES ('p1'), ('p2')",
    "INSERT INTO testrun (summary, stop_date, plan_id, manager_id, default_tester_id) VALUES "
    "('r1', NULL, 1, 1, 2), ('r2', now(), 1, 2, NULL), ('r3', NULL, 2, 3, 3)",
    "INSERT INTO testexecution (run_id, assignee_id, status) VALUES "
    "(1, 1, 1), (1, 2, 2), (2, 3, 1), (3, NULL, 1)",
    "ANALYZE",
)
MINE = "(testrun.manager_id = 1 OR testrun.default_tester_id = 1 OR testexecution.assignee_id = 1)"
JOINED = "FROM testrun LEFT OUTER JOIN testexecution ON (testrun.id = testexecution.run_id)"
PAGE = f"SELECT DISTINCT testrun.id, testrun.summary {JOINED} WHERE ({{where}}) "
PAGE += "ORDER BY testrun.id DESC LIMIT 15"
COUNT = "SELECT COUNT(*) FROM (SELECT DISTINCT testrun.id AS c1, testrun.summary AS c2 "
COUNT += f"{JOINED} WHERE ({{where}})) subquery"
SHAPES = {"page": PAGE, "count": COUNT}


def judged(conn: psycopg.Connection[Any], statement: str, **context: Any) -> dict[str, str]:
    found = live_judge.judged(conn, SCHEMA, SETUP, statement, **context)
    return {f.table: f"{f.rule.value if f.rule else None}:{f.unservable}" for f in found}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("null", ["stop_date IS NULL", "stop_date IS NOT NULL"])
def test_an_or_across_tables_beside_a_null_test_reads_both_tables(
    live_postgres: psycopg.Connection[Any], shape: str, null: str
) -> None:
    statement = SHAPES[shape].format(where=f"{MINE} AND testrun.{null}")
    unservable = f"{Rule.UNSERVABLE.value}:or-across-tables"
    assert judged(live_postgres, statement) == {
        "testrun": unservable,
        "testexecution": unservable,
    }


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_selective_filter_of_the_driving_table_spares_the_join(
    live_postgres: psycopg.Connection[Any], shape: str
) -> None:
    # One plan's runs (an index on plan_id finds them): the OR sifts the rows it finds.
    statement = SHAPES[shape].format(
        where=f"{MINE} AND testrun.stop_date IS NULL AND testrun.plan_id = 1"
    )
    assert judged(live_postgres, statement) == {}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_production_shape_of_the_open_runs(
    live_postgres: psycopg.Connection[Any], shape: str
) -> None:
    statement = SHAPES[shape].format(where=f"{MINE} AND testrun.stop_date IS NULL")

    def production(open_share: float) -> Production:
        shape = ColumnShape(n_distinct=-0.9, null_frac=open_share)
        return Production(
            rows={"testrun": 30_000, "testexecution": 1_000_000},
            columns={"testrun": {"stop_date": shape}},
            threshold=1_000,
        )

    # 0.1% of 30,000 runs open: the stop_date index finds the 30, and each one's executions
    # through run_id; the OR sifts those.
    assert judged(live_postgres, statement, production=production(0.001)) == {}
    # A fifth open: the index finds those 6,000, and the executions are read whole.
    assert set(judged(live_postgres, statement, production=production(0.2))) == {"testexecution"}
    # Most open: both are read whole.
    assert set(judged(live_postgres, statement, production=production(0.9))) == {
        "testrun",
        "testexecution",
    }


# MariaDB: the same tables (its spelling), the OR checked per pair of rows. Its plan shows the
# runs found through the stop_date index as a lookup by a constant, like ``plan_id = 1``: the
# statement's IS NULL tells the two apart.
MYSQL_SETUP = tuple(
    statement.replace("serial PRIMARY KEY", "integer AUTO_INCREMENT NOT NULL PRIMARY KEY")
    .replace("timestamptz", "datetime(6)")
    .replace("now()", "'2024-12-30 10:00:00'")
    for statement in SETUP
    if statement != "ANALYZE"
)
MYSQL_DATABASE = f"indexguard_or_beside_null_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture(scope="module")
def mariadb() -> Iterator[Any]:
    yield from mysql_database(MYSQL_DATABASE, MYSQL_SETUP)


@pytest.mark.parametrize(("plan", "expected"), [("", {"testexecution"}), (" = 1", set())])
def test_mariadb_names_the_executions_unless_the_runs_are_one_plans(
    mariadb: Any, plan: str, expected: set[str]
) -> None:
    restriction = f" AND testrun.plan_id{plan}" if plan else ""
    statement = PAGE.format(where=f"{MINE} AND testrun.stop_date IS NULL{restriction}")
    backend = MySQL()
    with mariadb.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        backend.identify(str(cursor.fetchone()[0]))
    assert set(backend_judged(backend, mariadb, statement)) == expected


# healthchecks' pruneusers: the profiles warned a month ago whose user has not logged in since,
# ``Profile.objects.filter(deletion_notice_date__lt=d).exclude(user__last_login__gt=
# F("deletion_notice_date"))``. Django negates the comparison NULL-safely, an OR of a
# comparison of the two tables' columns and two NULL tests: no value restricts either table.
PROFILES = (
    "CREATE TABLE auth_user (id serial PRIMARY KEY, last_login timestamptz NULL)",
    "CREATE TABLE profile (id serial PRIMARY KEY, "
    "user_id int NOT NULL UNIQUE REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED, "
    "deletion_notice_date timestamptz NULL, tz varchar(200) NOT NULL DEFAULT 'UTC')",
    "INSERT INTO auth_user (last_login) VALUES (NULL), ('2024-12-01'), ('2024-12-20')",
    "INSERT INTO profile (user_id, deletion_notice_date) VALUES (1, '2024-11-01'), (2, NULL)",
)
# Earlier tests' rows, rolled back, leave the profiles' file grown: the forced plan then starts
# from the users (test order decided which statement the guard saw first).
GROWN = (
    "SAVEPOINT grown",
    "INSERT INTO profile (user_id, tz) SELECT g, repeat('x', 200) "
    "FROM generate_series(100, 20100) g",
    "ROLLBACK TO SAVEPOINT grown",
)
WARNED = (
    "SELECT profile.id FROM profile INNER JOIN auth_user ON (profile.user_id = auth_user.id) "
    "WHERE (profile.deletion_notice_date < '2024-12-05' AND NOT (auth_user.last_login > "
    "(profile.deletion_notice_date) AND auth_user.last_login IS NOT NULL AND "
    "profile.deletion_notice_date IS NOT NULL)) ORDER BY profile.id ASC"
)


@pytest.mark.parametrize("state", ["fresh", "grown"])
def test_a_null_safe_exclude_across_a_join_is_no_or_across_tables(
    live_postgres: psycopg.Connection[Any], state: str
) -> None:
    setup = PROFILES + (GROWN if state == "grown" else ())
    found = live_judge.judged(live_postgres, SCHEMA, setup, WARNED)
    # The warning date, which no index serves, is the finding whichever table the few rows'
    # plan starts from; the users are not named under an OR no split would serve.
    assert {(f.table, f.rule, f.unservable) for f in found} == {("profile", Rule.FILTER, None)}
