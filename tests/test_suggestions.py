"""Suggested indexes: Django code on the right model, verified on the database, nothing left
behind, and applying them makes the failing tests pass."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import DjangoProject, SampleApp
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.suggest import (
    ModelIndex,
    Suggestion,
    candidates,
    filter_columns,
    index_name,
    sort_column,
)

NOTHING_LEFT = """
import pytest
from django.db import connection
from shop.models import Customer, Order


def _indexes_and_temp_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename LIKE 'shop_%' ORDER BY 1"
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'")
        temporary = cursor.fetchone()[0]
    return indexes, temporary


@pytest.mark.django_db
@pytest.mark.indexguard_allow(reason="only the side effects matter here")
def test_verification_leaves_nothing_behind():
    before = _indexes_and_temp_tables()
    customer = Customer.objects.create(name="acme", city="Oslo")
    Order.objects.create(customer=customer)  # a pending foreign-key check in this transaction
    assert list(Customer.objects.filter(city="Oslo")) == [customer]
    assert list(Order.objects.filter(status="new", customer=customer))
    assert _indexes_and_temp_tables() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.indexguard_allow(reason="only the side effects matter here")
def test_verification_in_autocommit_leaves_nothing_behind():
    before = _indexes_and_temp_tables()
    Customer.objects.create(name="auto", city="Bergen")
    assert Customer.objects.filter(city="Bergen").count() == 1
    assert _indexes_and_temp_tables() == before


@pytest.mark.django_db
def test_no_simple_index():
    from django.db.models import Q

    # Either column alone would need its own index: no single index serves the OR.
    assert list(Customer.objects.filter(Q(city="Oslo") | Q(visits=3))) == []


@pytest.mark.django_db
def test_iexact_gets_an_expression_index():
    assert list(Customer.objects.filter(city__iexact="oslo")) == []


@pytest.mark.django_db
def test_union_branches_are_verified_one_by_one():
    both = Customer.objects.filter(city="Oslo").union(Customer.objects.filter(visits=3))
    assert not both.exists()
"""


def test_verified_suggestions_leave_nothing_behind(django_project: DjangoProject) -> None:
    django_project.write_tests(NOTHING_LEFT)
    run = django_project.run("--indexguard")
    outcomes = run.outcomes()
    assert outcomes["test_verification_leaves_nothing_behind"] == "passed", run.output
    assert outcomes["test_verification_in_autocommit_leaves_nothing_behind"] == "passed"
    section = run.section("test_no_simple_index")
    assert (
        "index:   no one index serves an OR (planned with (city, visits), the full scan stays): "
        "an index on each side, (city), (visits), lets the database read each side" in section
    ), section
    iexact = run.section("test_iexact_gets_an_expression_index")
    assert (
        'models.Index(Upper("city"), name="customer_city_upper_idx") in shop.Customer.Meta.indexes'
        in iexact
    ), iexact
    assert "(verified: planned with it, the full scan is gone)" in iexact
    union = run.section("test_union_branches_are_verified_one_by_one")
    assert union.count("(verified: planned with it, the full scan is gone)") == 2, union


APPLY_SUGGESTIONS = '''
"""Creates the indexes a report suggested, after the test database is set up."""
import json
import os

import pytest
from django.apps import apps
from django.db import connection, models


@pytest.fixture(scope="session", autouse=True)
def _apply_suggestions(django_db_setup, django_db_blocker):
    with open(os.environ["SUGGESTIONS"]) as source:
        suggestions = json.load(source)
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        for suggestion in suggestions:
            model = apps.get_model(suggestion["model"])
            editor.add_index(
                model, models.Index(fields=suggestion["fields"], name=suggestion["name"])
            )
'''


def test_applying_the_suggestions_makes_the_suite_pass(
    sample_copy: SampleApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "report.json"
    failing = sample_copy.run("--without-indexes", f"--indexguard-report={report}")
    failed = {n for n, o in failing.outcomes().items() if o == "failed"}
    assert len(failed) == 8, failing.output
    violations = json.loads(report.read_text())["violations"]
    assert violations
    suggestions = []
    for violation in violations:
        suggestion = violation["suggestion"]
        assert suggestion["verified"] is True, violation
        assert violation["call_sites"][0]["path"].startswith("tests/"), violation
        entry = {"model": suggestion["model"], "fields": suggestion["fields"]}
        if entry not in suggestions:
            suggestions.append(entry)
    # The seeds' own plan for these two queries, fields and order.
    assert {"model": "upstream.WebhookDelivery", "fields": ["status", "next_attempt_at"]} in (
        suggestions
    )
    assert {"model": "upstream.IntegrationLog", "fields": ["status", "-start_time"]} in (
        suggestions
    )
    # And for the sorts that production's shape makes large: the condition, then the order.
    assert {"model": "upstream.WebhookDelivery", "fields": ["endpoint", "-created_at"]} in (
        suggestions
    )
    assert {"model": "upstream.IntegrationLog", "fields": ["connection", "-start_time"]} in (
        suggestions
    )
    for number, entry in enumerate(suggestions):
        entry["name"] = f"suggested_{number}_idx"
    (tmp_path / "suggestions.json").write_text(json.dumps(suggestions))
    (sample_copy.root / "apply_suggestions.py").write_text(APPLY_SUGGESTIONS)
    monkeypatch.setenv("SUGGESTIONS", str(tmp_path / "suggestions.json"))
    fixed = sample_copy.run("--without-indexes", "-p", "apply_suggestions")
    outcomes = fixed.outcomes()
    assert {o for o in outcomes.values()} <= {"passed", "skipped"}, fixed.output
    assert "violations: none" in fixed.output


class _Models(ModelIndex):
    """The app registry's answers for one table, without Django set up."""

    def _load(self) -> dict[str, tuple[str, dict[str, str]]]:
        self._booleans = {("upstream_alertrule", "enabled")}
        return {
            "upstream_alertrule": (
                "upstream.AlertRule",
                {"id": "id", "customer_id": "customer", "enabled": "enabled", "name": "name"},
            )
        }


