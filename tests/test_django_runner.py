"""``python manage.py test`` with ``pytest_indexguard.django.Runner``, run as its users run it: in
a subprocess, on the sample app (``sampleproject.testrunner``, ``upstream/tests.py``), against
the outer session's PostgreSQL, on databases named after the outer xdist worker."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import INNER_ADDOPTS, REPO, SAMPLE_APP, WORKER
from pytest_indexguard.merge import WORK_COUNTERS
from test_sample_app import FAILED_LOG_TESTS, HISTORY_TESTS, RECENT_LOG_TESTS, RETRY_TESTS

FAILING = RETRY_TESTS | FAILED_LOG_TESTS | HISTORY_TESTS | RECENT_LOG_TESTS
# Whether the outer session's database is PostgreSQL: messages name its plans' nodes.
POSTGRESQL = urlsplit(os.environ.get("DATABASE_URL", "postgres://")).scheme in {
    "postgres",
    "postgresql",
}
# unittest's heading of a failed test: "FAIL: test_x (upstream.tests.WebhookTests.test_x)".
_HEADING = re.compile(r"^(FAIL|ERROR): (\w+) \(", re.MULTILINE)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def failed(self) -> set[str]:
        return {match.group(2) for match in _HEADING.finditer(self.stderr)}

    def section(self, test: str) -> str:
        """What unittest prints under the heading of a failed test."""
        match = re.search(
            rf"^(?:FAIL|ERROR): {test} \(.*?\n-{{70}}\n(.*?)(?=^={{20}})",
            self.stderr,
            re.DOTALL | re.MULTILINE,
        )
        return match.group(1) if match else ""


def _environment(database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    url = urlsplit(database_url or env["DATABASE_URL"])
    if url.scheme != "sqlite":  # SQLite's test databases are in memory, one per process
        url = url._replace(path=f"/indexguard_runner_{WORKER}")
    env["DATABASE_URL"] = urlunsplit(url)
    for name in ("PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env["PYTEST_ADDOPTS"] = INNER_ADDOPTS
    env.pop("GITHUB_STEP_SUMMARY", None)  # the outer job's summary is not the inner run's
    return env


def manage_test(
    *args: str, root: Path = SAMPLE_APP, cwd: Path = REPO, database_url: str | None = None
) -> Run:
    """``python sample_app/manage.py test ...``, from the repository's root by default as the
    README says (the sample's runner finds its tests from anywhere)."""
    done = subprocess.run(
        [sys.executable, str(root / "manage.py"), "test", "--noinput", *args],
        cwd=cwd,
        env=_environment(database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def pytest_run(root: Path, *args: str) -> Run:
    """The same project's pytest suite, for comparison."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=root,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _report(path: Path) -> dict[str, Any]:
    """A JSON report without the counters of the work each process did (they depend on how
    the tests were split between processes, as under xdist)."""
    report: dict[str, Any] = json.loads(path.read_text())
    for name in WORK_COUNTERS:
        report["summary"].pop(name)
    return report


def demo(out: Path, *args: str) -> Run:
    """The sample app without its index migration; its JSON report and SARIF file in ``out``."""
    return manage_test(
        "--without-indexes",
        f"--indexguard-report={out / 'report.json'}",
        f"--indexguard-sarif={out / 'sarif.json'}",
        *args,
    )


@pytest.fixture(scope="module")
def without_indexes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """A serial run of the demo, and the directory of its outputs."""
    out = tmp_path_factory.mktemp("serial")
    return demo(out), out


def test_without_the_index_migration_the_unindexed_queries_fail(
    without_indexes: tuple[Run, Path],
) -> None:
    run, _ = without_indexes
    assert run.returncode == 1, run.output
    assert run.failed() == FAILING, run.output
    assert "Ran 20 tests" in run.stderr
    assert f"FAILED (failures={len(FAILING)})" in run.stderr
    assert run.stdout.startswith("indexguard: on, mode forced, watching 5 tables"), run.output
    for name in RETRY_TESTS:
        section = run.section(name)
        assert section.startswith(
            "indexguard: 1 statement needs a full scan of a watched table "
            "(upstream_webhookdelivery)"
        ), section
        if POSTGRESQL:
            assert (
                "upstream_webhookdelivery: Seq Scan filters rows that no index serves; "
                "no index on (status, next_attempt_at)"
            ) in section
        assert 'models.Index(fields=["status", "next_attempt_at"]' in section
        # The pytest suite's function ran, from its own file: the same call site as under pytest.
        assert "at:      tests/test_webhooks.py:" in section
        assert "(QuerySet built at upstream/integrations/services.py:" in section
        assert "Traceback" not in section
        assert '@indexguard_allow("upstream_webhookdelivery", reason="...") on the test' in section
        assert "Add -v 2 to show the plans." in section
    # The summary, before unittest's count, as pytest's section comes before its short summary.
    summary = run.stderr.split(" indexguard ".center(70, "="), 1)[1].split("Ran 20 tests")[0]
    assert "violations by table, distinct statements (8 failing tests):" in summary
    assert "upstream_webhookdelivery: 2 new (5 executions)" in summary
    assert "upstream_integrationlog: 3 new (5 executions)" in summary
    assert "report written: " in summary


def test_parallel_gives_the_serial_result(
    without_indexes: tuple[Run, Path], tmp_path: Path
) -> None:
    serial, out = without_indexes
    run = demo(tmp_path, "--parallel=2")
    assert run.returncode == 1, run.output
    assert (
        run.stderr.count("Cloning test database") + run.stdout.count("Cloning test database") == 2
    ), run.output
    assert run.failed() == serial.failed() == FAILING
    for name in FAILING:
        assert run.section(name) == serial.section(name), name
    report = _report(tmp_path / "report.json")
    assert report == _report(out / "report.json")
    assert report["summary"]["checked"] > 0
    sarif = json.loads((tmp_path / "sarif.json").read_text())
    assert sarif == json.loads((out / "sarif.json").read_text())
    # One result per violation and call site.
    assert len(sarif["runs"][0]["results"]) == sum(
        len(violation["call_sites"]) for violation in report["violations"]
    )
    assert len(report["violations"]) == 5


def test_the_same_verdicts_as_under_pytest(
    without_indexes: tuple[Run, Path], tmp_path: Path
) -> None:
    _, out = without_indexes
    run = pytest_run(
        SAMPLE_APP, "--without-indexes", f"--indexguard-report={tmp_path / 'report.json'}"
    )
    assert run.returncode == 1, run.output
    by_pytest = _report(tmp_path / "report.json")
    by_django = _report(out / "report.json")

    def hits(report: dict[str, Any]) -> set[tuple[str, ...]]:
        # Tests by their function's name: upstream/tests.py::WebhookTests::test_x runs the
        # function of tests/test_webhooks.py::test_x, from the same line.
        return {
            (
                violation["fingerprint"],
                violation["status"],
                violation["suggestion"]["index"],
                hit["test"].split("::")[-1],
                f"{hit['call_site']['path']}:{hit['call_site']['line']}",
            )
            for violation in report["violations"]
            for hit in violation["hits"]
        }

    assert hits(by_django) == hits(by_pytest)
    assert len({hit[0] for hit in hits(by_django)}) == 5
    assert by_django["summary"]["statuses"] == by_pytest["summary"]["statuses"] == {"new": 5}


def test_baseline_known_then_stale(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    recorded = manage_test(
        "--without-indexes",
        f"--indexguard-baseline={baseline}",
        "--indexguard-update-baseline",
    )
    assert recorded.returncode == 0, recorded.output
    assert f"baseline written: {baseline} (5 entries)" in recorded.stderr
    entries = json.loads(baseline.read_text())["violations"]
    tests = {test for entry in entries for test in entry["tests"]}
    assert "upstream/tests.py::WebhookTests::test_due_retries_respect_the_limit" in tests

    known = manage_test("--without-indexes", f"--indexguard-baseline={baseline}")
    assert known.returncode == 0, known.output
    assert known.failed() == set()
    assert "upstream_webhookdelivery: 2 known (5 executions)" in known.stderr
    assert "upstream_integrationlog: 3 known (5 executions)" in known.stderr

    # With the indexes every test passes, and nothing hits the five entries any more.
    stale = manage_test(f"--indexguard-baseline={baseline}", "--indexguard-fail-stale")
    assert stale.failed() == set(), stale.output
    assert "\nOK\n" in stale.stderr
    assert stale.stderr.count("stale baseline entry (nothing hits it any more): ") == 5
    assert (
        "indexguard: the run fails: 5 stale baseline entries (--indexguard-fail-stale)"
    ) in stale.stderr
    assert stale.returncode == 1


def test_no_indexguard_overrides_the_setting() -> None:
    # The sample's settings turn the guard on (INDEXGUARD["enabled"]), as its pytest.ini does.
    test = "upstream.tests.WebhookTests.test_due_retries_respect_the_limit"
    guarded = manage_test("--without-indexes", test)
    assert guarded.failed() == {"test_due_retries_respect_the_limit"}, guarded.output
    run = manage_test("--without-indexes", "--no-indexguard", test)
    assert run.returncode == 0, run.output
    assert "\nOK\n" in run.stderr
    assert "indexguard" not in run.output


# Classes and methods in alphabetical order, the order unittest runs them in, so that both
# runners run them in the same order.
DECORATED = """
import unittest
from datetime import datetime, timezone

import pytest
from django.test import TestCase

from pytest_indexguard.django import indexguard_allow, indexguard_skip
from upstream.integrations.services import due_retries

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


@indexguard_allow(reason="every table, every test")
class AllTables(TestCase):
    def test_a(self):
        list(due_retries(NOW))

    def test_b(self):
        pass


class AllTablesInherited(AllTables):
    pass


class Methods(TestCase):
    @indexguard_allow("upstream_webhookdelivery", reason="known")
    def test_allowed(self):
        list(due_retries(NOW))

    @indexguard_allow("upstream_webhookdelivery", until="2000-01-01")
    def test_expired(self):
        list(due_retries(NOW))

    def test_fails(self):
        list(due_retries(NOW))

    @indexguard_allow("upstream_alertrule")
    def test_other_table(self):
        list(due_retries(NOW))

    def test_own_failure(self):
        list(due_retries(NOW))
        self.fail("its own failure")

    @pytest.mark.indexguard_allow("upstream_webhookdelivery")
    def test_pytest_marker(self):
        list(due_retries(NOW))

    @indexguard_skip(reason="benchmark")
    def test_skipped(self):
        list(due_retries(NOW))


@indexguard_allow("upstream_integrationlog")
class UnusedOnClass(TestCase):
    def test_c(self):
        list(due_retries(NOW))


class Expected(TestCase):
    @unittest.expectedFailure
    def test_known_bug(self):
        list(due_retries(NOW))
        self.fail("a known bug")
"""

MODULE_MARKED = """
from datetime import datetime, timezone

from django.test import TestCase

from pytest_indexguard.django import indexguard_skip
from upstream.integrations.services import due_retries

pytestmark = indexguard_skip(reason="the whole module")


class Skipped(TestCase):
    def test_d(self):
        list(due_retries(datetime(2026, 1, 15, tzinfo=timezone.utc)))
"""


def test_decorators_on_methods_classes_and_modules_as_under_pytest(tmp_path: Path) -> None:
    root = tmp_path / "sample_app"
    shutil.copytree(SAMPLE_APP, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "upstream" / "test_decorated.py").write_text(DECORATED)
    (root / "upstream" / "test_module_marked.py").write_text(MODULE_MARKED)
    modules = ("upstream/test_decorated.py", "upstream/test_module_marked.py")

    run = manage_test(
        "--without-indexes",
        f"--indexguard-report={tmp_path / 'django.json'}",
        *(module.removesuffix(".py").replace("/", ".") for module in modules),
        root=root,
        cwd=root,
    )
    assert run.returncode == 1, run.output
    assert run.failed() == {
        "test_fails",
        "test_other_table",
        "test_expired",
        "test_own_failure",
        "test_c",
    }, run.output
    assert (
        '    marker:  @pytest.mark.indexguard_allow("upstream_webhookdelivery", until="2000-01-01")'
        " expired on 2000-01-01: it no longer allows this scan"
    ) in run.section("test_expired")
    own = run.section("test_own_failure")
    assert "AssertionError: its own failure" in own
    assert "indexguard: 1 statement needs a full scan of a watched table" in own
    node = "upstream/test_decorated.py"
    assert (
        f"unused marker (allowed nothing): {node}::Methods::test_other_table: "
        '@pytest.mark.indexguard_allow("upstream_alertrule")'
    ) in run.stderr
    assert (
        f"unused marker (allowed nothing): {node}::UnusedOnClass: "
        '@pytest.mark.indexguard_allow("upstream_integrationlog")'
    ) in run.stderr
    assert run.stderr.count("unused marker") == 2
    # Allowed: test_allowed, test_pytest_marker, and test_a of both classes.
    assert "upstream_webhookdelivery: 1 new, 1 allowed (10 executions)" in run.stderr
    # The expected failure fails with its scan, as unittest expects: counted apart.
    assert (
        "(5 failing tests; 1 expected failure (@expectedFailure) with new ones, which unittest "
        "counts apart)"
    ) in run.stderr, run.stderr

    under_pytest = pytest_run(
        root, *modules, "--without-indexes", f"--indexguard-report={tmp_path / 'pytest.json'}"
    )
    assert under_pytest.returncode == 1, under_pytest.output
    # The same tests, ids, verdicts, call sites and markers: one report, whichever runner.
    assert _report(tmp_path / "django.json") == _report(tmp_path / "pytest.json")


BAD_SETTINGS = {
    "unknown_key": (
        {"enabled": True, "tabels": ["upstream_alertrule"]},
        "CommandError: INDEXGUARD: unknown key 'tabels' (it accepts \"baseline\", ",
    ),
    "bad_bool": (
        {"enabled": "maybe"},
        "CommandError: INDEXGUARD[\"enabled\"]: expected true or false, got 'maybe'",
    ),
    "bad_size": (
        {"table_rows": {"upstream_alertrule": "many"}},
        'CommandError: INDEXGUARD["table_rows"] (upstream_alertrule): expected a whole number '
        "of rows >= 0, got 'many'",
    ),
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--indexguard-min-rows=x"],
            "CommandError: --indexguard-min-rows: expected a whole number of rows >= 0, got 'x'",
        ),
        (
            ["--indexguard-mode=fast"],
            "CommandError: --indexguard-mode: expected 'forced' or 'planner', got 'fast'",
        ),
        (
            ["--indexguard-update-baseline"],
            "CommandError: --indexguard-update-baseline: needs --indexguard-baseline=PATH (or "
            'INDEXGUARD["baseline"]) to say which file to write',
        ),
        (
            ["--indexguard-report=/nonexistent/report.json"],
            "CommandError: --indexguard-report: the directory of '/nonexistent/report.json' "
            "does not exist (/nonexistent)",
        ),
        *(([f"--settings=bad_{name}"], message) for name, (_, message) in BAD_SETTINGS.items()),
        (
            ["bad_marker"],
            "CommandError: bad_marker.Bad.test_x: @pytest.mark.indexguard_allow: it got an "
            "unexpected keyword argument 'tables' (it accepts indexguard_allow(*tables: str, ",
        ),
    ],
    ids=["min-rows", "mode", "update-baseline", "report", *BAD_SETTINGS, "marker"],
)
def test_a_bad_option_or_setting_names_it(tmp_path: Path, args: list[str], message: str) -> None:
    for name, (value, _) in BAD_SETTINGS.items():
        (tmp_path / f"bad_{name}.py").write_text(
            f"from sampleproject.settings import *  # noqa: F403\n\nINDEXGUARD = {value!r}\n"
        )
    (tmp_path / "bad_marker.py").write_text(
        "import pytest\nfrom django.test import SimpleTestCase\n\n\n"
        "class Bad(SimpleTestCase):\n"
        '    @pytest.mark.indexguard_allow(tables=["upstream_alertrule"])\n'
        "    def test_x(self):\n        pass\n"
    )
    # A server that is not there: the options are checked before any database is touched.
    run = manage_test(
        f"--pythonpath={tmp_path}",
        "--indexguard",
        *args,
        database_url="postgres://nobody@127.0.0.1:1/nothing",
    )
    assert run.returncode == 2, run.output
    assert message in run.stderr, run.output
    assert "Traceback" not in run.output


SHIPPED = """
from django.test import TestCase

from upstream.reference import kinds


class First(TestCase):
    def test_a(self):
        kinds("web")


class Second(TestCase):
    def test_b(self):
        kinds("alert")
"""
# Application code reading the content types.
KINDS = """
from django.contrib.contenttypes.models import ContentType


def kinds(prefix):
    return list(ContentType.objects.filter(model__startswith=prefix))
"""


@pytest.mark.parametrize("parallel", [(), ("--parallel=2",)], ids=["serial", "parallel"])
def test_tables_filled_at_migrate_time_are_small_under_the_runner(
    tmp_path: Path, parallel: tuple[str, ...]
) -> None:
    """The runner's guard sees which tables migrate fills (the content types, by a post_migrate
    handler), and so do the workers of --parallel, whose databases are copies: the scans of that
    reference data are shown as small tables, not failed."""
    root = tmp_path / "sample_app"
    shutil.copytree(SAMPLE_APP, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "upstream" / "test_shipped.py").write_text(SHIPPED)
    (root / "upstream" / "reference.py").write_text(KINDS)
    settings = root / "sampleproject" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nINDEXGUARD = {**INDEXGUARD, 'tables': ['django_content_type'], "
        + "'small_tables': [], 'min_rows': 0, 'stats': None}\n"
    )
    report = tmp_path / "report.json"
    run = manage_test(
        f"--indexguard-report={report}", *parallel, "upstream.test_shipped", root=root, cwd=root
    )
    assert run.returncode == 0, run.output
    groups = json.loads(report.read_text())["violations"]
    assert {(g["table"], g["status"]) for g in groups} == {("django_content_type", "small table")}
    assert {hit["test"].rsplit(":", 1)[-1] for g in groups for hit in g["hits"]} >= {
        "test_a",
        "test_b",
    }, groups
    assert "django_content_type: reference data shipped with the app" in run.stderr, run.output
