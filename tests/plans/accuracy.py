"""The accuracy statements: the monitoring app's join-order and partial-index cases, the shop's
planner-choice cases, and the full scans production would really do. Their tables are
``artifacts.sql``. Used by ``tests/test_accuracy.py`` (live, in an inner session),
``capture_judge.py`` (stored plans) and ``tests/test_judge.py`` (the judgement on those plans).
"""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = (Path(__file__).parent / "artifacts.sql").read_text(encoding="utf-8")

# A supplier's products (see the statements below); {extra}: more of the WHERE clause.
_SUPPLIER = """SELECT DISTINCT "rc_product"."id",
        "rc_product"."title", "rc_product"."updated" FROM "rc_product"
        LEFT OUTER JOIN "rc_product" T3 ON ("rc_product"."id" = T3."parent_id")
        LEFT OUTER JOIN "rc_stock" ON (T3."id" = "rc_stock"."product_id")
        LEFT OUTER JOIN "rc_partner" ON ("rc_stock"."partner_id" = "rc_partner"."id")
        LEFT OUTER JOIN "rc_partner_users"
          ON ("rc_partner"."id" = "rc_partner_users"."partner_id")
        LEFT OUTER JOIN "rc_stock" T8 ON ("rc_product"."id" = T8."product_id")
        LEFT OUTER JOIN "rc_partner" T9 ON (T8."partner_id" = T9."id")
        LEFT OUTER JOIN "rc_partner_users" T10 ON (T9."id" = T10."partner_id")
        WHERE ("rc_product"."parent_id" IS NULL{extra}
          AND ("rc_partner_users"."user_id" = 7 OR T10."user_id" = 7))
        ORDER BY "rc_product"."updated" DESC LIMIT 20"""

