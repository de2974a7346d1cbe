"""Fixtures for running the plugin in real inner pytest sessions against real PostgreSQL.

The outer session's settings (``sampleproject.settings``) have already made sure a server is
there: ``DATABASE_URL``, or an embedded PostgreSQL whose URL was exported in ``DATABASE_URL``.
Inner runs are subprocesses that inherit it, each on databases named after the outer xdist
worker so that parallel workers never share a test database.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent
SAMPLE_APP = REPO / "sample_app"

_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)")

# Inner runs and xdist workers are new Python processes. With PYTHONDONTWRITEBYTECODE set (some
# containers and CI images set it), each would compile the plugin and the sample app again and
# have pytest rewrite the asserts of every plugin module again: about 0.6 s a run, hundreds of
# runs. Let them keep the compiled files (in __pycache__, ignored by git).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@dataclass
class InnerRun:
    result: pytest.RunResult

    @property
    def output(self) -> str:
        return "\n".join(self.result.outlines + self.result.errlines)

    def outcomes(self) -> dict[str, str]:
        """Outcome of every test of the run, by test name, from ``-rA``."""
        found = {}
        for line in self.result.outlines:
            match = _OUTCOME.match(line)
            if match:
                found[match.group(2).split("::")[-1].split(" ")[0]] = match.group(1).lower()
        return found

    def section(self, test_name: str) -> str:
        """The failure section of one test."""
        text = "\n".join(self.result.outlines)
        match = re.search(
            rf"_{{3,}} {re.escape(test_name)} _{{3,}}\n(.*?)(?=\n_{{3,}} |\n={{3,}})",
            text,
            re.DOTALL,
        )
        return match.group(1) if match else ""


def line_of(source: str, text: str) -> int:
    """Line number of ``text`` in the file pytester writes (it strips the leading newline)."""
    lines = source.strip("\n").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """What ``--dist loadgroup`` needs on an xdist worker, for pytest 9.2 and later.

    pytest-xdist (3.8) sends an ``xdist_group``'s tests to one worker by adding ``@<group>`` to
    their node ids, through ``item._nodeid``; since pytest 9.2 node ids live in ``item._id``,
    so the suffix is lost and the group's tests are spread over the workers (each worker then
    builds tests/test_standard.py's scale data). Add it where pytest reads it, once.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId  # pytest 9.2+
    except ImportError:  # older pytest: pytest-xdist's own suffix works
        return
    for item in items:
        groups = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


# Read once, before any fixture removes it from the environment of inner runs.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# What inner pytest runs (and their xdist workers) get in PYTEST_ADDOPTS instead of the outer
# session's. Hypothesis's pytest plugin, installed for tests/test_property.py, imports all of
# Hypothesis in its terminal summary (about a second per process); django-perf-rec's, installed
# for benchmarks/run.py, imports Django's cache and test machinery at start (0.2 s). No inner run
# uses either.
INNER_ADDOPTS = "-p no:hypothesispytest -p no:django_perf_rec"


@pytest.fixture
def inner_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEXGUARD_INNER_DB", f"indexguard_inner_{WORKER}_{os.getpid()}")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setenv("PYTEST_ADDOPTS", INNER_ADDOPTS)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)


# First on PYTHONPATH of a run that must use psycopg2: it hides psycopg 3 (see its sitecustomize).
PSYCOPG2_ONLY = TESTS / "psycopg2_only"
DRIVERS = ("psycopg", "psycopg2")


def on_psycopg2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pytest runs started from here on (inner runs, their xdist workers and their own inner
    runs) see no psycopg 3, as in a project on psycopg2: Django connects through psycopg2.
    Skips, saying why, when psycopg2 is not installed."""
    if importlib.util.find_spec("psycopg2") is None:
        pytest.skip("psycopg2 is not installed: pip install psycopg2-binary (in the [dev] extra)")
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(filter(None, [str(PSYCOPG2_ONLY), os.environ.get("PYTHONPATH")])),
    )


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The PostgreSQL driver of the inner runs: psycopg 3 (the suite's own), then psycopg2."""
    if request.param == "psycopg2":
        on_psycopg2(monkeypatch)
    return str(request.param)


