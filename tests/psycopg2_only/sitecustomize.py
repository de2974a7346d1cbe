"""Makes a Python process behave as if psycopg 3 were not installed, as in a project that uses
psycopg2: ``import psycopg`` fails, so Django's PostgreSQL backend takes psycopg2.

Tests put this folder first on ``PYTHONPATH`` of the pytest runs that must use psycopg2
(``conftest.on_psycopg2``); their subprocesses inherit it. Not a package: Python imports
``sitecustomize`` by itself when it starts.
"""

import sys

sys.modules["psycopg"] = None  # type: ignore[assignment]
