"""What fails and what never fails, in real inner pytest runs against real PostgreSQL (the main
three through psycopg 3 and through psycopg2)."""

from __future__ import annotations

from conftest import DjangoProject, InnerRun, line_of

NEVER_FAIL = """
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F

from shop.models import Customer, Invoice, Order


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="acme", city="Oslo")


def test_primary_key_lookup(customer):
    assert Customer.objects.get(pk=customer.pk) == customer
    assert Customer.objects.filter(pk__in=[customer.pk, 0]).count() == 1


def test_unique_lookup(customer):
    assert Customer.objects.get(name="acme") == customer
    assert Customer.objects.filter(name="acme").exists()


def test_limit_bounded_unfiltered_read(customer):
    assert list(Customer.objects.all()[:21]) == [customer]
    assert Customer.objects.exists()
    assert Customer.objects.first() == customer


def test_unfiltered_count_and_list(customer):
    assert Customer.objects.count() == 1
    assert list(Customer.objects.values_list("name", flat=True)) == ["acme"]
    assert list(Customer.objects.order_by("city")) == [customer]


def test_writes_by_primary_key(customer):
    Customer.objects.filter(pk=customer.pk).update(visits=F("visits") + 1)
    customer.refresh_from_db()
    assert customer.visits == 1
    order = Order.objects.create(customer=customer)
    Invoice.objects.bulk_create([Invoice(order=order, number=str(n)) for n in range(3)])
    Invoice.objects.filter(paid=False, number="1").update(paid=True)
    assert Invoice.objects.filter(paid=True).count() == 1


def test_integrity_error_then_more_queries(customer):
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Customer.objects.create(name="acme")
    assert Customer.objects.get(name="acme") == customer


def test_integrity_error_outside_atomic_keeps_django_error(customer):
    from django.db.transaction import TransactionManagementError

    with pytest.raises(IntegrityError):
        Customer.objects.create(name="acme")
    with pytest.raises(TransactionManagementError):
        Customer.objects.get(pk=customer.pk)


@pytest.mark.django_db(transaction=True)
def test_autocommit():
    assert connection.get_autocommit()
    customer = Customer.objects.create(name="auto")
    assert Customer.objects.get(pk=customer.pk).name == "auto"
    Customer.objects.filter(pk=customer.pk).update(city="Bergen")
    assert Customer.objects.filter(name="auto", city="Bergen").exists()


@pytest.mark.django_db(databases=["default", "other"])
def test_second_alias():
    Customer.objects.using("other").create(name="elsewhere")
    assert Customer.objects.using("other").get(name="elsewhere").name == "elsewhere"


@pytest.mark.django_db
def test_explain_error_leaves_the_real_error(customer):
    with pytest.raises(ValueError):
        Customer.objects.get(pk="not-a-number")
    with connection.cursor() as cursor, pytest.raises(Exception) as info:
        cursor.execute("SELECT * FROM shop_customer WHERE id = %s", ["not-a-number"])
    assert "invalid input syntax" in str(info.value)


@pytest.mark.django_db
def test_executemany_with_a_generator(customer):
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE shop_customer SET visits = visits + %s WHERE id = %s",
            ((n, customer.pk) for n in (1, 2, 3)),
        )
    customer.refresh_from_db()
    assert customer.visits == 6


def test_catalog_introspection(customer):
    # PostgreSQL's own catalogs are not the project's tables: nobody can index them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = %s", ["r"])
        assert "shop_customer" in {row[0] for row in cursor.fetchall()}
    assert "shop_customer" in connection.introspection.table_names()
"""


def test_statements_that_must_never_fail(driver: str, django_project: DjangoProject) -> None:
    django_project.write_tests(NEVER_FAIL)
    run = django_project.run("--indexguard")
    outcomes = run.outcomes()
    assert len(outcomes) == 12, run.output
    assert set(outcomes.values()) == {"passed"}, run.output
    assert "violations: none" in run.output


