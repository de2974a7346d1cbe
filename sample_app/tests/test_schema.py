"""The indexes of 0002_add_missing_indexes: present normally, absent with --without-indexes."""

from __future__ import annotations

import pytest
from django.db import connection, models

from upstream.alerts.models import AlertRule, NotificationChannel

PLANNED_INDEXES = {
    "upstream_alertrule": {"alertrule_cust_enabled_idx"},
    "upstream_notificationchannel": {"notifchan_cust_enabled_idx"},
    "upstream_webhookdelivery": {"webhook_retry_idx", "webhook_endpoint_hist_idx"},
    "upstream_integrationlog": {"intlog_conn_time_idx", "intlog_status_time_idx"},
}


def _index_columns(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: list(info["columns"]) for name, info in constraints.items() if info["index"]}


def _schema_editor_index_name(table: str, column: str) -> str:
    # The name Django's schema editor gives the index of a db_index=True field (a private
    # method, but the one it uses itself).
    editor = connection.schema_editor()
    name: str = editor._create_index_name(table, [column], suffix="")  # type: ignore[attr-defined]
    return name


def _without_indexes(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--without-indexes"))


@pytest.mark.django_db
def test_planned_indexes_follow_the_without_indexes_option(request: pytest.FixtureRequest) -> None:
    without_indexes = _without_indexes(request)

    for table, planned in PLANNED_INDEXES.items():
        present = set(_index_columns(table))
        if without_indexes:
            assert not planned & present, table
        else:
            assert planned <= present, table

    for model in (AlertRule, NotificationChannel):
        table = model._meta.db_table
        indexes = _index_columns(table)
        on_enabled = {name for name, columns in indexes.items() if columns == ["enabled"]}
        expected = set() if without_indexes else {_schema_editor_index_name(table, "enabled")}
        assert on_enabled == expected, table
        # The foreign key is indexed in both schemas: by Django's own index, or on MySQL and
        # MariaDB by the unique (customer_id, name) index, which lets InnoDB drop Django's.
        assert any(columns[:1] == ["customer_id"] for columns in indexes.values()), table


@pytest.mark.django_db
@pytest.mark.parametrize("model", [AlertRule, NotificationChannel])
def test_db_index_false_on_enabled_drops_the_concurrently_built_index(
    request: pytest.FixtureRequest, model: type[models.Model]
) -> None:
    # What a later AlterField(enabled, db_index=False) migration does; the DDL is rolled back
    # with the test's transaction.
    if _without_indexes(request):
        pytest.skip("the schema of 0001 has no index on enabled")
    if connection.vendor != "postgresql":
        # SQLite's schema editor refuses to run inside the test's transaction, and MySQL's DDL
        # would commit it: only PostgreSQL rolls the change back with the test.
        pytest.skip("only PostgreSQL builds the index concurrently and rolls DDL back")
    table = model._meta.db_table
    old_field = model._meta.get_field("enabled")
    assert isinstance(old_field, models.BooleanField)
    new_field = models.BooleanField(default=True)
    new_field.set_attributes_from_name("enabled")

    with connection.schema_editor() as editor:
        editor.alter_field(model, old_field, new_field)

    assert ["enabled"] not in _index_columns(table).values()