def test_candidates_put_booleans_after_other_equality_columns() -> None:
    finding = ScanFinding(
        table="upstream_alertrule",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(enabled AND (customer_id = '3'::bigint))",
        sort_key=("name",),
    )
    found = candidates(finding, _Models())
    assert [c.fields for c in found] == [
        ("customer", "enabled", "name"),
        ("customer", "enabled"),
    ]
    assert found[0].model == "upstream.AlertRule"
    assert found[0].index_code() == (
        'models.Index(fields=["customer", "enabled", "name"], '
        'name="alertrule_custome_ena_46e9_idx")'
    )
    assert found[0].migration_code().startswith('AddIndexConcurrently("alertrule", models.Index(')


def test_a_column_tested_only_inside_an_or_never_leads() -> None:
    # (id IN (...) OR parent_id IN (...)) AND structure = x: an index leading with either side
    # of the OR serves neither, and the primary key second serves nothing at all.
    finding = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(((id = ANY ('{1,2}'::bigint[])) OR (connection_id = ANY ('{3}'::integer[]))) "
        "AND ((message)::text = 'x'::text))",
    )
    assert [c.columns for c in candidates(finding, ModelIndex())] == [("message",)]
    # end >= now() OR end IS NULL beside a plain condition: the plain one leads.
    dated = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(((start_time >= now()) OR (start_time IS NULL)) AND (connection_id = 7))",
    )
    assert [c.columns for c in candidates(dated, ModelIndex())] == [("connection_id",)]
    # A filter that is only an OR keeps its columns as candidates.
    alone = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(((message)::text = 'x'::text) OR (connection_id = 7))",
    )
    assert candidates(alone, ModelIndex())


class _Templates(ModelIndex):
    """A table of named templates whose text is a ``TextField``."""

    def _load(self) -> dict[str, tuple[str, dict[str, str]]]:
        self._wide = {("mail_template", "text")}
        return {"mail_template": ("mail.Template", {"id": "id", "name": "name", "text": "text"})}


