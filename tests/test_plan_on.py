"""``--indexguard-plan-on``: a suite that tests on SQLite, judged by PostgreSQL's planner on a
shadow database with the project's schema and no rows (``pytest_indexguard/shadow.py``).

The tests run on their own SQLite databases exactly as before; the PostgreSQL planned on is the
test session's own server (``DATABASE_URL``: the embedded PostgreSQL 18, or the one CI names).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import DjangoProject, SampleApp
from pytest_indexguard import shadow
from test_sample_app import FAILED_LOG_TESTS, HISTORY_TESTS, RECENT_LOG_TESTS, RETRY_TESTS

UNINDEXED = RETRY_TESTS | FAILED_LOG_TESTS | HISTORY_TESTS | RECENT_LOG_TESTS


@pytest.fixture
def server() -> str:
    """The session's PostgreSQL server, as ``--indexguard-plan-on`` names one (no database)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL names no PostgreSQL server to plan on")
    return urlunsplit(urlsplit(url)._replace(path="/"))


@pytest.fixture
def admin(server: str) -> Iterator[object]:
    import psycopg

    with psycopg.connect(
        urlunsplit(urlsplit(server)._replace(path="/postgres")), autocommit=True
    ) as conn:
        yield conn


def left_behind(admin: object) -> list[str]:
    """Shadow databases of this host whose process has ended."""
    rows = admin.execute(  # type: ignore[attr-defined]
        f"SELECT datname FROM pg_database WHERE datname LIKE '{shadow.PREFIX}%'"
    ).fetchall()
    return sorted(name for (name,) in rows if shadow._gone(name))


def nothing_left(admin: object) -> bool:
    """No shadow database of an ended process stays. Another test's run may be between its
    workers' end and its own, when it drops theirs: such a database goes within seconds, one
    a run failed to drop stays."""
    for _ in range(30):
        if not left_behind(admin):
            return True
        time.sleep(1)
    return False


def index_lines(run_output: str, section: str) -> list[str]:
    return [line.strip() for line in section.splitlines() if line.strip().startswith("index:")]


def test_sqlite_suite_fails_where_postgresql_fails_with_postgresql_advice(
    sample_app: SampleApp, server: str, monkeypatch: pytest.MonkeyPatch, admin: object
) -> None:
    on_postgresql = sample_app.run("--without-indexes")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    run = sample_app.run("--without-indexes", f"--indexguard-plan-on={server}")
    failed = {name for name, outcome in run.outcomes().items() if outcome == "failed"}
    assert failed == UNINDEXED, run.output
    assert {n for n, o in on_postgresql.outcomes().items() if o == "failed"} == UNINDEXED
    for name in UNINDEXED:
        section = run.section(name)
        # PostgreSQL's words, plan and suggestions, verified on the shadow database.
        assert "planned: on PostgreSQL (--indexguard-plan-on), the query compiled for it" in (
            section
        ), section
        assert "verified: planned with it" in section, section
        assert index_lines(run.output, section) == index_lines(
            on_postgresql.output, on_postgresql.section(name)
        ), (section, on_postgresql.section(name))
    for name in RETRY_TESTS:
        assert (
            "upstream_webhookdelivery: Seq Scan filters rows that no index serves; "
            "no index on (status, next_attempt_at)"
        ) in run.section(name)
    assert "AddIndexConcurrently" in run.output  # PostgreSQL's migration advice
    assert re.search(
        r"planned on PostgreSQL \(--indexguard-plan-on\): \d+ distinct statements, on a "
        r"database with no rows made from the test database's \d+ migrations",
        run.output,
    ), run.output
    # Every ORM statement is planned on PostgreSQL; only raw SQL (Django 4.2's introspection of
    # SQLite, in tests/test_schema.py) is judged on SQLite.
    assert "planned: judged on" not in run.output
    reasons = re.findall(
        r"^  \d+: (.*)$", run.output.split("judged on the test database")[-1], re.M
    )
    if "judged on the test database" in run.output:
        assert set(reasons) == {"not sent by a Django query (raw SQL)"}, run.output
    assert "planned on PostgreSQL (--indexguard-plan-on)\n" in run.output  # the header
    assert nothing_left(admin)


