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
_SHADOW = re.compile(r"planned on PostgreSQL \(--indexguard-plan-on\):.*, in ([0-9.]+) s")

MODES = {"without": "--no-indexguard", "with": "--indexguard"}


@dataclass(frozen=True)
class SuiteRun:
    mode: str
    wall: float
    pytest_time: float
    passed: int
    # Seconds the shadow database of --indexguard-plan-on took to make (its summary line).
    shadow_s: float | None = None


# The same suite on SQLite: without the guard, judged by SQLite, judged by PostgreSQL on a shadow
# database (--indexguard-plan-on; the server's URL is appended).
PLAN_ON_MODES = {
    "sqlite": "--no-indexguard",
    "sqlite, guard": "--indexguard",
    "sqlite, plan-on": "--indexguard-plan-on",
}


def command(mode: str, plan_on: str = "") -> list[str]:
    # sample_app/pytest.ini turns the guard on, so the run without it must say so.
    flag = MODES.get(mode) or PLAN_ON_MODES[mode]
    if mode == "sqlite, plan-on":
        flag = f"{flag}={plan_on}"
    return [sys.executable, "-m", "pytest", "sample_app", "-q", "-p", "no:cacheprovider", flag]


def run(mode: str, database_url: str) -> SuiteRun:
    """One run of the suite in ``mode``: on ``database_url`` for ``MODES``, on SQLite planned
    on ``database_url``'s server for ``PLAN_ON_MODES``."""
    on_sqlite = mode in PLAN_ON_MODES
    env = dict(os.environ, DATABASE_URL="sqlite://" if on_sqlite else database_url)
    started = time.perf_counter()
    # The whole URL: the guard plans on a shadow database of its server, whatever database the
    # URL names (cutting the name off would also cut an embedded server's ``?host=/socket/dir``).
    done = subprocess.run(
        command(mode, database_url), cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    output = done.stdout + done.stderr
    guard_on = "indexguard: on" in output
    planned = "planned on PostgreSQL (--indexguard-plan-on):" in output
    if done.returncode != 0 or guard_on != (mode not in ("without", "sqlite")):
        raise RuntimeError(
            f"the sample suite ({' '.join(command(mode))}) exited with {done.returncode}"
            f"{'' if guard_on == (mode == 'with') else ', guard state not as asked'}:\n{output}"
        )
    if planned != (mode == "sqlite, plan-on"):
        raise RuntimeError(f"the sample suite ({mode}) did not plan as asked:\n{output}")
    shadow = _SHADOW.search(output)
    found = _PASSED.search(output)
    if found is None:
        raise RuntimeError(f"no 'N passed in S s' line in the sample suite's output:\n{output}")
    return SuiteRun(
        mode,
        wall,
        float(found.group(2)),
        int(found.group(1)),
        float(shadow.group(1)) if shadow else None,
    )
