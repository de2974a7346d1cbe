"""Lookups around customers and their users."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from upstream.models import Customer, UserProfile


def get_user_customer(user: AbstractBaseUser | AnonymousUser) -> Customer | None:
    """The customer whose data ``user`` may see, or None.

    Every API view scopes its queries by this customer, so it runs on nearly every request: one
    query through the profile's unique ``user_id`` index, with the customer joined in rather than
    fetched by a second query. Users without a profile (staff accounts, half-created sign-ups)
    and anonymous users belong to no customer; callers treat that as "no access", not an error.
    """
    if not user.is_authenticated:
        return None
    try:
        profile = UserProfile.objects.select_related("customer").get(user_id=user.pk)
    except UserProfile.DoesNotExist:
        return None
    return profile.customer
