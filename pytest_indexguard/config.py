"""Options, ini settings and their validation, resolved once into a frozen ``Settings``.

Precedence: a command-line option beats the ini setting of the same name. Every bad value is a
``pytest.UsageError`` that names the option and says what it accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol

import pytest

from pytest_indexguard.schema import ColumnShape

Mode = Literal["forced", "planner"]
MODES: tuple[Mode, ...] = ("forced", "planner")
Severity = Literal["fail", "warn"]


# Django's own tables that stay small in every install: filled at migrate time (content types,
# permissions, the default site, the migration history) or by an administrator (groups).
DJANGO_SMALL_TABLES = (
    "auth_group",
    "auth_permission",
    "django_content_type",
    "django_migrations",
    "django_site",
)


@dataclass(frozen=True)
class Settings:
    enabled: bool = False
    tables: frozenset[str] | None = None
    min_rows: int = 0
    # Declared sizes: rows and where the number came from.
    table_rows: Mapping[str, tuple[int, str]] = field(default_factory=lambda: MappingProxyType({}))
    coverage: bool = False
    cache_size: int = 10_000
    mode: Mode = "forced"
    verbose: int = 0
    baseline: Path | None = None
    update_baseline: bool = False
    fail_stale: bool = False
    report: Path | None = None
    sarif: Path | None = None
    # What a full scan for a predicate no index can serve does: fail the test, or only warn.
    unservable: Severity = "fail"
    # Production's column shapes by table and column (stats file, or declared distinct counts).
    columns: Mapping[str, Mapping[str, ColumnShape]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Statements test code sends straight through the ORM fail like the application's.
    check_test_code: bool = False
    # Tables presumed small while their size is not declared (Django's own that stay small).
    small_tables: frozenset[str] = frozenset()
    # Where statements of a test database that is not PostgreSQL are planned (shadow.py):
    # "postgresql" (an embedded server) or a server's URL; None: on the test database.
    plan_on: str | None = None


@dataclass(frozen=True)
class Option:
    """A command-line option, in the words both pytest's ``addoption`` and argparse's
    ``add_argument`` take: the pytest plugin and the Django test runner offer the same ones."""

    flag: str
    dest: str
    help: str
    action: str = "store"
    default: object = None
    metavar: str | None = None

    def arguments(self) -> dict[str, Any]:
        words: dict[str, Any] = {"action": self.action, "dest": self.dest, "help": self.help}
        if self.action != "store_false":
            words["default"] = self.default
        if self.metavar is not None:
            words["metavar"] = self.metavar
        return words


@dataclass(frozen=True)
class IniSetting:
    """A setting of the pytest configuration file (``INDEXGUARD["<key>"]`` in Django's
    settings for the Django test runner). Booleans are read as strings and parsed by
    ``resolve``, so that a bad value names its setting."""

    name: str
    help: str
    type: Literal["string", "linelist"] = "string"
    default: str = ""

    @property
    def key(self) -> str:
        """Its key in Django's ``INDEXGUARD`` setting: the name without the prefix."""
        return "enabled" if self.name == "indexguard" else self.name.removeprefix("indexguard_")

    def default_value(self) -> str | list[str]:
        return self.default.split() if self.type == "linelist" else self.default


