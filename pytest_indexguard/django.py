"""The guard under ``python manage.py test``: a Django test runner.

``TEST_RUNNER = "pytest_indexguard.django.Runner"`` gives ``manage.py test`` the pytest plugin's
options (``--indexguard``, ``--indexguard-tables``, ...), reads what the pytest configuration
file would hold from Django's ``INDEXGUARD`` setting (``{"tables": [...], "min_rows": 1000}``:
the ini names without their ``indexguard_`` prefix, ``"enabled"`` for ``indexguard``), and runs
each test as the plugin does: its statements are checked from the start of the test to the end
of its ``tearDown`` (a class's ``setUpClass`` and ``setUpTestData`` are not), and a test that
needs a new full scan fails with the plugin's message. ``indexguard_allow`` and
``indexguard_skip`` decorate test methods and classes; they are pytest's markers, so the same
tests behave the same under pytest, and the runner honours markers written as
``@pytest.mark.indexguard_allow`` and a module's ``pytestmark`` too.

The work after the last test (baseline, reports, summary) is ``session.py``'s, shared with the
plugin. Under ``--parallel`` each worker process has its own guard: it sends every test's
findings with the test's result, and its totals after each batch of tests, as events of
Django's ``RemoteTestResult``; the parent replays them into its result, which gathers them as
the xdist controller does, and prints the one summary.

This module is ``pytest_indexguard.django``: its absolute imports of ``django`` reach Django.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
import unittest
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import pytest
from django.core.management.base import CommandError
from django.test.runner import (
    DiscoverRunner,
    ParallelTestSuite,
    RemoteTestResult,
    RemoteTestRunner,
)
from django.test.utils import iter_test_cases  # type: ignore[attr-defined]

from pytest_indexguard.config import INI, OPTIONS, Option, Settings, resolve
from pytest_indexguard.policy import (
    ALLOW_MARK,
    SKIP_MARK,
    TestPolicy,
    _allow_signature,
    _skip_signature,
    mark_errors,
)
from pytest_indexguard.results import TestData
from pytest_indexguard.session import Session
from pytest_indexguard.summary import Summary

__all__ = ["Runner", "indexguard_allow", "indexguard_skip"]

SETTING = "INDEXGUARD"
# unittest's default discovery pattern, when the runner is built without one.
DEFAULT_PATTERN = "test*.py"
# What a bad option or setting exits with: argparse's code for a usage error.
USAGE_ERROR = 2


# -- decorators ---------------------------------------------------------------------------------


def indexguard_allow(
    *tables: str, reason: str | None = None, until: str | datetime.date | None = None
) -> pytest.MarkDecorator:
    """Accept full scans of ``tables`` (every table when none is named) in a test method, or in
    every test of a class; until the date ``until`` (``YYYY-MM-DD``) when given. The scans are
    reported as allowed. Checked when applied: a bad argument raises ``TypeError``."""
    words = _words(reason=reason, until=until)
    _checked(ALLOW_MARK, lambda: _allow_signature(*tables, **words))
    return getattr(pytest.mark, ALLOW_MARK)(*tables, **words)  # type: ignore[no-any-return]


def indexguard_skip(reason: str | None = None) -> pytest.MarkDecorator:
    """Do not check the statements of a test method, or of every test of a class."""
    words = _words(reason=reason)
    _checked(SKIP_MARK, lambda: _skip_signature(**words))
    return getattr(pytest.mark, SKIP_MARK)(**words)  # type: ignore[no-any-return]


def _words(**given: object) -> dict[str, Any]:
    """Only the keyword arguments given: the marker reads as if written by hand."""
    return {name: value for name, value in given.items() if value is not None}


def _checked(name: str, check: Callable[[], object]) -> None:
    try:
        check()
    except TypeError as exc:
        raise TypeError(f"@{name}: {exc}") from None


# -- options and settings -----------------------------------------------------------------------


_INI_NAME = re.compile(r"(?<![-\w])(?:the ini |ini )?(indexguard(?:_[a-z_]+)?)\b")
_INI_KEYS = {setting.name: setting.key for setting in INI}


def _setting_name(text: str) -> str:
    """A message or help text of the pytest plugin in the runner's words: an ini name becomes
    the key of Django's ``INDEXGUARD`` setting that holds it."""

    def replace(match: re.Match[str]) -> str:
        key = _INI_KEYS.get(match.group(1))
        return f'{SETTING}["{key}"]' if key is not None else match.group(0)

    return _INI_NAME.sub(replace, text.replace("the ini file", SETTING))


