"""A project on psycopg2: the guard must leave its driver alone and say it does not check it."""

from __future__ import annotations

from sampleproject.dbserver import database_settings, database_url

SECRET_KEY = "psycopg2-check"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": database_settings(database_url(), name="indexguard_psycopg2")}
