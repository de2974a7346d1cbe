"""Statement text for people: literals and parameters as placeholders, whitespace collapsed.

Django's SQL already carries ``%s`` placeholders; raw SQL may carry literal values, which must not
end up in reports. sqlparse is exact but slow (about a millisecond a statement), so this runs only
for statements that are reported, never on the per-statement path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WHITESPACE = re.compile(r"\s+")
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.\"$])-?\d+(?:\.\d+)?(?![\w.])")


# PostgreSQL's quoting, which sqlparse gets wrong: it takes a backslash in '...' as an escape
# (MySQL's rule), so '\' swallows the literal after it and values leak into reports. Quoted
# identifiers are matched only to be kept as they are.
_QUOTING = re.compile(
    r"""(?P<identifier>"(?:[^"]|"")*")"""
    r"""|(?P<escape_string>(?<![\w$])[Ee]'(?:[^'\\]|\\.|'')*')"""
    r"""|(?P<string>'(?:[^']|'')*')"""
    r"""|(?P<dollar>\$(?P<tag>[A-Za-z_]\w*|)\$.*?\$(?P=tag)\$)"""
    r"""|(?P<comment>--[^\n]*|/\*.*?\*/)""",
    re.DOTALL,
)


def _literals_as_placeholders(sql: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("identifier"):
            return match.group(0)
        return " " if match.group("comment") else "%s"

    return _QUOTING.sub(replace, sql)


# A parenthesised list of placeholders or numbers only, before sqlparse.
_VALUE_LIST = re.compile(r"\(\s*(?:%s|-?\d+(?:\.\d+)?)(?:\s*,\s*(?:%s|-?\d+(?:\.\d+)?))*\s*\)")
# A parenthesised list of placeholders only: IN (...) lists and VALUES rows of any length.
_PLACEHOLDER_LIST = re.compile(r"\(\s*%s(?:\s*,\s*%s)*\s*\)")
_REPEATED_ROWS = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")
# Names Django generates per call: savepoints ("s140234_x12") and server-side cursors.
_SAVEPOINT_NAME = re.compile(r'"s\d+_x\d+"')
_CURSOR_NAME = re.compile(r'"?_django_curs_\d+_\w+?_\d+"?')


def quote_identifier(name: str) -> str:
    """A name as PostgreSQL reads it whatever its case or characters: in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def normalise(sql: str) -> str:
    """The statement's shape: literals and parameters as ``%s``, IN-lists and VALUES-lists of
    any length as ``(...)``, comments dropped, keywords upper-case, whitespace collapsed, and
    the savepoint and cursor names Django generates removed. Stable for the same query with other
    values; different when the query's shape differs."""
    import sqlparse  # imported on first use: it takes longer to import than the plugin
    from sqlparse import tokens as T
    from sqlparse.exceptions import SQLParseError

    parts = []
    sql = _literals_as_placeholders(sql)
    # Lists of any length become "(...)" before sqlparse sees them: it gives up on statements of
    # more than 10,000 tokens (an IN list of 5,000 values), and the shape is the same anyway.
    sql = _VALUE_LIST.sub("(...)", sql)
    sql = _REPEATED_ROWS.sub("(...)", sql)
    try:
        tokens = sqlparse.parse(sql)[0].flatten() if sql.strip() else ()  # type: ignore[no-untyped-call]
    except SQLParseError:
        return _plain_shape(sql)
    for token in tokens:
        ttype = token.ttype
        if (
            ttype in T.Literal.String.Single
            or ttype in T.Literal.Number
            or ttype in T.Name.Placeholder
        ):
            parts.append("%s")
        elif ttype in T.Whitespace or ttype in T.Newline or ttype in T.Comment:
            parts.append(" ")
        elif ttype in T.Keyword:
            parts.append(token.value.upper())
        else:
            parts.append(token.value)
    text = _WHITESPACE.sub(" ", "".join(parts)).strip()
    text = _PLACEHOLDER_LIST.sub("(...)", text)
    text = _REPEATED_ROWS.sub("(...)", text)
    text = _SAVEPOINT_NAME.sub('"s_x"', text)
    return _CURSOR_NAME.sub("_django_curs", text)


def _plain_shape(sql: str) -> str:
    """The statement's shape without sqlparse, for what it cannot parse (more tokens than it
    accepts even with lists collapsed): numbers as placeholders, whitespace collapsed."""
    text = _NUMBER.sub("%s", sql)
    text = _VALUE_LIST.sub("(...)", text)
    text = _REPEATED_ROWS.sub("(...)", _WHITESPACE.sub(" ", text).strip())
    text = _SAVEPOINT_NAME.sub('"s_x"', text)
    return _CURSOR_NAME.sub("_django_curs", text)


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


_NAME = r'"[^"]+"|`[^`]+`|\w+'
# A qualified column through a cast, as Django writes it: CAST("t"."c" AS text) (SQLite, MySQL,
# Oracle) or ("t"."c")::text (PostgreSQL).
_CAST = re.compile(
    rf"CAST\(\s*(?P<q1>{_NAME})\.(?P<c1>{_NAME})\s+AS\s+(?P<t1>\w+)[^)]*\)"
    rf"|\(\s*(?P<q2>{_NAME})\.(?P<c2>{_NAME})\s*\)::(?P<t2>\w+)",
    re.IGNORECASE,
)
_FROM = re.compile(r"\sFROM\s", re.IGNORECASE)


def cast_columns(sql: str, names: Iterable[str]) -> list[tuple[str, str]]:
    """The columns qualified by one of ``names`` (a table's name and its aliases) that the
    statement compares through a cast after its first FROM (a join or a condition, not the
    select list), with the type cast to: ``CAST("t"."id" AS text) IN (SELECT ...)`` is what
    generic object-permission apps write, and no index on ``id`` serves it."""
    wanted = {name.lower() for name in names}
    start = _FROM.search(sql)
    found: list[tuple[str, str]] = []
    for match in _CAST.finditer(sql, start.end() if start else 0):
        qualifier = match.group("q1") or match.group("q2")
        column = match.group("c1") or match.group("c2")
        kind = match.group("t1") or match.group("t2")
        if qualifier.strip('"`').lower() in wanted:
            pair = (column.strip('"`'), kind.lower())
            if pair not in found:
                found.append(pair)
    return found