STATEMENTS: dict[str, str] = {
    # A four-table join under LIMIT 1 with an OR: member.project_id has an index.
    "join_order_member": """SELECT 1 AS "a" FROM "team_member"
        INNER JOIN "team_project" ON ("team_member"."project_id" = "team_project"."id")
        INNER JOIN "auth_user" T4 ON ("team_member"."user_id" = T4."id")
        LEFT OUTER JOIN "team_profile" ON (T4."id" = "team_profile"."user_id")
        WHERE ("team_project"."owner_id" = 1 AND (T4."date_joined" > '2024-01-01'::timestamptz
           OR T4."last_login" > '2024-01-01'::timestamptz
           OR "team_profile"."last_active_date" > '2024-01-01'::timestamptz)) LIMIT 1""",
    # fk IN (SELECT DISTINCT ...) AND an unindexed status: the (project_id, slug) index.
    "join_order_check": """SELECT 1 AS "a" FROM "mon_check" WHERE ("mon_check"."project_id" IN (
        SELECT DISTINCT U0."id" FROM "team_project" U0
        LEFT OUTER JOIN "team_member" U2 ON (U0."id" = U2."project_id")
        WHERE U0."owner_id" = 1) AND "mon_check"."status" = 'down') LIMIT 1""",
    # filter(processed=None).order_by("id").first() over an index WHERE processed IS NULL.
    "partial_index": """SELECT * FROM "mon_flip" WHERE "mon_flip"."processed" IS NULL
        ORDER BY "mon_flip"."id" ASC LIMIT 1""",
    # filter(category=cat, status="active").count() next to a partial index of active ones.
    "partial_index_count": """SELECT COUNT(*) FROM "shop_product"
        WHERE "shop_product"."category_id" = 1 AND "shop_product"."status" = 'active'""",
    # filter(stock__lt=2) on a db_index=True column.
    "indexed_range": """SELECT * FROM "shop_product" WHERE "shop_product"."stock" < 2""",
    # An OR across two tables: no index serves it.
    "or_across_tables": """SELECT "team_profile".* FROM "team_profile"
        INNER JOIN "auth_user" ON ("team_profile"."user_id" = "auth_user"."id")
        LEFT OUTER JOIN "team_member" ON ("auth_user"."id" = "team_member"."user_id")
        WHERE (("team_profile"."user_id" = 1 OR "team_member"."project_id" = 1)
           AND NOT ("team_profile"."nag_period" = '0:00:00'::interval))""",
    # The integer column's index cannot serve a comparison of its text.
    "cast_disables_index": """SELECT * FROM "shop_product"
        WHERE "shop_product"."code"::text = '12'""",
    # Only (status, created_at): a condition on created_at alone reads the whole index.
    "non_leading_column": """SELECT * FROM "shop_product"
        WHERE "shop_product"."created_at" <= '2020-01-01'::timestamptz""",
    "not_equal": """SELECT * FROM "shop_product" WHERE NOT ("shop_product"."status" = 'active')""",
    "leading_wildcard": """SELECT * FROM "shop_product"
        WHERE "shop_product"."name"::text LIKE '%amm%'""",
    "icontains": """SELECT * FROM "shop_product"
        WHERE UPPER("shop_product"."name"::text) LIKE UPPER('%amm%')""",
    "iexact_and_flag": """SELECT * FROM "auth_user"
        WHERE UPPER("auth_user"."email"::text) = UPPER('Alice@example.org')
          AND "auth_user"."is_active" LIMIT 21""",
    "unindexed_email": """SELECT * FROM "auth_user" WHERE "auth_user"."email" = 'a@example.org'""",
    "unindexed_join": """SELECT "tp_order".* FROM "auth_user"
        INNER JOIN "tp_order" ON ("tp_order"."customer_id" = "auth_user"."id")
        WHERE "auth_user"."username" = 'alice'""",
    "unindexed_order": """SELECT * FROM "tp_event"
        ORDER BY "tp_event"."created_at" DESC LIMIT 10""",
    # Found on third-party suites. A NOT EXISTS over every row (an anti join): each row must be
    # checked for a missing match, whatever the indexes.
    "anti_join_whole_table": """SELECT COUNT(*) FROM "mon_check" WHERE NOT (EXISTS(
        SELECT 1 FROM "mon_flip" U0 WHERE U0."owner_id" = "mon_check"."id"))""",
    # exclude(pk=...): every row but one.
    "exclude_primary_key": """SELECT * FROM "shop_product" WHERE NOT ("shop_product"."id" = 1)""",
    # get_objects_for_user's shape: pk IN (one sub-query) OR pk IN (another).
    "or_of_subqueries": """SELECT * FROM "team_project" WHERE ("team_project"."id" IN (
        SELECT U0."project_id" FROM "team_member" U0 WHERE U0."user_id" = 2)
        OR "team_project"."id" IN (
        SELECT U1."project_id" FROM "mon_check" U1 WHERE U1."project_id" = 3))""",
    "retry_queue": """SELECT * FROM "tp_delivery" WHERE ("tp_delivery"."status" = 'retrying'
        AND "tp_delivery"."next_attempt_at" <= '2025-01-01'::timestamptz)
        ORDER BY "tp_delivery"."next_attempt_at" ASC LIMIT 100""",
    # Recall (research/join-recall): an index on the join key does not spare a read when the
    # other side of the join has no selective condition of its own.
    # select_related of a lookup table under order_by("-created_at")[:20]: the sort.
    "recall_select_related_sort": """SELECT "rc_item"."id", "rc_item"."brand_id",
        "rc_item"."is_active", "rc_item"."created_at", "rc_brand"."id", "rc_brand"."name"
        FROM "rc_item" INNER JOIN "rc_brand" ON ("rc_item"."brand_id" = "rc_brand"."id")
        WHERE "rc_item"."is_active" ORDER BY "rc_item"."created_at" DESC LIMIT 20""",
    # Every queue the user may see: the sub-query keeps every queue, the filter is the ticket's.
    "recall_every_queue": """SELECT COUNT(*) AS "__count" FROM "rc_ticket"
        WHERE ("rc_ticket"."queue_id" IN (SELECT U0."id" FROM "rc_queue" U0)
        AND "rc_ticket"."created" >= '2024-12-01T00:00:00+00:00'::timestamptz
        AND NOT ("rc_ticket"."status" = 3))""",
    # The same with select_related("queue").
    "recall_every_queue_joined": """SELECT "rc_ticket"."id", "rc_ticket"."queue_id",
        "rc_ticket"."status", "rc_ticket"."created", "rc_queue"."id", "rc_queue"."title"
        FROM "rc_ticket" INNER JOIN "rc_queue" ON ("rc_ticket"."queue_id" = "rc_queue"."id")
        WHERE ("rc_ticket"."created" >= '2024-12-01T00:00:00+00:00'::timestamptz
        AND NOT ("rc_ticket"."status" = 3))""",
    # filter(Q(customer__email=x) | Q(email=x)).count(): an OR across the join.
    "recall_or_across_join": """SELECT COUNT(*) AS "__count" FROM "rc_order"
        INNER JOIN "rc_customer" ON ("rc_order"."customer_id" = "rc_customer"."id")
        WHERE ("rc_customer"."email" = 'a@example.org' OR "rc_order"."email" = 'a@example.org')""",
    # filter(warned_at__lt=d).exclude(user__last_login__gt=F("warned_at")).order_by("id").
    "recall_exclude_across_join": """SELECT "rc_account"."id", "rc_account"."user_id",
        "rc_account"."warned_at", "rc_account"."kind" FROM "rc_account"
        INNER JOIN "auth_user" ON ("rc_account"."user_id" = "auth_user"."id")
        WHERE ("rc_account"."warned_at" < '2025-01-01T00:00:00+00:00'::timestamptz
        AND NOT ("auth_user"."last_login" > ("rc_account"."warned_at")
        AND "auth_user"."last_login" IS NOT NULL)) ORDER BY "rc_account"."id" ASC""",
    # The staff ticket list: DISTINCT over the join, ordered by the tickets' created, a page.
    "recall_distinct_page": """SELECT DISTINCT "rc_ticket"."id", "rc_ticket"."status",
        "rc_ticket"."created", "rc_queue"."id", "rc_queue"."title" FROM "rc_ticket"
        INNER JOIN "rc_queue" ON ("rc_ticket"."queue_id" = "rc_queue"."id")
        WHERE "rc_ticket"."queue_id" IN (SELECT U0."id" FROM "rc_queue" U0)
        ORDER BY "rc_ticket"."created" ASC LIMIT 25""",
    # Checks that flapped lately: every check's flips through (owner_id, created), whose range
    # on created is the index's second column.
    "recall_flips_of_every_check": """SELECT "rc_check"."id", "rc_check"."name",
        COUNT("rc_flip"."id") AS "num_flips" FROM "rc_check"
        INNER JOIN "rc_flip" ON ("rc_check"."id" = "rc_flip"."owner_id")
        WHERE "rc_flip"."created" > '2024-12-05T00:00:00+00:00'::timestamptz
        GROUP BY "rc_check"."id" HAVING COUNT("rc_flip"."id") > 3 ORDER BY 3 DESC""",
    # Against them, the other side restricted to one row by a unique column: production starts
    # there and reaches the orders through their customer_id index.
    "driven_by_unique_email": """SELECT "rc_order"."id", "rc_order"."ref" FROM "rc_order"
        INNER JOIN "rc_customer" ON ("rc_order"."customer_id" = "rc_customer"."id")
        WHERE ("rc_customer"."email" = 'a@example.org' AND "rc_order"."ref" = 'r1')""",
    "driven_by_unique_username": """SELECT "rc_account"."id" FROM "rc_account"
        INNER JOIN "auth_user" ON ("rc_account"."user_id" = "auth_user"."id")
        WHERE ("auth_user"."username" = 'alice' AND "rc_account"."kind" = 1)""",
    # A wide table never analysed: the primary key and (category_id, id) cost the same for
    # id = 1, and the planner takes the composite index, id its second column.
    "tie_primary_key_beside_composite": """SELECT * FROM "rc_thread"
        WHERE "rc_thread"."id" = 1""",
    # One queue's tickets of the last day through the queue_id index alone: every ticket of the
    # queue is read to keep a few. Not a full scan; with production's shape (a queue holds
    # 50,000 tickets) a violation, judged in tests/test_judge.py.
    "filtered_range_of_a_key": """SELECT * FROM "rc_ticket" WHERE ("rc_ticket"."queue_id" = 1
        AND "rc_ticket"."created" > '2024-12-05T00:00:00+00:00'::timestamptz)""",
    # The tickets of the queues a user may see, as a list of their ids (every queue, for a
    # staff member), created lately and not closed: at scale every ticket is read for the
    # day's. A violation when the list names every queue the test database holds (live, in
    # tests/test_accuracy.py) or with production's shape (ten queues, tests/test_judge.py).
    "every_queue_as_a_list": """SELECT "rc_ticket"."id" FROM "rc_ticket"
        WHERE ("rc_ticket"."queue_id" IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
          AND "rc_ticket"."created" >= '2024-12-05T00:00:00+00:00'::timestamptz
          AND NOT ("rc_ticket"."status" = 4))""",
    # A supplier's products (an e-commerce dashboard): LEFT JOINs to the user-to-partner link
    # table along two paths, an OR across its two aliases checked by the top join. At scale
    # production reads the products and their stock records whole and sifts them at the end
    # (1.1 s at 200,000 products); the small link table is what it sifts through.
    "supplier_products_or_across_link_aliases": _SUPPLIER.format(extra=""),
    # Against it, the same restricted to one product: production starts there.
    "supplier_product_by_id": _SUPPLIER.format(extra=' AND "rc_product"."id" = 5'),
    # Against it, a later column of a composite index that no index leads with.
    "later_column_no_index_leads": """SELECT * FROM "rc_thread"
        WHERE "rc_thread"."rank" = 5""",
}

