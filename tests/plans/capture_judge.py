"""Capture what the judgement sees for every accuracy statement (``accuracy.py``) from a real
server into ``judge/pg<major>/<name>.json``: the index catalog of its tables, the forced plan, and
each probe with the plan the server gave it. ``tests/test_judge.py`` replays the judgement on
these files, with no database. Run from the repository root::

    python -m tests.plans.capture_judge --database-url postgres://postgres@127.0.0.1:5432/postgres
    python -m tests.plans.capture_judge          # $DATABASE_URL, else an embedded PostgreSQL 18

With ``--more``, the statements of ``MORE``, ``UNSORTED`` and ``ANY_KEY`` instead, into
``judge/more/pg<major>/``: shapes on the same tables that only the tests of the judgement's
paths replay (``tests/test_mutation_kills.py``), not the accuracy run. With
``--partitions``, those of ``PARTITIONS`` on a table partitioned by range (``PARTITIONED``,
created beside the others), into ``judge/partitions/pg<major>/``, with each partition's parent
(``parents``). With ``--shapes``, those of ``SHAPES`` on tables of their own (``SHAPES_DDL``),
into ``judge/shapes/pg<major>/``: plan shapes the tests of ``plan.py`` replay. With
``--join-order``, the statements of ``join_order.py`` on their own tables in each statistics
state, into ``judge/join_order/pg<major>/<case>__<state>.json`` (the same tests replay them).

Everything happens in a schema of its own inside a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg

from pytest_indexguard import judge
from pytest_indexguard.explain import postgresql
from pytest_indexguard.plan import analyze
from pytest_indexguard.schema import Schema

from .accuracy import ARTIFACTS, STATEMENTS
from .capture_plans import server_major, server_version, start_embedded_server
from .join_order import (
    CASES,
    DDL,
    DDL_WITHOUT_OFFER_INDEX,
    STATES,
    WITHOUT_OFFER_INDEX,
    slug,
)

JUDGE_DIR = Path(__file__).resolve().parent / "judge"
SCHEMA = "indexguard_judge"

_CURSOR = "DECLARE indexguard_cursor NO SCROLL CURSOR FOR "

# Statements whose plans and probes hold paths of ``judge.settle`` the accuracy statements do
# not reach: a server-side cursor (``QuerySet.iterator()``, planned as the guard plans it,
# ``explain.postgresql.CURSOR``) that walks the primary key in order and filters every row, an
# OR that two indexes combine, a joined read beside a driver no index serves, and a probe
# answered through an index its column does not lead.
MORE: dict[str, str] = {
    # A range of stock: the stock index serves it, the cursor walks the primary key.
    "cursor_range": f"""{_CURSOR}SELECT "shop_product"."id" FROM "shop_product"
        WHERE "shop_product"."stock" < 2 ORDER BY "shop_product"."id" ASC""",
    # A category's products: the category_id index serves it, the cursor walks the key.
    "cursor_key": f"""{_CURSOR}SELECT "shop_product"."id" FROM "shop_product"
        WHERE "shop_product"."category_id" = 2 ORDER BY "shop_product"."id" ASC""",
    # A range and a key together.
    "cursor_key_and_range": f"""{_CURSOR}SELECT "shop_product"."id" FROM "shop_product"
        WHERE ("shop_product"."category_id" = 2 AND "shop_product"."stock" < 2)
        ORDER BY "shop_product"."id" ASC""",
    # A range and a test no index serves: the range alone does not make the walk.
    "cursor_range_and_not_equal": f"""{_CURSOR}SELECT "shop_product"."id" FROM "shop_product"
        WHERE ("shop_product"."stock" < 2 AND NOT ("shop_product"."status" = 'draft'))
        ORDER BY "shop_product"."id" ASC""",
    # The first product of a category or low in stock: the primary key walked for the order,
    # the OR read at scale through a BitmapOr of the category_id and stock indexes.
    "or_of_two_indexes": """SELECT "shop_product"."id" FROM "shop_product"
        WHERE ("shop_product"."category_id" = 1 OR "shop_product"."stock" < 2)
        ORDER BY "shop_product"."id" ASC LIMIT 1""",
    # The same with a side that reads a category to keep the few of one name.
    "or_with_a_filtered_side": """SELECT "shop_product"."id" FROM "shop_product"
        WHERE (("shop_product"."category_id" = 1 AND "shop_product"."name" = 'x')
          OR "shop_product"."stock" < 2)
        ORDER BY "shop_product"."id" ASC LIMIT 1""",
    # The same with the key alone first, and a name that holds the word WHERE.
    "or_with_a_filtered_side_second": """SELECT "shop_product"."id" FROM "shop_product"
        WHERE ("shop_product"."stock" < 2
          OR ("shop_product"."category_id" = 1 AND "shop_product"."name" = 'Buy WHERE sold'))
        ORDER BY "shop_product"."id" ASC LIMIT 1""",
    # One condition twice (filter(stock__lt=2) chained twice): PostgreSQL keeps both.
    "a_condition_twice": """SELECT "shop_product"."id" FROM "shop_product"
        WHERE ("shop_product"."stock" < 2 AND "shop_product"."stock" < 2)
        ORDER BY "shop_product"."id" ASC LIMIT 1""",
    # An OR on two columns of a wide table never analysed: its probe reads the whole
    # (category_id, id) index, no BitmapOr.
    "or_without_a_bitmap_or": """SELECT "rc_thread"."rank" FROM "rc_thread"
        WHERE ("rc_thread"."id" = 1 OR "rc_thread"."id" = 7 OR "rc_thread"."category_id" = 5)
        ORDER BY "rc_thread"."id" ASC LIMIT 1""",
    # Orders of a total joined to their customer found by an unindexed email: the customer
    # reached by its primary key, with a selective filter of its own; the orders read whole.
    "joined_by_primary_key_beside_an_unserved_driver": """SELECT "tp_order"."id" FROM "tp_order"
        INNER JOIN "auth_user" ON ("tp_order"."customer_id" = "auth_user"."id")
        WHERE ("tp_order"."total" = 5 AND "auth_user"."email" = 'a@example.org')""",
    # Orders of a ref joined to their customer, whose email holds a substring: the customer
    # reached by its primary key with a filter no index serves.
    "joined_by_primary_key_with_an_unservable_filter": """SELECT "rc_order"."id" FROM "rc_order"
        INNER JOIN "rc_customer" ON ("rc_order"."customer_id" = "rc_customer"."id")
        WHERE ("rc_customer"."email" LIKE '%x%' AND "rc_order"."ref" = 'r1')""",
    # Ordered by a column, then at random: not a random order.
    "sorted_then_at_random": """SELECT "tp_event"."id" FROM "tp_event"
        ORDER BY "tp_event"."created_at" DESC, random() LIMIT 10""",
    # Filters whose conjunct is wrapped in parentheses PostgreSQL adds: a negated flag, a
    # comparison with a function of another column, a NOT IN of a sub-query.
    "inactive_users": 'SELECT "auth_user"."id" FROM "auth_user" WHERE NOT "auth_user"."is_active"',
    "email_other_than_the_username": """SELECT "auth_user"."id" FROM "auth_user"
        WHERE NOT ("auth_user"."email" = LOWER("auth_user"."username"))""",
    "users_outside_a_project": """SELECT "auth_user"."id" FROM "auth_user"
        WHERE NOT ("auth_user"."id" IN (SELECT U0."user_id" FROM "team_member" U0
          WHERE U0."project_id" = 1))""",
    # Accounts of a kind joined to their user found by an unindexed email: the user's read is
    # a filter no index serves, and the account's kind is a selective filter of its own.
    "joined_beside_an_unserved_driver": """SELECT "rc_account"."id" FROM "rc_account"
        INNER JOIN "auth_user" ON ("rc_account"."user_id" = "auth_user"."id")
        WHERE ("auth_user"."email" = 'a@example.org' AND "rc_account"."kind" = 1)""",
    # id = 1 on a wide table never analysed: the (category_id, rank) index walked for the
    # order, and the probe of id = 1 answered through (category_id, id), whose second column
    # it is, beside the primary key (a tie of costs, as tie_primary_key_beside_composite).
    "probe_through_a_tie": """SELECT "rc_thread"."id" FROM "rc_thread"
        WHERE "rc_thread"."id" = 1
        ORDER BY "rc_thread"."category_id" ASC, "rc_thread"."rank" ASC LIMIT 1""",
    # Products with no parent found by a title no index serves: an index range on IS NULL
    # beside a selective filter of the table's own (``judge.null_range``), a pattern's filter
    # (no equality to serve), and the same sorted under a LIMIT.
    "roots_of_a_title": """SELECT "rc_product"."id" FROM "rc_product"
        WHERE ("rc_product"."parent_id" IS NULL AND "rc_product"."title" = 'x')""",
    "roots_of_a_title_pattern": """SELECT "rc_product"."id" FROM "rc_product"
        WHERE ("rc_product"."parent_id" IS NULL AND "rc_product"."title"::text LIKE '%x%')""",
    "roots_of_a_title_sorted": """SELECT "rc_product"."id" FROM "rc_product"
        WHERE ("rc_product"."parent_id" IS NULL AND "rc_product"."title" = 'x')
        ORDER BY "rc_product"."updated" DESC LIMIT 5""",
    # A pattern beside an exclusion: the pattern is what reads the table whole (``unservable``
    # names it, not the ``<>`` that keeps most rows).
    "pattern_beside_an_exclusion": """SELECT "shop_product"."id" FROM "shop_product"
        WHERE (NOT ("shop_product"."status" = 'draft')
          AND "shop_product"."name"::text LIKE '%x%')""",
    # ORs that test one column on each side (a poller's ``next_x < now OR next_x IS NULL``)
    # beside a test no index serves: one index on that column serves each side
    # (``suggest.one_column_ors``). Names no index leads, so the plan reads the table whole.
    "one_column_or_beside_a_test_no_index_serves": """SELECT "shop_product"."id"
        FROM "shop_product" WHERE (NOT ("shop_product"."status" = 'draft')
          AND ("shop_product"."name" < 'b' OR "shop_product"."name" > 'x'))""",
    # An equality on one side, a range on the other, then an OR of two columns.
    "one_column_or_of_an_equality_and_a_range": """SELECT "shop_product"."id"
        FROM "shop_product" WHERE (NOT ("shop_product"."status" = 'draft')
          AND ("shop_product"."name" = 'a' OR "shop_product"."name" > 'x')
          AND ("shop_product"."name" < 'c' OR "shop_product"."created_at" > '2025-01-01'))""",
    # A side no plain index serves (a pattern), and an OR on three sides of one column.
    "one_column_or_with_a_pattern_side": """SELECT "shop_product"."id"
        FROM "shop_product" WHERE (NOT ("shop_product"."status" = 'draft')
          AND ("shop_product"."name" < 'b' OR "shop_product"."name" LIKE '%x%'))""",
    "one_column_or_of_three_sides": """SELECT "shop_product"."id" FROM "shop_product"
        WHERE ("shop_product"."name" < 'b' OR "shop_product"."name" = 'm'
          OR "shop_product"."name" > 'x')""",
}


# Pages of the tickets of a list of every queue (``every_key``), sorted by a column the list's
# index does not give: captured with the plan made again with sorts off (``unsorted``), as the
# guard plans it (``explain.postgresql.NO_SORT``), which walks the primary key in order and
# sifts the list (``judge._walked_past_the_list``). With ``--more``, into the same folder.
UNSORTED: dict[str, str] = {
    # The list alone: the first tickets walked are the page.
    "every_queue_page": """SELECT "rc_ticket"."id" FROM "rc_ticket"
        WHERE "rc_ticket"."queue_id" IN (1, 2) ORDER BY "rc_ticket"."id" DESC LIMIT 25""",
    # Beside tests that keep most rows: a status not closed, every ticket but one.
    "every_queue_page_not_closed": """SELECT "rc_ticket"."id" FROM "rc_ticket"
        WHERE ("rc_ticket"."queue_id" IN (1, 2) AND NOT ("rc_ticket"."status" = 3)
          AND NOT ("rc_ticket"."id" = 5))
        ORDER BY "rc_ticket"."id" DESC LIMIT 25""",
    # Beside a status of its own (few values, or a selective one without that knowledge).
    "every_queue_page_of_a_status": """SELECT "rc_ticket"."id" FROM "rc_ticket"
        WHERE ("rc_ticket"."queue_id" IN (1, 2) AND "rc_ticket"."status" = 1)
        ORDER BY "rc_ticket"."id" DESC LIMIT 25""",
    # Beside a range of its own, which keeps few rows: the walk reads until it finds them.
    "every_queue_page_since": """SELECT "rc_ticket"."id" FROM "rc_ticket"
        WHERE ("rc_ticket"."queue_id" IN (1, 2)
          AND "rc_ticket"."created" >= '2024-12-05T00:00:00+00:00'::timestamptz)
        ORDER BY "rc_ticket"."id" DESC LIMIT 25""",
}

# Books whose identifiers one Bloom index holds and whose search a GIN index serves (a federated
# catalogue's, as tests/test_other_index_methods.py judges them live): indexes that serve a
# condition on any of their keys (``judge.ANY_KEY_METHODS``). With ``--more``, on tables of
# their own (``BOOKS``), into the same folder.
BOOKS = """
CREATE EXTENSION IF NOT EXISTS bloom;
CREATE TABLE book (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    remote_id varchar(255) NOT NULL,
    openlibrary_key varchar(255),
    isbn_13 varchar(255),
    title text NOT NULL,
    search_vector tsvector);
