"""Alert rules and the channels their notifications go out on.

Both are read far more often than written: every evaluation cycle loads a customer's enabled
rules, and every alert loads the customer's enabled channels of one type. The indexes below
exist for those two reads.
"""

from __future__ import annotations

from django.db import models


class AlertRule(models.Model):
    class Comparison(models.TextChoices):
        GREATER_THAN = "gt", "Greater than"
        LESS_THAN = "lt", "Less than"

    # A string reference: upstream.models imports this module to register it, so importing
    # Customer from there would be circular.
    customer = models.ForeignKey(
        "upstream.Customer",
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True, db_index=True)
    metric = models.CharField(max_length=100)
    comparison = models.CharField(
        max_length=2, choices=Comparison.choices, default=Comparison.GREATER_THAN
    )
    threshold = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Alert Rule"
        verbose_name_plural = "Alert Rules"
        unique_together = ("customer", "name")
        indexes = [
            # Rule evaluation: a customer's enabled rules.
            models.Index(fields=["customer", "enabled"], name="alertrule_cust_enabled_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class NotificationChannel(models.Model):
    class ChannelType(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"

    customer = models.ForeignKey(
        "upstream.Customer",
        on_delete=models.CASCADE,
        related_name="notification_channels",
    )
    name = models.CharField(max_length=200)
    channel_type = models.CharField(max_length=20, choices=ChannelType.choices)
    enabled = models.BooleanField(default=True, db_index=True)
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "Notification Channel"
        verbose_name_plural = "Notification Channels"
        unique_together = ("customer", "name")
        indexes = [
            # Delivery: a customer's enabled channels of one type.
            models.Index(
                fields=["customer", "enabled", "channel_type"],
                name="notifchan_cust_enabled_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel_type})"
