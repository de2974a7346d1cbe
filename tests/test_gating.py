"""CI gating on any part of a suite: a baseline updated from a subset changes only the entries of
the tests that ran, and the reports of a suite split across jobs merge into the verdict of one
run of the whole suite (``python -m pytest_indexguard merge``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import InnerRun, Recordings, SampleApp
from pytest_indexguard import baseline
from pytest_indexguard.merge import WORK_COUNTERS

_PASSED = re.compile(r"^PASSED (\S+)")


def run(app: SampleApp, *args: str, whole: bool = True) -> InnerRun:
    """The sample app's suite; ``whole=False`` leaves the tests directory out of the arguments,
    for runs that name files instead."""
    if whole:
        return app.run(*args)
    return InnerRun(
        app.pytester.runpytest_subprocess(
            "-p",
            "no:cacheprovider",
            "-rA",
            "-c",
            str(app.root / "pytest.ini"),
            "--rootdir",
            str(app.root),
            *args,
        )
    )


def ran(inner: InnerRun) -> set[str]:
    return {m.group(1) for line in inner.result.outlines if (m := _PASSED.match(line))}


def entries(path: Path) -> dict[str, dict[str, Any]]:
    return {e["fingerprint"]: e for e in json.loads(path.read_text())["violations"]}


def expected_update(before: dict[str, dict[str, Any]], done: set[str]) -> dict[str, dict[str, Any]]:
    """What an update must leave when nothing hits any more: an entry loses the tests that ran
    (or are gone), and goes when it has none left."""
    kept = {}
    for fingerprint, entry in before.items():
        left = [t for t in entry["tests"] if t not in done]
        if left:
            kept[fingerprint] = {**entry, "tests": left}
    return kept


@pytest.fixture
def recorded(sample_copy: SampleApp, tmp_path: Path, recordings: Recordings) -> Path:
    """The baseline of the whole suite without the planned indexes (five entries), this test's
    own copy of it."""
    record = recordings.record(sample_copy)
    assert record.run.result.ret == 0, record.run.output
    path = record.copy_to(tmp_path / "baseline.json")
    assert len(entries(path)) == 5
    return path


def _skip_delivery_history(app: SampleApp) -> None:
    source = app.root / "tests" / "test_webhooks.py"
    text = source.read_text()
    target = "def test_delivery_history_is_newest_first_and_limited"
    source.write_text(
        text.replace(target, '@pytest.mark.skipif(True, reason="another platform")\n' + target)
    )
    if "import pytest\n" not in text:
        source.write_text("import pytest\n" + source.read_text())


SELECTIONS = {
    "keyword": (("-k", "due_retries"), True, None),
    "file-argument": (("tests/test_integration_logs.py",), False, None),
    "ignore": (("--ignore=tests/test_webhooks.py",), True, None),
    "deselect": (
        (
            "--deselect",
            "tests/test_webhooks.py::test_due_retries_respect_the_limit",
            "--deselect",
            "tests/test_webhooks.py::test_delivery_history_is_newest_first_and_limited",
        ),
        True,
        None,
    ),
    "skipif": ((), True, _skip_delivery_history),
}


@pytest.mark.parametrize("case", list(SELECTIONS))
def test_update_from_a_subset_changes_only_the_entries_of_the_tests_that_ran(
    sample_copy: SampleApp, recorded: Path, case: str
) -> None:
    args, whole, prepare = SELECTIONS[case]
    if prepare is not None:
        prepare(sample_copy)
    before = entries(recorded)
    raw_before = {e["fingerprint"]: json.dumps(e) for e in before.values()}
    # With the indexes, nothing hits any more: every entry whose tests all ran must go.
    update = run(
        sample_copy,
        f"--indexguard-baseline={recorded}",
        "--indexguard-update-baseline",
        *args,
        whole=whole,
    )
    assert update.result.ret == 0, update.output
    done = ran(update)
    assert done, update.output
    after = entries(recorded)
    assert after == expected_update(before, done), update.output
    untouched = [f for f, e in before.items() if not set(e["tests"]) & done]
    dropped = [f for f in before if f not in after]
    assert untouched, "the selection must leave some entry alone"
    assert dropped, "the selection must run every test of some entry"
    for fingerprint in untouched:
        assert json.dumps(after[fingerprint]) == raw_before[fingerprint]
    # The file is still the plugin's own format, byte for byte.
    assert recorded.read_text() == baseline.dumps(
        baseline.load(recorded, missing_ok=False).values()
    )


def test_a_skipped_test_keeps_its_entry_and_does_not_fail_where_it_runs(
    sample_copy: SampleApp, recorded: Path
) -> None:
    """The issue's case: an entry hit only by a test skipped on this machine."""
    pristine = sample_copy.root / "tests" / "test_webhooks.py"
    original = pristine.read_text()
    _skip_delivery_history(sample_copy)
    update = sample_copy.run(
        "--without-indexes", f"--indexguard-baseline={recorded}", "--indexguard-update-baseline"
    )
    assert update.result.ret == 0, update.output
    assert len(entries(recorded)) == 5, update.output
    pristine.write_text(original)  # the machine where it runs
    gate = sample_copy.run("--without-indexes", f"--indexguard-baseline={recorded}")
    assert gate.result.ret == 0, gate.output
    assert gate.outcomes()["test_delivery_history_is_newest_first_and_limited"] == "passed"


