"""One test run under the guard, whichever runner drives it: the pytest plugin (``plugin.py``)
or Django's test runner (``django.py``).

A runner builds the ``Session`` once its options are resolved, tells it which files hold tests,
brackets every test with ``guard.begin_test`` / ``guard.end_test`` and feeds what each test
found (``test_data``) to ``add_test``, in the process that prints the summary. Processes that
run tests for another (pytest-xdist workers, the workers of Django's ``--parallel``) send
``guard.summary()`` instead, and the printing process merges them in ``finish``. Everything
after the last test (the baseline, the JSON report, SARIF, the GitHub step summary, the lines
of the summary and whether the run fails for them) is decided here, once for both runners.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pytest_indexguard import baseline, shadow
from pytest_indexguard.config import Settings
from pytest_indexguard.guard import Guard
from pytest_indexguard.model import Status, TestRun
from pytest_indexguard.records import violation_records
from pytest_indexguard.report import Runner, failure_message
from pytest_indexguard.results import MarkerUse, Results, TestData, write_outputs
from pytest_indexguard.summary import Summary


@dataclass(frozen=True)
class Line:
    """A line of the end-of-run summary; ``alarm`` lines say why the run fails."""

    text: str
    alarm: bool = False


class Session:
    def __init__(
        self,
        settings: Settings,
        rootdir: Path,
        *,
        test_patterns: Sequence[str] = (),
        runner: Runner = "pytest",
    ) -> None:
        # Raises pytest.UsageError for a baseline that cannot be read.
        known = (
            baseline.load(settings.baseline, missing_ok=settings.update_baseline)
            if settings.baseline
            else {}
        )
        self.settings = settings
        self.rootdir = rootdir
        self.runner: Runner = runner
        if settings.plan_on == shadow.EMBEDDED:
            # Started here, before pytest-xdist starts its workers: they plan on the same one.
            shadow.server_url(shadow.EMBEDDED)
        self.guard = Guard(settings, rootdir, known=frozenset(known))
        if test_patterns:
            self.guard.call_sites.tests.patterns = tuple(test_patterns)
        self.summary = Summary()
        self.results = Results(
            settings,
            baseline=known,
            baseline_planned_on=(
                baseline.planned_on(settings.baseline) if settings.baseline else None
            ),
        )
        # What collection showed: each collector's children (a module's classes, a class's
        # tests), to tell a renamed or deleted test (gone) from one that was only not selected.
        self.collected: dict[str, list[str]] = {}
        self.written: list[str] = []
        self.write_errors: list[str] = []

    # -- the run ------------------------------------------------------------------------------

    def start(self) -> None:
        """Before test modules are imported: note who builds each QuerySet (origin.py); before
        the test databases are set up: note which tables migrations fill (``Guard.small``)."""
        self.guard.call_sites.builds.install()
        self.guard.capture.listen()

    def test_files(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Files the runner loads tests from are test code, whatever their name."""
        self.guard.call_sites.tests.add_collected(paths)
        self.guard.call_sites.kinds.forget()

    def failure(self) -> str | None:
        """The message the running test fails with, when it made new full scans (and the run
        does not record them in the baseline instead)."""
        run = self.guard.current
        if run is None or not run.failures() or self.settings.update_baseline:
            return None
        run.failed_by_guard = True
        return failure_message(run.failures(), verbose=self.settings.verbose, runner=self.runner)

    def also_failed(self, run: TestRun) -> str | None:
        """What to show next to the error of a test that failed on its own, when its
        statements would have failed it too."""
        failures = run.failures()
        if not failures or run.failed_by_guard:
            return None
        return failure_message(failures, verbose=1, runner=self.runner)

    def stop(self) -> None:
        """Undo what the session installed (Django may already be torn down)."""
        for uninstall in (self.guard.capture.uninstall, self.guard.call_sites.builds.uninstall):
            with contextlib.suppress(Exception):
                uninstall()
        if self.guard.shadow is not None:
            self.guard.shadow.close()

    # -- what each test found -----------------------------------------------------------------

    @staticmethod
    def test_data(run: TestRun) -> TestData | None:
        """The test's violations and allow markers as plain data: it travels from a worker
        process to the one that prints the summary."""
        records = violation_records(run)
        markers = [] if run.policy.skip else run.policy.mark_usage()
        if records or markers:
            return {"violations": records, "markers": cast("list[MarkerUse]", markers)}
        return None

    @staticmethod
    def counted(data: TestData | None) -> int:
        """Violations the baseline records (new or known): JUnit XML's property."""
        if not data:
            return 0
        return sum(1 for r in data["violations"] if r["status"] in (Status.NEW, Status.KNOWN))

    def add_test(
        self, nodeid: str, data: TestData | None, *, ran: bool, xfailed: bool = False
    ) -> None:
        """One finished test, in the process that prints the summary: ``ran`` unless skipped,
        ``xfailed`` for an expected failure (``@expectedFailure``)."""
        self.results.add(nodeid, "call", data, ran=ran, xfailed=xfailed)

    # -- the end of the run -------------------------------------------------------------------

    def finish(self, others: Iterable[Summary] = (), gone: Iterable[str] = ()) -> None:
        """Gather this process's totals with the workers' (``others``) and write every output
        the options ask for."""
        self.summary.merge(self.guard.summary())
        for other in others:
            self.summary.merge(other)
        self.results.gone.update(gone)
        self.results.gone.update(self.gone())
        self.results.outgrown(self.summary.grown)
        self._write_files()

    def gone(self) -> set[str]:
        """Tests of the baseline that no longer exist: their file is missing, or the runner
        loaded the module or class that would hold them and they were not in it."""
        tests = {test for entry in self.results.baseline.values() for test in entry.tests}
        return {test for test in tests if is_gone(test, self.collected, self.rootdir)}

    def run_fails(self) -> bool:
        """Whether the run fails for what no single test failed for: stale baseline entries
        (``--indexguard-fail-stale``), or scans let through on a table presumed small that
        application code turned out to insert into (recorded instead, when the baseline is
        being updated)."""
        outgrown = bool(self.results.outgrown_tests) and not self.settings.update_baseline
        return self.stale_fails() or outgrown

    def stale_fails(self) -> bool:
        """Whether stale baseline entries fail the run (``--indexguard-fail-stale``)."""
        settings = self.settings
        return settings.fail_stale and not settings.update_baseline and bool(self.results.stale())

    def lines(self) -> list[Line]:
        """The end-of-run summary."""
        from pytest_indexguard.report import summary_lines

        lines = [
            Line(text)
            for text in summary_lines(self.settings, self.summary, self.results, runner=self.runner)
        ]
        if self.settings.coverage:
            from pytest_indexguard.coverage import coverage_lines

            lines.extend(Line(text) for text in coverage_lines(self.settings, self.summary))
        lines.extend(Line(note) for note in self.written)
        lines.extend(Line(f"indexguard: {error}", alarm=True) for error in self.write_errors)
        if self.write_errors:
            lines.append(
                Line("indexguard: the run fails: an output file could not be written", alarm=True)
            )
        recording = self.settings.update_baseline
        for table, tests in sorted(self.results.outgrown_tests.items()):
            lines.append(
                Line(
                    f"indexguard: {'' if recording else 'the run fails: '}{table} was presumed "
                    f"small, but application code inserts into it ({self.summary.grown[table]}); "
                    f"its full scans seen before that insert now count"
                    f"{', recorded in the baseline' if recording else ''}: "
                    f"{', '.join(sorted(tests))}",
                    alarm=not recording,
                )
            )
        if self.stale_fails():
            count = len(self.results.stale())
            lines.append(
                Line(
                    f"indexguard: the run fails: {count} stale baseline "
                    f"{'entry' if count == 1 else 'entries'} (--indexguard-fail-stale); "
                    "remove them with --indexguard-update-baseline",
                    alarm=True,
                )
            )
        return lines

    def _write_files(self) -> None:
        """Every output the options ask for, each on its own: one that cannot be written is
        reported in one line and the others are still written."""
        settings = self.settings
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        self.written, self.write_errors = write_outputs(
            self.results,
            self.json_report,
            self.rootdir,
            baseline=(
                (settings.baseline, baseline.OPTION)
                if settings.update_baseline and settings.baseline is not None
                else None
            ),
            report=(settings.report, "--indexguard-report") if settings.report else None,
            sarif=(settings.sarif, "--indexguard-sarif") if settings.sarif else None,
            step_summary=(Path(step_summary), "GITHUB_STEP_SUMMARY") if step_summary else None,
        )

    def json_report(self) -> dict[str, Any]:
        table_coverage = None
        if self.settings.coverage:
            from dataclasses import asdict

            from pytest_indexguard.coverage import coverage

            table_coverage = [asdict(c) for c in coverage(self.settings, self.summary)]
        return self.results.json_report(
            report_counters(self.summary), table_coverage, rootdir=str(self.rootdir)
        )


def report_counters(summary: Summary) -> dict[str, Any]:
    """The session counters as the JSON report holds them: without the bulky sets, with the
    number of distinct statements."""
    counters: dict[str, Any] = summary.to_json()
    for bulky in ("catalog", "index_usage", "distinct", "tables_read"):
        counters.pop(bulky)
    counters["distinct"] = len(summary.distinct)
    return counters


def is_gone(test: str, collected: Mapping[str, list[str]], rootdir: Path) -> bool:
    path = test.split("::", 1)[0]
    if not (rootdir / path).exists():
        return True
    parts = test.split("::")
    # The deepest collector that the runner reported (a module or class), if any: it reported
    # all its children, whatever was selected afterwards.
    for depth in range(len(parts) - 1, 0, -1):
        parent = "::".join(parts[:depth])
        children = collected.get(parent)
        if children is not None:
            return not any(c == test or test.startswith(c + "::") for c in children)
    return False
