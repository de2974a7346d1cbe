"""Statement text for people: literals and parameters as placeholders, whitespace collapsed.

Django's SQL already carries ``%s`` placeholders; raw SQL may carry literal values, which must not
end up in reports. sqlparse is exact but slow (about a millisecond a statement), so this runs only
for statements that are reported, never on the per-statement path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

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


# IN-lists and VALUES rows of placeholders or numbers only, of any length, before sqlparse. Only
# these fold: the argument of a function (UPPER(%s)) is one value, and stays one placeholder.
_ITEM = r"(?:%s|-?\d+(?:\.\d+)?)"
_LIST = rf"\(\s*{_ITEM}(?:\s*,\s*{_ITEM})*\s*\)"
_VALUE_LIST = re.compile(rf"\b(IN)\s*{_LIST}", re.IGNORECASE)
_VALUES_ROWS = re.compile(rf"\b(VALUES)\s*{_LIST}(?:\s*,\s*{_LIST})*", re.IGNORECASE)
_FOLDED_ROWS = re.compile(r"\b(VALUES)\s*\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+", re.IGNORECASE)


def _fold_lists(sql: str) -> str:
    sql = _VALUE_LIST.sub(r"\1 (...)", sql)
    sql = _VALUES_ROWS.sub(r"\1 (...)", sql)
    return _FOLDED_ROWS.sub(r"\1 (...)", sql)


# ORDER BY 4 and GROUP BY 1, 2: Django's references to a select-list column by its position,
# part of the statement's shape, not values. Kept through the masking as a name.
_BY = re.compile(r"\b(?:ORDER|GROUP)\s+BY\s+", re.IGNORECASE)
_POSITION_ITEM = re.compile(
    r"(\d+)(?=(?:\s+(?:ASC|DESC))?(?:\s+NULLS\s+(?:FIRST|LAST))?\s*(?:,|\)|;|$|"
    r"\b(?:LIMIT|OFFSET|HAVING|WINDOW|FOR|FETCH|UNION|EXCEPT|INTERSECT|ORDER)\b))",
    re.IGNORECASE,
)
_POSITION_MARK = "indexguard_position_"
_POSITION_MARKED = re.compile(rf"{_POSITION_MARK}(\d+)")


def _mark_positions(sql: str) -> str:
    """Mark the bare integers that are items of an ORDER BY or GROUP BY list (at its top
    level: ``COALESCE(x, 4)`` holds a value) so that masking keeps them."""
    if not _BY.search(sql):
        return sql
    out: list[str] = []
    position = 0
    for match in _BY.finditer(sql):
        if match.start() < position:
            continue
        out.append(sql[position : match.end()])
        index = match.end()
        depth = 0
        item_start = True
        while index < len(sql):
            char = sql[index]
            if item_start and depth == 0:
                item = _POSITION_ITEM.match(sql, index)
                if item is not None:
                    out.append(_POSITION_MARK + item.group(1))
                    index = item.end()
                    item_start = False
                    continue
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth < 0:
                    break
            elif char == "," and depth == 0:
                item_start = True
                out.append(char)
                index += 1
                continue
            elif char in {'"', "`"}:
                end = sql.find(char, index + 1)
                end = len(sql) - 1 if end < 0 else end
                out.append(sql[index : end + 1])
                index = end + 1
                item_start = False
                continue
            elif depth == 0 and _CLAUSE_END.match(sql, index):
                break
            if not char.isspace():
                item_start = False
            out.append(char)
            index += 1
        position = index
    out.append(sql[position:])
    return "".join(out)


_CLAUSE_END = re.compile(
    r"(?<!\w)(?:LIMIT|OFFSET|HAVING|WINDOW|FOR|FETCH|UNION|EXCEPT|INTERSECT|ORDER)\b|;",
    re.IGNORECASE,
)


def _unmark_positions(text: str) -> str:
    return _POSITION_MARKED.sub(r"\1", text)


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
    sql = _mark_positions(_literals_as_placeholders(sql))
    # Lists of any length become "(...)" before sqlparse sees them: it gives up on statements of
    # more than 10,000 tokens (an IN list of 5,000 values), and the shape is the same anyway.
    sql = _fold_lists(sql)
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
    text = _fold_lists(_WHITESPACE.sub(" ", "".join(parts)).strip())
    text = _SAVEPOINT_NAME.sub('"s_x"', text)
    return _unmark_positions(_CURSOR_NAME.sub("_django_curs", text))


def _plain_shape(sql: str) -> str:
    """The statement's shape without sqlparse, for what it cannot parse (more tokens than it
    accepts even with lists collapsed): numbers as placeholders, whitespace collapsed."""
    text = _NUMBER.sub("%s", sql)
    text = _fold_lists(_WHITESPACE.sub(" ", text).strip())
    text = _SAVEPOINT_NAME.sub('"s_x"', text)
    return _unmark_positions(_CURSOR_NAME.sub("_django_curs", text))


_SELECT_LIST = re.compile(r"^(SELECT\s+(?:DISTINCT\s+)?)(.*?)(\s+FROM\s)", re.IGNORECASE)


def shorten(sql: str) -> str:
    """Fold a long select list (``SELECT "t"."a", "t"."b", ... FROM``) into a column count:
    the columns a query returns do not decide its plan's scans."""
    match = _SELECT_LIST.match(sql)
    if match is None or len(match.group(2)) <= 60 or "(" in match.group(2):
        return sql
    count = len(match.group(2).split(","))
    return f"{match.group(1)}<{count} columns>{match.group(3)}{sql[match.end() :]}"