# An app of queues and tickets (``DjangoProject.add_app("desk", DESK)``).
DESK = """
from django.db import models


class Queue(models.Model):
    title = models.CharField(max_length=100)


class Ticket(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE)
    status = models.IntegerField(default=1)
    priority = models.IntegerField(default=3)
    created = models.DateTimeField()
    title = models.CharField(max_length=200)
"""


@pytest.fixture
def django_project(pytester: pytest.Pytester, inner_env: None) -> DjangoProject:
    shutil.copytree(TESTS / "project", pytester.path, dirs_exist_ok=True)
    (pytester.path / "pytest.ini").write_text(
        f"[pytest]\nDJANGO_SETTINGS_MODULE = settings\npythonpath = . {SAMPLE_APP}\n"
        f"{CHECK_TEST_CODE}\n"
    )
    return DjangoProject(pytester)


# Most inner tests issue their statements from the test body, for brevity: they check them as
# if application code had issued them. Tests of the statements' origin turn this off.
CHECK_TEST_CODE = "indexguard_check_test_code = true"


class DjangoProject:
    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester

    def write_tests(self, source: str, name: str = "test_inner") -> None:
        self.pytester.makepyfile(**{name: source})

    def add_app(self, name: str, models: str) -> None:
        """An installed app of its own models, without migrations (its tables are made from
        the models when the test database is created)."""
        root = self.pytester.path
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        (root / name / "models.py").write_text(models)
        settings = root / "settings.py"
        settings.write_text(
            settings.read_text().replace(
                'INSTALLED_APPS = ["shop",', f'INSTALLED_APPS = ["{name}", "shop",'
            )
        )

    def as_shipped(self) -> None:
        """Judge test code's statements as the plugin does by default: they do not fail."""
        ini = self.pytester.path / "pytest.ini"
        ini.write_text(ini.read_text().replace(CHECK_TEST_CODE + "\n", ""))

    def append_ini(self, text: str) -> None:
        ini = self.pytester.path / "pytest.ini"
        ini.write_text(ini.read_text() + "\n" + text.strip() + "\n")

    def run(self, *args: str) -> InnerRun:
        return InnerRun(self.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *args))


@pytest.fixture
def sample_app(
    pytester: pytest.Pytester, inner_env: None, monkeypatch: pytest.MonkeyPatch
) -> SampleApp:
    """The sample app's own suite, run as its users run it (its pytest.ini, its conftest)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    if url.scheme != "sqlite":  # SQLite's test databases are in memory, one per process
        path = f"/indexguard_sample_{WORKER}_{os.getpid()}"
        monkeypatch.setenv("DATABASE_URL", urlunsplit(url._replace(path=path)))
    monkeypatch.chdir(SAMPLE_APP)
    return SampleApp(pytester, SAMPLE_APP)


@pytest.fixture
def sample_copy(sample_app: SampleApp, monkeypatch: pytest.MonkeyPatch) -> SampleApp:
    """A copy of the sample app that a test may add files to."""
    root = sample_app.pytester.path / "sample_app"
    shutil.copytree(SAMPLE_APP, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    monkeypatch.chdir(root)
    return SampleApp(sample_app.pytester, root)


class SampleApp:
    def __init__(self, pytester: pytest.Pytester, root: Path) -> None:
        self.pytester = pytester
        self.root = root

    def run(self, *args: str) -> InnerRun:
        return InnerRun(
            self.pytester.runpytest_subprocess(
                "-p",
                "no:cacheprovider",
                "-rA",
                "-c",
                str(self.root / "pytest.ini"),
                "--rootdir",
                str(self.root),
                str(self.root / "tests"),
                *args,
            )
        )


@dataclass
class Recording:
    """A run of a copy of the sample app's whole suite without its planned indexes that
    recorded a baseline (its five entries), and the file it wrote."""

    run: InnerRun
    path: Path
    content: bytes

    def copy_to(self, path: Path) -> Path:
        path.write_bytes(self.content)
        return path


class Recordings:
    """The baseline recordings that tests of baselines start from (tests/test_baseline.py,
    tests/test_gating.py). Every copy of the sample app records the same file, so the inner run
    is made once per session (and xdist worker) for each way of running it, serial or under
    xdist, by the first test that needs it; each test then works on its own copy of the file."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, ...], Recording] = {}

    def record(self, app: SampleApp, workers: tuple[str, ...] = ()) -> Recording:
        if workers not in self._done:
            # One file per way of running it: one test may record both.
            suffix = "".join(f"-{word.strip('-')}" for word in workers)
            path = app.pytester.path / f"recorded-baseline{suffix}.json"
            run = app.run(
                "--without-indexes",
                f"--indexguard-baseline={path}",
                "--indexguard-update-baseline",
                *workers,
            )
            content = path.read_bytes() if path.exists() else b""
            self._done[workers] = Recording(run, path, content)
        return self._done[workers]


