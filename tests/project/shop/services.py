"""The inner project's application code: what its views, command and tests call."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shop.models import Customer


def customers_in(city: str) -> QuerySet[Customer]:
    """Lazy: whoever evaluates it runs the statement."""
    return Customer.objects.filter(city=city)


def evaluate(queryset: Any) -> list[Any]:
    return list(queryset)
