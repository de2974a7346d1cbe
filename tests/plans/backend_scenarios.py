"""The statements SQLite and MariaDB are held to their own standard with
(``tests/test_standard_backends.py``).

Two groups, on one schema written once (SQLite's spelling of Django 5.2's DDL; ``mysql_ddl``
gives MariaDB's):

- the join-key recall shapes of ``research/join-recall`` (tables ``rc_*`` and ``auth_user``):
  each "must not forgive" next to a "must forgive", the cases ``tests/test_recall.py`` plans on
  tiny tables with the rule the guard must give (``rules``);
- a product catalog (tables ``cat_*``, 400,000 products): the cases the three databases were
  found to judge differently (``select_related`` under a sort with and without the index that
  serves it, a sort whose only touched index is the join key, a long ``IN`` list on an
  unindexed column, an aggregate ordered by its value).

A case's label is the set of tables the standard calls violations: read whole at scale with
most of the rows thrown away (``rules``' keys). Its ``indexes`` are DDL added to the base schema
for it (the project's indexes in that state); cases with the same ``indexes`` share a database.
``TINY_ROWS`` are the handful of rows of a test database; ``backend_scale.py`` loads the same
tables with production-sized rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# --- the schema -------------------------------------------------------------------------------

RECALL_DDL: tuple[str, ...] = (
    """CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" varchar(150) NOT NULL UNIQUE, "last_login" datetime NULL)""",
    """CREATE TABLE "rc_brand" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(100) NOT NULL)""",
    """CREATE TABLE "rc_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "brand_id" bigint NOT NULL REFERENCES "rc_brand" ("id") DEFERRABLE INITIALLY DEFERRED,
    "is_active" bool NOT NULL, "created_at" datetime NOT NULL)""",
    """CREATE INDEX "rc_item_brand_id_5d1e2f3a" ON "rc_item" ("brand_id")""",
    """CREATE TABLE "rc_queue" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" varchar(100) NOT NULL)""",
    """CREATE TABLE "rc_ticket" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "queue_id" bigint NOT NULL REFERENCES "rc_queue" ("id") DEFERRABLE INITIALLY DEFERRED,
    "status" integer NOT NULL, "created" datetime NOT NULL)""",
    """CREATE INDEX "rc_ticket_queue_id_7a2b9c1d" ON "rc_ticket" ("queue_id")""",
    """CREATE TABLE "rc_customer" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" varchar(254) NOT NULL UNIQUE)""",
    """CREATE TABLE "rc_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "customer_id" bigint NOT NULL REFERENCES "rc_customer" ("id") DEFERRABLE INITIALLY DEFERRED,
    "email" varchar(254) NOT NULL, "ref" varchar(20) NOT NULL)""",
    """CREATE INDEX "rc_order_customer_id_3e4f5a6b" ON "rc_order" ("customer_id")""",
    """CREATE TABLE "rc_account" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" integer NOT NULL UNIQUE REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
    "warned_at" datetime NULL, "kind" integer NOT NULL)""",
    """CREATE TABLE "rc_flip" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "owner_id" bigint NOT NULL, "created" datetime NOT NULL)""",
    """CREATE INDEX "rc_flip_owner_created" ON "rc_flip" ("owner_id", "created")""",
)

RECALL_ROWS: tuple[str, ...] = (
    """INSERT INTO "rc_flip" ("owner_id", "created") VALUES (1, '2024-12-01'), (2, '2024-12-02')""",
    """INSERT INTO "auth_user" ("username", "last_login") VALUES
    ('alice', '2024-12-01'), ('bob', NULL)""",
    """INSERT INTO "rc_brand" ("name") VALUES ('acme'), ('globex')""",
    """INSERT INTO "rc_item" ("brand_id", "is_active", "created_at") VALUES
    (1, 1, '2024-12-30'), (2, 0, '2024-12-31')""",
    """INSERT INTO "rc_queue" ("title") VALUES ('support'), ('sales')""",
    """INSERT INTO "rc_ticket" ("queue_id", "status", "created") VALUES
    (1, 1, '2024-12-30'), (2, 3, '2024-12-01')""",
    """INSERT INTO "rc_customer" ("email") VALUES ('a@example.org'), ('b@example.org')""",
    """INSERT INTO "rc_order" ("customer_id", "email", "ref") VALUES
    (1, 'a@example.org', 'r1'), (2, 'z@example.org', 'r2')""",
    """INSERT INTO "rc_account" ("user_id", "warned_at", "kind") VALUES
    (1, '2024-12-30', 1), (2, NULL, 2)""",
)

