"""The plugin's own files (baseline, stats, reports): read with one-line usage errors, written
atomically so that an interrupted run never leaves half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest


def read_document(
    path: Path,
    *,
    option: str,
    kind: str,
    format_name: str,
    version: int | tuple[int, ...],
    missing_hint: str,
) -> dict[str, Any]:
    """A JSON document of ours: an object with ``format`` and ``version``. Every problem
    (missing, unreadable, not JSON, another format or version) is one usage error."""
    shown = repr(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise pytest.UsageError(f"{option}: no such file {shown}; {missing_hint}") from None
    except OSError as exc:
        raise pytest.UsageError(f"{option}: cannot read {shown}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise pytest.UsageError(
            f"{option}: {shown} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != format_name:
        raise invalid(
            path,
            option=option,
            kind=kind,
            why=(f'expected an object with "format": "{format_name}"'),
        )
    versions = version if isinstance(version, tuple) else (version,)
    if data.get("version") not in versions:
        readable = " and ".join(str(v) for v in versions)
        raise invalid(
            path,
            option=option,
            kind=kind,
            why=(f"unsupported version {data.get('version')!r} (this plugin reads {readable})"),
        )
    return data


def invalid(path: Path, *, option: str, kind: str, why: str) -> pytest.UsageError:
    return pytest.UsageError(f"{option}: {str(path)!r} is not an indexguard {kind}: {why}")


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