CREATE TABLE edition (book_ptr_id bigint PRIMARY KEY REFERENCES book (id), pages integer);
INSERT INTO book (remote_id, openlibrary_key, isbn_13, title, search_vector)
SELECT 'https://example.org/book/' || g, 'OL' || g || 'M', '978' || g, 'title ' || g,
       to_tsvector('simple', 'title ' || g)
FROM generate_series(1, 5) g;
INSERT INTO edition (book_ptr_id, pages) SELECT g, 100 FROM generate_series(1, 5) g;
CREATE INDEX book_identifiers_bloom ON book USING bloom (remote_id, openlibrary_key, isbn_13);
CREATE INDEX book_search ON book USING gin (search_vector);
"""
_EDITIONS = """SELECT "edition"."book_ptr_id" FROM "edition"
        INNER JOIN "book" ON ("edition"."book_ptr_id" = "book"."id") WHERE """
ANY_KEY: dict[str, str] = {
    # A key the Bloom index holds (its second), one it does not hold, and a text search.
    "book_by_a_key_of_a_bloom_index": _EDITIONS
    + """"book"."openlibrary_key" = 'OL3M' ORDER BY "edition"."book_ptr_id" ASC LIMIT 1""",
    "book_by_a_title_beside_a_bloom_index": _EDITIONS
    + """"book"."title" = 'title 3' ORDER BY "edition"."book_ptr_id" ASC LIMIT 1""",
    "book_by_a_search_of_a_gin_index": _EDITIONS
    + """"book"."search_vector" @@ plainto_tsquery('simple', 'title') LIMIT 10""",
}

# A log partitioned by year, as a project partitions a large table by hand (Django has no
# model option for it): the rows of each partition read whole by a filter no index serves.
PARTITIONED = """
CREATE TABLE pt_event (
  id bigint NOT NULL,
  created timestamptz NOT NULL,
  kind varchar(20) NOT NULL,
  owner_id integer NOT NULL,
  PRIMARY KEY (id, created)) PARTITION BY RANGE (created);
