from __future__ import annotations

from django.apps import AppConfig


class StandardAppConfig(AppConfig):
    name = "standard_app"
