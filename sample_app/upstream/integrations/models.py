"""Connections to third-party systems, their sync logs, and outgoing webhooks."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IntegrationConnection(models.Model):
    # A string reference: upstream.models imports this module to register it.
    customer = models.ForeignKey(
        "upstream.Customer",
        on_delete=models.CASCADE,
        related_name="integration_connections",
    )
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Integration Connection"
        verbose_name_plural = "Integration Connections"

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class IntegrationLog(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        IntegrationConnection,
        on_delete=models.CASCADE,
        related_name="logs",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    start_time = models.DateTimeField(default=timezone.now)
    end_time = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        verbose_name = "Integration Log"
        verbose_name_plural = "Integration Logs"
        ordering = ["-start_time"]
        indexes = [
            # Recent logs per connection.
            models.Index(fields=["connection", "-start_time"], name="intlog_conn_time_idx"),
            # Error monitoring: failed runs, newest first.
            models.Index(fields=["status", "-start_time"], name="intlog_status_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.status} at {self.start_time:%Y-%m-%d %H:%M}"


class WebhookEndpoint(models.Model):
    customer = models.ForeignKey(
        "upstream.Customer",
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField(max_length=500)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Webhook Endpoint"
        verbose_name_plural = "Webhook Endpoints"

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        RETRYING = "retrying", "Retrying"

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "Webhook Delivery"
        verbose_name_plural = "Webhook Deliveries"
        ordering = ["-created_at"]
        indexes = [
            # Retry queue: status='retrying' AND next_attempt_at <= now, oldest due first.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_retry_idx"),
            # Delivery history per endpoint, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="webhook_endpoint_hist_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.endpoint} ({self.status})"