def test_with_the_index_migration_nothing_fails_on_an_embedded_postgresql(
    sample_app: SampleApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``postgresql`` starts an embedded server once, before pytest-xdist's workers, which
    plan on it (each on a shadow database of its own)."""
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv(shadow.ENV, raising=False)
    run = sample_app.run("--indexguard-plan-on=postgresql", "-n", "2")
    outcomes = run.outcomes()
    assert len(outcomes) >= 20, run.output
    assert set(outcomes.values()) <= {"passed", "skipped"}, run.output
    assert "violations: none" in run.output
    assert ", planned on PostgreSQL (--indexguard-plan-on)\n" in run.output  # the header
    assert re.search(r"planned on PostgreSQL \(--indexguard-plan-on\): \d+ distinct", run.output)


RAW_AND_FOREIGN = """
import pytest
from django.db import connection
from django.db.models import F, Func, IntegerField, Value
from shop.models import Customer


@pytest.mark.django_db
def test_raw_sql():
    Customer.objects.create(name="a", city="x")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shop_customer WHERE city = %s", ["x"])
        assert cursor.fetchall()


@pytest.mark.django_db
def test_a_function_postgresql_lacks():
    Customer.objects.create(name="a", city="xyz")
    found = Customer.objects.annotate(
        at=Func(F("city"), Value("y"), function="instr", output_field=IntegerField())
    ).filter(at__gt=0)
    assert [c.name for c in found] == ["a"]


@pytest.mark.django_db
def test_orm():
    Customer.objects.create(name="a", city="x")
    assert Customer.objects.filter(city="x").count() == 1
"""


def test_what_cannot_be_compiled_is_judged_on_sqlite_and_said(
    django_project: DjangoProject, server: str, monkeypatch: pytest.MonkeyPatch, admin: object
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    django_project.write_tests(RAW_AND_FOREIGN)
    report = django_project.pytester.path / "report.json"
    run = django_project.run(
        "--indexguard", f"--indexguard-plan-on={server}", f"--indexguard-report={report}"
    )
    outcomes = run.outcomes()
    assert outcomes == {
        "test_raw_sql": "failed",
        "test_a_function_postgresql_lacks": "failed",
        "test_orm": "failed",
    }, run.output
    for name in outcomes:  # each by the guard alone
        assert "indexguard: 1 statement needs a full scan" in run.section(name), run.output
    raw = run.section("test_raw_sql")
    assert "shop_customer: SCAN" in raw, raw  # SQLite's plan
    assert (
        "planned: judged on SQLite, the test database, not on PostgreSQL: not sent by a "
        "Django query (raw SQL)"
    ) in raw
    foreign = run.section("test_a_function_postgresql_lacks")
    assert (
        "planned: judged on SQLite, the test database, not on PostgreSQL: PostgreSQL could "
        "not plan it (function instr"
    ) in foreign, foreign
    orm = run.section("test_orm")
    assert "shop_customer: Seq Scan" in orm, orm  # PostgreSQL's plan
    assert "planned: on PostgreSQL (--indexguard-plan-on)" in orm
    # The shop app has no migrations: the shadow is made from the models, as its test database.
    assert (
        "on a database with no rows made from the test database's 0 migrations" in (run.output)
        or "tables from the models" in run.output
    ), run.output
    assert "judged on the test database, not on PostgreSQL: 2 distinct statements" in run.output
    assert "  1: not sent by a Django query (raw SQL)" in run.output
    assert nothing_left(admin)
    # The report says which planner judged each finding, and why not PostgreSQL's.
    data = json.loads(report.read_text())
    assert data["settings"]["plan_on"] == "postgresql"
    judged = sorted((v["tests"][0].split("::")[-1], v["judged_by"]) for v in data["violations"])
    assert judged == [
        ("test_a_function_postgresql_lacks", "sqlite"),
        ("test_orm", "postgresql"),
        ("test_raw_sql", "sqlite"),
    ]
    reasons = {v["tests"][0].split("::")[-1]: v["judged_here"] for v in data["violations"]}
    assert reasons["test_raw_sql"] == "not sent by a Django query (raw SQL)"
    assert reasons["test_orm"] is None


ORM_ONLY = """
import pytest
from shop.models import Customer


@pytest.mark.django_db
def test_orm():
    Customer.objects.create(name="a", city="x")
    assert Customer.objects.filter(city="x").count() == 1
"""


def test_a_baseline_says_which_planner_recorded_it(
    django_project: DjangoProject, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    django_project.write_tests(ORM_ONLY)
    path = django_project.pytester.path / "baseline.json"
    plan_on = f"--indexguard-plan-on={server}"
    use = f"--indexguard-baseline={path}"
    recorded = django_project.run("--indexguard", plan_on, use, "--indexguard-update-baseline")
    assert recorded.outcomes() == {"test_orm": "passed"}, recorded.output
    document = json.loads(path.read_text())
    assert document["planned_on"] == "postgresql"
    assert len(document["violations"]) == 1

    same = django_project.run("--indexguard", plan_on, use)
    assert same.outcomes() == {"test_orm": "passed"}, same.output
    assert "baseline: recorded" not in same.output
    other = django_project.run("--indexguard", use)
    assert (
        "baseline: recorded with --indexguard-plan-on (PostgreSQL's plans); this run judges by "
        "the test database's own planner, so its entries and this run's findings may not "
        "match: run with the same --indexguard-plan-on, or record the baseline again"
    ) in other.output, other.output
    assert other.output.count("baseline: recorded with") == 1


def test_a_shadow_left_by_a_crashed_run_is_dropped(
    django_project: DjangoProject, server: str, monkeypatch: pytest.MonkeyPatch, admin: object
) -> None:
    pid = 2**22 + 12345  # above Linux's pid_max: no process has it
    stale = shadow.database_name(pid)
    admin.execute(f'CREATE DATABASE "{stale}"')  # type: ignore[attr-defined]
    try:
        assert stale in left_behind(admin)
        monkeypatch.setenv("DATABASE_URL", "sqlite://")
        django_project.write_tests(
            "import pytest\nfrom shop.models import Customer\n\n\n@pytest.mark.django_db\n"
            "def test_orm():\n    assert not Customer.objects.filter(name='a').exists()\n"
        )
        run = django_project.run("--indexguard", f"--indexguard-plan-on={server}")
        assert run.outcomes() == {"test_orm": "passed"}, run.output
        assert stale not in left_behind(admin)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{stale}"')  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "value", ["mysql://root@localhost/", "sqlite://", "oracle", "http://localhost:5432/"]
)
def test_a_bad_value_is_a_usage_error(django_project: DjangoProject, value: str) -> None:
    django_project.write_tests("def test_nothing():\n    pass\n")
    run = django_project.run("--indexguard", f"--indexguard-plan-on={value}")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR, run.output
    assert (
        "--indexguard-plan-on: expected 'postgresql' (an embedded PostgreSQL, from the "
        f"[embedded] extra) or a server's URL postgres://user:password@host:port/, got {value!r}"
    ) in run.output
    assert "Traceback" not in run.output


def test_django_runner_in_parallel_fails_the_same_tests_and_leaves_no_shadow(
    server: str, admin: object
) -> None:
    from test_django_runner import FAILING, manage_test

    run = manage_test(
        "--without-indexes",
        "--parallel=2",
        f"--indexguard-plan-on={server}",
        database_url="sqlite://",
    )
    assert run.returncode == 1, run.output
    assert run.failed() == FAILING, run.output
    for name in RETRY_TESTS:
        section = run.section(name)
        assert (
            "upstream_webhookdelivery: Seq Scan filters rows that no index serves; "
            "no index on (status, next_attempt_at)"
        ) in section, section
        assert "planned: on PostgreSQL (--indexguard-plan-on)" in section
    assert "planned on PostgreSQL (--indexguard-plan-on):" in run.stderr
    # Each worker process planned on a shadow of its own; the runner drops them at the end.
    assert nothing_left(admin)


def test_a_list_of_every_key_is_judged_by_the_test_databases_rows(
    django_project: DjangoProject, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shadow holds no rows: whether a list names every queue is asked of the test
    database, so ``queue_id IN (<every queue>)`` fails as it does on PostgreSQL itself, and a
    list of some queues passes."""
    from conftest import DESK
    from test_listed_keys import ORDER_TESTS

    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    django_project.add_app("desk", DESK)
    django_project.write_tests(ORDER_TESTS.format(every="a", some="b"))
    run = django_project.run("--indexguard", f"--indexguard-plan-on={server}", "-p", "no:randomly")
    outcomes = run.outcomes()
    assert outcomes == {"test_a_every_queue": "failed", "test_b_some_queues": "passed"}, run.output
    section = run.section("test_a_every_queue")
    assert "keys:    the list names every row of desk_queue (all 3 of its rows" in section, section
    assert "planned: on PostgreSQL (--indexguard-plan-on)" in section


def test_a_postgresql_test_database_is_judged_on_itself(
    django_project: DjangoProject, server: str
) -> None:
    django_project.write_tests(ORM_ONLY)
    run = django_project.run("--indexguard", f"--indexguard-plan-on={server}")
    assert run.outcomes() == {"test_orm": "failed"}, run.output
    section = run.section("test_orm")
    assert "shop_customer: Seq Scan" in section, section
    assert "planned:" not in section
    assert (
        "--indexguard-plan-on: every statement was judged on a PostgreSQL test database itself"
    ) in run.output


def test_a_psycopg2_environment_plans_through_psycopg2(
    sample_app: SampleApp, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where only psycopg2 is installed, the shadow database is reached through it."""
    from conftest import on_psycopg2

    on_psycopg2(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    run = sample_app.run("--without-indexes", f"--indexguard-plan-on={server}")
    failed = {name for name, outcome in run.outcomes().items() if outcome == "failed"}
    assert failed == UNINDEXED, run.output
    for name in RETRY_TESTS:
        section = run.section(name)
        assert "Seq Scan filters rows that no index serves" in section, section
        assert "verified: planned with it" in section, section


LOCKED_AND_SAVED = """
import pytest
from django.db import transaction
from django.db.models import F
from shop.models import Customer


@pytest.mark.django_db
def test_locked():
    Customer.objects.create(name="a", city="x")
    with transaction.atomic():
        assert [c.name for c in Customer.objects.select_for_update().filter(city="x")] == ["a"]


@pytest.mark.django_db
def test_saved_with_an_expression():
    customer = Customer.objects.create(name="a", city="x")
    customer.visits = F("visits") + 1
    customer.save()
    Customer.objects.filter(city="x").update(visits=F("visits") + 1)
"""


def test_a_locking_read_and_an_update_are_planned_on_postgresql(
    django_project: DjangoProject, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``select_for_update()`` (compiled as inside the test's transaction, where SQLite ran it)
    and updates are compiled for PostgreSQL like reads; -v shows the statement planned."""
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    django_project.write_tests(LOCKED_AND_SAVED)
    run = django_project.run("--indexguard", f"--indexguard-plan-on={server}", "-v")
    assert run.outcomes() == {"test_locked": "failed", "test_saved_with_an_expression": "failed"}
    locked = run.section("test_locked")
    assert "shop_customer: Seq Scan" in locked, locked
    assert "FOR UPDATE" in locked.split("as:", 1)[1].splitlines()[0], locked
    saved = run.section("test_saved_with_an_expression")
    assert "shop_customer: Seq Scan" in saved, saved
    assert "as:      UPDATE" in saved, saved
    assert "judged on the test database" not in run.output, run.output
