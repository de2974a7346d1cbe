from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone

from tests.factories import make_delivery, make_endpoint
from upstream.integrations.models import WebhookDelivery, WebhookEndpoint
from upstream.integrations.services import (
    MAX_ATTEMPTS,
    delete_endpoint,
    delivery_history,
    due_retries,
    retry_delay,
    schedule_next_attempt,
)

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
RETRYING = WebhookDelivery.Status.RETRYING
MINUTE = timedelta(minutes=1)


@pytest.mark.django_db
def test_due_retries_are_the_due_retrying_deliveries_oldest_first() -> None:
    endpoint = make_endpoint()
    due_later = make_delivery(endpoint, status=RETRYING, next_attempt_at=NOW - MINUTE)
    due_first = make_delivery(endpoint, status=RETRYING, next_attempt_at=NOW - 10 * MINUTE)
    due_now = make_delivery(endpoint, status=RETRYING, next_attempt_at=NOW)
    make_delivery(endpoint, status=RETRYING, next_attempt_at=NOW + MINUTE)
    make_delivery(endpoint, status=WebhookDelivery.Status.PENDING, next_attempt_at=NOW - MINUTE)
    make_delivery(endpoint, status=WebhookDelivery.Status.FAILED, next_attempt_at=NOW - MINUTE)

    assert list(due_retries(NOW)) == [due_first, due_later, due_now]


@pytest.mark.django_db
def test_due_retries_respect_the_limit() -> None:
    endpoint = make_endpoint()
    deliveries = [
        make_delivery(endpoint, status=RETRYING, next_attempt_at=NOW - minutes * MINUTE)
        for minutes in (5, 1, 4, 2, 3)
    ]
    oldest_three = sorted(deliveries, key=lambda delivery: delivery.next_attempt_at or NOW)[:3]

    assert list(due_retries(NOW, limit=3)) == oldest_three


@pytest.mark.django_db
def test_due_retries_default_to_the_current_time() -> None:
    endpoint = make_endpoint()
    now = django_timezone.now()
    due = make_delivery(endpoint, status=RETRYING, next_attempt_at=now - MINUTE)
    make_delivery(endpoint, status=RETRYING, next_attempt_at=now + timedelta(hours=1))

    assert list(due_retries()) == [due]


def test_retry_delay_doubles_up_to_an_hour() -> None:
    assert [retry_delay(attempts) for attempts in (1, 2, 3, 4)] == [
        MINUTE,
        2 * MINUTE,
        4 * MINUTE,
        8 * MINUTE,
    ]
    assert retry_delay(7) == timedelta(hours=1)
    assert retry_delay(1000) == timedelta(hours=1)
    with pytest.raises(ValueError, match="at least 1"):
        retry_delay(0)


@pytest.mark.django_db
def test_schedule_next_attempt_backs_off_exponentially() -> None:
    delivery = make_delivery(make_endpoint())

    schedule_next_attempt(delivery, error="HTTP 502", now=NOW)
    assert (delivery.attempts, delivery.status) == (1, RETRYING)
    assert delivery.next_attempt_at == NOW + MINUTE
    assert delivery.last_error == "HTTP 502"

    schedule_next_attempt(delivery, error="timeout", now=NOW)
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.attempts, stored.status) == (2, RETRYING)
    assert stored.next_attempt_at == NOW + 2 * MINUTE
    assert stored.last_error == "timeout"


@pytest.mark.django_db
def test_schedule_next_attempt_gives_up_after_max_attempts() -> None:
    delivery = make_delivery(
        make_endpoint(), status=RETRYING, next_attempt_at=NOW, attempts=MAX_ATTEMPTS - 1
    )

    schedule_next_attempt(delivery, error="HTTP 500", now=NOW)

    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert stored.attempts == MAX_ATTEMPTS
    assert stored.status == WebhookDelivery.Status.FAILED
    assert stored.next_attempt_at is None


@pytest.mark.django_db
def test_schedule_next_attempt_counts_in_the_database() -> None:
    delivery = make_delivery(make_endpoint())
    stale_copy = WebhookDelivery.objects.get(pk=delivery.pk)

    schedule_next_attempt(delivery, now=NOW)
    schedule_next_attempt(stale_copy, now=NOW)

    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2


@pytest.mark.django_db
def test_delivery_history_is_newest_first_and_limited() -> None:
    endpoint = make_endpoint()
    hour = timedelta(hours=1)
    by_age = [make_delivery(endpoint, created_at=NOW - hours * hour) for hours in (2, 0, 3, 1)]
    make_delivery(make_endpoint(), created_at=NOW + hour)

    history = list(delivery_history(endpoint, limit=3))

    assert [delivery.created_at for delivery in history] == [NOW, NOW - hour, NOW - 2 * hour]
    assert history == [by_age[1], by_age[3], by_age[0]]
    assert len(delivery_history(endpoint)) == 4


@pytest.mark.django_db
def test_delete_endpoint_removes_its_deliveries() -> None:
    endpoint = make_endpoint()
    ids = [make_delivery(endpoint).pk for _ in range(3)]
    kept = make_delivery(make_endpoint())

    assert delete_endpoint(endpoint) == 3

    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(pk__in=ids).exists()
    assert WebhookDelivery.objects.filter(pk=kept.pk).exists()
