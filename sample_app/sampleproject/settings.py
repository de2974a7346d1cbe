"""Settings of the sample project: PostgreSQL only, nothing else configured than tests need."""

from __future__ import annotations

from sampleproject.dbserver import database_settings, database_url

SECRET_KEY = "sample-app-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "upstream",
]

DATABASES = {"default": database_settings(database_url())}
