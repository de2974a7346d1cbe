"""Faults the guard meets in real suites: a lock held by another connection, a statement
timeout the application sets, the server going away in the middle of a test, statement lists
too long for sqlparse. None of them may hang a test, change its outcome or stop the run."""

from __future__ import annotations

from conftest import DjangoProject

FAULTS = """
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction
from shop.models import Customer


@pytest.mark.django_db(transaction=True)
def test_a_lock_held_by_another_connection():
    locked = threading.Event()

    def hold():  # on this thread's own connection, through the project's driver
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE shop_customer IN ACCESS EXCLUSIVE MODE")
                locked.set()
                time.sleep(1)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    # Waits for the lock (about 1 s) as it would without the guard, then runs: longer than the
    # guard's EXPLAIN waits for it (lock_timeout 500 ms) before giving up.
    assert Customer.objects.filter(city="Oslo").count() == 0
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 0.7


@pytest.mark.django_db
def test_a_statement_timeout_set_by_the_application():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '5s'")
    assert list(Customer.objects.filter(city="Oslo")) == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"


@pytest.mark.django_db(transaction=True)
def test_the_server_goes_away():
    assert Customer.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            # Gone before the test goes on, as when the server went away between statements.
            for _ in range(200):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.01)
    finally:
        other.close()
    with pytest.raises(OperationalError):  # a new statement: the guard meets the dead connection
        list(Customer.objects.filter(city="Bergen", visits=0))
    connection.close()


@pytest.mark.django_db
def test_the_run_goes_on():
    assert Customer.objects.filter(name="x").count() == 0


@pytest.mark.django_db
def test_an_in_list_of_100000_values():
    cities = [f"city {number}" for number in range(100_000)]
    assert list(Customer.objects.filter(city__in=cities)) == []
"""


def test_faults_neither_hang_nor_change_outcomes(
    driver: str, django_project: DjangoProject
) -> None:
    django_project.write_tests(FAULTS)
    without = django_project.run()
    run = django_project.run("--indexguard")
    outcomes = run.outcomes()
    assert without.outcomes() == {
        "test_a_lock_held_by_another_connection": "passed",
        "test_a_statement_timeout_set_by_the_application": "passed",
        "test_the_server_goes_away": "passed",
        "test_the_run_goes_on": "passed",
        "test_an_in_list_of_100000_values": "passed",
    }, without.output
    assert outcomes == {
        **without.outcomes(),
        # The guard's own verdicts: an unindexed city, in both.
        "test_a_statement_timeout_set_by_the_application": "failed",
        "test_an_in_list_of_100000_values": "failed",
    }, run.output
    # The EXPLAIN gave up on the lock after its lock_timeout: reported, not waited out.
    assert "canceling statement due to lock timeout" in run.output, run.output
    # A list of any length is judged, and reported with its values masked.
    in_list = run.section("test_an_in_list_of_100000_values")
    assert "filter:  ((city)::text = ANY (?::text[]))" in in_list, in_list
    assert "IN (...)" in in_list
    assert "city 99999" not in run.output
    assert "internal error" not in run.output, run.output
