"""Capture SQLite's ``EXPLAIN QUERY PLAN`` of every SQLite scenario into ``sqlite/<name>.json``.

The sample app's own models, migrated by Django into a temporary SQLite file, give the schema:
``full`` is every migration, ``bare`` is upstream at 0001 (without the indexes of
``0002_add_missing_indexes``). Each scenario's statement is the SQL Django's ORM writes for it
(or raw SQL in Django's style, where the ORM cannot write a plan shape), bound and explained by
the guard's own backend (``pytest_indexguard.explain.sqlite``), inside a transaction that is
rolled back with the scenario's setup. Run from the repository root::

    python -m tests.plans.capture_sqlite              # every scenario
    python -m tests.plans.capture_sqlite NAME ...     # only these

Files hold the SQLite version, the statement (Django's SQL and parameters, and the bound text),
the plan rows as SQLite returned them and the indexes of the tables they read; they are written
only when their content changes. ``schema-full.sql`` and ``schema-bare.sql`` hold the schemas, so
that ``tests/test_sqlite_live.py`` can plan the scenarios again without Django's migrations.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLANS_DIR = Path(__file__).resolve().parent / "sqlite"
REPO = Path(__file__).resolve().parents[2]

Statement = tuple[str, list[Any]]


@dataclass(frozen=True)
class Scenario:
    name: str
    schema: str  # "full" or "bare"
    # Returns the statement (Django's SQL with %s placeholders, and its parameters).
    statement: Callable[[], Statement]
    setup: tuple[str, ...] = ()
    mode: str = "forced"
    description: str = ""


def orm(build: Callable[[], Any]) -> Callable[[], Statement]:
    """The SQL Django's compiler writes for a QuerySet."""

    def statement() -> Statement:
        query = build()
        sql, params = query.query.get_compiler(query.db).as_sql()
        return sql, list(params)

    return statement


def issued(run: Callable[[], Any], starts: str) -> Callable[[], Statement]:
    """The first statement starting with ``starts`` that running ``run`` makes Django issue
    (count(), update(), delete()...)."""

    def statement() -> Statement:
        from django.db import connection

        seen: list[Statement] = []

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            seen.append((sql, list(params or ())))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            run()
        return next(s for s in seen if s[0].lstrip().upper().startswith(starts.upper()))

    return statement


def raw(sql: str, *params: Any) -> Callable[[], Statement]:
    return lambda: (sql, list(params))


def _rows(table: str, count: int, values: str) -> str:
    """Insert ``count`` generated rows (``i`` counts from 1) with a recursive CTE."""
    return (
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) "
        f'INSERT INTO "{table}" SELECT {values} FROM n'
    )


# A few rows per table, analysed: what a project that runs ANALYZE on its test database has.
TINY_ANALYSED = (
    _rows("upstream_customer", 3, "i, 'customer-' || i, '2026-01-01'"),
    _rows("upstream_integrationconnection", 3, "i, 'connection-' || i, 'ehr', '2026-01-01', i"),
    _rows(
        "upstream_integrationlog",
        3,
        "i, 'success', '2026-01-0' || i, NULL, '', i",
    ),
    "ANALYZE",
)
# A large delivery table and small dimension tables, analysed: SQLite then considers a Bloom
# filter for the small side of a join.
STAR_ANALYSED = (
    _rows("upstream_customer", 100, "i, 'customer-' || i, '2026-01-01'"),
    _rows("upstream_webhookendpoint", 100, "i, 'https://hook/' || i, i % 2, '2026-01-01', i"),
    _rows(
        "upstream_integrationconnection", 100, "i, 'event-' || i, 'p' || (i % 10), '2026-01-01', i"
    ),
    _rows(
        "upstream_webhookdelivery",
        20000,
        "i, 'event-' || (i % 100), '{}', 'pending', 0, NULL, '2026-01-01', '', 1 + i % 100",
    ),
    "ANALYZE",
)


