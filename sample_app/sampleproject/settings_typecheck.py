"""Settings for mypy's Django plugin (``[tool.django-stubs]`` in pyproject.toml).

The plugin imports the settings to read the app registry and then ends mypy with ``os._exit``,
which skips the handler that removes an embedded PostgreSQL: with the sample project's own
settings and no ``DATABASE_URL``, every mypy run would leave a server running. Type checking
never connects, so a URL that points nowhere is enough.
"""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgres://typecheck@localhost:1/typecheck")

from sampleproject.settings import *  # noqa: F403
