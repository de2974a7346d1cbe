"""Which statements count: application code fails tests; test code and migrations are reported
apart. Inner runs for the edges, in-process tests for the decisions that need no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import TESTS, DjangoProject, InnerRun, line_of
from pytest_indexguard.callsite import CallSiteFinder
from pytest_indexguard.origin import (
    APPLICATION,
    TEST,
    Kind,
    TestFiles,
    mark_of,
    python_files,
)

INNER_CONFTEST = """
import pytest
from shop.models import Customer


def make_customer(name, city="Oslo"):
    # A factory in conftest: the city's first customer, else a new one.
    return Customer.objects.filter(city=city).first() or Customer.objects.create(
        name=name, city=city
    )


@pytest.fixture
def customer_factory(db):
    return make_customer
"""

FACTORIES = """
from shop.models import Customer


def oslo_customers():
    return list(Customer.objects.filter(city="Oslo"))
"""

DATA_CHECKS = """
from shop.models import Customer


def count_oslo():
    return Customer.objects.filter(city="Oslo").count()
"""

ORIGINS = """
import concurrent.futures

from pytest_indexguard.config import parse_bool

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import connections
from django.template.loader import render_to_string
from django.test import AsyncClient, TestCase

from data_checks import count_oslo
from shop import services
from shop.models import Customer, Order
from tests.factories import oslo_customers


@pytest.fixture
def oslo(db):
    customer = Customer.objects.create(name="acme", city="Oslo")
    assert Customer.objects.filter(city="Oslo").count() == 1
    return customer


def test_orm_in_the_test_body(oslo, indexguard, request):
    assert Customer.objects.get(name="acme") == oslo
    assert list(Customer.objects.filter(city="Oslo")) == [oslo]
    checked = request.config.getoption("indexguard_check_test_code") or parse_bool(
        "indexguard_check_test_code", request.config.getini("indexguard_check_test_code")
    )
    assert {(o.origin, o.status) for o in indexguard.findings} == {
        ("test", "new" if checked else "test code")
    }


def test_conftest_factory(customer_factory):
    assert customer_factory("acme").city == "Oslo"


def test_helpers_in_a_tests_directory_and_python_files(oslo):
    assert oslo_customers() == [oslo]
    assert count_oslo() == 1


class TestWithSetUp(TestCase):
    @classmethod
    def setUpTestData(cls):
        Customer.objects.create(name="class", city="Bergen")
        assert Customer.objects.filter(city="Bergen").count() == 1

    def setUp(self):
        self.bergen = list(Customer.objects.filter(city="Bergen"))

    def test_set_up(self):
        assert len(self.bergen) == 1


@pytest.mark.indexguard_allow("shop_customer", reason="only test code scans it")
def test_marker_that_only_test_code_would_use(oslo):
    assert list(Customer.objects.filter(city="Oslo")) == [oslo]


def test_project_command(oslo):
    call_command("oslo_report")


def test_template_rendered_by_a_view(oslo, client):
    assert b"acme" in client.get("/customers/Oslo/").content


def test_generic_view_behind_a_middleware(oslo, client):
    Order.objects.create(customer=oslo, status="pending")
    assert client.get("/orders/pending/")["X-Stamp"] == "1"


def test_rest_framework_view(oslo, client):
    Order.objects.create(customer=oslo, status="pending")
    assert client.get("/api/orders/pending/").json()[0]["status"] == "pending"


def test_statement_of_a_middleware(oslo, client):
    assert client.get("/ping/", headers={"X-Audit-City": "Oslo"}).content == b"pong"


def test_async_view(oslo, client):
    assert client.get("/count/Oslo/").json() == {"count": 1}


def test_async_client_and_a_generic_view(oslo):
    response = async_to_sync(AsyncClient().get)("/customers/by-city/Oslo/")
    assert response.json() == {"name": "acme"}


def test_async_orm_in_the_test(oslo):
    async def count():
        return await Customer.objects.filter(city="Oslo").acount()

    assert async_to_sync(count)() == 1


def test_queryset_of_the_test_evaluated_by_the_project(oslo):
    assert services.evaluate(Customer.objects.filter(city="Oslo")) == [oslo]


def test_lazy_queryset_of_the_project_evaluated_by_the_test(oslo):
    assert list(services.customers_in("Oslo")) == [oslo]


def test_custom_queryset_method(oslo):
    assert list(Customer.objects.in_city("Oslo")) == [oslo]


def test_manager_method(oslo):
    assert list(Order.objects.pending()) == []


def test_template_rendered_by_the_test(oslo):
    context = {"object_list": services.customers_in("Oslo")}
    assert "acme" in render_to_string("shop/customer_list.html", context)


