"""The guard in process, on the outer session's own database (the sample app's schema on the
session's PostgreSQL): the plan cache, the backend per alias, recording against the running
test, schema changes. End-to-end behaviour (markers, reports, xdist) is tested through inner
pytest runs elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from pytest_indexguard.config import Settings
from pytest_indexguard.explain import for_vendor
from pytest_indexguard.explain.postgresql import PostgreSQL
from pytest_indexguard.guard import Guard
from pytest_indexguard.model import Rule, Status
from pytest_indexguard.policy import TestPolicy as Policy
from pytest_indexguard.records import violation_records
from pytest_indexguard.report import failure_message, summary_lines
from pytest_indexguard.results import Results
from pytest_indexguard.schema import ColumnShape
from pytest_indexguard.summary import Summary
from upstream.alerts.models import AlertRule
from upstream.integrations.models import IntegrationLog, WebhookDelivery

REPO = Path(__file__).parent.parent
# event_type has no index in the sample app's schema; status leads webhook_retry_idx.
UNINDEXED = "event_type"


@pytest.fixture
def guard() -> Iterator[Guard]:
    # The statements below are issued by this test module: counted like the application's.
    found = Guard(Settings(enabled=True, check_test_code=True), REPO)
    found.begin_test("tests/test_guard.py::inner", Policy())
    try:
        yield found
    finally:
        found.end_test()
        found.capture.uninstall()


@pytest.mark.django_db
def test_a_new_statement_is_explained_once_and_then_served_from_the_cache(guard: Guard) -> None:
    with guard.watching("call"):
        for _ in range(3):
            list(WebhookDelivery.objects.filter(status="retrying")[:5])
    assert guard.totals.explained == 1
    assert guard.totals.checked == 3
    assert len(guard.totals.distinct) == 1
    assert isinstance(guard.backends["default"], PostgreSQL)
    assert guard.current is not None
    assert guard.current.occurrences == []


@pytest.mark.django_db
def test_a_full_scan_is_recorded_against_the_running_test(guard: Guard) -> None:
    with guard.watching("call"):
        for _ in range(2):
            list(WebhookDelivery.objects.filter(**{UNINDEXED: "ping"}))
    run = guard.current
    assert run is not None
    [occurrence] = run.occurrences
    assert occurrence.status == Status.NEW
    assert occurrence.fails
    assert occurrence.executions == 2
    assert occurrence.finding.table == "upstream_webhookdelivery"
    assert occurrence.finding.rule is Rule.FILTER
    assert occurrence.call_site is not None
    assert occurrence.call_site.path.endswith("tests/test_guard.py")
    assert occurrence.suggestion is not None
    assert occurrence.suggestion.columns == (UNINDEXED,)
    assert occurrence.suggestion.verified is True  # planned on the database with the index
    assert any(
        "Seq Scan on upstream_webhookdelivery" in line for line in occurrence.statement.plan_lines
    )


@pytest.mark.django_db
def test_is_not_null_on_a_not_null_column_restricts_nothing(guard: Guard) -> None:
    # dates(), the admin's date_hierarchy and isnull=False write "col IS NOT NULL" whatever the
    # column. PostgreSQL 17 drops it from the plan of a NOT NULL column; 15 and 16 keep it as a
    # Filter (and, forced, read a whole index for it): the same verdict on every version.
    with guard.watching("call"):
        list(WebhookDelivery.objects.dates("created_at", "year"))
        list(WebhookDelivery.objects.filter(created_at__isnull=False).order_by("created_at")[:5])
        list(WebhookDelivery.objects.filter(next_attempt_at__isnull=False).values_list("id"))
    run = guard.current
    assert run is not None
    found = [(o.finding.rule, o.finding.filter, o.finding.unservable) for o in run.occurrences]
    assert found == [
        (Rule.SORT_LIMIT, None, None),  # no index has created_at's order
        (Rule.UNSERVABLE, "(next_attempt_at IS NOT NULL)", "not-null"),  # it can be NULL
    ]
    suggestion = run.occurrences[0].suggestion
    assert suggestion is not None
    assert (suggestion.columns, suggestion.verified) == (("created_at",), True)


@pytest.mark.django_db
def test_is_null_on_a_not_null_column_reads_no_row(guard: Guard) -> None:
    # A field loaded for an unsaved instance, or isnull=True on a NOT NULL column: no row can
    # pass. PostgreSQL 17 folds it to false; 15 and 16 plan a scan of an unindexed column.
    with guard.watching("call"):
        list(WebhookDelivery.objects.filter(created_at__isnull=True).order_by("event_type")[:1])
        list(WebhookDelivery.objects.filter(next_attempt_at__isnull=True, **{UNINDEXED: "x"}))
    run = guard.current
    assert run is not None
    [nullable] = run.occurrences  # next_attempt_at can be NULL: the unindexed filter stands
    assert nullable.finding.rule is Rule.FILTER
    assert nullable.finding.filter is not None
    assert UNINDEXED in nullable.finding.filter


@pytest.mark.django_db
def test_a_column_compared_through_a_cast_is_named_in_the_message(guard: Guard) -> None:
    # Generic object permissions (django-guardian's get_objects_for_user): the primary key as
    # text IN (a sub-query), twice, ORed. Splitting the OR alone would not help: neither side
    # can use the primary key's index. The message says so.
    events = WebhookDelivery.objects.filter(status="failed").values("event_type")
    logs = IntegrationLog.objects.filter(status="failed").values("message")
    rules = AlertRule.objects.annotate(key=Cast("pk", TextField()))
    with guard.watching("call"):
        list(rules.filter(Q(key__in=events) | Q(key__in=logs)))
        list(rules.filter(key__in=events))
    run = guard.current
    assert run is not None
    either, one = run.occurrences
    assert (either.finding.table, either.finding.rule) == ("upstream_alertrule", Rule.UNSERVABLE)
    assert one.finding.table == "upstream_alertrule"
    cast = "cast:    the statement compares CAST(id AS text): no index on id serves that"
    for occurrence in (either, one):
        message = failure_message([occurrence], verbose=0)
        assert cast in message, message
        assert "so that each side uses its own index" not in message
        assert "no simple B-tree index" not in message
        assert "Fix the statement as said above, or accept the scan" in message


@pytest.mark.django_db
def test_an_or_of_two_columns_is_told_an_index_on_each_side(guard: Guard) -> None:
    # A federated lookup by either of two identifiers: no one index serves the OR (the
    # composite of both columns, planned, leaves the full read), one on each side does. With a
    # condition beside the OR, the columns compared plainly lead an index that serves it.
    either = Q(**{UNINDEXED: "invoice.paid"}) | Q(last_error="timeout")
    with guard.watching("call"):
        list(WebhookDelivery.objects.filter(either))
        list(WebhookDelivery.objects.filter(either, attempts=3))
        # A side compared case-insensitively needs an index on the expression.
        list(WebhookDelivery.objects.filter(Q(**{UNINDEXED: "x"}) | Q(last_error__iexact="y")))
        # One side has an index already (endpoint leads webhook_endpoint_hist_idx): an index
        # on the other side alone serves the OR, nothing trailing it.
        list(WebhookDelivery.objects.filter(Q(endpoint_id=3) | Q(last_error__iexact="y")))
    run = guard.current
    assert run is not None
    alone, beside, iexact, other_side = run.occurrences
    assert other_side.suggestion is not None
    assert (other_side.suggestion.columns, other_side.suggestion.verified) == (
        ("upper(last_error)",),
        True,
    )
    message = failure_message([iexact], verbose=0)
    assert (
        "an index on each side, (event_type), (upper(last_error)), lets the database read each "
        "side" in message
    ), message
    message = failure_message([alone], verbose=0)
    assert "index:   no one index serves an OR" in message, message
    assert (
        "an index on each side, (event_type), (last_error), lets the database read each side"
        in message
    ), message
    assert "migrate:" not in message
    assert alone.suggestion is None or alone.suggestion.verified is not True
    message = failure_message([beside], verbose=0)
    assert "no one index serves an OR" not in message, message
    assert beside.suggestion is not None
    assert beside.suggestion.columns[0] == "attempts"
    # The JSON report and the job summary give the same advice: no composite index that
    # planning showed useless, an index on each side instead.
    records = violation_records(run)
    # Where a verified index serves, nothing: beside the OR, and on the OR's other side.
    assert sorted(r["or_sides"] for r in records) == [
        [],
        [],
        [["event_type"], ["last_error"]],
        [["event_type"], ["upper(last_error)"]],
    ]
    results = Results(Settings(enabled=True))
    results.add(run.nodeid, "call", {"violations": records, "markers": []}, ran=True)
    markdown = results.markdown()
    assert (
        "no one index serves the OR: an index on each side, (event_type), (last_error), "
        "or `.union()`" in markdown
    ), markdown
    # The index beside the OR (attempts) and the one on the OR's unindexed side.
    assert markdown.count("suggested: `models.Index(") == 2, markdown


@pytest.mark.django_db
def test_a_distinct_page_shows_the_order_by_not_every_selected_column(guard: Guard) -> None:
    # Under a DISTINCT the Sort lists the ORDER BY's key, then every selected column.
    with guard.watching("call"):
        list(WebhookDelivery.objects.order_by(UNINDEXED).distinct()[:10])
    run = guard.current
    assert run is not None
    [page] = run.occurrences
    assert page.finding.rule is Rule.SORT_LIMIT
    assert len(page.finding.sort_key) > 2
    message = failure_message([page], verbose=0)
    other = len(page.finding.sort_key) - 1
    order = f"    order:   {UNINDEXED}, then the DISTINCT's {other} other columns (under a LIMIT)"
    assert order in message, message


@pytest.mark.django_db
def test_a_full_read_no_index_can_help_is_kept_with_its_statement(guard: Guard) -> None:
    # Counting every delivery reads the table whole by design: not failed, and kept, with the
    # SQL as Django sent it, for the summary and the JSON report.
    with guard.watching("call"):
        WebhookDelivery.objects.count()
    run = guard.current
    assert run is not None
    assert run.occurrences == []
    assert "upstream_webhookdelivery" in guard.totals.informational
    [sql] = guard.totals.let_through["upstream_webhookdelivery"]
    assert sql.startswith("SELECT COUNT(*)")
    assert "upstream_webhookdelivery" in sql


@pytest.mark.django_db
def test_statements_outside_a_watched_phase_are_not_checked(guard: Guard) -> None:
    list(WebhookDelivery.objects.filter(**{UNINDEXED: "ping"}))
    with guard.watching("call"), guard.suspended():
        list(WebhookDelivery.objects.filter(**{UNINDEXED: "pong"}))
    assert guard.totals.checked == 0
    assert guard.current is not None
    assert guard.current.occurrences == []


@pytest.mark.django_db
def test_a_schema_change_empties_the_alias_cache_and_its_index_catalog(guard: Guard) -> None:
    query = WebhookDelivery.objects.filter(**{UNINDEXED: "ping"})
    with guard.watching("call"):
        list(query.all())
        assert guard.plans["default"]
        assert "default" in guard.schemas
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX guard_test_event_type ON upstream_webhookdelivery (event_type)"
            )
        assert guard.totals.invalidations == 1
        assert "default" not in guard.schemas
        list(query.all())
    run = guard.current
    assert run is not None
    # Explained again after the DDL: the new index serves the filter, nothing more recorded.
    assert guard.totals.explained == 2
    assert len(run.occurrences) == 1


@pytest.mark.django_db
def test_a_statement_the_database_rejects_is_counted_not_raised(guard: Guard) -> None:
    with (
        guard.watching("call"),
        connection.cursor() as cursor,
        pytest.raises(Exception, match="no_such_table"),
    ):
        cursor.execute("SELECT * FROM no_such_table WHERE id = %s", [1])
    [(alias, sql, reason)] = guard.totals.unexplained.values()
    assert (alias, sql) == ("default", "SELECT * FROM no_such_table WHERE id = %s")
    assert "no_such_table" in reason
    assert not guard.totals.internal_errors


def test_an_engine_no_backend_checks_is_named_in_the_summary() -> None:
    assert for_vendor("oracle") is None
    for vendor in ("postgresql", "sqlite", "mysql"):
        assert for_vendor(vendor) is not None
    settings = Settings(enabled=True)
    summary = Summary(unsupported={"legacy": "Oracle"})
    lines = summary_lines(settings, summary, Results(settings))
    assert (
        "not checked: database 'legacy' (Oracle): indexguard checks PostgreSQL, SQLite, MySQL "
        "and MariaDB"
    ) in lines


@pytest.mark.django_db
@pytest.mark.parametrize("first", [None, "ping"], ids=["null first", "value first"])
def test_a_null_and_a_value_get_the_verdict_of_their_own_kind(
    guard: Guard, first: str | None
) -> None:
    """PostgreSQL plans ``col = NULL`` as no read at all (One-Time Filter: false) and a value as
    a full scan: the first execution's values must not decide for the other kind, whichever
    test sends which first."""
    sql = f'SELECT "id" FROM "upstream_webhookdelivery" WHERE "{UNINDEXED}" = %s'
    second = "ping" if first is None else None
    with guard.watching("call"), connection.cursor() as cursor:
        for value in (first, second, first, second):
            cursor.execute(sql, [value])
    run = guard.current
    assert run is not None
    [occurrence] = run.occurrences
    assert occurrence.finding.rule is Rule.FILTER
    assert occurrence.executions == 2  # the two executions with a value, not the NULL ones
    assert guard.totals.explained == 2  # one plan per kind of value, then the cache
    assert guard.totals.checked == 4


@pytest.mark.django_db
def test_an_or_whose_every_side_an_index_serves_is_no_full_read() -> None:
    """Planned as it runs on a few rows (mode planner), an OR of indexed columns is a Seq Scan
    with the OR in its Filter; at scale PostgreSQL combines the two indexes (BitmapOr). The
    probe plans the OR alone: served. An OR with a side no index serves stays a finding."""
    guard = Guard(Settings(enabled=True, check_test_code=True, mode="planner"), REPO)
    guard.begin_test("tests/test_guard.py::inner", Policy())
    try:
        with guard.watching("call"):
            served = Q(pk__in=[1, 2]) | Q(status="retrying")
            list(WebhookDelivery.objects.filter(served, **{UNINDEXED: "ping"}))
            run = guard.current
            assert run is not None
            assert run.occurrences == []
            unserved = Q(pk__in=[1, 2]) | Q(**{UNINDEXED: "ping"})
            list(WebhookDelivery.objects.filter(unserved))
        [occurrence] = run.occurrences
        assert occurrence.finding.table == "upstream_webhookdelivery"
    finally:
        guard.end_test()
        guard.capture.uninstall()


@pytest.mark.django_db
def test_a_queue_polled_by_its_primary_key_gets_an_index_on_its_filter(guard: Guard) -> None:
    # A poller's first() of the rows due (next_attempt_at past or never set), skipping one
    # status: on a few rows PostgreSQL walks the primary key for the order and sifts every row,
    # with or without an index on next_attempt_at (it expects a match among the first rows); in
    # production, with few rows due, it reads such an index (a BitmapOr of its two sides) and
    # sorts what it finds. The suggestion is checked on the filter planned alone.
    due = Q(next_attempt_at__lt="2026-01-01T00:00:00Z") | Q(next_attempt_at__isnull=True)
    with guard.watching("call"):
        WebhookDelivery.objects.filter(due).exclude(status="failed").order_by("id").first()
    run = guard.current
    assert run is not None
    [occurrence] = run.occurrences
    assert occurrence.finding.index_name == "upstream_webhookdelivery_pkey"
    suggestion = occurrence.suggestion
    assert suggestion is not None
    assert suggestion.columns[0] == "next_attempt_at", suggestion
    assert suggestion.verified is True, suggestion
    assert suggestion.note is not None
    assert "the filter planned alone reads it" in suggestion.note
    message = failure_message([occurrence], verbose=0)
    assert "verified: the filter planned alone reads it; on a few rows" in message, message


def _with_production(shapes: dict[str, ColumnShape]) -> Guard:
    settings = Settings(
        enabled=True,
        check_test_code=True,
        table_rows={"upstream_webhookdelivery": (300_000, "stats")},
        columns={"upstream_webhookdelivery": shapes},
    )
    found = Guard(settings, REPO)
    found.begin_test("tests/test_guard.py::inner", Policy())
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["first-by-id", "exists", "iexact-exists"])
@pytest.mark.parametrize(
    ("busiest", "reported"), [(0.17, True), (None, False)], ids=["busy-endpoint", "even-spread"]
)
def test_a_lookup_within_a_busy_key_reads_that_keys_rows(
    busiest: float | None, reported: bool, shape: str
) -> None:
    # One delivery of an endpoint found by its event type: the index on the endpoint finds the
    # endpoint's rows, sorted for the LIMIT of first(), or sifted for exists() (the shape of a
    # submission looked up by its code within an event, a Seq Scan at scale for the event that
    # holds 17% of them). Production's statistics decide: an endpoint holding 17% of 300,000
    # deliveries makes the range 51,000 rows read to keep one, and the event type is what an
    # index must serve with the endpoint; with 2,000 endpoints evenly spread (150 rows each),
    # the endpoint's index is enough.
    guard = _with_production({"endpoint_id": ColumnShape(n_distinct=2_000, max_frequency=busiest)})
    compared = f"{UNINDEXED}__iexact" if shape == "iexact-exists" else UNINDEXED
    lookup = WebhookDelivery.objects.filter(endpoint_id=1, **{compared: "invoice.paid"})
    try:
        with guard.watching("call"):
            if shape.endswith("exists"):
                lookup.exists()
            else:
                lookup.order_by("id").first()
        run = guard.current
        assert run is not None
        occurrences = run.occurrences
    finally:
        guard.end_test()
        guard.capture.uninstall()
    assert bool(occurrences) is reported, occurrences
    if reported:
        [occurrence] = occurrences
        assert occurrence.finding.sorted_rows == (150, 51_000)
        message = failure_message([occurrence], verbose=0)
        verb = "reads:  " if shape.endswith("exists") else "sorts:  "
        assert (
            f"{verb} in production, 150 rows per call for a typical key, 51,000 for the "
            "busiest" in message
        ), message
        assert occurrence.suggestion is not None
        key = f"upper({UNINDEXED})" if shape == "iexact-exists" else UNINDEXED
        assert set(occurrence.suggestion.columns[:2]) == {"endpoint_id", key}, message


@pytest.mark.django_db
def test_a_pattern_beside_an_exclusion_is_named_for_the_pattern(guard: Guard) -> None:
    # A search that skips one status: the <> keeps most rows, the substring match few; it is
    # the pattern that reads the table whole, and its advice (a trigram index) that helps. Under
    # an ORDER BY ... LIMIT the <> alone would let an index in the sort's order stop early; the
    # pattern does not.
    search = WebhookDelivery.objects.filter(last_error__icontains="timeout").exclude(
        status="failed"
    )
    with guard.watching("call"):
        list(search)
        list(search.order_by("-created_at")[:10])
    run = guard.current
    assert run is not None
    found = [(o.finding.rule, o.finding.unservable) for o in run.occurrences]
    assert found == [(Rule.UNSERVABLE, "contains"), (Rule.UNSERVABLE, "contains")], found
