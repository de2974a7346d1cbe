"""SARIF 2.1.0 output, for code-scanning tools: one result per violation and call site.

New violations are errors; known ones (in the baseline) are notes with ``baselineState``
"unchanged"; allowed ones carry an in-source suppression with the marker as justification.
Statements below the row threshold, of test code (unless checked) and of migrations are left
out: they are not findings about the code that runs in production.

Each result carries the suggested index, its migration and whether planning the statement with
it removed the scan (``properties.suggestion``), as the JSON report does. No SARIF ``fixes``
entry: a fix must replace a region of a file, and the suggestion names a model and a migration
operation, not a place in the model's source where the index would go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_indexguard import __version__
from pytest_indexguard.model import Rule, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/pytest-indexguard/"
ROOT = "SRCROOT"

RULES = {
    Rule.FILTER.value: (
        "IG001",
        "full-scan-filter",
        "A statement filters a table with a predicate no index serves.",
    ),
    Rule.JOIN.value: (
        "IG002",
        "full-scan-join",
        "A join reads a table in full because its join key has no index.",
    ),
    Rule.SORT_LIMIT.value: (
        "IG003",
        "full-scan-sort-limit",
        "ORDER BY ... LIMIT sorts a whole table because no index has that order.",
    ),
    Rule.UNSERVABLE.value: (
        "IG004",
        "full-scan-unservable",
        "A statement reads a table in full for a predicate no index can serve as written.",
    ),
    Rule.SORT_RANGE.value: (
        "IG005",
        "sort-of-a-large-range",
        "ORDER BY ... LIMIT sorts every row of a key that production has many rows of.",
    ),
}
_LEVEL = {
    Status.NEW: "error",
    Status.KNOWN: "note",
    Status.ALLOWED: "note",
    Status.WARNED: "warning",
}
_BASELINE_STATE = {Status.NEW: "new", Status.KNOWN: "unchanged"}


def sarif(groups: list[dict[str, Any]], rootdir: Path) -> dict[str, Any]:
    rule_ids = sorted(RULES.values())
    results = []
    for group in groups:
        status = group["status"]
        if status not in _LEVEL:
            continue  # below min-rows, test code, migrate time: not a finding for production
        rule_id = RULES.get(group["rule"] or "", RULES[Rule.FILTER.value])[0]
        sites = group["call_sites"] or [_test_location(test) for test in group["tests"][:1]]
        for site in sites:
            result: dict[str, Any] = {
                "ruleId": rule_id,
                "ruleIndex": [r[0] for r in rule_ids].index(rule_id),
                "level": _LEVEL[status],
                "message": {"text": _message(group)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": site["path"], "uriBaseId": ROOT},
                            "region": {"startLine": max(int(site["line"]), 1)},
                        }
                    }
                ],
                "partialFingerprints": {"indexguard/v1": group["fingerprint"]},
                "properties": {
                    "table": group["table"],
                    "alias": group["alias"],
                    "status": status,
                    "tests": group["tests"],
                },
            }
            suggestion = group["suggestion"]
            if suggestion:
                result["properties"]["suggestion"] = {
                    "index": suggestion["index"],
                    "migration": suggestion["migration"],
                    "verified": suggestion["verified"],
                    "note": suggestion["note"],
                }
            built = site.get("built_at")
            if built:
                # The application line that built the lazy QuerySet the site evaluated.
                text = f"QuerySet built at {built['path']}:{built['line']} in {built['function']}"
                result["message"]["text"] += f" Issued at {site['path']}:{site['line']}; {text}."
                result["relatedLocations"] = [
                    {
                        "id": 1,
                        "physicalLocation": {
                            "artifactLocation": {"uri": built["path"], "uriBaseId": ROOT},
                            "region": {"startLine": max(int(built["line"]), 1)},
                        },
                        "message": {"text": text},
                    }
                ]
            if status in _BASELINE_STATE:
                result["baselineState"] = _BASELINE_STATE[status]
            if status == Status.ALLOWED:
                result["suppressions"] = [
                    {"kind": "inSource", "justification": "; ".join(group["markers"]) or "allowed"}
                ]
            results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pytest-indexguard",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": rule_id,
                                "name": name,
                                "shortDescription": {"text": text},
                                "defaultConfiguration": {"level": "error"},
                            }
                            for rule_id, name, text in rule_ids
                        ],
                    }
                },
                "originalUriBaseIds": {ROOT: {"uri": rootdir.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }


def _message(group: dict[str, Any]) -> str:
    parts = [f"{group['node']} on {group['table']} needs a full scan"]
    if group["filter"]:
        parts.append(f"filter {group['filter']}")
    if group["sort_key"]:
        parts.append(f"order {', '.join(group['sort_key'])} under a LIMIT")
    text = "; ".join(parts) + f". SQL: {group['sql']}"
    suggestion = group["suggestion"]
    if suggestion and suggestion["verified"] is not False:
        text += f" Suggested index: {suggestion['index']}"
        if suggestion["verified"]:
            how = suggestion.get("note") or "planned with it, the full scan is gone"
            text += f" (verified: {how})."
        else:
            text += "."
    return text


def _test_location(nodeid: str) -> dict[str, Any]:
    return {"path": nodeid.split("::", 1)[0], "line": 1, "function": ""}
