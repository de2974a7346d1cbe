"""What the whole run found, gathered from test reports by the process that prints the summary
(the xdist controller, or the only process), or from the JSON reports of several CI jobs by
``python -m pytest_indexguard merge``: baseline comparison, stale entries, unused markers, and
the files written at the end (baseline, JSON report, SARIF, GitHub summary).

Which baseline entries a run may judge is a matter of fact, not of how pytest was called: a test
*ran* when its call phase ran and was not skipped; a test is *gone* when pytest collected the
module or class that would hold it and it was not there, or its file no longer exists. An entry
is stale (and an update drops it) only when every one of its tests ran or is gone and none hit
it; every other entry that nothing hit is kept as it was ("unexercised"). So a baseline updated
from a ``-k`` selection, a directory, ``--lf``, a skipped platform or one CI shard changes only
the entries of the tests that ran.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict

from pytest_indexguard import __version__
from pytest_indexguard.baseline import Entry
from pytest_indexguard.config import Settings
from pytest_indexguard.files import OutputError, append_text, write_json
from pytest_indexguard.model import Status, ViolationRecord
from pytest_indexguard.words import count_of, need

REPORT_FORMAT = "pytest-indexguard report"
# 2: each violation lists its "hits" (test, call site, executions, markers), and the report says
# which tests ran ("tests") and which allow markers were in effect ("allow_markers"): what
# ``merge`` needs to give the verdict of a suite run in several jobs.
REPORT_VERSION = 2
# What the report and the baseline record of --indexguard-plan-on.
PLANNED_ON = "postgresql"


def planned_on(settings: Settings) -> str | None:
    """Whose planner judged a run, as its report and baseline record it: ``PLANNED_ON`` under
    --indexguard-plan-on (never the server's URL: it may hold a password, and does not change
    a verdict), None for the test database's own."""
    return PLANNED_ON if settings.plan_on else None


# Statuses that the baseline records: the ones that fail a test unless known.
BASELINED = (Status.NEW, Status.KNOWN)
# Fields of a violation that its first hit (by table, statement and test) gives its group.
GROUP_FIELDS = (
    "fingerprint",
    "alias",
    "table",
    "sql",
    "node",
    "rule",
    "filter",
    "join_filter",
    "sort_key",
    "unservable",
    "or_sides",
    "cursor",
    "status",
    "suggestion",
    "plan",
    "rows",
    "rows_source",
    "small",
    "origin",
    "judged_by",
    "judged_here",
)
# Fields a report written before they existed may lack (a merge reads them as empty).
LATER_GROUP_FIELDS = ("or_sides", "judged_by", "judged_here")
# Fields of one hit: what differs between the tests and call sites of one violation.
HIT_FIELDS = ("test", "call_site", "built_at", "executions", "marker", "expired_marker")


class MarkerUse(TypedDict):
    """An allow marker in effect for one test, and whether it allowed anything there."""

    node: str
    marker: str
    used: bool


class TestData(TypedDict):
    """What one test's report carries to the process that prints the summary."""

    violations: list[ViolationRecord]
    markers: list[MarkerUse]


