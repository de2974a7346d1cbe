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
    django_project: DjangoProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
