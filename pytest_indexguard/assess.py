"""One statement's verdict on the database: the forced plan's findings, settled against the
schema's indexes and production's shape.

The route of a statement through the guard: ``capture.Capture`` (the execute wrapper) hands it
to ``guard.Guard.observe``, which looks it up in the plan cache; a new statement is explained
once (``explain/postgresql.py``, one protected round trip) and assessed here: ``plan.analyze``
lists the full scans and sorted ranges, ``judge.probes`` says which existing indexes to ask
about, the database answers them in one more round trip (and plans the statement once more with
sorts off when a sorted range needs it), and ``judge.settle`` keeps what production would
really do. The guard then records the verdict against the running test (``policy``), and
``report`` words it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_indexguard import judge
from pytest_indexguard.plan import ScanFinding, analyze
from pytest_indexguard.schema import Schema


@dataclass
class Assessment:
    findings: list[ScanFinding]
    round_trips: int = 0
    # What went wrong on the way (the verdict then rests on what was known): for the summary.
    errors: list[BaseException] = field(default_factory=list)


def assess(
    raw: Any,
    text: str,
    plan: Any,
    schema: Schema,
    *,
    watched: Callable[[str], bool] | None = None,
    production: judge.Production | None = None,
    few_values: Callable[[str, str], bool] | None = None,
) -> Assessment:
    """The verdict on ``text`` (parameters bound), whose forced plan is ``plan``, on the psycopg
    connection ``raw``."""
    from pytest_indexguard.explain import postgresql

    result = Assessment(findings=[])
    findings = analyze(
        plan, watched, leading=schema.leading_of, sorted_ranges=production is not None
    )
    questions = judge.probes(findings, schema)
    unsorted = None
    if any(f.sorted_range for f in findings):
        try:
            again = postgresql.explain(raw, text, forced=True, extra=postgresql.NO_SORT)
            unsorted = again.plan
            result.round_trips += again.round_trips
        except Exception as exc:  # judge the range on the first plan alone
            result.errors.append(exc)
    answers: list[Any] = [None] * len(questions)
    if questions:
        try:
            answers = postgresql.explain_many(raw, [q.sql for q in questions])
        except Exception as exc:  # keep the findings as the forced plan shows them
            result.errors.append(exc)
        result.round_trips += 1
    result.findings = judge.settle(
        findings,
        schema,
        plan,
        dict(zip(questions, answers, strict=True)),
        production,
        unsorted=unsorted,
        few_values=few_values,
    )
    return result