def scenarios() -> list[Scenario]:
    """The scenarios; built on first use, after Django is set up (they import models)."""
    from django.contrib.auth.models import User
    from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
    from django.db.models.functions import Lower

    from upstream.alerts.models import AlertRule
    from upstream.integrations.models import IntegrationLog, WebhookDelivery, WebhookEndpoint
    from upstream.models import Customer, UserProfile

    logs = IntegrationLog.objects
    deliveries = WebhookDelivery.objects
    return [
        Scenario(
            "filter_unindexed",
            "bare",
            orm(lambda: logs.filter(status="failed")),
            description="SCAN with a condition no index serves: FILTER",
        ),
        Scenario(
            "filter_sort_limit",
            "bare",
            orm(lambda: logs.filter(status="failed").order_by("-start_time")[:50]),
            description="the sample app's failed_logs without 0002: SCAN, sort under a LIMIT",
        ),
        Scenario(
            "filter_sort_limit_indexed",
            "full",
            orm(lambda: logs.filter(status="failed").order_by("-start_time")[:50]),
            description="the same with intlog_status_time_idx: SEARCH in the index's order",
        ),
        Scenario(
            "sort_limit_unfiltered",
            "bare",
            orm(lambda: logs.order_by("-end_time")[:10]),
            description="SCAN of every row sorted for the first ten: SORT_LIMIT",
        ),
        Scenario(
            "sort_without_limit",
            "bare",
            orm(lambda: logs.order_by("-end_time")),
            description="every row sorted, no LIMIT: information",
        ),
        Scenario(
            "offset_without_limit",
            "bare",
            orm(lambda: logs.order_by("-end_time")[10:]),
            description="Django's LIMIT -1 OFFSET n is no limit: information",
        ),
        Scenario(
            "unfiltered",
            "bare",
            orm(logs.all),
            description="every row asked for: information",
        ),
        Scenario(
            "count_covering_index",
            "full",
            issued(deliveries.count, "SELECT COUNT"),
            description="SCAN USING COVERING INDEX for count(*): information",
        ),
        Scenario(
            "index_order_limit",
            "full",
            orm(lambda: deliveries.order_by("endpoint")[:5]),
            description="SCAN USING INDEX in its order, stopped by the LIMIT: information",
        ),
        Scenario(
            "index_order_filter",
            "full",
            orm(lambda: deliveries.filter(event_type="claim.updated").order_by("endpoint")[:5]),
            description="a whole index walked for its order, filtering on the way: FILTER",
        ),
        Scenario(
            "search_index_order",
            "full",
            orm(lambda: logs.filter(connection_id=1).order_by("-start_time")[:20]),
            description="the sample app's recent_logs with intlog_conn_time_idx: fine",
        ),
        Scenario(
            "sorted_range",
            "bare",
            orm(lambda: logs.filter(connection_id=1).order_by("-start_time")[:20]),
            description="recent_logs without 0002: SEARCH by the key, then a sort under a LIMIT",
        ),
        Scenario(
            "pk_lookup",
            "bare",
            orm(lambda: deliveries.filter(pk=1)),
            description="SEARCH USING INTEGER PRIMARY KEY",
        ),
        Scenario(
            "multi_index_or",
            "bare",
            orm(lambda: deliveries.filter(Q(endpoint_id=1) | Q(pk=5))),
            description="MULTI-INDEX OR of two searches: fine",
        ),
        Scenario(
            "or_unindexed",
            "bare",
            orm(lambda: deliveries.filter(Q(status="failed") | Q(event_type="x"))),
            description="an OR of two unindexed columns: FILTER",
        ),
        Scenario(
            "or_across_tables",
            "bare",
            orm(lambda: UserProfile.objects.filter(Q(role="admin") | Q(customer__name="Acme"))),
            description="an OR across two tables: UNSERVABLE or-across-tables",
        ),
        Scenario(
            "exclude_not_equal",
            "bare",
            orm(lambda: logs.exclude(status="failed")),
            description="<> (exclude): UNSERVABLE not-equal",
        ),
        Scenario(
            "exclude_not_in",
            "bare",
            orm(lambda: logs.exclude(status__in=["failed", "running"])),
            description="NOT IN (exclude of a list): UNSERVABLE not-in",
        ),
        Scenario(
            "icontains",
            "bare",
            orm(lambda: logs.filter(message__icontains="timeout")),
            description="LIKE '%...%' (icontains): UNSERVABLE wildcard",
        ),
        Scenario(
            "startswith",
            "full",
            orm(lambda: Customer.objects.filter(name__startswith="Ac")),
            description="LIKE 'Ac%': SQLite's case-insensitive LIKE cannot use the BINARY index",
        ),
        Scenario(
            "few_valued",
            "bare",
            orm(lambda: AlertRule.objects.filter(enabled=True)),
            description="a boolean alone, no order: half the table, read whole in production",
        ),
        Scenario(
            "partial_index",
            "bare",
            orm(lambda: logs.filter(status="failed").order_by("-start_time")[:50]),
            setup=(
                'CREATE INDEX "intlog_failed_idx" ON "upstream_integrationlog" '
                '("start_time" DESC) WHERE "status" = \'failed\'',
            ),
            description="SCAN USING INDEX of a partial index the statement implies: fine",
        ),
        Scenario(
            "expression_index",
            "full",
            orm(lambda: Customer.objects.annotate(lowered=Lower("name")).filter(lowered="acme")),
            setup=('CREATE INDEX "customer_lower_idx" ON "upstream_customer" (LOWER("name"))',),
            description="SEARCH USING INDEX (<expr>=?): fine",
        ),
        Scenario(
            "list_subquery",
            "bare",
            orm(
                lambda: WebhookEndpoint.objects.filter(
                    id__in=deliveries.filter(status="failed").values("endpoint_id")
                )
            ),
            description="LIST SUBQUERY: the sub-query's SCAN U0 has its own FILTER",
        ),
        Scenario(
            "correlated_subquery",
            "bare",
            orm(
                lambda: Customer.objects.annotate(
                    hook=Subquery(
                        WebhookEndpoint.objects.filter(url=OuterRef("name")).values("id")[:1]
                    )
                )
            ),
            description="CORRELATED SCALAR SUBQUERY reading a table whole per outer row: JOIN",
        ),
        Scenario(
            "not_exists",
            "bare",
            orm(
                lambda: Customer.objects.filter(
                    ~Exists(AlertRule.objects.filter(customer=OuterRef("pk")))
                )
            ),
            description="NOT EXISTS: every outer row must be checked (kept), the inner is SEARCH",
        ),
        Scenario(
            "left_join_anti",
            "bare",
            orm(lambda: User.objects.filter(profile__isnull=True)),
            description="LEFT JOIN ... IS NULL: an anti join reads every outer row (kept)",
        ),
        Scenario(
            "exclude_subquery",
            "bare",
            orm(
                lambda: logs.exclude(
                    connection_id__in=deliveries.filter(status="failed").values("endpoint_id")
                )
            ),
            description="NOT (x IN (sub-query)): an anti join, kept",
        ),
        Scenario(
            "join_inner_unindexed",
            "bare",
            raw(
                'SELECT "upstream_webhookendpoint"."id" FROM "upstream_customer" '
                'INNER JOIN "upstream_webhookendpoint" ON '
                '("upstream_webhookendpoint"."url" = "upstream_customer"."name") '
                'WHERE "upstream_customer"."id" = %s',
                1,
            ),
            description="the inner loop of a join reads a table whole per outer row: JOIN",
        ),
        Scenario(
            "join_outer_restricted",
            "bare",
            raw(
                'SELECT "upstream_integrationlog"."id" FROM "upstream_integrationlog" '
                'INNER JOIN "upstream_webhookdelivery" ON '
                '("upstream_integrationlog"."message" = "upstream_webhookdelivery"."event_type")'
                ' WHERE "upstream_webhookdelivery"."id" = %s',
                1,
            ),
            description="join driven from a whole table though the other side is one row",
        ),
        Scenario(
            "join_outer_pk",
            "bare",
            raw(
                'SELECT "upstream_integrationlog"."id" FROM "upstream_integrationlog" '
                'INNER JOIN "upstream_webhookdelivery" ON '
                '("upstream_integrationlog"."end_time" = "upstream_webhookdelivery"."id") '
                'WHERE "upstream_webhookdelivery"."status" = %s',
                "failed",
            ),
            description="outer SCAN, inner SEARCH by primary key restricted by its own "
            "condition: the outer side's join key has no index (JOIN)",
        ),
        Scenario(
            "automatic_index",
            "bare",
            raw(
                'SELECT "upstream_integrationlog"."id" FROM "upstream_webhookdelivery" '
                'INNER JOIN "upstream_integrationlog" ON '
                '("upstream_integrationlog"."status" = "upstream_webhookdelivery"."status")',
            ),
            description="SEARCH USING AUTOMATIC COVERING INDEX: built from a whole read: JOIN",
        ),
        Scenario(
            "automatic_partial_index",
            "bare",
            raw(
                'SELECT "upstream_integrationlog"."id" FROM "upstream_webhookdelivery" '
                'INNER JOIN "upstream_integrationlog" ON '
                '("upstream_integrationlog"."status" = "upstream_webhookdelivery"."status") '
                'WHERE "upstream_webhookdelivery"."attempts" = %s AND '
                '"upstream_integrationlog"."message" = %s',
                3,
                "x",
            ),
            description="AUTOMATIC PARTIAL COVERING INDEX (a condition and the join key)",
        ),
        Scenario(
            "select_related_all",
            "full",
            orm(lambda: UserProfile.objects.select_related("customer")),
            description="every row with its customer by primary key: information",
        ),
        Scenario(
            "co_routine",
            "bare",
            issued(logs.filter(status="failed")[:5].count, "SELECT COUNT"),
            description="CO-ROUTINE subquery: the derived table's SCAN has its FILTER",
        ),
        Scenario(
            "materialize",
            "bare",
            raw(
                'WITH "failed" AS MATERIALIZED (SELECT U0."connection_id" FROM '
                '"upstream_integrationlog" U0 WHERE U0."status" = %s) '
                'SELECT "upstream_integrationconnection"."id" FROM '
                '"upstream_integrationconnection" INNER JOIN "failed" ON '
                '("failed"."connection_id" = "upstream_integrationconnection"."id")',
                "failed",
            ),
            description="MATERIALIZE of a CTE: its SCAN U0 has its FILTER; the CTE is no table",
        ),
        Scenario(
            "scalar_subquery_constant_row",
            "bare",
            raw(
                'SELECT (SELECT COUNT(*) FROM "upstream_integrationlog" U0 '
                'WHERE U0."status" = %s) AS "failures"',
                "failed",
            ),
            description="SCAN CONSTANT ROW with a SCALAR SUBQUERY that filters",
        ),
        Scenario(
            "compound_union",
            "bare",
            orm(
                lambda: (
                    logs.filter(status="failed")
                    .order_by()
                    .values("id")
                    .union(logs.filter(connection_id=1).order_by().values("id"))
                )
            ),
            description="COMPOUND QUERY: the first part SCANs with a filter, the second SEARCHes",
        ),
        Scenario(
            "update_filter",
            "bare",
            issued(lambda: deliveries.filter(status="retrying").update(attempts=0), "UPDATE"),
            description="UPDATE ... WHERE on an unindexed column: FILTER",
        ),
        Scenario(
            "update_pk",
            "bare",
            issued(lambda: deliveries.filter(pk=1).update(attempts=F("attempts") + 1), "UPDATE"),
            description="UPDATE by primary key: fine",
        ),
        Scenario(
            "delete_filter",
            "bare",
            issued(lambda: logs.filter(status="running").delete(), "DELETE"),
            description="DELETE ... WHERE on an unindexed column: FILTER",
        ),
        Scenario(
            "random_order",
            "bare",
            orm(lambda: logs.order_by("?")[:1]),
            description="ORDER BY RANDOM() LIMIT 1: UNSERVABLE random-order",
        ),
        Scenario(
            "group_by_count",
            "bare",
            orm(lambda: logs.values("status").annotate(n=Count("id"))),
            description="an aggregate of every row: information",
        ),
        Scenario(
            "view",
            "bare",
            raw('SELECT * FROM "failed_logs" WHERE "message" = %s', "timeout"),
            setup=(
                'CREATE VIEW "failed_logs" AS SELECT * FROM "upstream_integrationlog" '
                "WHERE \"status\" = 'failed'",
            ),
            description="a view: SQLite names the table inside it; its conditions are not read",
        ),
        Scenario(
            "analysed_tiny_planner",
            "full",
            orm(lambda: logs.filter(connection_id__in=[2, 3])),
            setup=TINY_ANALYSED,
            mode="planner",
            description="3 rows, analysed: the natural plan scans for an IN list an index serves",
        ),
        Scenario(
            "analysed_tiny_forced",
            "full",
            orm(lambda: logs.filter(connection_id__in=[2, 3])),
            setup=TINY_ANALYSED,
            description="the same statement forced: planned without the statistics, SEARCH",
        ),
        Scenario(
            "bloom_filter",
            "bare",
            raw(
                'SELECT COUNT(*) FROM "upstream_webhookdelivery" INNER JOIN '
                '"upstream_webhookendpoint" ON ("upstream_webhookdelivery"."attempts" = '
                '"upstream_webhookendpoint"."id") INNER JOIN "upstream_integrationconnection" '
                'ON ("upstream_webhookdelivery"."payload" = "upstream_integrationconnection"."id")'
                ' WHERE ("upstream_webhookendpoint"."active" AND '
                '"upstream_integrationconnection"."provider" = %s)',
                "p1",
            ),
            setup=STAR_ANALYSED,
            mode="planner",
            description="with statistics, BLOOM FILTER ON the small side of a star join",
        ),
    ]


