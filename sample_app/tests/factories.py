"""Small helpers that create rows with sensible defaults; each call makes unique names."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from upstream.models import (
    AlertRule,
    Customer,
    IntegrationConnection,
    IntegrationLog,
    NotificationChannel,
    UserProfile,
    WebhookDelivery,
    WebhookEndpoint,
)

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def make_customer(name: str | None = None) -> Customer:
    return Customer.objects.create(name=name or f"customer-{_next()}")


def make_user(username: str | None = None) -> User:
    return User.objects.create_user(username=username or f"user-{_next()}")


def make_profile(
    user: User | None = None,
    customer: Customer | None = None,
    role: str = UserProfile.Role.VIEWER,
) -> UserProfile:
    return UserProfile.objects.create(
        user=user or make_user(), customer=customer or make_customer(), role=role
    )


def make_rule(customer: Customer, *, name: str | None = None, enabled: bool = True) -> AlertRule:
    return AlertRule.objects.create(
        customer=customer,
        name=name or f"rule-{_next()}",
        enabled=enabled,
        metric="denial_rate",
        threshold=0.2,
    )


def make_channel(
    customer: Customer,
    channel_type: str = NotificationChannel.ChannelType.EMAIL,
    *,
    name: str | None = None,
    enabled: bool = True,
) -> NotificationChannel:
    return NotificationChannel.objects.create(
        customer=customer,
        name=name or f"channel-{_next()}",
        channel_type=channel_type,
        enabled=enabled,
        config={"target": "ops@example.com"},
    )


def make_connection(customer: Customer | None = None) -> IntegrationConnection:
    return IntegrationConnection.objects.create(
        customer=customer or make_customer(), name=f"connection-{_next()}", provider="ehr"
    )


def make_log(
    connection: IntegrationConnection,
    start_time: datetime,
    status: str = IntegrationLog.Status.SUCCESS,
) -> IntegrationLog:
    return IntegrationLog.objects.create(
        connection=connection, status=status, start_time=start_time
    )


def make_endpoint(customer: Customer | None = None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        customer=customer or make_customer(), url=f"https://hooks.example.com/{_next()}"
    )


def make_delivery(
    endpoint: WebhookEndpoint,
    *,
    status: str = WebhookDelivery.Status.PENDING,
    next_attempt_at: datetime | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="claim.updated",
        payload={"seq": _next()},
        status=status,
        next_attempt_at=next_attempt_at,
        **fields,
    )
    if created_at is not None:
        # created_at is auto_now_add: create() ignores a given value, so set it afterwards.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
        delivery.created_at = created_at
    return delivery