# A product catalog: brands, products, their reviews and the lines of orders.
CATALOG_DDL: tuple[str, ...] = (
    """CREATE TABLE "cat_brand" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(100) NOT NULL)""",
    """CREATE TABLE "cat_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "brand_id" bigint NOT NULL REFERENCES "cat_brand" ("id") DEFERRABLE INITIALLY DEFERRED,
    "name" varchar(200) NOT NULL, "is_active" bool NOT NULL, "stock" integer NOT NULL,
    "created_at" datetime NOT NULL)""",
    """CREATE INDEX "cat_product_brand_id_0a1b2c3d" ON "cat_product" ("brand_id")""",
    """CREATE TABLE "cat_review" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "product_id" bigint NOT NULL REFERENCES "cat_product" ("id") DEFERRABLE INITIALLY DEFERRED,
    "rating" integer NOT NULL, "created_at" datetime NOT NULL)""",
    """CREATE INDEX "cat_review_product_id_4e5f6a7b" ON "cat_review" ("product_id")""",
    """CREATE TABLE "cat_orderline" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "product_id" bigint NOT NULL REFERENCES "cat_product" ("id") DEFERRABLE INITIALLY DEFERRED,
    "qty" integer NOT NULL)""",
    """CREATE INDEX "cat_orderline_product_id_8c9d0e1f" ON "cat_orderline" ("product_id")""",
)

CATALOG_ROWS: tuple[str, ...] = (
    """INSERT INTO "cat_brand" ("name") VALUES ('acme'), ('globex')""",
    """INSERT INTO "cat_product" ("brand_id", "name", "is_active", "stock", "created_at") VALUES
    (1, 'hammer', 1, 12, '2024-12-30'), (2, 'saw', 0, 0, '2024-12-31'),
    (1, 'rake', 1, 3, '2024-11-02')""",
    """INSERT INTO "cat_review" ("product_id", "rating", "created_at") VALUES
    (1, 5, '2024-12-30'), (2, 2, '2024-12-31'), (3, 4, '2024-12-01')""",
    """INSERT INTO "cat_orderline" ("product_id", "qty") VALUES (1, 2), (2, 1), (1, 5)""",
)

DDL: tuple[str, ...] = (*RECALL_DDL, *CATALOG_DDL)
TINY_ROWS: tuple[str, ...] = (*RECALL_ROWS, *CATALOG_ROWS)

# Model(Meta.indexes=[Index(fields=["-created_at"])]): the index that serves the catalog's page.
PRODUCT_CREATED_INDEX = (
    """CREATE INDEX "cat_product_created_desc" ON "cat_product" ("created_at" DESC)"""
)


def mysql_ddl(statement: str) -> str:
    """MariaDB's spelling of a statement of the schema: backquotes, its own column types, the
    foreign keys left out (every one of them has an index of its own already, which is all
    InnoDB would add)."""
    return (
        re.sub(r'\s*REFERENCES "\w+" \("id"\) DEFERRABLE INITIALLY DEFERRED', "", statement)
        .replace('"', "`")
        .replace(
            "integer NOT NULL PRIMARY KEY AUTOINCREMENT",
            "integer AUTO_INCREMENT NOT NULL PRIMARY KEY",
        )
        .replace("datetime", "datetime(6)")
    )


def mysql_statement(statement: str) -> str:
    """The statement as Django writes it for MySQL/MariaDB: backquoted names."""
    return statement.replace('"', "`")


