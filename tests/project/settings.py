"""Settings of the small Django project that inner pytest runs use (copied next to each run)."""

from __future__ import annotations

import os

from sampleproject.dbserver import database_settings, database_url

SECRET_KEY = "inner-run"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["shop", "ledger.apps.LedgerConfig"]
ROOT_URLCONF = "shop.urls"
MIDDLEWARE = ["shop.middleware.StampMiddleware", "shop.middleware.AuditMiddleware"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
# Django REST framework without django.contrib.auth, for the views' tests.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

_name = os.environ.get("INDEXGUARD_INNER_DB", "indexguard_inner")
DATABASES = {
    "default": database_settings(database_url(), name=_name),
    "other": database_settings(database_url(), name=f"{_name}_other"),
}
if os.environ.get("INDEXGUARD_INNER_SQLITE"):
    DATABASES["legacy"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
if os.environ.get("INDEXGUARD_INNER_SERVER_SIDE_BINDING"):
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 1}
