"""Wall time of the sample app's suite with and without the guard, in fresh subprocesses.

A subprocess per run is what a user pays: interpreter start, Django set-up, test database
creation and migrations, the tests, teardown. pytest's own "passed in N s" figure is kept too; it
leaves out start-up, so the guard's share of it is larger.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_PASSED = re.compile(r"(\d+) passed.* in ([0-9.]+)s")

MODES = {"without": "--no-indexguard", "with": "--indexguard"}


@dataclass(frozen=True)
class SuiteRun:
    mode: str
    wall: float
    pytest_time: float
    passed: int


def command(mode: str) -> list[str]:
    # sample_app/pytest.ini turns the guard on, so the run without it must say so.
    return [
        sys.executable,
        "-m",
        "pytest",
        "sample_app",
        "-q",
        "-p",
        "no:cacheprovider",
        MODES[mode],
    ]


def run(mode: str, database_url: str) -> SuiteRun:
    env = dict(os.environ, DATABASE_URL=database_url)
    started = time.perf_counter()
    done = subprocess.run(
        command(mode), cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    output = done.stdout + done.stderr
    guard_on = "indexguard: on" in output
    if done.returncode != 0 or guard_on != (mode == "with"):
        raise RuntimeError(
            f"the sample suite ({' '.join(command(mode))}) exited with {done.returncode}"
            f"{'' if guard_on == (mode == 'with') else ', guard state not as asked'}:\n{output}"
        )
    found = _PASSED.search(output)
    if found is None:
        raise RuntimeError(f"no 'N passed in S s' line in the sample suite's output:\n{output}")
    return SuiteRun(mode, wall, float(found.group(2)), int(found.group(1)))
