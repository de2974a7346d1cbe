"""The sample app's own suite under the guard, the way its users run it: on the test session's
PostgreSQL (through psycopg 3, and through psycopg2 as a psycopg2 project has it), on SQLite
(``DATABASE_URL=sqlite://``) and on MySQL/MariaDB when one answers. The demo holds on each."""

from __future__ import annotations

import pytest

from conftest import SampleApp, on_psycopg2, reachable_mysql

RETRY_TESTS = {
    "test_due_retries_are_the_due_retrying_deliveries_oldest_first",
    "test_due_retries_respect_the_limit",
    "test_due_retries_default_to_the_current_time",
}
FAILED_LOG_TESTS = {
    "test_failed_logs_are_failures_of_every_connection_newest_first",
    "test_failed_logs_since_and_limit",
}
# Sorts of one key's rows under a LIMIT: harmless on the test's few rows, and judged by
# production's shape (sample_app/production-stats.json): the busiest endpoint and connection
# have some 60,000 rows each.
HISTORY_TESTS = {"test_delivery_history_is_newest_first_and_limited"}
RECENT_LOG_TESTS = {
    "test_recent_logs_are_the_connections_newest_first",
    "test_recent_logs_respect_the_limit",
}


# How each database names a whole-table read in its plan.
SCANS = {"postgresql": "Seq Scan", "sqlite": "SCAN", "mysql": "Full table scan"}
# How a suggested index for a sorted range is checked: MySQL's DDL would commit the test's
# transaction, so there it is not.
SORT_VERIFIED = {
    "postgresql": "(verified: planned with it, the sort is gone)",
    "sqlite": "(verified: planned with it, the sort is gone)",
    "mysql": "(not verified: DDL on MySQL/MariaDB commits the test's transaction)",
}


@pytest.fixture(params=[*sorted(SCANS), pytest.param("psycopg2", id="postgresql-psycopg2")])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which database the inner runs use; named before ``sample_app``, which reads it. The
    session's PostgreSQL (through psycopg 3, then through psycopg2: skipped, saying why, when
    psycopg2 is not installed), SQLite (nothing to set up), and MySQL/MariaDB when a server
    answers (skipped, saying why, when none does)."""
    if request.param == "psycopg2":
        on_psycopg2(monkeypatch)
        return "postgresql"
    if request.param == "sqlite":
        monkeypatch.setenv("DATABASE_URL", "sqlite://")
    elif request.param == "mysql":
        monkeypatch.setenv("DATABASE_URL", reachable_mysql())
    return str(request.param)


def test_fully_migrated_every_test_passes(database: str, sample_app: SampleApp) -> None:
    run = sample_app.run()
    outcomes = run.outcomes()
    assert len(outcomes) >= 20, run.output
    if database == "postgresql":
        assert set(outcomes.values()) == {"passed"}, run.output
    else:  # DDL inside the test's transaction: PostgreSQL's schema editor only
        assert set(outcomes.values()) == {"passed", "skipped"}, run.output
        assert "only PostgreSQL builds the index concurrently and rolls DDL back" in run.output
    assert "indexguard: on, mode forced, watching 5 tables" in run.output
    assert "violations: none" in run.output


def test_without_the_index_migration_the_unindexed_queries_fail(
    database: str, sample_app: SampleApp
) -> None:
    scan = SCANS[database]
    run = sample_app.run("--without-indexes")
    outcomes = run.outcomes()
    failed = {name for name, outcome in outcomes.items() if outcome == "failed"}
    assert failed == RETRY_TESTS | FAILED_LOG_TESTS | HISTORY_TESTS | RECENT_LOG_TESTS, run.output
    # Every other query is served by an index Django creates anyway (foreign keys, unique
    # constraints), and where a composite index of 0002 would also sort or filter, production
    # has too few rows per key for it to matter (twenty alert rules per customer).
    assert {o for n, o in outcomes.items() if n not in failed} <= {"passed", "skipped"}

    for name in RETRY_TESTS:
        section = run.section(name)
        assert (
            f"upstream_webhookdelivery: {scan} filters rows that no index serves; "
            "no index on (status, next_attempt_at)"
        ) in section, section
        assert 'models.Index(fields=["status", "next_attempt_at"]' in section
        assert "in upstream.WebhookDelivery.Meta.indexes" in section
        assert "tests/test_webhooks.py:" in section
        # The test evaluates the lazy QuerySet the service built: application code.
        assert "(QuerySet built at upstream/integrations/services.py:" in section
        assert "in due_retries)" in section
    for name in FAILED_LOG_TESTS:
        section = run.section(name)
        assert (
            f"upstream_integrationlog: {scan} filters rows that no index serves; "
            "no index on (status, -start_time)"
        ) in section, section
        assert 'models.Index(fields=["status", "-start_time"]' in section
    history = ("upstream_webhookdelivery", '["endpoint", "-created_at"]')
    recent = ("upstream_integrationlog", '["connection", "-start_time"]')
    for name, (table, index) in (
        *((n, history) for n in HISTORY_TESTS),
        *((n, recent) for n in RECENT_LOG_TESTS),
    ):
        section = run.section(name)
        assert f"[1] {table}: " in section, section
        assert "feeds a sort of every row its index finds" in section, section
        assert "for a typical key" in section
        assert "for the busiest (production's column statistics)" in section
        assert f"models.Index(fields={index}" in section, section
        assert SORT_VERIFIED[database] in section, section
    assert "upstream_webhookdelivery: 2 new (5 executions)" in run.output, run.output
    assert "upstream_integrationlog: 3 new (5 executions)" in run.output, run.output
