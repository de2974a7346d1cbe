"""Reads done by alert evaluation and notification delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from upstream.alerts.models import AlertRule, NotificationChannel

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from upstream.models import Customer


def enabled_rules(customer: Customer) -> QuerySet[AlertRule]:
    """The rules an evaluation cycle must check for ``customer``.

    Disabled rules are kept (users switch them off and on again) but must never fire. Ordered by
    name so that evaluation, and the alerts it raises, come out in a stable order.
    """
    return AlertRule.objects.filter(customer=customer, enabled=True).order_by("name")


def enabled_channels(customer: Customer, channel_type: str) -> QuerySet[NotificationChannel]:
    """The channels an alert of ``customer`` goes out on, for one delivery mechanism.

    Each sender (email, Slack, webhook) asks only for its own type, so the filter includes it;
    a disabled channel is one the customer muted and must not receive anything.
    """
    return NotificationChannel.objects.filter(
        customer=customer, enabled=True, channel_type=channel_type
    ).order_by("name")
