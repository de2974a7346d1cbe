"""More MariaDB plan shapes, for the mutation tests of ``explain/mysql.py`` (the ninth pass of
docs/contributing.md, "Mutation testing"): sub-queries inside conditions (``<in_optimizer>``,
``<exists>``), derived tables, joins of three tables and through a join buffer, an anti-join,
sorts through a join, a lower-case LIMIT, a table named with a backtick and a table of index
kinds (a prefix, a descending key part, FULLTEXT, a long unique key MariaDB backs with a HASH, an
ignored index).

``capture_mysql.py --more`` explains each statement as the guard does on the scenarios' schema
(``mysql_scenarios.py``) plus ``EXTRA``, with the same ten rows (``MEDIUM``'s, analysed, for a
range of an index on a list of keys), into ``mariadb/more/<name>.json``, and stores both states'
catalogs there (``catalog_<state>.json``: the indexes, the NOT NULL columns and the foreign keys'
references), with the server's answer to each list of keys' question (``mysql.listed_keys``).
What the reader makes of each plan is pinned in ``tests/test_mutation_kills_mysql.py``.
"""

from __future__ import annotations

from typing import NamedTuple

from .mysql_scenarios import Rows, State


class More(NamedTuple):
    name: str
    state: State
    query: str
    # "medium": explained on MEDIUM's rows (analysed), where MariaDB reads an index range.
    size: str = "small"


# Enough rows for MariaDB to read a range of an index on a list of keys.
MEDIUM = Rows(customers=10, endpoints=100, deliveries=3000)


# A table of the index kinds MariaDB's STATISTICS lists, in both states.
EXTRA = (
    "CREATE TABLE `upstream_eventnote` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`title` varchar(300) NOT NULL, `body` longtext NOT NULL, `rank` integer NOT NULL, "
    "`created_at` datetime(6) NOT NULL, `code` varchar(20) NULL)",
    "CREATE INDEX `note_title_prefix` ON `upstream_eventnote` (`title`(20))",
    "CREATE INDEX `note_rank_desc` ON `upstream_eventnote` (`rank` DESC, `created_at`)",
    "CREATE FULLTEXT INDEX `note_body_ft` ON `upstream_eventnote` (`body`)",
    "CREATE UNIQUE INDEX `note_code_uniq` ON `upstream_eventnote` (`code`)",
    "CREATE INDEX `note_created_ignored` ON `upstream_eventnote` (`created_at`) IGNORED",
    "ALTER TABLE `upstream_eventnote` ADD CONSTRAINT `note_body_uniq` UNIQUE (`body`)",
    # A table whose name holds a backtick, as Django quotes it (doubled).
    "CREATE TABLE `legacy``log` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`status` varchar(20) NOT NULL)",
)

_D = "upstream_webhookdelivery"
_E = "upstream_webhookendpoint"
_A = "upstream_webhookattempt"
_C = "upstream_customer"