CREATE TABLE pt_event_2024 PARTITION OF pt_event
  FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE pt_event_2025 PARTITION OF pt_event
  FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
INSERT INTO pt_event (id, created, kind, owner_id)
  SELECT i, '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 hour', 'k' || (i % 7), i % 50
  FROM generate_series(1, 12000) AS i;
ANALYZE pt_event;
"""

PARTITIONS: dict[str, str] = {
    # An owner's events of a kind, in every partition: each partition read whole.
    "owner_kind_of_every_partition": """SELECT "pt_event"."id" FROM "pt_event"
        WHERE ("pt_event"."owner_id" = 7 AND "pt_event"."kind" = 'k3')""",
}


# Tables of owners, their items and boxes (a table and columns named in mixed case, quoted as
# Django quotes them), and a log never analysed: the shapes of plans ``plan.py`` reads that the
# other captures lack (``tests/test_mutation_kills_plan.py``). 2,000 items a key, so that the
# items of an owner are read through a bitmap.
SHAPES_DDL = """
CREATE TABLE sh_owner (
  id bigserial PRIMARY KEY, name varchar(64) NOT NULL, code varchar(32) NOT NULL UNIQUE,
  kind integer NOT NULL);
CREATE TABLE sh_item (
  id bigserial PRIMARY KEY, owner_id bigint NOT NULL REFERENCES sh_owner (id),
  kind integer NOT NULL, state varchar(16) NOT NULL, price integer NOT NULL,
  created timestamptz NOT NULL);