@pytest.fixture(scope="module")
def live_postgres() -> Iterator[Any]:
    """An autocommit connection to the PostgreSQL server of ``DATABASE_URL`` (read when the
    fixture runs: the sample project's settings export it when they start the embedded
    server), for tests that judge statements live (``plans/live_judge.py``); a skip without."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL names no PostgreSQL server")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def recordings() -> Recordings:
    return Recordings()


def reachable_mysql() -> str:
    """The MySQL/MariaDB server the MySQL tests use (``INDEXGUARD_MYSQL_URL``, default the
    machine's MariaDB), or a skip that says why there is none."""
    pytest.importorskip("pymysql", reason="PyMySQL is not installed: pip install PyMySQL")
    from plans.capture_mysql import connect, mysql_url

    url = mysql_url()
    try:
        connect(url).close()
    except Exception as exc:
        pytest.skip(
            f"no MySQL/MariaDB server at {url} (set INDEXGUARD_MYSQL_URL to run these): {exc}"
        )
    return url


def mysql_database(name: str, statements: Sequence[str]) -> Iterator[Any]:
    """A connection to a database of its own on the MySQL/MariaDB server (a skip without one),
    made with ``statements`` and dropped after: for a module-scoped fixture to yield from."""
    from plans.capture_mysql import connect

    raw = connect(reachable_mysql())
    with raw.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cursor.execute(f"USE `{name}`")
        for statement in statements:
            cursor.execute(statement)
    yield raw
    with raw.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    raw.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The standard suites' recall and precision, when they ran: PostgreSQL's
    (tests/test_standard.py) and SQLite's and MariaDB's (tests/test_standard_backends.py)."""
    titles = {
        "indexguard_standard": "the guard against the standard, per table",
        "indexguard_standard_backends": "the guard against {}'s own standard, per table",
    }
    shown: set[str] = set()
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name not in titles or not isinstance(value, list) or not value:
                    continue
                lines = [str(line) for line in value]
                if name == "indexguard_standard_backends":
                    title, lines = titles[name].format(lines[0]), lines[1:]
                else:
                    title = titles[name]
                if title in shown:
                    continue
                shown.add(title)
                terminalreporter.write_sep("-", title)
                for line in lines:
                    terminalreporter.write_line(line)


@pytest.fixture
def sample_db() -> Iterator[sqlite3.Connection]:
    """The sample app's schema with its indexes (``tests/plans/sqlite/schema-full.sql``) in an
    in-process SQLite database, as Django connects (its SQL functions registered)."""
    from django.db.backends.sqlite3._functions import register

    raw = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    register(raw)
    schema = Path(__file__).parent / "plans" / "sqlite" / "schema-full.sql"
    raw.executescript(f"BEGIN;\n{schema.read_text(encoding='utf-8')}COMMIT;")
    yield raw
    raw.close()