OPTIONS: tuple[Option, ...] = (
    Option(
        "--indexguard",
        "indexguard",
        "EXPLAIN every SQL statement tests issue and fail tests that need a full table scan.",
        action="store_true",
    ),
    Option(
        "--no-indexguard",
        "indexguard",
        "Turn the guard off even when the ini file turns it on.",
        action="store_false",
    ),
    Option(
        "--indexguard-tables",
        "indexguard_tables",
        "Only watch these tables (comma-separated). Default: ini indexguard_tables, "
        "else every table.",
        metavar="TABLE[,TABLE...]",
    ),
    Option(
        "--indexguard-min-rows",
        "indexguard_min_rows",
        "Only fail for tables with at least N rows (declared size, else the test "
        "database's estimate). Default: ini indexguard_min_rows, else 0.",
        metavar="N",
    ),
    Option(
        "--indexguard-mode",
        "indexguard_mode",
        "'forced' (default): plan with sequential scans, hash and merge joins disabled, so a "
        "full scan that remains means no index can serve the statement. 'planner': use the "
        "planner's natural plan, for suites that load production-sized data.",
        metavar="MODE",
    ),
    Option(
        "--indexguard-unservable",
        "indexguard_unservable",
        "What a full scan for a predicate no index can serve as written (an OR across "
        "tables, <>, a leading wildcard) does: 'fail' the test (default) or 'warn' in the "
        "summary. Default: ini indexguard_unservable.",
        metavar="fail|warn",
    ),
    Option(
        "--indexguard-baseline",
        "indexguard_baseline",
        "JSON file of known violations: they are reported as known and do not fail tests; "
        "new ones do. Default: ini indexguard_baseline.",
        metavar="PATH",
    ),
    Option(
        "--indexguard-update-baseline",
        "indexguard_update_baseline",
        "Write the violations of this run to the baseline file (creating it), instead of "
        "failing tests for them.",
        action="store_true",
        default=False,
    ),
    Option(
        "--indexguard-fail-stale",
        "indexguard_fail_stale",
        "Fail the run when the baseline has entries nothing hit any more (for CI).",
        action="store_true",
    ),
    Option(
        "--indexguard-report",
        "indexguard_report",
        "Write a JSON report of every violation to PATH.",
        metavar="PATH",
    ),
    Option(
        "--indexguard-sarif",
        "indexguard_sarif",
        "Write the violations as SARIF 2.1.0 to PATH, for code-scanning tools.",
        metavar="PATH",
    ),
    Option(
        "--indexguard-stats",
        "indexguard_stats",
        "Table sizes written by `python -m pytest_indexguard stats` (production row "
        "counts), for --indexguard-min-rows. Default: ini indexguard_stats.",
        metavar="FILE",
    ),
    Option(
        "--indexguard-check-test-code",
        "indexguard_check_test_code",
        "Also fail tests for statements that test code (tests, fixtures, conftest, "
        "factories in test directories) sends straight through the ORM; by default they are "
        "reported apart and do not fail. Default: ini indexguard_check_test_code.",
        action="store_true",
    ),
    Option(
        "--indexguard-coverage",
        "indexguard_coverage",
        "At the end, list for each watched table the indexes plans used and the ones "
        "none used, and single-column indexes a composite index already covers.",
        action="store_true",
        default=False,
    ),
    Option(
        "--indexguard-plan-on",
        "indexguard_plan_on",
        "Judge the statements of a test database that is not PostgreSQL (SQLite, MySQL) by "
        "PostgreSQL's planner: 'postgresql' starts an embedded PostgreSQL (the [embedded] "
        "extra), a postgres:// URL names a server. Each ORM query is compiled for "
        "PostgreSQL and planned on a database with the project's schema and no rows; the "
        "tests still run on their own database. Default: ini indexguard_plan_on.",
        metavar="postgresql|URL",
    ),
    Option(
        "--indexguard-cache-size",
        "indexguard_cache_size",
        "Distinct statements whose plans are kept per database alias (default 10000); "
        "the oldest are dropped beyond it. Default: ini indexguard_cache_size.",
        metavar="N",
    ),
)