CREATE INDEX sh_item_owner_kind ON sh_item (owner_id, kind);
CREATE INDEX sh_item_open_cheap ON sh_item (created) WHERE state = 'open' AND price < 10;
CREATE TABLE "ShBox" (
  "Id" bigserial PRIMARY KEY, "OwnerId" bigint NOT NULL REFERENCES sh_owner (id),
  "Label" varchar(64) NOT NULL, "Size" integer NOT NULL);
CREATE INDEX "ShBox_OwnerId" ON "ShBox" ("OwnerId");
CREATE TABLE sh_log (
  id bigserial PRIMARY KEY, owner_id bigint NOT NULL, state varchar(16) NOT NULL,
  note varchar(64) NOT NULL);
CREATE INDEX sh_log_state_note ON sh_log (state, note);
INSERT INTO sh_owner (name, code, kind) SELECT 'owner ' || g, 'C' || g, g % 3
  FROM generate_series(1, 10) g;
INSERT INTO sh_item (owner_id, kind, state, price, created)
  SELECT 1 + g % 10, g % 4, CASE WHEN g % 5 = 0 THEN 'open' ELSE 'done' END, g % 50,
    '2025-01-01 00:00:00+00'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 20000) g;
INSERT INTO "ShBox" ("OwnerId", "Label", "Size") SELECT 1 + g % 10, 'box ' || g, g % 7
  FROM generate_series(1, 2000) g;
