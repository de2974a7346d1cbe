"""Views served through Django's test client: a template, a generic view, an async view and,
when it is installed, a Django REST framework view. Their statements run in library code
(the template engine, Django's and DRF's generic views), not in a function of this file."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.generic import ListView
from django.views.generic.detail import BaseDetailView
from django.views.generic.list import BaseListView

from shop.models import Customer, Order
from shop.services import customers_in


class CustomerList(ListView):
    template_name = "shop/customer_list.html"

    def get_queryset(self) -> Any:
        return customers_in(self.kwargs["city"])


class PendingOrders(BaseListView):
    queryset = Order.objects.filter(status="pending")
    allow_empty = False

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return JsonResponse({"pending": True})


class CustomerByCity(BaseDetailView):
    # Django builds the QuerySet itself, from the model.
    model = Customer
    slug_field = "city"
    slug_url_kwarg = "city"

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return JsonResponse({"name": self.object.name})


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pong")


async def customer_count(request: HttpRequest, city: str) -> JsonResponse:
    return JsonResponse({"count": await Customer.objects.filter(city=city).acount()})


try:
    from rest_framework import generics, serializers
except ImportError:  # pragma: no cover - DRF is a development dependency
    pass
else:

    class OrderSerializer(serializers.ModelSerializer):
        class Meta:
            model = Order
            fields = ("id", "status")

    class PendingOrdersApi(generics.ListAPIView):
        queryset = Order.objects.filter(status="pending")
        serializer_class = OrderSerializer