def setup_django(directory: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/capture.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "sampleproject.settings"
    sys.path.insert(0, str(REPO / "sample_app"))
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def schema_sql(raw: sqlite3.Connection) -> str:
    rows = raw.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY type DESC, name"
    ).fetchall()
    return "".join(f"{sql};\n" for (sql,) in rows)


def capture_one(scenario: Scenario) -> dict[str, Any]:
    from django.db import connection, transaction

    from pytest_indexguard.explain.sqlite import SQLite

    backend = SQLite()
    with transaction.atomic():
        raw = connection.connection
        for statement in scenario.setup:
            raw.execute(statement)
        sql, params = scenario.statement()
        text = backend.bind(raw, sql, params)
        explained = backend.explain(raw, text, forced=scenario.mode == "forced")
        # The rows as SQLite returns them, from the database that planned them: the test's,
        # or the statistics-free copy of its schema (forced, with statistics present).
        planner = backend._copy(raw).connection if explained.plan.copy else raw
        rows = planner.execute(f"EXPLAIN QUERY PLAN {text}").fetchall()
        tables = backend.tables_read(explained.plan)
        indexes = [
            dataclasses.asdict(index)
            for index in backend.schema(raw).indexes
            if index.table in tables
        ]
        transaction.set_rollback(True)
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "sqlite_version": sqlite3.sqlite_version,
        "schema": scenario.schema,
        "setup": list(scenario.setup),
        "mode": scenario.mode,
        "sql": sql,
        "params": params,
        "text": text,
        "rows": [list(row) for row in rows],  # id, parent, notused, detail
        "planned_on_copy": explained.plan.copy,
        "indexes": indexes,
    }


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write(path: Path, text: str, changed: list[str]) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        changed.append(path.name)


def capture(names: Sequence[str] = ()) -> list[str]:
    from django.core.management import call_command
    from django.db import connection

    found = scenarios()
    unknown = set(names) - {s.name for s in found}
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    PLANS_DIR.mkdir(exist_ok=True)
    changed: list[str] = []
    call_command("migrate", verbosity=0)
    for schema in ("full", "bare"):
        if schema == "bare":
            call_command("migrate", "upstream", "0001", verbosity=0)
        connection.ensure_connection()
        _write(PLANS_DIR / f"schema-{schema}.sql", schema_sql(connection.connection), changed)
        for scenario in found:
            if scenario.schema == schema and (not names or scenario.name in names):
                record = capture_one(scenario)
                _write(PLANS_DIR / f"{scenario.name}.json", dumps(record), changed)
    if not names:
        known = {f"{s.name}.json" for s in found}
        for stale in sorted(PLANS_DIR.glob("*.json")):
            if stale.name not in known:
                stale.unlink()
                changed.append(f"{stale.name} (removed)")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="only these")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="indexguard-sqlite-capture-") as directory:
        setup_django(directory)
        changed = capture(args.scenarios)
    print(f"sqlite {sqlite3.sqlite_version}: {len(changed)} file(s) changed")
    for name in changed:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