def test_text_of_any_length_stays_out_of_an_index_beside_a_narrower_column() -> None:
    # Kiwi TCMS: a template found by its name and its text got (name, text), which fails on the
    # first text longer than a B-tree entry; the name alone finds it.
    both = ScanFinding(
        table="mail_template",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(((name)::text = 'x'::text) AND (text = 'y'::text))",
    )
    assert [c.columns for c in candidates(both, _Templates())] == [("name",)]
    # The text alone is still what the filter tests: it stays the candidate.
    alone = ScanFinding(
        table="mail_template",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(text = 'y'::text)",
    )
    assert [c.columns for c in candidates(alone, _Templates())] == [("text",)]


def test_a_sorted_range_column_takes_the_sort_direction() -> None:
    finding = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="((start_time >= '2026-01-01'::timestamp with time zone) AND "
        "((status)::text = 'failed'::text))",
        sort_key=("upstream_integrationlog.start_time DESC",),
    )
    found = candidates(finding, ModelIndex())
    # The seeds' intlog_status_time_idx: the same index as for the query without the range.
    # The status alone is not offered: a field with a handful of choices is no index by itself.
    assert [c.columns for c in found] == [("status", "-start_time")]


def test_the_equality_columns_then_the_order_are_a_candidate() -> None:
    """One key's rows under ranges on other columns, sorted under a LIMIT: the index of the key
    then the order serves it, the ranges between them would not give the order."""
    finding = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.SORT_LIMIT,
        filter="((connection_id = 1) AND (end_time > '2025-01-01'::timestamp with time zone) AND "
        "(start_time < '2026-01-01'::timestamp with time zone))",
        sort_key=("upstream_integrationlog.start_time DESC",),
    )
    found = [c.columns for c in candidates(finding, ModelIndex())]
    # Under the LIMIT the order stops the read: that index first.
    assert found[:2] == [
        ("connection_id", "-start_time"),
        ("connection_id", "end_time", "-start_time"),
    ], found
    # A filter with no LIMIT: every column first.
    unsorted = replace(finding, rule=Rule.FILTER)
    assert [c.columns for c in candidates(unsorted, ModelIndex())][:2] == [
        ("connection_id", "end_time", "-start_time"),
        ("connection_id", "-start_time"),
    ]


def test_after_a_range_only_an_order_that_starts_with_its_column_is_kept() -> None:
    # Tickets created before a day, in Meta.ordering's id order, no LIMIT: after the range on
    # created the index holds the rows in created's order, so a trailing id serves nothing.
    before = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="(start_time <= '2026-01-01'::timestamp with time zone)",
        sort_key=("upstream_integrationlog.id",),
    )
    assert [c.columns for c in candidates(before, ModelIndex())] == [("start_time",)]
    # Ordered by the range's column then the key: the index gives that order.
    by_start = replace(
        before, sort_key=("upstream_integrationlog.start_time", "upstream_integrationlog.id")
    )
    assert candidates(by_start, ModelIndex())[0].columns == ("start_time", "id")
    # Newest first: the range takes the sort's direction, and the key still trails.
    newest = replace(
        before,
        sort_key=("upstream_integrationlog.start_time DESC", "upstream_integrationlog.id DESC"),
    )
    assert candidates(newest, ModelIndex())[0].columns == ("-start_time", "-id")


def test_the_sort_of_a_distinct_gives_the_order_by_keys_only() -> None:
    """The Sort under a DISTINCT lists the ORDER BY's keys, then every selected column: the
    suggestion is the ORDER BY's (a review list's newest first, 14 columns before)."""
    finding = ScanFinding(
        table="upstream_integrationlog",
        node_type="Seq Scan",
        rule=Rule.SORT_LIMIT,
        sort_key=(
            "upstream_integrationlog.start_time DESC",
            "upstream_integrationlog.id",
            "upstream_integrationlog.message",
            "upstream_integrationlog.status",
        ),
    )
    sql = (
        'SELECT DISTINCT "upstream_integrationlog"."id", "upstream_integrationlog"."message" '
        'FROM "upstream_integrationlog" ORDER BY "upstream_integrationlog"."start_time" DESC '
        "LIMIT 20"
    )
    assert [c.columns for c in candidates(finding, ModelIndex(), sql)] == [("-start_time",)]
    plain = sql.replace("SELECT DISTINCT", "SELECT")
    assert candidates(finding, ModelIndex(), plain)[0].columns == (
        "-start_time",
        "id",
        "message",
        "status",
    )


