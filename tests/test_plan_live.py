"""Every plan scenario, planned by the live server of this test session.

The pure tests in test_plan.py trust the plans stored under tests/plans/; this proves they are not
stale: the server the suite runs against (``DATABASE_URL``) must plan each scenario so that
analyze() gives the same findings. One connection for the module, each scenario in its own
rolled-back transaction and schema, so the whole module takes well under a second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from plans.capture_plans import explain, server_major
from plans.scenarios import SCENARIOS, Scenario
from pytest_indexguard.plan import analyze


@pytest.fixture(scope="module")
def live_postgres() -> Iterator[tuple[psycopg.Connection[Any], int]]:
    # Read at run time: the sample project's settings export DATABASE_URL when they start the
    # embedded server, which may happen after this module is imported.
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        pytest.skip("DATABASE_URL is not set: no live PostgreSQL to check the stored plans against")
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn, server_major(conn)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_live_plan_gives_the_expected_findings(
    live_postgres: tuple[psycopg.Connection[Any], int],
    scenario: Scenario,
    request: pytest.FixtureRequest,
) -> None:
    conn, major = live_postgres
    gap = scenario.known_gaps.get(major)
    if gap:
        request.applymarker(pytest.mark.xfail(reason=gap, strict=True))
    # A schema of our own: parallel workers running this module must not queue on one name.
    plan = explain(conn, scenario, schema=f"indexguard_plans_{os.getpid()}")
    findings = [(f.table, f.node_type, f.rule) for f in analyze(plan)]
    assert findings == [tuple(e) for e in scenario.expected_for(major)]
