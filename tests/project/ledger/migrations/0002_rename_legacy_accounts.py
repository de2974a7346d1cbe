from __future__ import annotations

from typing import Any

from django.db import migrations


def rename_legacy_accounts(apps: Any, schema_editor: Any) -> None:
    Entry = apps.get_model("ledger", "Entry")
    Entry.objects.filter(account="legacy").update(account="cash")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(rename_legacy_accounts, migrations.RunPython.noop)]