@dataclass
class Results:
    settings: Settings
    baseline: dict[str, Entry] = field(default_factory=dict)
    records: list[ViolationRecord] = field(default_factory=list)
    # Tests whose call phase ran (passed, failed, xfailed): not skipped, not deselected.
    ran: set[str] = field(default_factory=set)
    # Tests named in the baseline that no longer exist (see the module docstring).
    gone: set[str] = field(default_factory=set)
    # Tests marked xfail whose call phase failed (for a scan or not): pytest counts them as
    # xfailed, not failed, and so does the count of failing tests.
    xfailed: set[str] = field(default_factory=set)
    # Allow markers in effect, by (node that carries it, marker): whether it allowed anything.
    markers: dict[tuple[str, str], bool] = field(default_factory=dict)
    # Tables presumed small that application code inserted into -> the tests whose scans of
    # them passed as "small table" before the insert was seen (``outgrown``).
    outgrown_tests: dict[str, set[str]] = field(default_factory=dict)
    # Whose planner judged the run that recorded the baseline ("postgresql" for a run with
    # --indexguard-plan-on; ``baseline.planned_on``).
    baseline_planned_on: str | None = None

    def planning_mismatch(self) -> str | None:
        """One line when the baseline was recorded with --indexguard-plan-on and this run is
        not, or the other way round: its entries and this run's findings come from different
        planners."""
        if self.settings.baseline is None or not self.baseline:
            return None
        if planned_on(self.settings) == self.baseline_planned_on:
            return None
        if self.baseline_planned_on is not None:
            return (
                "baseline: recorded with --indexguard-plan-on (PostgreSQL's plans); this run "
                "judges by the test database's own planner, so its entries and this run's "
                "findings may not match: run with the same --indexguard-plan-on, or record the "
                "baseline again"
            )
        return (
            "baseline: recorded without --indexguard-plan-on (the test database's own plans); "
            "this run judges by PostgreSQL's planner, so its entries and this run's findings "
            "may not match: run without --indexguard-plan-on, or record the baseline again"
        )

    def add(
        self,
        nodeid: str,
        when: str,
        data: TestData | None,
        *,
        ran: bool = False,
        xfailed: bool = False,
    ) -> None:
        """One test report: ``ran`` when it is the report of a call phase that ran,
        ``xfailed`` when pytest reports that phase as an expected failure."""
        if when == "call" and ran:
            self.ran.add(nodeid)
        if when == "call" and xfailed:
            self.xfailed.add(nodeid)
        if data:
            self.records.extend(data["violations"])
            for usage in data["markers"]:
                self.note_marker(usage["node"], usage["marker"], usage["used"], ran)

    def outgrown(self, grown: Iterable[str]) -> None:
        """Scans recorded as on a small table whose table application code inserted into in
        this run (in this process after them, or in another worker) count like any other: the
        verdict does not depend on the order in which tests ran."""
        grown = set(grown)
        for record in self.records:
            if record["status"] == Status.SMALL and record["table"] in grown:
                known = record["fingerprint"] in self.baseline
                record["status"] = Status.KNOWN if known else Status.NEW
                record["small"] = None
                if record["status"] == Status.NEW:
                    self.outgrown_tests.setdefault(record["table"], set()).add(record["test"])

    def note_marker(self, node: str, marker: str, used: bool, ran: bool) -> None:
        """A marker counts as unused only from tests that ran; a use counts from any test."""
        key = (node, marker)
        if used:
            self.markers[key] = True
        elif ran:
            self.markers.setdefault(key, False)

    @property
    def unused(self) -> list[tuple[str, str]]:
        """(node, marker) of the allow markers that allowed nothing in any test they cover."""
        return sorted(key for key, used in self.markers.items() if not used)

    def done(self, test: str) -> bool:
        """Whether this run says all there is to say about ``test``: it ran, or it is gone."""
        return test in self.ran or test in self.gone

    # -- derived views ------------------------------------------------------------------------

    def hits(self) -> dict[str, list[ViolationRecord]]:
        """Baselined records (new or known) by fingerprint."""
        found: dict[str, list[ViolationRecord]] = defaultdict(list)
        for record in self.records:
            if record["status"] in BASELINED:
                found[record["fingerprint"]].append(record)
        return found

    def stale(self) -> list[Entry]:
        """Baseline entries nothing hit although each of their tests ran (or is gone)."""
        return self._unhit(judged=True)

    def unexercised(self) -> list[Entry]:
        """Baseline entries nothing hit, some of whose tests did not run: kept as they are."""
        return self._unhit(judged=False)

    def _unhit(self, *, judged: bool) -> list[Entry]:
        hits = self.hits()
        found = [
            entry
            for fingerprint, entry in self.baseline.items()
            if fingerprint not in hits and all(self.done(t) for t in entry.tests) == judged
        ]
        return sorted(found, key=lambda e: (e.table, e.sql, e.fingerprint))

    def new_baseline(self) -> list[Entry]:
        """This run's violations, with the tests of their old entries that did not run, plus
        the entries nothing hit whose tests did not all run (without the tests that did). An
        entry whose tests did not run at all comes back unchanged."""
        entries: dict[str, Entry] = {}
        for fingerprint, records in self.hits().items():
            first = records[0]
            tests = {r["test"] for r in records}
            old = self.baseline.get(fingerprint)
            if old is not None:
                tests.update(t for t in old.tests if not self.done(t))
            entries[fingerprint] = Entry(
                fingerprint=fingerprint,
                alias=first["alias"],
                table=first["table"],
                sql=first["sql"],
                tests=tuple(sorted(tests)),
            )
        for entry in self.unexercised():
            left = tuple(t for t in entry.tests if not self.done(t))
            kept = entry if left == entry.tests else replace(entry, tests=left)
            entries[entry.fingerprint] = kept
        return list(entries.values())

    def table_counts(self) -> dict[str, Counter[str]]:
        """Distinct violating statements per table and status, plus stale baseline entries.
        Statements of test code and migrations are counted apart (``exempt_counts``)."""
        seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        executions: Counter[str] = Counter()
        for record in self.records:
            if record["status"] in Status.EXEMPT:
                continue
            seen[record["table"]].add((record["status"], record["fingerprint"]))
            executions[record["table"]] += record["executions"]
        counts: dict[str, Counter[str]] = {}
        for table, pairs in seen.items():
            counts[table] = Counter(status for status, _ in pairs)
            counts[table]["executions"] = executions[table]
        for entry in self.stale():
            counts.setdefault(entry.table, Counter())["stale"] += 1
        return counts

    def exempt_counts(self) -> Counter[str]:
        """Distinct statements of test code and of migrations, by status."""
        seen = {
            (record["status"], record["fingerprint"])
            for record in self.records
            if record["status"] in Status.EXEMPT
        }
        return Counter(status for status, _ in seen)

    def failing_tests(self) -> set[str]:
        """Tests failed for a new scan: not those marked xfail, which pytest reports as
        xfailed (``xfailed_tests``)."""
        return self._new_scans() - self.xfailed

    def xfailed_tests(self) -> set[str]:
        """Tests marked xfail with a new scan: the guard failed them, pytest counts xfailed."""
        return self._new_scans() & self.xfailed

    def _new_scans(self) -> set[str]:
        return {r["test"] for r in self.records if r["status"] == Status.NEW}

    def grouped(self) -> list[dict[str, Any]]:
        """One entry per fingerprint and status, with every test and call site that hit it,
        and the hits themselves (in the order of their tests), from which ``merge`` rebuilds
        the records."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for typed in sorted(self.records, key=_record_order):
            record: Mapping[str, Any] = typed  # read by the field lists above
            key = (record["fingerprint"], record["status"])
            group = groups.get(key)
            if group is None:
                group = groups[key] = {k: record.get(k) for k in GROUP_FIELDS}
                group.update(tests=[], call_sites=[], markers=[], executions=0, hits=[])
            if record["test"] not in group["tests"]:
                group["tests"].append(record["test"])
            site = record["call_site"]
            if site is not None and record.get("built_at"):
                # A lazy QuerySet: where it was evaluated, and where it was built.
                site = {**site, "built_at": record["built_at"]}
            if site is not None and site not in group["call_sites"]:
                group["call_sites"].append(site)
            for key_name in ("marker", "expired_marker"):
                if record.get(key_name) and record[key_name] not in group["markers"]:
                    group["markers"].append(record[key_name])
            group["executions"] += record["executions"]
            group["hits"].append({k: record.get(k) for k in HIT_FIELDS})
        order = {status: index for index, status in enumerate(Status.ORDER)}
        return sorted(
            groups.values(),
            key=lambda g: (order.get(g["status"], 9), g["table"], g["sql"], g["fingerprint"]),
        )

    # -- outputs ------------------------------------------------------------------------------

    def json_report(
        self,
        summary: dict[str, Any],
        coverage: list[dict[str, Any]] | None = None,
        *,
        rootdir: str,
    ) -> dict[str, Any]:
        settings = self.settings
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "plugin_version": __version__,
            "rootdir": rootdir,
            "settings": {
                "mode": settings.mode,
                "tables": sorted(settings.tables) if settings.tables is not None else None,
                "min_rows": settings.min_rows,
                "baseline": str(settings.baseline) if settings.baseline else None,
                "check_test_code": settings.check_test_code,
                **verdict_settings(settings),
            },
            "summary": {
                **summary,
                "statuses": dict(sorted(Counter(g["status"] for g in self.grouped()).items())),
                "failing_tests": len(self.failing_tests()),
                "xfailed_tests": len(self.xfailed_tests()),
                "stale": len(self.stale()),
            },
            "violations": self.grouped(),
            "stale": [entry.to_json() for entry in self.stale()],
            "unexercised": [entry.to_json() for entry in self.unexercised()],
            "unused_markers": [{"node": node, "marker": marker} for node, marker in self.unused],
            "allow_markers": [
                {"node": node, "marker": marker, "used": used}
                for (node, marker), used in sorted(self.markers.items())
            ],
            "tests": {
                "ran": sorted(self.ran),
                "gone": sorted(self.gone),
                "xfailed": sorted(self.xfailed),
            },
            "coverage": coverage,
        }

    def markdown(self) -> str:
        """A GitHub job summary: the picture at a glance."""
        counts = self.table_counts()
        lines = ["## pytest-indexguard", ""]
        new = self.failing_tests()
        if new:
            lines.append(f"**{need(len(new))} a full scan of a watched table.**")
        else:
            lines.append("No test needs a new full scan of a watched table.")
        lines.append("")
        if counts:
            columns = (*Status.VIOLATIONS, "stale")
            lines.append("| table | " + " | ".join(columns) + " |")
            lines.append("|---" * (len(columns) + 1) + "|")
            for table, table_counts in sorted(counts.items()):
                # A table can have only stale entries: its counts still show.
                cells = " | ".join(str(table_counts[c]) for c in columns)
                lines.append(f"| `{table}` | {cells} |")
            lines.append("")
        for group in self.grouped():
            if group["status"] != Status.NEW:
                continue
            site = group["call_sites"][0] if group["call_sites"] else None
            where = f"`{site['path']}:{site['line']}` in `{site['function']}`" if site else ""
            built = site.get("built_at") if site else None
            if built:
                where += (
                    f" (QuerySet built at `{built['path']}:{built['line']}` in "
                    f"`{built['function']}`)"
                )
            lines.append(f"- **{group['table']}**: {group['node']} {where}")
            lines.append(f"  - `{_short(group['sql'], 160)}`")
            advice = _advice(group)
            if advice:
                lines.append(f"  - {advice}")
        exempt = self.exempt_counts()
        if exempt:
            lines.append("")
            words = {
                Status.TEST_CODE: "issued by test code",
                Status.MIGRATE_TIME: "at migrate time",
            }
            parts = [f"{exempt[s]} {words[s]}" for s in Status.EXEMPT if exempt[s]]
            lines.append(f"Not failed (distinct statements): {', '.join(parts)}.")
        stale = self.stale()
        if stale:
            lines.append("")
            lines.append(
                f"{count_of(len(stale), 'stale baseline entry', 'stale baseline entries')} "
                f"(nothing hits {'it' if len(stale) == 1 else 'them'} any more)."
            )
        if self.unused:
            lines.append("")
            lines.append(
                f"{count_of(len(self.unused), '`indexguard_allow` marker')} allowed nothing."
            )
        return "\n".join(lines) + "\n"


def verdict_settings(settings: Settings) -> dict[str, Any]:
    """The settings besides mode, tables, min-rows and test code that change a verdict, as the
    JSON report records them for ``merge`` to compare: declared sizes (with where each came
    from, the ini or the stats file), production's column statistics (the stats file's and
    ``indexguard_distinct``'s, as a digest: they can be large), the unservable severity and the
    tables presumed small."""
    columns = {
        table: {column: list(astuple(shape)) for column, shape in sorted(shapes.items())}
        for table, shapes in sorted(settings.columns.items())
    }
    digest = hashlib.sha256(json.dumps(columns, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "table_rows": {
            table: [rows, source] for table, (rows, source) in sorted(settings.table_rows.items())
        },
        "columns": digest if columns else None,
        "unservable": settings.unservable,
        "small_tables": sorted(settings.small_tables),
        "plan_on": planned_on(settings),
    }


def _record_order(record: ViolationRecord) -> tuple[str, str, str, str]:
    return (record["table"], record["sql"], record["fingerprint"], record["test"])


def _advice(group: Mapping[str, Any]) -> str | None:
    """The index advice of a violation, as the failure message gives it: the suggestion unless
    planning with it left the scan; then an index on each side of an OR no one index serves."""
    suggestion = group["suggestion"]
    if suggestion and suggestion["verified"] is not False:
        return f"suggested: `{suggestion['index']}`"
    sides = group.get("or_sides")
    if sides:
        each = ", ".join(f"({', '.join(columns)})" for columns in sides)
        return f"no one index serves the OR: an index on each side, {each}, or `.union()`"
    if suggestion:
        columns = ", ".join(suggestion["columns"])
        return f"no simple index fixes it: planned with ({columns}), the scan stays"
    return None


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# Where an output goes, and the option that named it (for the one-line error).
Target = tuple[Path, str]


def write_outputs(
    results: Results,
    json_report: Callable[[], dict[str, Any]],
    rootdir: Path,
    *,
    baseline: Target | None = None,
    report: Target | None = None,
    sarif: Target | None = None,
    step_summary: Target | None = None,
) -> tuple[list[str], list[str]]:
    """Every output asked for, each on its own: one that cannot be written is reported in one
    line and the others are still written. Returns (notes of what was written, errors)."""
    from pytest_indexguard import baseline as baseline_module
    from pytest_indexguard.sarif import sarif as sarif_document

    notes: list[str] = []
    errors: list[str] = []

    def attempt(target: Target | None, write: Callable[[Path, str], str]) -> None:
        if target is None:
            return
        try:
            notes.append(write(*target))
        except OutputError as exc:
            errors.append(str(exc))

    def write_baseline(path: Path, option: str) -> str:
        entries = results.new_baseline()
        planner = planned_on(results.settings)
        state = (
            "written"
            if baseline_module.write(path, entries, option=option, planned_on=planner)
            else "unchanged"
        )
        return f"baseline {state}: {path} ({count_of(len(entries), 'entry', 'entries')})"

    def write_report(path: Path, option: str) -> str:
        write_json(path, json_report(), option=option)
        return f"report written: {path}"

    def write_sarif(path: Path, option: str) -> str:
        write_json(path, sarif_document(results.grouped(), rootdir), option=option)
        return f"SARIF written: {path}"

    def write_step_summary(path: Path, option: str) -> str:
        append_text(path, results.markdown(), option=option)
        return f"GitHub step summary appended: {path}"

    attempt(baseline, write_baseline)
    attempt(report, write_report)
    attempt(sarif, write_sarif)
    attempt(step_summary, write_step_summary)
    return notes, errors