def test_a_renamed_test_is_gone_even_when_not_selected(
    sample_copy: SampleApp, recorded: Path
) -> None:
    """pytest collected the module and the old name was not in it: a fact, so the old name
    leaves the baseline although -k selected other tests."""
    source = sample_copy.root / "tests" / "test_integration_logs.py"
    source.write_text(
        source.read_text().replace(
            "def test_recent_logs_respect_the_limit(", "def test_recent_logs_keep_to_the_limit("
        )
    )
    old = "tests/test_integration_logs.py::test_recent_logs_respect_the_limit"
    before = entries(recorded)
    [entry] = [e for e in before.values() if old in e["tests"]]
    assert len(entry["tests"]) == 2
    update = sample_copy.run(
        f"--indexguard-baseline={recorded}", "--indexguard-update-baseline", "-k", "due_retries"
    )
    assert update.result.ret == 0, update.output
    after = entries(recorded)
    assert after == expected_update(before, ran(update) | {old}), update.output
    assert [t for t in entry["tests"] if t != old] == after[entry["fingerprint"]]["tests"]


# -- sharded runs, merged -----------------------------------------------------------------------

SHARDINGS = {
    "two-by-file": [
        (("tests/test_webhooks.py", "tests/test_schema.py"), False),
        (
            ("tests/test_integration_logs.py", "tests/test_alerts.py", "tests/test_customers.py"),
            False,
        ),
    ],
    "three-by-keyword": [
        (("-k", "webhook or delivery or retr"), True),
        (("-k", "logs and not (webhook or delivery or retr)"), True),
        (("-k", "not (webhook or delivery or retr) and not logs", "-p", "xdist", "-n", "2"), True),
    ],
}


def merge_command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_indexguard", "merge", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def without_work_counters(report: dict[str, Any]) -> dict[str, Any]:
    summary = {k: v for k, v in report["summary"].items() if k not in WORK_COUNTERS}
    return {**report, "summary": summary}


@pytest.mark.parametrize("sharding", list(SHARDINGS))
def test_shards_merge_into_the_verdict_of_one_run(
    sample_copy: SampleApp,
    recorded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sharding: str,
) -> None:
    # A baseline with a violation missing (new) and an entry nothing hits although its test
    # runs (stale), next to known ones.
    data = json.loads(recorded.read_text())
    removed = data["violations"].pop(0)
    data["violations"].append(
        {
            **data["violations"][0],
            "fingerprint": "0" * 16,
            "sql": "SELECT 1 FROM upstream_alertrule",
            "table": "upstream_alertrule",
            "tests": ["tests/test_alerts.py::" + _first_test(sample_copy, "test_alerts.py")],
        }
    )
    recorded.write_text(json.dumps(data))

    def fresh(name: str) -> Path:
        copy = tmp_path / name
        copy.write_bytes(recorded.read_bytes())
        return copy

    single_dir = tmp_path / "single"
    single_dir.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(single_dir / "summary.md"))
    single = sample_copy.run(
        "--without-indexes",
        f"--indexguard-baseline={recorded}",
        "--indexguard-fail-stale",
        f"--indexguard-report={single_dir / 'report.json'}",
        f"--indexguard-sarif={single_dir / 'report.sarif'}",
    )
    assert single.result.ret == 1, single.output
    assert removed["tests"][0].split("::")[-1] in {
        name for name, outcome in single.outcomes().items() if outcome == "failed"
    }
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    single_baseline = fresh("single-baseline.json")
    single_update = sample_copy.run(
        "--without-indexes",
        f"--indexguard-baseline={single_baseline}",
        "--indexguard-update-baseline",
    )
    assert single_update.result.ret == 0, single_update.output

    reports = []
    tests_ran: set[str] = set()
    for number, (args, whole) in enumerate(SHARDINGS[sharding], start=1):
        shard_report = tmp_path / f"shard-{number}.json"
        shard = run(
            sample_copy,
            "--without-indexes",
            f"--indexguard-baseline={recorded}",
            f"--indexguard-report={shard_report}",
            *args,
            whole=whole,
        )
        assert shard.result.ret in (0, 1), shard.output
        shard_ran = set(json.loads(shard_report.read_text())["tests"]["ran"])
        assert shard_ran
        assert not shard_ran & tests_ran
        tests_ran |= shard_ran
        reports.append(shard_report)
    single_report = json.loads((single_dir / "report.json").read_text())
    assert tests_ran == set(single_report["tests"]["ran"])

    merged_dir = tmp_path / "merged"
    merged_dir.mkdir()
    (merged_dir / "summary.md").write_text("")
    gate = merge_command(
        *reports,
        f"--baseline={recorded}",
        "--fail-stale",
        f"--report={merged_dir / 'report.json'}",
        f"--sarif={merged_dir / 'report.sarif'}",
        f"--github-summary={merged_dir / 'summary.md'}",
    )
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "1 stale baseline entry" in gate.stdout, gate.stdout
    assert (merged_dir / "report.sarif").read_bytes() == (single_dir / "report.sarif").read_bytes()
    assert (merged_dir / "summary.md").read_text() == (single_dir / "summary.md").read_text()
    merged_report = json.loads((merged_dir / "report.json").read_text())
    assert without_work_counters(merged_report) == without_work_counters(single_report)
    assert merged_report["summary"]["statuses"]["new"] >= 1

    merged_baseline = fresh("merged-baseline.json")
    update = merge_command(*reports, f"--baseline={merged_baseline}", "--update-baseline")
    assert update.returncode == 0, update.stdout + update.stderr
    assert merged_baseline.read_bytes() == single_baseline.read_bytes()
    assert removed["fingerprint"] in entries(merged_baseline)
    assert "0" * 16 not in entries(merged_baseline)


def _first_test(app: SampleApp, module: str) -> str:
    text = (app.root / "tests" / module).read_text()
    match = re.search(r"^def (test_\w+)", text, re.MULTILINE)
    assert match is not None
    return match.group(1)
