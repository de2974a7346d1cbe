"""Markers, allow blocks and their precedence, in process (``policy.py`` and the plugin's marker
check): items come from collecting a module with ``pytester.inline_genitems``, which runs no
test and needs no database. Inner pytest runs in ``test_precedence.py`` and ``test_reports.py``
check the same rules end to end, on the statements of real tests."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

from pytest_indexguard import plugin
from pytest_indexguard.policy import AllowMark, Decision, block_tables, marker_errors
from pytest_indexguard.policy import TestPolicy as Policy  # not collected as a test class

ACCEPTS_ALLOW = (
    "(it accepts indexguard_allow(*tables: str, reason: str | None = None, "
    'until: "YYYY-MM-DD" | None = None))'
)
ACCEPTS_SKIP = "(it accepts indexguard_skip(reason: str | None = None))"


Collect = Callable[[str], dict[str, pytest.Item]]


@pytest.fixture
def collect(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Collect:
    """The items of a test module, collected without this plugin (whose marker check would stop
    the collection) and without the environment's other plugins."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def collect(source: str) -> dict[str, pytest.Item]:
        path = pytester.makepyfile(test_inner=source)
        items, _ = pytester.inline_genitems(path)
        return {item.nodeid.split("::", 1)[1]: item for item in items}

    return collect


BAD_MARKERS = """
import pytest


@pytest.mark.indexguard_allow(tables=["shop_customer"])
def test_keyword_tables():
    pass


@pytest.mark.indexguard_allow("shop_customer", resaon="typo")
def test_typo():
    pass


@pytest.mark.indexguard_allow(["shop_customer"])
def test_list_instead_of_names():
    pass


@pytest.mark.indexguard_skip("a", "b")
def test_skip_two_reasons():
    pass


@pytest.mark.indexguard_allow("t", until="next week")
def test_bad_until():
    pass


@pytest.mark.indexguard_allow("t", reason=3)
def test_reason_not_a_string():
    pass


@pytest.mark.indexguard_allow("shop_customer", reason="fine", until="2030-01-31")
def test_good():
    pass


@pytest.mark.indexguard_allow("shop_customer", reason="the class")
class TestTwice:
    def test_one(self):
        pass

    def test_two(self):
        pass
"""


def test_bad_marker_arguments_stop_the_run_with_one_line_each(collect: Collect) -> None:
    items = collect(BAD_MARKERS)
    with pytest.raises(pytest.UsageError) as caught:
        plugin.pytest_collection_modifyitems(
            next(iter(items.values())).config, list(items.values())
        )
    assert str(caught.value).split("\n") == [
        "test_inner.py::test_bad_until: @pytest.mark.indexguard_allow: until must be a date as "
        f"YYYY-MM-DD, got 'next week' {ACCEPTS_ALLOW}",
        "test_inner.py::test_keyword_tables: @pytest.mark.indexguard_allow: it got an "
        f"unexpected keyword argument 'tables' {ACCEPTS_ALLOW}",
        "test_inner.py::test_list_instead_of_names: @pytest.mark.indexguard_allow: table names "
        f"must be non-empty strings, got ['shop_customer'] {ACCEPTS_ALLOW}",
        "test_inner.py::test_reason_not_a_string: @pytest.mark.indexguard_allow: reason must be "
        f"a string, got 3 {ACCEPTS_ALLOW}",
        "test_inner.py::test_skip_two_reasons: @pytest.mark.indexguard_skip: it takes from 0 to 1 "
        f"positional arguments but 2 were given {ACCEPTS_SKIP}",
        "test_inner.py::test_typo: @pytest.mark.indexguard_allow: it got an unexpected keyword "
        f"argument 'resaon' {ACCEPTS_ALLOW}",
    ]
    assert marker_errors(items["test_good"]) == []
    assert marker_errors(items["TestTwice::test_one"]) == []


def test_good_markers_pass_the_check(collect: Collect) -> None:
    good = collect(
        """
import pytest

@pytest.mark.indexguard_allow()
@pytest.mark.indexguard_allow("a", "b", reason="r", until="2030-01-31")
@pytest.mark.indexguard_skip()
@pytest.mark.indexguard_skip(reason="benchmark")
def test_x():
    pass
"""
    )
    plugin.pytest_collection_modifyitems(good["test_x"].config, list(good.values()))


PLACED = """
import pytest

pytestmark = pytest.mark.indexguard_allow("shop_customer", reason="module")


@pytest.mark.indexguard_allow("shop_order", reason="class")
class TestOrders:
    @pytest.mark.indexguard_allow("shop_invoice", until="2020-01-31")
    def test_three_levels(self):
        pass


@pytest.mark.indexguard_skip(reason="benchmark")
def test_skipped():
    pass


def test_module_only():
    pass
"""