@pytest.mark.django_db(transaction=True)
def test_querysets_evaluated_in_a_worker_thread():
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(list, Customer.objects.filter(city="Oslo")).result() == []
        assert pool.submit(list, services.customers_in("Bergen")).result() == []
        pool.submit(connections.close_all).result()


def test_data_migration(db):
    call_command("migrate", "ledger", "0001", verbosity=0)
    call_command("migrate", "ledger", verbosity=0)
"""

TEST_CODE_ONLY = {
    "test_orm_in_the_test_body",
    "test_conftest_factory",
    "test_helpers_in_a_tests_directory_and_python_files",
    "test_set_up",
    "test_async_orm_in_the_test",
}
APPLICATION_TESTS = {
    "test_project_command",
    "test_template_rendered_by_a_view",
    "test_generic_view_behind_a_middleware",
    "test_rest_framework_view",
    "test_statement_of_a_middleware",
    "test_async_view",
    "test_async_client_and_a_generic_view",
    "test_queryset_of_the_test_evaluated_by_the_project",
    "test_lazy_queryset_of_the_project_evaluated_by_the_test",
    "test_custom_queryset_method",
    "test_manager_method",
    "test_template_rendered_by_the_test",
    "test_querysets_evaluated_in_a_worker_thread",
}


def project_line(path: str, text: str) -> int:
    """Line of ``text`` in a file of the inner project."""
    lines = (TESTS / "project" / path).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.fixture
def origins(django_project: DjangoProject) -> DjangoProject:
    django_project.as_shipped()
    django_project.append_ini("python_files = test_*.py *_checks.py")
    django_project.pytester.makepyfile(conftest=INNER_CONFTEST, data_checks=DATA_CHECKS)
    tests = django_project.pytester.mkpydir("tests")
    (tests / "factories.py").write_text(FACTORIES)
    django_project.write_tests(ORIGINS)
    return django_project


def _summary_line(run: InnerRun, start: str) -> str:
    found = [line for line in run.result.outlines if line.startswith(start)]
    assert len(found) == 1, run.output
    return found[0]


def test_test_code_and_migrations_do_not_fail(
    origins: DjangoProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    report_path, sarif_path = tmp_path / "report.json", tmp_path / "report.sarif"
    run = origins.run(
        "--indexguard", f"--indexguard-report={report_path}", f"--indexguard-sarif={sarif_path}"
    )
    outcomes = run.outcomes()
    assert outcomes == {
        **dict.fromkeys(TEST_CODE_ONLY, "passed"),
        "test_marker_that_only_test_code_would_use": "passed",
        **dict.fromkeys(APPLICATION_TESTS, "failed"),
        "test_data_migration": "passed",
    }, run.output

    # A marker that would only have allowed test code's statements allowed nothing.
    assert (
        "unused marker (allowed nothing): test_inner.py::test_marker_that_only_test_code_would_use"
        in run.output
    )

    report = json.loads(report_path.read_text())
    groups = report["violations"]
    test_code = {g["fingerprint"] for g in groups if g["status"] == "test code"}
    migrate_time = {g["fingerprint"] for g in groups if g["status"] == "migrate time"}
    assert {g["origin"] for g in groups if g["status"] == "test code"} == {"test"}
    assert {g["origin"] for g in groups if g["status"] == "migrate time"} == {"migration"}
    assert {g["origin"] for g in groups if g["status"] == "new"} == {"application"}
    assert _summary_line(run, "issued by test code:") == (
        f"issued by test code: {len(test_code)} distinct statements "
        "(not failed; --indexguard-check-test-code to check them)"
    )
    assert _summary_line(run, "at migrate time:") == (
        f"at migrate time: {len(migrate_time)} distinct statements (never failed)"
    )
    # The factory's ORDER BY ... LIMIT 1, the fixture's count, the tests' reads.
    assert any("ORDER BY" in g["sql"] for g in groups if g["status"] == "test code"), groups
    # RunPython, the post_migrate handler, and MigrationRecorder's bookkeeping.
    migrations = {
        (g["table"], g["sql"].split()[0]) for g in groups if g["status"] == "migrate time"
    }
    assert migrations == {
        ("ledger_entry", "UPDATE"),
        ("ledger_entry", "SELECT"),
        ("django_migrations", "DELETE"),
    }, groups
    assert report["settings"]["check_test_code"] is False
    assert report["summary"]["statuses"]["test code"] == len(test_code)

    sarif = json.loads(sarif_path.read_text())
    results = sarif["runs"][0]["results"]
    assert results
    assert {r["properties"]["status"] for r in results} == {"new"}
    assert not {r["properties"]["table"] for r in results} & {"ledger_entry", "django_migrations"}
    # A QuerySet the application built and the test evaluated: both lines, in SARIF and JSON.
    built = project_line("shop/services.py", "return Customer.objects.filter(city=city)")
    evaluated = line_of(ORIGINS, 'assert list(services.customers_in("Oslo")) == [oslo]')
    [result] = [
        r
        for r in results
        if r["locations"][0]["physicalLocation"]["region"]["startLine"] == evaluated
    ]
    assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "shop/services.py"
    )
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == built
    assert (
        f"QuerySet built at shop/services.py:{built} in customers_in" in (result["message"]["text"])
    )
    sites = [site for g in groups for site in g["call_sites"] if site["line"] == evaluated]
    assert sites[0]["built_at"] == {
        "path": "shop/services.py",
        "line": built,
        "function": "customers_in",
    }

    assert (
        f"Not failed (distinct statements): {len(test_code)} issued by test code, "
        f"{len(migrate_time)} at migrate time." in step_summary.read_text()
    )


def test_xdist_gives_the_same_summary(origins: DjangoProject) -> None:
    alone = origins.run("--indexguard")
    parallel = origins.run("--indexguard", "-p", "xdist", "-n", "2")
    assert parallel.outcomes() == alone.outcomes()
    for start in ("issued by test code:", "at migrate time:", "violations by table"):
        assert _summary_line(parallel, start) == _summary_line(alone, start)


def test_call_sites_of_application_statements(origins: DjangoProject) -> None:
    run = origins.run("--indexguard", "-k", " or ".join(sorted(APPLICATION_TESTS)))
    assert run.outcomes() == dict.fromkeys(APPLICATION_TESTS, "failed"), run.output

    def at(test: str) -> list[str]:
        return [
            line.strip()[len("at:") :].strip()
            for line in run.section(test).splitlines()
            if line.strip().startswith("at:")
        ]

    command = project_line("shop/management/commands/oslo_report.py", "self.stdout.write")
    assert at("test_project_command") == [
        f"shop/management/commands/oslo_report.py:{command} in handle"
    ]
    # The template and the line of its {% for %}, not the view, the middleware or the test;
    # and where the application built the QuerySet the template evaluates.
    built = project_line("shop/services.py", "return Customer.objects.filter(city=city)")
    template = "shop/templates/shop/customer_list.html:2 in {% for customer in object_list %}"
    assert at("test_template_rendered_by_a_view") == [
        f"{template} (QuerySet built at shop/services.py:{built} in customers_in)"
    ]
    assert at("test_template_rendered_by_the_test") == [
        f"{template} (QuerySet built at shop/services.py:{built} in customers_in)"
    ]
    # Generic views run no code of the project: the view class is named, not the middleware.
    pending = project_line("shop/views.py", "class PendingOrders(")
    assert at("test_generic_view_behind_a_middleware") == [
        f"shop/views.py:{pending} in PendingOrders"
    ]
    api = project_line("shop/views.py", "class PendingOrdersApi(")
    assert at("test_rest_framework_view") == [f"shop/views.py:{api} in PendingOrdersApi"]
    audit = project_line("shop/middleware.py", "request.audited =")
    assert at("test_statement_of_a_middleware") == [f"shop/middleware.py:{audit} in __call__"]
    # Under ASGI the view runs in a thread for the handler's coroutines: they are followed.
    by_city = project_line("shop/views.py", "class CustomerByCity(")
    assert at("test_async_client_and_a_generic_view") == [
        f"shop/views.py:{by_city} in CustomerByCity"
    ]
    # The async ORM runs the statement in a thread; the view's coroutine awaits it.
    count = project_line("shop/views.py", ".acount()")
    assert at("test_async_view") == [f"shop/views.py:{count} in customer_count"]
    evaluate = project_line("shop/services.py", "return list(queryset)")
    assert at("test_queryset_of_the_test_evaluated_by_the_project") == [
        f"shop/services.py:{evaluate} in evaluate"
    ]
    built = project_line("shop/services.py", "return Customer.objects.filter(city=city)")
    evaluated = line_of(ORIGINS, 'assert list(services.customers_in("Oslo")) == [oslo]')
    assert at("test_lazy_queryset_of_the_project_evaluated_by_the_test") == [
        f"test_inner.py:{evaluated} in test_lazy_queryset_of_the_project_evaluated_by_the_test "
        f"(QuerySet built at shop/services.py:{built} in customers_in)"
    ]
    method = project_line("shop/models.py", "return self.filter(city=city)")
    assert at("test_custom_queryset_method")[0].endswith(
        f"(QuerySet built at shop/models.py:{method} in in_city)"
    )
    # A method of the application's manager, called by the test.
    pending = project_line("shop/models.py", 'return self.filter(status="pending")')
    assert at("test_manager_method")[0].endswith(
        f"(QuerySet built at shop/models.py:{pending} in pending)"
    )
    # A worker thread runs no frame of the project: who built the QuerySet decides, and the
    # test-built one is test code.
    assert at("test_querysets_evaluated_in_a_worker_thread") == [
        f"shop/services.py:{built} in customers_in"
    ]
    for test in APPLICATION_TESTS:
        assert "middleware.py" not in run.section(test) or test == "test_statement_of_a_middleware"


def test_check_test_code_fails_them_too(origins: DjangoProject) -> None:
    selected = [*sorted(TEST_CODE_ONLY), "test_marker", "test_data_migration"]
    run = origins.run("--indexguard", "--indexguard-check-test-code", "-k", " or ".join(selected))
    assert run.outcomes() == {
        **dict.fromkeys(TEST_CODE_ONLY, "failed"),
        "test_marker_that_only_test_code_would_use": "passed",
        "test_data_migration": "passed",  # migrate-time statements never fail
    }, run.output
    assert "test code checked" in run.output
    factory = run.section("test_conftest_factory")
    assert "conftest.py:" in factory
    assert "in make_customer" in factory
    assert "issued by test code" not in run.output
    assert _summary_line(run, "at migrate time:").startswith("at migrate time: 3 distinct")


def test_baseline_records_application_statements_only(
    origins: DjangoProject, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    run = origins.run(
        "--indexguard", f"--indexguard-baseline={baseline}", "--indexguard-update-baseline"
    )
    assert set(run.outcomes().values()) == {"passed"}, run.output
    entries = json.loads(baseline.read_text())["violations"]
    assert {e["table"] for e in entries} == {"shop_customer", "shop_order"}, entries
    tests = {test.split("::")[-1] for entry in entries for test in entry["tests"]}
    assert tests == APPLICATION_TESTS
    assert not any("ORDER BY" in e["sql"] for e in entries)  # the conftest factory's statement


# -- in process -------------------------------------------------------------------------------


def test_test_files(tmp_path: Path) -> None:
    files = TestFiles(tmp_path, python_files(["test_*.py check_*.py"]))
    assert str(tmp_path / "app" / "test_views.py") in files
    assert str(tmp_path / "app" / "check_views.py") in files
    assert str(tmp_path / "conftest.py") in files
    assert str(tmp_path / "app" / "tests" / "factories.py") in files
    assert str(tmp_path / "test" / "helpers.py") in files
    assert str(tmp_path / "app" / "views.py") not in files
    assert str(tmp_path / "app" / "views_test.py") not in files  # not in these patterns
    assert str(tmp_path / "testing" / "helpers.py") not in files
    # Only the directories under the rootdir count: the rootdir itself may sit in a tests/.
    inside = TestFiles(tmp_path / "tests" / "proj")
    assert str(tmp_path / "tests" / "proj" / "app" / "views.py") not in inside
    assert str(tmp_path / "tests" / "proj" / "app" / "views_test.py") in inside
    inside.add_collected([tmp_path / "tests" / "proj" / "suite.py"])
    assert str(tmp_path / "tests" / "proj" / "suite.py") in inside
    # Outside the rootdir, only the names tell.
    assert str(tmp_path / "tests" / "helpers.py") not in inside
    assert str(tmp_path / "tests" / "conftest.py") in inside


def test_migration_files_below_the_rootdir(tmp_path: Path) -> None:
    kinds = CallSiteFinder(tmp_path / "migrations" / "proj").kinds
    assert kinds(str(tmp_path / "migrations" / "proj" / "app" / "views.py")) == Kind.PROJECT
    migration = tmp_path / "migrations" / "proj" / "app" / "migrations" / "0002_backfill.py"
    assert kinds(str(migration)) == Kind.MIGRATION_FILE


def test_python_files_from_the_ini_value() -> None:
    assert python_files(["test_*.py", "*_test.py"]) == ("test_*.py", "*_test.py")
    assert python_files("check_*.py example_*.py") == ("check_*.py", "example_*.py")
    assert python_files([]) == ("test_*.py", "*_test.py")


def test_kinds_of_django_files() -> None:
    import django.core.handlers.base
    import django.core.management.commands.migrate
    import django.db.migrations.recorder
    import django.db.models.query
    import django.template.base
    import django.utils.timezone

    kinds = CallSiteFinder(Path.cwd()).kinds
    assert kinds(django.db.migrations.recorder.__file__) == Kind.MIGRATION
    assert kinds(django.core.management.commands.migrate.__file__) == Kind.MIGRATION
    assert kinds(django.core.handlers.base.__file__) == Kind.REQUEST
    assert kinds(django.template.base.__file__) == Kind.TEMPLATE
    assert kinds(django.db.models.query.__file__) == Kind.ORM
    assert kinds(django.utils.timezone.__file__) == Kind.LIBRARY
    assert kinds(pytest.__file__) == Kind.LIBRARY
    assert kinds("<string>") == Kind.LIBRARY


def _module(path: Path, source: str) -> dict[str, object]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    namespace: dict[str, object] = {"__name__": path.stem}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace


BUILDERS = """
from upstream.models import Customer


