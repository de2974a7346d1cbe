"""What the database already has: its indexes, partitions, extensions and NOT NULL columns, as
plain data.

Read once per database alias (and again after a schema change) by the backend, then consulted
by the judgement and the suggestions, which stay pure. A full scan is only blamed on a missing
index after this catalog says no index could serve it, and an index is only suggested when the
catalog does not already hold it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class IndexInfo:
    table: str
    name: str
    # As shown to people: "created_at DESC"; expression keys show their SQL, "upper((email)::text)".
    columns: tuple[str, ...]
    unique: bool
    primary: bool
    partial: bool
    # The plain column of each key, None for an expression key.
    keys: tuple[str | None, ...] = ()
    valid: bool = True
    method: str = "btree"
    predicate: str | None = None

    @property
    def leading(self) -> str | None:
        """The first key's column (None when it is an expression)."""
        return self.keys[0] if self.keys else None

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "name": self.name,
            "columns": list(self.columns),
            "unique": self.unique,
            "primary": self.primary,
            "partial": self.partial,
        }


@dataclass(frozen=True)
class Schema:
    """The indexes of one database, by table and by name; the parent of every partition; the
    columns each table declares NOT NULL."""

    indexes: tuple[IndexInfo, ...] = ()
    parents: Mapping[str, str] = field(default_factory=dict)
    extensions: frozenset[str] = frozenset()
    not_null: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Single-column foreign keys: (table, column) -> (referenced table, referenced column).
    references: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _by_name: dict[str, IndexInfo] = field(default_factory=dict, repr=False, compare=False)
    _by_table: dict[str, list[IndexInfo]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for index in self.indexes:
            self._by_name[index.name] = index
            self._by_table.setdefault(index.table, []).append(index)

    @classmethod
    def of(
        cls,
        indexes: Iterable[IndexInfo],
        parents: Mapping[str, str] | None = None,
        extensions: Iterable[str] = (),
        not_null: Iterable[tuple[str, str]] = (),
        references: Mapping[tuple[str, str], tuple[str, str]] | None = None,
    ) -> Schema:
        """``not_null`` holds (table, column) pairs; ``references`` the single-column foreign
        keys, (table, column) -> (referenced table, referenced column)."""
        required: dict[str, set[str]] = {}
        for table, column in not_null:
            required.setdefault(table, set()).add(column)
        return cls(
            indexes=tuple(indexes),
            parents=dict(parents or {}),
            extensions=frozenset(extensions),
            not_null={table: frozenset(columns) for table, columns in required.items()},
            references=dict(references or {}),
        )

    def with_references(self, references: Mapping[tuple[str, str], tuple[str, str]]) -> Schema:
        """This catalog with foreign keys it lacks added (those it has win)."""
        missing = {k: v for k, v in references.items() if k not in self.references}
        if not missing:
            return self
        # Fresh lookups: replace() would hand this catalog's own to the copy, which would list
        # each index twice (in both).
        return replace(self, references={**missing, **self.references}, _by_name={}, _by_table={})

    def parent_column(self, table: str, key: str) -> str | None:
        """The column by which ``table`` refers to its own ``key`` (a tree's parent), if any."""
        return next(
            (
                column
                for (source, column), target in sorted(self.references.items())
                if source == table and target == (table, key)
            ),
            None,
        )

    def index(self, name: str | None) -> IndexInfo | None:
        return self._by_name.get(name) if name else None

    def leading_of(self, name: str) -> str | None:
        """The first column of the index ``name``, when it is known and a plain column."""
        index = self._by_name.get(name)
        return index.leading if index is not None else None

    def on(self, table: str) -> list[IndexInfo]:
        """The valid indexes of ``table`` (a partition also has its parent's)."""
        found = [i for i in self._by_table.get(table, ()) if i.valid]
        parent = self.parents.get(table)
        if parent is not None:
            found += [i for i in self._by_table.get(parent, ()) if i.valid]
        return found

    def leading(self, table: str, column: str) -> list[IndexInfo]:
        """Valid B-tree or hash indexes of ``table`` whose first key is ``column``."""
        return [
            i
            for i in self.on(table)
            if i.leading == column and i.method in ("btree", "hash") and not i.partial
        ]

    def primary_key(self, table: str) -> tuple[str, ...]:
        for index in self.on(table):
            if index.primary:
                return tuple(k for k in index.keys if k)
        return ()

    def has_prefix(self, table: str, columns: Iterable[str]) -> IndexInfo | None:
        """An index that already starts with ``columns`` (same order; "-col" for DESC, which a
        B-tree serves backwards too), so suggesting it again would duplicate it."""
        wanted = [_plain(c.lstrip("-")) for c in columns]
        if not wanted:
            return None
        for index in self.on(table):
            if index.partial or index.method != "btree":
                continue
            keys = [k for k in index.columns]
            names = [_plain(k) for k in keys[: len(wanted)]]
            if names == wanted:
                return index
        return None

    def parent(self, table: str) -> str:
        return self.parents.get(table, table)

    def truth(self, table: str, conjunct: str) -> bool | None:
        """True when every row of ``table`` passes ``conjunct``, False when none does, None
        when it depends on the row: ``column IS NOT NULL`` and ``column IS NULL`` on a column
        ``table`` declares NOT NULL. Django writes the first for ``dates()``,
        ``date_hierarchy`` and ``isnull=False`` whatever the column, the second when it loads
        a field of an unsaved instance (``WHERE id IS NULL``). PostgreSQL 17 folds both away;
        older servers keep them as a Filter; SQLite and MySQL read no row for the second. A
        conjunct of a scan's own condition names only that scan's table, so a qualifier is
        not read."""
        required = self.not_null.get(table, frozenset())
        column = tested_not_null(conjunct)
        if column is not None:
            return True if column in required else None
        column = tested_null(conjunct)
        if column is not None and column in required:
            return False
        return None


def tested_not_null(conjunct: str) -> str | None:
    """The column ``conjunct`` tests with ``IS NOT NULL`` (and nothing else), unquoted."""
    return _tested(_IS_NOT_NULL, conjunct)


def tested_null(conjunct: str) -> str | None:
    """The column ``conjunct`` tests with ``IS NULL`` (and nothing else), unquoted."""
    return _tested(_IS_NULL, conjunct)


def _tested(pattern: re.Pattern[str], conjunct: str) -> str | None:
    text = conjunct.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    match = pattern.fullmatch(text)
    if match is None:
        return None
    return match.group(1) or match.group(2) or match.group(3)


# ``col IS [NOT] NULL`` as PostgreSQL, SQLite and MySQL show it, the column maybe qualified and
# quoted ("t"."col", `t`.`col`).
_QUALIFIED_COLUMN = r'(?:(?:"[^"]+"|`[^`]+`|\w+)\.)?(?:"([^"]+)"|`([^`]+)`|(\w+))'
_IS_NOT_NULL = re.compile(_QUALIFIED_COLUMN + r"\s+IS\s+NOT\s+NULL", re.IGNORECASE)
_IS_NULL = re.compile(_QUALIFIED_COLUMN + r"\s+IS\s+NULL", re.IGNORECASE)


def _plain(column: str) -> str:
    """A key as a suggestion writes it: no DESC, and an expression without casts, quotes or
    parentheses ("upper(email::text)" and "upper(email)" are the same key)."""
    key = column.removesuffix(" DESC")
    if "(" not in key:
        return key
    return re.sub(r"::[\w ]+|[()\s\"]", "", key).lower()


@dataclass(frozen=True)
class ColumnShape:
    """What production's statistics say about one column, without its values."""

    n_distinct: float  # as pg_stats has it: a count, or minus the fraction of rows when < 0
    null_frac: float = 0.0
    correlation: float | None = None
    max_frequency: float | None = None  # of the most common value; None when none stands out

    def distinct(self, rows: int) -> float:
        """Distinct values in a table of ``rows`` rows."""
        return -self.n_distinct * rows if self.n_distinct < 0 else self.n_distinct

    def rows_per_key(self, rows: int) -> tuple[int, int]:
        """Rows of a typical key and of the busiest key in a table of ``rows`` rows."""
        values = max(self.distinct(rows), 1.0)
        typical = (1.0 - self.null_frac) * rows / values
        busiest = max(typical, (self.max_frequency or 0.0) * rows)
        return round(typical), round(busiest)
