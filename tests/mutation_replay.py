"""Replay mutmut's mutants against the collected tests in one process (a pytest plugin).

mutmut's trampolines read ``MUTANT_UNDER_TEST`` at each call, so each mutant is switched on in
turn and the tests run until one fails, with an alarm for a mutant that hangs ("timeout"). A
failure counts as a kill only when that test, run again alone, passes without the mutant and
fails with it ("unconfirmed" otherwise). From ``mutants/`` (after ``mutmut run``)::

    cp ../tests/mutation_replay.py . && HARNESS_NAMES=names.txt HARNESS_OUT=out.json \
        DATABASE_URL=sqlite:// PYTHONPATH=. python -m pytest -n 0 -p no:cacheprovider \
        -p no:unraisableexception -p mutation_replay -q --tb=native \
        tests/test_mutation_kills_readers.py

``names.txt`` lists mutant names (``mutmut results``), one a line; ``out.json`` gets each one's
verdict. Used for the survivors of the third pass (docs/contributing.md), where a run of mutmut
per mutant took too long on two shared cores.

With ``HARNESS_STATS=mutmut-stats.json`` (written by ``mutmut run`` before its first mutant), each
mutant runs only the tests that reach its function, as mutmut itself does, and a mutant no test
reaches is "no tests" (not killed). The tests run module by module, every mutant still standing
against each module in turn, so that a module's fixtures (a scratch database on MariaDB) are set
up once; a failure counts when the test then passes without the mutant and fails with it again,
and one that fails without it too ("unconfirmed": state left behind) does not stop the others.
Run with ``--tb=native``: pytest's default traceback parses the mutated modules, seconds a
failure. The fourth pass measured ``explain/mysql.py`` this way.

The modules run in the order of the command line: the fast tests that kill most mutants first
spare the slower ones the work. ``HARNESS_ALARM`` (seconds, 60 by default) bounds a mutant's run
over one module; a mutant of a parser loop that never ends costs that much each."""

import contextlib
import json
import os
import signal
import time

import pytest
from _pytest.runner import runtestprotocol

with open(os.environ["HARNESS_NAMES"], encoding="utf-8") as _names:
    NAMES = [n for n in _names.read().split() if n]
OUT = os.environ["HARNESS_OUT"]
STATS = os.environ.get("HARNESS_STATS")
# Seconds a mutant may take over one module's tests before it counts as a hang ("timeout").
ALARM = int(os.environ.get("HARNESS_ALARM", "60"))


class _Chain:
    """A stand-in next item: the nodes whose fixtures are kept when a test is torn down."""

    def __init__(self, chain: list) -> None:
        self._chain = chain

    def listchain(self) -> list:
        return self._chain


def _run(session, item):
    """One test, its module's and wider fixtures kept for the next (torn down when it needs
    other ones)."""
    session._setupstate.teardown_exact(item)
    reports = runtestprotocol(item, nextitem=_Chain(item.listchain()[:-1]), log=False)
    return any(r.failed for r in reports)


def _fresh(session):
    with contextlib.suppress(Exception):
        session._setupstate.teardown_exact(_Chain([session]))


class Hang(KeyboardInterrupt):
    """Raised by the alarm. pytest lets a KeyboardInterrupt out of a test (any other exception
    is the test's failure, and the confirming runs would then hang with no alarm left)."""


def _alarm(signum, frame):
    raise Hang("timeout")


def _selection(items):
    """Each function's tests (``HARNESS_STATS``), or every item for all."""
    if not STATS:
        return lambda name: items
    with open(STATS, encoding="utf-8") as f:
        stats = json.load(f)
    by_id = {item.nodeid: item for item in items}
    tests = stats["tests_by_mangled_function_name"]

    position = {item.nodeid: i for i, item in enumerate(items)}

    def select(name):
        # In collection order, so that a module's fixtures serve its tests in one go.
        function = name.rsplit("__mutmut_", 1)[0]
        ids = [i for i in tests.get(function, ()) if i in by_id]
        return [by_id[i] for i in sorted(ids, key=position.__getitem__)]

    return select


def _save(results):
    with open(OUT, "w") as f:
        json.dump(results, f)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """Module by module, every mutant still standing against that module's tests: the
    module's fixtures are set up once for all mutants."""
    items = session.items
    select = _selection(items)
    chosen = {name: select(name) for name in NAMES}
    results = {name: "survived" if chosen[name] else "no tests" for name in NAMES}
    modules = list(dict.fromkeys(item.module.__name__ for item in items))
    signal.signal(signal.SIGALRM, _alarm)
    start = time.time()
    for number, module in enumerate(modules):
        for name in NAMES:
            if results[name] in ("killed", "timeout"):
                continue
            mine = [item for item in chosen[name] if item.module.__name__ == module]
            signal.alarm(ALARM)
            try:
                for item in mine:
                    os.environ["MUTANT_UNDER_TEST"] = name
                    if not _run(session, item):
                        continue
                    # A failure counts when the test passes without the mutant and fails with
                    # it again; otherwise (a test that leaves state behind) the others go on.
                    os.environ["MUTANT_UNDER_TEST"] = ""
                    if _run(session, item):
                        results[name] = "unconfirmed " + item.nodeid
                        continue
                    os.environ["MUTANT_UNDER_TEST"] = name
                    if _run(session, item):
                        results[name] = "killed"
                        break
                    results[name] = "unconfirmed " + item.nodeid
            except Hang:
                results[name] = "timeout"
                _fresh(session)
            finally:
                signal.alarm(0)
                os.environ["MUTANT_UNDER_TEST"] = ""
        _fresh(session)
        _save(results)
        print(f"{module} ({number + 1}/{len(modules)}) {time.time() - start:.0f}s", flush=True)
    _save(results)
    return True
