"""Models with deliberate gaps: ``Customer.city`` and ``Order.customer`` have no index."""

from __future__ import annotations

from django.db import models


class CustomerQuerySet(models.QuerySet["Customer"]):
    def in_city(self, city: str) -> CustomerQuerySet:
        return self.filter(city=city)


class Customer(models.Model):
    name = models.CharField(max_length=50, unique=True)
    city = models.CharField(max_length=50, default="")
    visits = models.IntegerField(default=0)

    objects = CustomerQuerySet.as_manager()


class OrderManager(models.Manager["Order"]):
    def pending(self) -> models.QuerySet[Order]:
        return self.filter(status="pending")


class Order(models.Model):
    objects = OrderManager()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, db_index=False)
    status = models.CharField(max_length=20, default="new")
    created_at = models.DateTimeField(auto_now_add=True)


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    number = models.CharField(max_length=20, unique=True)
    paid = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["paid", "number"], name="invoice_paid_number_idx")]
