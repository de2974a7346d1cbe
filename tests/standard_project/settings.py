"""Settings of the inner project that runs the standard's scenarios under the guard.

``tests/test_standard.py`` copies this directory next to an inner pytest run, writes the cases
(``cases.json``) and the models of their tables (``standard_app/models.py``), and runs
``test_cases.py`` with ``--indexguard``.
"""

from __future__ import annotations

import os

from sampleproject.dbserver import database_settings, database_url

SECRET_KEY = "inner-standard-run"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["standard_app"]

DATABASES = {
    "default": database_settings(
        database_url(), name=os.environ.get("INDEXGUARD_INNER_DB", "indexguard_standard_inner")
    ),
}
