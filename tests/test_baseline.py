"""CI gating on regressions: record a baseline, fail only on new scans, report stale entries.
Inner runs of a copy of the sample app, so a test can add a new unindexed query to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import InnerRun, Recordings, SampleApp

# A new unindexed query in the application, and its test. (A statement the test sent straight
# through the ORM would be test code, which does not fail.)
NEW_QUERY = """
from upstream.integrations.models import WebhookDelivery


def deliveries_by_event_type(event_type):
    return WebhookDelivery.objects.filter(event_type=event_type)
"""
NEW_QUERY_TEST = """
import pytest

from upstream.integrations.event_reports import deliveries_by_event_type


@pytest.mark.django_db
def test_deliveries_by_event_type():
    assert list(deliveries_by_event_type("invoice.paid")) == []
"""

BASELINED_TESTS = {
    "test_due_retries_are_the_due_retrying_deliveries_oldest_first",
    "test_due_retries_respect_the_limit",
    "test_due_retries_default_to_the_current_time",
    "test_failed_logs_are_failures_of_every_connection_newest_first",
    "test_failed_logs_since_and_limit",
    # Sorts of one key's rows that production's shape makes large (sample_app/pytest.ini).
    "test_delivery_history_is_newest_first_and_limited",
    "test_recent_logs_are_the_connections_newest_first",
    "test_recent_logs_respect_the_limit",
}


def _failed(run: InnerRun) -> set[str]:
    return {name for name, outcome in run.outcomes().items() if outcome == "failed"}


def _stale_lines(run: InnerRun) -> list[str]:
    return [line for line in run.result.outlines if line.startswith("stale baseline entry")]


XDIST = ("xdist", ("-p", "xdist", "-n", "2"))


@pytest.mark.parametrize("workers", [(), XDIST[1]], ids=["serial", "xdist"])
def test_baseline_lifecycle(
    sample_copy: SampleApp, tmp_path: Path, workers: tuple[str, ...], recordings: Recordings
) -> None:
    # 1. Record with the planned indexes missing: nothing fails, the file is written. (The
    # recording run is shared with the other tests that start from it; the steps after it work
    # on this test's own copy of the file.)
    recorded = recordings.record(sample_copy, workers)
    record = recorded.run
    assert _failed(record) == set(), record.output
    assert f"baseline written: {recorded.path} (5 entries)" in record.output, record.output
    baseline = recorded.copy_to(tmp_path / "indexguard-baseline.json")
    option = f"--indexguard-baseline={baseline}"
    data = json.loads(baseline.read_text())
    assert data["format"] == "pytest-indexguard baseline"
    assert data["version"] == 1
    tables = [entry["table"] for entry in data["violations"]]
    assert tables == sorted(tables)
    assert set(tables) == {"upstream_integrationlog", "upstream_webhookdelivery"}
    tests = {t.split("::")[-1] for entry in data["violations"] for t in entry["tests"]}
    assert tests == BASELINED_TESTS
    assert "'retrying'" not in baseline.read_text()  # no parameter values

    # 2. Rerun: everything is known, the run passes, the file is left alone. (Under xdist the
    # run of step 3 checks the same counts and file; the serial run checks the pass on its own.)
    before = baseline.stat().st_mtime_ns
    if not workers:
        known = sample_copy.run("--without-indexes", option, *workers)
        assert _failed(known) == set(), known.output
        assert "upstream_webhookdelivery: 2 known" in known.output, known.output
        assert baseline.stat().st_mtime_ns == before

    # 3. A new unindexed query: exactly its test fails; the known ones do not, and the file is
    # left alone.
    service = sample_copy.root / "upstream" / "integrations" / "event_reports.py"
    service.write_text(NEW_QUERY)
    (sample_copy.root / "tests" / "test_new_query.py").write_text(NEW_QUERY_TEST)
    regression = sample_copy.run("--without-indexes", option, *workers)
    assert _failed(regression) == {"test_deliveries_by_event_type"}, regression.output
    assert "upstream_webhookdelivery: 1 new, 2 known" in regression.output, regression.output
    assert baseline.stat().st_mtime_ns == before
    (sample_copy.root / "tests" / "test_new_query.py").unlink()
    service.unlink()

    # 4. With the indexes: every entry is stale; reported (not fatal: checked serially), and
    # fatal with --indexguard-fail-stale.
    if not workers:
        fixed = sample_copy.run(option, *workers)
        assert fixed.result.ret == 0, fixed.output
        assert len(_stale_lines(fixed)) == 5, fixed.output
    gated = sample_copy.run(option, "--indexguard-fail-stale", *workers)
    assert gated.result.ret == pytest.ExitCode.TESTS_FAILED, gated.output
    assert set(gated.outcomes().values()) == {"passed"}, gated.output
    assert len(_stale_lines(gated)) == 5, gated.output
    assert (
        "indexguard: the run fails: 5 stale baseline entries (--indexguard-fail-stale)"
        in gated.output
    )

    # 5. Updating drops them.
    update = sample_copy.run(option, "--indexguard-update-baseline", *workers)
    assert f"baseline written: {baseline} (0 entries)" in update.output, update.output
    assert json.loads(baseline.read_text())["violations"] == []


def test_serial_and_xdist_write_identical_baselines(
    sample_copy: SampleApp, recordings: Recordings
) -> None:
    files = {}
    for label, workers in (("serial", ()), XDIST):
        recorded = recordings.record(sample_copy, workers)
        assert recorded.run.result.ret == 0, recorded.run.output
        files[label] = recorded.content
    assert files["serial"] == files["xdist"]
    assert files["serial"].endswith(b"\n")


def test_partial_run_keeps_the_entries_of_tests_that_did_not_run(
    sample_copy: SampleApp, tmp_path: Path, recordings: Recordings
) -> None:
    full = recordings.record(sample_copy)
    assert full.run.result.ret == 0, full.run.output
    baseline = full.copy_to(tmp_path / "baseline.json")
    option = f"--indexguard-baseline={baseline}"
    entries = json.loads(baseline.read_text())["violations"]
    partial = sample_copy.run(
        "--without-indexes", option, "--indexguard-update-baseline", "-k", "due_retries"
    )
    assert partial.result.ret == 0, partial.output
    assert json.loads(baseline.read_text())["violations"] == entries
    stale_check = sample_copy.run(option, "-k", "due_retries", "--indexguard-fail-stale")
    # The other entries were not exercised (their tests did not run): not stale.
    assert "baseline entries kept as they are (not all of their tests ran): 4" in stale_check.output
    assert "the run fails: 1 stale baseline entry" in stale_check.output, stale_check.output