INSERT INTO sh_log (owner_id, state, note) VALUES (1, 'open', 'a'), (2, 'done', 'b');
ANALYZE sh_owner;
ANALYZE sh_item;
ANALYZE "ShBox";
"""

SHAPES: dict[str, str] = {
    # Items of a kind of an owner found by name: the items' index condition holds the kind
    # beside the join key, with a filter of the items' own, and without one.
    "value_beside_the_join_key": """SELECT "i"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("i"."kind" = 3 AND "i"."price" > 5 AND "o"."name" = 'x')""",
    "value_beside_the_join_key_alone": """SELECT "i"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("i"."kind" = 3 AND "o"."name" = 'x')""",
    # Owners with no dear item: an anti join whose inner side filters, which keeps every owner.
    "anti_join_restricted_inside": """SELECT "o"."id" FROM "sh_owner" "o"
        WHERE NOT EXISTS (SELECT 1 FROM "sh_item" "i"
          WHERE ("i"."owner_id" = "o"."id" AND "i"."price" > 5))""",
    # The newest dear items of the owner of a code: a bitmap whose key an InitPlan gives,
    # the InitPlan listed first under the Limit.
    "range_of_an_initplans_value_sorted": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = (SELECT U0."id" FROM "sh_owner" U0 WHERE U0."code" = 'C1')
          AND "i"."price" > 5)
        ORDER BY "i"."created" DESC LIMIT 5""",
    # The same unsorted: the InitPlan is the Bitmap Heap Scan's own child, before its bitmap.
    "range_of_an_initplans_value": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = (SELECT U0."id" FROM "sh_owner" U0 WHERE U0."code" = 'C1')
          AND "i"."price" > 5)""",
    # Log lines whose note is an owner's name: a full read of the never analysed log whose
    # filter takes an InitPlan's value (the InitPlan the scan's child).
    "full_read_beside_an_initplan": """SELECT "l"."id" FROM "sh_log" "l"
        WHERE UPPER("l"."note"::text) = (SELECT UPPER(U0."name"::text) FROM "sh_owner" U0
          WHERE U0."code" = 'C1')""",
    # Owners found by name joined to their dear items: the join key in the items' Recheck
    # Cond, a comparison with the owner's column in their Filter.
    "join_in_the_filter_of_a_bitmap": """SELECT "o"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id" AND "i"."price" > "o"."kind")
        WHERE "o"."name" = 'x'""",
    # Boxes of an owner found by name, of a size, by label: mixed-case quoted names, the join
    # key in the boxes' Recheck Cond, the sort key the boxes' quoted column.
    "quoted_names_sorted": """SELECT "ShBox"."Id" FROM "ShBox"
        INNER JOIN "sh_owner" ON ("sh_owner"."id" = "ShBox"."OwnerId")
        WHERE ("sh_owner"."name" = 'x' AND "ShBox"."Size" = 3)
        ORDER BY "ShBox"."Label" ASC LIMIT 5""",
    # Boxes of a size whose label or owner's name is a value: an OR across the quoted table
    # and the owner, checked on the boxes' side.
    "quoted_names_or_across_tables": """SELECT "ShBox"."Id" FROM "ShBox"
        INNER JOIN "sh_owner" ON ("sh_owner"."id" = "ShBox"."OwnerId")
        WHERE ("ShBox"."Size" = 3 AND ("ShBox"."Label" = 'x' OR "sh_owner"."name" = 'y'))""",
    # Boxes whose label holds a substring, by size: a quoted sort key under a Limit.
    "quoted_names_unservable_sorted": """SELECT "ShBox"."Id" FROM "ShBox"
        WHERE "ShBox"."Label"::text LIKE '%x%' ORDER BY "ShBox"."Size" ASC LIMIT 5""",
    # Boxes of a label that holds AND, OR, a parenthesis and a quote, or of a size: literals
    # a condition's split must skip whole.
    "literal_holding_and_or": """SELECT "ShBox"."Id" FROM "ShBox"
        WHERE ("ShBox"."Label" = 'a AND (b'' OR c)' OR "ShBox"."Size" = 3)""",
    # Boxes whose label or owner's name is a value, the literals holding a quote and AND.
    "quoted_names_or_with_literals": """SELECT "ShBox"."Id" FROM "ShBox"
        INNER JOIN "sh_owner" ON ("ShBox"."OwnerId" = "sh_owner"."id")
        WHERE ("ShBox"."Label" = 'it''s' OR "sh_owner"."name" = 'a AND b')""",
    # Boxes of an owner of a name or of a size, by label, a page: an OR across tables in the
    # Filter of a LEFT JOIN below the sort, which names the quoted table.
    "quoted_names_or_at_a_left_join_sorted": """SELECT "ShBox"."Id" FROM "ShBox"
        LEFT OUTER JOIN "sh_owner" ON ("ShBox"."OwnerId" = "sh_owner"."id")
        WHERE ("sh_owner"."name" = 'x' OR "ShBox"."Size" = 3)
        ORDER BY "ShBox"."Label" ASC LIMIT 4""",
    # Boxes of a log line's owner whose note or label is a value: the never analysed log read
    # whole on the outer side, the OR checked on the boxes' side.
    "or_across_tables_beside_a_full_read": """SELECT "ShBox"."Id" FROM "ShBox"
        INNER JOIN "sh_log" ON ("sh_log"."owner_id" = "ShBox"."OwnerId")
        WHERE ("sh_log"."note" = 'x' OR "ShBox"."Label" = 'y')""",
    # A page of an owner's boxes by label, with their owner (select_related of a nullable key):
    # the range sorted above a LEFT JOIN, whose inner side holds the key beside the join key.
    "sorted_range_below_a_left_join": """SELECT "ShBox"."Id", "sh_owner"."name" FROM "ShBox"
        LEFT OUTER JOIN "sh_owner" ON ("ShBox"."OwnerId" = "sh_owner"."id")
        WHERE "ShBox"."OwnerId" = 3 ORDER BY "ShBox"."Label" DESC LIMIT 4""",
    # The same for dear items, sorted by the owner's name first: the order is not the items'.
    "sorted_by_the_joined_tables_column_first": """SELECT "i"."id" FROM "sh_item" "i"
        LEFT OUTER JOIN "sh_owner" "o" ON ("i"."owner_id" = "o"."id")
        WHERE ("i"."owner_id" = 3 AND "i"."price" > 40)
        ORDER BY "o"."name" ASC, "i"."created" DESC LIMIT 4""",
    # Owners with an item of a kind or a box of a size, through two LEFT JOINs: an OR across
    # the joined tables in the upper join's Filter; the owners drive, read whole, and then
    # found by their code.
    "or_across_two_left_joins": """SELECT "o"."id" FROM "sh_owner" "o"
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        LEFT OUTER JOIN "ShBox" "b" ON ("b"."OwnerId" = "o"."id")
        WHERE ("i"."kind" = 1 OR "b"."Size" = 2)""",
    "or_across_two_left_joins_of_a_code": """SELECT "o"."id" FROM "sh_owner" "o"
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        LEFT OUTER JOIN "ShBox" "b" ON ("b"."OwnerId" = "o"."id")
        WHERE (("i"."kind" = 1 OR "b"."Size" = 2) AND "o"."code" = 'C1')""",
    # An owner's dear items: a range on a key that a Filter of the items' own sifts, through a
    # bitmap; the same stopped by a Limit; an owner of a code and kind through an Index Scan.
    "filtered_range_of_a_key": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = 3 AND "i"."price" > 40)""",
    "filtered_range_under_a_limit": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = 3 AND "i"."price" > 40) LIMIT 3""",
    # The same range under a LIMIT looking a row up: by a state (an equality, selective unless
    # the state holds few values), and by its upper-cased value (``state__iexact``).
    "range_under_a_limit_by_a_state": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = 3 AND "i"."state" = 'lost') LIMIT 3""",
    "range_under_a_limit_by_an_upper_cased_state": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = 3 AND UPPER("i"."state"::text) = 'LOST') LIMIT 3""",
    "filtered_range_through_an_index_scan": """SELECT "o"."id" FROM "sh_owner" "o"
        WHERE ("o"."code" = 'C1' AND "o"."kind" = 1)""",
    # A page of the boxes of the owner of a code, by the owner's name: the owner's range on the
    # outer side of an inner join below the sort (only LEFT JOINs keep every row of a range).
    "range_sorted_above_an_inner_join": """SELECT "ShBox"."Id" FROM "ShBox"
        INNER JOIN "sh_owner" ON ("ShBox"."OwnerId" = "sh_owner"."id")
        WHERE "sh_owner"."code" = 'C3' ORDER BY "sh_owner"."name" ASC LIMIT 4""",
    # Two ORs across the tables of a LEFT JOIN, ANDed in its Filter.
    "two_ors_at_a_left_join": """SELECT "ShBox"."Id" FROM "ShBox"
        LEFT OUTER JOIN "sh_owner" ON ("ShBox"."OwnerId" = "sh_owner"."id")
        WHERE (("sh_owner"."name" = 'x' OR "ShBox"."Size" = 3)
          AND ("sh_owner"."kind" = 1 OR "ShBox"."Label" = 'y'))""",
    # A range on two key parts, sifted by two conjuncts of the items' own.
    "filtered_range_of_two_conjuncts": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = 3 AND "i"."kind" = 1 AND "i"."price" > 40
          AND "i"."state" = 'open')""",
    # Items of the kind of the owner of a code: the index's second column compared with an
    # InitPlan's value, the InitPlan the bitmap's sibling.
    "non_leading_key_of_an_initplans_value": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE "i"."kind" = (SELECT U0."kind" FROM "sh_owner" U0 WHERE U0."code" = 'C1')""",
    # Tests of NULL on columns declared NOT NULL (every column of these tables), which
    # PostgreSQL 15 keeps and 18 folds away: beside a filter no index serves, on an index's
    # second column, and in the own filter of a joined range, alone and beside a test.
    "not_null_test_beside_an_unservable_filter": """SELECT "ShBox"."Id" FROM "ShBox"
        WHERE ("ShBox"."Label"::text LIKE '%x%' AND "ShBox"."Size" > 2
          AND "ShBox"."Size" IS NOT NULL)""",
    "null_test_on_an_indexs_second_column": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE "i"."kind" IS NULL""",
    "joined_range_with_a_not_null_test": """SELECT "i"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("o"."name" = 'x' AND "i"."state" IS NOT NULL)""",
    "joined_range_with_a_not_null_test_and_a_filter": """SELECT "i"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("o"."name" = 'x' AND "i"."state" IS NOT NULL AND "i"."price" > 5)""",
    # Boxes with an owner whose item is of a kind or whose name is a value, through two LEFT
    # JOINs: the OR across the joined tables at the upper join, the boxes driving through their
    # index on a test of NULL (no value), alone, kept to one size, and to sizes above one.
    "or_at_a_join_beside_a_not_null_driver": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL AND ("i"."kind" = 1 OR "o"."name" = 'x'))""",
    "or_at_a_join_beside_a_driver_of_one_size": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL AND ("i"."kind" = 1 OR "o"."name" = 'x')
          AND "b"."Size" = 3)""",
    "or_at_a_join_beside_a_driver_of_large_sizes": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL AND ("i"."kind" = 1 OR "o"."name" = 'x')
          AND "b"."Size" > 3)""",
    # The same with the boxes of one owner (a bitmap on a value drives; the upper join holds
    # the join key in its Join Filter beside the OR), and with a second OR ANDed to the first.
    "or_at_a_join_beside_a_driver_of_one_owner": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" = 3
          AND ("i"."kind" = 1 OR "o"."name" = 'x'))""",
    "two_ors_at_a_join_beside_a_not_null_driver": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL
          AND ("i"."kind" = 1 OR "o"."name" = 'x') AND ("o"."kind" = 2 OR "i"."price" = 3))""",
    # The same beside a comparison of the boxes' size with the item's price (a conjunct of the
    # upper join's Filter that is no OR), and beside a size above an InitPlan's value (the
    # InitPlan under the upper join).
    "or_at_a_join_beside_a_comparison_of_its_tables": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL AND ("i"."kind" = 1 OR "o"."name" = 'x')
          AND "b"."Size" > COALESCE("i"."price", 0))""",
    "or_at_a_join_beside_an_initplan": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL AND ("i"."kind" = 1 OR "o"."name" = 'x')
          AND "b"."Size" > (SELECT U0."kind" FROM "sh_owner" U0 WHERE U0."code" = 'C1'))""",
    # The same beside boxes of two owners (a bitmap on a list drives, no other scan holds a
    # value), and beside a size above a SubPlan's value (a scan inside the SubPlan).
    "or_at_a_join_beside_a_driver_of_two_owners": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IN (3, 4)
          AND ("i"."kind" = 1 OR "o"."name" = 'x'))""",
    "or_at_a_join_beside_a_subplan": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL
          AND ("i"."kind" = 1 OR "o"."name" = 'x')
          AND "b"."Size" > (SELECT MAX(U0."kind") FROM "sh_owner" U0
            WHERE U0."name" = "b"."Label"))""",
    # Items of an owner found by name or through a sub-query tested row by row: the SubPlan
    # under the driving side restricts nothing the join starts from.
    "driver_beside_a_subplan": """SELECT "i"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("i"."price" > 5 AND ("o"."name" = 'x' OR "o"."id" IN (SELECT U0."owner_id"
          FROM "sh_log" U0 WHERE U0."state" = 'open')))""",
    # A range of an owner's items whose Filter holds a conjunct of the items' own beside one
    # that takes an InitPlan's value.
    "filtered_range_beside_an_initplans_value": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."owner_id" = 3 AND "i"."state" = 'done'
          AND "i"."price" > (SELECT MAX(U0."kind") FROM "sh_owner" U0))""",
    # The OR across two LEFT JOINs beside a SubPlan that finds its rows by an index condition
    # on a value: the sub-query's scan is no read of the join's.
    "or_at_a_join_beside_a_subplan_on_a_value": """SELECT "b"."Id" FROM "ShBox" "b"
        LEFT OUTER JOIN "sh_owner" "o" ON ("b"."OwnerId" = "o"."id")
        LEFT OUTER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("b"."OwnerId" IS NOT NULL
          AND ("i"."kind" = 1 OR "o"."name" = 'x')
          AND "b"."Size" > (SELECT COUNT(*) FROM "sh_log" U0
            WHERE U0."state" = 'open' AND U0."note" = "b"."Label"))""",
    # Boxes of an owner's items of a kind: the items' index condition, inside the side that
    # drives the boxes' loop, holds the kind after the join key.
    "value_after_the_join_key_inside_a_driving_side": """SELECT "b"."Id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        INNER JOIN "ShBox" "b" ON ("b"."OwnerId" = "o"."id")
        WHERE ("i"."kind" = 2 AND "b"."Size" > 2 AND "o"."code" = 'C1')""",
    # Items dearer than 5 of owners named x of a kind above an InitPlan's value: the owners
    # drive the loop, their Filter's conjunct of their own after the one taking the value.
    "driver_filtered_after_an_initplans_value": """SELECT "i"."id" FROM "sh_owner" "o"
        INNER JOIN "sh_item" "i" ON ("i"."owner_id" = "o"."id")
        WHERE ("o"."kind" > (SELECT MIN(U0."kind") FROM "sh_item" U0)
          AND "o"."name" = 'x' AND "i"."price" > 5)""",
    # Logs of no owner, of an owner other than 5, with a note: the test of NULL on a NOT NULL
    # column is one of two conjuncts of the scan's Filter (PostgreSQL 15 keeps it; 18 folds it).
    "null_test_among_the_conjuncts_of_a_filter": """SELECT "l"."id" FROM "sh_log" "l"
        WHERE ("l"."owner_id" IS NULL AND "l"."owner_id" <> 5 AND "l"."note" = 'a')""",
    # Owners named x beside the logs of owner 5, joined by nothing: the loop restricts rows,
    # but no condition under it names its outer side.
    "loop_of_a_cross_join": """SELECT "o"."id" FROM "sh_owner" "o" CROSS JOIN "sh_log" "l"
        WHERE ("o"."name" = 'x' AND "l"."owner_id" = 5)""",
    # Open cheap items since a date: read through the partial index of two conjuncts.
    "partial_index_of_two_conjuncts": """SELECT "i"."id" FROM "sh_item" "i"
        WHERE ("i"."state" = 'open' AND "i"."price" < 10
          AND "i"."created" > '2025-01-05 00:00:00+00'::timestamptz)""",
}


