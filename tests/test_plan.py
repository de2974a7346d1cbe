"""Plan analysis on EXPLAIN output captured from PostgreSQL 15 and 18 (``tests/plans/``).

No database here: the plans were captured by ``tests/plans/capture_plans.py`` and
``test_plan_live.py`` checks that live servers still plan the scenarios that way. Where analyze()
misses what the design asks for, the scenario names the gap and the test is a strict xfail, so the
day it is fixed the suite says so.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from plans.capture_plans import dumps
from plans.scenarios import SCENARIOS, SCENARIOS_BY_NAME, Scenario
from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.plan import analyze, is_disabled, relations, root_plan
from pytest_indexguard.report import RULES

PLANS_DIR = Path(__file__).parent / "plans"
# Every scenario must have a plan from each of these server versions.
MAJORS = (15, 18)
STORED_FILES = sorted(PLANS_DIR.glob("pg*/*.json"))


def major_of(path: Path) -> int:
    return int(path.parent.name.removeprefix("pg"))


def file_id(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}"


def load(major: int, name: str) -> dict[str, Any]:
    path = PLANS_DIR / f"pg{major}" / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def plan_of(major: int, name: str) -> Any:
    return load(major, name)["plan"]


def summary(findings: list[ScanFinding]) -> list[tuple[str, str, Rule | None]]:
    return [(f.table, f.node_type, f.rule) for f in findings]


def walk(
    node: Mapping[str, Any], parents: tuple[Mapping[str, Any], ...] = ()
) -> Iterator[tuple[Mapping[str, Any], tuple[Mapping[str, Any], ...]]]:
    yield node, parents
    for child in node.get("Plans", ()):
        yield from walk(child, (*parents, node))


def node_where(
    plan: Any, predicate: Callable[[Mapping[str, Any]], bool]
) -> tuple[Mapping[str, Any], tuple[Mapping[str, Any], ...]]:
    """The first node (and its ancestors, root first) that ``predicate`` accepts."""
    for node, parents in walk(root_plan(plan)):
        if predicate(node):
            return node, parents
    raise AssertionError("no such node in the plan")


def scan_of(table: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda node: node.get("Relation Name") == table and "Scan" in node["Node Type"]


def gap_marks(scenario: Scenario, major: int) -> list[pytest.MarkDecorator]:
    gap = scenario.known_gaps.get(major)
    return [pytest.mark.xfail(reason=gap, strict=True)] if gap else []


def only_finding(major: int, name: str) -> ScanFinding:
    findings = analyze(plan_of(major, name))
    assert len(findings) == 1, findings
    return findings[0]


per_major = pytest.mark.parametrize("major", MAJORS, ids=[f"pg{m}" for m in MAJORS])


# --- The stored data is complete and current ---------------------------------------------------


@per_major
def test_every_scenario_has_a_stored_plan(major: int) -> None:
    missing = [
        s.name for s in SCENARIOS if not (PLANS_DIR / f"pg{major}" / f"{s.name}.json").exists()
    ]
    assert not missing, f"capture them: python -m tests.plans.capture_plans ({missing})"


def test_every_stored_plan_belongs_to_a_scenario() -> None:
    orphans = [file_id(path) for path in STORED_FILES if path.stem not in SCENARIOS_BY_NAME]
    assert not orphans


def test_scenario_names_are_unique() -> None:
    assert len(SCENARIOS_BY_NAME) == len(SCENARIOS)


@pytest.mark.parametrize("path", STORED_FILES, ids=file_id)
def test_stored_plan_was_captured_from_the_current_scenario(path: Path) -> None:
    """A scenario edited without recapturing would test a stale plan against new expectations."""
    text = path.read_text(encoding="utf-8")
    record = json.loads(text)
    scenario = SCENARIOS_BY_NAME[path.stem]
    assert record["scenario"] == scenario.name
    assert record["query"] == scenario.query
    assert record["setup"] == list(scenario.setup)
    assert record["mode"] == scenario.mode
    assert record["settings"] == scenario.settings
    assert int(record["server_version"].split(".")[0]) == major_of(path)
    # Written exactly as the capture script writes it, so a rerun gives an empty diff.
    assert text == dumps(record)


# --- Every stored plan gives its scenario's findings ---------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
            id=file_id(path),
            marks=gap_marks(SCENARIOS_BY_NAME[path.stem], major_of(path))
            if path.stem in SCENARIOS_BY_NAME
            else [],
        )
        for path in STORED_FILES
    ],
)
def test_stored_plan_gives_the_expected_findings(path: Path) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    scenario = SCENARIOS_BY_NAME[record["scenario"]]
    expected = [tuple(e) for e in scenario.expected_for(major_of(path))]
    assert summary(analyze(record["plan"])) == expected


# --- Rule 1: Filter ----------------------------------------------------------------------------


@per_major
def test_filter_rule_reports_the_predicate(major: int) -> None:
    finding = only_finding(major, "seq_scan_filter")
    assert finding.rule is Rule.FILTER
    assert finding.is_violation
    assert finding.filter == "((status)::text = 'failed'::text)"
    assert finding.alias == "upstream_webhookdelivery"
    assert (finding.index_name, finding.join_filter, finding.sort_key) == (None, None, ())
    assert finding.disabled


@per_major
@pytest.mark.parametrize("name", ["full_index_scan_filter", "full_index_scan_filter_first"])
def test_index_scan_without_index_cond_is_a_full_scan(major: int, name: str) -> None:
    node, _ = node_where(plan_of(major, name), scan_of("upstream_customer"))
    assert "Index Cond" not in node
    finding = only_finding(major, name)
    assert finding.rule is Rule.FILTER
    assert finding.filter == "((name)::text = 'Globex'::text)"
    assert finding.scan_label == "Index Scan using upstream_customer_pkey"
    # Walking the pkey is not a disabled path: only the Seq Scan was switched off.
    assert not finding.disabled


@per_major
def test_index_cond_is_what_makes_a_scan_not_full(major: int) -> None:
    plan = plan_of(major, "pk_lookup")
    assert analyze(plan) == []
    node, _ = node_where(plan, scan_of("upstream_customer"))
    del node["Index Cond"]  # type: ignore[attr-defined]
    assert summary(analyze(plan)) == [("upstream_customer", "Index Scan", None)]


@per_major
def test_filter_wins_over_sort_limit_but_keeps_the_sort_key(major: int) -> None:
    finding = only_finding(major, "retry_queue_missing_index")
    assert finding.rule is Rule.FILTER
    assert finding.sort_key == ("next_attempt_at",)


@per_major
def test_parallel_seq_scan_is_a_full_scan(major: int) -> None:
    plan = plan_of(major, "parallel_seq_scan_filter")
    _, parents = node_where(plan, scan_of("upstream_webhookdelivery"))
    assert parents[-1]["Node Type"] == "Gather"
    finding = only_finding(major, "parallel_seq_scan_filter")
    assert (finding.node_type, finding.parallel, finding.rule) == ("Seq Scan", True, Rule.FILTER)
    assert finding.scan_label == "Parallel Seq Scan"


@per_major
def test_planner_mode_flags_what_forced_mode_clears(major: int) -> None:
    """The same query and indexes: the natural plan of a tiny analyzed table is a false alarm."""
    planner = load(major, "planner_mode_analyzed_tiny_table")
    forced = load(major, "retry_queue_with_index")
    assert planner["query"] == forced["query"]
    assert summary(analyze(planner["plan"])) == [
        ("upstream_webhookdelivery", "Seq Scan", Rule.FILTER)
    ]
    assert analyze(forced["plan"]) == []


# --- Rule 2: inner side of a Nested Loop ---------------------------------------------------


@pytest.mark.parametrize(
    ("major", "name", "between"),
    [
        (18, "nested_loop_unindexed_join", ()),
        (15, "nested_loop_unindexed_join_materialize", ("Materialize",)),
        (15, "nested_loop_unindexed_join_no_material", ()),
        (18, "nested_loop_unindexed_join_no_material", ()),
    ],
    ids=[
        "pg18-inner",
        "pg15-inner-through-materialize",
        "pg15-inner-no-material",
        "pg18-inner-no-material",
    ],
)
def test_join_rule_on_the_inner_side(major: int, name: str, between: tuple[str, ...]) -> None:
    plan = plan_of(major, name)
    scan, parents = node_where(plan, scan_of("upstream_webhookdelivery"))
    loop = parents[-1 - len(between)]
    assert [p["Node Type"] for p in parents[len(parents) - len(between) :]] == list(between)
    assert loop["Node Type"] == "Nested Loop"
    assert "Filter" not in scan
    finding = only_finding(major, name)
    assert finding.rule is Rule.JOIN
    assert finding.join_filter == loop["Join Filter"]
    assert finding.disabled


def _with_inner_wrapped(node_type: str) -> Any:
    """The PostgreSQL 18 unindexed join with ``node_type`` put between the loop and its inner
    Seq Scan: Memoize and Sort never sit there in a captured plan of ours, the rule must still
    see through the one and not the other."""
    plan = copy.deepcopy(plan_of(18, "nested_loop_unindexed_join_no_material"))
    loop = root_plan(plan)
    assert loop["Node Type"] == "Nested Loop"
    inner = next(i for i, c in enumerate(loop["Plans"]) if c["Parent Relationship"] == "Inner")
    scan = dict(loop["Plans"][inner], **{"Parent Relationship": "Outer"})
    loop["Plans"][inner] = {  # type: ignore[index]
        "Node Type": node_type,
        "Parent Relationship": "Inner",
        "Plans": [scan],
    }
    return plan


def test_join_rule_sees_through_memoize() -> None:
    assert summary(analyze(_with_inner_wrapped("Memoize"))) == [
        ("upstream_webhookdelivery", "Seq Scan", Rule.JOIN)
    ]


def test_join_rule_stops_at_other_nodes() -> None:
    assert summary(analyze(_with_inner_wrapped("Sort"))) == [
        ("upstream_webhookdelivery", "Seq Scan", None)
    ]


@per_major
def test_indexed_join_key_is_probed_not_scanned(major: int) -> None:
    plan = plan_of(major, "nested_loop_indexed_join")
    node, _ = node_where(plan, scan_of("upstream_webhookdelivery"))
    assert "endpoint_id" in node["Index Cond"]
    assert analyze(plan) == []


# --- Rule 3: Sort under a Limit ------------------------------------------------------------


@per_major
def test_sort_under_limit_reports_the_sort_key(major: int) -> None:
    finding = only_finding(major, "sort_limit_unindexed")
    assert finding.rule is Rule.SORT_LIMIT
    assert finding.sort_key == ("created_at DESC",)
    assert finding.filter is None


@per_major
def test_sort_without_limit_is_information(major: int) -> None:
    _, parents = node_where(
        plan_of(major, "order_by_unfiltered"), scan_of("upstream_webhookdelivery")
    )
    assert [p["Node Type"] for p in parents] == ["Sort"]
    finding = only_finding(major, "order_by_unfiltered")
    assert finding.rule is None
    assert finding.sort_key == ()


# --- Not violations ------------------------------------------------------------------------


@per_major
@pytest.mark.parametrize(
    "name",
    [
        "limit_unfiltered",
        "exists_unfiltered",
        "first_unordered",
        "sort_limit_indexed",
        "aggregate_group_by",
        "order_by_unfiltered",
    ],
)
def test_unrestricted_reads_are_information_only(major: int, name: str) -> None:
    findings = analyze(plan_of(major, name))
    assert findings
    assert not any(f.is_violation for f in findings)
    assert all(f.rule is None and f.filter is None for f in findings)


@per_major
def test_writes_by_key_and_inserts_find_nothing_although_they_name_the_table(major: int) -> None:
    for name in ("delete_pk", "update_pk", "insert_values", "insert_unnest"):
        plan = plan_of(major, name)
        assert root_plan(plan)["Node Type"] == "ModifyTable"
        assert analyze(plan) == []
        assert relations(plan) >= {root_plan(plan)["Relation Name"]}


# --- Disabled nodes ------------------------------------------------------------------------


def test_is_disabled_reads_the_pg18_key() -> None:
    plan = plan_of(18, "limit_unfiltered")
    scan, parents = node_where(plan, scan_of("upstream_customer"))
    assert scan["Disabled"] is True
    assert is_disabled(scan)
    assert parents[-1]["Disabled"] is False
    assert not is_disabled(parents[-1])


def test_is_disabled_trusts_the_key_over_the_cost() -> None:
    node = dict(root_plan(plan_of(15, "limit_unfiltered"))["Plans"][0])
    assert node["Startup Cost"] >= 1e10
    assert is_disabled(node)
    assert not is_disabled({**node, "Disabled": False})


def test_is_disabled_uses_the_pg15_leaf_cost() -> None:
    plan = plan_of(15, "limit_unfiltered")
    scan, parents = node_where(plan, scan_of("upstream_customer"))
    assert "Disabled" not in scan
    assert scan["Startup Cost"] >= 1e10
    assert is_disabled(scan)
    # The Limit inherits the cost but is not the disabled node.
    assert parents[-1]["Startup Cost"] >= 1e10
    assert not is_disabled(parents[-1])
    pk_scan, _ = node_where(plan_of(15, "pk_lookup"), scan_of("upstream_customer"))
    assert not is_disabled(pk_scan)


@pytest.mark.parametrize("major", [15, 18], ids=["pg15", "pg18"])
def test_is_disabled_is_not_fooled_by_an_initplan_cost(major: int) -> None:
    node, _ = node_where(plan_of(major, "initplan_gated_pk_lookup"), scan_of("upstream_customer"))
    assert "Index Cond" in node
    assert not is_disabled(node)


# --- watched, relations, root_plan, malformed input ----------------------------------------


@per_major
def test_findings_come_in_plan_order(major: int) -> None:
    assert [f.table for f in analyze(plan_of(major, "two_tables_filtered"))] == [
        "upstream_integrationlog",
        "upstream_customer",
    ]


@per_major
@pytest.mark.parametrize(
    ("watched", "tables"),
    [
        (None, ["upstream_integrationlog", "upstream_customer"]),
        ({"upstream_customer"}.__contains__, ["upstream_customer"]),
        ({"upstream_integrationlog"}.__contains__, ["upstream_integrationlog"]),
        (lambda table: False, []),
    ],
    ids=["all", "customer", "log", "none"],
)
def test_watched_limits_findings_to_watched_tables(
    major: int, watched: Callable[[str], bool] | None, tables: list[str]
) -> None:
    findings = analyze(plan_of(major, "two_tables_filtered"), watched=watched)
    assert [f.table for f in findings] == tables


@per_major
def test_relations_lists_every_table_read_not_only_full_scans(major: int) -> None:
    plan = plan_of(major, "nested_loop_unindexed_join_materialize")
    assert relations(plan) == {
        "upstream_customer",
        "upstream_webhookendpoint",
        "upstream_webhookdelivery",
    }
    assert relations(plan_of(major, "count_unfiltered")) == {"upstream_customer"}


def test_root_plan_accepts_the_list_or_its_single_object() -> None:
    output = plan_of(15, "limit_unfiltered")
    assert set(output[0]) == {"Plan", "JIT"}  # PostgreSQL 15 adds JIT beside the plan
    assert root_plan(output) is output[0]["Plan"]
    assert root_plan(output[0]) is output[0]["Plan"]
    assert root_plan(tuple(output))["Node Type"] == "Limit"


@pytest.mark.parametrize(
    "output",
    [[], {}, [{}], [{"Plan": None}], [{"Plan": [{"Node Type": "Seq Scan"}]}], [[]], None, 42],
    ids=repr,
)
@pytest.mark.parametrize("function", [root_plan, analyze, relations], ids=lambda f: f.__name__)
def test_malformed_output_is_a_value_error(output: Any, function: Callable[[Any], Any]) -> None:
    with pytest.raises(ValueError, match="EXPLAIN"):
        function(output)


def test_every_rule_explains_itself_differently() -> None:
    texts = [RULES[rule] for rule in Rule]
    assert all(texts)
    assert len(set(texts)) == len(texts)
