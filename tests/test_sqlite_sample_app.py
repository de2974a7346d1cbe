"""The sample app's own suite under the guard on SQLite (``DATABASE_URL=sqlite://``), the way its
users run it: the demo holds there too."""

from __future__ import annotations

import pytest

from conftest import SampleApp
from test_sample_app import FAILED_LOG_TESTS, HISTORY_TESTS, RECENT_LOG_TESTS, RETRY_TESTS


@pytest.fixture
def on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before ``sample_app``: its inner runs make their own SQLite databases."""
    monkeypatch.setenv("DATABASE_URL", "sqlite://")


def test_fully_migrated_every_test_passes(on_sqlite: None, sample_app: SampleApp) -> None:
    run = sample_app.run()
    outcomes = run.outcomes()
    assert len(outcomes) >= 20, run.output
    assert set(outcomes.values()) <= {"passed", "skipped"}, run.output
    assert "indexguard: on, mode forced, watching 5 tables" in run.output
    assert "violations: none" in run.output


def test_without_the_index_migration_the_unindexed_queries_fail(
    on_sqlite: None, sample_app: SampleApp
) -> None:
    run = sample_app.run("--without-indexes")
    outcomes = run.outcomes()
    failed = {name for name, outcome in outcomes.items() if outcome == "failed"}
    assert failed == RETRY_TESTS | FAILED_LOG_TESTS | HISTORY_TESTS | RECENT_LOG_TESTS, run.output
    assert {o for n, o in outcomes.items() if n not in failed} <= {"passed", "skipped"}
    for name in RETRY_TESTS:
        section = run.section(name)
        assert (
            "upstream_webhookdelivery: SCAN filters rows that no index serves; "
            "no index on (status, next_attempt_at)"
        ) in section, section
        assert 'models.Index(fields=["status", "next_attempt_at"]' in section
    for name in FAILED_LOG_TESTS:
        section = run.section(name)
        assert (
            "upstream_integrationlog: SCAN filters rows that no index serves; "
            "no index on (status, -start_time)"
        ) in section, section
    history = ("upstream_webhookdelivery", '["endpoint", "-created_at"]')
    recent = ("upstream_integrationlog", '["connection", "-start_time"]')
    for name, (table, index) in (
        *((n, history) for n in HISTORY_TESTS),
        *((n, recent) for n in RECENT_LOG_TESTS),
    ):
        section = run.section(name)
        assert f"[1] {table}: SEARCH using " in section, section
        assert "feeds a sort of every row its index finds" in section, section
        assert f"models.Index(fields={index}" in section, section
        assert "(verified: planned with it, the sort is gone)" in section, section