def _argument(option: Option) -> dict[str, Any]:
    words = option.arguments()
    words["help"] = _setting_name(option.help).replace("%", "%%")
    return words


class OptionSource:
    """What ``config.resolve`` reads, for ``manage.py test``: the runner's options and Django's
    ``INDEXGUARD`` setting, in the shapes a pytest ``Config`` gives them."""

    inipath: Path | None = None

    def __init__(
        self, options: Mapping[str, Any], configured: object, rootdir: Path, verbosity: int
    ) -> None:
        if configured is None:
            configured = {}
        if not isinstance(configured, Mapping):
            raise pytest.UsageError(
                f"{SETTING}: expected a dict of settings, got {type(configured).__name__}"
            )
        keys = {setting.key: setting for setting in INI}
        unknown = sorted(str(key) for key in configured if key not in keys)
        if unknown:
            raise pytest.UsageError(
                f"{SETTING}: unknown key {unknown[0]!r} (it accepts "
                + ", ".join(f'"{key}"' for key in sorted(keys))
                + ")"
            )
        self._options = options
        self._values = {keys[key].name: value for key, value in configured.items()}
        self._rootdir = rootdir
        self._verbosity = verbosity

    @property
    def rootpath(self) -> Path:
        return self._rootdir

    def getoption(self, name: str) -> Any:
        return self._options.get(name)

    def getini(self, name: str) -> Any:
        setting = next(s for s in INI if s.name == name)
        value = self._values.get(name)
        if value is None:
            return setting.default_value()
        if setting.type == "linelist":
            if isinstance(value, str):
                return value.splitlines()
            if isinstance(value, Mapping):  # {"table": rows}, {"table.column": n}
                return [f"{key}={count}" for key, count in value.items()]
            if isinstance(value, Iterable):
                return [str(item) for item in value]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def get_verbosity(self) -> int:
        """Django's verbosity 1 is the default output; pytest's 0 is."""
        return max(self._verbosity - 1, 0)


def rootdir() -> Path:
    """Where paths are shown from and relative ``INDEXGUARD`` paths start: the project's
    ``BASE_DIR`` (Django's project template sets it to the directory of ``manage.py``), else
    the current directory."""
    from django.conf import settings

    base = getattr(settings, "BASE_DIR", None)
    return Path(base).absolute() if base else Path.cwd()


def configure(options: Mapping[str, Any], verbosity: int) -> tuple[Settings, Path]:
    """The settings of the run; a bad option or setting is a ``CommandError`` naming it."""
    from django.conf import settings

    root = rootdir()
    try:
        source = OptionSource(options, getattr(settings, SETTING, None), root, verbosity)
        return resolve(source), root
    except pytest.UsageError as exc:
        raise CommandError(_setting_name(str(exc)), returncode=USAGE_ERROR) from None


# -- tests: their ids and markers ---------------------------------------------------------------


def node_id(test: unittest.TestCase, root: Path) -> str:
    """The test's id as pytest gives it (``path/test_x.py::Class::test_y``, relative to the
    root directory), so that baselines and reports name it alike under both runners; unittest's
    dotted id for tests that do not live in a file below the root directory."""
    module = module_id(type(test), root)
    if module is None:
        return test.id()
    name = getattr(test, "_testMethodName", None)
    return f"{class_id(type(test), module)}::{name}" if name else test.id()


def module_id(cls: type, root: Path) -> str | None:
    """The path of the file that defines ``cls``, relative to the root directory."""
    return file_id(sys.modules.get(cls.__module__), root)


def file_id(module: object, root: Path) -> str | None:
    filename = getattr(module, "__file__", None)
    if not filename:
        return None
    try:
        return Path(filename).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def class_id(cls: type, module: str) -> str:
    return f"{module}::{cls.__qualname__.replace('.', '::')}"


def _own_marks(obj: object) -> list[pytest.Mark]:
    """The markers stored on ``obj`` itself, as pytest stores them (``pytestmark``)."""
    stored = obj.__dict__.get("pytestmark", []) if isinstance(obj, type) else None
    if stored is None:
        stored = getattr(obj, "pytestmark", [])
    if not isinstance(stored, list):
        stored = [stored]
    return [
        m for m in (getattr(item, "mark", item) for item in stored) if isinstance(m, pytest.Mark)
    ]


