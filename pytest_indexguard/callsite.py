"""Where the project's own code issued a statement: the innermost frame that is not Django,
pytest, the standard library, an installed package or this plugin.

Only computed for violations, so the frame walk stays off the per-statement path.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from types import FrameType


@dataclass(frozen=True, order=True)
class CallSite:
    path: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"


def _excluded_roots() -> tuple[str, ...]:
    roots: set[str] = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
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
        self._excluded = _excluded_roots()
        self._verdicts: dict[str, bool] = {}
        self._displays: dict[str, str] = {}

    def _is_project_file(self, filename: str) -> bool:
        verdict = self._verdicts.get(filename)
        if verdict is None:
            real = os.path.realpath(filename)
            verdict = not filename.startswith("<") and not real.startswith(self._excluded)
            self._verdicts[filename] = verdict
        return verdict

    def find(self) -> CallSite | None:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if self._is_project_file(code.co_filename):
                return CallSite(self._display(code.co_filename), frame.f_lineno, code.co_name)
            frame = frame.f_back
        return None

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
