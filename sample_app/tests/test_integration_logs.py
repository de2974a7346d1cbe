from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import make_connection, make_log
from upstream.integrations.models import IntegrationLog
from upstream.integrations.services import failed_logs, recent_logs

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
FAILED = IntegrationLog.Status.FAILED


@pytest.mark.django_db
def test_recent_logs_are_the_connections_newest_first() -> None:
    connection = make_connection()
    older = make_log(connection, NOW - 2 * HOUR)
    newest = make_log(connection, NOW, status=FAILED)
    middle = make_log(connection, NOW - HOUR)
    make_log(make_connection(), NOW + HOUR)

    assert list(recent_logs(connection)) == [newest, middle, older]


@pytest.mark.django_db
def test_recent_logs_respect_the_limit() -> None:
    connection = make_connection()
    logs = [make_log(connection, NOW - hours * HOUR) for hours in range(5)]

    assert list(recent_logs(connection, limit=2)) == logs[:2]


@pytest.mark.django_db
def test_failed_logs_are_failures_of_every_connection_newest_first() -> None:
    first, second = make_connection(), make_connection()
    old_failure = make_log(first, NOW - 3 * HOUR, status=FAILED)
    new_failure = make_log(second, NOW - HOUR, status=FAILED)
    make_log(first, NOW, status=IntegrationLog.Status.SUCCESS)
    make_log(second, NOW, status=IntegrationLog.Status.RUNNING)

    assert list(failed_logs()) == [new_failure, old_failure]


@pytest.mark.django_db
def test_failed_logs_since_and_limit() -> None:
    connection = make_connection()
    failures = [make_log(connection, NOW - hours * HOUR, status=FAILED) for hours in range(6)]

    assert list(failed_logs(since=NOW - 2 * HOUR)) == failures[:3]
    assert list(failed_logs(limit=4)) == failures[:4]
