"""No parameter value in any output, on any database: the failure text (with -v, plans
included), the summary and its "not explained" lines, the JSON report, SARIF, the JUnit
properties, the GitHub step summary and the baseline, on PostgreSQL, SQLite and MySQL/MariaDB.
Every parameter below carries a sentinel; none may appear. The same runs check that an IN list
of thousands of values is folded, and that a substring search gets its own database's advice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DjangoProject, reachable_mysql

SENTINEL = "zqsentinel"
NUMBER = "987654"  # every number parameter starts with it

CASES = """
import pytest
from django.db import connection, transaction
from shop.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_text():
    assert list(Customer.objects.filter(city="zqsentinel-city")) == []


def test_number():
    assert list(Customer.objects.filter(visits=987654321)) == []


def test_long_in_list():
    ids = [987654000 + n for n in range(5000)]
    assert list(Customer.objects.filter(visits__in=ids)) == []


def test_substring_search():
    assert list(Customer.objects.filter(city__icontains="zqsentinel-part")) == []


def test_raw_statements_the_database_refuses():
    with connection.cursor() as cursor:
        # A syntax error after the bound value: MySQL quotes the statement from there on.
        with pytest.raises(Exception), transaction.atomic():
            cursor.execute(
                "SELECT id FROM shop_customer WHERE AND city = %s", ["zqsentinel-raw"]
            )
        # A value of the wrong type: PostgreSQL quotes the value (SQLite and MariaDB take it).
        try:
            with transaction.atomic():
                cursor.execute(
                    "SELECT id FROM shop_order WHERE status = %s AND id = CAST(%s AS integer)",
                    ["zqsentinel-status", "zqsentinel-int"],
                )
        except Exception:
            pass
"""

SEARCH_ADVICE = {
    "postgresql": "pg_trgm",
    "sqlite": "SQLite has no index for a substring match",
    "mysql": "a FULLTEXT index",
}


@pytest.fixture(params=sorted(SEARCH_ADVICE))
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "sqlite":
        monkeypatch.setenv("DATABASE_URL", "sqlite://")
    elif request.param == "mysql":
        monkeypatch.setenv("DATABASE_URL", reachable_mysql())
    return str(request.param)


def test_no_parameter_value_in_any_output(
    database: str,
    django_project: DjangoProject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    django_project.write_tests(CASES)
    outputs = {
        "report": tmp_path / "report.json",
        "sarif": tmp_path / "report.sarif",
        "junit": tmp_path / "junit.xml",
        "step summary": tmp_path / "step.md",
        "baseline": tmp_path / "baseline.json",
    }
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(outputs["step summary"]))
    run = django_project.run(
        "--indexguard",
        "-v",
        f"--indexguard-report={outputs['report']}",
        f"--indexguard-sarif={outputs['sarif']}",
        f"--junitxml={outputs['junit']}",
    )
    outcomes = run.outcomes()
    for test in ("test_text", "test_number", "test_long_in_list", "test_substring_search"):
        assert outcomes[test] == "failed", run.output
    assert outcomes["test_raw_statements_the_database_refuses"] == "passed", run.output
    recorded = django_project.run(
        "--indexguard",
        f"--indexguard-baseline={outputs['baseline']}",
        "--indexguard-update-baseline",
    )
    texts = {
        "terminal": run.output,
        "terminal, recording the baseline": recorded.output,
        **{name: path.read_text() for name, path in outputs.items()},
    }
    for name, text in texts.items():
        assert SENTINEL not in text, f"{name}: {text}"
        assert NUMBER not in text, f"{name}: {text}"

    # The statements the database refused are listed, with its reasons, values masked.
    lines = run.result.outlines
    start = next(i for i, line in enumerate(lines) if line.startswith("not explained: "))
    refused = [line for line in lines[start + 1 :] if line.startswith("  ")]
    assert any("shop_customer" in line for line in refused), run.output
    if database == "postgresql":
        assert any("shop_order" in line for line in refused), run.output

    # Five thousand values are one "(...)", in the failure and in the report.
    long_list = run.section("test_long_in_list")
    [filter_line] = [line for line in long_list.splitlines() if line.startswith("    filter:")]
    assert filter_line.count("?") <= 2, filter_line
    assert len(filter_line) < 200, filter_line
    if database != "postgresql":  # PostgreSQL holds the list in one array parameter
        assert "ANY (...)" in filter_line, filter_line
    report = json.loads(outputs["report"].read_text())
    assert all(len(v["filter"] or "") < 200 for v in report["violations"]), report

    # The substring search gets its own database's advice, never another's.
    search = run.section("test_substring_search")
    assert SEARCH_ADVICE[database] in search, search
    if database != "postgresql":
        assert "pg_trgm" not in search, search
        assert "TrigramExtension" not in search, search
