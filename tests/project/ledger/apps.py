from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def check_opening_balance(sender: AppConfig, **kwargs: Any) -> None:
    from ledger.models import Entry

    Entry.objects.using(kwargs.get("using", "default")).filter(account="opening").exists()


class LedgerConfig(AppConfig):
    name = "ledger"

    def ready(self) -> None:
        post_migrate.connect(check_opening_balance, sender=self)
