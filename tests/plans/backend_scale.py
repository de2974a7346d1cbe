"""Production-sized rows for ``backend_scenarios.py`` on SQLite and MariaDB, and what the
statements keep of them.

The rows are made in Python, once, for both databases: the same rows in each, deterministic (a
``random.Random`` seeded with the table's name), with the distributions of ``scale.py``'s
PostgreSQL rows: foreign keys spread over their parents with a skew (``skewed``, PostgreSQL's
``indexguard_scale.skewed``), timestamps over the year that ends at 2025-01-01 12:00 (the instant
the statements' literals are written against), increasing with the id, NULLs and flags where a
model has them. Big tables have 100,000 rows (``scale.ROWS``), the catalog's products and lines
400,000; lookup tables are smaller, as in production.

``measure`` counts, on the loaded rows, what a statement keeps of each table it names (its own
conditions, and the whole statement before its LIMIT): the oracle (``backend_oracle.py``)
compares that with what the natural plan reads.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .scale import BRANDS, QUEUES, RECALL_CUSTOMERS, ROWS

PRODUCTS = 400_000
CATALOG_BRANDS = 500
REVIEWS = 200_000
ORDER_LINES = 400_000
NOW = datetime(2025, 1, 1, 12, 0, 0)
YEAR = timedelta(days=366)

Row = tuple[Any, ...]


def skewed(i: int, u: float, n: int) -> int:
    """The parent (1..n) of child row ``i`` given a uniform ``u``: as ``scale.py``'s
    ``skewed``, every parent has a child, the heaviest in the middle of the id range."""
    if i <= n:
        return i
    return 1 + (int(n * u * u) + n // 2) % n


def created(i: int, n: int, extra: timedelta = timedelta(0)) -> str:
    """Row ``i`` of ``n`` was created at ``i / n`` of the year that ends at NOW."""
    return (NOW - YEAR * (1 - i / n) + extra).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class ScaleRows:
    table: str
    count: int
    columns: tuple[str, ...]
    make: Callable[[int, random.Random], Row]
    note: str

    def rows(self) -> Iterator[Row]:
        rng = random.Random(self.table)
        for i in range(1, self.count + 1):
            yield (i, *self.make(i, rng))


def _user(i: int, rng: random.Random) -> Row:
    name = {1: "alice", 2: "bob"}.get(i, f"user{i}")
    login = None if rng.random() < 0.2 else created(i, ROWS, timedelta(days=60 * rng.random()))
    return name, login


def _rating(u: float) -> int:
    return 5 if u < 0.4 else 4 if u < 0.65 else 3 if u < 0.8 else 2 if u < 0.9 else 1


_ROWS: tuple[ScaleRows, ...] = (
    ScaleRows(
        "auth_user",
        ROWS,
        ("username", "last_login"),
        _user,
        "100,000 users (alice and bob first); 20% never logged in",
    ),
    ScaleRows("rc_brand", BRANDS, ("name",), lambda i, r: (f"Brand {i}",), "200 brands"),
    ScaleRows(
        "rc_item",
        ROWS,
        ("brand_id", "is_active", "created_at"),
        lambda i, r: (skewed(i, r.random(), BRANDS), int(r.random() < 0.75), created(i, ROWS)),
        "100,000 items of the brands (skewed); 75% active",
    ),
    ScaleRows(
        "rc_queue",
        QUEUES,
        ("title",),
        lambda i, r: ({1: "support", 2: "sales"}.get(i, f"Queue {i}"),),
        "10 queues (support and sales first)",
    ),
    ScaleRows(
        "rc_ticket",
        ROWS,
        ("queue_id", "status", "created"),
        lambda i, r: (skewed(i, r.random(), QUEUES), 1 + int(4 * r.random()), created(i, ROWS)),
        "100,000 tickets over the year in the queues (skewed); four statuses",
    ),
    ScaleRows(
        "rc_customer",
        RECALL_CUSTOMERS,
        ("email",),
        lambda i, r: ({1: "a@example.org", 2: "b@example.org"}.get(i, f"c{i}@example.org"),),
        "30,000 customers (a@ and b@ first)",
    ),
    ScaleRows(
        "rc_order",
        ROWS,
        ("customer_id", "email", "ref"),
        lambda i, r: (skewed(i, r.random(), RECALL_CUSTOMERS), f"o{i}@example.org", f"r{i}"),
        "100,000 orders of the customers (skewed), each with its own e-mail and ref",
    ),
    ScaleRows(
        "rc_account",
        ROWS,
        ("user_id", "warned_at", "kind"),
        lambda i, r: (i, created(i, ROWS) if r.random() < 0.001 else None, 1 + int(3 * r.random())),
        "one account per user; warned on 0.1%",
    ),
    ScaleRows(
        "rc_flip",
        ROWS,
        ("owner_id", "created"),
        lambda i, r: (skewed(i, r.random(), ROWS), created(i, ROWS)),
        "100,000 status flips (owners skewed)",
    ),
    ScaleRows(
        "cat_brand",
        CATALOG_BRANDS,
        ("name",),
        lambda i, r: (f"Brand {i}",),
        "500 brands",
    ),
    ScaleRows(
        "cat_product",
        PRODUCTS,
        ("brand_id", "name", "is_active", "stock", "created_at"),
        lambda i, r: (
            skewed(i, r.random(), CATALOG_BRANDS),
            f"Product {i}",
            int(r.random() < 0.85),
            int(100_000 * r.random()),
            created(i, PRODUCTS),
        ),
        "400,000 products of the brands (skewed); 85% active; stock 0-99,999",
    ),
    ScaleRows(
        "cat_review",
        REVIEWS,
        ("product_id", "rating", "created_at"),
        lambda i, r: (skewed(i, r.random(), PRODUCTS), _rating(r.random()), created(i, REVIEWS)),
        "200,000 reviews; 65% rated 4 or 5",
    ),
    ScaleRows(
        "cat_orderline",
        ORDER_LINES,
        ("product_id", "qty"),
        lambda i, r: (skewed(i, r.random(), PRODUCTS), 1 + int(5 * r.random())),
        "400,000 order lines of the products (skewed); 1 to 5 each",
    ),
)

SCALE_ROWS: Mapping[str, ScaleRows] = {rows.table: rows for rows in _ROWS}


def insert(rows: ScaleRows, quote: str = '"', mark: str = "?") -> str:
    names = ", ".join(f"{quote}{c}{quote}" for c in ("id", *rows.columns))
    marks = ", ".join([mark] * (len(rows.columns) + 1))
    return f"INSERT INTO {quote}{rows.table}{quote} ({names}) VALUES ({marks})"


def batches(rows: ScaleRows, size: int = 5000) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows.rows():
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- what a statement keeps ---------------------------------------------------------------------

_KEYWORDS = re.compile(r"\b(SELECT|FROM|WHERE|GROUP BY|ORDER BY|LIMIT|HAVING)\b", re.IGNORECASE)
_TABLE = re.compile(
    r'(?:\bFROM|\bJOIN)\s+["`](\w+)["`]'
    r"(?:\s+(?!(?:ON|INNER|LEFT|RIGHT|OUTER|CROSS|JOIN|WHERE)\b)([A-Za-z]\w*))?",
    re.IGNORECASE,
)
_AGGREGATE = re.compile(r"\b(COUNT|SUM|MAX|MIN|AVG)\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    """One SELECT of a statement, split at its clauses (at its own depth)."""

    text: str
    select: str
    source: str  # FROM ... joins
    where: str
    group_by: str
    order_by: str
    limit: int | None
    depth: int  # 0: the statement, 1: a sub-query in it...

    @property
    def aliases(self) -> dict[str, str]:
        """alias -> table, for the tables of this SELECT's FROM (not its sub-queries)."""
        source = _flat(f"FROM {self.source}")
        return {(m.group(2) or m.group(1)): m.group(1) for m in _TABLE.finditer(source)}

    @property
    def aggregates(self) -> bool:
        # An aggregate of this SELECT's own (not of a sub-query in its select list).
        flat = _flat(self.select)
        own = any(flat[m.start()] != " " for m in _AGGREGATE.finditer(self.select))
        return bool(self.group_by) or own

    @property
    def distinct(self) -> bool:
        return self.select.lstrip().upper().startswith("DISTINCT")


