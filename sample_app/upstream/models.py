"""Customers and the users who belong to them.

The alert and integration models live in their own modules; they are imported here so that
Django registers them when it loads this app's models (app label "upstream", tables upstream_*).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from upstream.alerts.models import AlertRule, NotificationChannel
from upstream.integrations.models import (
    IntegrationConnection,
    IntegrationLog,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "AlertRule",
    "Customer",
    "IntegrationConnection",
    "IntegrationLog",
    "NotificationChannel",
    "UserProfile",
    "WebhookDelivery",
    "WebhookEndpoint",
]


class Customer(models.Model):
    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Customer"
        verbose_name_plural = "Customers"

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        ANALYST = "analyst", "Analyst"
        VIEWER = "viewer", "Viewer"

    # Django already indexes every ForeignKey and OneToOneField: `customer` gets a plain index
    # and `user` a unique one (the OneToOne's UNIQUE constraint). The seed's `db_index=True` on
    # these two keys would change nothing (makemigrations sees no difference, sqlmigrate prints
    # "-- (no-op)"), so it is deliberately not written.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="user_profiles",
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        verbose_name = "User Profile"
        verbose_name_plural = "User Profiles"

    def __str__(self) -> str:
        return f"{self.user} ({self.customer})"
