"""pytest glue only: options, markers, the ``indexguard`` fixture and the hooks that tell the
guard which test phase is running.

Nothing here imports Django or touches a database at import time: ``pytest --help`` and
``-p no:indexguard`` work on any setup. The hooks that do the work live on ``GuardPlugin``, which
is registered only when the guard is on, so a session without ``--indexguard`` pays nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from pytest_indexguard.config import Settings, add_options, resolve
from pytest_indexguard.policy import ALLOW_MARK, SKIP_MARK, TestPolicy, block_tables, marker_errors

if TYPE_CHECKING:
    from pytest_indexguard.model import Occurrence, TestRun
    from pytest_indexguard.session import Session

settings_key = pytest.StashKey[Settings]()
session_key = pytest.StashKey["Session"]()


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
        from pytest_indexguard.origin import python_files
        from pytest_indexguard.session import Session

        session = Session(
            settings,
            config.rootpath,
            test_patterns=python_files(config.getini("python_files")),
        )
        config.stash[session_key] = session
        config.pluginmanager.register(GuardPlugin(session, config), "indexguard-session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    errors = sorted({error for item in items for error in marker_errors(item)})
    if errors:
        raise pytest.UsageError("\n".join(errors))


def is_xdist_worker(config: pytest.Config) -> bool:
    """Whether this process runs tests for an xdist controller, which alone gathers results,
    writes files and prints the summary."""
    return hasattr(config, "workerinput")


class IndexGuardFixture:
    """What the ``indexguard`` fixture gives a test."""

    def __init__(self, run: TestRun | None) -> None:
        self._run = run

    @property
    def enabled(self) -> bool:
        """Whether statements of this test are being checked."""
        return self._run is not None and not self._run.policy.skip

    @property
    def findings(self) -> list[Occurrence]:
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
    session = request.config.stash.get(session_key, None)
    return IndexGuardFixture(session.guard.current if session is not None else None)


class GuardPlugin:
    def __init__(self, session: Session, config: pytest.Config) -> None:
        self.session = session
        self.guard = session.guard
        self.config = config
        # Only the process that prints the summary gathers results and writes files.
        self.is_worker = is_xdist_worker(config)
        # Whether a test's call phase is running: reports made meanwhile are subtests'.
        self._in_call = False
        if config.pluginmanager.hasplugin("xdist") and not self.is_worker:
            config.pluginmanager.register(XdistHooks(session), "indexguard-xdist")

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
        # Before collection imports test modules.
        self.session.start()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.passed and report.nodeid:
            self.session.collected[report.nodeid] = [child.nodeid for child in report.result]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Files pytest collects test functions from are test code, whatever their name."""
        self.session.test_files({item.path for item in items if isinstance(item, pytest.Function)})

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
        self._in_call = True
        try:
            with self.guard.watching("call"):
                result = yield
        finally:
            self._in_call = False
        message = self.session.failure()
        if message is not None:
            pytest.fail(message, pytrace=False)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        run = self.guard.current
        if run is None or (self._in_call and report.when == "call"):
            # A subtest's report, made while the test still runs (unittest's subTest, the
            # subtests fixture): the test's own call report comes after, with everything.
            return report
        if report.when == "call" and call.excinfo is not None:
            message = self.session.also_failed(run)
            if message is not None:
                report.sections.append(("indexguard", message))
        last = report.when == "call" or (report.when == "setup" and not report.passed)
        if last and not run.reported:
            run.reported = True
            self._attach(item, run, report)
        return report

    def _attach(self, item: pytest.Item, run: TestRun, report: pytest.TestReport) -> None:
        """Put the test's violations on its report: they travel with it to the xdist
        controller. Their count goes to JUnit XML as a property (junitxml reads the
        item's properties from the teardown report)."""
        data = self.session.test_data(run)
        if data is not None:
            # execnet sends only plain types: a str subclass (Django's SafeString, a template's
            # name) would stop the worker and lose the test's report.
            report.indexguard = _plain(data) if self.is_worker else data  # type: ignore[attr-defined]
        counted = self.session.counted(data)
        if counted:
            item.user_properties.append(("indexguard_violations", counted))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.is_worker:
            self.session.results.add(
                report.nodeid,
                report.when,
                getattr(report, "indexguard", None),
                ran=_ran(report),
                xfailed=report.skipped and hasattr(report, "wasxfail"),
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            self.guard.end_test()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:  # the controller reports
            workeroutput = session.config.workeroutput  # type: ignore[attr-defined]
            workeroutput["indexguard"] = _plain(self.guard.summary().to_json())
            workeroutput["indexguard_gone"] = sorted(self.session.gone())
            return
        self.session.finish()
        if self.session.run_fails():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.session.write_errors and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            # A file the command line asked for is missing: the run must not look green. The
            # same code as an output path found unusable at the start.
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker:
            return
        terminalreporter.section("indexguard")
        for line in self.session.lines():
            terminalreporter.write_line(line.text, red=line.alarm)

    def pytest_unconfigure(self) -> None:
        self.session.stop()


def _ran(report: pytest.TestReport) -> bool:
    """A call phase that ran: passed, failed or xfailed; a skipped test did not run."""
    return report.when == "call" and (not report.skipped or hasattr(report, "wasxfail"))


class XdistHooks:
    """Registered on the controller when pytest-xdist is installed: it merges what workers
    send."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        from pytest_indexguard.summary import Summary

        output = getattr(node, "workeroutput", {})
        data = output.get("indexguard")
        if data is not None:
            self.session.summary.merge(Summary.from_json(data))
        self.session.results.gone.update(output.get("indexguard_gone", ()))


def _plain(data: Any) -> Any:
    """``data`` (JSON-shaped) rebuilt from plain ``str``, ``int``, lists and dicts."""
    return json.loads(json.dumps(data))