def markers(test: unittest.TestCase, root: Path) -> Iterator[tuple[str, pytest.Mark]]:
    """The markers in effect for ``test``, closest first, with the id of what carries each:
    the method, its class (a base class's markers count for the class, as under pytest), its
    module (``pytestmark``)."""
    nodeid = node_id(test, root)
    module = module_id(type(test), root) or type(test).__module__
    method = getattr(test, getattr(test, "_testMethodName", ""), None)
    for mark in _own_marks(getattr(method, "__func__", method)):
        yield nodeid, mark
    for cls in reversed(type(test).__mro__):  # as pytest: a base class's markers first
        for mark in _own_marks(cls):
            yield class_id(type(test), module), mark
    for mark in _own_marks(sys.modules.get(type(test).__module__)):
        yield module, mark


# -- running tests under the guard --------------------------------------------------------------


class GuardFailure(AssertionError):
    """A test that needs a new full scan: its message is the guard's, shown as it is."""


class Guarded(unittest.TestResult):
    """Brackets each test with the guard, in the process that runs it; fails a test that
    passed but needs a new full scan; hands what each test found to ``addIndexguard``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The running test's: unittest reports class-level errors outside any test too.
        self._indexguard_watch = ExitStack()
        self._indexguard_skipped = False
        self._indexguard_failed = False
        self._indexguard_xfailed = False

    def indexguard_session(self) -> Session | None:
        raise NotImplementedError

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._indexguard_watch = ExitStack()
        self._indexguard_skipped = False
        self._indexguard_failed = False
        self._indexguard_xfailed = False
        session = self.indexguard_session()
        if session is not None:
            policy = TestPolicy.of(markers(test, session.rootdir))
            session.guard.begin_test(node_id(test, session.rootdir), policy)
            self._indexguard_watch.enter_context(session.guard.watching("call"))

    def addSuccess(self, test: unittest.TestCase) -> None:
        session = self.indexguard_session()
        message = session.failure() if session is not None else None
        if message is None:
            super().addSuccess(test)
        else:
            self.addFailure(test, self.guard_failure(message))

    def guard_failure(
        self, message: str
    ) -> tuple[type[BaseException], BaseException, TracebackType | None]:
        try:
            raise GuardFailure(message)
        except GuardFailure as exc:  # a traceback, for --pdb
            return GuardFailure, exc, exc.__traceback__

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._indexguard_failed = self._indexguard_failed or err[0] is not GuardFailure
        super().addFailure(test, err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        self._indexguard_failed = True
        super().addError(test, err)

    def addSubTest(self, test: unittest.TestCase, subtest: Any, err: Any) -> None:
        self._indexguard_failed = self._indexguard_failed or err is not None
        super().addSubTest(test, subtest, err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._indexguard_skipped = True
        super().addSkip(test, reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        # @expectedFailure: unittest counts it apart, and so does the count of failing tests.
        self._indexguard_xfailed = True
        super().addExpectedFailure(test, err)

    def stopTest(self, test: unittest.TestCase) -> None:
        session = self.indexguard_session()
        if session is not None:
            self._indexguard_watch.close()
            run = session.guard.end_test()
            if run is not None:
                also = session.also_failed(run) if self._indexguard_failed else None
                data = session.test_data(run)
                self.addIndexguard(
                    test, data, not self._indexguard_skipped, also, self._indexguard_xfailed
                )
        super().stopTest(test)

    def addIndexguard(
        self,
        test: unittest.TestCase,
        data: TestData | None,
        ran: bool,
        also: str | None,
        xfailed: bool = False,
    ) -> None:
        raise NotImplementedError


class Result(Guarded, unittest.TextTestResult):
    """The result of the process that prints the summary. The runner makes a subclass of it
    and of the result class Django would use (``--debug-sql``, ``--pdb``), with ``session``."""

    session: ClassVar[Session | None] = None
    # While a parallel suite replays its workers' events here, no test runs in this process.
    replaying = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_summaries: dict[int, dict[str, Any]] = {}
        self.summary_printed = False

    def indexguard_session(self) -> Session | None:
        return None if self.replaying else self.session

    def addIndexguard(
        self,
        test: unittest.TestCase,
        data: TestData | None,
        ran: bool,
        also: str | None,
        xfailed: bool = False,
    ) -> None:
        session = self.session
        if session is None:
            return
        session.add_test(node_id(test, session.rootdir), data, ran=ran, xfailed=xfailed)
        if also is not None:
            self._append(test, also)

    def addIndexguardSummary(
        self, test: unittest.TestCase, worker: int, summary: dict[str, Any]
    ) -> None:
        """A worker's totals so far: the last ones of each worker count."""
        self.worker_summaries[worker] = summary

    def _append(self, test: unittest.TestCase, message: str) -> None:
        """The guard's findings under the error of a test that failed on its own."""
        for outcomes in (self.failures, self.errors):
            for index in range(len(outcomes) - 1, -1, -1):
                failed, text = outcomes[index]
                if failed is test:
                    outcomes[index] = (failed, f"{text}\n{message}\n")
                    return

    def _exc_info_to_string(self, err: Any, test: unittest.TestCase) -> str:
        if isinstance(err[1], GuardFailure):
            return f"{err[1]}\n"
        return super()._exc_info_to_string(err, test)  # type: ignore[misc,no-any-return]

    def printErrors(self) -> None:
        """After the failures, before unittest's count: the guard's summary, as pytest puts
        its section before the short summary."""
        super().printErrors()
        self.print_summary()

    def print_summary(self) -> None:
        session = self.session
        if session is None or self.summary_printed:
            return
        self.summary_printed = True
        session.finish(Summary.from_json(data) for data in self.worker_summaries.values())
        self.stream.writeln(" indexguard ".center(70, "="))
        for line in session.lines():
            self.stream.writeln(line.text)
        self.stream.flush()


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker process of ``--parallel`` needs to build its own guard: picklable, for
    the ``spawn`` start method too."""

    options: dict[str, Any]
    verbosity: int
    pattern: str
    test_files: tuple[str, ...] = field(default=())
    # The parent's tables filled by migrations (``Guard.shipped``): the same object, filled
    # once the parent has set up the databases, before the pool of workers is started.
    shipped: dict[str, str] = field(default_factory=dict)

    def session(self) -> Session:
        settings, root = configure(self.options, self.verbosity)
        session = Session(settings, root, test_patterns=(self.pattern,), runner="django")
        session.start()
        session.test_files(self.test_files)
        session.guard.shipped.update(self.shipped)
        return session


class Worker:
    """The guard of a worker process. multiprocessing gives the pool's initializer and the
    batches of tests it runs nothing in common but the process's globals: this class is that
    global, set once per worker process."""

    session: ClassVar[Session | None] = None


def init_worker(*args: Any) -> None:
    """Django's worker set-up (its own test databases), then the worker's guard, when the
    parent sent a ``WorkerPlan`` in ``process_setup_args`` (the fifth of the pool's
    ``initargs``)."""
    ParallelTestSuite.init_worker(*args)
    setup_args = args[4] if len(args) > 4 else ()
    plans = [arg for arg in setup_args or () if isinstance(arg, WorkerPlan)]
    if plans:
        Worker.session = plans[0].session()


class WorkerResult(Guarded, RemoteTestResult):
    """A worker's result: what a test found goes to the parent as one more event."""

    def indexguard_session(self) -> Session | None:
        return Worker.session

    def guard_failure(
        self, message: str
    ) -> tuple[type[BaseException], BaseException, TracebackType | None]:
        # Tracebacks cross to the parent only with tblib installed; the message is all.
        return GuardFailure, GuardFailure(message), None

    def addIndexguard(
        self,
        test: unittest.TestCase,
        data: TestData | None,
        ran: bool,
        also: str | None,
        xfailed: bool = False,
    ) -> None:
        self.events.append(("addIndexguard", self.test_index, data, ran, also, xfailed))