MUST_FAIL = """
import pytest
from django.db import connection
from django.db.models import Count
from shop.models import Customer, Order


@pytest.fixture
def order(db):
    return Order.objects.create(customer=Customer.objects.create(name="acme", city="Oslo"))


def test_filter_on_unindexed_column(order):
    assert Customer.objects.filter(city="Oslo").count() == 1


def test_foreign_key_without_index(order):
    assert list(Order.objects.filter(customer_id=order.customer_id)) == [order]


def test_join_on_unindexed_key(order):
    counted = Customer.objects.annotate(n=Count("order")).get(name="acme")
    assert counted.n == 1


def test_sort_under_limit(order):
    assert Order.objects.order_by("-created_at").first() == order


def test_cascade_delete_without_index(order):
    order.customer.delete()
    assert not Order.objects.exists()


def test_raw_sql_with_literals(order):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shop_customer WHERE city = 'Oslo' AND visits > 3")
        assert cursor.fetchall() == []


def test_fixture_statement_counts():
    pass


@pytest.fixture
def scans_in_setup(db):
    Customer.objects.create(name="x", city="Bergen")
    return list(Customer.objects.filter(city="Bergen"))


def test_scan_in_function_fixture(scans_in_setup):
    assert scans_in_setup


def test_own_failure_keeps_its_message(order):
    list(Customer.objects.filter(city="Oslo"))
    assert 1 == 2, "the test's own assertion"
"""


def test_statements_that_must_fail(driver: str, django_project: DjangoProject) -> None:
    django_project.write_tests(MUST_FAIL)
    run = django_project.run("--indexguard")
    outcomes = run.outcomes()
    assert outcomes == {
        "test_filter_on_unindexed_column": "failed",
        "test_foreign_key_without_index": "failed",
        "test_join_on_unindexed_key": "failed",
        "test_sort_under_limit": "failed",
        "test_cascade_delete_without_index": "failed",
        "test_raw_sql_with_literals": "failed",
        "test_fixture_statement_counts": "passed",
        "test_scan_in_function_fixture": "failed",
        "test_own_failure_keeps_its_message": "failed",
    }, run.output

    section = run.section("test_filter_on_unindexed_column")
    assert section.startswith("indexguard: 1 statement needs a full scan"), section
    assert (
        "shop_customer: Seq Scan filters rows that no index serves; no index on (city)" in section
    )
    line = line_of(MUST_FAIL, 'assert Customer.objects.filter(city="Oslo").count() == 1')
    assert f"test_inner.py:{line} in test_filter_on_unindexed_column" in section
    assert 'models.Index(fields=["city"]' in section
    assert "'Oslo'" not in section, "parameter values must not be shown"
    assert "Traceback" not in section

    join = run.section("test_join_on_unindexed_key")
    assert "shop_order: Seq Scan is read in full for every outer row of a nested loop" in join
    assert "no index on (customer_id)" in join

    order = run.section("test_sort_under_limit")
    assert "no index has that order; no index on (-created_at)" in order
    assert 'fields=["-created_at"]' in order

    cascade = run.section("test_cascade_delete_without_index")
    # The deletion collector looks the orders up by the unindexed key before deleting them.
    assert '"shop_order"."customer_id" IN (...)' in cascade, cascade

    raw = run.section("test_raw_sql_with_literals")
    assert "city = %s AND visits > %s" in raw
    assert "Oslo" not in raw

    own = run.section("test_own_failure_keeps_its_message")
    assert "the test's own assertion" in own
    assert "indexguard" in own  # the findings are attached as a report section

    assert "violations by table, distinct statements (8 failing tests):" in run.output


def test_verbose_shows_the_plan(django_project: DjangoProject) -> None:
    django_project.write_tests(MUST_FAIL)
    run = django_project.run("--indexguard", "-v", "-k", "unindexed_column")
    section = run.section("test_filter_on_unindexed_column")
    assert "plan:" in section
    assert "Seq Scan on shop_customer (disabled)" in section
    assert "Add -v" not in section


def test_xdist_gives_the_same_outcomes_and_summary(django_project: DjangoProject) -> None:
    django_project.write_tests(MUST_FAIL)
    alone = django_project.run("--indexguard")
    parallel = django_project.run("--indexguard", "-p", "xdist", "-n", "2")
    assert parallel.outcomes() == alone.outcomes()

    def violations(run: InnerRun) -> list[str]:
        lines = run.result.outlines
        start = next(i for i, line in enumerate(lines) if line.startswith("violations by table"))
        found = [lines[start]]
        for line in lines[start + 1 :]:
            if not line.startswith("  "):
                break
            found.append(line)
        return found

    assert violations(parallel) == violations(alone)
    assert violations(alone) == [
        "violations by table, distinct statements (8 failing tests):",
        "  shop_customer: 3 new (4 executions)",
        "  shop_order: 4 new (4 executions)",
    ], alone.output


