"""Replay mutmut's mutants against the collected tests in one process (a pytest plugin).

mutmut's trampolines read ``MUTANT_UNDER_TEST`` at each call, so each mutant is switched on in
turn and the tests run until one fails, with an alarm for a mutant that hangs ("timeout"). A
failure counts as a kill only when that test, run again alone, passes without the mutant and
fails with it ("unconfirmed" otherwise). From ``mutants/`` (after ``mutmut run``)::

    cp ../tests/mutation_replay.py . && HARNESS_NAMES=names.txt HARNESS_OUT=out.json \
        DATABASE_URL=sqlite:// PYTHONPATH=. python -m pytest -n 0 -p no:cacheprovider \
        -p no:unraisableexception -p mutation_replay -q tests/test_mutation_kills_readers.py

``names.txt`` lists mutant names (``mutmut results``), one a line; ``out.json`` gets each one's
verdict. Used for the survivors of the third pass (docs/contributing.md), where a run of mutmut
per mutant took too long on two shared cores.

With ``HARNESS_STATS=mutmut-stats.json`` (written by ``mutmut run`` before its first mutant), each
mutant runs only the tests that reach its function, fastest first, as mutmut itself does, and a
mutant no test reaches is "no tests" (not killed). Fixtures wider than a module are kept from
one mutant to the next (the fourth pass ran every mutant of the five files this way)."""

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


class _SessionOnly:
    """A stand-in next item that keeps the session's fixtures and tears the rest down."""

    def __init__(self, session: pytest.Session) -> None:
        self._chain = [session]

    def listchain(self) -> list[pytest.Session]:
        return self._chain


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang("timeout")


def _fails(session, item, mutant):
    os.environ["MUTANT_UNDER_TEST"] = mutant
    try:
        reports = runtestprotocol(item, nextitem=_SessionOnly(session), log=False)
    finally:
        with contextlib.suppress(Exception):
            session._setupstate.teardown_exact(_SessionOnly(session))
    return any(r.failed for r in reports)


def _selection(items):
    """Each function's tests, fastest first (``HARNESS_STATS``), or every item for all."""
    if not STATS:
        return lambda name: items
    with open(STATS, encoding="utf-8") as f:
        stats = json.load(f)
    by_id = {item.nodeid: item for item in items}
    duration = stats["duration_by_test"]
    tests = stats["tests_by_mangled_function_name"]

    def select(name):
        function = name.rsplit("__mutmut_", 1)[0]
        ids = [i for i in tests.get(function, ()) if i in by_id]
        return [by_id[i] for i in sorted(ids, key=lambda i: duration.get(i, 0.0))]

    return select


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    items = session.items
    select = _selection(items)
    results = {}
    signal.signal(signal.SIGALRM, _alarm)
    start = time.time()
    for count, name in enumerate(NAMES):
        os.environ["MUTANT_UNDER_TEST"] = name
        verdict = "survived"
        failing = None
        chosen = select(name)
        if not chosen:
            results[name] = "no tests"
            continue
        signal.alarm(60)
        try:
            for i, item in enumerate(chosen):
                last = i + 1 == len(chosen)
                nextitem = _SessionOnly(session) if last else chosen[i + 1]
                reports = runtestprotocol(item, nextitem=nextitem, log=False)
                if any(r.failed for r in reports):
                    failing = item
                    break
        except Hang:
            verdict = "timeout"
        finally:
            signal.alarm(0)
            with contextlib.suppress(Exception):
                session._setupstate.teardown_exact(_SessionOnly(session))
        if failing is not None:
            signal.alarm(60)
            try:
                if _fails(session, failing, ""):
                    verdict = "unconfirmed " + failing.nodeid
                elif _fails(session, failing, name):
                    verdict = "killed"
                else:
                    verdict = "unconfirmed " + failing.nodeid
            except Hang:
                verdict = "timeout"
            finally:
                signal.alarm(0)
        results[name] = verdict
        if count % 10 == 0:
            with open(OUT, "w") as f:
                json.dump(results, f)
            print(f"{count}/{len(NAMES)} {time.time() - start:.0f}s", flush=True)
    os.environ["MUTANT_UNDER_TEST"] = ""
    with open(OUT, "w") as f:
        json.dump(results, f)
    return True
