"""Every file the plugin reads or writes fails cleanly: one line naming the option and the path,
never a traceback; a file that cannot be written at the end leaves the run's own results (the
FAILURES section, the short summary, the exit code) and the other outputs intact. Files get the
mode the umask gives, and are replaced atomically.

The tests run as root, where permission bits stop nothing, so unwritable places are made in
ways that hold for root too: a directory that a test of the inner run replaces with a regular
file (so the path's parent is a file when the run ends: ENOTDIR), ``/dev/full`` (every write
fails with ENOSPC: a full disk), a path under ``/proc`` (no file can be created there), and a
directory where a file is expected.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DjangoProject, SampleApp
from pytest_indexguard import baseline
from pytest_indexguard.files import OutputError, ReadError, read_text, write_atomically

DEV_FULL = Path("/dev/full")


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# -- reading ------------------------------------------------------------------------------------


def test_utf16_is_named(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(codecs.BOM_UTF16_LE + '{"format": 1}'.encode("utf-16-le"))
    with pytest.raises(ReadError, match=r"UTF-16 encoded \(PowerShell's > and Out-File"):
        read_text(path)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(codecs.BOM_UTF8 + b"{}")
    assert read_text(path) == "{}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p.write_bytes(b'{"a": "\xe9"}'),
            "it is not UTF-8 text (byte 0xe9 at offset 7); save it as UTF-8",
        ),
        (lambda p: p.mkdir(), "it is a directory, not a file"),
    ],
    ids=["latin-1", "directory"],
)
def test_unreadable_documents(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "b.json"
    make(path)  # type: ignore[operator]
    with pytest.raises(pytest.UsageError) as caught:
        baseline.load(path, missing_ok=True)
    assert str(caught.value) == f"--indexguard-baseline: cannot use {str(path)!r}: {message}"


def test_devices_and_paths_through_a_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not a regular file"):
        read_text(Path("/dev/zero"))  # would never end
    (tmp_path / "file").write_text("")
    with pytest.raises(ReadError, match="cannot read it: Not a directory"):
        read_text(tmp_path / "file" / "b.json")


def test_an_unreadable_baseline_in_a_run(sample_app: SampleApp, tmp_path: Path) -> None:
    """A baseline that cannot be read stops the run with one line. The message of each way a
    file can be unreadable is checked in process (test_units_config.py)."""
    path = tmp_path / "baseline.json"
    path.mkdir()
    run = sample_app.run(f"--indexguard-baseline={path}", "--indexguard-update-baseline")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR, run.output
    [error] = [line for line in run.result.errlines if line.startswith("ERROR:")]
    assert error.startswith(f"ERROR: --indexguard-baseline: cannot use {str(path)!r}: "), error
    assert "Traceback" not in run.output
    assert "INTERNALERROR" not in run.output


# -- writing ------------------------------------------------------------------------------------


def test_new_files_get_the_umask_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "report.json"
    write_atomically(path, "{}\n", option="--indexguard-report")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.umask(0o027)
    other = tmp_path / "other.json"
    write_atomically(other, "{}\n", option="--indexguard-report")
    assert stat.S_IMODE(other.stat().st_mode) == 0o640


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("old\n")
    path.chmod(0o664)
    write_atomically(path, "new\n", option="--indexguard-baseline")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_disk_full_is_one_line_and_the_device_stays(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        write_atomically(DEV_FULL, "{}\n", option="--indexguard-sarif")
    assert (
        str(caught.value) == "--indexguard-sarif: cannot write '/dev/full': No space left on device"
    )
    assert stat.S_ISCHR(DEV_FULL.stat().st_mode)


@pytest.mark.parametrize(
    ("where", "why"),
    [("directory", "it is a directory"), ("under-a-file", "Not a directory"), ("proc", "")],
)
def test_unwritable_places(tmp_path: Path, where: str, why: str) -> None:
    if where == "directory":
        path = tmp_path / "out"
        path.mkdir()
    elif where == "under-a-file":
        (tmp_path / "out").write_text("")
        path = tmp_path / "out" / "report.json"
    else:
        path = Path("/proc/self/indexguard-report.json")
    with pytest.raises(OutputError) as caught:
        write_atomically(path, "{}\n", option="--indexguard-report")
    message = str(caught.value)
    assert message.startswith(f"--indexguard-report: cannot write {str(path)!r}: "), message
    assert why in message
    assert "\n" not in message


def test_an_interrupted_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up after half the new content: the baseline is the old one, whole, and
    no temporary file is left behind."""
    path = tmp_path / "baseline.json"
    path.write_text("old content\n")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomically(path, "new content\n" * 1000, option="--indexguard-baseline")
    assert path.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]


