"""Webhook delivery retries and integration log reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

from upstream.integrations.models import IntegrationLog, WebhookDelivery

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from upstream.integrations.models import IntegrationConnection, WebhookEndpoint

#: A delivery that has failed this many times is given up on.
MAX_ATTEMPTS = 5
#: Delay before the first retry; it doubles with every further failure.
BASE_RETRY_DELAY = timedelta(minutes=1)
#: No retry waits longer than this.
MAX_RETRY_DELAY = timedelta(hours=1)


def due_retries(now: datetime | None = None, limit: int = 100) -> QuerySet[WebhookDelivery]:
    """The next batch for the retry worker.

    The worker runs every few seconds; the batch is bounded so that one run stays short even
    after a receiver outage, and the deliveries that have waited longest go first.
    """
    if now is None:
        now = timezone.now()
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.RETRYING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")[:limit]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt.

    Doubling keeps a receiver that is down from being hammered; the cap makes sure it is tried
    again within the hour once it is back.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    # The exponent is capped too: the cap on the delay is reached long before, and an
    # unbounded power would overflow timedelta.
    return min(BASE_RETRY_DELAY * (1 << min(attempts - 1, 20)), MAX_RETRY_DELAY)


def schedule_next_attempt(
    delivery: WebhookDelivery, *, error: str = "", now: datetime | None = None
) -> WebhookDelivery:
    """Record a failed attempt of ``delivery`` and decide whether it is tried again.

    The counter is incremented in the database (``F``), so that two workers that both saw the
    delivery fail do not lose an attempt; the row is updated by primary key and re-read so that
    the caller sees what was stored.
    """
    if now is None:
        now = timezone.now()
    attempts = delivery.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        status = WebhookDelivery.Status.FAILED
        next_attempt_at: datetime | None = None
    else:
        status = WebhookDelivery.Status.RETRYING
        next_attempt_at = now + retry_delay(attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1,
        status=status,
        next_attempt_at=next_attempt_at,
        last_error=error,
    )
    delivery.refresh_from_db(fields=["attempts", "status", "next_attempt_at", "last_error"])
    return delivery


def delivery_history(endpoint: WebhookEndpoint, limit: int = 50) -> QuerySet[WebhookDelivery]:
    """What the endpoint's page in the dashboard lists: its latest deliveries first.

    Endpoints accumulate deliveries for as long as they exist; the page shows one screenful.
    """
    return endpoint.deliveries.order_by("-created_at")[:limit]


def delete_endpoint(endpoint: WebhookEndpoint) -> int:
    """Remove an endpoint together with its delivery history; return how many deliveries went.

    The deliveries are only meaningful for their endpoint, so they go with it (CASCADE); the
    count is what the confirmation message tells the user.
    """
    _, deleted = endpoint.delete()
    return deleted.get(WebhookDelivery._meta.label, 0)


def recent_logs(connection: IntegrationConnection, limit: int = 20) -> QuerySet[IntegrationLog]:
    """The sync history shown for a connection: the latest runs first.

    Connections sync many times a day, so only the most recent runs are of interest.
    """
    return connection.logs.order_by("-start_time")[:limit]


def failed_logs(since: datetime | None = None, limit: int = 50) -> QuerySet[IntegrationLog]:
    """Failed syncs across all customers, newest first, for error monitoring.

    ``since`` lets the monitor poll for what failed after its previous run instead of paging
    through the whole history again.
    """
    logs = IntegrationLog.objects.filter(status=IntegrationLog.Status.FAILED)
    if since is not None:
        logs = logs.filter(start_time__gte=since)
    return logs.order_by("-start_time")[:limit]
