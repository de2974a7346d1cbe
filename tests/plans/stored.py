"""Reading what ``capture_judge.py`` and the other captures store: the index catalog of a file."""

from __future__ import annotations

from typing import Any

from pytest_indexguard.schema import IndexInfo, Schema


def catalog(data: dict[str, Any]) -> Schema:
    """The schema of a stored capture's ``indexes``, ``extensions`` and ``parents`` (each
    partition's partitioned table, when it has any)."""
    indexes = [
        IndexInfo(**{**i, "columns": tuple(i["columns"]), "keys": tuple(i["keys"])})
        for i in data["indexes"]
    ]
    return Schema.of(indexes, data.get("parents"), extensions=data["extensions"])
