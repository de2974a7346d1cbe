"""Same verdicts whatever the data: a suite whose factories draw random values (how many rows,
which values, which parameters the tests send, whether autovacuum analysed a table before a
statement) run with three seeds, each in its own random test order, records byte-identical
baselines. The statements are the same in every run; only the data and the values differ.
Inner runs on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DESK, DjangoProject

# Factories in the manner of factory_boy with Faker: every count and value is drawn from the
# run's seed (DATA_SEED), and a table may be analysed (as autovacuum would) before a query.
TESTS = """
import datetime
import os
import random

import pytest
from django.db import connection
from desk.models import Queue, Ticket
from shop.models import Customer, Invoice, Order

pytestmark = pytest.mark.django_db
CITIES = ["Oslo", "Lima", "Pune", "Kyiv", "Accra"]
STATUSES = ["new", "paid", "shipped", "void"]
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture
def rng(request):
    return random.Random(f"{os.environ['DATA_SEED']}:{request.node.name}")


def maybe_analyse(rng, *tables):
    # Autovacuum analyses a table when enough rows changed, whenever that is.
    with connection.cursor() as cursor:
        for table in tables:
            if rng.random() < 0.5:
                cursor.execute(f"ANALYZE {table}")


def customers(rng):
    made = [
        Customer(name=f"c{i}-{rng.random()}", city=rng.choice(CITIES), visits=rng.randint(0, 99))
        for i in range(rng.randint(1, 40))
    ]
    return Customer.objects.bulk_create(made)


def orders(rng):
    people = customers(rng)
    made = [
        Order(customer=rng.choice(people), status=rng.choice(STATUSES))
        for _ in range(rng.randint(1, 60))
    ]
    made = Order.objects.bulk_create(made)
    Invoice.objects.bulk_create(
        Invoice(order=order, number=f"{order.pk}-{rng.randint(0, 9)}", paid=rng.random() < 0.3)
        for order in made
    )
    return made


def tickets(rng):
    queues = Queue.objects.bulk_create(
        Queue(title=f"queue {i}") for i in range(rng.randint(2, 6))
    )
    Ticket.objects.bulk_create(
        Ticket(
            queue=rng.choice(queues),
            status=rng.randint(1, 4),
            priority=rng.randint(1, 5),
            created=START + datetime.timedelta(hours=rng.randint(0, 9000)),
            title=f"ticket {i}",
        )
        for i in range(rng.randint(1, 80))
    )
    return queues


def test_customers_in_a_city(rng):
    customers(rng)
    maybe_analyse(rng, "shop_customer")
    list(Customer.objects.filter(city=rng.choice(CITIES)))


def test_regulars_by_name(rng):
    customers(rng)
    maybe_analyse(rng, "shop_customer")
    list(Customer.objects.filter(visits__gte=rng.randint(0, 99)).order_by("name")[:10])


def test_customer_by_name(rng):
    people = customers(rng)
    maybe_analyse(rng, "shop_customer")
    Customer.objects.get(name=rng.choice(people).name)


def test_unpaid_invoices_by_number(rng):
    orders(rng)
    maybe_analyse(rng, "shop_invoice", "shop_order")
    list(Invoice.objects.filter(paid=False, number__startswith=str(rng.randint(1, 9))))


def test_invoices_of_orders_in_a_status(rng):
    orders(rng)
    maybe_analyse(rng, "shop_invoice", "shop_order")
    list(Invoice.objects.select_related("order").filter(order__status=rng.choice(STATUSES)))


def test_orders_of_a_customer(rng):
    made = orders(rng)
    maybe_analyse(rng, "shop_order")
    list(Order.objects.filter(customer=rng.choice(made).customer_id).order_by("-created_at"))


def test_tickets_of_every_queue_since(rng):
    queues = tickets(rng)
    maybe_analyse(rng, "desk_ticket", "desk_queue")
    since = START + datetime.timedelta(hours=rng.randint(0, 9000))
    list(Ticket.objects.filter(queue__in=queues, created__gte=since).exclude(status=4))


def test_a_queues_urgent_tickets(rng):
    queues = tickets(rng)
    maybe_analyse(rng, "desk_ticket")
    list(Ticket.objects.filter(queue=rng.choice(queues), priority=1).order_by("created"))


def test_tickets_of_a_status_through_a_cursor(rng):
    tickets(rng)
    maybe_analyse(rng, "desk_ticket")
    for _ in Ticket.objects.filter(status=rng.randint(1, 4)).order_by("id").iterator():
        pass


def test_newest_tickets_of_a_title(rng):
    tickets(rng)
    maybe_analyse(rng, "desk_ticket")
    list(Ticket.objects.filter(title=f"ticket {rng.randint(0, 80)}").order_by("-created")[:5])
"""

SEEDS = (1, 2, 3)


def test_random_data_records_the_same_baseline(
    django_project: DjangoProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    django_project.add_app("desk", DESK)
    django_project.write_tests(TESTS)
    baselines: dict[int, bytes] = {}
    for seed in SEEDS:
        monkeypatch.setenv("DATA_SEED", str(seed))
        path = tmp_path / f"seed{seed}.json"
        run = django_project.run(
            "--indexguard",
            f"--indexguard-baseline={path}",
            "--indexguard-update-baseline",
            "-p",
            "random_order",
            "--random-order-bucket=global",
            f"--random-order-seed={seed}",
        )
        assert path.exists(), run.output
        baselines[seed] = path.read_bytes()
    first = baselines[SEEDS[0]]
    # Customers by city, the regulars' page sorted by name, orders by status through the join,
    # a customer's orders, every queue's tickets since a day, tickets of a status through the
    # cursor, a title's newest. A queue's urgent tickets, a customer by name and unpaid
    # invoices by a prefix of their number are found by an index.
    assert first.count(b'"fingerprint"') == 7, first.decode()
    for seed, content in baselines.items():
        assert content == first, (
            f"seed {seed}:\n{content.decode()}\nseed {SEEDS[0]}:\n{first.decode()}"
        )
