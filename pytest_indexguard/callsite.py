"""Where a statement was issued, and by whom (see ``origin.py``).

The call site is the innermost frame that says something to the project: a frame of its own
code (test code included), else the template node being rendered (``{% for %}`` over a lazy
QuerySet names the template and its line), else the view that served the request (a generic
view, or a Django REST framework one, whose code is all in the library). A middleware that
only passes the request on is therefore never the call site: the view's frames and the
template's nodes are inner to it. A statement a middleware issues itself is reported at the
middleware's line, since that is where the statement is.

Only computed for violations, so the frame walk stays off the per-statement path.
"""

from __future__ import annotations

import inspect
import os
import site
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_indexguard.origin import (
    APPLICATION,
    MIGRATION,
    TEST,
    THREAD_HANDLER,
    BuildNotes,
    Kind,
    Kinds,
    Mark,
    TestFiles,
    django_root,
    mark_of,
)

# Django's name for a template built from a string.
_UNKNOWN_SOURCE = "<unknown source>"
_HANDLER_FUNCTIONS = frozenset({"_get_response", "_get_response_async"})


@dataclass(frozen=True, order=True)
class CallSite:
    path: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"


@dataclass(frozen=True)
class Location:
    """Where a statement was issued, who issued it (``origin.APPLICATION``, ``TEST`` or
    ``MIGRATION``), and, for a lazy QuerySet that project code built and other code evaluated,
    where it was built."""

    call_site: CallSite | None
    origin: str = APPLICATION
    built_at: CallSite | None = None


def _excluded_roots() -> tuple[str, ...]:
    roots: set[str] = set()
    # "scripts": the console script that started pytest is outer to every test.
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    roots.update(getattr(site, "getsitepackages", lambda: [])())
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if isinstance(user_site, str):
        roots.add(user_site)
    import _pytest
    import django
    import pluggy

    for module in (django, _pytest, pluggy):
        roots.add(os.path.dirname(os.path.abspath(module.__file__ or "")))
    roots.add(os.path.dirname(os.path.abspath(__file__)))
    return tuple(sorted(os.path.join(os.path.realpath(r), "") for r in roots))


