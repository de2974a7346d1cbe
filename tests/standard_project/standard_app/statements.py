"""Application code: the one place the scenarios' statements are sent from.

The guard judges statements by where they come from: a statement sent by the project's own
modules runs in production, one that test code sends straight to the database may not. The
scenarios' statements stand for application queries, so they go through here.
"""

from __future__ import annotations

from django.db import connection

from pytest_indexguard.explain.postgresql import CURSOR


def run_statement(sql: str) -> None:
    if sql.startswith(CURSOR):
        # A case read through a server-side cursor: the cursor QuerySet.iterator() opens.
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql[len(CURSOR) :])
            cursor.fetchall()
        finally:
            cursor.close()
        return
    with connection.cursor() as cursor:
        cursor.execute(sql)