def test_markers_of_the_test_its_class_and_its_module(collect: Collect) -> None:
    items = collect(PLACED)
    policy = Policy.for_item(items["TestOrders::test_three_levels"])
    policy.today = datetime.date(2026, 6, 1)
    assert not policy.skip
    assert [(m.node, m.describe()) for m in policy.marks] == [
        (
            "test_inner.py::TestOrders::test_three_levels",
            '@pytest.mark.indexguard_allow("shop_invoice", until="2020-01-31")',
        ),
        (
            "test_inner.py::TestOrders",
            """@pytest.mark.indexguard_allow("shop_order", reason="class")""",
        ),
        ("test_inner.py", """@pytest.mark.indexguard_allow("shop_customer", reason="module")"""),
    ]
    assert policy.decide("shop_order").allowed_by == "marker"
    assert policy.decide("shop_customer").mark == policy.marks[2]
    expired = policy.decide("shop_invoice")
    assert expired == Decision(expired=policy.marks[0])
    assert policy.decide("shop_other") == Decision()
    # The expired marker matched a scan: the failure says it expired, it is not "unused".
    assert policy.unused_marks() == []
    assert [u["used"] for u in policy.mark_usage()] == [True, True, True]

    skipped = Policy.for_item(items["test_skipped"])
    assert skipped.skip
    module_only = Policy.for_item(items["test_module_only"])
    assert [m.node for m in module_only.marks] == ["test_inner.py"]
    assert module_only.unused_marks() == list(module_only.marks)
    assert module_only.mark_usage() == [
        {
            "node": "test_inner.py",
            "marker": """@pytest.mark.indexguard_allow("shop_customer", reason="module")""",
            "used": False,
        }
    ]


def _mark(*tables: str, until: datetime.date | None = None) -> AllowMark:
    return AllowMark(tables=frozenset(tables) or None, reason=None, until=until)


def test_an_allow_marker_allows_its_tables_until_its_date() -> None:
    today = datetime.date(2026, 6, 1)
    one = _mark("shop_customer")
    every = _mark()
    policy = Policy(marks=(one,), today=today)
    assert policy.decide("shop_customer") == Decision(allowed_by="marker", mark=one)
    assert policy.decide("shop_order") == Decision()
    assert Policy(marks=(every,), today=today).decide("anything").mark == every
    # The last day is still allowed; the day after is not.
    assert Policy(marks=(_mark("t", until=today),), today=today).decide("t").allowed_by
    old = _mark("t", until=today - datetime.timedelta(days=1))
    lapsed = Policy(marks=(old,), today=today)
    assert lapsed.decide("t") == Decision(expired=old)
    # A marker still in force beats an expired one for the same table.
    fresh = _mark("t")
    both = Policy(marks=(old, fresh), today=today)
    assert both.decide("t") == Decision(allowed_by="marker", mark=fresh)
    assert both.used == {fresh}
    assert both.expired_hits == {old}


def test_allow_blocks_nest_and_markers_come_first() -> None:
    policy = Policy()
    policy.blocks.append(block_tables(["shop_customer"]))
    assert policy.decide("shop_customer") == Decision(allowed_by="fixture")
    assert policy.decide("shop_order") == Decision()
    policy.blocks.append(block_tables([]))  # no table named: every table
    assert policy.decide("shop_order") == Decision(allowed_by="fixture")
    policy.blocks.pop()
    assert policy.decide("shop_order") == Decision()
    marked = Policy(marks=(_mark("shop_customer"),), blocks=[None])
    assert marked.decide("shop_customer").allowed_by == "marker"
    assert marked.decide("shop_order").allowed_by == "fixture"


def test_the_fixture_checks_its_table_names() -> None:
    fixture = plugin.IndexGuardFixture(None)
    with (
        pytest.raises(
            TypeError,
            match=r"^indexguard.allow\(\): table names must be non-empty strings, got None$",
        ),
        fixture.allow(None),  # type: ignore[arg-type]
    ):
        pass
    with pytest.raises(TypeError, match="got ' '"), fixture.allow("shop_customer", " "):
        pass
    # Off (no guard): a block with good names is a no-op, and nothing is found.
    with fixture.allow("shop_customer"):
        assert not fixture.enabled
    assert fixture.findings == []
    assert block_tables([" shop_customer "]) == {"shop_customer"}