def capture(
    conn: psycopg.Connection[Any], statement: str, setup: str = ARTIFACTS, *, unsorted: bool = False
) -> dict[str, Any]:
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{SCHEMA}"')
        cur.execute("SELECT set_config('search_path', %s, true)", (SCHEMA,))
        cur.execute(setup)
        catalog = postgresql.schema(conn)
        ours = {
            row[0]
            for row in cur.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,)
            ).fetchall()
        }
        indexes = [i for i in catalog.indexes if i.table in ours]
        plan = postgresql.explain(conn, statement, forced=True).plan
        schema = Schema.of(indexes, catalog.parents, catalog.extensions)
        findings = analyze(plan, None, leading=schema.leading_of, joined_ranges=True)
        probes = judge.probes(findings, schema)
        answers = postgresql.explain_many(conn, [p.sql for p in probes])
        again = (
            postgresql.explain(conn, statement, forced=True, extra=postgresql.NO_SORT).plan
            if unsorted
            else None
        )
        parents = {c: p for c, p in catalog.parents.items() if c in ours}
    return {
        "server_version": server_version(conn),
        "statement": statement,
        "indexes": [asdict(i) for i in indexes],
        "extensions": sorted(catalog.extensions),
        "plan": plan,
        "probes": [{"sql": p.sql, "plan": a} for p, a in zip(probes, answers, strict=True)],
        **({"parents": parents} if parents else {}),
        **({"unsorted": again} if unsorted else {}),
    }