MORE: tuple[More, ...] = (
    # --- sub-queries inside conditions ------------------------------------------------------
    More(
        "in_subquery_or",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (SELECT e.id FROM {_E} e "
        "WHERE e.url LIKE '%x%') OR d.status = 'failed'",
    ),
    More(
        "correlated_in_or",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE d.id IN (SELECT a.delivery_id FROM {_A} a "
        "WHERE a.response_code = d.attempts) OR d.status = 'x'",
    ),
    More(
        "not_in_subquery",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id NOT IN (SELECT e.id FROM {_E} e "
        "WHERE e.active)",
    ),
    More(
        "scalar_subquery_or",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE d.attempts > (SELECT COUNT(*) FROM {_A} a "
        "WHERE a.delivery_id = d.id) OR d.status = 'failed'",
    ),
    More(
        "exists_or",
        "initial",
        f"SELECT e.id FROM {_E} e WHERE EXISTS (SELECT 1 FROM {_D} d WHERE d.endpoint_id = e.id "
        "AND d.last_error LIKE 'boom%') OR e.url = 'u'",
    ),
    More(
        "not_exists",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE NOT EXISTS (SELECT 1 FROM {_A} a "
        "WHERE a.delivery_id = d.id)",
    ),
    More(
        "unique_subquery",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (SELECT e.id FROM {_E} e "
        "WHERE e.active AND e.customer_id = d.attempts) OR d.status = 'x'",
    ),
    More(
        "index_subquery",
        "indexed",
        f"SELECT c.id FROM {_C} c WHERE c.id IN (SELECT e.customer_id FROM {_E} e "
        "WHERE e.url = c.name) OR c.created_at > '2026-01-01'",
    ),
    More(
        "select_list_subquery",
        "indexed",
        f"SELECT e.id, (SELECT MAX(d.created_at) FROM {_D} d WHERE d.endpoint_id = e.id "
        f"AND d.last_error <> '') AS last FROM {_E} e WHERE e.url LIKE 'https%'",
    ),
    More(
        "function_before_a_subquery",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE LOWER(d.status) = 'x' AND (d.endpoint_id IN "
        f"(SELECT e.id FROM {_E} e WHERE e.active) OR d.attempts > 3)",
    ),
    More(
        "literals_cast",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE d.created_at > CAST('2025-01-01' AS DATETIME) "
        "AND d.attempts = CAST('3' AS SIGNED)",
    ),
    More(
        "update_in_subquery",
        "indexed",
        f"UPDATE {_D} SET attempts = 0 WHERE endpoint_id IN (SELECT id FROM {_E} "
        "WHERE url LIKE '%old%')",
    ),
    # --- joins and derived tables -------------------------------------------------------------
    More(
        "join_buffer_filters_both",
        "indexed",
        f"SELECT d.id, a.response_code FROM {_D} d INNER JOIN {_A} a ON a.delivery_id = d.id "
        "WHERE a.response_code = 500 AND d.status = 'failed'",
    ),
    More(
        "three_tables",
        "indexed",
        f"SELECT d.id FROM {_D} d INNER JOIN {_E} e ON d.endpoint_id = e.id INNER JOIN {_A} a "
        "ON a.delivery_id = d.id WHERE e.active AND a.response_code >= 500",
    ),
    More(
        "derived_filtered",
        "indexed",
        "SELECT sub.endpoint_id, sub.n FROM (SELECT d.endpoint_id, COUNT(*) AS n "
        f"FROM {_D} d WHERE d.event_type = 'x' GROUP BY d.endpoint_id) AS sub WHERE sub.n > 1",
    ),
    More(
        "derived_joined",
        "indexed",
        f"SELECT e.url, sub.n FROM {_E} e INNER JOIN (SELECT d.endpoint_id, COUNT(*) AS n "
        f"FROM {_D} d WHERE d.event_type = 'x' GROUP BY d.endpoint_id) AS sub "
        "ON sub.endpoint_id = e.id WHERE e.url LIKE 'h%'",
    ),
    More(
        "anti_join",
        "indexed",
        f"SELECT d.id FROM {_D} d LEFT OUTER JOIN {_A} a ON a.delivery_id = d.id "
        "AND a.response_code = 500 WHERE a.id IS NULL",
    ),
    More(
        "long_list_beside_a_lookup",
        "indexed",
        f"SELECT d.id FROM {_D} d INNER JOIN {_E} e ON d.endpoint_id = e.id "
        f"WHERE d.attempts IN ({', '.join(str(n) for n in range(1, 1002))}) AND e.active",
    ),
    More(
        "derived_union_with_a_constant",
        "indexed",
        f"SELECT d.id FROM {_D} d INNER JOIN (SELECT e.id FROM {_E} e WHERE e.active "
        "UNION SELECT 0) AS u ON u.id = d.endpoint_id",
    ),
    More(
        "semi_join_materialized",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.event_type = 'x' AND d.id IN "
        f"(SELECT a.delivery_id FROM {_A} a WHERE a.response_code = 500)",
    ),
    More(
        "between_not_like_regexp",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.created_at BETWEEN '2025-01-01' AND '2025-02-01' "
        "AND d.last_error NOT LIKE '%timeout%' AND d.event_type REGEXP '^inv'",
    ),
    More(
        "lookup_by_a_constant_key_part",
        "initial",
        f"SELECT c.name FROM {_C} c INNER JOIN upstream_alertrule r ON r.customer_id = c.id "
        "WHERE r.name = 'cpu'",
    ),
    More(
        "lookup_by_two_key_parts_filtered",
        "initial",
        f"SELECT c.id FROM {_C} c INNER JOIN upstream_alertrule r ON r.customer_id = c.id "
        "AND r.name = c.name WHERE r.enabled",
    ),
    More(
        "buffered_join_filtered_on_both_sides",
        "initial",
        f"SELECT c.id FROM {_C} c INNER JOIN {_E} e ON e.customer_id = c.id "
        "WHERE e.active AND c.name LIKE '%a%'",
    ),
    More(
        "buffered_after_two_lookups",
        "initial",
        f"SELECT a.id FROM {_A} a INNER JOIN {_D} d ON a.delivery_id = d.id INNER JOIN {_E} e "
        "ON d.endpoint_id = e.id WHERE e.customer_id = 2",
    ),
    More(
        "three_tables_last_filtered",
        "initial",
        f"SELECT e.id FROM {_E} e INNER JOIN {_D} d ON d.endpoint_id = e.id INNER JOIN {_A} a "
        "ON a.delivery_id = d.id WHERE e.url LIKE '%x%' AND a.response_code = 500",
    ),
    # --- lists of foreign keys (``listed_keys``: the catalog's references, the server's answer) -
    More(
        "list_of_every_endpoint_filtered",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8) "
        "AND d.created_at >= '2025-01-01' AND d.attempts > 2",
    ),
    More(
        "list_of_some_endpoints_filtered",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2) AND d.attempts > 2",
    ),
    More(
        "list_of_every_endpoint_sorted",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8) "
        "ORDER BY d.attempts DESC LIMIT 5",
    ),
    More(
        "list_of_every_endpoint_alone",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8)",
    ),
    More(
        "list_of_two_connections_filtered",
        "initial",
        "SELECT l.id FROM upstream_integrationlog l WHERE l.connection_id IN (1, 2) "
        "AND l.start_time >= '2025-01-01' AND l.message LIKE '%x%'",
    ),
    More(
        "filtered_range_on_a_list",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3) "
        "AND d.created_at >= '2025-03-01' AND d.attempts > 2",
        size="medium",
    ),
    More(
        "filtered_range_on_a_list_sorted",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3) "
        "AND d.created_at >= '2025-03-01' AND d.attempts > 2 ORDER BY d.id DESC LIMIT 5",
        size="medium",
    ),
    # --- sorts through a join -------------------------------------------------------------------
    More(
        "sort_by_first_joined",
        "indexed",
        f"SELECT d.id, e.url FROM {_D} d INNER JOIN {_E} e ON d.endpoint_id = e.id "
        "ORDER BY e.url LIMIT 5",
    ),
    More(
        "sort_over_join_by_lookup",
        "indexed",
        f"SELECT d.id, e.url FROM {_D} d INNER JOIN {_E} e ON d.endpoint_id = e.id "
        "WHERE d.status = 'failed' ORDER BY e.created_at DESC, e.id LIMIT 5",
    ),
    More(
        "sort_by_buffered_table",
        "indexed",
        f"SELECT d.id FROM {_D} d INNER JOIN {_A} a ON a.delivery_id = d.id "
        "WHERE d.status = 'failed' ORDER BY a.response_code LIMIT 5",
    ),
    More(
        "update_sorted_for_a_limit",
        "initial",
        f"UPDATE {_D} SET attempts = 0 WHERE status = 'x' ORDER BY created_at LIMIT 5",
    ),
    More(
        "delete_sorted_for_a_limit",
        "initial",
        f"DELETE FROM {_D} WHERE status = 'x' ORDER BY created_at LIMIT 5",
    ),
    More(
        "nested_parentheses_before_the_limit",
        "initial",
        f"SELECT d.id FROM {_D} d WHERE (d.endpoint_id IN (1, 2) AND NOT (d.status = 'x')) "
        "ORDER BY d.created_at DESC LIMIT 5",
    ),
    More(
        "a_table_named_with_a_backtick",
        "initial",
        "SELECT `legacy``log`.`id` FROM `legacy``log` WHERE `legacy``log`.`status` = 'x'",
    ),
    More(
        "a_table_named_with_a_backtick_by_an_alias",
        "initial",
        "SELECT `odd``one`.`id` FROM `legacy``log` `odd``one` WHERE `odd``one`.`status` = 'x' "
        "LIMIT 21",
    ),
    More(
        "lower_case_limit",
        "initial",
        f"select d.id from {_D} d where d.event_type = 'x' order by d.created_at desc limit 5",
    ),
    # --- the fourteenth pass: shapes the ninth pass left unplanned ------------------------------
    More(
        "later_table_joined_and_restricted",
        "initial",
        f"SELECT d.id FROM {_D} d INNER JOIN {_E} e ON e.id = d.endpoint_id "
        "AND e.customer_id > d.attempts WHERE e.url LIKE 'h%'",
    ),
    More(
        "later_table_keyed_by_a_constant",
        "initial",
        f"SELECT c.id FROM {_C} c INNER JOIN upstream_alertrule r ON r.customer_id = c.id "
        "AND r.name = 'cpu' AND r.threshold > c.id",
    ),
    More(
        "sorted_descending_by_an_indexed_column",
        "indexed",
        "SELECT l.id FROM upstream_integrationlog l WHERE l.message LIKE '%x%' "
        "ORDER BY l.status DESC LIMIT 5",
    ),
    More(
        "sorted_by_an_indexed_column_then_the_key",
        "indexed",
        "SELECT l.id FROM upstream_integrationlog l ORDER BY l.status DESC, l.id LIMIT 5",
    ),
    More(
        "an_upper_case_alias_quoted",
        "initial",
        f"SELECT `X`.`id` FROM `{_D}` `X` WHERE `X`.`attempts` > 2",
    ),
    More(
        "range_filtered_beside_a_truth",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.status BETWEEN 'a' AND 'c' "
        "AND d.created_at IS NOT NULL AND d.attempts > 2 AND d.event_type = 'x'",
    ),
    More(
        "lookup_by_a_function",
        "indexed",
        f"SELECT d.id FROM {_D} d INNER JOIN {_E} e ON e.id = d.endpoint_id + 0 "
        "WHERE e.url LIKE '%x%' AND d.attempts > 1",
    ),
    More(
        "sorted_full_read_an_ignored_index_serves",
        "indexed",
        f"SELECT d.id FROM {_D} d IGNORE INDEX (webhook_retry_idx) WHERE d.attempts > 2 "
        "AND d.status = 'failed' AND d.event_type = 'x' ORDER BY d.created_at LIMIT 5",
    ),
    More(
        "lookup_filtered_beside_a_truth",
        "initial",
        f"SELECT a.id FROM {_A} a INNER JOIN {_D} d ON d.id = a.delivery_id "
        "WHERE d.created_at IS NOT NULL AND d.attempts > 2 AND d.event_type = 'x'",
    ),
    More(
        "lookup_beside_an_outer_join",
        "initial",
        f"SELECT a.id FROM {_A} a INNER JOIN {_D} d ON d.id = a.delivery_id LEFT JOIN {_C} c "
        "ON c.created_at > d.created_at AND c.name LIKE '%a%' "
        "WHERE d.attempts > 2 AND a.response_code = 500",
    ),
    More(
        "lookup_beside_a_sub_query_in_an_or",
        "initial",
        f"SELECT a.id FROM {_A} a INNER JOIN {_D} d ON d.id = a.delivery_id WHERE d.attempts > 2 "
        "AND (a.response_code IN (SELECT r.threshold FROM upstream_alertrule r "
        "WHERE r.metric = 'x') OR a.response_code = 1)",
    ),
    More(
        "or_of_an_indexed_column_beside_a_filter",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE (d.attempts > 2 OR d.status = 'a') AND d.event_type = 'x'",
    ),
    More(
        "or_beside_a_filter_an_ignored_index_serves",
        "indexed",
        f"SELECT d.id FROM {_D} d IGNORE INDEX (webhook_retry_idx) "
        "WHERE (d.attempts > 2 OR d.event_type = 'y') AND d.status = 'b'",
    ),
    More(
        "filtered_range_on_a_list_beside_a_truth",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3) "
        "AND d.created_at >= '2025-03-01' AND d.event_type IS NOT NULL AND d.attempts > 2 "
        "AND d.status <> 'x'",
        size="medium",
    ),
    More(
        "list_of_every_endpoint_beside_a_semi_join",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8) "
        f"AND d.id IN (SELECT a.delivery_id FROM {_A} a WHERE a.response_code = 500)",
    ),
    More(
        "list_of_every_endpoint_filtered_beside_a_semi_join",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8) "
        f"AND d.attempts > 2 AND d.id IN (SELECT a.delivery_id FROM {_A} a "
        "WHERE a.response_code = 500)",
    ),
    More(
        "list_of_every_endpoint_after_a_filter",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.attempts > 2 "
        "AND d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8)",
    ),
    More(
        "list_of_every_endpoint_after_a_list_of_counts",
        "indexed",
        f"SELECT d.id FROM {_D} d WHERE d.attempts IN (1, 2) "
        "AND d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8)",
    ),
    More(
        "a_sorted_page_of_a_sorted_derived_table",
        "indexed",
        f"SELECT sub.id FROM (SELECT d.id, d.created_at FROM {_D} d WHERE d.status = 'x' "
        "ORDER BY d.created_at LIMIT 10) AS sub ORDER BY sub.id DESC LIMIT 5",
    ),
    More(
        "list_of_every_endpoint_beside_a_filter_an_ignored_index_serves",
        "indexed",
        f"SELECT d.id FROM {_D} d IGNORE INDEX (webhook_retry_idx) "
        "WHERE d.endpoint_id IN (1, 2, 3, 4, 5, 6, 7, 8) AND d.status = 'x'",
    ),
)