def pending():
    return Customer.objects.filter(name="x")


def narrowed(queryset):
    return queryset.filter(id=1)
"""

TESTS_BUILDING = """
from upstream.models import Customer


def built_by_test():
    return Customer.objects.filter(name="y")


def chained_by_test(queryset):
    return queryset.exclude(name="z")
"""


def test_querysets_remember_who_built_them(tmp_path: Path) -> None:
    from django.db.models.query import QuerySet

    finder = CallSiteFinder(tmp_path)
    app = _module(tmp_path / "app" / "services.py", BUILDERS)
    tests = _module(tmp_path / "app" / "tests" / "helpers.py", TESTS_BUILDING)
    original = QuerySet.__init__
    finder.builds.install()
    try:
        assert QuerySet.__init__ is not original
        built = app["pending"]()
        assert mark_of(built)[:2] == (APPLICATION, str(tmp_path / "app" / "services.py"))
        # Test code chaining on it keeps the application's note: project code shaped it.
        chained = tests["chained_by_test"](built)
        assert mark_of(chained)[0] == APPLICATION
        by_test = tests["built_by_test"]()
        assert mark_of(by_test)[0] == TEST
        # Project code chaining on a test's QuerySet makes it the application's.
        assert mark_of(app["narrowed"](by_test))[0] == APPLICATION
        assert mark_of(by_test)[0] == TEST
    finally:
        finder.builds.uninstall()
    assert QuerySet.__init__ is original
    assert mark_of(tests["built_by_test"]()) is None


def test_uninstall_leaves_a_later_wrapper_in_place(tmp_path: Path) -> None:
    from django.db.models.query import QuerySet

    finder = CallSiteFinder(tmp_path)
    original = QuerySet.__init__
    finder.builds.install()
    ours = QuerySet.__init__

    def theirs(self: QuerySet[object], *args: object, **kwargs: object) -> None:
        ours(self, *args, **kwargs)

    QuerySet.__init__ = theirs
    try:
        finder.builds.uninstall()
        assert QuerySet.__init__ is theirs
        app = _module(tmp_path / "app" / "services.py", BUILDERS)
        assert mark_of(app["pending"]()) is None  # switched off
    finally:
        QuerySet.__init__ = original


def test_location_of_a_plain_call() -> None:
    finder = CallSiteFinder(Path(__file__).parent)
    location = finder.locate()
    assert location.origin == TEST
    assert location.built_at is None
    assert location.call_site is not None
    assert location.call_site.path == "test_origin.py"
    assert location.call_site.function == "test_location_of_a_plain_call"


def test_a_template_outside_the_project_is_named_by_a_plain_string(tmp_path: Path) -> None:
    """An installed app's template is shown by the name it was loaded with, which may be
    Django's SafeString (django-tables2 loads its templates so): a str subclass that
    pytest-xdist cannot send to the controller, which then loses the test's report."""
    import sys

    from django.template import Engine
    from django.utils.safestring import SafeString, mark_safe

    installed = tmp_path / "site-packages" / "tables" / "templates"
    installed.mkdir(parents=True)
    (installed / "table.html").write_text("{% for row in rows %}{{ row }}{% endfor %}\n")
    template = Engine(dirs=[str(installed)]).get_template(mark_safe("table.html"))
    assert isinstance(template.origin.template_name, SafeString)
    node = template.nodelist[0]  # the {% for %} tag

    def rendering(self: object) -> Any:
        return sys._getframe()

    finder = CallSiteFinder(tmp_path / "project")
    site = finder._template_site(rendering(node))
    assert site is not None
    assert (site.path, site.line, site.function) == ("table.html", 1, "{% for row in rows %}")
    assert type(site.path) is str
