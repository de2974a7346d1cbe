"""One test per scenario (copied as ``test_cases.py`` into the inner run).

Each test builds its scenario's tiny schema and rows in a PostgreSQL schema of its own, inside
the test's transaction (rolled back at the end), and sends the scenario's statement from
application code (``standard_app.statements``). The guard, run with ``--indexguard``, records
what it makes of the statement in its JSON report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection
from standard_app.statements import run_statement

HERE = Path(__file__).parent
CASES = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
RAN = HERE / "ran.txt"


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case(case: dict[str, object]) -> None:
    schema = f"standard_{case['name']}"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        cursor.execute("SELECT set_config('search_path', %s, true)", [schema])
        for statement in case["setup"]:  # type: ignore[attr-defined]
            cursor.execute(statement)
        for name, value in case["settings"].items():  # type: ignore[attr-defined]
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    run_statement(str(case["query"]))
    with RAN.open("a", encoding="utf-8") as ran:
        ran.write(f"{case['name']}\n")