def references() -> dict[tuple[str, str], tuple[str, str]]:
    """The schema's foreign keys, (table, column) -> (referenced table, column), from ``DDL``."""
    found = {}
    for statement in DDL:
        table = re.match(r'\s*CREATE TABLE "(\w+)"', statement)
        if table is None:
            continue
        for column, target in re.findall(
            r'"(\w+)" \w+ NOT NULL REFERENCES "(\w+)" \("id"\)', statement
        ):
            found[(table.group(1), column)] = (target, "id")
    return found


def few_values(table: str, column: str) -> bool:
    """The columns of few distinct values (the booleans), as the guard reads them from the
    models in a Django run."""
    return column == "is_active"


# --- the cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendCase:
    name: str
    description: str
    # As Django writes it for SQLite (double-quoted names); mysql_statement() for MariaDB.
    statement: str
    # {table: rule} the guard keeps on tiny tables; its tables are the standard's label.
    rules: Mapping[str, str] = field(default_factory=dict, hash=False)
    # DDL added to the base schema: the project's indexes in this case's state.
    indexes: tuple[str, ...] = ()

    @property
    def violations(self) -> frozenset[str]:
        return frozenset(self.rules)


ITEM = '"rc_item"."id", "rc_item"."brand_id", "rc_brand"."id", "rc_brand"."name"'
PRODUCT = (
    '"cat_product"."id", "cat_product"."brand_id", "cat_product"."name", '
    '"cat_product"."is_active", "cat_product"."stock", "cat_product"."created_at"'
)
# More ids than MariaDB's in_predicate_conversion_threshold (1,000): a join with their table.
LONG_LIST = ", ".join(str(i) for i in range(1, 1201))
# As many statuses, of which the tickets have one (4: a quarter of them) and a thousand unused.
STATUSES = ", ".join(str(i) for i in range(4, 1204))