# What the guard must say about each: None passes; otherwise the rule of its one violation.
EXPECTED: dict[str, str | None] = {
    "join_order_member": None,
    "join_order_check": None,
    "partial_index": None,
    "partial_index_count": None,
    "indexed_range": None,
    "or_across_tables": "unservable",
    "cast_disables_index": "filter",
    "non_leading_column": "filter",
    "not_equal": "unservable",
    "leading_wildcard": "unservable",
    "icontains": "unservable",
    "iexact_and_flag": "filter",
    "unindexed_email": "filter",
    "unindexed_join": "join",
    "unindexed_order": "sort-limit",
    "retry_queue": "filter",
    "anti_join_whole_table": None,
    "exclude_primary_key": None,
    "or_of_subqueries": "unservable",
    "recall_select_related_sort": "sort-limit",
    "recall_every_queue": "filter",
    "recall_every_queue_joined": "filter",
    "recall_or_across_join": "unservable",
    "recall_exclude_across_join": "filter",
    "driven_by_unique_email": None,
    "driven_by_unique_username": None,
    "recall_distinct_page": "sort-limit",
    "recall_flips_of_every_check": "filter",
    "tie_primary_key_beside_composite": None,
    "filtered_range_of_a_key": None,
    "supplier_products_or_across_link_aliases": "unservable",
    "supplier_product_by_id": None,
    "every_queue_as_a_list": None,
    "later_column_no_index_leads": "filter",
}

# Verdicts judged live only: they rest on the test database's rows, which a stored plan does not
# hold (tests/test_judge.py replays the plans without them and expects EXPECTED's verdict). The
# list names every queue the test database holds (two): every ticket is read at scale.
LIVE_EXPECTED: dict[str, str | None] = {**EXPECTED, "every_queue_as_a_list": "filter"}
