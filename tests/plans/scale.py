"""Production-sized rows for the scenarios' tables: the standard's side of ``test_standard.py``.

Each case's schema at scale is its own DDL, unchanged (``CREATE TABLE`` and ``CREATE INDEX``,
exactly as the tiny setup has them), then one ``INSERT ... SELECT ... FROM generate_series`` per
table in place of the handful of rows, then ``ANALYZE``. Cases with the same DDL share one schema,
so the whole set loads in seconds.

The rows are data as code and deterministic: every "random" choice is a hash of the row number
(``indexguard_scale.unit(i, seed)``, uniform in [0, 1), independent per seed), so a reload gives
the same rows on any server. The distributions are what a live database of a small SaaS looks
like, and what makes plans realistic:

- foreign keys spread over a few thousand parents with a skew (``skewed``: every parent has a
  child, the heaviest about ``1/sqrt(n)`` of the rows, the lightest one or two); the heaviest
  parents have ids in the middle of the range, so that the small ids in the scenarios' literals
  (customer 1, endpoints 2 and 3, owner 1) are parents of typical weight, as a test's fixture
  would be;
- statuses with a dominant value and rare ones (delivered 97%, failed 3%; a retry backlog of
  the newest 0.5% of deliveries; 85% of products active);
- timestamps over a year ending at ``NOW`` (2025-01-01 12:00 UTC, the instant the scenarios'
  literals are written against), increasing with the id as rows are inserted in time order;
- NULLs where a Django model would have them (no next attempt once delivered, users who never
  logged in, unprocessed flips being the newest ones);
- booleans mostly true (enabled, is_active).

Big tables have 100,000 rows. Lookup tables are smaller, as in production, and say so below:
customers (3,000), endpoints (5,000), alert rules (21,000: seven per customer), projects (5,000),
product categories (200).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg

from .oracle import Catalog, IndexFacts, TableFacts

ROWS = 100_000
CUSTOMERS = 3_000
ENDPOINTS = 5_000
PROJECTS = 5_000
CATEGORIES = 200
CONNECTIONS = 2_000

HELPER_SCHEMA = "indexguard_scale"
# Helper functions, in their own schema so that a case's schema holds exactly its DDL. They are
# IMMUTABLE one-expression SQL functions, which the planner inlines: no call overhead per row.
HELPERS: tuple[str, ...] = (
    f'CREATE SCHEMA IF NOT EXISTS "{HELPER_SCHEMA}"',
    # Uniform in [0, 1): the low 52 bits of PostgreSQL's seeded 64-bit hash of the row number.
    f"""CREATE OR REPLACE FUNCTION "{HELPER_SCHEMA}".unit(i bigint, seed integer)
        RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT (hashint8extended(i, seed) & 4503599627370495)::float8
                     / 4503599627370496.0 $$""",
    # The parent (1..n) of child row i, with a skew. The first n children go to parents 1..n
    # in turn, so every parent has at least one child. The others go to the parent of rank r
    # (0 the heaviest) with a share of about 1 / (2 * sqrt(r * n)), and rank r is parent id
    # 1 + (r + n / 2) % n: the heaviest parents sit in the middle of the id range, and the
    # small ids the scenarios' literals use (customer 1, endpoint 2) are parents of typical
    # weight, not the largest ones.
    f"""CREATE OR REPLACE FUNCTION "{HELPER_SCHEMA}".skewed(i bigint, seed integer, n integer)
        RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN i <= n THEN i::integer
                          ELSE 1 + (floor(n * power("{HELPER_SCHEMA}".unit(i, seed), 2))::integer
                                    + n / 2) % n END $$""",
    # Row i of n was created at (i / n) of the year that ends at NOW (2025-01-01 12:00 UTC,
    # 1735732800 seconds since the epoch; the year before it has 366 days, 31622400 seconds).
    f"""CREATE OR REPLACE FUNCTION "{HELPER_SCHEMA}".created(i bigint, n integer)
        RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT to_timestamp(1735732800::float8 - 31622400::float8 * (1 - i::float8 / n))
        $$""",
)

U = f'"{HELPER_SCHEMA}".unit'
SKEWED = f'"{HELPER_SCHEMA}".skewed'
CREATED = f'"{HELPER_SCHEMA}".created'


@dataclass(frozen=True)
class ScaleTable:
    table: str
    rows: int
    insert: str
    note: str


def _series(rows: int) -> str:
    return f"FROM generate_series(1, {rows}) AS i"


_TABLES: tuple[ScaleTable, ...] = (
    # --- the sample app's tables (scenarios.py) ------------------------------------------------
    ScaleTable(
        "upstream_customer",
        CUSTOMERS,
        f"""INSERT INTO "upstream_customer" ("name", "created_at")
            SELECT CASE i WHEN 1 THEN 'Acme' WHEN 2 THEN 'Globex' WHEN 3 THEN 'Initech'
                          ELSE 'Customer ' || i END,
                   {CREATED}(i, {CUSTOMERS})
            {_series(CUSTOMERS)}""",
        "a lookup table: 3,000 customers, the first three named as in the tiny rows",
    ),
    ScaleTable(
        "upstream_alertrule",
        7 * CUSTOMERS,
        f"""INSERT INTO "upstream_alertrule"
                ("customer_id", "name", "metric", "threshold", "enabled")
            SELECT 1 + (i - 1) % {CUSTOMERS},
                   CASE (i - 1) / {CUSTOMERS} WHEN 0 THEN 'denial spike'
                        WHEN 1 THEN 'slow payer' ELSE 'rule ' || (i - 1) / {CUSTOMERS} END,
                   CASE WHEN {U}(i, 2) < 0.7 THEN 'denial_rate' ELSE 'days_to_pay' END,
                   round(({U}(i, 3) * 60)::numeric, 2),
                   {U}(i, 4) < 0.85
            {_series(7 * CUSTOMERS)}""",
        "seven rules per customer (21,000), unique (customer_id, name); 85% enabled",
    ),
    ScaleTable(
        "upstream_integrationlog",
        ROWS,
        f"""INSERT INTO "upstream_integrationlog"
                ("connection_id", "status", "records_synced", "start_time")
            SELECT {SKEWED}(i, 1, {CONNECTIONS}),
                   CASE WHEN {U}(i, 2) < 0.95 THEN 'success'
                        WHEN {U}(i, 2) < 0.99 THEN 'failed' ELSE 'partial' END,
                   floor({U}(i, 3) * 500)::integer,
                   {CREATED}(i, {ROWS})
            {_series(ROWS)}""",
        "100,000 runs of 2,000 connections (skewed); 95% success, 4% failed, 1% partial",
    ),
    ScaleTable(
        "upstream_webhookendpoint",
        ENDPOINTS,
        f"""INSERT INTO "upstream_webhookendpoint" ("customer_id", "url", "enabled")
            SELECT {SKEWED}(i, 1, {CUSTOMERS}),
                   'https://c' || i || '.example/hooks',
                   {U}(i, 2) < 0.9
            {_series(ENDPOINTS)}""",
        "a lookup table: 5,000 endpoints of the 3,000 customers (skewed); 90% enabled",
    ),
    ScaleTable(
        "upstream_webhookdelivery",
        ROWS,
        f"""INSERT INTO "upstream_webhookdelivery"
                ("endpoint_id", "event_type", "status", "attempts", "next_attempt_at",
                 "created_at")
            SELECT endpoint_id, event_type, status,
                   CASE status WHEN 'delivered' THEN 1 WHEN 'failed' THEN 5
                        WHEN 'pending' THEN 0 ELSE 1 + floor({U}(i, 5) * 4)::integer END,
                   CASE WHEN status IN ('retrying', 'pending')
                        THEN created_at + {U}(i, 6) * interval '2 days' END,
                   created_at
            FROM (
                SELECT i, {SKEWED}(i, 1, {ENDPOINTS}) AS endpoint_id,
                       (ARRAY['claim.paid', 'claim.denied', 'claim.created', 'claim.updated',
                              'payment.posted'])[1 + floor({U}(i, 2) * 5)::integer]
                           AS event_type,
                       CASE WHEN i > {ROWS} - {ROWS} / 200
                            THEN CASE WHEN {U}(i, 3) < 0.6 THEN 'retrying' ELSE 'pending' END
                            WHEN {U}(i, 3) < 0.03 THEN 'failed'
                            ELSE 'delivered' END AS status,
                       {CREATED}(i, {ROWS}) AS created_at
                {_series(ROWS)}
            ) AS rows""",
        "100,000 deliveries to 5,000 endpoints (skewed); 3% failed, the newest 0.5% a retry "
        "backlog (retrying, pending) with next_attempt_at set, NULL otherwise",
    ),
    # --- research/join-artifacts ------------------------------------------------------------
    ScaleTable(
        "auth_user",
        ROWS,
        f"""INSERT INTO "auth_user"
                ("username", "email", "last_login", "is_active", "date_joined")
            SELECT username, username || '@example.org',
                   CASE WHEN {U}(i, 2) >= 0.2
                        THEN {CREATED}(i, {ROWS}) + {U}(i, 3) * interval '60 days' END,
                   {U}(i, 4) < 0.95,
                   timestamptz '2022-01-01 12:00:00+00' + i * interval '946 seconds'
            FROM (SELECT i, CASE i WHEN 1 THEN 'alice' WHEN 2 THEN 'bob' WHEN 3 THEN 'charlie'
                                   ELSE 'user' || i END AS username
                  {_series(ROWS)}) AS rows""",
        "100,000 users (the first three named as in the tiny rows), joined over three years; "
        "20% never logged in (NULL last_login); 95% active",
    ),
    ScaleTable(
        "team_profile",
        ROWS,
        f"""INSERT INTO "team_profile" ("user_id", "nag_period", "last_active_date")
            SELECT i,
                   CASE WHEN {U}(i, 2) < 0.9 THEN interval '0' ELSE interval '1 day' END,
                   CASE WHEN {U}(i, 3) >= 0.3
                        THEN {CREATED}(i, {ROWS}) + {U}(i, 4) * interval '30 days' END
            {_series(ROWS)}""",
        "one profile per user; 90% never nagged; 30% never active (NULL)",
    ),
    ScaleTable(
        "team_project",
        PROJECTS,
        f"""INSERT INTO "team_project" ("code", "name", "owner_id", "api_key", "badge_key")
            SELECT md5('project' || i)::uuid, 'Project ' || i, {SKEWED}(i, 1, 4000),
                   md5('key' || i), 'b' || i
            {_series(PROJECTS)}""",
        "a lookup table: 5,000 projects owned by the first 4,000 users (skewed)",
    ),
    ScaleTable(
        "team_member",
        ROWS,
        f"""INSERT INTO "team_member" ("user_id", "project_id")
            SELECT 1 + (i - 1) % 25000, ((i - 1) / 25000) * 1250 + {SKEWED}(i, 1, 1250)
            {_series(ROWS)}""",
        "100,000 memberships: 25,000 users in four projects each (one per quarter of the "
        "project ids, so (user_id, project_id) stays unique), skewed to the older projects",
    ),
    ScaleTable(
        "mon_check",
        ROWS,
        f"""INSERT INTO "mon_check"
                ("code", "name", "slug", "project_id", "last_ping", "alert_after", "created",
                 "status")
            SELECT md5('check' || i)::uuid, 'check ' || i, 'check-' || i,
                   {SKEWED}(i, 1, {PROJECTS}),
                   CASE WHEN status <> 'new' THEN timestamptz '2025-01-01 11:00:00+00'
                        - {U}(i, 3) * interval '2 days' END,
                   CASE WHEN status IN ('up', 'down') THEN timestamptz '2025-01-01 12:00:00+00'
                        + {U}(i, 4) * interval '1 day' END,
                   {CREATED}(i, {ROWS}), status
            FROM (SELECT i, CASE WHEN {U}(i, 2) < 0.90 THEN 'up'
                                 WHEN {U}(i, 2) < 0.93 THEN 'down'
                                 WHEN {U}(i, 2) < 0.97 THEN 'new' ELSE 'paused' END AS status
                  {_series(ROWS)}) AS rows""",
        "100,000 checks of the 5,000 projects (skewed); 90% up, 3% down, 4% new, 3% paused",
    ),
    ScaleTable(
        "mon_flip",
        ROWS,
        f"""INSERT INTO "mon_flip" ("owner_id", "created", "processed", "old_status", "new_status")
            SELECT {SKEWED}(i, 1, {ROWS}), {CREATED}(i, {ROWS}),
                   CASE WHEN i <= {ROWS} - {ROWS} / 200
                        THEN {CREATED}(i, {ROWS}) + {U}(i, 2) * interval '10 minutes' END,
                   'up', 'down'
            {_series(ROWS)}""",
        "100,000 status flips of the checks (skewed); the newest 0.5% not processed yet (NULL)",
    ),
    ScaleTable(
        "tp_delivery",
        ROWS,
        f"""INSERT INTO "tp_delivery" ("status", "next_attempt_at")
            SELECT CASE WHEN i > {ROWS} - {ROWS} / 200 THEN 'retrying'
                        WHEN {U}(i, 2) < 0.03 THEN 'failed' ELSE 'done' END,
                   {CREATED}(i, {ROWS}) + {U}(i, 3) * interval '1 day'
            {_series(ROWS)}""",
        "100,000 deliveries: 3% failed, the newest 0.5% retrying, the rest done",
    ),
    ScaleTable(
        "tp_order",
        ROWS,
        f"""INSERT INTO "tp_order" ("customer_id", "total")
            SELECT {SKEWED}(i, 1, 5000), round(({U}(i, 2) * 200)::numeric, 2)
            {_series(ROWS)}""",
        "100,000 orders of the first 5,000 users (skewed)",
    ),
    ScaleTable(
        "tp_event",
        ROWS,
        f"""INSERT INTO "tp_event" ("created_at", "kind")
            SELECT {CREATED}(i, {ROWS}) + {U}(i, 2) * interval '10 minutes',
                   (ARRAY['login', 'logout', 'signup', 'upgrade'])
                       [1 + floor({U}(i, 3) * 4)::integer]
            {_series(ROWS)}""",
        "100,000 events over the year",
    ),
    # --- a shop's products (standard_scenarios.py) -------------------------------------------
    ScaleTable(
        "shop_category",
        CATEGORIES,
        f"""INSERT INTO "shop_category" ("name") SELECT 'Category ' || i {_series(CATEGORIES)}""",
        "a lookup table: 200 categories",
    ),
    ScaleTable(
        "shop_product",
        ROWS,
        f"""INSERT INTO "shop_product"
                ("category_id", "name", "code", "status", "stock", "created_at")
            SELECT {SKEWED}(i, 1, {CATEGORIES}),
                   CASE WHEN {U}(i, 2) < 0.002 THEN 'Fabcraft '
                        ELSE (ARRAY['Hammer ', 'Saw ', 'Rake ', 'Kettle ', 'Drill ', 'Ladder ',
                                    'Shovel ', 'Whisk '])[1 + floor({U}(i, 3) * 8)::integer]
                   END || i,
                   i,
                   CASE WHEN {U}(i, 4) < 0.85 THEN 'active'
                        WHEN {U}(i, 4) < 0.95 THEN 'draft' ELSE 'discontinued' END,
                   CASE WHEN {U}(i, 5) < 0.02 THEN floor({U}(i, 6) * 2)::integer
                        ELSE 2 + floor({U}(i, 6) * 500)::integer END,
                   {CREATED}(i, {ROWS})
            {_series(ROWS)}""",
        "100,000 products in 200 categories (skewed); 85% active, 10% draft, 5% discontinued; "
        "2% nearly out of stock (stock < 2); 0.2% named 'Fabcraft' (contain 'abc')",
    ),
)

# --- recall: the join key's index does not spare the read (standard_scenarios.RECALL) --------
BRANDS = 200
QUEUES = 10
RECALL_CUSTOMERS = 30_000

_TABLES = (
    *_TABLES,
    ScaleTable(
        "rc_brand",
        BRANDS,
        f"""INSERT INTO "rc_brand" ("name") SELECT 'Brand ' || i {_series(BRANDS)}""",
        "a lookup table: 200 brands",
    ),
    ScaleTable(
        "rc_item",
        ROWS,
        f"""INSERT INTO "rc_item" ("brand_id", "is_active", "created_at")
            SELECT {SKEWED}(i, 1, {BRANDS}), {U}(i, 2) < 0.75, {CREATED}(i, {ROWS})
            {_series(ROWS)}""",
        "100,000 items of 200 brands (skewed); 75% active",
    ),
    ScaleTable(
        "rc_queue",
        QUEUES,
        f"""INSERT INTO "rc_queue" ("title") SELECT 'Queue ' || i {_series(QUEUES)}""",
        "a lookup table: 10 queues",
    ),
    ScaleTable(
        "rc_ticket",
        ROWS,
        f"""INSERT INTO "rc_ticket" ("queue_id", "status", "created")
            SELECT {SKEWED}(i, 1, {QUEUES}), 1 + floor({U}(i, 2) * 4)::integer,
                   {CREATED}(i, {ROWS})
            {_series(ROWS)}""",
        "100,000 tickets over the year in 10 queues (skewed); four statuses, a quarter each",
    ),
    ScaleTable(
        "rc_customer",
        RECALL_CUSTOMERS,
        f"""INSERT INTO "rc_customer" ("email")
            SELECT CASE i WHEN 1 THEN 'a@example.org' WHEN 2 THEN 'b@example.org'
                          ELSE 'c' || i || '@example.org' END
            {_series(RECALL_CUSTOMERS)}""",
        "30,000 customers, the first two named as in the tiny rows",
    ),
    ScaleTable(
        "rc_order",
        ROWS,
        f"""INSERT INTO "rc_order" ("customer_id", "email", "ref")
            SELECT {SKEWED}(i, 1, {RECALL_CUSTOMERS}), 'o' || i || '@example.org', 'r' || i
            {_series(ROWS)}""",
        "100,000 orders of the 30,000 customers (skewed), each with its own e-mail and ref",
    ),
    ScaleTable(
        "rc_account",
        ROWS,
        f"""INSERT INTO "rc_account" ("user_id", "warned_at", "kind")
            SELECT i, CASE WHEN {U}(i, 2) < 0.001 THEN {CREATED}(i, {ROWS}) END,
                   1 + floor({U}(i, 3) * 3)::integer
            {_series(ROWS)}""",
        "one account per user (100,000); warned on 0.1% of them (NULL otherwise); three kinds",
    ),
    ScaleTable(
        "rc_usage",
        ROWS,
        f"""INSERT INTO "rc_usage" ("order_id", "account_id", "canceled")
            SELECT {SKEWED}(i, 1, {ROWS}), {SKEWED}(i, 2, {ROWS}), {U}(i, 3) < 0.1
            {_series(ROWS)}""",
        "100,000 uses of an account in an order, spread over the orders and accounts (skewed); "
        "10% canceled",
    ),
    ScaleTable(
        "rc_setting",
        ROWS,
        f"""INSERT INTO "rc_setting" ("user_id", "brand_id", "action")
            SELECT {SKEWED}(i, 1, {ROWS}),
                   CASE WHEN {U}(i, 2) < 0.2 THEN {SKEWED}(i, 3, {BRANDS}) END,
                   'a' || floor({U}(i, 4) * 20)::integer
            {_series(ROWS)}""",
        "100,000 settings of the 100,000 users (skewed), 80% for every brand (NULL brand_id), "
        "20 actions",
    ),
)

RUNS = 20_000
_TABLES = (
    *_TABLES,
    ScaleTable(
        "rc_run",
        RUNS,
        f"""INSERT INTO "rc_run" ("brand_id", "manager_id", "tester_id", "stop_date")
            SELECT {SKEWED}(i, 1, {BRANDS}), {SKEWED}(i, 2, {ROWS}),
                   CASE WHEN {U}(i, 3) < 0.7 THEN {SKEWED}(i, 4, {ROWS}) END,
                   CASE WHEN {U}(i, 5) >= 0.2 THEN {CREATED}(i, {RUNS}) END
            {_series(RUNS)}""",
        "20,000 test runs of 200 brands (skewed), managed by the 100,000 users (skewed), 70% "
        "with a tester; a fifth open (stop_date NULL)",
    ),
    ScaleTable(
        "rc_execution",
        ROWS,
        f"""INSERT INTO "rc_execution" ("run_id", "assignee_id")
            SELECT {SKEWED}(i, 1, {RUNS}),
                   CASE WHEN {U}(i, 2) < 0.9 THEN {SKEWED}(i, 3, {ROWS}) END
            {_series(ROWS)}""",
        "100,000 executions of the 20,000 runs (skewed), 90% assigned to one of the users",
    ),
)

SCALE_TABLES: Mapping[str, ScaleTable] = {table.table: table for table in _TABLES}

_CREATE_TABLE = re.compile(r'\A\s*CREATE\s+TABLE\s+"?(\w+)"?', re.IGNORECASE)
_ROWS_OR_STATISTICS = re.compile(r"\A\s*(?:INSERT|ANALY[SZ]E)\b", re.IGNORECASE)


def schema_ddl(setup: Sequence[str]) -> tuple[str, ...]:
    """A tiny setup's DDL, as written: everything but its rows and its ANALYZE."""
    return tuple(statement for statement in setup if not _ROWS_OR_STATISTICS.match(statement))