RECALL_CASES: tuple[BackendCase, ...] = (
    BackendCase(
        "left_join_condition_restricts_no_row",
        "A `FilteredRelation`: the customer's unique e-mail in the LEFT JOIN's condition keeps "
        "every order, so the orders' unindexed ref is read whole.",
        'SELECT "rc_order"."id", mine."email" FROM "rc_order" LEFT OUTER JOIN "rc_customer" '
        'mine ON ("rc_order"."customer_id" = mine."id" AND (mine."email" = '
        "'a@example.org')) WHERE \"rc_order\".\"ref\" = 'r1'",
        {"rc_order": "filter"},
    ),
    BackendCase(
        "lookup_filtered_by_its_own_contains",
        "`filter(customer__email__contains=x)`: no index serves the customers' filter, so they "
        "are read whole, whichever table the few rows' plan starts from.",
        'SELECT "rc_order"."id" FROM "rc_order" INNER JOIN "rc_customer" '
        'ON ("rc_order"."customer_id" = "rc_customer"."id") '
        'WHERE "rc_customer"."email" LIKE \'%c123%\'',
        {"rc_customer": "unservable"},
    ),
    BackendCase(
        "select_related_sort",
        "`Item.objects.filter(is_active=True).select_related('brand').order_by('-created_at')"
        "[:20]`: the brands are unrestricted, so the items are read whole and sorted.",
        f'SELECT {ITEM} FROM "rc_item" INNER JOIN "rc_brand" '
        'ON ("rc_item"."brand_id" = "rc_brand"."id") WHERE "rc_item"."is_active" '
        'ORDER BY "rc_item"."created_at" DESC LIMIT 20',
        {"rc_item": "sort-limit"},
    ),
    BackendCase(
        "every_queue",
        "`queue_id IN (SELECT id FROM queue)` with a filter of the tickets' own: the sub-query "
        "keeps every queue, so the queue_id index spares nothing.",
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(SELECT U0."id" FROM "rc_queue" U0) AND "rc_ticket"."created" >= \'2024-12-01\' '
        'AND NOT ("rc_ticket"."status" = 3))',
        {"rc_ticket": "filter"},
    ),
    BackendCase(
        "every_queue_as_a_list",
        "The same with the queues the user may see evaluated first: `queue_id IN (1, ..., 10)` "
        "names every queue there is (the test database's two, production's ten), so the "
        "queue_id index spares nothing.",
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) AND "rc_ticket"."created" >= \'2024-12-01\' '
        'AND NOT ("rc_ticket"."status" = 3))',
        {"rc_ticket": "filter"},
    ),
    BackendCase(
        "every_queue_page_by_created",
        "The newest tickets of every queue, the list evaluated first: "
        "`filter(queue__in=queues).order_by('-created')[:25]`. No index gives the order: every "
        "ticket is read and sorted for the page.",
        'SELECT "rc_ticket"."id", "rc_ticket"."created" FROM "rc_ticket" WHERE '
        '"rc_ticket"."queue_id" IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) '
        'ORDER BY "rc_ticket"."created" DESC LIMIT 25',
        {"rc_ticket": "sort-limit"},
    ),
    BackendCase(
        "every_queue_page_by_newest_id",
        "The same list under `order_by('-id')[:25]`: the primary key walked backwards, the "
        "list keeps every ticket, the first 25 walked are the page.",
        'SELECT "rc_ticket"."id", "rc_ticket"."created" FROM "rc_ticket" WHERE '
        '"rc_ticket"."queue_id" IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) '
        'ORDER BY "rc_ticket"."id" DESC LIMIT 25',
    ),
    BackendCase(
        "every_queue_joined",
        "The same through a join to every queue.",
        'SELECT "rc_ticket"."id", "rc_queue"."title" FROM "rc_ticket" INNER JOIN "rc_queue" '
        'ON ("rc_ticket"."queue_id" = "rc_queue"."id") WHERE ("rc_ticket"."created" >= '
        '\'2024-12-01\' AND NOT ("rc_ticket"."status" = 3))',
        {"rc_ticket": "filter"},
    ),
    BackendCase(
        "or_across_join",
        "`filter(Q(customer__email=x) | Q(email=x)).count()`: an OR across the foreign key.",
        'SELECT COUNT(*) AS "__count" FROM "rc_order" INNER JOIN "rc_customer" '
        'ON ("rc_order"."customer_id" = "rc_customer"."id") WHERE ("rc_customer"."email" = '
        "'a@example.org' OR \"rc_order\".\"email\" = 'a@example.org')",
        {"rc_order": "unservable"},
    ),
    BackendCase(
        "exclude_across_join",
        "`filter(warned_at__lt=d).exclude(user__last_login__gt=F('warned_at'))`: the user side "
        "has no condition of its own, and warned_at, set on few rows, has no index.",
        'SELECT "rc_account"."id" FROM "rc_account" INNER JOIN "auth_user" '
        'ON ("rc_account"."user_id" = "auth_user"."id") WHERE ("rc_account"."warned_at" < '
        '\'2025-01-01\' AND NOT ("auth_user"."last_login" > ("rc_account"."warned_at") '
        'AND "auth_user"."last_login" IS NOT NULL)) ORDER BY "rc_account"."id" ASC',
        {"rc_account": "filter"},
    ),
    BackendCase(
        "driven_by_unique_email",
        "Against them: the orders of the customer found by a unique e-mail.",
        'SELECT "rc_order"."id" FROM "rc_order" INNER JOIN "rc_customer" '
        'ON ("rc_order"."customer_id" = "rc_customer"."id") WHERE ("rc_customer"."email" = '
        "'a@example.org' AND \"rc_order\".\"ref\" = 'r1')",
    ),
    BackendCase(
        "driven_by_unique_username",
        "The account of the user found by username: the unique user_id index finds it.",
        'SELECT "rc_account"."id" FROM "rc_account" INNER JOIN "auth_user" '
        'ON ("rc_account"."user_id" = "auth_user"."id") WHERE ("auth_user"."username" = '
        '\'alice\' AND "rc_account"."kind" = 1)',
    ),
    BackendCase(
        "queue_found_by_its_key",
        "The tickets of one queue found by its title: the queue's title has no index, that "
        "read is the queue's own finding, not the tickets'.",
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(SELECT U0."id" FROM "rc_queue" U0 WHERE U0."title" = \'support\') '
        'AND NOT ("rc_ticket"."status" = 3))',
        {"rc_queue": "filter"},
    ),
    BackendCase(
        "long_in_list_unindexed",
        "A long IN list on an unindexed column (MariaDB turns one of 1,000 values or more into "
        "a join with a table of the values): the list is the table's own condition.",
        f'SELECT "rc_ticket"."id" FROM "rc_ticket" WHERE "rc_ticket"."status" IN ({STATUSES})',
        {"rc_ticket": "filter"},
    ),
    BackendCase(
        "long_in_list_indexed",
        "The same list on an indexed column: served.",
        f'SELECT "rc_ticket"."id" FROM "rc_ticket" WHERE "rc_ticket"."queue_id" IN ({LONG_LIST})',
    ),
    BackendCase(
        "aggregate_ordered_by_its_value",
        "`annotate(n=Count(...)).order_by('-n')[:10]`: no index holds that order; every row "
        "is counted whatever the indexes.",
        'SELECT "rc_ticket"."queue_id", COUNT("rc_ticket"."id") AS "n" FROM "rc_ticket" '
        'GROUP BY "rc_ticket"."queue_id" ORDER BY "n" DESC LIMIT 10',
    ),
    BackendCase(
        "aggregate_ordered_by_position",
        "The same ordered by position.",
        'SELECT "rc_ticket"."queue_id", COUNT("rc_ticket"."id") AS "n" FROM "rc_ticket" '
        'GROUP BY "rc_ticket"."queue_id" ORDER BY 2 DESC LIMIT 10',
    ),
    BackendCase(
        "distinct_page_of_every_queue",
        "The page of a ticket list: DISTINCT over the join to every queue, ordered by created.",
        'SELECT DISTINCT "rc_ticket"."id", "rc_ticket"."created", "rc_queue"."title" '
        'FROM "rc_ticket" INNER JOIN "rc_queue" ON ("rc_ticket"."queue_id" = "rc_queue"."id") '
        'WHERE "rc_ticket"."queue_id" IN (SELECT U0."id" FROM "rc_queue" U0) '
        'ORDER BY "rc_ticket"."created" ASC LIMIT 25',
        {"rc_ticket": "sort-limit"},
    ),
    BackendCase(
        "correlated_subquery_reads_a_whole_index",
        "A correlated sub-query (MariaDB's DEPENDENT SUBQUERY) that walks a whole index, the "
        "second column of (owner_id, created), again for every ticket.",
        'SELECT "rc_ticket"."id", (SELECT MAX(U0."created") FROM "rc_flip" U0 '
        'WHERE U0."created" > ("rc_ticket"."created")) AS "latest" FROM "rc_ticket"',
        {"rc_flip": "join"},
    ),
    BackendCase(
        "queue_restricted_by_a_flag_only",
        "A condition on the other side that keeps all of it is no restriction.",
        'SELECT COUNT(*) AS "__count" FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" IN '
        '(SELECT U0."id" FROM "rc_queue" U0 WHERE U0."title" IS NOT NULL) '
        'AND "rc_ticket"."created" >= \'2024-12-01\')',
        {"rc_ticket": "filter"},
    ),
)