# -- outputs written at the end of a run --------------------------------------------------------

END_OF_RUN = """
import os
import shutil
from pathlib import Path

import pytest
from shop.models import Customer

pytestmark = pytest.mark.django_db


def test_fails():
    assert 1 == 2, "an ordinary failure"


def test_passes():
    assert Customer.objects.filter(pk=1).count() == 0


def test_output_directory_goes_away():
    gone = Path(os.environ["VANISHING_DIR"])
    shutil.rmtree(gone)
    gone.write_text("now a file")
"""


@pytest.mark.parametrize("failing", [True, False], ids=["tests-fail", "tests-pass"])
def test_outputs_that_cannot_be_written_at_the_end(
    django_project: DjangoProject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    umask_022: None,
    failing: bool,
) -> None:
    django_project.write_tests(END_OF_RUN if failing else END_OF_RUN.replace("1 == 2", "2 == 2"))
    vanishing = tmp_path / "vanishing"
    vanishing.mkdir()
    monkeypatch.setenv("VANISHING_DIR", str(vanishing))
    step_summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    report = tmp_path / "report.json"
    run = django_project.run(
        "--indexguard",
        f"--indexguard-report={report}",
        f"--indexguard-sarif={DEV_FULL}",
        f"--indexguard-baseline={vanishing / 'baseline.json'}",
        "--indexguard-update-baseline",
    )
    errors = [
        line
        for line in run.result.outlines
        if line.startswith("indexguard: ") and ("cannot write" in line or "run fails" in line)
    ]
    assert errors == [
        f"indexguard: --indexguard-baseline: cannot write {str(vanishing / 'baseline.json')!r}: "
        "Not a directory",
        "indexguard: --indexguard-sarif: cannot write '/dev/full': No space left on device",
        "indexguard: the run fails: an output file could not be written",
    ], run.output
    assert "Traceback" not in run.output
    assert "INTERNALERROR" not in run.output
    # The other outputs are written, with the umask's mode.
    assert json.loads(report.read_text())["format"] == "pytest-indexguard report"
    assert stat.S_IMODE(report.stat().st_mode) == 0o644
    assert step_summary.read_text().startswith("## pytest-indexguard")
    if failing:
        # The run's own results come first: its exit code, FAILURES and the short summary.
        assert run.result.ret == pytest.ExitCode.TESTS_FAILED
        assert any("= FAILURES =" in line for line in run.result.outlines), run.output
        assert "an ordinary failure" in run.section("test_fails")
        assert "FAILED test_inner.py::test_fails - AssertionError: an ordinary failure" in (
            run.output
        )
    else:
        # Every test passed, but a file the command line asked for is missing.
        assert run.result.ret == pytest.ExitCode.USAGE_ERROR, run.output
        assert set(run.outcomes().values()) == {"passed"}


def test_stats_output_that_cannot_be_written(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_indexguard",
            "stats",
            "--database-url",
            os.environ["DATABASE_URL"],
            "--output",
            "/proc/self/stats.json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("stats --output: cannot write '/proc/self/stats.json': ")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_empty_baseline_is_called_empty(tmp_path: Path) -> None:
    """An empty file is "empty", not "not valid JSON"; one made to be written (touch) is
    written."""
    path = tmp_path / "baseline.json"
    path.write_text("")
    with pytest.raises(pytest.UsageError) as caught:
        baseline.load(path, missing_ok=False)
    assert str(caught.value) == (
        f"--indexguard-baseline: {str(path)!r} is empty; record one with "
        "--indexguard-update-baseline"
    )
    assert baseline.load(path, missing_ok=True) == {}


def stats_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_indexguard", "stats", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "url", ["mysql://root@127.0.0.1:3306/shop", "sqlite:///db.sqlite3", "mysql+pymysql://x/y"]
)
def test_stats_of_another_database_says_it_reads_postgresql_only(url: str) -> None:
    done = stats_command("--database-url", url)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("stats: reads PostgreSQL only (its catalog's row estimates"), line
    assert "missing" not in line  # libpq's parsing noise
    assert "declare production's sizes in indexguard_table_rows" in line


def test_stats_output_into_a_missing_directory_is_refused(tmp_path: Path) -> None:
    """As --indexguard-report and every other file option: no directory is created."""
    target = tmp_path / "missing" / "stats.json"
    done = stats_command("--database-url", os.environ["DATABASE_URL"], "--output", str(target))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"stats --output: cannot write {str(target)!r}: its directory "
        f"{str(target.parent)!r} does not exist"
    )
    assert not target.parent.exists()
    with pytest.raises(OutputError, match=r"its directory .* does not exist"):
        write_atomically(target, "{}\n", option="merge --report")
    assert not target.parent.exists()