def join_order_captures() -> dict[str, tuple[str, str]]:
    """File name -> (setup, statement) of every join-order statement in every statistics
    state (``join_order.py``)."""
    found = {}
    for ddl, cases in ((DDL, CASES), (DDL_WITHOUT_OFFER_INDEX, WITHOUT_OFFER_INDEX)):
        for name, (statement, _) in cases.items():
            for state, then in STATES.items():
                found[f"{slug(name)}__{slug(state)}"] = (ddl + then, statement)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--more", action="store_true", help="the statements of MORE")
    kind.add_argument("--partitions", action="store_true", help="the statements of PARTITIONS")
    kind.add_argument("--shapes", action="store_true", help="the statements of SHAPES")
    kind.add_argument(
        "--join-order", action="store_true", help="join_order.py's statements in each state"
    )
    args = parser.parse_args()
    url = args.database_url or start_embedded_server()
    if args.join_order:
        work, folder = join_order_captures(), JUDGE_DIR / "join_order"
    elif args.shapes:
        work = {name: (SHAPES_DDL, sql) for name, sql in SHAPES.items()}
        folder = JUDGE_DIR / "shapes"
    elif args.partitions:
        work = {name: (ARTIFACTS + PARTITIONED, sql) for name, sql in PARTITIONS.items()}
        folder = JUDGE_DIR / "partitions"
    else:
        statements = {**MORE, **UNSORTED} if args.more else STATEMENTS
        work = {name: (ARTIFACTS, statement) for name, statement in statements.items()}
        if args.more:
            work.update({name: (BOOKS, statement) for name, statement in ANY_KEY.items()})
        folder = JUDGE_DIR / "more" if args.more else JUDGE_DIR
    with psycopg.connect(url) as conn:
        folder = folder / f"pg{server_major(conn)}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, (setup, statement) in sorted(work.items()):
            data = capture(conn, statement, setup, unsorted=args.more and name in UNSORTED)
            text = json.dumps(data, indent=1, sort_keys=True) + "\n"
            path = folder / f"{name}.json"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            print(f"{path.relative_to(JUDGE_DIR.parent)}")


if __name__ == "__main__":
    main()
