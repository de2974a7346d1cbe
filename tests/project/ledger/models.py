"""An app with migrations, for statements that run at migrate time: ``account`` has no index."""

from __future__ import annotations

from django.db import models


class Entry(models.Model):
    account = models.CharField(max_length=50)
    amount = models.IntegerField(default=0)