_MASKED_LIST = re.compile(r"\(\s*(?:\?|%s)(?:\s*,\s*(?:\?|%s))+\s*\)")


def mask_plan_expression(expression: str) -> str:
    """Hide the values in a plan's Filter or Index Cond: the planner saw literal parameters.
    A list of two or more values (SQLite's and MySQL's ``IN (?, ?, ...)`` of 50,000 ids) folds
    into ``(...)``, as PostgreSQL's ``= ANY (...)`` holds it in one array."""
    return _MASKED_LIST.sub("(...)", _NUMBER.sub("?", _QUOTED.sub("?", expression)))


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


# MySQL and MariaDB quote the statement from the failing token on, with its parameters bound:
# "... near 'AND stock = 1' at line 1".
_NEAR = re.compile(r"""\bnear (?:'.*'|".*")(?= at line \d+|$)""", re.DOTALL)
# PostgreSQL quotes the offending value after a colon: invalid input syntax for type integer: "x".
_QUOTED_VALUE = re.compile(r""":\s*"(?:[^"]|"")*"\s*$""")
# SQLite quotes the token it stopped at, a string literal included: near "'x'": syntax error.
_QUOTED_LITERAL = re.compile(r'''"'(?:[^']|'')*'"''')


def mask_message(message: str, parameters: Any = None) -> str:
    """A database's error message with no parameter value in it: what it quotes of the statement
    (bound, so holding the values) masked, every string literal masked, and every text of the
    statement's parameters masked wherever else it appears."""
    text = _NEAR.sub("near <the statement, not shown>", message)
    text = _QUOTED_LITERAL.sub('"?"', text)
    text = _QUOTED.sub("'?'", text)
    text = _QUOTED_VALUE.sub(': "?"', text)
    for value in _parameter_texts(parameters):
        text = text.replace(value, "?")
    return text


def _parameter_texts(parameters: Any) -> list[str]:
    """The texts of the parameters that could appear in a message, longest first; numbers and
    one-character values only as whole words (the message's own "line 1" stays)."""
    if parameters is None:
        return []
    values = parameters.values() if isinstance(parameters, Mapping) else parameters
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        values = [values]
    texts: set[str] = set()
    for value in values:
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, list | tuple | set | frozenset):
            texts.update(_parameter_texts(list(value)))
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if len(text) >= 3:
            texts.add(text)
    return sorted(texts, key=len, reverse=True)
