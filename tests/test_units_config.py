"""Options, ini settings and their precedence, in process: ``pytester.parseconfig`` reads a
command line and an ini file as pytest does, and the plugin's own ``pytest_configure`` (or
``config.resolve`` for what it resolves) takes it from there. No inner pytest run: what these
check is decided before a session starts. That a ``pytest.UsageError`` raised there stops a run
with one ``ERROR:`` line and no traceback is checked end to end in ``test_bad_input.py``, and
that the resolved settings drive the guard by the inner runs of ``test_precedence.py``,
``test_detection.py``, the inner project's ini (``indexguard_check_test_code``, conftest.py) and
the sample app's (``indexguard = true``, its tables, stats file and min-rows in its ini)."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_indexguard import plugin
from pytest_indexguard.config import Settings, resolve
from pytest_indexguard.report import header_line

Parse = Callable[..., pytest.Config]


@pytest.fixture
def parse(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Parse:
    """A config from a command line and the lines of a ``[pytest]`` ini section, with this
    plugin only (no other plugin of the environment: pytest-django would set Django up)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def parse(*args: str, ini: str = "") -> pytest.Config:
        pytester.makeini("[pytest]\n" + ini)
        return pytester.parseconfig("-p", "pytest_indexguard.plugin", *args)

    return parse


def settings(parse: Parse, *args: str, ini: str = "") -> Settings:
    return resolve(parse(*args, ini=ini))


# -- bad input: one line that names the option and what it accepts ------------------------------


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--indexguard-mode=fast"],
            "",
            "--indexguard-mode: expected 'forced' or 'planner', got 'fast'",
        ),
        (
            [],
            "indexguard_mode = natural",
            "indexguard_mode: expected 'forced' or 'planner', got 'natural'",
        ),
        ([], "indexguard = maybe", "indexguard: expected true or false, got 'maybe'"),
        (
            [],
            "indexguard_fail_stale = sometimes",
            "indexguard_fail_stale: expected true or false, got 'sometimes'",
        ),
        ([], "indexguard_stats = missing-stats.json", "indexguard_stats: no such file"),
        (
            ["--indexguard-unservable=sometimes"],
            "",
            "--indexguard-unservable: expected 'fail' or 'warn', got 'sometimes'",
        ),
        (
            [],
            "indexguard_distinct =\n    shop_customer=3",
            "indexguard_distinct: expected entries of the form table.column=N",
        ),
        (
            ["--indexguard-min-rows=-5"],
            "",
            "--indexguard-min-rows: expected a whole number of rows >= 0, got '-5'",
        ),
        (
            ["--indexguard-min-rows=many"],
            "",
            "--indexguard-min-rows: expected a whole number of rows >= 0, got 'many'",
        ),
        (
            [],
            "indexguard_min_rows = 1e6",
            "indexguard_min_rows: expected a whole number of rows >= 0, got '1e6'",
        ),
        (
            [],
            "indexguard_table_rows =\n    shop_customer",
            "indexguard_table_rows: expected entries of the form table=rows "
            "(rows a whole number >= 0), got 'shop_customer'",
        ),
        (
            [],
            "indexguard_table_rows =\n    shop_customer=lots",
            "indexguard_table_rows (shop_customer): expected a whole number of rows >= 0, "
            "got 'lots'",
        ),
        (
            ["--indexguard-cache-size=0"],
            "",
            "--indexguard-cache-size: expected a whole number of statements >= 1, got '0'",
        ),
        (
            [],
            "indexguard_cache_size = lots",
            "indexguard_cache_size: expected a whole number of statements >= 1, got 'lots'",
        ),
        (
            ["--indexguard-tables=,"],
            "",
            "--indexguard-tables: expected one or more table names separated by commas, "
            "got nothing",
        ),
        (
            ["--indexguard-update-baseline"],
            "",
            "--indexguard-update-baseline: needs --indexguard-baseline=PATH (or the ini "
            "indexguard_baseline) to say which file to write",
        ),
    ],
)
def test_bad_option(parse: Parse, args: list[str], ini: str, message: str) -> None:
    config = parse("--indexguard", *args, ini=ini)
    with pytest.raises(pytest.UsageError) as caught:
        plugin.pytest_configure(config)
    assert str(caught.value).startswith(message), caught.value
    assert "\n" not in str(caught.value)


def test_a_bad_ini_value_is_found_when_the_command_line_overrides_it(parse: Parse) -> None:
    """A typo in the ini file shows on the first run, not on the day someone runs without the
    flag that overrides it."""
    with pytest.raises(pytest.UsageError, match="indexguard: expected true or false"):
        settings(parse, "--no-indexguard", ini="indexguard = maybe")