def _flat(text: str) -> str:
    """``text`` with every parenthesised part and literal blanked (same length)."""
    out = []
    depth = 0
    quote = False
    for char in text:
        if char == "'":
            quote = not quote
            out.append(" ")
        elif quote:
            out.append(" ")
        elif char == "(":
            depth += 1
            out.append(" ")
        elif char == ")":
            depth -= 1
            out.append(" ")
        else:
            out.append(" " if depth else char)
    return "".join(out)


def parse(text: str, depth: int = 0) -> Query:
    flat = _flat(text)
    marks = [(m.start(), m.end(), m.group(1).upper()) for m in _KEYWORDS.finditer(flat)]
    parts: dict[str, str] = {}
    for index, (_start, end, word) in enumerate(marks):
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(text)
        parts[word] = text[end:stop].strip()
    limit = parts.get("LIMIT")
    return Query(
        text=text,
        select=parts.get("SELECT", ""),
        source=parts.get("FROM", ""),
        where=parts.get("WHERE", ""),
        group_by=parts.get("GROUP BY", ""),
        order_by=parts.get("ORDER BY", ""),
        limit=int(limit) if limit else None,
        depth=depth,
    )


def subqueries(query: Query) -> Iterator[Query]:
    """The SELECTs inside a query's select list and WHERE, at any depth."""
    for part in (query.select, query.where):
        for start in (m.start() for m in re.finditer(r"\(\s*SELECT\b", part, re.IGNORECASE)):
            depth = 0
            for end in range(start, len(part)):
                depth += {"(": 1, ")": -1}.get(part[end], 0)
                if depth == 0:
                    break
            yield parse(part[start + 1 : end], query.depth + 1)


