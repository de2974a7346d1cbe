"""Application code: the one place the scenarios' statements are sent from.

The guard judges statements by where they come from: a statement sent by the project's own
modules runs in production, one that test code sends straight to the database may not. The
scenarios' statements stand for application queries, so they go through here.
"""

from __future__ import annotations

from django.db import connection


def run_statement(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)
