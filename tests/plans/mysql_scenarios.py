"""The MySQL/MariaDB plan scenarios, as data: schema, rows, statement and expected findings.

The tables are the sample app's as Django 5.2 creates them on MySQL/MariaDB (``sqlmigrate``:
backticks, ``bigint AUTO_INCREMENT``, foreign keys as constraints, which InnoDB backs with an
index of their own), in two states: ``initial`` (migration 0001, no planned index) and
``indexed`` (0001 and 0002). One extra table, ``upstream_webhookattempt``, references deliveries
without a foreign-key constraint (``db_constraint=False, db_index=False``): the only way to get
an unindexed join key on InnoDB, which indexes every constrained foreign key itself.

``capture_mysql.py`` loads the rows of ``small_rows()`` (about ten per table, what a test
database holds) in a transaction, explains each statement as the guard does, and rolls back;
``--measure`` also loads ``large_rows()`` (100,000 deliveries and logs) to compare.

An expectation lists what ``mysql.analyze`` must return for the forced plan, in plan order, as
``(table, access type, rule)``; rule ``None`` is an informational full scan.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from pytest_indexguard.model import Rule

State = Literal["initial", "indexed"]

INITIAL = (
    "CREATE TABLE `upstream_customer` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`name` varchar(255) NOT NULL UNIQUE, `created_at` datetime(6) NOT NULL)",
    "CREATE TABLE `upstream_integrationconnection` (`id` bigint AUTO_INCREMENT NOT NULL "
    "PRIMARY KEY, `name` varchar(200) NOT NULL, `provider` varchar(100) NOT NULL, "
    "`created_at` datetime(6) NOT NULL, `customer_id` bigint NOT NULL)",
    "CREATE TABLE `upstream_userprofile` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`role` varchar(20) NOT NULL, `customer_id` bigint NOT NULL, `user_id` integer NOT NULL "
    "UNIQUE)",
    "CREATE TABLE `upstream_webhookendpoint` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`url` varchar(500) NOT NULL, `active` bool NOT NULL, `created_at` datetime(6) NOT NULL, "
    "`customer_id` bigint NOT NULL)",
    "CREATE TABLE `upstream_alertrule` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`name` varchar(200) NOT NULL, `enabled` bool NOT NULL, `metric` varchar(100) NOT NULL, "
    "`comparison` varchar(2) NOT NULL, `threshold` double precision NOT NULL, "
    "`created_at` datetime(6) NOT NULL, `customer_id` bigint NOT NULL)",
    "CREATE TABLE `upstream_integrationlog` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`status` varchar(20) NOT NULL, `start_time` datetime(6) NOT NULL, `end_time` datetime(6) "
    "NULL, `message` longtext NOT NULL, `connection_id` bigint NOT NULL)",
    "CREATE TABLE `upstream_notificationchannel` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY "
    "KEY, `name` varchar(200) NOT NULL, `channel_type` varchar(20) NOT NULL, `enabled` bool NOT "
    "NULL, `config` json NOT NULL, `customer_id` bigint NOT NULL)",
    "CREATE TABLE `upstream_webhookdelivery` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`event_type` varchar(100) NOT NULL, `payload` json NOT NULL, `status` varchar(20) NOT "
    "NULL, `attempts` integer NOT NULL, `next_attempt_at` datetime(6) NULL, `created_at` "
    "datetime(6) NOT NULL, `last_error` longtext NOT NULL, `endpoint_id` bigint NOT NULL)",
    "CREATE TABLE `upstream_webhookattempt` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
    "`delivery_id` bigint NOT NULL, `response_code` integer NOT NULL)",
    "ALTER TABLE `upstream_integrationconnection` ADD CONSTRAINT "
    "`upstream_integration_customer_id_068791f2_fk_upstream_` FOREIGN KEY (`customer_id`) "
    "REFERENCES `upstream_customer` (`id`)",
    "ALTER TABLE `upstream_userprofile` ADD CONSTRAINT "
    "`upstream_userprofile_customer_id_bb264335_fk_upstream_` FOREIGN KEY (`customer_id`) "
    "REFERENCES `upstream_customer` (`id`)",
    "ALTER TABLE `upstream_webhookendpoint` ADD CONSTRAINT "
    "`upstream_webhookendp_customer_id_cd82dc35_fk_upstream_` FOREIGN KEY (`customer_id`) "
    "REFERENCES `upstream_customer` (`id`)",
    "ALTER TABLE `upstream_alertrule` ADD CONSTRAINT "
    "`upstream_alertrule_customer_id_name_00c2bf83_uniq` UNIQUE (`customer_id`, `name`)",
    "ALTER TABLE `upstream_alertrule` ADD CONSTRAINT "
    "`upstream_alertrule_customer_id_dc6b1493_fk_upstream_customer_id` FOREIGN KEY "
    "(`customer_id`) REFERENCES `upstream_customer` (`id`)",
    "ALTER TABLE `upstream_integrationlog` ADD CONSTRAINT "
    "`upstream_integration_connection_id_66f27c03_fk_upstream_` FOREIGN KEY (`connection_id`) "
    "REFERENCES `upstream_integrationconnection` (`id`)",
    "ALTER TABLE `upstream_notificationchannel` ADD CONSTRAINT "
    "`upstream_notificationchannel_customer_id_name_2ce1f664_uniq` UNIQUE (`customer_id`, "
    "`name`)",
    "ALTER TABLE `upstream_notificationchannel` ADD CONSTRAINT "
    "`upstream_notificatio_customer_id_7725601d_fk_upstream_` FOREIGN KEY (`customer_id`) "
    "REFERENCES `upstream_customer` (`id`)",
    "ALTER TABLE `upstream_webhookdelivery` ADD CONSTRAINT "
    "`upstream_webhookdeli_endpoint_id_ddedcdaf_fk_upstream_` FOREIGN KEY (`endpoint_id`) "
    "REFERENCES `upstream_webhookendpoint` (`id`)",
)
PLANNED = (
    "CREATE INDEX `upstream_alertrule_enabled_edf77657` ON `upstream_alertrule` (`enabled`)",
    "CREATE INDEX `upstream_notificationchannel_enabled_c56d7ec2` "
    "ON `upstream_notificationchannel` (`enabled`)",
    "CREATE INDEX `alertrule_cust_enabled_idx` ON `upstream_alertrule` (`customer_id`, `enabled`)",
    "CREATE INDEX `notifchan_cust_enabled_idx` ON `upstream_notificationchannel` "
    "(`customer_id`, `enabled`, `channel_type`)",
    "CREATE INDEX `webhook_retry_idx` ON `upstream_webhookdelivery` (`status`, `next_attempt_at`)",
    "CREATE INDEX `webhook_endpoint_hist_idx` ON `upstream_webhookdelivery` "
    "(`endpoint_id`, `created_at` DESC)",
    "CREATE INDEX `intlog_conn_time_idx` ON `upstream_integrationlog` "
    "(`connection_id`, `start_time` DESC)",
    "CREATE INDEX `intlog_status_time_idx` ON `upstream_integrationlog` "
    "(`status`, `start_time` DESC)",
)
TABLES = (
    "upstream_webhookattempt",
    "upstream_webhookdelivery",
    "upstream_webhookendpoint",
    "upstream_integrationlog",
    "upstream_integrationconnection",
    "upstream_notificationchannel",
    "upstream_alertrule",
    "upstream_userprofile",
    "upstream_customer",
)


def schema(state: State) -> tuple[str, ...]:
    return INITIAL + (PLANNED if state == "indexed" else ())


class Expected(NamedTuple):
    table: str
    access_type: str
    rule: Rule | None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    state: State
    query: str
    expected: tuple[Expected, ...]
    # The verdict once the judgement has weighed the catalog (``mysql.settle``), where it
    # differs from ``expected``: a scan an index serves is dropped, an unservable filter renamed.
    settled: tuple[Expected, ...] | None = None

    @property
    def verdict(self) -> tuple[Expected, ...]:
        return self.expected if self.settled is None else self.settled


DELIVERY = "upstream_webhookdelivery"
ENDPOINT = "upstream_webhookendpoint"
LOG = "upstream_integrationlog"
CUSTOMER = "upstream_customer"
ATTEMPT = "upstream_webhookattempt"
RULE = "upstream_alertrule"
CHANNEL = "upstream_notificationchannel"
PROFILE = "upstream_userprofile"

_D = "`upstream_webhookdelivery`"
DELIVERY_COLUMNS = ", ".join(
    f"{_D}.`{c}`"
    for c in (
        "id",
        "endpoint_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "last_error",
    )
)
FROM_DELIVERY = f"SELECT {DELIVERY_COLUMNS} FROM {_D}"
_L = "`upstream_integrationlog`"
LOG_COLUMNS = ", ".join(
    f"{_L}.`{c}`" for c in ("id", "connection_id", "status", "start_time", "end_time", "message")
)
FROM_LOG = f"SELECT {LOG_COLUMNS} FROM {_L}"
NOW = "'2026-01-15 12:00:00'"

RETRY_QUEUE = (
    f"{FROM_DELIVERY} WHERE ({_D}.`next_attempt_at` <= {NOW} AND {_D}.`status` = 'retrying') "
    f"ORDER BY {_D}.`next_attempt_at` ASC LIMIT 100"
)
DELIVERY_HISTORY = (
    f"{FROM_DELIVERY} WHERE {_D}.`endpoint_id` = 7 ORDER BY {_D}.`created_at` DESC LIMIT 50"
)
RECENT_LOGS = f"{FROM_LOG} WHERE {_L}.`connection_id` = 7 ORDER BY {_L}.`start_time` DESC LIMIT 20"
FAILED_LOGS = f"{FROM_LOG} WHERE {_L}.`status` = 'failed' ORDER BY {_L}.`start_time` DESC LIMIT 50"
FAILED_SINCE = (
    f"{FROM_LOG} WHERE ({_L}.`status` = 'failed' AND {_L}.`start_time` >= {NOW}) "
    f"ORDER BY {_L}.`start_time` DESC LIMIT 50"
)
ENABLED_RULES = (
    "SELECT `upstream_alertrule`.`id`, `upstream_alertrule`.`name` FROM `upstream_alertrule` "
    "WHERE (`upstream_alertrule`.`customer_id` = 3 AND `upstream_alertrule`.`enabled`) "
    "ORDER BY `upstream_alertrule`.`name` ASC"
)
ENABLED_CHANNELS = (
    "SELECT `upstream_notificationchannel`.`id`, `upstream_notificationchannel`.`name` "
    "FROM `upstream_notificationchannel` WHERE (`upstream_notificationchannel`.`channel_type` = "
    "'email' AND `upstream_notificationchannel`.`customer_id` = 3 AND "
    "`upstream_notificationchannel`.`enabled`) ORDER BY `upstream_notificationchannel`.`name` ASC"
)
USER_CUSTOMER = (
    "SELECT `upstream_userprofile`.`id`, `upstream_customer`.`name` FROM `upstream_userprofile` "
    "INNER JOIN `upstream_customer` ON (`upstream_userprofile`.`customer_id` = "
    "`upstream_customer`.`id`) WHERE `upstream_userprofile`.`user_id` = 5 LIMIT 21"
)


def _s(
    name: str,
    description: str,
    state: State,
    query: str,
    *expected: Expected,
    settled: tuple[Expected, ...] | None = None,
) -> Scenario:
    return Scenario(name, description, state, query, tuple(expected), settled)


SCENARIOS: tuple[Scenario, ...] = (
    # --- the sample app's statements, without and with its planned indexes -----------------
    _s(
        "retry_queue_initial",
        "The retry queue without webhook_retry_idx: the whole table read and filtered.",
        "initial",
        RETRY_QUEUE,
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    _s(
        "retry_queue_indexed",
        "The retry queue with webhook_retry_idx (status, next_attempt_at): a range.",
        "indexed",
        RETRY_QUEUE,
    ),
    _s(
        "delivery_history_initial",
        "An endpoint's newest deliveries with the foreign-key index only: a ref lookup whose "
        "rows are sorted (a sorted range, judged with production's shape).",
        "initial",
        DELIVERY_HISTORY,
    ),
    _s(
        "delivery_history_indexed",
        "The same with webhook_endpoint_hist_idx (endpoint_id, created_at DESC).",
        "indexed",
        DELIVERY_HISTORY,
    ),
    _s(
        "recent_logs_initial",
        "A connection's newest logs with the foreign-key index only.",
        "initial",
        RECENT_LOGS,
    ),
    _s(
        "recent_logs_indexed",
        "The same with intlog_conn_time_idx.",
        "indexed",
        RECENT_LOGS,
    ),
    _s(
        "failed_logs_initial",
        "Failed logs, newest first, without intlog_status_time_idx: filtered full read.",
        "initial",
        FAILED_LOGS,
        Expected(LOG, "ALL", Rule.FILTER),
    ),
    _s(
        "failed_logs_indexed",
        "The same with intlog_status_time_idx (status, start_time DESC).",
        "indexed",
        FAILED_LOGS,
    ),
    _s(
        "failed_since_initial",
        "Failed logs since a time, without intlog_status_time_idx.",
        "initial",
        FAILED_SINCE,
        Expected(LOG, "ALL", Rule.FILTER),
    ),
    _s(
        "failed_since_indexed",
        "The same with intlog_status_time_idx: a range on both columns.",
        "indexed",
        FAILED_SINCE,
    ),
    _s(
        "enabled_rules_initial",
        "A customer's enabled rules: a third of the ten-row table matches, so it is read "
        "whole (on 100,000 rows the unique (customer_id, name) index finds them); the catalog "
        "shows customer_id leads that index, and the judgement drops the scan.",
        "initial",
        ENABLED_RULES,
        Expected(RULE, "ALL", Rule.FILTER),
        settled=(),
    ),
    _s(
        "enabled_rules_indexed",
        "The same with alertrule_cust_enabled_idx.",
        "indexed",
        ENABLED_RULES,
    ),
    _s(
        "enabled_channels_initial",
        "A customer's enabled channels of one type: read whole on ten rows, by the unique "
        "(customer_id, name) index on 100,000; dropped by the judgement like the rules.",
        "initial",
        ENABLED_CHANNELS,
        Expected(CHANNEL, "ALL", Rule.FILTER),
        settled=(),
    ),
    _s(
        "enabled_channels_indexed",
        "The same with notifchan_cust_enabled_idx.",
        "indexed",
        ENABLED_CHANNELS,
    ),
    _s(
        "user_customer",
        "get_user_customer: the profile by its unique user_id, the customer by its key.",
        "initial",
        USER_CUSTOMER,
    ),
    # --- a full read with a condition no index serves --------------------------------------
    _s(
        "filter_unindexed",
        "A filter on an unindexed column.",
        "indexed",
        f"{FROM_DELIVERY} WHERE {_D}.`event_type` = 'invoice.paid'",
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    _s(
        "exists_filter_unindexed",
        "`.filter(event_type=...).exists()`: a LIMIT does not bound a filtered full read.",
        "indexed",
        f"SELECT 1 AS `a` FROM {_D} WHERE {_D}.`event_type` = 'invoice.paid' LIMIT 1",
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    _s(
        "count_filter_unindexed",
        "`.filter(event_type=...).count()`.",
        "indexed",
        f"SELECT COUNT(*) AS `__count` FROM {_D} WHERE {_D}.`event_type` = 'invoice.paid'",
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    _s(
        "first_filter_unindexed",
        "`.filter(event_type=...).first()`: ORDER BY id LIMIT 1 walks the primary key (an "
        "`index` scan) and filters every row.",
        "indexed",
        f"{FROM_DELIVERY} WHERE {_D}.`event_type` = 'invoice.paid' ORDER BY {_D}.`id` ASC LIMIT 1",
        Expected(DELIVERY, "index", Rule.FILTER),
    ),
    _s(
        "delete_filter_unindexed",
        "A bulk delete by an unindexed column.",
        "indexed",
        f"DELETE FROM {_D} WHERE {_D}.`event_type` = 'invoice.paid'",
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    _s(
        "update_filter_unindexed",
        "A bulk update by an unindexed column.",
        "indexed",
        f"UPDATE {_D} SET `attempts` = 0 WHERE {_D}.`event_type` = 'invoice.paid'",
        Expected(DELIVERY, "index", Rule.FILTER),
    ),
    _s(
        "non_leading_index_column",
        "A filter on the second column of webhook_retry_idx alone.",
        "indexed",
        f"{FROM_DELIVERY} WHERE {_D}.`next_attempt_at` <= {NOW}",
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    _s(
        "subquery_filter_unindexed",
        "An EXISTS over a filtered full read of another table (alias U0): MariaDB turns it "
        "into a semi-join, materialising the filtered deliveries and walking the endpoints' "
        "smallest index whole (information: every endpoint is checked).",
        "indexed",
        "SELECT `upstream_webhookendpoint`.`id` FROM `upstream_webhookendpoint` WHERE EXISTS("
        "SELECT 1 AS `a` FROM `upstream_webhookdelivery` U0 WHERE (U0.`endpoint_id` = "
        "`upstream_webhookendpoint`.`id` AND U0.`event_type` = 'invoice.paid') LIMIT 1)",
        Expected(ENDPOINT, "index", None),
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    # --- predicates no index serves as written ---------------------------------------------
    _s(
        "contains",
        "`url__contains`: LIKE with a leading wildcard.",
        "indexed",
        "SELECT `upstream_webhookendpoint`.`id` FROM `upstream_webhookendpoint` WHERE "
        "`upstream_webhookendpoint`.`url` LIKE BINARY '%example%'",
        Expected(ENDPOINT, "ALL", Rule.FILTER),
        settled=(Expected(ENDPOINT, "ALL", Rule.UNSERVABLE),),
    ),
    _s(
        "icontains",
        "`url__icontains`: LIKE with a leading wildcard (case-insensitive collation).",
        "indexed",
        "SELECT `upstream_webhookendpoint`.`id` FROM `upstream_webhookendpoint` WHERE "
        "`upstream_webhookendpoint`.`url` LIKE '%example%'",
        Expected(ENDPOINT, "ALL", Rule.FILTER),
        settled=(Expected(ENDPOINT, "ALL", Rule.UNSERVABLE),),
    ),
    _s(
        "not_equal",
        "`exclude(status='success')` on an indexed column: MariaDB reads the two ranges "
        "around the value in webhook_retry_idx (on 100,000 rows too), not the whole table.",
        "indexed",
        f"SELECT {_D}.`id` FROM {_D} WHERE NOT ({_D}.`status` = 'success')",
    ),
    _s(
        "or_across_tables",
        "An OR across two tables: no index serves it, whichever table drives the join.",
        "indexed",
        f"SELECT {_D}.`id` FROM {_D} INNER JOIN `upstream_webhookendpoint` ON "
        f"({_D}.`endpoint_id` = `upstream_webhookendpoint`.`id`) WHERE "
        f"({_D}.`status` = 'failed' OR `upstream_webhookendpoint`.`url` = 'https://a.example')",
        Expected(DELIVERY, "ALL", Rule.UNSERVABLE),
    ),
    # --- joins ------------------------------------------------------------------------------
    _s(
        "join_unindexed",
        "Attempts joined on delivery_id, which has no index: the attempts table is read in "
        "full for the join (a block nested loop join buffer).",
        "indexed",
        f"SELECT {_D}.`id`, `upstream_webhookattempt`.`response_code` FROM {_D} INNER JOIN "
        f"`upstream_webhookattempt` ON (`upstream_webhookattempt`.`delivery_id` = {_D}.`id`) "
        f"WHERE {_D}.`endpoint_id` = 7",
        Expected(ATTEMPT, "ALL", Rule.JOIN),
    ),
    _s(
        "join_indexed",
        "Deliveries of a customer's endpoints, through the foreign-key indexes.",
        "indexed",
        f"{FROM_DELIVERY} INNER JOIN `upstream_webhookendpoint` ON ({_D}.`endpoint_id` = "
        "`upstream_webhookendpoint`.`id`) WHERE `upstream_webhookendpoint`.`customer_id` = 3",
    ),
    _s(
        "select_related_unfiltered",
        "`select_related` of every delivery: every row is read anyway; MariaDB reads the "
        "endpoints whole and finds their deliveries by the foreign-key index.",
        "indexed",
        f"SELECT {_D}.`id`, `upstream_webhookendpoint`.`url` FROM {_D} INNER JOIN "
        f"`upstream_webhookendpoint` ON ({_D}.`endpoint_id` = `upstream_webhookendpoint`.`id`)",
        Expected(ENDPOINT, "ALL", None),
    ),
    _s(
        "correlated_count_unindexed",
        "A count of each delivery's attempts in the select list: a dependent sub-query (alias "
        "U0, its own query block) that reads the attempts whole for every delivery, since "
        "delivery_id has no index.",
        "indexed",
        f"SELECT {_D}.`id`, (SELECT COUNT(*) FROM `upstream_webhookattempt` U0 WHERE "
        f"U0.`delivery_id` = {_D}.`id`) AS `n` FROM {_D} WHERE {_D}.`endpoint_id` = 7",
        Expected(ATTEMPT, "ALL", Rule.JOIN),
    ),
    _s(
        "join_two_key_parts",
        "Rules found by both columns of the unique (customer_id, name) index per customer; "
        "the customers are read whole and filtered by an unindexed column.",
        "indexed",
        "SELECT `upstream_alertrule`.`id` FROM `upstream_customer` INNER JOIN "
        "`upstream_alertrule` ON (`upstream_alertrule`.`customer_id` = `upstream_customer`.`id` "
        "AND `upstream_alertrule`.`name` = `upstream_customer`.`name`) WHERE "
        "`upstream_customer`.`created_at` > '2026-01-01'",
        Expected(CUSTOMER, "ALL", Rule.FILTER),
    ),
    _s(
        "left_join_unindexed",
        "An endpoint's deliveries with their attempts, if any: a LEFT JOIN on the unindexed "
        "delivery_id, the attempts read whole through a join buffer (trigcond).",
        "indexed",
        f"SELECT {_D}.`id`, `upstream_webhookattempt`.`response_code` FROM {_D} LEFT OUTER JOIN "
        f"`upstream_webhookattempt` ON (`upstream_webhookattempt`.`delivery_id` = {_D}.`id`) "
        f"WHERE {_D}.`endpoint_id` = 7",
        Expected(ATTEMPT, "ALL", Rule.JOIN),
    ),
    _s(
        "join_by_expression",
        "Endpoints found by their primary key from an expression of the delivery's columns "
        "(ref func): no full read.",
        "indexed",
        f"SELECT {_D}.`id` FROM {_D} INNER JOIN `upstream_webhookendpoint` ON "
        f"(`upstream_webhookendpoint`.`id` = {_D}.`attempts` + 1) WHERE {_D}.`status` = 'failed'",
    ),
    _s(
        "union_filters_unindexed",
        "A UNION of two filtered full reads: each query block is judged.",
        "indexed",
        f"(SELECT {_D}.`id` FROM {_D} WHERE {_D}.`event_type` = 'a') UNION "
        f"(SELECT {_D}.`id` FROM {_D} WHERE {_D}.`attempts` = 3)",
        Expected(DELIVERY, "ALL", Rule.FILTER),
        Expected(DELIVERY, "ALL", Rule.FILTER),
    ),
    # --- ORDER BY ... LIMIT -------------------------------------------------------------------
    _s(
        "sort_limit_unindexed",
        "The newest deliveries, no index on created_at alone: the table read whole and sorted.",
        "initial",
        f"{FROM_DELIVERY} ORDER BY {_D}.`created_at` DESC LIMIT 5",
        Expected(DELIVERY, "ALL", Rule.SORT_LIMIT),
    ),
    _s(
        "order_by_unfiltered",
        "Every delivery in order, no LIMIT: all rows are read and returned anyway.",
        "initial",
        f"{FROM_DELIVERY} ORDER BY {_D}.`created_at` DESC",
        Expected(DELIVERY, "ALL", None),
    ),
    _s(
        "sorted_fk_filtered",
        "An endpoint's newest deliveries of one event type with the foreign-key index only: a "
        "ref lookup, filtered, whose rows are sorted (a sorted range beside a filter).",
        "initial",
        f"SELECT {_D}.`id` FROM {_D} WHERE ({_D}.`endpoint_id` = 7 AND {_D}.`event_type` = "
        f"'invoice.paid') ORDER BY {_D}.`created_at` DESC LIMIT 5",
    ),
    _s(
        "sort_over_join",
        "A customer's deliveries by attempts, through their endpoints: the deliveries read "
        "whole and sorted, each endpoint found by its primary key and filtered; the "
        "foreign-key index on endpoint_id serves the join, the endpoints' index the filter.",
        "indexed",
        f"SELECT {_D}.`id` FROM {_D} INNER JOIN `upstream_webhookendpoint` ON "
        f"({_D}.`endpoint_id` = `upstream_webhookendpoint`.`id`) WHERE "
        f"`upstream_webhookendpoint`.`customer_id` = 3 ORDER BY {_D}.`attempts` DESC LIMIT 5",
        Expected(DELIVERY, "ALL", Rule.JOIN),
        Expected(ENDPOINT, "eq_ref", Rule.FILTER),
        settled=(),
    ),
    _s(
        "sort_by_joined_table",
        "Deliveries ordered by their endpoint's creation time: the endpoints read whole and "
        "sorted for the LIMIT, no index on created_at.",
        "initial",
        f"SELECT {_D}.`id` FROM {_D} INNER JOIN `upstream_webhookendpoint` ON "
        f"({_D}.`endpoint_id` = `upstream_webhookendpoint`.`id`) ORDER BY "
        "`upstream_webhookendpoint`.`created_at` DESC LIMIT 5",
        Expected(ENDPOINT, "ALL", Rule.SORT_LIMIT),
    ),
    _s(
        "enabled_channels_page",
        "The first page of a customer's enabled channels of one type: a range of "
        "notifchan_cust_enabled_idx on all three of its columns, sorted by name for the LIMIT.",
        "indexed",
        f"{ENABLED_CHANNELS} LIMIT 5",
    ),
    _s(
        "busiest_range_with_filter",
        "Deliveries of every endpoint of one event type, most attempts first: a range of "
        "webhook_endpoint_hist_idx, filtered by the event type and sorted for the LIMIT.",
        "indexed",
        f"SELECT {_D}.`id` FROM {_D} WHERE {_D}.`endpoint_id` > 0 AND {_D}.`event_type` = "
        f"'invoice.created' ORDER BY {_D}.`attempts` DESC LIMIT 5",
    ),
    _s(
        "logs_of_connections_page",
        "The last-ended logs of eight connections: on ten rows read whole, filtered and sorted "
        "for the LIMIT; connection_id leads intlog_conn_time_idx, which finds them at scale "
        "(the judgement drops the read; with production's shape, a sorted range).",
        "indexed",
        f"SELECT {_L}.`id` FROM {_L} WHERE {_L}.`connection_id` IN (1, 2, 3, 4, 5, 6, 7, 8) "
        f"ORDER BY {_L}.`end_time` DESC LIMIT 5",
        Expected(LOG, "ALL", Rule.FILTER),
        settled=(),
    ),
    # --- no index could help ---------------------------------------------------------------
    _s(
        "unfiltered",
        "Every row.",
        "indexed",
        FROM_DELIVERY,
        Expected(DELIVERY, "ALL", None),
    ),
    _s(
        "count_unfiltered",
        "`count()` of the whole table: InnoDB counts through its smallest index.",
        "indexed",
        f"SELECT COUNT(*) AS `__count` FROM {_D}",
        Expected(DELIVERY, "index", None),
    ),
    _s(
        "limit_unfiltered",
        "`[:21]` of an unordered table.",
        "indexed",
        f"{FROM_DELIVERY} LIMIT 21",
        Expected(DELIVERY, "ALL", None),
    ),
    _s(
        "aggregate_group_by",
        "Deliveries per status.",
        "initial",
        f"SELECT {_D}.`status`, COUNT({_D}.`id`) AS `n` FROM {_D} GROUP BY {_D}.`status`",
        Expected(DELIVERY, "ALL", None),
    ),
    # --- lookups ------------------------------------------------------------------------------
    _s(
        "pk_lookup",
        "`.get(pk=...)`.",
        "indexed",
        f"{FROM_DELIVERY} WHERE {_D}.`id` = 3 LIMIT 21",
    ),
    _s(
        "pk_in",
        "`.filter(pk__in=[...]).exists()`: on ten rows a covering secondary index is walked "
        "whole and filtered (on 100,000 rows: a range of the primary key); the judgement sees "
        "that id leads the primary key and drops it.",
        "indexed",
        f"SELECT 1 AS `a` FROM {_D} WHERE {_D}.`id` IN (1, 2, 3) LIMIT 1",
        Expected(DELIVERY, "index", Rule.FILTER),
        settled=(),
    ),
    _s(
        "update_pk",
        "`save()` of one row.",
        "indexed",
        f"UPDATE {_D} SET `attempts` = ({_D}.`attempts` + 1), `status` = 'retrying' "
        f"WHERE {_D}.`id` = 3",
    ),
    _s(
        "delete_fk_in",
        "The cascade of deleting an endpoint: its deliveries by the foreign-key index.",
        "initial",
        f"DELETE FROM {_D} WHERE {_D}.`endpoint_id` IN (7)",
    ),
    _s(
        "insert_values",
        "An INSERT reads no table.",
        "indexed",
        f"INSERT INTO `upstream_customer` (`name`, `created_at`) VALUES ('Umbrella', {NOW})",
    ),
)


# --- rows ------------------------------------------------------------------------------------

START = datetime(2025, 1, 1)


def _delivery_status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return "retrying"
    if roll < 0.07:
        return "failed"
    if roll < 0.10:
        return "pending"
    return "success"


def _log_status(rng: random.Random) -> str:
    roll = rng.random()
    return "failed" if roll < 0.03 else "running" if roll < 0.05 else "success"


@dataclass(frozen=True)
class Rows:
    """Row counts of one data set: customers, endpoints (and connections), deliveries (and
    logs), attempts."""

    customers: int
    endpoints: int
    deliveries: int


SMALL = Rows(customers=3, endpoints=8, deliveries=10)
LARGE = Rows(customers=100, endpoints=1000, deliveries=100_000)


def rows(size: Rows, seed: int = 12) -> Iterator[tuple[str, Sequence[Sequence[object]]]]:
    """INSERT statements (with %s placeholders) and their rows, parents first."""
    rng = random.Random(seed)
    yield (
        "INSERT INTO `upstream_customer` (`id`, `name`, `created_at`) VALUES (%s, %s, %s)",
        [(i, f"customer {i}", START) for i in range(1, size.customers + 1)],
    )
    yield (
        "INSERT INTO `upstream_userprofile` (`id`, `role`, `customer_id`, `user_id`) "
        "VALUES (%s, %s, %s, %s)",
        [(i, "viewer", 1 + i % size.customers, i) for i in range(1, size.endpoints + 1)],
    )
    yield (
        "INSERT INTO `upstream_webhookendpoint` (`id`, `url`, `active`, `created_at`, "
        "`customer_id`) VALUES (%s, %s, %s, %s, %s)",
        [
            (i, f"https://{i}.example/hook", True, START, 1 + i % size.customers)
            for i in range(1, size.endpoints + 1)
        ],
    )
    yield (
        "INSERT INTO `upstream_integrationconnection` (`id`, `name`, `provider`, `created_at`, "
        "`customer_id`) VALUES (%s, %s, %s, %s, %s)",
        [
            (i, f"connection {i}", "crm", START, 1 + i % size.customers)
            for i in range(1, size.endpoints + 1)
        ],
    )
    rules = size.customers * 20
    yield (
        "INSERT INTO `upstream_alertrule` (`id`, `name`, `enabled`, `metric`, `comparison`, "
        "`threshold`, `created_at`, `customer_id`) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (i, f"rule {i}", i % 5 != 0, "denials", "gt", 0.5, START, 1 + i % size.customers)
            for i in range(1, rules + 1)
        ],
    )
    kinds = ("email", "slack", "webhook")
    yield (
        "INSERT INTO `upstream_notificationchannel` (`id`, `name`, `channel_type`, `enabled`, "
        "`config`, `customer_id`) VALUES (%s, %s, %s, %s, %s, %s)",
        [
            (i, f"channel {i}", kinds[i % 3], i % 4 != 0, "{}", 1 + (i // 3) % size.customers)
            for i in range(1, size.customers * 6 + 1)
        ],
    )
    deliveries = []
    logs = []
    for i in range(1, size.deliveries + 1):
        created = START + timedelta(minutes=i)
        status = _delivery_status(rng)
        due = created + timedelta(minutes=rng.randint(1, 600)) if status == "retrying" else None
        endpoint = 1 + int(rng.paretovariate(1.2)) % size.endpoints
        deliveries.append((i, "invoice.created", "{}", status, 1, due, created, "", endpoint))
        connection = 1 + int(rng.paretovariate(1.2)) % size.endpoints
        logs.append((i, _log_status(rng), created, None, "", connection))
    yield (
        "INSERT INTO `upstream_webhookdelivery` (`id`, `event_type`, `payload`, `status`, "
        "`attempts`, `next_attempt_at`, `created_at`, `last_error`, `endpoint_id`) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        deliveries,
    )
    yield (
        "INSERT INTO `upstream_integrationlog` (`id`, `status`, `start_time`, `end_time`, "
        "`message`, `connection_id`) VALUES (%s, %s, %s, %s, %s, %s)",
        logs,
    )
    yield (
        "INSERT INTO `upstream_webhookattempt` (`id`, `delivery_id`, `response_code`) "
        "VALUES (%s, %s, %s)",
        [(i, 1 + (i * 7) % size.deliveries, 500) for i in range(1, size.deliveries + 1)],
    )