def tables_created(setup: Sequence[str]) -> tuple[str, ...]:
    """Names of the tables a setup creates, in creation order (parents before children)."""
    return tuple(match.group(1) for statement in setup if (match := _CREATE_TABLE.match(statement)))


def table_ddl(setup: Sequence[str]) -> tuple[str, ...]:
    """A setup's ``CREATE TABLE`` statements, in order."""
    return tuple(statement for statement in setup if _CREATE_TABLE.match(statement))


def scale_setup(setup: Sequence[str]) -> tuple[str, ...]:
    """The same schema at scale: its tables, the scale rows of each, its other DDL (indexes),
    then ANALYZE.

    The DDL is the tiny setup's, statement for statement; only the order differs: indexes are
    built on the loaded rows, which is several times faster than maintaining them row by row and
    gives the same index. Load it with ``session_replication_role = replica`` when the role
    allows it (``load``): the rows are consistent by construction, and foreign key triggers
    would double the load time.
    """
    ddl = schema_ddl(setup)
    tables = tables_created(ddl)
    missing = [table for table in tables if table not in SCALE_TABLES]
    if missing:
        raise KeyError(f"no scale rows for {', '.join(missing)}: add them to scale.py")
    creates = table_ddl(ddl)
    others = tuple(statement for statement in ddl if statement not in creates)
    return (
        *creates,
        *(SCALE_TABLES[table].insert for table in tables),
        *others,
        *(f'ANALYZE "{table}"' for table in tables),
    )


