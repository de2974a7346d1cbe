from __future__ import annotations

from typing import Any

from django.urls import path

from shop import views

urlpatterns: list[Any] = [
    path("customers/<str:city>/", views.CustomerList.as_view()),
    path("orders/pending/", views.PendingOrders.as_view()),
    path("count/<str:city>/", views.customer_count),
    path("ping/", views.ping),
    path("customers/by-city/<str:city>/", views.CustomerByCity.as_view()),
]
if hasattr(views, "PendingOrdersApi"):
    urlpatterns.append(path("api/orders/pending/", views.PendingOrdersApi.as_view()))
