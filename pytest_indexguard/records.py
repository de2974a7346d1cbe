"""Violations of one test as plain data (``model.ViolationRecord``): attached to the test's
report, so that they reach the xdist controller with it, feed the JUnit property, the baseline
and the JSON and SARIF reports. Parameter values never appear: the SQL is normalised and the
plan's literals are masked."""

from __future__ import annotations

from pytest_indexguard.model import Occurrence, TestRun, ViolationRecord
from pytest_indexguard.report import or_sides
from pytest_indexguard.sqltext import mask_plan_expression

PLAN_EXCERPT_LINES = 30


def violation_records(run: TestRun) -> list[ViolationRecord]:
    """One record per distinct (statement, status, call site) of the test, with a count."""
    grouped: dict[tuple[str, str, str], ViolationRecord] = {}
    for occurrence in run.occurrences:
        site = str(occurrence.call_site) if occurrence.call_site else ""
        key = (occurrence.fingerprint, occurrence.status, site)
        record = grouped.get(key)
        if record is None:
            grouped[key] = record = _record(run.nodeid, occurrence)
        record["executions"] += occurrence.executions
    return [grouped[key] for key in sorted(grouped)]


def _record(test: str, occurrence: Occurrence) -> ViolationRecord:
    finding = occurrence.finding
    _, sql = occurrence.statement.identity(finding.table)
    suggestion = occurrence.suggestion
    site = occurrence.call_site
    built = occurrence.built_at
    decision = occurrence.decision
    return {
        "test": test,
        "fingerprint": occurrence.fingerprint,
        "alias": occurrence.statement.alias,
        "table": finding.table,
        "sql": sql,
        "node": finding.scan_label,
        "rule": finding.rule.value if finding.rule else None,
        "filter": mask_plan_expression(finding.filter) if finding.filter else None,
        "join_filter": mask_plan_expression(finding.join_filter) if finding.join_filter else None,
        "sort_key": list(finding.sort_key),
        "unservable": finding.unservable,
        "or_sides": (
            [list(columns) for columns in or_sides(finding)]
            if suggestion is None or suggestion.verified is False
            else []
        ),
        "judged_by": occurrence.statement.vendor,
        "judged_here": occurrence.statement.judged_here,
        "cursor": occurrence.statement.cursor,
        "status": occurrence.status,
        "allowed_by": decision.allowed_by,
        "marker": decision.mark.describe() if decision.mark else None,
        "expired_marker": decision.expired.describe() if decision.expired else None,
        "rows": occurrence.table_rows,
        "rows_source": occurrence.rows_source,
        "small": occurrence.small,
        "phase": occurrence.phase,
        "call_site": (
            {"path": site.path, "line": site.line, "function": site.function} if site else None
        ),
        "origin": occurrence.origin,
        "built_at": (
            {"path": built.path, "line": built.line, "function": built.function} if built else None
        ),
        "executions": 0,
        "suggestion": (
            {
                "model": suggestion.model,
                "fields": list(suggestion.fields),
                "columns": list(suggestion.columns),
                "index": suggestion.index_code(),
                "migration": suggestion.migration_code(),
                "verified": suggestion.verified,
                "note": suggestion.note,
                "kind": suggestion.kind,
            }
            if suggestion
            else None
        ),
        "plan": list(occurrence.statement.plan_lines[:PLAN_EXCERPT_LINES]),
    }
