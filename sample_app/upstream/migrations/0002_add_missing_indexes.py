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

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

ALERTRULE_ENABLED_IDX = "upstream_alertrule_enabled_edf77657"
NOTIFCHAN_ENABLED_IDX = "upstream_notificationchannel_enabled_c56d7ec2"


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
                migrations.RunSQL(
                    sql=(
                        f'CREATE INDEX CONCURRENTLY "{ALERTRULE_ENABLED_IDX}" '
                        'ON "upstream_alertrule" ("enabled")'
                    ),
                    reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{ALERTRULE_ENABLED_IDX}"',
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
                migrations.RunSQL(
                    sql=(
                        f'CREATE INDEX CONCURRENTLY "{NOTIFCHAN_ENABLED_IDX}" '
                        'ON "upstream_notificationchannel" ("enabled")'
                    ),
                    reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{NOTIFCHAN_ENABLED_IDX}"',
                ),
            ],
        ),
        AddIndexConcurrently(
            model_name="alertrule",
            index=models.Index(fields=["customer", "enabled"], name="alertrule_cust_enabled_idx"),
        ),
        AddIndexConcurrently(
            model_name="notificationchannel",
            index=models.Index(
                fields=["customer", "enabled", "channel_type"],
                name="notifchan_cust_enabled_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="webhookdelivery",
            index=models.Index(fields=["status", "next_attempt_at"], name="webhook_retry_idx"),
        ),
        AddIndexConcurrently(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["endpoint", "-created_at"], name="webhook_endpoint_hist_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="integrationlog",
            index=models.Index(fields=["connection", "-start_time"], name="intlog_conn_time_idx"),
        ),
        AddIndexConcurrently(
            model_name="integrationlog",
            index=models.Index(fields=["status", "-start_time"], name="intlog_status_time_idx"),
        ),
    ]
