"""Who issued a statement: the project's application code, test code, or a migration.

Statements that test code sends straight through the ORM (``Customer.objects.get(name=...)`` in
an assertion) and statements that only run at migrate time never run in production; they are
reported apart and do not fail tests. The verdict comes from the Python stack when a violation
is recorded (never on the per-statement path):

- **migration**: a frame of Django's migration machinery (the executor, ``RunPython``, the
  ``MigrationRecorder`` bookkeeping of ``django_migrations``), of the ``migrate`` command or of
  the ``post_migrate`` signal it sends, or a file in a ``migrations`` package;
- **application**: a frame of the project's non-test code, of a request (Django's handlers and
  test client), of template rendering or of a management command;
- **test**: none of those, but a frame of test code: files pytest collected tests from, files
  matching its ``python_files`` patterns, ``conftest.py``, and files under a ``tests`` or
  ``test`` directory;
- with no evidence at all (a thread running library code only), **application**: the statement
  counts, as every statement did before origins existed.

A lazy QuerySet that application code builds and test code evaluates (``list(pending())`` in a
test) shows only the test on the stack when it runs. So, while the guard is on, the plugin
wraps ``QuerySet.__init__`` (restored at the end of the session) to note on the new QuerySet's
``Query`` who built it: the nearest frame outside Django and the libraries, ignoring the ORM's
own plumbing (``get_queryset``, ``_clone``, a subclass's ``__init__``). ``Query.clone`` copies
the query's attributes, so the note follows every chained QuerySet; a later step by project
code turns a test-built note into an application one, never the reverse. The wrapper changes
nothing the QuerySet does.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

APPLICATION = "application"
TEST = "test"
MIGRATION = "migration"

# The attribute of a Django ``Query`` that says who built it: (origin, filename, line, function).
MARK = "_indexguard_built_by"
Mark = tuple[str, str, int, str]

# Methods through which the ORM builds QuerySets for its callers: a project's override of one
# of them (a manager's ``get_queryset``, a QuerySet subclass's ``__init__``) is plumbing, not
# the code that asked for the statement.
PLUMBING = frozenset({"__init__", "_clone", "_chain", "get_queryset", "all", "using"})


class Kind:
    """What a frame's file tells about who is running. Plain strings, not an Enum: they are
    compared and hashed for every frame the QuerySet wrapper looks at."""

    LIBRARY = "library"  # the standard library, installed packages, pytest, this plugin
    PROJECT = "project"  # the project's non-test code
    TEST = "test"  # the project's test code
    MIGRATION_FILE = "migration file"  # a project file in a ``migrations`` package
    MIGRATION = "migration"  # Django's migration machinery, ``migrate``, ``post_migrate``
    REQUEST = "request"  # Django's request handlers and test client
    TEMPLATE = "template"  # Django's template engine
    COMMAND = "command"  # Django's management command runner
    ORM = "orm"  # django.db.models: where a QuerySet's note is read
    # The test runner (pytest's runner, a unittest suite): every frame outer to it is the
    # runner's or the launcher's (a runtests.py calling pytest.main(), manage.py test), never a
    # test's.
    BOUNDARY = "boundary"
    # asgiref's bridge from async code to a thread: frames outer to its ``thread_handler`` drive
    # an event loop, they did not call the code it runs (that is the coroutine awaiting it).
    BRIDGE = "bridge"


# Django's own files that say who is running, by their path inside the django package.
_DJANGO_KINDS: tuple[tuple[str, str], ...] = (
    ("db/migrations/", Kind.MIGRATION),
    ("core/management/commands/migrate.py", Kind.MIGRATION),
    ("core/management/sql.py", Kind.MIGRATION),  # emit_post_migrate_signal
    ("core/handlers/", Kind.REQUEST),
    ("test/client.py", Kind.REQUEST),
    ("template/", Kind.TEMPLATE),
    ("core/management/base.py", Kind.COMMAND),
    ("db/models/", Kind.ORM),
)

_ASGIREF_SYNC = os.path.join("asgiref", "sync.py")
THREAD_HANDLER = "thread_handler"

DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")
TEST_DIRECTORIES = frozenset({"tests", "test"})


class TestFiles:
    """Which files are test code. pytest itself knows only which files it collects tests from
    (``python_files``); helpers next to them (factories, fixtures, base classes) are test code
    when they live in a ``tests``/``test`` directory or are named like a test file or
    ``conftest.py``."""

    __test__ = False  # not a test class, whatever pytest's python_classes say

    def __init__(self, rootdir: Path, patterns: Iterable[str] = DEFAULT_PYTHON_FILES) -> None:
        self.rootdir = Path(os.path.realpath(rootdir))
        self.patterns = tuple(patterns)
        self.collected: set[str] = set()

    def add_collected(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.collected.update(os.path.realpath(path) for path in paths)

    def __contains__(self, filename: str) -> bool:
        real = os.path.realpath(filename)
        if real in self.collected:
            return True
        path = Path(real)
        if path.name == "conftest.py":
            return True
        relative = self.relative(path)
        for pattern in self.patterns:
            # As pytest matches python_files: the file name, or the path for a pattern with a /.
            target = str(relative or path) if "/" in pattern or os.sep in pattern else path.name
            if fnmatch.fnmatch(target, pattern):
                return True
        # Directories count below the rootdir only: the rootdir itself may sit in a tests/.
        return relative is not None and any(
            part in TEST_DIRECTORIES for part in relative.parts[:-1]
        )

    def relative(self, path: Path) -> Path | None:
        try:
            return path.relative_to(self.rootdir)
        except ValueError:
            return None


class Kinds:
    """The ``Kind`` of each file, decided once per file name."""

    def __init__(self, excluded: tuple[str, ...], django_root: str, tests: TestFiles) -> None:
        self._excluded = excluded
        self._django = django_root
        import unittest.suite

        import _pytest.runner

        # What calls a test: pytest's runner, and the unittest suites that Django's test runner
        # runs (pytest calls a TestCase without a suite). Frames outer to them are the runner's.
        self._runners = frozenset(
            os.path.realpath(str(module.__file__)) for module in (_pytest.runner, unittest.suite)
        )
        self.tests = tests
        self.cache: dict[str, str] = {}

    def __call__(self, filename: str) -> str:
        kind = self.cache.get(filename)
        if kind is None:
            kind = self.cache[filename] = self._decide(filename)
        return kind

    def forget(self) -> None:
        """The test files changed (collection found more): decide again."""
        self.cache.clear()

    def _decide(self, filename: str) -> str:
        if filename.startswith("<"):
            return Kind.LIBRARY
        real = os.path.realpath(filename)
        if real.startswith(self._django):
            inside = real[len(self._django) :].replace(os.sep, "/")
            for prefix, kind in _DJANGO_KINDS:
                if inside.startswith(prefix):
                    return kind
            return Kind.LIBRARY
        if real in self._runners:
            return Kind.BOUNDARY
        if real.endswith(_ASGIREF_SYNC):
            return Kind.BRIDGE
        if real.startswith(self._excluded):
            return Kind.LIBRARY
        path = Path(real)
        if "migrations" in (self.tests.relative(path) or path).parts[:-1]:
            return Kind.MIGRATION_FILE
        if real in self.tests:
            return Kind.TEST
        return Kind.PROJECT


_ORIGINS = {Kind.PROJECT: APPLICATION, Kind.TEST: TEST, Kind.MIGRATION_FILE: MIGRATION}
_BOUNDARY, _BRIDGE = Kind.BOUNDARY, Kind.BRIDGE


def builder(kinds: Kinds, frame: FrameType | None) -> Mark | None:
    """Who is building a QuerySet, from the frame that called into the ORM: the nearest frame
    of the project (application, test or migration code), skipping the ORM's plumbing. Runs
    for every QuerySet built while the guard is on: the cache lookup is inlined."""
    cache = kinds.cache
    origins = _ORIGINS
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        kind = cache.get(filename)
        if kind is None:
            kind = kinds(filename)
        origin = origins.get(kind)
        if origin is not None:
            if code.co_name not in PLUMBING and not _overrides_the_orm(frame):
                return (origin, filename, frame.f_lineno, code.co_name)
        elif kind == _BOUNDARY or (kind == _BRIDGE and code.co_name == THREAD_HANDLER):
            return None
        frame = frame.f_back
    return None


@functools.cache
def _orm_api() -> tuple[frozenset[str], tuple[type, ...]]:
    """The names of the ORM's QuerySet and manager API, and those two classes."""
    from django.db.models.manager import BaseManager
    from django.db.models.query import QuerySet

    return frozenset(dir(QuerySet)) | frozenset(dir(BaseManager)), (QuerySet, BaseManager)


