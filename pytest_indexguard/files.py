"""The plugin's own files (baseline, stats, reports): every problem reading one is one line that
names the option and the path; every file is written atomically so that an interrupted run never
leaves half a file, with the mode the user's umask gives (or the mode the file already had).

Reading: a missing file, a directory, a device or pipe, an unreadable file, a file that is not
UTF-8 (PowerShell's ``>`` writes UTF-16 with a byte order mark: said so), invalid JSON and
another format or version each give one ``pytest.UsageError``. A UTF-8 byte order mark is
accepted.

Writing: ``write_atomically`` writes a temporary file next to the target and renames it over
the target; a target that exists and is not a regular file (``/dev/stdout``, a pipe) is written
in place instead, never replaced. Failures raise ``OutputError``, whose message is one line.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


class ReadError(Exception):
    """Why a file could not be read as text, in words (no option, no path)."""


def read_text(path: Path) -> str:
    """The UTF-8 text of a regular file. Raises ``FileNotFoundError`` when it is missing and
    ``ReadError`` for every other problem."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ReadError(f"cannot read it: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise ReadError("it is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise ReadError("it is not a regular file (a device, pipe or socket)")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ReadError(f"cannot read it: {exc.strerror or exc}") from None
    if data.startswith(_UTF32_BOMS):  # before UTF-16: the UTF-32 LE mark starts like UTF-16's
        raise ReadError("it is UTF-32 encoded; save it as UTF-8")
    if data.startswith(_UTF16_BOMS):
        raise ReadError(
            "it is UTF-16 encoded (PowerShell's > and Out-File write UTF-16); save it as UTF-8, "
            "e.g. with Out-File -Encoding utf8 or Set-Content -Encoding utf8"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"it is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None


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
    (missing, unreadable, not UTF-8, not JSON, another format or version) is one usage error."""
    shown = repr(str(path))
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise pytest.UsageError(f"{option}: no such file {shown}; {missing_hint}") from None
    except ReadError as exc:
        raise pytest.UsageError(f"{option}: cannot use {shown}: {exc}") from None
    if not text.strip():
        raise pytest.UsageError(f"{option}: {shown} is empty; {missing_hint}")
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


class OutputError(Exception):
    """A file could not be written; the message is one line naming the option and the path."""


def write_atomically(path: Path, text: str, *, option: str = "output") -> None:
    """Replace ``path`` with ``text`` in one step: a reader (or a run killed halfway) sees the
    old content or the new one, never a part. The new file gets the old file's permission bits,
    or those the umask gives a new file."""
    shown = repr(str(path))
    try:
        current = path.stat()
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise OutputError(f"{option}: cannot write {shown}: {_why(exc)}") from None
    if current is not None and stat.S_ISDIR(current.st_mode):
        raise OutputError(f"{option}: cannot write {shown}: it is a directory")
    if current is not None and not stat.S_ISREG(current.st_mode):
        # A device or a pipe (/dev/stdout): write to it, never rename a file over it.
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise OutputError(f"{option}: cannot write {shown}: {_why(exc)}") from None
        return
    check_directory(path, option=option)
    mode = stat.S_IMODE(current.st_mode) if current is not None else 0o666 & ~_umask()
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), mode)  # mkstemp creates 0600 whatever the umask
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        raise OutputError(f"{option}: cannot write {shown}: {_why(exc)}") from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def check_directory(path: Path, *, option: str) -> None:
    """A file's directory must exist: no option creates one (a typo would make a directory
    anywhere, as root a top-level one)."""
    parent = path.expanduser().absolute().parent
    if not parent.is_dir():
        raise OutputError(
            f"{option}: cannot write {str(path)!r}: its directory {str(parent)!r} does not exist"
        )


def write_json(path: Path, data: dict[str, Any], *, option: str) -> None:
    write_atomically(path, dumps_json(data), option=option)


def dumps_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def append_text(path: Path, text: str, *, option: str) -> None:
    """Append to a file others write too (GitHub's step summary): not atomic, by its nature."""
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise OutputError(f"{option}: cannot write {str(path)!r}: {_why(exc)}") from None


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _umask() -> int:
    """The process's umask (reading it means setting it; set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
