"""A violation's stable identity, for baselines and reports: database alias, table, and the
statement's normalised shape (``sqltext.normalise``). It does not change with parameter values,
test order or between runs, and it changes when the statement's shape changes."""

from __future__ import annotations

import hashlib

from pytest_indexguard.sqltext import normalise


def fingerprint(alias: str, table: str, normalised_sql: str) -> str:
    digest = hashlib.sha256(f"{alias}\n{table}\n{normalised_sql}".encode()).hexdigest()
    return digest[:16]


def fingerprint_sql(alias: str, table: str, sql: str) -> tuple[str, str]:
    """The fingerprint and the normalised statement it was computed from."""
    shape = normalise(sql)
    return fingerprint(alias, table, shape), shape


def statement_digest(alias: str, sql: str) -> str:
    """Stable across processes (unlike ``hash``), so workers' distinct counts can be merged."""
    return hashlib.blake2b(f"{alias}\0{sql}".encode(), digest_size=8).hexdigest()
