"""One verdict for a suite run in several CI jobs (shards): ``python -m pytest_indexguard merge``.

Each job runs its part of the suite with ``--indexguard-report``; the merge reads those JSON
reports and gives what one run of the whole suite would have given: the same new, known and
stale violations, the same SARIF file, GitHub step summary and baseline update, and a JSON
report equal to the single run's except for the work counters (see ``WORK_COUNTERS``).

It rebuilds the run's records from each violation's ``hits`` and the facts of which tests ran
(``tests``) and which allow markers were in effect (``allow_markers``), then hands them to the
same ``Results`` that a pytest run uses, so every output is produced by the same code.

With ``--baseline``, whether a violation is new or known is decided here, against that file
(the jobs' own verdicts are not trusted to have used the same file); stale entries and
``--update-baseline`` need it. Every problem with an input (missing, not a report, written with
other settings or another plugin version, a test run in two jobs) is one line naming the file,
and exit code 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import pytest

from pytest_indexguard import baseline as baseline_module
from pytest_indexguard.config import Settings
from pytest_indexguard.files import read_document
from pytest_indexguard.model import Status, ViolationRecord
from pytest_indexguard.results import (
    BASELINED,
    GROUP_FIELDS,
    HIT_FIELDS,
    LATER_GROUP_FIELDS,
    REPORT_FORMAT,
    REPORT_VERSION,
    Results,
    write_outputs,
)
from pytest_indexguard.summary import Summary
from pytest_indexguard.words import count_of, need

# Settings that change verdicts, in the words a refusal names them: every job must have run
# with the same ones.
SETTINGS = {
    "mode": "mode",
    "tables": "watched tables (indexguard_tables)",
    "min_rows": "min-rows (indexguard_min_rows)",
    "check_test_code": "test-code checking (indexguard_check_test_code)",
    "table_rows": "table sizes (indexguard_table_rows, indexguard_stats)",
    "columns": "column statistics (indexguard_distinct, or the stats file's)",
    "unservable": "unservable (indexguard_unservable)",
    "small_tables": "small tables (indexguard_small_tables)",
    "plan_on": "planning (--indexguard-plan-on)",
}
# Counters of the work each process did (plans explained, cache entries, round trips): they
# depend on how the suite was split, as they do between a serial and an xdist run. The merged
# report sums them over the jobs; they are the only fields in which it may differ from the
# report of one run of the whole suite (with "coverage", which is per job: null here).
WORK_COUNTERS = (
    "explained",
    "round_trips",
    "cached",
    "evictions",
    "invalidations",
    "distinct",
    "skipped_unwatched",
    "watch_checks",
)


class MergeError(Exception):
    """Bad input: one line that names the file."""


@dataclass
class Shard:
    path: Path
    data: dict[str, Any]


@dataclass(frozen=True)
class Options:
    reports: Sequence[Path]
    baseline: Path | None = None
    update_baseline: bool = False
    fail_stale: bool = False
    sarif: Path | None = None
    report: Path | None = None
    github_summary: Path | None = None


@dataclass
class Outcome:
    lines: list[str]
    exit_code: int


def load(path: Path) -> Shard:
    try:
        data = read_document(
            path,
            option="merge",
            kind="report",
            format_name=REPORT_FORMAT,
            version=(1, REPORT_VERSION),
            missing_hint="each job writes one with --indexguard-report=PATH",
        )
    except pytest.UsageError as exc:
        raise MergeError(str(exc)) from None
    if data["version"] == 1:
        raise MergeError(
            f"merge: {str(path)!r} is a version 1 report, which does not say which tests ran; "
            "run the job again with this version of pytest-indexguard"
        )
    try:
        _check_shape(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise MergeError(
            f"merge: {str(path)!r} is not an indexguard report: {_describe(exc)}"
        ) from None
    return Shard(path, data)


def _check_shape(data: dict[str, Any]) -> None:
    for key, kind in (
        ("settings", dict),
        ("summary", dict),
        ("violations", list),
        ("tests", dict),
        ("allow_markers", list),
        ("rootdir", str),
        ("plugin_version", str),
    ):
        if not isinstance(data[key], kind):
            what = "an object" if kind is dict else f"a {kind.__name__}"
            raise TypeError(f'"{key}" must be {what}')
    sizes = data["settings"].get("table_rows") or {}
    if not isinstance(sizes, dict) or not all(
        isinstance(v, list) and len(v) == 2 and isinstance(v[0], int) and isinstance(v[1], str)
        for v in sizes.values()
    ):
        raise TypeError('"settings.table_rows" must map tables to [rows, source]')
    for key in ("ran", "gone", "xfailed"):
        if not all(isinstance(t, str) for t in data["tests"].get(key, ())):
            raise TypeError(f'"tests.{key}" must be a list of test ids')
    for number, group in enumerate(data["violations"], start=1):
        required = [name for name in GROUP_FIELDS if name not in LATER_GROUP_FIELDS]
        _require(group, (*required, "hits"), f"violation {number}")
        for hit in group["hits"]:
            _require(hit, HIT_FIELDS, f"violation {number}: a hit")
    for usage in data["allow_markers"]:
        _require(usage, ("node", "marker", "used"), "allow_markers: an entry")


def _require(item: Any, names: Sequence[str], where: str) -> None:
    if not isinstance(item, dict):
        raise TypeError(f"{where} is not an object")
    missing = [name for name in names if name not in item]
    if missing:
        raise ValueError(f"{where} has no {missing[0]!r} field")


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"it has no {exc.args[0]!r} field"
    return str(exc)


def merge(options: Options) -> Outcome:
    """The merged verdict; raises ``MergeError`` for bad input."""
    if not options.reports:
        raise MergeError("merge: no report given")
    if options.update_baseline and options.baseline is None:
        raise MergeError("merge: --update-baseline needs --baseline=PATH (the file to write)")
    shards = [load(path) for path in options.reports]
    first = shards[0]
    _check_consistent(shards)
    known: dict[str, baseline_module.Entry] = {}
    if options.baseline is not None:
        try:
            known = baseline_module.load(
                options.baseline, missing_ok=options.update_baseline, option="merge --baseline"
            )
        except pytest.UsageError as exc:
            raise MergeError(str(exc)) from None
    settings = _settings(first.data["settings"], options)
    results = Results(
        settings,
        baseline=known,
        baseline_planned_on=(
            baseline_module.planned_on(options.baseline) if options.baseline else None
        ),
    )
    for shard in shards:
        _add(results, shard.data, reclassify=options.baseline is not None)
    results.gone -= results.ran
    summary = _summary(shards)

    from pytest_indexguard.report import header_line, verdict_lines

    lines = [header_line(settings)]
    lines.append(
        f"merged {len(shards)} reports: {len(results.ran)} tests ran"
        + (f", {len(results.gone)} baseline tests no longer exist" if results.gone else "")
    )
    lines.extend(verdict_lines(settings, results))
    errors = _write(
        options,
        results,
        summary,
        rootdir=first.data["rootdir"],
        notes=lines,
        recorded=first.data["settings"],
    )
    lines.extend(f"indexguard: {error}" for error in errors)
    code = 0
    if not options.update_baseline:
        if results.failing_tests():
            code = 1
            lines.append(
                f"indexguard: {need(len(results.failing_tests()))} a new full scan of a "
                "watched table"
            )
        if options.fail_stale and results.stale():
            code = 1
            count = len(results.stale())
            lines.append(
                f"indexguard: {count_of(count, 'stale baseline entry', 'stale baseline entries')} "
                "(--fail-stale); remove them with --update-baseline"
            )
    if errors:
        code = 2
    return Outcome(lines, code)


def _check_consistent(shards: list[Shard]) -> None:
    first = shards[0]
    seen: dict[str, int] = {}
    for number, shard in enumerate(shards):
        if shard.data["plugin_version"] != first.data["plugin_version"]:
            raise MergeError(
                f"merge: {str(shard.path)!r} was written by pytest-indexguard "
                f"{shard.data['plugin_version']}, {str(first.path)!r} by "
                f"{first.data['plugin_version']}: run every job with the same version"
            )
        for name, words in SETTINGS.items():
            mine, theirs = shard.data["settings"].get(name), first.data["settings"].get(name)
            if mine != theirs:
                mine, theirs = _difference(mine, theirs)
                raise MergeError(
                    f"merge: {str(shard.path)!r} ran with {words} {mine}, {str(first.path)!r} "
                    f"with {theirs}: every job must run with the same settings"
                )
        for test in shard.data["tests"]["ran"]:
            other = seen.setdefault(test, number)
            if other != number:
                raise MergeError(
                    f"merge: {str(shard.path)!r}: test {test} also ran in "
                    f"{str(shards[other].path)!r}; each test must run in one job only (or is the "
                    "same report given twice?)"
                )


def _difference(mine: Any, theirs: Any) -> tuple[str, str]:
    """Two values of one setting, short enough for one line: of two mappings (declared sizes),
    the first entry in which they differ."""
    if isinstance(mine, dict) or isinstance(theirs, dict):
        mine, theirs = mine or {}, theirs or {}
        key = min(k for k in {*mine, *theirs} if mine.get(k) != theirs.get(k))

        def entry(value: Any) -> str:
            return f"{key}={value[0]:,} ({value[1]})" if value else f"no size for {key}"

        return entry(mine.get(key)), entry(theirs.get(key))
    if mine is None or theirs is None:
        return ("none" if mine is None else repr(mine)), (
            "none" if theirs is None else repr(theirs)
        )
    return repr(mine), repr(theirs)


def _settings(recorded: dict[str, Any], options: Options) -> Settings:
    tables = recorded.get("tables")
    if options.baseline is not None:
        path: Path | None = options.baseline.expanduser().absolute()
    else:
        path = Path(recorded["baseline"]) if recorded.get("baseline") else None
    return Settings(
        enabled=True,
        tables=frozenset(tables) if tables is not None else None,
        min_rows=int(recorded.get("min_rows") or 0),
        mode=recorded.get("mode", "forced"),
        baseline=path,
        update_baseline=options.update_baseline,
        fail_stale=options.fail_stale,
        check_test_code=bool(recorded.get("check_test_code")),
        table_rows=MappingProxyType(
            {
                str(table): (int(value[0]), str(value[1]))
                for table, value in (recorded.get("table_rows") or {}).items()
            }
        ),
        unservable="warn" if recorded.get("unservable") == "warn" else "fail",
        plan_on=recorded.get("plan_on") or None,
        small_tables=frozenset(recorded.get("small_tables") or ()),
    )


def _add(results: Results, data: dict[str, Any], *, reclassify: bool) -> None:
    for group in data["violations"]:
        shared = {name: group.get(name, []) for name in GROUP_FIELDS}
        status = shared["status"]
        if reclassify and status in BASELINED:
            shared["status"] = (
                Status.KNOWN if shared["fingerprint"] in results.baseline else Status.NEW
            )
        for hit in group["hits"]:
            # A record as the job wrote it (_check_shape read its fields).
            record = {**shared, **{name: hit[name] for name in HIT_FIELDS}}
            results.records.append(cast(ViolationRecord, record))
    results.ran.update(data["tests"]["ran"])
    results.gone.update(data["tests"]["gone"])
    results.xfailed.update(data["tests"].get("xfailed", ()))
    for usage in data["allow_markers"]:
        results.note_marker(str(usage["node"]), str(usage["marker"]), bool(usage["used"]), True)


def _summary(shards: list[Shard]) -> dict[str, Any]:
    """The jobs' session counters added up (sets and mappings united)."""
    total = Summary()
    distinct = 0
    for shard in shards:
        counters = dict(shard.data["summary"])
        distinct += int(counters.pop("distinct", 0) or 0)
        known = {name: counters[name] for name in Summary().to_json() if name in counters}
        empty = Summary().to_json()
        total.merge(Summary.from_json({**empty, **known}))
    counters = total.to_json()
    for bulky in ("catalog", "index_usage", "distinct", "tables_read"):
        counters.pop(bulky)
    counters["distinct"] = distinct
    return counters


def _write(
    options: Options,
    results: Results,
    counters: dict[str, Any],
    *,
    rootdir: str,
    notes: list[str],
    recorded: dict[str, Any],
) -> list[str]:
    """Every output asked for, each on its own; the errors, one line each."""

    def report() -> dict[str, Any]:
        # The settings every job ran with, as they recorded them (the column statistics'
        # digest is not rebuilt here); the baseline is the merge's own.
        data = results.json_report(counters, None, rootdir=rootdir)
        same = {name: recorded[name] for name in SETTINGS if name in recorded}
        data["settings"] = {**data["settings"], **same}
        return data

    written, errors = write_outputs(
        results,
        report,
        Path(rootdir),
        baseline=(
            (options.baseline, "merge --baseline")
            if options.update_baseline and options.baseline is not None
            else None
        ),
        report=(options.report, "merge --report") if options.report is not None else None,
        sarif=(options.sarif, "merge --sarif") if options.sarif is not None else None,
        step_summary=(
            (options.github_summary, "merge --github-summary")
            if options.github_summary is not None
            else None
        ),
    )
    notes.extend(written)
    return errors