class WorkerRunner(RemoteTestRunner):
    resultclass = WorkerResult

    def run(self, test: Any) -> Any:
        result = super().run(test)
        session = Worker.session
        if session is not None:
            # The worker's totals so far: the parent keeps the last of each worker.
            totals = session.guard.summary().to_json()
            result.events.append(("addIndexguardSummary", 0, os.getpid(), totals))
        return result


class ParallelSuite(ParallelTestSuite):
    """Django's parallel suite, whose workers run their tests under their own guard."""

    init_worker = init_worker
    runner_class = WorkerRunner

    def run(self, result: Any, debug: bool = False) -> Any:
        session = getattr(result, "session", None)
        if session is None:
            return super().run(result)
        # The workers are forked from here: they note QuerySets with their own guard.
        session.guard.call_sites.builds.uninstall()
        result.replaying = True
        try:
            return super().run(result)
        finally:
            result.replaying = False


class Runner(DiscoverRunner):
    """Django's ``DiscoverRunner`` with the guard: ``TEST_RUNNER =
    "pytest_indexguard.django.Runner"`` (or a subclass of it)."""

    parallel_test_suite = ParallelSuite

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        group = parser.add_argument_group(
            "indexguard", "fail tests whose SQL needs a full table scan (pytest-indexguard)"
        )
        for option in OPTIONS:
            group.add_argument(option.flag, **_argument(option))

    def __init__(self, **kwargs: Any) -> None:
        dests = dict.fromkeys(option.dest for option in OPTIONS)  # --no-indexguard shares one
        self.indexguard_options = {dest: kwargs.pop(dest, None) for dest in dests}
        super().__init__(**kwargs)
        settings, root = configure(self.indexguard_options, self.verbosity)
        self.indexguard: Session | None = None
        if settings.enabled:
            try:
                self.indexguard = Session(
                    settings,
                    root,
                    test_patterns=(self.pattern or DEFAULT_PATTERN,),
                    runner="django",
                )
            except pytest.UsageError as exc:  # an unreadable baseline
                raise CommandError(str(exc), returncode=USAGE_ERROR) from None

    def setup_test_environment(self, **kwargs: Any) -> None:
        super().setup_test_environment(**kwargs)
        if self.indexguard is not None:
            from pytest_indexguard.report import header_line

            # Before test modules are imported: QuerySets they build get noted too.
            self.indexguard.start()
            self.log(header_line(self.indexguard.settings))

    def build_suite(self, test_labels: Any = None, *args: Any, **kwargs: Any) -> Any:
        # Django 4.2's run_tests passes extra_tests positionally (gone in 5.0).
        suite = super().build_suite(test_labels, *args, **kwargs)
        session = self.indexguard
        if session is None:
            return suite
        tests = list(iter_test_cases(suite))
        errors = sorted(
            {
                error
                for test in tests
                if isinstance(test, unittest.TestCase)
                for error in mark_errors(
                    node_id(test, session.rootdir),
                    (mark for _, mark in markers(test, session.rootdir)),
                )
            }
        )
        if errors:
            raise CommandError("\n".join(errors), returncode=USAGE_ERROR)
        files = sorted(_test_files(tests))
        session.test_files(files)
        session.collected.update(_collected(tests, session.rootdir, self.test_loader))
        if isinstance(suite, ParallelSuite):
            plan = WorkerPlan(
                dict(self.indexguard_options),
                self.verbosity,
                self.pattern or DEFAULT_PATTERN,
                tuple(files),
                session.guard.shipped,
            )
            suite.process_setup_args = (plan,)
        return suite

    def get_resultclass(self) -> Any:
        base = super().get_resultclass()
        if self.indexguard is None:
            return base
        bases = (Result,) if base is None else (Result, base)
        return type("IndexguardResult", bases, {"session": self.indexguard})

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        result = super().run_suite(suite, **kwargs)
        if isinstance(result, Result):
            result.print_summary()  # when the test runner did not print errors
        return result

    def suite_result(self, suite: Any, result: Any, **kwargs: Any) -> int:
        failures: int = super().suite_result(suite, result, **kwargs)
        session = self.indexguard
        if session is not None and (session.run_fails() or session.write_errors):
            failures += 1
        return failures

    def teardown_test_environment(self, **kwargs: Any) -> None:
        if self.indexguard is not None:
            self.indexguard.stop()
        super().teardown_test_environment(**kwargs)


def _test_files(tests: Iterable[Any]) -> set[str]:
    files = set()
    for test in tests:
        filename = getattr(sys.modules.get(type(test).__module__), "__file__", None)
        if filename and isinstance(test, unittest.TestCase):
            files.add(str(Path(filename).resolve()))
    return files


def _collected(
    tests: Iterable[Any], root: Path, loader: unittest.TestLoader
) -> dict[str, list[str]]:
    """Every test class of each module the suite loaded tests from, and every test of each
    class, whatever ``-k`` or ``--tag`` selected: a baseline's test that is not among them is
    gone."""
    collected: dict[str, list[str]] = {}
    modules = {type(test).__module__ for test in tests if isinstance(test, unittest.TestCase)}
    for name in sorted(modules):
        module = sys.modules.get(name)
        if module is None:
            continue
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, unittest.TestCase)
        ]
        module_node = file_id(module, root)
        if module_node is None:
            continue
        collected[module_node] = []
        for cls in classes:
            node = class_id(cls, module_node)
            collected[module_node].append(node)
            collected[node] = [f"{node}::{method}" for method in loader.getTestCaseNames(cls)]
    return collected