def _overrides_the_orm(frame: FrameType) -> bool:
    """A project's QuerySet or manager subclass overriding the ORM's own API (``filter``,
    ``_clone``, a ``get_super_queryset`` helper of ``get_queryset``): plumbing that runs for
    whoever asked, as the ORM's own frames do. A method of its own (``in_city()``) is not:
    it is the project's query."""
    name = frame.f_code.co_name
    names, classes = _orm_api()
    if name not in names and "queryset" not in name:
        return False
    return isinstance(frame.f_locals.get("self"), classes)


def mark_of(obj: Any) -> Mark | None:
    """The note on a QuerySet, a Query, or what holds one (a compiler, an iterable)."""
    state = getattr(obj, "__dict__", None)
    if not isinstance(state, dict):
        return None
    mark = state.get(MARK)
    if mark is not None:
        return mark  # type: ignore[no-any-return]
    for attribute in ("_query", "query", "queryset"):
        inner = getattr(state.get(attribute), "__dict__", None)
        if isinstance(inner, dict):
            mark = inner.get(MARK)
            if mark is None and attribute == "queryset":
                mark = getattr(inner.get("_query"), "__dict__", {}).get(MARK)
            if mark is not None:
                return mark  # type: ignore[no-any-return]
    return None


class BuildNotes:
    """Installs the ``QuerySet.__init__`` wrapper that notes who built each QuerySet."""

    def __init__(self, kinds: Kinds) -> None:
        self.kinds = kinds
        self.enabled = False
        self._original: Callable[..., None] | None = None
        self._wrapper: Callable[..., None] | None = None

    def install(self) -> None:
        if self._wrapper is not None:
            self.enabled = True
            return
        from django.db.models.query import QuerySet

        original: Callable[..., None] = QuerySet.__init__
        kinds = self.kinds
        notes = self

        @functools.wraps(original)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if notes.enabled:
                # Not contextlib.suppress: this runs for every QuerySet the tests build.
                try:
                    state = self.__dict__["_query"].__dict__
                    previous = state.get(MARK)
                    # A query that application code touched stays the application's (its
                    # clones carry the note along): nothing to look up.
                    if previous is None or previous[0] != APPLICATION:
                        _note(state, previous, builder(kinds, sys._getframe(1)))
                except Exception:  # noting is best effort; the QuerySet is built
                    pass

        self._original = original
        self._wrapper = __init__
        QuerySet.__init__ = __init__  # type: ignore[method-assign]
        self.enabled = True

    def uninstall(self) -> None:
        """Restore Django's ``__init__``, unless someone wrapped it since: then ours stays in
        their chain, switched off."""
        self.enabled = False
        if self._wrapper is None:
            return
        from django.db.models.query import QuerySet

        if QuerySet.__dict__.get("__init__") is self._wrapper:
            QuerySet.__init__ = self._original  # type: ignore[method-assign,assignment]
            self._wrapper = self._original = None


def _note(state: dict[str, Any], previous: Mark | None, mark: Mark | None) -> None:
    if mark is not None and (previous is None or mark[0] == APPLICATION):
        state[MARK] = mark


def python_files(value: object) -> tuple[str, ...]:
    """pytest's ``python_files`` ini value as patterns."""
    if isinstance(value, str):
        patterns = value.split()
    elif isinstance(value, Iterable):
        patterns = [p for item in value for p in str(item).split()]
    else:
        patterns = []
    return tuple(patterns) or DEFAULT_PYTHON_FILES


def django_root() -> str:
    import django

    return os.path.join(os.path.realpath(os.path.dirname(django.__file__ or "")), "")