def conjuncts(where: str) -> list[str]:
    """The top-level AND terms of a WHERE (Django wraps the whole in parentheses)."""
    text = where.strip()
    while text.startswith("(") and _matching(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    flat = _flat(text)
    cuts = [m.start() for m in re.finditer(r"\bAND\b", flat, re.IGNORECASE)]
    # BETWEEN ... AND is not used by the scenarios.
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut].strip())
        start = cut + 3
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def _matching(text: str, start: int) -> int:
    depth = 0
    quote = False
    for position in range(start, len(text)):
        char = text[position]
        if char == "'":
            quote = not quote
        elif not quote and char == "(":
            depth += 1
        elif not quote and char == ")":
            depth -= 1
            if depth == 0:
                return position
    return -1


def _names(text: str) -> set[str]:
    """Qualifiers used in ``text`` outside literals: ``"t"."c"`` -> t, ``U0."c"`` -> U0."""
    masked = re.sub(r"'(?:[^']|'')*'", "''", text)
    return {m.group(1) or m.group(2) for m in re.finditer(r'["`](\w+)["`]\.|\b(\w+)\.["`]', masked)}


@dataclass(frozen=True)
class Kept:
    """What a statement keeps of one table it names, counted on the scale rows."""

    table: str
    alias: str
    depth: int
    rows: int  # the table's rows
    own: int | None  # rows passing the conditions on this table alone
    kept: int | None  # rows of it in the SELECT's result before LIMIT (None: correlated)
    correlated: bool  # its SELECT names an enclosing query's table: run once per outer row

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def measure(statement: str, count: Callable[[str], int], quote: str = '"') -> list[Kept]:
    """For every table of every SELECT of ``statement``: its rows, what its own conditions keep
    and what the SELECT keeps of it, each counted with ``count(sql)``."""
    top = parse(statement)
    found: list[Kept] = []
    queries = [top, *subqueries(top)]
    for query in queries:
        aliases = query.aliases
        inner = "".join(q.text for q in subqueries(query))
        correlated = query.depth > 0 and bool((_names(query.where) - set(aliases)) - _names(inner))
        terms = conjuncts(query.where)
        for alias, table in aliases.items():
            rows = count(f"SELECT COUNT(*) FROM {quote}{table}{quote}")
            own_terms = [
                t for t in terms if _names(t) == {alias} and not re.search(r"\bSELECT\b", t, re.I)
            ]
            where = f" WHERE {' AND '.join(own_terms)}" if own_terms else ""
            as_alias = f" {alias}" if alias != table else ""
            own = count(f"SELECT COUNT(*) FROM {quote}{table}{quote}{as_alias}{where}")
            kept = None
            if not correlated:
                where = f" WHERE {query.where}" if query.where else ""
                column = f"{quote}{alias}{quote}" if alias == table else alias
                kept = count(
                    f"SELECT COUNT(DISTINCT {column}.{quote}id{quote}) FROM {query.source}{where}"
                )
            found.append(Kept(table, alias, query.depth, rows, own, kept, correlated))
    return found
