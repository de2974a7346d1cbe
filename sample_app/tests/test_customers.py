from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from pytest_django import DjangoAssertNumQueries

from tests.factories import make_customer, make_profile, make_user
from upstream.services import get_user_customer


@pytest.mark.django_db
def test_get_user_customer_returns_the_customer_of_the_profile() -> None:
    acme = make_customer("Acme")
    profile = make_profile(customer=acme)
    make_profile(customer=make_customer("Globex"))

    assert get_user_customer(profile.user) == acme


@pytest.mark.django_db
def test_get_user_customer_joins_the_customer_in_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    profile = make_profile(customer=make_customer("Initech"))
    user = User.objects.get(pk=profile.user.pk)  # a fresh instance: no cached profile

    with django_assert_num_queries(1):
        customer = get_user_customer(user)
        assert customer is not None
        assert customer.name == "Initech"


@pytest.mark.django_db
def test_get_user_customer_is_none_for_a_user_without_profile() -> None:
    make_profile()
    user = make_user()

    assert get_user_customer(user) is None


@pytest.mark.django_db
def test_get_user_customer_is_none_for_anonymous_without_a_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(0):
        assert get_user_customer(AnonymousUser()) is None
