from __future__ import annotations

from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    # Models live in upstream/, upstream/alerts/ and upstream/integrations/ but form one app
    # (label "upstream", tables upstream_*), as in the project the seed documents describe.
    name = "upstream"
    verbose_name = "Upstream"
    default_auto_field = "django.db.models.BigAutoField"