CATALOG_CASES: tuple[BackendCase, ...] = (
    BackendCase(
        "catalog_page_unindexed",
        "`Product.objects.filter(is_active=True).select_related('brand')"
        ".order_by('-created_at')[:20]` without an index on created_at: production reads the "
        "products whole and sorts them.",
        f'SELECT {PRODUCT}, "cat_brand"."id", "cat_brand"."name" FROM "cat_product" '
        'INNER JOIN "cat_brand" ON ("cat_product"."brand_id" = "cat_brand"."id") '
        'WHERE "cat_product"."is_active" ORDER BY "cat_product"."created_at" DESC LIMIT 20',
        {"cat_product": "sort-limit"},
    ),
    BackendCase(
        "catalog_page_indexed",
        "The same with `Index(fields=['-created_at'])`: the index is walked in its order and "
        "the LIMIT stops it.",
        f'SELECT {PRODUCT}, "cat_brand"."id", "cat_brand"."name" FROM "cat_product" '
        'INNER JOIN "cat_brand" ON ("cat_product"."brand_id" = "cat_brand"."id") '
        'WHERE "cat_product"."is_active" ORDER BY "cat_product"."created_at" DESC LIMIT 20',
        indexes=(PRODUCT_CREATED_INDEX,),
    ),
    BackendCase(
        "latest_good_reviews",
        "`Review.objects.filter(rating__gte=4).select_related('product')"
        ".order_by('-created_at')[:10]`: the only index the statement touches is "
        "review.product_id; the reviews are read whole and sorted.",
        'SELECT "cat_review"."id", "cat_review"."product_id", "cat_review"."rating", '
        f'"cat_review"."created_at", {PRODUCT} FROM "cat_review" INNER JOIN "cat_product" '
        'ON ("cat_review"."product_id" = "cat_product"."id") WHERE "cat_review"."rating" >= 4 '
        'ORDER BY "cat_review"."created_at" DESC LIMIT 10',
        {"cat_review": "sort-limit"},
    ),
    BackendCase(
        "stock_in_long_list",
        "`filter(stock__in=ids)` with 1,200 ids on an unindexed column (MariaDB turns the list "
        "into a join with a derived table of its values).",
        f'SELECT {PRODUCT} FROM "cat_product" WHERE "cat_product"."stock" IN ({LONG_LIST})',
        {"cat_product": "filter"},
    ),
    BackendCase(
        "reviews_of_a_long_list",
        "Against it: `filter(product_id__in=ids)` with 1,200 ids on the indexed foreign key.",
        'SELECT "cat_review"."id", "cat_review"."rating" FROM "cat_review" '
        f'WHERE "cat_review"."product_id" IN ({LONG_LIST})',
    ),
    BackendCase(
        "best_sellers",
        "`OrderLine.objects.values('product_id').annotate(qty=Sum('qty')).order_by('-qty')"
        "[:10]`: an aggregate ordered by its value; nothing to index, every line is summed.",
        'SELECT "cat_orderline"."product_id", SUM("cat_orderline"."qty") AS "qty" '
        'FROM "cat_orderline" GROUP BY "cat_orderline"."product_id" ORDER BY 2 DESC LIMIT 10',
    ),
)