class CallSiteFinder:
    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.tests = TestFiles(rootdir)
        self.kinds = Kinds(_excluded_roots(), django_root(), self.tests)
        # Installed by the plugin for the session: notes who built each QuerySet.
        self.builds = BuildNotes(self.kinds)
        self._displays: dict[str, str] = {}
        self._views: dict[int, tuple[Any, CallSite | None]] = {}

    def find(self) -> CallSite | None:
        return self.locate().call_site

    def locate(self) -> Location:
        kinds = self.kinds
        call_site: CallSite | None = None
        application = test = migration = False
        orm: list[FrameType] = []  # ORM frames inner to the call site: they hold the QuerySet
        for frame in self._frames(sys._getframe(1)):
            code = frame.f_code
            kind = kinds(code.co_filename)
            if kind in (Kind.LIBRARY, Kind.BRIDGE):
                pass
            elif kind == Kind.BOUNDARY:
                break
            elif kind == Kind.ORM:
                if call_site is None:
                    orm.append(frame)
            elif kind == Kind.PROJECT and _evaluates(frame):
                # A project's QuerySet subclass evaluating itself (its _fetch_all or iterator
                # override): plumbing that runs for whoever built the QuerySet, whose note
                # decides, like the ORM's own frames.
                if call_site is None:
                    orm.append(frame)
            elif kind in (Kind.PROJECT, Kind.TEST, Kind.MIGRATION_FILE):
                if kind == Kind.PROJECT:
                    application = True
                elif kind == Kind.TEST:
                    test = True
                else:
                    migration = True
                if call_site is None:
                    call_site = self._frame_site(frame)
            elif kind == Kind.MIGRATION:
                migration = True
            else:  # a request, template rendering, a management command
                application = True
                if call_site is None:
                    if kind == Kind.TEMPLATE and code.co_name == "render_annotated":
                        call_site = self._template_site(frame)
                    elif kind == Kind.REQUEST and code.co_name in _HANDLER_FUNCTIONS:
                        call_site = self._view_site(frame)
        if migration:
            return Location(call_site, MIGRATION)
        mark = _first_mark(orm)
        if application:
            # A QuerySet that application code built elsewhere and a template, a view of the
            # library or another function evaluates: both lines are the finding's.
            built = self._built_elsewhere(mark, call_site)
            return Location(call_site, APPLICATION, built_at=built)
        if mark is not None:
            origin, filename, line, function = mark
            built = CallSite(self._display(filename), line, function)
            if origin != APPLICATION or built == call_site:
                return Location(call_site, origin)
            if call_site is None:
                return Location(built, origin)
            return Location(call_site, origin, built_at=built)
        return Location(call_site, TEST if test else APPLICATION)

    def _built_elsewhere(self, mark: Mark | None, call_site: CallSite | None) -> CallSite | None:
        """Where application code built the QuerySet, when not in the function that ran it."""
        if mark is None or mark[0] != APPLICATION or call_site is None:
            return None
        _, filename, line, function = mark
        built = CallSite(self._display(filename), line, function)
        if (built.path, built.function) == (call_site.path, call_site.function):
            return None
        return built

    def _frames(self, frame: FrameType | None) -> Iterator[FrameType]:
        """The frames that led to the statement, innermost first. Code that asgiref runs in a
        thread for a coroutine (the async ORM, a sync view under ASGI) continues in the
        coroutines awaiting it, not in the frames of whatever drives the event loop."""
        while frame is not None:
            yield frame
            code = frame.f_code
            if code.co_name == THREAD_HANDLER and self.kinds(code.co_filename) == Kind.BRIDGE:
                yield from _awaiting(frame)
                return
            frame = frame.f_back

    def _frame_site(self, frame: FrameType) -> CallSite:
        code = frame.f_code
        return CallSite(self._display(code.co_filename), frame.f_lineno, code.co_name)

    def _template_site(self, frame: FrameType) -> CallSite | None:
        """The node Django's template engine is rendering: the parser gives every node its
        template (``origin``) and its ``token``, which knows its line."""
        node = frame.f_locals.get("self")
        name = getattr(getattr(node, "origin", None), "name", None)
        token = getattr(node, "token", None)
        if not isinstance(name, str) or name == _UNKNOWN_SOURCE or token is None:
            return None
        path = self._display(name)
        if os.path.isabs(path):  # outside the project (an installed app's template)
            name = getattr(node.origin, "template_name", None) or path  # type: ignore[union-attr]
            # A plain str: str() of Django's SafeString (the name it was loaded by) is itself,
            # which pytest-xdist cannot send to the controller.
            path = str.__str__(str(name))
        contents = " ".join(str(getattr(token, "contents", "")).split())
        if len(contents) > 60:
            contents = contents[:57] + "..."
        from django.template.base import TokenType

        shown = (
            f"{{{{ {contents} }}}}"
            if getattr(token, "token_type", None) == TokenType.VAR
            else f"{{% {contents} %}}"
        )
        return CallSite(path, int(getattr(token, "lineno", 0) or 0), shown)

    def _view_site(self, frame: FrameType) -> CallSite | None:
        """The view Django's handler is running: where its class (or function) is defined."""
        callback = frame.f_locals.get("callback")
        if callback is None:
            match = getattr(frame.f_locals.get("request"), "resolver_match", None)
            callback = getattr(match, "func", None)
        if callback is None:
            return None
        cached = self._views.get(id(callback))
        if cached is not None and cached[0] is callback:
            return cached[1]
        found = self._view_of(callback)
        self._views[id(callback)] = (callback, found)
        return found

    def _view_of(self, callback: Any) -> CallSite | None:
        target = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        try:
            if isinstance(target, type):
                filename = inspect.getsourcefile(target)
                line = inspect.getsourcelines(target)[1]
                name = target.__qualname__
            else:
                function = inspect.unwrap(callback)
                code = function.__code__
                filename, line, name = code.co_filename, code.co_firstlineno, function.__qualname__
        except (TypeError, OSError, AttributeError):
            return None
        if filename is None:
            return None
        return CallSite(self._display(filename), line, name)

    def _display(self, filename: str) -> str:
        """The path as the report shows it: relative to the rootdir when under it. Resolving
        touches the file system, so it is done once per file."""
        shown = self._displays.get(filename)
        if shown is None:
            path = Path(filename)
            try:
                shown = path.resolve().relative_to(self.rootdir.resolve()).as_posix()
            except ValueError:
                shown = path.as_posix()
            self._displays[filename] = shown
        return shown


def _awaiting(handler: FrameType) -> list[FrameType]:
    """The frames of the coroutines awaiting the ``sync_to_async`` call that ``handler``
    (asgiref's ``SyncToAsync.thread_handler``) runs, innermost first; best effort."""
    import asyncio

    state = handler.f_locals
    task = state.get("source_task")  # asgiref < 3.8 passes the awaiting task
    if task is None:
        # Newer asgiref: the task whose innermost coroutine holds the same ``child`` partial.
        loop, args = state.get("loop"), state.get("args")
        if loop is None or not args:
            return []
        try:
            tasks = list(asyncio.all_tasks(loop))
        except RuntimeError:  # the loop's thread changed its task set meanwhile
            return []
        for candidate in tasks:
            chain = _coroutine_frames(candidate)
            if chain and chain[0].f_locals.get("child") is args[0]:
                return chain
        return []
    return _coroutine_frames(task) if isinstance(task, asyncio.Task) else []


def _coroutine_frames(task: Any) -> list[FrameType]:
    """The frames of a task's chain of awaiting coroutines, innermost first."""
    frames: list[FrameType] = []
    coroutine = task.get_coro()
    while coroutine is not None and len(frames) < 200:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is None:
            break
        frames.append(frame)
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    frames.reverse()
    return frames


def _first_mark(frames: list[FrameType]) -> Mark | None:
    """The note of the innermost QuerySet or Query being executed."""
    for frame in frames:
        mark = mark_of(frame.f_locals.get("self"))
        if mark is not None:
            return mark
    return None


# Methods through which a QuerySet is evaluated, not built.
_EVALUATION = frozenset(
    {"_fetch_all", "iterator", "_iterator", "__iter__", "__len__", "__bool__", "__getitem__"}
)


def _evaluates(frame: FrameType) -> bool:
    """Whether this project frame is a QuerySet of the project evaluating itself."""
    if frame.f_code.co_name not in _EVALUATION:
        return False
    from django.db.models import QuerySet

    return isinstance(frame.f_locals.get("self"), QuerySet)