def test_an_output_directory_must_exist(parse: Parse, tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "report.json"
    with pytest.raises(pytest.UsageError) as caught:
        settings(parse, f"--indexguard-report={missing}")
    assert str(caught.value) == (
        f"--indexguard-report: the directory of {str(missing)!r} does not exist ({missing.parent})"
    )
    with pytest.raises(pytest.UsageError, match="expected a file path, got the directory"):
        settings(parse, f"--indexguard-sarif={tmp_path}")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            None,
            "--indexguard-stats: no such file {path!r}; write it with "
            "`python -m pytest_indexguard stats --database-url URL --output FILE`",
        ),
        (
            "[]",
            """--indexguard-stats: {path!r} is not an indexguard stats file: expected an object """
            """with "format": "pytest-indexguard stats\"""",
        ),
        (
            '{"format": "pytest-indexguard stats", "version": 1, "tables": {"t": {"rows": -1}}}',
            """--indexguard-stats: {path!r} is not an indexguard stats file: table 't': "rows" """
            """must be a whole number >= 0""",
        ),
    ],
    ids=["missing", "wrong-format", "bad-rows"],
)
def test_bad_stats_file(parse: Parse, tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "stats.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(pytest.UsageError) as caught:
        settings(parse, "--indexguard", f"--indexguard-stats={path}")
    assert str(caught.value).startswith(message.format(path=str(path))), caught.value


@pytest.mark.parametrize(
    ("content", "update", "message"),
    [
        (None, False, "no such file {path!r}; record one with --indexguard-update-baseline"),
        (
            b"{not json",
            False,
            "{path!r} is not valid JSON (line 1: Expecting property name enclosed in double",
        ),
        (
            b'{"format": "other"}',
            False,
            '{path!r} is not an indexguard baseline: expected an object with "format"',
        ),
        (
            b'{"format": "pytest-indexguard baseline", "version": 99, "violations": []}',
            False,
            "unsupported version 99 (this plugin reads 1)",
        ),
        (
            b'{"format": "pytest-indexguard baseline", "version": 1, "violations": [{"x": 1}]}',
            False,
            'entry 1: "fingerprint" must be a non-empty string',
        ),
        (
            codecs.BOM_UTF16_LE + '{"format": "pytest-indexguard baseline"}'.encode("utf-16-le"),
            True,
            "cannot use {path!r}: it is UTF-16 encoded",
        ),
        (
            b'{"format": "pytest-indexguard baseline", "version": 1, "violations": ["\xff"]}',
            True,
            "cannot use {path!r}: it is not UTF-8 text (byte 0xff at offset 71)",
        ),
    ],
    ids=["missing", "not-json", "wrong-format", "wrong-version", "bad-entry", "utf16", "not-utf8"],
)
def test_bad_baseline_file(
    parse: Parse, tmp_path: Path, content: bytes | None, update: bool, message: str
) -> None:
    """The baseline is read when the session is configured (``--indexguard-update-baseline``
    reads it too: it keeps the entries of tests that do not run)."""
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_bytes(content)
    config = parse(
        "--indexguard",
        f"--indexguard-baseline={path}",
        *(["--indexguard-update-baseline"] if update else []),
    )
    with pytest.raises(pytest.UsageError) as caught:
        plugin.pytest_configure(config)
    error = str(caught.value)
    assert error.startswith("--indexguard-baseline: "), error
    assert message.format(path=str(path)) in error, error
    assert "\n" not in error


# -- precedence: a command-line option beats the ini setting of the same name -------------------


def test_off_by_default_on_from_the_ini_off_from_the_command_line(parse: Parse) -> None:
    assert not settings(parse).enabled
    assert settings(parse, "--indexguard").enabled
    assert settings(parse, ini="indexguard = true").enabled
    assert not settings(parse, "--no-indexguard", ini="indexguard = true").enabled


def test_only_an_enabled_guard_registers_its_hooks(parse: Parse) -> None:
    off = parse("--no-indexguard", ini="indexguard = true")
    plugin.pytest_configure(off)
    assert not off.pluginmanager.has_plugin("indexguard-session")
    assert plugin.session_key not in off.stash


def test_cli_tables_beat_ini_tables(parse: Parse) -> None:
    ini = "indexguard = true\nindexguard_tables =\n    shop_customer"
    from_ini = settings(parse, ini=ini)
    assert from_ini.tables == {"shop_customer"}
    assert header_line(from_ini) == "indexguard: on, mode forced, watching 1 table: shop_customer"
    from_cli = settings(parse, "--indexguard-tables=shop_order, shop_invoice", ini=ini)
    assert from_cli.tables == {"shop_order", "shop_invoice"}
    assert header_line(from_cli) == (
        "indexguard: on, mode forced, watching 2 tables: shop_invoice, shop_order"
    )
    # One per line or comma-separated in the ini; every table when none is named.
    assert settings(parse, ini="indexguard_tables =\n    a, b\n    c").tables == {"a", "b", "c"}
    every = settings(parse, "--indexguard")
    assert every.tables is None
    assert header_line(every) == "indexguard: on, mode forced, watching every table"


def test_cli_min_rows_beats_ini(parse: Parse) -> None:
    ini = "indexguard = true\nindexguard_min_rows = 1000"
    assert settings(parse, ini=ini).min_rows == 1000
    assert settings(parse, "--indexguard-min-rows=0", ini=ini).min_rows == 0
    assert settings(parse, "--indexguard-min-rows=1_000").min_rows == 1000


def test_mode_from_ini_and_cli(parse: Parse) -> None:
    assert settings(parse).mode == "forced"
    ini = "indexguard = true\nindexguard_mode = planner"
    planner = settings(parse, ini=ini)
    assert planner.mode == "planner"
    assert header_line(planner).startswith("indexguard: on, mode planner")
    forced = settings(parse, "--indexguard-mode=forced", ini=ini)
    assert forced.mode == "forced"
    assert header_line(forced).startswith("indexguard: on, mode forced")
    assert settings(parse, "--indexguard-mode=PLANNER").mode == "planner"


def test_unservable_cache_size_and_test_code_from_ini_and_cli(parse: Parse) -> None:
    ini = (
        "indexguard_unservable = warn\nindexguard_cache_size = 50\n"
        "indexguard_check_test_code = true"
    )
    from_ini = settings(parse, ini=ini)
    assert (from_ini.unservable, from_ini.cache_size, from_ini.check_test_code) == (
        "warn",
        50,
        True,
    )
    from_cli = settings(parse, "--indexguard-unservable=fail", "--indexguard-cache-size=7", ini=ini)
    assert (from_cli.unservable, from_cli.cache_size) == ("fail", 7)
    assert settings(parse, "--indexguard-check-test-code").check_test_code
    assert not settings(parse).check_test_code
    assert header_line(from_ini) == (
        "indexguard: on, mode forced, watching every table, test code checked"
    )


def test_declared_sizes_beat_the_stats_file(parse: Parse, tmp_path: Path) -> None:
    stats = tmp_path / "production-stats.json"
    stats.write_text(
        '{"format": "pytest-indexguard stats", "version": 1, "tables": '
        '{"shop_customer": {"rows": 60000}, "shop_order": {"rows": 40}}}'
    )
    resolved = settings(
        parse,
        f"--indexguard-stats={stats}",
        ini="indexguard_table_rows =\n    shop_customer=10, shop_invoice=2_500",
    )
    assert dict(resolved.table_rows) == {
        "shop_customer": (10, "indexguard_table_rows"),
        "shop_order": (40, "stats file production-stats.json"),
        "shop_invoice": (2500, "indexguard_table_rows"),
    }


def test_ini_paths_are_relative_to_the_ini_file(parse: Parse, pytester: pytest.Pytester) -> None:
    (pytester.path / "sizes.json").write_text(
        '{"format": "pytest-indexguard stats", "version": 1, "tables": {"t": {"rows": 5}}}'
    )
    resolved = settings(
        parse, ini="indexguard_stats = sizes.json\nindexguard_baseline = ci/baseline.json"
    )
    assert dict(resolved.table_rows) == {"t": (5, "stats file sizes.json")}
    assert resolved.baseline == pytester.path / "ci" / "baseline.json"
    cli = settings(parse, "--indexguard-baseline=other.json", ini="indexguard_baseline = x.json")
    assert cli.baseline == Path("other.json").absolute()


def test_fail_stale_and_update_baseline(parse: Parse, tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    assert not settings(parse, f"--indexguard-baseline={path}").fail_stale
    assert settings(parse, ini="indexguard_fail_stale = yes").fail_stale
    assert settings(parse, "--indexguard-fail-stale").fail_stale
    update = settings(parse, f"--indexguard-baseline={path}", "--indexguard-update-baseline")
    assert (update.baseline, update.update_baseline) == (path, True)


def test_min_rows_without_declared_sizes_warns_in_the_header(parse: Parse) -> None:
    line = header_line(settings(parse, "--indexguard", "--indexguard-min-rows=1000"))
    first, warning = line.split("\n")
    assert first == "indexguard: on, mode forced, watching every table, min-rows 1,000"
    assert warning.startswith("indexguard: min-rows compares with the test database's own row")
    declared = settings(parse, "--indexguard-min-rows=1000", ini="indexguard_table_rows =\n    t=5")
    assert "\n" not in header_line(declared)
    assert header_line(settings(parse, "--indexguard-check-test-code")).endswith(
        ", test code checked"
    )