INI: tuple[IniSetting, ...] = (
    IniSetting("indexguard", "Turn the guard on.", default="false"),
    IniSetting(
        "indexguard_cache_size",
        "Distinct statements whose plans are kept per database alias (default 10000).",
        default="10000",
    ),
    IniSetting(
        "indexguard_stats", "Stats file of table sizes (relative to the ini file's directory)."
    ),
    IniSetting("indexguard_coverage", "Print the index coverage.", default="false"),
    IniSetting(
        "indexguard_check_test_code",
        "Fail tests for statements test code sends straight through the ORM too.",
        default="false",
    ),
    IniSetting(
        "indexguard_baseline",
        "Baseline file of known violations (relative to the ini file's directory).",
    ),
    IniSetting(
        "indexguard_fail_stale",
        "Fail the run when the baseline has entries nothing hit any more.",
        default="false",
    ),
    IniSetting(
        "indexguard_tables",
        "Tables to watch, one per line or comma-separated. Default: every table.",
        type="linelist",
    ),
    IniSetting(
        "indexguard_min_rows",
        "Only fail for tables with at least this many rows (default 0).",
        default="0",
    ),
    IniSetting(
        "indexguard_table_rows",
        "Declared table sizes, one 'table=rows' per line, e.g. production row counts.",
        type="linelist",
    ),
    IniSetting(
        "indexguard_unservable",
        "'fail' (default) or 'warn': what a full scan for a predicate no index can serve does.",
        default="fail",
    ),
    IniSetting(
        "indexguard_distinct",
        "Declared distinct counts, one 'table.column=N' per line (how many keys production "
        "has), for the sorted-range rule when no stats file is given.",
        type="linelist",
    ),
    IniSetting("indexguard_mode", "'forced' (default) or 'planner'.", default="forced"),
    IniSetting(
        "indexguard_plan_on",
        "'postgresql' or a postgres:// URL: judge a test database that is not PostgreSQL by "
        "PostgreSQL's planner (empty: by its own).",
    ),
    IniSetting(
        "indexguard_small_tables",
        "Tables presumed small while their size is not declared: their full scans are shown "
        "as 'small table' and do not fail, unless application code inserts into them. One per "
        "line or comma-separated; empty for none. Default: Django's own tables that stay "
        "small.",
        type="linelist",
        default=" ".join(DJANGO_SMALL_TABLES),
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("indexguard", "fail tests whose SQL needs a full table scan")
    for option in OPTIONS:
        group.addoption(option.flag, **option.arguments())
    for setting in INI:
        parser.addini(
            setting.name, setting.help, type=setting.type, default=setting.default_value()
        )


class OptionSource(Protocol):
    """What ``resolve`` reads: a pytest ``Config``, or the Django test runner's view of its
    command line and of Django's ``INDEXGUARD`` setting."""

    @property
    def inipath(self) -> Path | None: ...

    @property
    def rootpath(self) -> Path: ...

    def getoption(self, name: str) -> Any: ...

    def getini(self, name: str) -> Any: ...

    def get_verbosity(self) -> int: ...


def resolve(config: OptionSource) -> Settings:
    """Read and validate every option; raises ``pytest.UsageError`` on bad input."""
    cli_enabled = config.getoption("indexguard")
    # The ini value is checked even when the command line overrides it: a typo there is found
    # on the first run, not on the day someone runs without the flag.
    ini_enabled = parse_bool("indexguard", config.getini("indexguard"))
    enabled = ini_enabled if cli_enabled is None else bool(cli_enabled)

    cli_tables = config.getoption("indexguard_tables")
    tables: frozenset[str] | None
    if cli_tables is not None:
        tables = parse_tables("--indexguard-tables", [cli_tables])
    else:
        ini_tables = config.getini("indexguard_tables")
        tables = parse_tables("indexguard_tables", ini_tables) if ini_tables else None

    cli_min_rows = config.getoption("indexguard_min_rows")
    if cli_min_rows is not None:
        min_rows = parse_count("--indexguard-min-rows", cli_min_rows)
    else:
        min_rows = parse_count("indexguard_min_rows", config.getini("indexguard_min_rows"))

    cli_mode = config.getoption("indexguard_mode")
    if cli_mode is not None:
        mode = parse_mode("--indexguard-mode", cli_mode)
    else:
        mode = parse_mode("indexguard_mode", config.getini("indexguard_mode"))

    cli_unservable = config.getoption("indexguard_unservable")
    if cli_unservable is not None:
        unservable = parse_severity("--indexguard-unservable", cli_unservable)
    else:
        unservable = parse_severity("indexguard_unservable", config.getini("indexguard_unservable"))

    table_rows: dict[str, tuple[int, str]] = {}
    columns: dict[str, dict[str, ColumnShape]] = {}
    cli_stats = config.getoption("indexguard_stats")
    stats_path = cli_stats or config.getini("indexguard_stats")
    if stats_path:
        from pytest_indexguard import stats

        path = Path(str(stats_path)).expanduser()
        if not path.is_absolute() and not config.getoption("indexguard_stats"):
            path = (config.inipath.parent if config.inipath else config.rootpath) / path
        source = f"stats file {path.name}"
        option = "--indexguard-stats" if cli_stats else "indexguard_stats"
        for table, (rows, shapes) in stats.read(path, option=option).items():
            table_rows[table] = (rows, source)
            if shapes:
                columns[table] = dict(shapes)
    # Hand-written sizes beat the stats file: they are the more deliberate statement.
    declared = parse_table_rows("indexguard_table_rows", config.getini("indexguard_table_rows"))
    table_rows.update((t, (rows, "indexguard_table_rows")) for t, rows in declared.items())
    for (table, column), count in parse_distinct(
        "indexguard_distinct", config.getini("indexguard_distinct")
    ).items():
        columns.setdefault(table, {})[column] = ColumnShape(n_distinct=float(count))

    baseline: Path | None = None
    cli_baseline = config.getoption("indexguard_baseline")
    if cli_baseline:
        baseline = Path(cli_baseline).expanduser().absolute()
    elif config.getini("indexguard_baseline"):
        base = config.inipath.parent if config.inipath else config.rootpath
        baseline = (base / str(config.getini("indexguard_baseline"))).absolute()
    update = bool(config.getoption("indexguard_update_baseline"))
    if update and baseline is None:
        raise pytest.UsageError(
            "--indexguard-update-baseline: needs --indexguard-baseline=PATH (or the ini "
            "indexguard_baseline) to say which file to write"
        )
    if update and baseline is not None and not baseline.parent.is_dir():
        raise pytest.UsageError(
            f"--indexguard-update-baseline: the directory of {str(baseline)!r} does not exist "
            f"({baseline.parent})"
        )
    cli_fail_stale = config.getoption("indexguard_fail_stale")
    ini_fail_stale = parse_bool("indexguard_fail_stale", config.getini("indexguard_fail_stale"))
    fail_stale = ini_fail_stale if cli_fail_stale is None else True
    cli_test_code = config.getoption("indexguard_check_test_code")
    ini_test_code = parse_bool(
        "indexguard_check_test_code", config.getini("indexguard_check_test_code")
    )
    check_test_code = ini_test_code if cli_test_code is None else True
    small_tables = frozenset(
        name.strip()
        for line in config.getini("indexguard_small_tables")
        for name in str(line).split(",")
        if name.strip()
    )
    return Settings(
        plan_on=_plan_on(config, enabled),
        small_tables=small_tables,
        enabled=enabled,
        tables=tables,
        min_rows=min_rows,
        table_rows=MappingProxyType(table_rows),
        mode=mode,
        verbose=config.get_verbosity(),
        baseline=baseline,
        update_baseline=update,
        fail_stale=fail_stale,
        check_test_code=check_test_code,
        cache_size=_cache_size(config),
        coverage=bool(config.getoption("indexguard_coverage"))
        or parse_bool("indexguard_coverage", config.getini("indexguard_coverage")),
        report=output_path("--indexguard-report", config.getoption("indexguard_report")),
        sarif=output_path("--indexguard-sarif", config.getoption("indexguard_sarif")),
        unservable=unservable,
        columns=MappingProxyType(columns),
    )


def _plan_on(config: OptionSource, enabled: bool) -> str | None:
    """The value is checked even with the guard off, as the others are; the driver it needs
    only when the guard is on."""
    from pytest_indexguard import shadow

    cli = config.getoption("indexguard_plan_on")
    option, value = (
        ("--indexguard-plan-on", cli)
        if cli is not None
        else ("indexguard_plan_on", config.getini("indexguard_plan_on"))
    )
    target = shadow.parse_target(option, value)
    if target is None or not enabled:
        return None
    shadow.check_driver(option)
    return target


def _cache_size(config: OptionSource) -> int:
    cli = config.getoption("indexguard_cache_size")
    option, value = (
        ("--indexguard-cache-size", cli)
        if cli is not None
        else ("indexguard_cache_size", config.getini("indexguard_cache_size"))
    )
    return parse_count(option, value, unit="statements", minimum=1)


def output_path(option: str, value: str | None) -> Path | None:
    """A file the run will write at the end: its directory must exist now, not after an hour
    of tests."""
    if not value:
        return None
    path = Path(value).expanduser().absolute()
    if path.is_dir():
        raise pytest.UsageError(f"{option}: expected a file path, got the directory {value!r}")
    if not path.parent.is_dir():
        raise pytest.UsageError(
            f"{option}: the directory of {value!r} does not exist ({path.parent})"
        )
    return path


def parse_tables(option: str, values: Iterable[str]) -> frozenset[str]:
    tables = {name.strip() for value in values for name in value.split(",") if name.strip()}
    if not tables:
        raise pytest.UsageError(
            f"{option}: expected one or more table names separated by commas, got nothing"
        )
    return frozenset(tables)


def parse_count(option: str, value: object, *, unit: str = "rows", minimum: int = 0) -> int:
    text = str(value).strip().replace("_", "")
    if not text.isdigit() or int(text) < minimum:
        raise pytest.UsageError(
            f"{option}: expected a whole number of {unit} >= {minimum}, got {value!r}"
        )
    return int(text)


def parse_mode(option: str, value: object) -> Mode:
    text = str(value).strip().lower()
    for mode in MODES:
        if text == mode:
            return mode
    raise pytest.UsageError(f"{option}: expected 'forced' or 'planner', got {value!r}")


def parse_distinct(option: str, lines: Iterable[str]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for line in lines:
        for entry in line.split(","):
            if not entry.strip():
                continue
            name, sep, count = entry.partition("=")
            table, dot, column = name.strip().rpartition(".")
            if not sep or not dot or not table or not column:
                raise pytest.UsageError(
                    f"{option}: expected entries of the form table.column=N (N a whole number "
                    f">= 1), got {entry.strip()!r}"
                )
            found[(table, column)] = parse_count(
                f"{option} ({name.strip()})", count, unit="distinct values", minimum=1
            )
    return found


_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def parse_bool(option: str, value: object) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise pytest.UsageError(f"{option}: expected true or false, got {value!r}")


def parse_severity(option: str, value: object) -> Severity:
    text = str(value).strip().lower()
    if text == "fail":
        return "fail"
    if text == "warn":
        return "warn"
    raise pytest.UsageError(f"{option}: expected 'fail' or 'warn', got {value!r}")


def parse_table_rows(option: str, lines: Iterable[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for line in lines:
        # A comment after the entries: `orders=2000000  # production, 2026-12`.
        for entry in str(line).split("#", 1)[0].split(","):
            if not entry.strip():
                continue
            table, sep, rows = entry.partition("=")
            if not sep or not table.strip():
                raise pytest.UsageError(
                    f"{option}: expected entries of the form table=rows "
                    f"(rows a whole number >= 0), got {entry.strip()!r}"
                )
            sizes[table.strip()] = parse_count(f"{option} ({table.strip()})", rows)
    return sizes