WATCHING = """
import pytest
from django.db import connection
from shop.models import Customer


@pytest.fixture
def view_and_partitions(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE VIEW oslo_customers AS SELECT * FROM shop_customer")
        cursor.execute(
            "CREATE TABLE ledger (id int, day date, note text) PARTITION BY RANGE (day)"
        )
        for year in (2026, 2027):
            cursor.execute(
                f"CREATE TABLE ledger_{year} PARTITION OF ledger"
                f" FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
            )


def test_view_over_a_watched_table(view_and_partitions):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM oslo_customers WHERE city = %s", ["Oslo"])


def test_partition_of_a_watched_table(view_and_partitions):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM ledger WHERE note = %s", ["x"])


def test_unwatched_table(db):
    assert Customer.objects.filter(name="x").count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM shop_order WHERE status = %s", ["x"])


def test_many_distinct_statements(db):
    for number in range(12):
        list(Customer.objects.filter(pk=number).values_list(*["id"] * (number + 1)))
"""


def test_watched_tables_views_partitions_and_cache_bound(
    driver: str, django_project: DjangoProject
) -> None:
    django_project.write_tests(WATCHING)
    run = django_project.run(
        "--indexguard", "--indexguard-tables=shop_customer,ledger", "--indexguard-cache-size=5"
    )
    assert run.outcomes() == {
        "test_view_over_a_watched_table": "failed",
        "test_partition_of_a_watched_table": "failed",
        "test_unwatched_table": "passed",
        "test_many_distinct_statements": "passed",
    }, run.output
    assert "shop_customer: Seq Scan filters rows" in run.section("test_view_over_a_watched_table")
    # Two partitions read, one finding: on the partitioned table, where its index belongs.
    partition = run.section("test_partition_of_a_watched_table")
    assert "1 statement needs a full scan of a watched table (ledger)" in partition, partition
    assert "[1] ledger: Seq Scan filters rows" in partition, partition
    assert "ON ledger (note)" in partition, partition
    summary = [line for line in run.result.outlines if line.startswith("plan cache:")]
    assert len(summary) == 1, run.output
    assert summary[0].startswith(
        "plan cache: 5 distinct statements remembered, checked or skipped (at most 5 per alias), "
    )
    assert "dropped as the oldest" in summary[0]
    assert any(
        line.startswith("skipped: ") and line.endswith("no watched table (never explained)")
        for line in run.result.outlines
    ), run.output


THREADS_AND_SCOPES = """
import threading

import pytest
from django.db import connection
from shop.models import Customer


def _scan_in_a_thread():
    errors = []

    def work():
        try:
            Customer.objects.filter(city="Oslo").count()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_scan_in_another_thread():
    _scan_in_a_thread()


@pytest.mark.django_db(transaction=True)
def test_second_thread_connection_reused_by_a_later_test():
    _scan_in_a_thread()


@pytest.fixture(scope="module")
def module_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        Customer.objects.filter(city="module").count()  # a scan, outside any test
    return "ready"


def test_module_scoped_fixture_is_not_checked(module_data, db):
    assert module_data == "ready"
"""


def test_other_threads_and_fixture_scopes(django_project: DjangoProject) -> None:
    django_project.write_tests(THREADS_AND_SCOPES)
    run = django_project.run("--indexguard")
    assert run.outcomes() == {
        "test_scan_in_another_thread": "failed",
        "test_second_thread_connection_reused_by_a_later_test": "failed",
        "test_module_scoped_fixture_is_not_checked": "passed",
    }, run.output
    assert "in work" in run.section("test_scan_in_another_thread")


INDEX_WALKS = """
import pytest
from django.db import connection
from shop.models import Customer

pytestmark = pytest.mark.django_db


def _prefer_index_order():
    # Makes the planner walk the primary key for ORDER BY id instead of sorting, the way it
    # sometimes does on tiny tables for GROUP BY or ORDER BY.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")


def test_filter_served_by_another_index():
    _prefer_index_order()
    assert list(Customer.objects.filter(name="acme").order_by("id")) == []


def test_filter_served_by_no_index():
    _prefer_index_order()
    assert list(Customer.objects.filter(city="Oslo").order_by("id")) == []
"""


def test_full_index_walk_gets_a_second_opinion(django_project: DjangoProject) -> None:
    django_project.write_tests(INDEX_WALKS)
    run = django_project.run("--indexguard")
    assert run.outcomes() == {
        "test_filter_served_by_another_index": "passed",
        "test_filter_served_by_no_index": "failed",
    }, run.output
    section = run.section("test_filter_served_by_no_index")
    assert "shop_customer: Index Scan using shop_customer_pkey filters rows" in section, section


SECOND_PLAN = """
import pytest
from shop.models import Customer


@pytest.fixture
def customers(db):
    for number in range(3):
        Customer.objects.create(name=f"c{number}", city=f"city{number}")


def test_subquery_on_unindexed_column(customers):
    found = Customer.objects.filter(pk__in=Customer.objects.filter(city="city1").values("id"))
    assert [c.name for c in found.order_by("name")] == ["c1"]
"""


