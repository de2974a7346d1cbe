"""The guard never changes what a test sees: same rows, same sequence values, same prepared
statements, with and without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DjangoProject

WRITES = """
import json
import os

import pytest
from django.db import connection, transaction
from django.db.models import F

from shop.models import Customer, Invoice, Order


def _snapshot(label):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name, city, visits FROM shop_customer ORDER BY id")
        customers = cursor.fetchall()
        cursor.execute("SELECT id, customer_id, status FROM shop_order ORDER BY id")
        orders = cursor.fetchall()
        cursor.execute("SELECT id, order_id, number, paid FROM shop_invoice ORDER BY id")
        invoices = cursor.fetchall()
        sequences = {}
        for table in ("shop_customer", "shop_order", "shop_invoice"):
            cursor.execute(f"SELECT last_value, is_called FROM {table}_id_seq")
            sequences[table] = list(cursor.fetchone())
    with open(os.environ["SNAPSHOT"], "a") as out:
        out.write(json.dumps([label, customers, orders, invoices, sequences]) + "\\n")


def _work():
    customer = Customer.objects.create(name="acme", city="Oslo")
    for _ in range(3):
        Customer.objects.filter(pk=customer.pk).update(visits=F("visits") + 1)
    Customer.objects.filter(city="Oslo").update(visits=F("visits") * 10)
    orders = Order.objects.bulk_create([Order(customer=customer) for _ in range(4)])
    Order.objects.filter(customer=customer, status="new").update(status="paid")
    Invoice.objects.bulk_create(
        [Invoice(order=order, number=f"N{order.pk}") for order in orders]
    )
    Invoice.objects.filter(number__in=["N1", "N2"]).update(paid=True)
    Customer.objects.get_or_create(name="beta", defaults={"city": "Bergen"})
    Customer.objects.get_or_create(name="beta", defaults={"city": "Bergen"})
    with transaction.atomic():
        Order.objects.filter(pk=orders[0].pk).delete()


@pytest.mark.django_db
@pytest.mark.indexguard_allow(reason="only the data matters here")
def test_in_a_transaction():
    _work()
    _snapshot("atomic")


@pytest.mark.django_db(transaction=True)
@pytest.mark.indexguard_allow(reason="only the data matters here")
def test_in_autocommit():
    _work()
    _snapshot("autocommit")
"""


def test_same_rows_and_sequences_with_and_without_the_guard(
    driver: str, django_project: DjangoProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    django_project.write_tests(WRITES)
    snapshots = {}
    for label, args in (("without", ()), ("with", ("--indexguard",))):
        path = tmp_path / f"{label}.jsonl"
        monkeypatch.setenv("SNAPSHOT", str(path))
        run = django_project.run(*args)
        assert run.outcomes() == {"test_in_a_transaction": "passed", "test_in_autocommit": "passed"}
        snapshots[label] = [json.loads(line) for line in path.read_text().splitlines()]
        if args:
            # The guard did look at these statements: the comparison is not vacuous.
            assert "allowed" in run.output, run.output
            assert "EXPLAIN run" in run.output, run.output
    assert snapshots["with"] == snapshots["without"]
    assert len(snapshots["with"]) == 2
    _label, customers, _orders, _invoices, sequences = snapshots["with"][0]
    assert customers[0][3] == 30  # three increments, then times ten
    assert sequences["shop_order"] == [4, True]


# The transaction states the guard meets, each with a statement whose EXPLAIN fails (a value
# PostgreSQL rejects) next to statements it explains: the test sees what it would see without
# the guard, the driver and its settings included.
STATES = """
import pytest
from django.db import DataError, InternalError, ProgrammingError, connection, connections
from django.db import transaction

from shop.models import Customer

# Only what the test sees matters here: the scans of shop_customer are allowed.
pytestmark = pytest.mark.indexguard_allow("shop_customer", reason="only the states matter")


def test_the_driver():
    print("driver:", connection.Database.__name__)


