"""``python -m pytest_indexguard merge``: bad input is one line naming the file, exit code 2; the
verdict's exit code follows pytest's (1 for new violations, and for stale entries with
--fail-stale). End-to-end merges of real shards are in test_gating.py."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from pytest_indexguard.__main__ import main
from pytest_indexguard.config import Settings
from pytest_indexguard.results import Results
from pytest_indexguard.schema import ColumnShape

TEST = "tests/test_a.py::test_one"


def report(
    *,
    ran: list[str],
    mode: str = "forced",
    new: bool = False,
    settings: Settings | None = None,
    xfailed: bool = False,
) -> dict[str, Any]:
    results = Results(settings or Settings(enabled=True, mode=mode))  # type: ignore[arg-type]
    results.ran.update(ran)
    if xfailed:
        results.xfailed.update(ran)
    if new:
        results.records.append(
            {
                "test": ran[0],
                "fingerprint": "f" * 16,
                "alias": "default",
                "table": "shop_customer",
                "sql": "SELECT * FROM shop_customer WHERE city = %s",
                "node": "Seq Scan",
                "rule": "filter",
                "filter": "(city = ?)",
                "join_filter": None,
                "sort_key": [],
                "unservable": None,
                "status": "new",
                "suggestion": None,
                "plan": [],
                "rows": None,
                "rows_source": None,
                "origin": "application",
                "call_site": {"path": "shop/views.py", "line": 3, "function": "f"},
                "executions": 1,
                "marker": None,
                "expired_marker": None,
            }
        )
    return results.json_report({"checked": 1}, None, rootdir="/project")


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def one_error(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    code = main(["merge", *map(str, args)])
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "a.json", report(ran=[TEST]))
    missing = tmp_path / "b.json"
    assert one_error(capsys, good, missing) == (
        f"merge: no such file {str(missing)!r}; each job writes one with --indexguard-report=PATH"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON (line 1: "),
        (codecs.BOM_UTF16_LE + "{}".encode("utf-16-le"), "cannot use {path}: it is UTF-16"),
        (b'{"format": "pytest-indexguard baseline"}', "is not an indexguard report: expected"),
        (
            b'{"format": "pytest-indexguard report", "version": 1}',
            "is a version 1 report, which does not say which tests ran",
        ),
        (
            b'{"format": "pytest-indexguard report", "version": 2, "settings": {}}',
            "is not an indexguard report: it has no 'summary' field",
        ),
        (None, "cannot use {path}: it is a directory"),
    ],
    ids=["not-json", "utf16", "a-baseline", "version-1", "truncated", "directory"],
)
def test_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "shard.json"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    error = one_error(capsys, path)
    assert error.startswith("merge: "), error
    assert str(path) in error
    assert message.format(path=repr(str(path))) in error, error


def test_different_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write(tmp_path / "a.json", report(ran=[TEST]))
    other = write(tmp_path / "b.json", report(ran=["tests/test_b.py::t"], mode="planner"))
    assert one_error(capsys, first, other) == (
        f"merge: {str(other)!r} ran with mode 'planner', {str(first)!r} with 'forced': every "
        "job must run with the same settings"
    )


SIZES = MappingProxyType({"shop_customer": (2_000_000, "indexguard_table_rows")})


@pytest.mark.parametrize(
    ("other", "words"),
    [
        (
            Settings(enabled=True),
            "table sizes (indexguard_table_rows, indexguard_stats) no size for shop_customer, "
            "{first} with shop_customer=2,000,000 (indexguard_table_rows)",
        ),
        (
            Settings(
                enabled=True,
                table_rows=MappingProxyType({"shop_customer": (2_000_000, "stats file s.json")}),
            ),
            "table sizes (indexguard_table_rows, indexguard_stats) shop_customer=2,000,000 "
            "(stats file s.json), {first} with shop_customer=2,000,000 (indexguard_table_rows)",
        ),
        (
            Settings(
                enabled=True,
                table_rows=SIZES,
                columns=MappingProxyType(
                    {"shop_customer": MappingProxyType({"city": ColumnShape(n_distinct=40.0)})}
                ),
            ),
            "column statistics (indexguard_distinct, or the stats file's) '",
        ),
        (
            Settings(enabled=True, table_rows=SIZES, unservable="warn"),
            "unservable (indexguard_unservable) 'warn', {first} with 'fail'",
        ),
        (
            Settings(enabled=True, table_rows=SIZES, small_tables=frozenset({"shop_city"})),
            "small tables (indexguard_small_tables) ['shop_city'], {first} with []",
        ),
        (
            Settings(enabled=True, table_rows=SIZES, check_test_code=True),
            "test-code checking (indexguard_check_test_code) True, {first} with False",
        ),
        (
            Settings(enabled=True, table_rows=SIZES, plan_on="postgres://u:secret@db/"),
            "planning (--indexguard-plan-on) 'postgresql', {first} with none",
        ),
    ],
    ids=[
        "sizes-undeclared",
        "sizes-from-stats",
        "distinct",
        "unservable",
        "small",
        "test-code",
        "plan-on",
    ],
)
def test_settings_that_change_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], other: Settings, words: str
) -> None:
    """Every setting that changes a verdict must match, named in the refusal; a shard without
    declared sizes beside one with them was merged before, its violations "below min-rows"."""
    first = write(
        tmp_path / "a.json", report(ran=[TEST], settings=Settings(enabled=True, table_rows=SIZES))
    )
    second = write(tmp_path / "b.json", report(ran=["tests/test_b.py::t"], settings=other))
    error = one_error(capsys, first, second)
    assert error.startswith(
        f"merge: {str(second)!r} ran with " + words.format(first=repr(str(first)))
    ), error
    assert error.endswith("every job must run with the same settings"), error


def test_declared_sizes_silence_the_estimates_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The header's warning that min-rows reads the test database's estimates is for runs
    without declared sizes: shards that all declared them do not get it."""
    settings = Settings(enabled=True, min_rows=1000, table_rows=SIZES)
    first = write(tmp_path / "a.json", report(ran=[TEST], settings=settings))
    second = write(tmp_path / "b.json", report(ran=["tests/test_b.py::t"], settings=settings))
    assert main(["merge", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "min-rows 1,000" in out
    assert "test database's own row estimates" not in out
    bare = Settings(enabled=True, min_rows=1000)
    first = write(tmp_path / "a.json", report(ran=[TEST], settings=bare))
    second = write(tmp_path / "b.json", report(ran=["tests/test_b.py::t"], settings=bare))
    assert main(["merge", str(first), str(second)]) == 0
    assert "test database's own row estimates" in capsys.readouterr().out


def test_a_test_in_two_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write(tmp_path / "a.json", report(ran=[TEST]))
    error = one_error(capsys, first, first)
    assert error.startswith(f"merge: {str(first)!r}: test {TEST} also ran in"), error


def test_bad_baseline_and_missing_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shard = write(tmp_path / "a.json", report(ran=[TEST]))
    assert one_error(capsys, shard, "--update-baseline") == (
        "merge: --update-baseline needs --baseline=PATH (the file to write)"
    )
    bad = tmp_path / "baseline.json"
    bad.write_text("[]")
    error = one_error(capsys, shard, f"--baseline={bad}")
    assert error.startswith(f"merge --baseline: {str(bad)!r} is not an indexguard baseline"), error


def test_exit_codes_follow_pytest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = write(tmp_path / "a.json", report(ran=[TEST]))
    failing = write(tmp_path / "b.json", report(ran=["tests/test_b.py::t"], new=True))
    assert main(["merge", str(clean)]) == 0
    assert main(["merge", str(clean), str(failing)]) == 1
    assert "1 test needs a new full scan" in capsys.readouterr().out
    # Recorded, the violation is known: the merge passes; the stale entry fails --fail-stale.
    path = tmp_path / "baseline.json"
    assert main(["merge", str(clean), str(failing), f"--baseline={path}", "--update-baseline"]) == 0
    assert main(["merge", str(clean), str(failing), f"--baseline={path}"]) == 0
    assert main(["merge", str(clean), f"--baseline={path}", "--fail-stale"]) == 0  # not run
    data = json.loads(path.read_text())
    data["violations"][0]["tests"] = [TEST]
    path.write_text(json.dumps(data))
    assert main(["merge", str(clean), f"--baseline={path}", "--fail-stale"]) == 1
    assert "1 stale baseline entry (--fail-stale)" in capsys.readouterr().out
    # A test marked xfail that failed for its scan: pytest passed the job, so does the merge.
    expected = write(
        tmp_path / "c.json", report(ran=["tests/test_c.py::t"], new=True, xfailed=True)
    )
    assert main(["merge", str(clean), str(expected)]) == 0
    assert "1 test marked xfail with new ones" in capsys.readouterr().out


def test_an_output_that_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shard = write(tmp_path / "a.json", report(ran=[TEST]))
    merged = tmp_path / "merged.json"
    code = main(["merge", str(shard), "--sarif=/dev/full", f"--report={merged}"])
    out = capsys.readouterr().out
    assert code == 2
    assert "indexguard: merge --sarif: cannot write '/dev/full': No space left on device" in out
    assert json.loads(merged.read_text())["tests"]["ran"] == [TEST]


def test_the_example_workflow_merge_step_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The merge step of docs/github-actions-indexguard-sharded.yml, as written there."""
    workflow = Path(__file__).parent.parent / "docs" / "github-actions-indexguard-sharded.yml"
    text = workflow.read_text()
    start = text.index("python -m pytest_indexguard merge")
    step = text[start : text.index("- name:", start)].split()
    assert step[:4] == ["python", "-m", "pytest_indexguard", "merge"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    for part, test in (("api", TEST), ("web", "tests/test_b.py::t")):
        write(tmp_path / "reports" / f"indexguard-{part}.json", report(ran=[test]))
    write(
        tmp_path / "indexguard-baseline.json",
        {"format": "pytest-indexguard baseline", "version": 1, "violations": []},
    )
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    arguments = []
    for argument in step[4:]:
        if "*" in argument:
            arguments.extend(sorted(str(p) for p in tmp_path.glob(argument)))
        else:
            arguments.append(argument)
    assert main(["merge", *arguments]) == 0, capsys.readouterr()
    assert "merged 2 reports: 2 tests ran" in capsys.readouterr().out
    assert (tmp_path / "indexguard.sarif").exists()
    assert (tmp_path / "indexguard-report.json").exists()
    assert (tmp_path / "summary.md").read_text().startswith("## pytest-indexguard")