CASES: tuple[BackendCase, ...] = (*RECALL_CASES, *CATALOG_CASES)
CASES_BY_NAME: Mapping[str, BackendCase] = {case.name: case for case in CASES}


def states(cases: Sequence[BackendCase]) -> dict[tuple[str, ...], list[BackendCase]]:
    """The cases grouped by the indexes they add, the base schema first."""
    found: dict[tuple[str, ...], list[BackendCase]] = {(): []}
    for case in cases:
        found.setdefault(case.indexes, []).append(case)
    return {key: value for key, value in found.items() if value}


def judged(backend: Any, raw: Any, statement: str) -> dict[str, str]:
    """The guard's verdict on ``statement`` on the tiny tables of ``raw``, as in a test run:
    planned by ``backend`` (forced), judged with the database's indexes; {table: rule}."""
    from pytest_indexguard.explain import Context

    plan = backend.explain(raw, statement, forced=True).plan
    # The foreign keys as a project's models give them (mysql_ddl leaves the constraints out).
    context = Context(
        schema=backend.schema(raw).with_references(references()), few_values=few_values
    )
    assessment = backend.assess(raw, statement, plan, context)
    if assessment.errors:
        raise AssertionError(assessment.errors)
    return {f.table: f.rule.value for f in assessment.findings if f.rule is not None}
