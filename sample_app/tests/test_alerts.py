from __future__ import annotations

import pytest

from tests.factories import make_channel, make_customer, make_rule
from upstream.alerts.models import NotificationChannel
from upstream.alerts.services import enabled_channels, enabled_rules

EMAIL = NotificationChannel.ChannelType.EMAIL
SLACK = NotificationChannel.ChannelType.SLACK
WEBHOOK = NotificationChannel.ChannelType.WEBHOOK


@pytest.mark.django_db
def test_enabled_rules_are_the_customers_enabled_rules_by_name() -> None:
    customer = make_customer()
    make_rule(customer, name="high denial rate")
    make_rule(customer, name="backlog")
    make_rule(customer, name="muted", enabled=False)
    make_rule(make_customer(), name="other customer's rule")

    assert [rule.name for rule in enabled_rules(customer)] == ["backlog", "high denial rate"]


@pytest.mark.django_db
def test_enabled_rules_is_empty_when_every_rule_is_disabled() -> None:
    customer = make_customer()
    make_rule(customer, enabled=False)
    make_rule(make_customer())

    assert list(enabled_rules(customer)) == []


@pytest.mark.django_db
def test_enabled_channels_filter_by_type_and_enabled() -> None:
    customer = make_customer()
    make_channel(customer, EMAIL, name="ops")
    make_channel(customer, EMAIL, name="billing")
    make_channel(customer, EMAIL, name="muted", enabled=False)
    make_channel(customer, SLACK, name="team")
    make_channel(make_customer(), EMAIL, name="elsewhere")

    assert [channel.name for channel in enabled_channels(customer, EMAIL)] == ["billing", "ops"]
    assert [channel.name for channel in enabled_channels(customer, SLACK)] == ["team"]
    assert list(enabled_channels(customer, WEBHOOK)) == []
