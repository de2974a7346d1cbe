"""The MySQL/MariaDB backend against a live server: what it leaves behind, and its verdicts.

These tests need a MySQL 8 or MariaDB 10.6+ server: ``INDEXGUARD_MYSQL_URL``
(default ``mysql://root@127.0.0.1:3306/test``, the machine's MariaDB) and PyMySQL. Without them
every test here is skipped, saying why. Each test works in a database of its own
(``indexguard_live_<xdist worker>_<process id>``), dropped at the end.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import reachable_mysql
from plans.capture_mysql import connect, plans
from plans.mysql_scenarios import SCENARIOS
from pytest_indexguard.explain import COUNT_BOUND, Context, NotExplained
from pytest_indexguard.explain.mysql import (
    FORCED,
    MySQL,
    analyze,
    schema_of,
    settle,
)
from pytest_indexguard.model import Occurrence, Rule, ScanFinding, Statement
from pytest_indexguard.policy import Decision
from pytest_indexguard.report import failure_message

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
DATABASE = f"indexguard_live_{WORKER}_{os.getpid()}"
SESSION = ("max_seeks_for_key", "lock_wait_timeout", "innodb_lock_wait_timeout")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    url = reachable_mysql()
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        cur.execute(f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{DATABASE}`")
        cur.execute(
            "CREATE TABLE `item` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
            "`code` varchar(20) NOT NULL, `note` varchar(50) NOT NULL, `closed` datetime NULL, "
            "`doc` longtext NULL, `desc` varchar(20) NULL)"
        )
        cur.execute("CREATE INDEX `item_code_idx` ON `item` (`code`)")
        cur.execute("CREATE INDEX `item_desc_idx` ON `item` (`desc`)")
        cur.execute("CREATE VIEW `item_codes` AS SELECT `code` FROM `item`")
    conn.close()
    yield url
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    conn.close()


@pytest.fixture
def conn(server: str) -> Iterator[Any]:
    connection = connect(server, DATABASE)
    yield connection
    connection.rollback()
    connection.close()


@pytest.fixture
def backend(conn: Any) -> MySQL:
    found = MySQL()
    found.identify(one(conn, "SELECT VERSION()"))
    return found


def one(conn: Any, sql: str) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def session(conn: Any) -> tuple[Any, ...]:
    with conn.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"@@SESSION.{name}" for name in SESSION))
        return tuple(cur.fetchone())


def in_transaction(conn: Any) -> bool:
    """Whether the connection's transaction is open. MariaDB says so in ``@@in_transaction``;
    MySQL lists it in INNODB_TRX, a view the server refreshes at most every 0.1 s (read right
    after a write it may not show the transaction yet)."""
    if "MariaDB" in str(one(conn, "SELECT VERSION()")):
        return bool(int(one(conn, "SELECT @@in_transaction")))
    return bool(
        one(
            conn,
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX "
            "WHERE trx_mysql_thread_id = CONNECTION_ID()",
        )
    )


def test_explain_leaves_session_and_transaction_as_they_were(conn: Any, backend: MySQL) -> None:
    before = session(conn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO `item` (`code`, `note`) VALUES ('a', 'pending')")
    assert in_transaction(conn)

    explained = backend.explain(conn, "SELECT * FROM `item` WHERE `note` = 'x'", forced=True)

    assert explained.round_trips == 1
    assert explained.plan["forced"] is True
    assert session(conn) == before
    assert in_transaction(conn)
    assert one(conn, "SELECT COUNT(*) FROM `item`") == 1
    conn.rollback()
    assert one(conn, "SELECT COUNT(*) FROM `item`") == 0  # nothing was committed


def test_failed_explain_leaves_the_transaction(conn: Any, backend: MySQL) -> None:
    before = session(conn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO `item` (`code`, `note`) VALUES ('b', 'pending')")

    with pytest.raises(NotExplained, match="doesn't exist"):
        backend.explain(conn, "SELECT * FROM `no_such_table`", forced=True)

    assert session(conn) == before
    assert in_transaction(conn)
    assert one(conn, "SELECT COUNT(*) FROM `item`") == 1


def test_forced_settings_apply_to_the_explain_only(server: str, conn: Any, backend: MySQL) -> None:
    # Another connection holds the table's metadata lock: the guard's EXPLAIN gives up after
    # its own one-second lock wait (the session's is a year) and says so, and the session's
    # settings are untouched afterwards.
    if not backend.mariadb:
        pytest.skip("MySQL 8 takes the settings as hints; lock_wait_timeout is not one of them")
    assert int(one(conn, "SELECT @@SESSION.lock_wait_timeout")) > 1
    other = connect(server, DATABASE)
    locked = threading.Event()
    try:
        with other.cursor() as cur:
            cur.execute("LOCK TABLES `item` WRITE")
        locked.set()
        before = session(conn)
        with pytest.raises(NotExplained, match=r"[Ll]ock wait timeout"):
            backend.explain(conn, "SELECT * FROM `item` WHERE `note` = 'x'", forced=True)
        assert session(conn) == before
    finally:
        if locked.is_set():
            with other.cursor() as cur:
                cur.execute("UNLOCK TABLES")
        other.close()


def test_forced_settings_are_known_to_the_server(conn: Any, backend: MySQL) -> None:
    # Every variable the guard sets exists on this server (a typo would fail every EXPLAIN).
    for name in FORCED:
        assert one(conn, f"SELECT @@SESSION.{name}") is not None


def test_statements_reading_session_state_are_not_explained(conn: Any, backend: MySQL) -> None:
    with pytest.raises(NotExplained, match="session state"):
        backend.explain(conn, "SELECT FOUND_ROWS()", forced=True)


def test_bind_quotes_as_the_driver_does(conn: Any, backend: MySQL) -> None:
    value = "O'Brien \\ 100%"
    text = backend.bind(conn, "SELECT %s", [value])
    assert one(conn, text) == value
    assert backend.bind(conn, "SELECT 1 % 2", None) == "SELECT 1 % 2"


def test_table_sizes_count_the_test_transactions_rows(conn: Any, backend: MySQL) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO `item` (`code`, `note`) VALUES (%s, %s)", [(str(i), "") for i in range(7)]
        )
    assert backend.table_sizes(conn, ["item"]) == {"item": (7, "counted")}
    assert COUNT_BOUND == 100_000


def test_schema_and_relations(conn: Any, backend: MySQL) -> None:
    schema = backend.schema(conn)
    [index] = schema.leading("item", "code")
    assert index.name == "item_code_idx"
    assert schema.primary_key("item") == ("id",)
    relations = backend.relations(conn, ["item"])
    assert relations.views == frozenset({"item_codes"})
    assert {"item", "item_codes"} <= relations.names
    assert relations.partitions == frozenset()


def test_is_not_null_on_a_not_null_column_restricts_nothing(conn: Any, backend: MySQL) -> None:
    # Django's dates(), the admin's date_hierarchy and isnull=False write "col IS NOT NULL"
    # whatever the column: on a NOT NULL column it restricts nothing (the read is unfiltered;
    # under a LIMIT the sort counts). On a column that can be NULL it still filters.
    schema = backend.schema(conn)
    assert schema.not_null["item"] == frozenset({"id", "code", "note"})
    context = Context(schema)

    def findings(text: str) -> list[ScanFinding]:
        plan = backend.explain(conn, text, forced=True).plan
        return backend.assess(conn, text, plan, context).findings

    every = "SELECT `item`.`id` FROM `item` WHERE `item`.`note` IS NOT NULL"
    assert [f for f in findings(every) if f.is_violation] == []
    [first] = findings(f"{every} ORDER BY `item`.`note` LIMIT 5")
    assert (first.rule, first.filter) == (Rule.SORT_LIMIT, None)
    [closed] = findings("SELECT `item`.`id` FROM `item` WHERE `item`.`closed` IS NOT NULL")
    assert (closed.rule, closed.unservable) == (Rule.UNSERVABLE, "not-null")


def test_conditions_with_double_quotes_are_read(conn: Any, backend: MySQL) -> None:
    # A JSONField lookup's path ('$."kind"'): MariaDB writes the quotes into its JSON output
    # unescaped; the plan is read all the same, backslashes and all.
    text = (
        "SELECT `item`.`id` FROM `item` WHERE JSON_UNQUOTE(JSON_EXTRACT(`item`.`doc`, "
        "'$.\"kind\"')) = 'say \"hi\"' AND `item`.`note` LIKE 'a\\\\b\"%'"
    )
    plan = backend.explain(conn, text, forced=True).plan
    [finding] = backend.assess(conn, text, plan, Context(backend.schema(conn))).findings
    assert (finding.table, finding.rule) == ("item", Rule.FILTER)
    assert finding.filter is not None
    assert '$."kind"' in finding.filter
    assert '\\b"%' in finding.filter


def test_prefix_likes_and_columns_named_like_keywords(conn: Any, backend: MySQL) -> None:
    # On a few rows MariaDB reads item whole; at scale the index on code serves a prefix LIKE
    # (istartswith), and the one on `desc` (treebeard's column) an IN list. LIKE BINARY
    # (startswith) walks the whole index at any size: a rewrite, not an index.
    context = Context(backend.schema(conn))
    with conn.cursor() as cur:  # rolled back by the fixture
        cur.executemany(
            "INSERT INTO `item` (`code`, `note`, `desc`) VALUES (%s, 'n', %s)",
            [(f"ab{i}", f"d{i % 3}") for i in range(10)],
        )

    def verdict(text: str) -> tuple[list[ScanFinding], list[ScanFinding]]:
        plan = backend.explain(conn, text, forced=True).plan
        return analyze(plan), backend.assess(conn, text, plan, context).findings

    for text in (
        "SELECT `item`.`id`, `item`.`note` FROM `item` WHERE `item`.`code` LIKE 'ab%'",
        "SELECT `item`.`id`, `item`.`note` FROM `item` WHERE `item`.`desc` IN ('d1', 'd2')",
    ):
        seen, settled = verdict(text)
        assert [f.rule for f in seen] == [Rule.FILTER], text  # the tiny table's full scan
        assert settled == [], text
    _, [binary] = verdict("SELECT `item`.`id` FROM `item` WHERE `item`.`code` LIKE BINARY 'ab%'")
    assert (binary.rule, binary.unservable) == (Rule.UNSERVABLE, "binary-like")


def test_like_binary_beside_a_servable_condition_is_named(conn: Any, backend: MySQL) -> None:
    # treebeard's get_descendant_count: depth >= ? AND path LIKE BINARY ?. An index on depth
    # is suggested (MariaDB cannot verify it); the message also says what LIKE BINARY needs.
    text = (
        "SELECT COUNT(*) FROM `item` WHERE `item`.`note` >= 'a' AND `item`.`code` LIKE BINARY 'ab%'"
    )
    plan = backend.explain(conn, text, forced=True).plan
    [finding] = backend.assess(conn, text, plan, Context(backend.schema(conn))).findings
    assert finding.rule is Rule.FILTER
    statement = Statement(alias="default", sql=text, findings=(finding,), plan=plan)
    occurrence = Occurrence(
        statement=statement,
        finding=finding,
        phase="call",
        call_site=None,
        decision=Decision(),
        table_rows=None,
        rows_source=None,
        below_threshold=False,
        fingerprint=statement.identity(finding.table)[0],
        known=False,
    )
    message = failure_message([occurrence], verbose=0)
    assert "    also:    LIKE BINARY (startswith, contains on MySQL/MariaDB)" in message, message


def test_django_connection(server: str, django_db_blocker: Any) -> None:
    from django.db.utils import ConnectionHandler

    from sampleproject.dbserver import database_settings

    handler = ConnectionHandler({"default": database_settings(server, name=DATABASE)})
    connection = handler["default"]
    with django_db_blocker.unblock():
        _check_django_connection(connection)
    handler.close_all()


def _check_django_connection(connection: Any) -> None:
    backend = MySQL()
    assert backend.unsupported(connection) is None
    assert backend.name.startswith(("MariaDB 1", "MySQL 8", "MySQL 9"))
    raw = connection.connection
    assert backend.busy(raw) is None
    # Django's MySQL connection sends one statement per round trip (no CLIENT_MULTI_STATEMENTS
    # on PyMySQL): hence SET STATEMENT ... FOR EXPLAIN rather than SET; EXPLAIN; SET.
    if type(raw).__module__.startswith("pymysql"):
        from pymysql.constants import CLIENT

        assert not raw.client_flag & CLIENT.MULTI_STATEMENTS
    text = backend.bind(raw, "SELECT * FROM `item` WHERE `note` = %s", ["x"])
    assert backend.tables_read(backend.explain(raw, text, forced=True).plan) == {"item"}


def test_verdicts_of_every_scenario_on_the_live_server(server: str) -> None:
    # The plans themselves may vary from run to run on ten-row tables (InnoDB refreshes its
    # statistics in the background); the verdicts must not.
    records = dict(plans(server, prefix=f"indexguard_live_plans_{WORKER}_{os.getpid()}"))
    for scenario in SCENARIOS:
        record = records[scenario.name]
        schema = schema_of(records[f"catalog_{scenario.state}"]["statistics"])
        verdict = settle(analyze(record["plan"]), schema)
        expected = [(e.table, e.rule) for e in scenario.verdict if e.rule is not None]
        assert [(f.table, f.rule) for f in verdict if f.rule is not None] == expected, scenario.name


def test_the_servers_own_catalogs_never_count(conn: Any, backend: MySQL) -> None:
    # Django's introspection (loaddata's constraint check): the catalogs named by aliases in a
    # FROM list, one filter no index serves. Not the project's tables: no finding.
    text = (
        "SELECT kc.`constraint_name`, kc.`column_name` "
        "FROM information_schema.key_column_usage AS kc, "
        "information_schema.table_constraints AS c "
        "WHERE kc.table_schema = DATABASE() AND c.table_schema = kc.table_schema "
        "AND c.constraint_name = kc.constraint_name AND c.constraint_type <> 'PRIMARY KEY' "
        "AND kc.table_name = 'item'"
    )
    plan = backend.explain(conn, text, forced=True).plan
    assert backend.assess(conn, text, plan, Context(backend.schema(conn))).findings == []
    # The same filter on the project's own table is reported.
    text = "SELECT * FROM `item` AS c WHERE c.`note` <> 'x'"
    plan = backend.explain(conn, text, forced=True).plan
    [finding] = backend.assess(conn, text, plan, Context(backend.schema(conn))).findings
    assert finding.table == "item"
