"""Settings of the sample project: PostgreSQL only, nothing else configured than tests need."""

from __future__ import annotations

from pathlib import Path

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

# The directory of manage.py. Django's runner with the guard shows paths from here.
BASE_DIR = Path(__file__).resolve().parent.parent

# python manage.py test: Django's runner with the guard, and the sample's --without-indexes.
TEST_RUNNER = "sampleproject.testrunner.Runner"
# The guard's settings under manage.py test: what pytest.ini says to the pytest plugin.
INDEXGUARD = {
    "enabled": True,
    "tables": [
        "upstream_userprofile",
        "upstream_alertrule",
        "upstream_notificationchannel",
        "upstream_webhookdelivery",
        "upstream_integrationlog",
    ],
    "stats": "production-stats.json",  # relative to BASE_DIR
    "min_rows": 1000,
}