@pytest.mark.parametrize(
    ("expression", "equality", "ranges"),
    [
        ("((status)::text = 'retrying'::text)", ["status"], []),
        (
            "((next_attempt_at <= '2026-01-01'::timestamp with time zone) AND "
            "((status)::text = 'retrying'::text))",
            ["status"],
            ["next_attempt_at"],
        ),
        ("(customer_id = ANY ('{1,2}'::bigint[]))", ["customer_id"], []),
        ("(next_attempt_at IS NULL)", ["next_attempt_at"], []),
        ("(upper((status)::text) = 'FAILED'::text)", [], []),
        ("((status)::text ~~ '%fail%'::text)", [], []),
        ("((status)::text <> 'failed'::text)", [], []),
        # Plans quote reserved words and mixed case.
        ("((\"desc\")::text = 'a'::text)", ["desc"], []),
        ("((\"Label\")::text = 'A'::text)", ["Label"], []),
        ('((start <= now()) AND ("end" >= now()))', [], ["start", "end"]),
    ],
)
def test_filter_columns(expression: str, equality: list[str], ranges: list[str]) -> None:
    known = ["status", "next_attempt_at", "customer_id", "desc", "Label", "start", "end"]
    assert filter_columns(expression, known) == (equality, ranges)


def test_sort_columns() -> None:
    assert sort_column("upstream_integrationlog.start_time DESC", ["start_time"]) == "-start_time"
    assert sort_column("next_attempt_at", ["next_attempt_at"]) == "next_attempt_at"
    assert sort_column("(lower((name)::text))", ["name"]) == "lower(name)"
    assert sort_column("(lower((name)::text))", ["title"]) is None
    assert sort_column("(count(id))", ["id"]) is None


def test_raw_index_sql_quotes_reserved_and_mixed_case_columns() -> None:
    suggestion = Suggestion(
        table="legacy_events",
        columns=("status", "-end", "Label"),
        model=None,
        fields=("status", "-end", "Label"),
        name=index_name("legacy_events", ["status", "-end", "Label"]),
    )
    assert suggestion.migration_code() == (
        "CREATE INDEX CONCURRENTLY events_status_end_lab_b81c_idx "
        'ON legacy_events (status, "end" DESC, "Label")'
    )


def test_an_index_walked_for_its_order_suggests_the_filter_then_the_order() -> None:
    # WHERE depth = 2 ORDER BY path, no LIMIT: the planner walks the whole path index and
    # filters; an index on depth alone would leave it a sort to avoid.
    finding = ScanFinding(
        table="tree_node",
        node_type="Index Scan",
        rule=Rule.FILTER,
        index_name="tree_node_path_key",
        filter="(depth = 2)",
    )
    sql = (
        'SELECT "tree_node"."id" FROM "tree_node" WHERE "tree_node"."depth" = %s '
        'ORDER BY "tree_node"."path" ASC'
    )
    found = candidates(finding, ModelIndex(), sql)
    assert [c.columns for c in found] == [("depth", "path"), ("depth",)]
    assert [c.columns for c in candidates(finding, ModelIndex())] == [("depth",)]


def test_a_model_the_project_cannot_edit_gets_a_migration_of_its_own() -> None:
    # django.contrib.auth is installed, not the project's: its User gets a RunSQL migration in
    # one of the project's apps (the sample project's "upstream"), never Meta.indexes.
    from conftest import REPO

    finding = ScanFinding(
        table="auth_user",
        node_type="Seq Scan",
        rule=Rule.FILTER,
        filter="((email)::text = 'a@example.org'::text)",
    )
    [suggestion] = candidates(finding, ModelIndex(str(REPO)))
    assert (suggestion.kind, suggestion.app, suggestion.model) == (
        "external",
        "upstream",
        "auth.User",
    )
    assert suggestion.migration_code() == (
        'migrations.RunSQL("CREATE INDEX CONCURRENTLY user_email_idx ON auth_user (email)", '
        'reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS user_email_idx")'
    )
    assert "Meta.indexes" not in suggestion.describe()
    assert "add it in a migration of upstream, with atomic = False" in suggestion.describe()
    # Only CREATE INDEX CONCURRENTLY needs a migration outside a transaction.
    [plain] = candidates(finding, ModelIndex(str(REPO)), dialect="sqlite")
    assert plain.describe().endswith("add it in a migration of upstream)")


