"""pytest glue only: options, markers, the ``indexguard`` fixture and the hooks that tell the
guard which test phase is running.

Nothing here imports Django or touches a database at import time: ``pytest --help`` and
``-p no:indexguard`` work on any setup. The hooks that do the work live on ``GuardPlugin``, which
is registered only when the guard is on, so a session without ``--indexguard`` pays nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pytest_indexguard.config import Settings, add_options, resolve
from pytest_indexguard.policy import ALLOW_MARK, SKIP_MARK, TestPolicy, block_tables, marker_errors

settings_key = pytest.StashKey[Settings]()
guard_key = pytest.StashKey["Any"]()  # pytest_indexguard.guard.Guard, imported lazily


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARK}(*tables, reason=None): accept full scans of these tables (every table when "
        "none is named) in this test; they are reported as allowed.",
    )
    config.addinivalue_line(
        "markers", f"{SKIP_MARK}(reason=None): do not check this test's statements at all."
    )
    settings = resolve(config)
    config.stash[settings_key] = settings
    if settings.enabled:
        from pytest_indexguard import baseline
        from pytest_indexguard.guard import Guard

        known = (
            baseline.load(settings.baseline, missing_ok=settings.update_baseline)
            if settings.baseline
            else {}
        )
        guard = Guard(settings, config.rootpath, known=frozenset(known))
        from pytest_indexguard.origin import python_files

        guard.call_sites.tests.patterns = python_files(config.getini("python_files"))
        config.stash[guard_key] = guard
        config.pluginmanager.register(GuardPlugin(guard, config, known), "indexguard-session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    errors = sorted({error for item in items for error in marker_errors(item)})
    if errors:
        raise pytest.UsageError("\n".join(errors))


class IndexGuardFixture:
    """What the ``indexguard`` fixture gives a test."""

    def __init__(self, guard: Any, run: Any) -> None:
        self._guard = guard
        self._run = run

    @property
    def enabled(self) -> bool:
        """Whether statements of this test are being checked."""
        return self._run is not None and not self._run.policy.skip

    @property
    def findings(self) -> list[Any]:
        """Violations seen so far in this test (allowed ones, and those of test code and
        migrations too), as ``Occurrence`` objects: one per statement, scan, call site and
        decision, with its ``executions``, ``status`` and ``origin``."""
        return list(self._run.occurrences) if self._run is not None else []

    @contextmanager
    def allow(self, *tables: str) -> Iterator[None]:
        """Accept full scans of ``tables`` (every table when none is named) inside the block."""
        block = block_tables(tables)
        if self._run is None:
            yield
            return
        self._run.policy.blocks.append(block)
        try:
            yield
        finally:
            self._run.policy.blocks.remove(block)


@pytest.fixture
def indexguard(request: pytest.FixtureRequest) -> IndexGuardFixture:
    """Allow full scans inside a block (``with indexguard.allow("table"):``) and read the
    findings of the running test (``indexguard.findings``)."""
    guard = request.config.stash.get(guard_key, None)
    run = guard.current if guard is not None else None
    return IndexGuardFixture(guard, run)


class GuardPlugin:
    def __init__(self, guard: Any, config: pytest.Config, known: dict[str, Any]) -> None:
        from pytest_indexguard.guard import Guard
        from pytest_indexguard.results import Results
        from pytest_indexguard.summary import Summary

        self.guard: Guard = guard
        self.config = config
        self.summary = Summary()
        # Only the process that prints the summary gathers results and writes files.
        self.is_worker = hasattr(config, "workerinput")
        self.results = Results(guard.settings, baseline=known)
        # What collection showed: each collector's children, to tell a renamed or deleted
        # test (gone) from one that was only not selected.
        self.collected: dict[str, list[str]] = {}
        self.written: list[str] = []
        self.write_errors: list[str] = []
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(
                XdistHooks(self.summary, self.results), "indexguard-xdist"
            )

    def pytest_report_header(self) -> str:
        from pytest_indexguard.report import header_line

        return header_line(self.guard.settings)

    def pytest_sessionstart(self) -> None:
        from django.conf import settings

        if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
            raise pytest.UsageError(
                "--indexguard: Django is not configured; set DJANGO_SETTINGS_MODULE "
                "(or the pytest-django ini option of that name)"
            )
        # Notes who builds each QuerySet (origin.py); before collection imports test modules.
        self.guard.call_sites.builds.install()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.passed and report.nodeid:
            self.collected[report.nodeid] = [child.nodeid for child in report.result]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Files pytest collects test functions from are test code, whatever their name."""
        self.guard.call_sites.tests.add_collected(
            {item.path for item in items if isinstance(item, pytest.Function)}
        )
        self.guard.call_sites.kinds.forget()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        self.guard.begin_test(item.nodeid, TestPolicy.for_item(item))
        with self.guard.watching("setup"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any]
    ) -> Generator[None, object, object]:
        if fixturedef.scope == "function":
            return (yield)
        with self.guard.suspended():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        with self.guard.watching("call"):
            result = yield
        run = self.guard.current
        if run is not None and run.failures() and not self.guard.settings.update_baseline:
            from pytest_indexguard.report import failure_message

            run.failed_by_guard = True
            pytest.fail(
                failure_message(run.failures(), verbose=self.guard.settings.verbose),
                pytrace=False,
            )
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        run = self.guard.current
        if run is None:
            return report
        if report.when == "call" and call.excinfo is not None:
            failures = run.failures()
            if failures and not run.failed_by_guard:
                from pytest_indexguard.report import failure_message

                report.sections.append(("indexguard", failure_message(failures, verbose=1)))
        last = report.when == "call" or (report.when == "setup" and not report.passed)
        if last and not run.reported:
            run.reported = True
            self._attach(item, run, report)
        return report

    def _attach(self, item: pytest.Item, run: Any, report: pytest.TestReport) -> None:
        """Put the test's violations on its report: they travel with it to the xdist
        controller. Their count goes to JUnit XML as a property (junitxml reads the
        item's properties from the teardown report)."""
        from pytest_indexguard.records import violation_records

        records = violation_records(run)
        markers = [] if run.policy.skip else run.policy.mark_usage()
        if records or markers:
            report.indexguard = {"violations": records, "markers": markers}  # type: ignore[attr-defined]
        counted = [r for r in records if r["status"] in ("new", "known")]
        if counted:
            item.user_properties.append(("indexguard_violations", len(counted)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.is_worker:
            self.results.add(
                report.nodeid, report.when, getattr(report, "indexguard", None), ran=_ran(report)
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            self.guard.end_test()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:

        own = self.guard.summary()
        gone = sorted(self._gone())
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller reports
            workeroutput["indexguard"] = own.to_json()
            workeroutput["indexguard_gone"] = gone
            return
        self.summary.merge(own)
        self.results.gone.update(gone)
        self._write_files()
        settings = self.guard.settings
        if settings.fail_stale and not settings.update_baseline and self.results.stale():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.write_errors and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            # A file the command line asked for is missing: the run must not look green. The
            # same code as an output path found unusable at the start.
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _gone(self) -> set[str]:
        """Tests of the baseline that no longer exist: their file is missing, or pytest
        collected the module or class that would hold them and they were not in it."""
        tests = {test for entry in self.results.baseline.values() for test in entry.tests}
        return {test for test in tests if _is_gone(test, self.collected, self.config.rootpath)}

    def _write_files(self) -> None:
        """Every output the command line asked for, each on its own: one that cannot be written
        is reported in one line and the others are still written."""
        from pytest_indexguard import baseline
        from pytest_indexguard.files import OutputError, append_text, write_json
        from pytest_indexguard.sarif import sarif

        settings = self.guard.settings

        def attempt(write: Any) -> None:
            try:
                note = write()
            except OutputError as exc:
                self.write_errors.append(str(exc))
            else:
                self.written.append(note)

        if settings.update_baseline and settings.baseline is not None:
            path = settings.baseline

            def write_baseline() -> str:
                entries = self.results.new_baseline()
                state = "written" if baseline.write(path, entries) else "unchanged"
                return f"baseline {state}: {path} ({len(entries)} entries)"

            attempt(write_baseline)
        if settings.report is not None:
            report = settings.report

            def write_report() -> str:
                write_json(report, self._json_report(), option="--indexguard-report")
                return f"report written: {report}"

            attempt(write_report)
        if settings.sarif is not None:
            sarif_path = settings.sarif

            def write_sarif() -> str:
                document = sarif(self.results.grouped(), self.config.rootpath)
                write_json(sarif_path, document, option="--indexguard-sarif")
                return f"SARIF written: {sarif_path}"

            attempt(write_sarif)
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:

            def write_step_summary() -> str:
                append_text(
                    Path(step_summary), self.results.markdown(), option="GITHUB_STEP_SUMMARY"
                )
                return f"GitHub step summary appended: {step_summary}"

            attempt(write_step_summary)

    def _json_report(self) -> dict[str, Any]:
        table_coverage = None
        if self.guard.settings.coverage:
            from dataclasses import asdict

            from pytest_indexguard.coverage import coverage

            table_coverage = [asdict(c) for c in coverage(self.guard.settings, self.summary)]
        return self.results.json_report(
            report_counters(self.summary), table_coverage, rootdir=str(self.config.rootpath)
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from pytest_indexguard.report import summary_lines

        if hasattr(self.config, "workeroutput"):
            return
        terminalreporter.section("indexguard")
        for line in summary_lines(self.guard.settings, self.summary, self.results):
            terminalreporter.write_line(line)
        if self.guard.settings.coverage:
            from pytest_indexguard.coverage import coverage_lines

            for line in coverage_lines(self.guard.settings, self.summary):
                terminalreporter.write_line(line)
        for note in self.written:
            terminalreporter.write_line(note)
        for error in self.write_errors:
            terminalreporter.write_line(f"indexguard: {error}", red=True)
        if self.write_errors:
            terminalreporter.write_line(
                "indexguard: the run fails: an output file could not be written", red=True
            )
        settings = self.guard.settings
        if settings.fail_stale and not settings.update_baseline and self.results.stale():
            count = len(self.results.stale())
            terminalreporter.write_line(
                f"indexguard: the run fails: {count} stale baseline "
                f"{'entry' if count == 1 else 'entries'} (--indexguard-fail-stale); "
                "remove them with --indexguard-update-baseline",
                red=True,
            )

    def pytest_unconfigure(self) -> None:
        # Django may already be torn down by another plugin's unconfigure.
        with contextlib.suppress(Exception):
            self.guard.capture.uninstall()
        with contextlib.suppress(Exception):
            self.guard.call_sites.builds.uninstall()


def report_counters(summary: Any) -> dict[str, Any]:
    """The session counters as the JSON report holds them: without the bulky sets, with the
    number of distinct statements."""
    counters: dict[str, Any] = summary.to_json()
    for bulky in ("catalog", "index_usage", "distinct", "tables_read"):
        counters.pop(bulky)
    counters["distinct"] = len(summary.distinct)
    return counters


def _ran(report: pytest.TestReport) -> bool:
    """A call phase that ran: passed, failed or xfailed; a skipped test did not run."""
    return report.when == "call" and (not report.skipped or hasattr(report, "wasxfail"))


def _is_gone(test: str, collected: dict[str, list[str]], rootdir: Path) -> bool:
    path = test.split("::", 1)[0]
    if not (rootdir / path).exists():
        return True
    parts = test.split("::")
    # The deepest collector that pytest reported (a module or class), if any: it reported all
    # its children, whatever was selected afterwards.
    for depth in range(len(parts) - 1, 0, -1):
        parent = "::".join(parts[:depth])
        children = collected.get(parent)
        if children is not None:
            return not any(c == test or test.startswith(c + "::") for c in children)
    return False


class XdistHooks:
    """Registered only when pytest-xdist is installed: the controller merges what workers send."""

    def __init__(self, summary: Any, results: Any) -> None:
        self.summary = summary
        self.results = results

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        from pytest_indexguard.summary import Summary

        output = getattr(node, "workeroutput", {})
        data = output.get("indexguard")
        if data is not None:
            self.summary.merge(Summary.from_json(data))
        self.results.gone.update(output.get("indexguard_gone", ()))
