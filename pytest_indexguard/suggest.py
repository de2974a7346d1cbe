"""An index that would serve a flagged scan, written as Django code.

Columns come from the plan: the equality columns of the Filter first, then its range columns,
then the keys of a Sort under a Limit, or the join key of a Nested Loop's inner side. Table and
columns are mapped back to the model and field names through Django's app registry.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from pytest_indexguard.model import Rule, ScanFinding
from pytest_indexguard.plan import top_level
from pytest_indexguard.schema import Schema
from pytest_indexguard.sqltext import mask_plan_expression, quote_identifier

_TYPE_CAST = r"(?:\)*::[a-z_]+(?: [a-z_]+)*(?:\[\])?)*"
_OPERATOR = re.compile(
    _TYPE_CAST + r"\)*\s*(=\s*ANY|IS NOT NULL|IS NULL|<>|!=|<=|>=|=|<|>|!?~~\*?|~\*?|@>|<@|&&)",
    re.IGNORECASE,
)
_EQUALITY = {"=", "=ANY", "IS NULL"}
_RANGE = {"<", "<=", ">", ">="}


@dataclass(frozen=True)
class Suggestion:
    table: str
    columns: tuple[str, ...]  # "-column" for descending order, "upper(column)" for an expression
    model: str | None  # "app_label.ModelName"
    fields: tuple[str, ...]  # Django field names, "-field" for descending
    name: str
    # True: planning the statement with this index removed the full scan. False: no candidate
    # did. None: not checked (the check itself could not run; ``note`` says why).
    verified: bool | None = None
    note: str | None = None
    # "model": an index in the model's Meta.indexes. "external": the model belongs to an
    # installed app the project cannot edit, so one of the project's own apps gets a migration
    # (``app``). "generated": no source defines the model (a library builds it, as
    # django-simple-history does its Historical* models; an automatic many-to-many table), so
    # its Meta cannot be edited either: a migration of ``app`` too. "sql": no Django migration
    # creates it (an unmanaged model, a view, a table without a model).
    kind: str = "model"
    app: str | None = None
    # A partitioned table: PostgreSQL cannot build its index CONCURRENTLY.
    partitioned: bool = False
    # The database the DDL is written for (Django's vendor): only PostgreSQL builds an index
    # CONCURRENTLY; MySQL names the table when it drops one.
    dialect: str = "postgresql"

    @property
    def concurrently(self) -> bool:
        return self.dialect == "postgresql" and not self.partitioned

    @property
    def _non_atomic(self) -> str:
        # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
        return ", with atomic = False" if self.concurrently else ""

    def index_code(self) -> str:
        if any(_is_expression(c) for c in self.columns):
            pairs = zip(self.columns, self.fields, strict=True)
            keys = ", ".join(_expression_code(column, field) for column, field in pairs)
            return f'models.Index({keys}, name="{self.name}")'
        fields = ", ".join(f'"{f}"' for f in self.fields)
        return f'models.Index(fields=[{fields}], name="{self.name}")'

    def sql(self) -> str:
        keys = ", ".join(_sql_column(c) for c in self.columns)
        how = "INDEX CONCURRENTLY" if self.concurrently else "INDEX"
        return f"CREATE {how} {self.name} ON {_sql_name(self.table, self.dialect)} ({keys})"

    def drop_sql(self) -> str:
        if self.dialect == "mysql":
            return f"DROP INDEX {self.name} ON {_sql_name(self.table, self.dialect)}"
        how = "INDEX CONCURRENTLY" if self.concurrently else "INDEX"
        return f"DROP {how} IF EXISTS {self.name}"

    def migration_code(self) -> str:
        if self.kind in ("external", "generated"):
            return f'migrations.RunSQL("{self.sql()}", reverse_sql="{self.drop_sql()}")'
        if self.kind == "sql" or not self.model:
            return self.sql()
        model = self.model.partition(".")[2]
        operation = "AddIndexConcurrently" if self.concurrently else "migrations.AddIndex"
        return f'{operation}("{model.lower()}", {self.index_code()})'

    def describe(self) -> str:
        if self.kind == "external":
            return (
                f"{self.sql()} ({self.model} belongs to an installed app the project cannot "
                f"edit: add it in a migration of {self.app or 'one of your apps'}"
                f"{self._non_atomic})"
            )
        if self.kind == "generated":
            return (
                f"{self.sql()} ({self.model} is built by code, not declared in a models file, "
                f"so its Meta.indexes cannot be edited: add it in a migration of "
                f"{self.app or 'one of your apps'}{self._non_atomic})"
            )
        if self.partitioned:
            return (
                f"{self.sql()} (a partitioned table: CONCURRENTLY is not possible on it; to avoid "
                "the lock, create the index ON ONLY the table, then CONCURRENTLY on each "
                "partition, and ATTACH those)"
            )
        if self.kind == "sql" or not self.model:
            return f"{self.sql()} (no Django migration creates this table's indexes)"
        return f"{self.index_code()} in {self.model}.Meta.indexes"


def _generated(model: type) -> bool:
    """A model class no source file declares: built at import time by a library
    (django-simple-history's ``HistoricalRecords``) rather than written in a models module."""
    import inspect

    try:
        inspect.getsource(model)
    except (OSError, TypeError):
        return True
    return False


def _is_expression(column: str) -> bool:
    return "(" in column


def expression_key(column: str) -> tuple[str, str] | None:
    """The function and the column of an expression key ("upper(email)"), without its "-"."""
    match = re.fullmatch(r"(\w+)\((.+)\)", column.lstrip("-"))
    return (match.group(1), match.group(2)) if match else None


_FUNCTIONS = {"upper": "Upper", "lower": "Lower"}


def _expression_code(column: str, field_name: str) -> str:
    descending = column.startswith("-")
    expression = expression_key(column)
    field = field_name.lstrip("-")
    if expression:
        code = f'{_FUNCTIONS.get(expression[0], expression[0])}("{field}")'
    else:
        code = f'F("{field}")'
    return f"{code}.desc()" if descending else code


def _sql_name(name: str, dialect: str = "postgresql") -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return quote_identifier(name)


_RESERVED = frozenset(
    {
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "between",
        "by",
        "case",
        "check",
        "column",
        "default",
        "desc",
        "do",
        "else",
        "end",
        "false",
        "for",
        "from",
        "group",
        "in",
        "into",
        "is",
        "like",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "or",
        "order",
        "primary",
        "references",
        "select",
        "table",
        "then",
        "to",
        "true",
        "union",
        "user",
        "when",
        "where",
        "with",
    }
)


def _sql_column(column: str) -> str:
    name = column.lstrip("-")
    expression = expression_key(name)
    if expression:
        name = f"({expression[0]}({_sql_column(expression[1])}))"
    elif name in _RESERVED or not re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        name = quote_identifier(name)
    return f"{name} DESC" if column.startswith("-") else name


def sql_keys(columns: tuple[str, ...] | list[str]) -> str:
    """The key list of CREATE INDEX for suggestion columns."""
    return ", ".join(_sql_column(c) for c in columns)


class ModelIndex:
    """Table and column names of the installed models, built once: which model owns a table,
    whether the project can edit it, its primary key and its low-cardinality columns."""

    def __init__(self, rootdir: str | None = None) -> None:
        self.rootdir = rootdir
        self._tables: dict[str, tuple[str, dict[str, str]]] | None = None
        self._booleans: set[tuple[str, str]] = set()
        self._few_values: set[tuple[str, str]] = set()
        self._defaulted: set[tuple[str, str]] = set()
        self._unindexable: set[tuple[str, str]] = set()
        self._wide: set[tuple[str, str]] = set()
        self._primary: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._project_app: str | None = None
        self._references: dict[tuple[str, str], tuple[str, str]] = {}

    def _load(self) -> dict[str, tuple[str, dict[str, str]]]:
        if self._tables is None:
            from django.apps import apps

            tables: dict[str, tuple[str, dict[str, str]]] = {}
            for config in apps.get_app_configs():
                if self._project_app is None and self._owned(config.path):
                    self._project_app = config.label
            for model in apps.get_models(include_auto_created=True):
                meta = model._meta
                columns = {}
                for f in meta.concrete_fields:
                    if getattr(f, "column", None):
                        columns[str(f.column)] = f.name
                        if f.get_internal_type() in ("JSONField", "BinaryField"):
                            # A B-tree entry holds at most about 2.7 kB: documents and blobs
                            # make indexes that fail on their first large row.
                            self._unindexable.add((meta.db_table, str(f.column)))
                        elif f.get_internal_type() == "TextField":
                            # Text of any length: an index holding it fails on the first row
                            # longer than a B-tree entry (about 2.7 kB).
                            self._wide.add((meta.db_table, str(f.column)))
                        if f.get_internal_type() in ("BooleanField", "NullBooleanField"):
                            self._booleans.add((meta.db_table, str(f.column)))
                        elif getattr(f, "choices", None) and len(list(f.choices or ())) <= 10:
                            self._few_values.add((meta.db_table, str(f.column)))
                        elif _status_like(f):
                            self._defaulted.add((meta.db_table, str(f.column)))
                        # A one-to-one key is a foreign key too (with a unique constraint).
                        relation = f.many_to_one or f.one_to_one
                        target = getattr(f, "target_field", None) if relation else None
                        if target is not None and getattr(target, "column", None):
                            self._references[(meta.db_table, str(f.column))] = (
                                str(target.model._meta.db_table),
                                str(target.column),
                            )
                if meta.db_table in tables:
                    continue
                tables[meta.db_table] = (meta.label, columns)
                if meta.pk is not None and getattr(meta.pk, "column", None):
                    self._primary[meta.db_table] = str(meta.pk.column)
                if not meta.managed or meta.proxy:
                    self._kinds[meta.db_table] = "sql"
                elif not self._owned(meta.app_config.path if meta.app_config else ""):
                    self._kinds[meta.db_table] = "external"
                elif meta.auto_created or _generated(model):
                    self._kinds[meta.db_table] = "generated"
            self._tables = tables
        return self._tables

    def _owned(self, path: str) -> bool:
        """Whether an app's code is the project's own: under the rootdir, not an installed
        package. Without a rootdir every app counts as the project's."""
        if self.rootdir is None:
            return True
        import os

        real = os.path.realpath(path)
        root = os.path.join(os.path.realpath(self.rootdir), "")
        return real.startswith(root) and "site-packages" not in real

    def is_boolean(self, table: str, column: str) -> bool:
        self._load()
        return (table, column) in self._booleans

    def is_low_cardinality(self, table: str, column: str) -> bool:
        """A boolean, or a field with a handful of choices: an index on it alone reads a large
        share of the table for every value."""
        self._load()
        return (table, column) in self._booleans or (table, column) in self._few_values

    def presumed_few(self, table: str, column: str) -> bool:
        """For the order of an index's columns only: a low-cardinality column, or a text
        field with a constant default and no choices (``status = CharField(default="open")``:
        a state, whose few values the model does not list). Neither the verdict nor the
        choice to suggest an index presumes it: a rare state's rows (``filter(status=
        "pending")``) are what an index on it finds."""
        self._load()
        return self.is_low_cardinality(table, column) or (table, column) in self._defaulted

    def indexable(self, table: str, column: str) -> bool:
        """Whether a plain B-tree index on the column is sound (not a JSON document or a
        blob, whose large values exceed a B-tree entry)."""
        self._load()
        return (table, column) not in self._unindexable

    def wide(self, table: str, column: str) -> bool:
        """A text field of any length (``TextField``): kept out of an index beside columns
        that narrow the rows without it."""
        self._load()
        return (table, column) in self._wide

    def primary_key(self, table: str) -> str | None:
        self._load()
        return self._primary.get(table)

    def references(self) -> dict[tuple[str, str], tuple[str, str]]:
        """The models' foreign keys, (table, column) -> (referenced table, column): what a
        database without foreign key constraints (MyISAM, a SQLite table made without them)
        does not say."""
        self._load()
        return dict(self._references)

    def kind(self, table: str) -> tuple[str, str | None]:
        """How an index on ``table`` gets created: "model", "external" or "generated" (with
        the project app whose migration should hold it) or "sql"."""
        if self._load().get(table) is None:
            return "sql", None
        kind = self._kinds.get(table, "model")
        return kind, self._project_app if kind in ("external", "generated") else None

    def model(self, table: str) -> tuple[str, dict[str, str]] | None:
        return self._load().get(table)

    def columns(self, table: str) -> list[str]:
        found = self.model(table)
        return list(found[1]) if found else []


def candidates(
    finding: ScanFinding,
    models: ModelIndex,
    sql: str | None = None,
    schema: Schema | None = None,
    dialect: str = "postgresql",
) -> list[Suggestion]:
    """Indexes that could serve the scan, best first: every useful column (equality columns,
    then range columns, then the sort keys), then the equality columns and the sort keys, then
    without the sort keys, then the equality columns alone. Verification keeps the first that
    removes the full scan.

    Never suggested: anything for a predicate no index serves (``Rule.UNSERVABLE``), an index
    leading with the primary key, an index the schema already has (the same leading columns), a
    low-cardinality column alone. A column under ``upper()``/``lower()`` gets an expression
    index. A partition's scan gets an index on its partitioned table.

    A whole index walked for its order with a Filter has no Sort node to take the keys from:
    the statement's own ORDER BY (``sql``) gives them."""
    if finding.rule is Rule.UNSERVABLE:
        return []
    table = schema.parent(finding.table) if schema is not None else finding.table
    known = models.columns(table) or models.columns(finding.table)
    equality: list[str] = []
    ranges: list[str] = []
    if finding.filter:
        served = _outside_ors(finding.filter)
        equality, ranges = filter_columns(served, known)
        equality = [*function_columns(served, known), *equality]
        if not equality and not ranges:
            ranges = one_column_ors(finding.filter, known)
    found_equality: list[str] = []
    if (finding.rule is Rule.SORT_RANGE or finding.filtered_range) and finding.index_condition:
        # The index's condition first, then the filter, then the order: one index for all.
        found_equality, found_ranges = filter_columns(finding.index_condition, known)
        equality = [*found_equality, *(c for c in equality if c not in found_equality)]
        ranges = [*found_ranges, *(c for c in ranges if c not in found_ranges)]
    if finding.rule is Rule.JOIN and finding.join_filter:
        for column in join_columns(finding.join_filter, finding.alias or finding.table, known):
            if column not in equality:
                equality.append(column)
    equality = [c for c in equality if models.indexable(table, c)]
    ranges = [c for c in ranges if models.indexable(table, c)]
    if any(not models.wide(table, c) for c in (*equality, *ranges)):
        # A template found by its name and its text: the name finds it, and an index that
        # also held the text would fail on the first text longer than a B-tree entry.
        equality = [c for c in equality if not models.wide(table, c)]
        ranges = [c for c in ranges if not models.wide(table, c)]
    # Columns of a few values after the others: (customer, enabled), (offer, status), not the
    # reverse: the index then also serves the other column alone, and leads with what narrows.
    # The index condition's columns stay first (the new index then does the old one's work).
    equality.sort(
        key=lambda column: column not in found_equality and models.presumed_few(table, column)
    )
    keys = ordered_keys(finding.sort_key, sql)
    if not keys and finding.index_name and finding.filter and sql and (equality or ranges):
        # An index walked for its order: the filter's columns then that order. With nothing in
        # the filter an index serves (a pattern, say), the order alone would not help.
        keys = order_by_keys(sql, finding.table)
    sorts = [sort for sort in (sort_column(key, known) for key in keys) if sort]
    # A range column that is also sorted on takes the sort's direction: the same index then
    # serves the filtered query and the one without the range (status = x ORDER BY time DESC).
    directed = {sort.lstrip("-"): sort for sort in sorts}
    filtered = [*equality, *(directed.get(c, c) for c in ranges if c not in equality)]
    ordered = list(filtered)
    # After a range the index holds the rows in the range column's order: the sort's keys
    # serve only when the sort starts with that column (created >= x ORDER BY created, id);
    # otherwise they would trail for nothing (created <= x ORDER BY id: Meta.ordering's id).
    ranged = {c for c in ranges if c not in equality}
    if not ranged or (sorts and sorts[0].lstrip("-") in ranged):
        for sort in sorts:
            if sort.lstrip("-") not in {c.lstrip("-") for c in ordered}:
                ordered.append(sort)
    # The equality columns then the order, skipping the ranges: the index that gives one key's
    # rows already sorted, for a range on another column (child = x AND end > y ORDER BY start).
    keyed = [*equality, *(s for s in sorts if s.lstrip("-") not in equality)] if sorts else []
    found: list[Suggestion] = []
    primary = {models.primary_key(table), *(schema.primary_key(table)[:1] if schema else ())}
    # Under a LIMIT the order is what stops the read early: the keyed index first.
    first = (
        (keyed, ordered) if finding.rule in (Rule.SORT_LIMIT, Rule.SORT_RANGE) else (ordered, keyed)
    )
    # A filter that is one OR with a single side no index leads with: that side's columns
    # alone, before any composite (which would trail the other sides' columns for nothing).
    lone = _lone_side(finding.filter, table, known, schema) if finding.rule is Rule.FILTER else []
    lone = [c for c in lone if models.indexable(table, c)]
    for columns in (lone, *first, filtered, equality):
        if not columns or any(tuple(columns) == s.columns for s in found):
            continue
        if columns[0].lstrip("-") in primary:
            continue
        if all(models.is_low_cardinality(table, column.lstrip("-")) for column in columns):
            # Flags and fields of a few choices alone, one or several: every combination of
            # their values keeps a large share of the table, which the index would read for it.
            continue
        if schema is not None and schema.has_prefix(table, columns):
            continue
        found.append(_suggestion(table, columns, models))
    if schema is not None and table in set(schema.parents.values()):
        found = [replace(s, partitioned=True) for s in found]
    if dialect != "postgresql":
        found = [replace(s, dialect=dialect) for s in found]
    return found


def _outside_ors(expression: str) -> str:
    """The filter without its OR conjuncts, when it has others: an index that leads with a
    column tested only inside an OR (``end >= x OR end IS NULL``, ``id IN (...) OR parent_id IN
    (...)``) serves neither side of it, so the columns compared plainly lead. A filter that is
    only an OR keeps it (each side's column is then a candidate of its own)."""
    conjuncts = top_level(expression, "AND")
    plain = [c for c in conjuncts if len(top_level(c, "OR")) == 1]
    if not plain or len(plain) == len(conjuncts):
        return expression
    return " AND ".join(f"({c})" for c in plain)


def _lone_side(
    expression: str | None, table: str, known: list[str], schema: Schema | None
) -> list[str]:
    """For a filter that is one OR, the columns of its only side that no index of the table
    leads with (``endpoint_id = x OR upper(last_error) = y``, endpoint_id indexed): an index on
    them serves the OR, the database combining it with the other sides' indexes (a BitmapOr).
    Nothing when every side has one, when two have none (no one index serves the OR), or when
    a side compares no column an index serves (a pattern, ``<>``)."""
    if not expression or schema is None:
        return []
    conjuncts = top_level(expression, "AND")
    sides = top_level(conjuncts[0], "OR") if len(conjuncts) == 1 else []
    missing: list[list[str]] = []
    for side in sides if len(sides) > 1 else ():
        columns = side_columns(side, known)
        if not columns:
            return []
        if schema.has_prefix(table, columns[:1]) is None:
            missing.append(columns)
    return missing[0] if len(missing) == 1 else []


def side_columns(side: str, known: list[str]) -> list[str]:
    """The columns one side of an OR compares, as an index on them would list them:
    ``upper(email)`` for a column compared under upper()/lower(), then the plain ones."""
    equality, ranges = filter_columns(side, known)
    return list(dict.fromkeys([*function_columns(side, known), *equality, *ranges]))


def one_column_ors(expression: str, known: list[str]) -> list[str]:
    """Columns an OR conjunct tests on every side and alone (``next_report_date < x OR
    next_report_date IS NULL``): one index on the column serves each side, the database
    combining the ranges (a BitmapOr). Asked only when nothing outside the ORs gives a column:
    a column compared plainly leads before one tested inside an OR."""
    found: list[str] = []
    for conjunct in top_level(expression, "AND"):
        sides = top_level(conjunct, "OR")
        if len(sides) < 2:
            continue
        columns = set()
        for side in sides:
            equality, ranges = filter_columns(side, known)
            if not equality and not ranges:
                break  # a side no plain index serves (a pattern, <>, another function)
            columns.update([*equality, *ranges])
        else:
            if len(columns) == 1 and (column := columns.pop()) not in found:
                found.append(column)
    return found


_FUNCTION_COLUMN = re.compile(r"\b(upper|lower)\(\(?\"?([A-Za-z_][\w$]*)\"?\)?(?:::[\w ]+)?\)\s*=")


def function_columns(expression: str, known: list[str]) -> list[str]:
    """Columns compared under upper()/lower() (``iexact``): an expression index serves them."""
    found = []
    for match in _FUNCTION_COLUMN.finditer(mask_plan_expression(expression)):
        column = f"{match.group(1)}({match.group(2)})"
        if (not known or match.group(2) in known) and column not in found:
            found.append(column)
    return found


_ORDER_BY = re.compile(r"\bORDER\s+BY\s+", re.IGNORECASE)
_ORDER_END = re.compile(r"\s+(?:LIMIT|OFFSET|FETCH|FOR)\b|\)", re.IGNORECASE)


_DISTINCT = re.compile(r"\bSELECT\s+DISTINCT\b", re.IGNORECASE)


def ordered_keys(keys: tuple[str, ...], sql: str | None) -> tuple[str, ...]:
    """The sort keys an index should give: those of the ORDER BY. The sort under a DISTINCT
    lists the ORDER BY's keys then every other selected column (to find the duplicates); an
    index on all of them serves nothing better than one on the ORDER BY's."""
    if not keys or not sql or not _DISTINCT.search(sql):
        return keys
    found = list(_ORDER_BY.finditer(sql))
    if not found:
        return ()
    rest = sql[found[-1].end() :]
    end = _ORDER_END.search(rest)
    terms = [t for t in (rest[: end.start()] if end else rest).split(",") if t.strip()]
    return keys[: len(terms)]


def order_by_keys(sql: str, table: str) -> tuple[str, ...]:
    """The keys of the statement's last ORDER BY that are plain columns of ``table``."""
    found = list(_ORDER_BY.finditer(sql))
    if not found:
        return ()
    rest = sql[found[-1].end() :]
    end = _ORDER_END.search(rest)
    keys = []
    for key in (rest[: end.start()] if end else rest).split(","):
        text = key.strip()
        qualifier, _, column = text.partition(".")
        if not column:
            keys.append(text)
        elif qualifier.strip('"') == table:
            keys.append(column)
    return tuple(keys)


def _suggestion(table: str, columns: list[str], models: ModelIndex) -> Suggestion:
    found = models.model(table)
    if found is not None:
        label, fields_by_column = found
        fields = tuple(_field(c, fields_by_column) for c in columns)
    else:
        label, fields = None, tuple(columns)
    kind, app = models.kind(table)
    return Suggestion(
        table=table,
        columns=tuple(columns),
        model=label,
        fields=fields,
        name=index_name(table, columns),
        kind=kind,
        app=app,
    )


def _field(column: str, fields_by_column: dict[str, str]) -> str:
    sign = "-" if column.startswith("-") else ""
    name = column.lstrip("-")
    expression = expression_key(name)
    if expression:
        return sign + fields_by_column.get(expression[1], expression[1])
    return sign + fields_by_column.get(name, name)


def index_name(table: str, columns: list[str]) -> str:
    """A name within Django's 30-character limit, readable, stable for the same columns, and
    unique: when the table's or a column's name had to be shortened (the Historical* tables of
    one app, created_at and created_by), a digest of the whole names tells them apart, as
    Django's own index names do. When every column has one direction, it does not count (one
    index, read backwards, serves ``created`` and ``-created``); mixed directions do."""
    written = table.split("_", 1)[-1]
    # Letters, digits and "_" only, so that the name needs no quoting in the DDL: a table named
    # "Legacy Events" or "odd`name" gives "Legacy_Events", "odd_name", with the digest.
    tail = _WORD.sub("_", written)
    parts = [_name_part(c.lstrip("-")) for c in columns]
    readable = f"{tail[:12]}_{'_'.join(p for p, _ in parts)}"
    mixed = len({c.startswith("-") for c in columns}) > 1
    plain = tail == written and not any(c for _, c in parts)
    if len(tail) <= 12 and len(readable) <= 26 and not mixed and plain:
        return readable + "_idx"
    keys = columns if mixed else [c.lstrip("-") for c in columns]
    whole = "\0".join([table, *keys])
    digest = hashlib.sha256(whole.encode()).hexdigest()[:4]
    return f"{readable[:21].rstrip('_')}_{digest}_idx"


_WORD = re.compile(r"[^A-Za-z0-9_]")


def _name_part(column: str) -> tuple[str, bool]:
    """The column's part of an index name, and whether it was shortened (or had characters
    other than letters, digits and "_" replaced)."""
    expression = expression_key(column)
    if expression:
        function, name = expression
        part = _WORD.sub("_", name)
        return f"{part[:7]}_{function}".lower(), len(name) > 7 or part != name
    part = _WORD.sub("_", column)
    return part[:7].lower(), len(column) > 7 or part != column


def filter_columns(expression: str, known: list[str]) -> tuple[list[str], list[str]]:
    """Equality and range columns of a Filter, in order of appearance."""
    text = mask_plan_expression(expression)
    equality: list[str] = []
    ranges: list[str] = []
    candidates = known or _identifiers(text)
    positions = []
    for column in candidates:
        # Plans quote reserved words and mixed case: "desc", "Label".
        quoted = re.escape('"' + column.replace('"', '""') + '"')
        pattern = rf'(?<![\w."])(?:{quoted}|{re.escape(column)}(?![\w"]))'
        for match in re.finditer(pattern, text):
            positions.append((match.start(), match.end(), column))
    for start, end, column in sorted(positions):
        if re.search(r"\w\(+$", text[:start]):
            continue  # a function argument (upper(col) = ...): a plain index does not serve it
        operator = _OPERATOR.match(text, end)
        op = re.sub(r"\s+", "", operator.group(1).upper()) if operator else ""
        if op in {"ISNULL"}:
            op = "IS NULL"
        if not operator:
            # A bare boolean column (``enabled`` or ``NOT enabled``) is an equality test.
            target = equality
        elif op in _EQUALITY or op == "ISNULL":
            target = equality
        elif op in _RANGE:
            target = ranges
        else:
            continue  # pattern matches, <>, containment: a plain B-tree index does not serve them
        if column not in equality and column not in target:
            target.append(column)
    ranges = [c for c in ranges if c not in equality]
    return equality, ranges


def join_columns(expression: str, alias: str, known: list[str]) -> list[str]:
    """Columns of the scanned table (by its plan alias) in a Join Filter."""
    columns = []
    for match in re.finditer(rf'(?<![\w"]){re.escape(alias)}\.("?)([\w$]+)\1', expression):
        column = match.group(2)
        if (not known or column in known) and column not in columns:
            columns.append(column)
    return columns


# A sort key under upper()/lower() (``order_by(Lower("name"))``: ``lower((name)::text)``).
_SORT_FUNCTION = re.compile(
    r'\(*(upper|lower)\(\(*(?:"?[\w$]+"?\.)?"?([\w$]+)"?\)*(?:::[\w ]+)?\)\)*', re.IGNORECASE
)


def sort_column(key: str, known: list[str]) -> str | None:
    """The column a sort key orders by, ``-`` first when descending; ``lower(name)`` for a key
    under upper()/lower(), which an expression index serves."""
    text = key.strip()
    descending = bool(re.search(r"\bDESC\b", text, re.IGNORECASE))
    text = re.sub(r"\s+(ASC|DESC|NULLS FIRST|NULLS LAST)\b", "", text, flags=re.IGNORECASE)
    function = _SORT_FUNCTION.fullmatch(text.strip())
    if function is not None:
        name, column = function.group(1).lower(), function.group(2)
        if known and column not in known:
            return None
        return ("-" if descending else "") + f"{name}({column})"
    if re.search(r"\w\s*\(", text):
        return None  # another function's value (random(), count(id)): no column gives it
    text = text.strip("() ")
    if text.isdigit():
        return None  # a place in the select list (ORDER BY 3: an aggregate, say), no column
    column = text.rsplit(".", 1)[-1].strip('"')
    if not re.fullmatch(r"\w+", column) or (known and column not in known):
        return None
    return ("-" if descending else "") + column


_KEYWORDS = {
    "and",
    "or",
    "not",
    "is",
    "null",
    "true",
    "false",
    "any",
    "all",
    "array",
    "with",
    "without",
    "zone",
    "character",
    "varying",
    "double",
    "precision",
}


# A cast's type (``::time without time zone``, ``::character varying[]``) and ``AT TIME ZONE``:
# words that are no column, although a column may have the same name (``date``, ``uuid``).
_TYPE_WORDS = re.compile(
    r"::\s*[a-z_][a-z0-9_]*(?:\s+(?:without|with|time|zone|varying|precision)\b)*(?:\[\])?"
    r"|\bAT\s+TIME\s+ZONE\b",
    re.IGNORECASE,
)


def _identifiers(text: str) -> list[str]:
    found = []
    text = _TYPE_WORDS.sub(" ", text)
    for match in re.finditer(r"(?<![\w.:])([a-z_][a-z0-9_]*)(?![\w(])", text):
        name = match.group(1)
        before = text[: match.start()].rstrip()
        if name in _KEYWORDS or before.endswith("::") or name in found:
            continue
        found.append(name)
    return found


def _status_like(field: Any) -> bool:
    """A text field whose constant, non-empty default is one of its values (``status =
    CharField(default="open")``): a state. Names, codes and e-mails have no such default."""
    if field.get_internal_type() != "CharField" or field.unique or field.primary_key:
        return False
    if not field.has_default():
        return False
    default = field.default
    return isinstance(default, str) and bool(default.strip())