def test_the_primary_key_a_flag_alone_and_an_existing_index_are_never_suggested() -> None:
    from conftest import REPO
    from pytest_indexguard.schema import IndexInfo, Schema

    models = ModelIndex(str(REPO))
    by_id = ScanFinding(
        "upstream_alertrule", "Index Scan", Rule.SORT_LIMIT, sort_key=("id",), filter=None
    )
    assert candidates(by_id, models) == []
    flag = ScanFinding("upstream_alertrule", "Seq Scan", Rule.FILTER, filter="(NOT enabled)")
    assert candidates(flag, models) == []
    schema = Schema.of(
        [IndexInfo("upstream_alertrule", "rule_name", ("name",), False, False, False, ("name",))]
    )
    named = ScanFinding(
        "upstream_alertrule", "Seq Scan", Rule.FILTER, filter="((name)::text = 'x'::text)"
    )
    assert candidates(named, models, schema=schema) == []
    assert [c.columns for c in candidates(named, models)] == [("name",)]


def test_a_model_built_by_code_gets_a_migration_not_its_meta(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # django-simple-history builds its Historical* models at import time: no models file
    # declares them, so their Meta.indexes cannot be edited.
    from django.db import models
    from django.test.utils import isolate_apps

    from conftest import REPO

    with isolate_apps("upstream") as registry:

        class Written(models.Model):
            day = models.DateField()

            class Meta:
                app_label = "upstream"
                db_table = "upstream_written"

        meta = type("Meta", (), {"app_label": "upstream", "db_table": "upstream_built"})
        attributes = {"__module__": __name__, "day": models.DateField(), "Meta": meta}
        type("HistoricalWritten", (models.Model,), attributes)
        monkeypatch.setattr("django.apps.apps", registry)
        index = ModelIndex(str(REPO))
        for table, kind in (("upstream_written", "model"), ("upstream_built", "generated")):
            finding = ScanFinding(table, "Seq Scan", Rule.FILTER, filter="(day = '2025-01-01')")
            [suggestion] = candidates(finding, index)
            assert (suggestion.kind, suggestion.app) == (
                kind,
                None if kind == "model" else "upstream",
            )
        assert suggestion.migration_code().startswith(
            'migrations.RunSQL("CREATE INDEX CONCURRENTLY'
        )
        assert "cannot be edited: add it in a migration of upstream" in suggestion.describe()
        assert Written._meta.db_table == "upstream_written"


def test_states_choices_and_flags_follow_the_other_equality_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A state (a text field with a constant default and no choices: an offer's status), a
    # field of a few choices and a flag go after a column of many values, so that the index
    # leads with what narrows. Flags and choices alone, together too, are never suggested; a
    # state is (a rare state's rows are what an index on it finds), and an empty default is no
    # state.
    from django.db import models
    from django.test.utils import isolate_apps

    from conftest import REPO

    with isolate_apps("upstream") as registry:

        class Offer(models.Model):
            name = models.CharField(max_length=128)
            code = models.CharField(max_length=10, default="")
            status = models.CharField(max_length=64, default="Open")
            kind = models.CharField(max_length=2, choices=[("a", "a"), ("b", "b")])
            active = models.BooleanField(default=True)
            # Not states: a unique code, a number, a blank default.
            slug = models.CharField(max_length=10, unique=True, default="new")
            priority = models.IntegerField(default=3)
            note = models.CharField(max_length=10, default=" ")

            class Meta:
                app_label = "upstream"
                db_table = "upstream_offer"

        class Region(models.Model):
            code = models.CharField(max_length=5, primary_key=True, default="eu")

            class Meta:
                app_label = "upstream"
                db_table = "upstream_region"

        monkeypatch.setattr("django.apps.apps", registry)
        index = ModelIndex(str(REPO))

        def first(condition: str) -> tuple[str, ...] | None:
            finding = ScanFinding("upstream_offer", "Seq Scan", Rule.FILTER, filter=condition)
            found = candidates(finding, index)
            return found[0].columns if found else None

        status, kind = "((status)::text = 'Open'::text)", "((kind)::text = 'a'::text)"
        name, code = "((name)::text = 'x'::text)", "((code)::text = 'x'::text)"
        assert first(f"({status} AND {name})") == ("name", "status")
        assert first(f"({kind} AND {code})") == ("code", "kind")
        assert first(f"({status} AND active AND {code})") == ("code", "status", "active")
        assert first(f"(active AND {kind})") is None
        assert first("(NOT active)") is None
        assert first(status) == ("status",)
        assert first(f"({status} AND {kind})") == ("status", "kind")
        assert index.presumed_few("upstream_offer", "status")
        assert not index.is_low_cardinality("upstream_offer", "status")
        assert not index.presumed_few("upstream_offer", "code")
        assert not index.presumed_few("upstream_offer", "name")
        for column in ("slug", "priority", "note"):
            assert not index.presumed_few("upstream_offer", column), column
        assert not index.presumed_few("upstream_region", "code")
        assert Region._meta.pk is not None
        assert Offer._meta.db_table == "upstream_offer"


def test_index_names_are_unique_where_names_are_shortened() -> None:
    """Twelve characters of the table and seven of each column make the readable part; where
    that shortened a name, a digest of the whole names keeps similar tables (a library's
    Historical* models) and similar columns (created_at, created_by) apart. One direction
    throughout does not count: one index, read backwards, serves created and -created."""
    assert index_name("shop_customer", ["city"]) == "customer_city_idx"
    historical = {
        index_name(table, ["created"])
        for table in ("shop_historicalorder", "shop_historicalorderline", "shop_historicalorders")
    }
    assert len(historical) == 3, historical
    assert all(len(name) <= 30 for name in historical)
    assert index_name("shop_order", ["created_at"]) != index_name("shop_order", ["created_by"])
    assert index_name("shop_order", ["created"]) == index_name("shop_order", ["-created"])
    assert index_name("shop_order", ["status", "created"]) != (
        index_name("shop_order", ["status", "-created"])
    )


def test_index_names_need_no_quoting() -> None:
    """A table or column named with a space, a backtick or a quote (quoted in the DDL) gives an
    index name of letters, digits and "_" only: written unquoted in CREATE INDEX, such a name was
    a syntax error. The digest keeps it apart from the table whose name has "_" there."""
    import re

    for table, column in [
        ("Legacy Events", "status"),
        ("odd`name", "status"),
        ('say "hi"', "status"),
        ("events", "two words"),
        ("events", "upper(two words)"),
    ]:
        name = index_name(table, [column])
        assert re.fullmatch(r"[A-Za-z0-9_]+", name), name
        assert len(name) <= 30, name
    assert index_name("Legacy Events", ["status"]) != index_name("Legacy_Events", ["status"])
    assert index_name("events", ["two words"]) != index_name("events", ["two_words"])
    # Names that need no change keep their readable form.
    assert index_name("Legacy_Events", ["status"]) == "Events_status_idx"


def test_a_sort_by_a_functions_value_names_no_column() -> None:
    """PostgreSQL's sort key ``(random())`` on a table without a model (no known columns) was
    read as a column named random: the suggested index named a column the table does not have."""
    from plans.stored import catalog
    from pytest_indexguard import plan as pg

    data = json.loads(
        (Path(__file__).parent / "plans/judge/more/pg15/sorted_then_at_random.json").read_text(
            encoding="utf-8"
        )
    )
    schema = catalog(data)
    [finding] = pg.analyze(data["plan"], None, leading=schema.leading_of, joined_ranges=True)
    assert finding.sort_key == ("created_at DESC", "(random())")
    [suggestion] = candidates(finding, ModelIndex(), data.get("query") or data["statement"], schema)
    assert suggestion.columns == ("-created_at",)
    assert sort_column("(random())", []) is None
    assert sort_column("random() DESC", []) is None
    assert sort_column("created_at DESC", []) == "-created_at"
