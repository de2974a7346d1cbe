"""Statement shapes for reports and fingerprints: no value may survive, the shape must."""

from __future__ import annotations

import pytest

from pytest_indexguard.fingerprint import fingerprint_sql
from pytest_indexguard.sqltext import cast_columns, mask_message, mask_plan_expression, normalise


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # A backslash is an ordinary character in a standard PostgreSQL string: the next
        # literal must not be swallowed into it (and shown).
        (
            "SELECT id FROM shop_customer WHERE name = '\\' OR name = 'hunter2-secret'",
            "SELECT id FROM shop_customer WHERE name = %s OR name = %s",
        ),
        (
            "SELECT id FROM t WHERE a = E'\\\\' AND b = 'secret-value'",
            "SELECT id FROM t WHERE a = %s AND b = %s",
        ),
        (
            "SELECT id FROM t WHERE a = E'it\\'s' AND b = 'x''y' AND c = $$dollar secret$$ "
            "AND d = $q$tagged secret$q$ AND e = $1",
            "SELECT id FROM t WHERE a = %s AND b = %s AND c = %s AND d = %s AND e = %s",
        ),
        (
            "SELECT \"it's\" FROM t -- note 'secret'\n WHERE x = 1 /* 'secret' */",
            'SELECT "it\'s" FROM t WHERE x = %s',
        ),
        (
            'SELECT "t"."id" FROM "t" WHERE "t"."name"::text LIKE %s ESCAPE \'\\\' '
            'AND "t"."x" IN (%s, %s, %s)',
            'SELECT "t"."id" FROM "t" WHERE "t"."name"::text LIKE %s ESCAPE %s '
            'AND "t"."x" IN (...)',
        ),
        (
            'INSERT INTO "t" ("a", "b") VALUES (%s, %s), (%s, %s), (%s, %s)',
            'INSERT INTO "t" ("a", "b") VALUES (...)',
        ),
        ('SAVEPOINT "s140234_x12"', 'SAVEPOINT "s_x"'),
    ],
)
def test_normalise_hides_every_value(sql: str, expected: str) -> None:
    assert normalise(sql) == expected
    assert "secret" not in normalise(sql)


def test_fingerprint_follows_the_shape_not_the_values() -> None:
    one = fingerprint_sql("default", "t", "SELECT * FROM t WHERE a = 'x' AND b IN (1, 2)")
    other = fingerprint_sql("default", "t", "select *  from t where a = 'y' and b in (3)")
    assert one == other
    assert fingerprint_sql("default", "t", "SELECT * FROM t WHERE c = 'x'")[0] != one[0]
    assert fingerprint_sql("replica", "t", "SELECT * FROM t WHERE a = 'x' AND b IN (1)") != one


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # As Django writes them on PostgreSQL, SQLite and MySQL.
        ('SELECT 1 FROM "t" WHERE ("t"."id")::text IN (SELECT 1)', [("id", "text")]),
        ('SELECT 1 FROM "t" WHERE CAST("t"."id" AS text) IN (SELECT 1)', [("id", "text")]),
        ("SELECT 1 FROM `t` WHERE CAST(`t`.`id` AS char(10)) IN (SELECT 1)", [("id", "char")]),
        # Once per column and type; the select list does not count.
        (
            'SELECT CAST("t"."id" AS text) AS "k" FROM "t" WHERE (CAST("t"."id" AS text) IN '
            '(SELECT 1) OR CAST("t"."id" AS text) IN (SELECT 2))',
            [("id", "text")],
        ),
        ('SELECT CAST("t"."id" AS text) AS "k" FROM "t" WHERE "t"."id" = 1', []),
        # Another table's column, and a cast of a value, are not the table's.
        ('SELECT 1 FROM "t" INNER JOIN "u" ON (CAST("u"."id" AS text) = "t"."k")', []),
        ('SELECT 1 FROM "t" WHERE "t"."id" = CAST(\'1\' AS integer)', []),
    ],
)
def test_cast_columns_of_a_table(sql: str, expected: list[tuple[str, str]]) -> None:
    assert cast_columns(sql, ["t"]) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # Django's references to a select-list column by position are the shape, not values.
        (
            'SELECT "t"."a", COUNT(*) FROM "t" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5',
            'SELECT "t"."a", COUNT(*) FROM "t" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s',
        ),
        (
            'SELECT * FROM (SELECT "a" FROM "t" ORDER BY 1) s ORDER BY COALESCE("a", 4), 3',
            'SELECT * FROM (SELECT "a" FROM "t" ORDER BY 1) s ORDER BY COALESCE("a", %s), 3',
        ),
        # A function's argument is one value: one placeholder; only IN and VALUES lists fold.
        (
            'SELECT UPPER(%s), "a" FROM "t" WHERE UPPER("t"."b") = UPPER(%s) AND "c" IN (%s)',
            'SELECT UPPER(%s), "a" FROM "t" WHERE UPPER("t"."b") = UPPER(%s) AND "c" IN (...)',
        ),
    ],
    ids=["positions", "nested-and-arguments", "function-arguments"],
)
def test_normalise_keeps_positions_and_function_arguments(sql: str, expected: str) -> None:
    assert normalise(sql) == expected


def test_a_plan_expression_folds_long_lists() -> None:
    """SQLite's and MySQL's IN lists of 50,000 values, as PostgreSQL's array is one value."""
    expression = '"t"."id" = ANY (' + ", ".join(["?"] * 50_000) + ") AND b = 'x'"
    assert mask_plan_expression(expression) == '"t"."id" = ANY (...) AND b = ?'
    assert mask_plan_expression("upper(name) = upper(?)") == "upper(name) = upper(?)"


@pytest.mark.parametrize(
    ("message", "parameters", "expected"),
    [
        (
            "You have an error in your SQL syntax; check the manual that corresponds to your "
            "MariaDB server version for the right syntax to use near 'AND stock = 1' at line 1",
            None,
            "You have an error in your SQL syntax; check the manual that corresponds to your "
            "MariaDB server version for the right syntax to use near <the statement, not shown> "
            "at line 1",
        ),
        (
            'invalid input syntax for type integer: "secret-id"',
            ["secret-id"],
            'invalid input syntax for type integer: "?"',
        ),
        ("near \"'secret'\": syntax error", None, 'near "?": syntax error'),
        ("value secret-key is not valid here", {"k": "secret-key"}, "value ? is not valid here"),
        ('relation "shop_order" does not exist', ["x"], 'relation "shop_order" does not exist'),
    ],
    ids=["mariadb-near", "postgresql-value", "sqlite-token", "any-parameter", "identifier-kept"],
)
def test_error_messages_lose_their_values(message: str, parameters: object, expected: str) -> None:
    assert mask_message(message, parameters) == expected
