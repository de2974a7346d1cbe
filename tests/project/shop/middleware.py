"""Middleware the inner project installs: one that only passes requests on, one that issues a
statement of its own when a request asks for it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from shop.models import Customer


class StampMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Stamp"] = "1"
        return response


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        city = request.headers.get("X-Audit-City")
        if city:
            request.audited = Customer.objects.filter(city=city).count()
        return self.get_response(request)
