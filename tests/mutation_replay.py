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
per mutant took too long on two shared cores."""

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


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang("timeout")


def _fails(session, item, mutant):
    os.environ["MUTANT_UNDER_TEST"] = mutant
    try:
        reports = runtestprotocol(item, nextitem=None, log=False)
    finally:
        with contextlib.suppress(Exception):
            session._setupstate.teardown_exact(None)
    return any(r.failed for r in reports)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    items = session.items
    results = {}
    signal.signal(signal.SIGALRM, _alarm)
    start = time.time()
    for count, name in enumerate(NAMES):
        os.environ["MUTANT_UNDER_TEST"] = name
        verdict = "survived"
        failing = None
        signal.alarm(90)
        try:
            for i, item in enumerate(items):
                nextitem = items[i + 1] if i + 1 < len(items) else None
                reports = runtestprotocol(item, nextitem=nextitem, log=False)
                if any(r.failed for r in reports):
                    failing = item
                    break
        except Hang:
            verdict = "timeout"
        finally:
            signal.alarm(0)
            with contextlib.suppress(Exception):
                session._setupstate.teardown_exact(None)
        if failing is not None:
            signal.alarm(90)
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