def test_a_filter_read_row_by_row_through_another_index_still_fails(
    django_project: DjangoProject,
) -> None:
    # Planned again with index scans off, the filter on city sits on a per-row scan of the
    # primary key (the join key), not on an index of its own: it still needs an index.
    django_project.write_tests(SECOND_PLAN)
    run = django_project.run("--indexguard")
    assert run.outcomes() == {"test_subquery_on_unindexed_column": "failed"}, run.output
    section = run.section("test_subquery_on_unindexed_column")
    assert "filter:  ((city)::text = ?::text)" in section
    # city, then the ORDER BY's name: the index the planner walked for that order.
    assert "no index on (city, name)" in section
    assert "(verified: planned with it, the full scan is gone)" in section


OUTSIDE_TEMPLATE = """
from pathlib import Path

from django.template import Context, Engine
from django.utils.safestring import mark_safe

from shop.models import Customer

# An installed app's template, outside the project, loaded by a SafeString name (as
# django-tables2 loads its own): its rows are evaluated while it renders.
OUTSIDE = Path(__file__).resolve().parent.parent / "outside-templates"


def test_rows_of_an_installed_apps_template(db):
    OUTSIDE.mkdir(exist_ok=True)
    (OUTSIDE / "table.html").write_text("{% for row in rows %}{{ row.name }}{% endfor %}")
    template = Engine(dirs=[str(OUTSIDE)]).get_template(mark_safe("table.html"))
    Customer.objects.create(name="acme", city="Oslo")
    rows = Customer.objects.filter(city="Oslo")
    assert template.render(Context({"rows": rows})) == "acme"
"""


def test_a_violation_in_an_installed_apps_template_reaches_the_xdist_controller(
    django_project: DjangoProject,
) -> None:
    """The template's name is Django's SafeString, which execnet cannot send: the worker's
    report was lost, and the run passed with no test result."""
    django_project.write_tests(OUTSIDE_TEMPLATE)
    run = django_project.run("--indexguard", "-p", "xdist", "-n", "2")
    assert run.outcomes() == {"test_rows_of_an_installed_apps_template": "failed"}
    assert "table.html:1" in run.result.stdout.str()


CURSORS = """
import pytest
from shop.models import Customer, Invoice, Order


@pytest.fixture
def rows(db):
    customer = Customer.objects.create(name="acme", city="Oslo")
    order = Order.objects.create(customer=customer)
    for number in range(3):
        Invoice.objects.create(order=order, number=str(number), paid=number == 1)


def test_range_read_at_once(rows):
    assert len(list(Customer.objects.filter(name__gte="a").order_by("id"))) == 1


def test_range_read_through_a_cursor(rows):
    assert len(list(Customer.objects.filter(name__gte="a").order_by("id").iterator())) == 1


def test_key_read_through_a_cursor(rows):
    assert len(list(Customer.objects.filter(name="acme").order_by("id").iterator())) == 1


def test_flag_read_at_once(rows):
    assert len(list(Invoice.objects.filter(paid=True).order_by("id"))) == 1


def test_flag_read_through_a_cursor(rows):
    # A flag is rare (found by its index at scale) or most of the table: either way spared.
    assert len(list(Invoice.objects.filter(paid=True).order_by("id").iterator(chunk_size=1))) == 1


def test_unordered_flag_read_through_a_cursor(rows):
    assert len(list(Invoice.objects.filter(paid=True).iterator())) == 1
"""


def test_a_cursor_is_judged_by_the_plan_of_a_cursor(
    driver: str, django_project: DjangoProject
) -> None:
    # QuerySet.iterator() reads through a server-side cursor, which PostgreSQL plans to return
    # its first rows fast: at scale it walks the primary key for ORDER BY id and filters every
    # row, where the same SELECT read at once sorts what the filter's index finds.
    django_project.write_tests(CURSORS)
    run = django_project.run("--indexguard")
    assert run.outcomes() == {
        "test_range_read_at_once": "passed",
        "test_range_read_through_a_cursor": "failed",
        "test_key_read_through_a_cursor": "passed",
        "test_flag_read_at_once": "passed",
        "test_flag_read_through_a_cursor": "passed",
        "test_unordered_flag_read_through_a_cursor": "passed",
    }, run.output
    section = run.section("test_range_read_through_a_cursor")
    assert (
        "shop_customer: Index Scan using shop_customer_pkey is walked whole in order and filters "
        "every row: the cursor skips the filter's index" in section
    ), section
    assert "cursor:  read through a server-side cursor (QuerySet.iterator())" in section
    assert "iterate without order_by(), or ordered by the filtered column" in section
