# The indexes planned in the seed documents, built CONCURRENTLY so that writes to these tables
# are not blocked while they build. CREATE/DROP INDEX CONCURRENTLY cannot run inside a
# transaction, hence atomic = False. If a build fails half-way PostgreSQL leaves an INVALID
# index behind: drop it by hand before migrating again.
#
# db_index on the two `enabled` fields: AlterField would build its index inside the schema
# editor without CONCURRENTLY, so the field change is recorded as state only and the database
# side creates the same index under the name Django's schema editor gives it
# (_create_index_name(table, ["enabled"], suffix="")). A later AlterField back to
# db_index=False then finds it by introspection and drops it like any Django-made index.
#
# The sample app also runs on SQLite and MySQL (DATABASE_URL), which have no CONCURRENTLY:
# there the same indexes are built the plain way.

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex

ALERTRULE_ENABLED_IDX = "upstream_alertrule_enabled_edf77657"
NOTIFCHAN_ENABLED_IDX = "upstream_notificationchannel_enabled_c56d7ec2"


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX on other databases."""

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *states)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, *states)

    def database_backwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *states)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, *states)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("upstream", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="alertrule",
                    name="enabled",
                    field=models.BooleanField(db_index=True, default=True),
                ),
            ],
            database_operations=[
                AddIndexConcurrentlyOnPostgreSQL(
                    model_name="alertrule",
                    index=models.Index(fields=["enabled"], name=ALERTRULE_ENABLED_IDX),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notificationchannel",
                    name="enabled",
                    field=models.BooleanField(db_index=True, default=True),
                ),
            ],
            database_operations=[
                AddIndexConcurrentlyOnPostgreSQL(
                    model_name="notificationchannel",
                    index=models.Index(fields=["enabled"], name=NOTIFCHAN_ENABLED_IDX),
                ),
            ],
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="alertrule",
            index=models.Index(fields=["customer", "enabled"], name="alertrule_cust_enabled_idx"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="notificationchannel",
            index=models.Index(
                fields=["customer", "enabled", "channel_type"],
                name="notifchan_cust_enabled_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="webhookdelivery",
            index=models.Index(fields=["status", "next_attempt_at"], name="webhook_retry_idx"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["endpoint", "-created_at"], name="webhook_endpoint_hist_idx"
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="integrationlog",
            index=models.Index(fields=["connection", "-start_time"], name="intlog_conn_time_idx"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="integrationlog",
            index=models.Index(fields=["status", "-start_time"], name="intlog_status_time_idx"),
        ),
    ]