def _setting(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def _bad_value():
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shop_customer WHERE id = %s", ["not-a-number"])


def _committed_names():
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT name FROM shop_customer ORDER BY name")
            return [name for (name,) in cursor.fetchall()]
    finally:
        other.close()


@pytest.mark.django_db
def test_an_error_inside_an_atomic_block():
    Customer.objects.create(name="kept", city="Oslo")
    with pytest.raises(DataError), transaction.atomic():
        Customer.objects.create(name="gone", city="Oslo")
        _bad_value()
    assert list(Customer.objects.filter(city="Oslo").values_list("name", flat=True)) == ["kept"]
    assert _setting("enable_seqscan") == "on"


@pytest.mark.django_db
def test_a_syntax_error_inside_an_atomic_block():
    # The guard's string does not parse either, savepoint included, and aborts the transaction:
    # so does the statement, which still gets its own error (parsed before the state is looked
    # at), and the atomic block restores the transaction as without the guard.
    Customer.objects.create(name="kept", city="Oslo")
    with pytest.raises(ProgrammingError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM shop_customer WHERE city = %s AND", ["Oslo"])
    assert Customer.objects.filter(city="Oslo").count() == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_in_autocommit():
    assert connection.get_autocommit()
    Customer.objects.create(name="one", city="Oslo")
    with pytest.raises(DataError):
        _bad_value()
    Customer.objects.filter(city="Oslo").update(visits=2)
    # Nothing left open: another connection sees every write.
    assert _committed_names() == ["one"]
    assert Customer.objects.filter(city="Oslo", visits=2).count() == 1
    assert _setting("enable_seqscan") == "on"
    assert connection.get_autocommit()


@pytest.mark.django_db(transaction=True)
def test_an_atomic_block_before_its_first_statement():
    # The driver has not sent BEGIN yet when the first statement is checked.
    with transaction.atomic():
        assert Customer.objects.filter(city="Oslo").count() == 0
        Customer.objects.create(name="rolled back", city="Oslo")
        assert _setting("enable_seqscan") == "on"
        transaction.set_rollback(True)
    assert _committed_names() == []
    with transaction.atomic():
        with pytest.raises(DataError), transaction.atomic():
            _bad_value()
        Customer.objects.create(name="committed", city="Oslo")
    assert _committed_names() == ["committed"]
    assert connection.get_autocommit()


@pytest.mark.django_db
def test_a_broken_transaction_before_the_statement():
    Customer.objects.create(name="kept", city="Oslo")
    with connection.cursor() as cursor, pytest.raises(DataError):
        cursor.execute("SELECT %s::int", ["not-a-number"])
    # Not explained (the transaction is aborted): the statement gets the server's own error.
    with pytest.raises(InternalError, match="current transaction is aborted"):
        list(Customer.objects.filter(city="Oslo"))
"""

STATE_OUTCOMES = {
    "test_the_driver": "passed",
    "test_an_error_inside_an_atomic_block": "passed",
    "test_a_syntax_error_inside_an_atomic_block": "passed",
    "test_outside_a_transaction_in_autocommit": "passed",
    "test_an_atomic_block_before_its_first_statement": "passed",
    "test_a_broken_transaction_before_the_statement": "passed",
}


def test_every_transaction_state_is_left_as_it_was(
    driver: str, django_project: DjangoProject
) -> None:
    django_project.write_tests(STATES)
    without = django_project.run("-s")
    run = django_project.run("-s", "--indexguard", "--indexguard-report=report.json")
    expected = STATE_OUTCOMES
    assert without.outcomes() == expected, without.output
    assert run.outcomes() == expected, run.output
    assert f"driver: {driver}" in run.output
    # The guard did check these statements and met each state: not a vacuous comparison.
    assert "EXPLAIN run" in run.output, run.output
    assert "allowed" in run.output, run.output
    assert "not explained: " in run.output
    assert "invalid input syntax for type bigint" in run.output
    assert "issued in an aborted transaction" in run.output
    assert "internal error" not in run.output, run.output
    assert "not checked" not in run.output


PREPARED = """
import pytest
from django.db import connection

from shop.models import Customer


def _prepared_count():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_prepared_statements_survive_the_guard():
    customer = Customer.objects.create(name="acme", city="Oslo")
    for _ in range(3):
        Customer.objects.get(pk=customer.pk)
    before = _prepared_count()
    assert before >= 1
    # New statements: the guard explains each one inside a savepoint and rolls it back.
    Customer.objects.filter(name="acme").exists()
    Customer.objects.filter(name__in=["acme", "beta"]).count()
    Customer.objects.get(pk=customer.pk)
    assert _prepared_count() >= before
"""


def test_prepared_statements_are_kept(
    django_project: DjangoProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXGUARD_INNER_SERVER_SIDE_BINDING", "1")
    django_project.write_tests(PREPARED)
    run = django_project.run("--indexguard")
    assert run.outcomes() == {"test_prepared_statements_survive_the_guard": "passed"}, run.output
    assert "EXPLAIN run" in run.output
