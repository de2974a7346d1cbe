"""Statement text for people: literals and parameters as placeholders, whitespace collapsed.

Django's SQL already carries ``%s`` placeholders; raw SQL may carry literal values, which must not
end up in reports. sqlparse is exact but slow (about a millisecond a statement), so this runs only
for statements that are reported, never on the per-statement path.
"""

from __future__ import annotations

import re

import sqlparse
from sqlparse import tokens as T

_WHITESPACE = re.compile(r"\s+")
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.\"$])-?\d+(?:\.\d+)?(?![\w.])")


def normalise(sql: str) -> str:
    """Replace literals with ``%s`` and collapse whitespace."""
    parts = []
    tokens = sqlparse.parse(sql)[0].flatten() if sql.strip() else ()  # type: ignore[no-untyped-call]
    for token in tokens:
        if token.ttype in T.Literal.String.Single or token.ttype in T.Literal.Number:
            parts.append("%s")
        elif token.ttype in T.Whitespace or token.ttype in T.Newline:
            parts.append(" ")
        else:
            parts.append(token.value)
    return _WHITESPACE.sub(" ", "".join(parts)).strip()


_SELECT_LIST = re.compile(r"^(SELECT\s+(?:DISTINCT\s+)?)(.*?)(\s+FROM\s)", re.IGNORECASE)


def shorten(sql: str) -> str:
    """Fold a long select list (``SELECT "t"."a", "t"."b", ... FROM``) into a column count:
    the columns a query returns do not decide its plan's scans."""
    match = _SELECT_LIST.match(sql)
    if match is None or len(match.group(2)) <= 60 or "(" in match.group(2):
        return sql
    count = len(match.group(2).split(","))
    return f"{match.group(1)}<{count} columns>{match.group(3)}{sql[match.end() :]}"


def mask_plan_expression(expression: str) -> str:
    """Hide the values in a plan's Filter or Index Cond: the planner saw literal parameters."""
    return _NUMBER.sub("?", _QUOTED.sub("?", expression))