# --- Loading and explaining -----------------------------------------------------------------


def schema_name(setup: Sequence[str]) -> str:
    """The schema that holds a setup's tables at scale: one per distinct DDL (and per version of
    the rows), so cases with the same tables and indexes share it."""
    text = "\n;\n".join(scale_setup(setup))
    return "scale_" + hashlib.sha1(text.encode()).hexdigest()[:12]


def load(url: str, setups: Iterable[Sequence[str]], workers: int = 2) -> dict[str, float]:
    """Build the schema of every distinct setup at scale in the database at ``url``; return the
    seconds spent per table (``schema.table``). A schema that already exists is built again.

    The tables of every schema are created first, in one transaction; then each table gets its
    rows, its indexes and its statistics in a transaction of its own, ``workers`` tables at a
    time on their own connections. Foreign keys do not order that work: their triggers are
    skipped (``session_replication_role``), and the rows are consistent by construction.
    """
    distinct = {schema_name(setup): scale_setup(setup) for setup in setups}
    work: list[tuple[str, str, tuple[str, ...]]] = []
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        for statement in HELPERS:
            conn.execute(statement)
        for schema, statements in distinct.items():
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute("SELECT set_config('search_path', %s, true)", (schema,))
            per_table: dict[str, list[str]] = {}
            for statement in statements:
                created = _CREATE_TABLE.match(statement)
                if created:
                    conn.execute(statement)
                    per_table[created.group(1)] = []
                    continue
                target = _TARGET.search(statement)
                if target is None or target.group(1) not in per_table:
                    raise ValueError(f"cannot tell which table this builds: {statement[:80]}")
                per_table[target.group(1)].append(statement)
            work.extend((schema, table, tuple(rest)) for table, rest in per_table.items())
    # The biggest tables first, so that the workers finish together.
    work.sort(key=lambda item: -SCALE_TABLES[item[1]].rows)
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        timed = list(pool.map(lambda item: _load_table(url, *item), work))
    return {
        f"{schema}.{table}": seconds
        for (schema, table, _), seconds in zip(work, timed, strict=True)
    }


