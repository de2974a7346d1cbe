from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shop.models import Customer


class Command(BaseCommand):
    help = "How many customers live in Oslo."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(Customer.objects.filter(city="Oslo").count()))