# The table a statement of a scale setup builds: INSERT INTO t, CREATE INDEX ... ON t, ANALYZE t.
_TARGET = re.compile(r'(?:\bINTO|\bON|\AANALY[SZ]E)\s+"?(\w+)"?', re.IGNORECASE)


def _load_table(url: str, schema: str, table: str, statements: Sequence[str]) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (schema,))
        # A crash loses the scale data, which is rebuilt anyway: no need to wait for the disk.
        conn.execute("SET LOCAL synchronous_commit = off")
        _skip_foreign_key_triggers(conn)
        for statement in statements:
            conn.execute(statement)
    return time.perf_counter() - started


def _skip_foreign_key_triggers(conn: psycopg.Connection[Any]) -> None:
    """``session_replication_role = replica`` for this transaction, when the role may set it
    (a superuser, or PostgreSQL 15+ with SET granted); else the triggers run, only slower."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        pass


# Settings for EXPLAIN ANALYZE at scale. JIT compiles expressions of expensive plans: it changes
# no plan, only adds its compile time to each run.
EXPLAIN_SETTINGS: Mapping[str, str] = {"jit": "off"}


def explain_analyze(conn: psycopg.Connection[Any], schema: str, query: str) -> Any:
    """PostgreSQL's natural plan of ``query`` on the scale data in ``schema``, with actual row
    counts and buffers: ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` in a transaction that is
    rolled back, so a DELETE or UPDATE leaves the rows as they were."""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute("SELECT set_config('search_path', %s, true)", (schema,))
        for name, value in EXPLAIN_SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}")
        row = cur.fetchone()
    if row is None:  # pragma: no cover - EXPLAIN always returns its plan
        raise RuntimeError("EXPLAIN returned no row")
    return row[0]


_CATALOG_TABLES = """
    SELECT c.relname, c.reltuples, c.relpages FROM pg_class c
    WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p', 'm')
"""
_CATALOG_INDEXES = """
    SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid, 1, true),
           x.indpred IS NOT NULL, i.relpages, i.reltuples
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    WHERE t.relnamespace = %s::regnamespace
"""


def catalog(conn: psycopg.Connection[Any], schema: str) -> Catalog:
    """The facts the oracle needs about a schema's tables and indexes, after ANALYZE."""
    with conn.cursor() as cur:
        tables = {
            name: TableFacts(rows=float(rows), pages=int(pages))
            for name, rows, pages in cur.execute(_CATALOG_TABLES, (f'"{schema}"',)).fetchall()
        }
        indexes = {
            name: IndexFacts(
                table=table,
                leading=leading,
                partial=bool(partial),
                pages=int(pages),
                tuples=float(tuples),
            )
            for name, table, leading, partial, pages, tuples in cur.execute(
                _CATALOG_INDEXES, (f'"{schema}"',)
            ).fetchall()
        }
    return Catalog(tables=tables, indexes=indexes)


_CATALOG_COLUMNS = """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' AND a.attnum > 0
      AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum
"""


def columns(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[tuple[str, str]]]:
    """Each table's columns and their types, in order."""
    found: dict[str, list[tuple[str, str]]] = {}
    with conn.cursor() as cur:
        for table, column, type_name in cur.execute(_CATALOG_COLUMNS, (f'"{schema}"',)):
            found.setdefault(table, []).append((column, type_name))
    return found
