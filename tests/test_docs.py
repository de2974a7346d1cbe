"""The documentation keeps up with the code: the generated options reference names every option
and ini setting the plugin registers (as pytest's own parser sees them), the README stays a
front page, and every page of ``docs/`` is reachable from the table of contents.

The full build (``sphinx-build -W``, which also fails on broken links and references) runs in
``.ci/run``; these checks are the fast part of it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
DOCS = REPO / "docs"
README = REPO / "README.md"


@pytest.fixture(scope="module")
def generator() -> Iterator[object]:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import indexguard_docs

        yield indexguard_docs
    finally:
        sys.path.remove(str(DOCS / "_ext"))


@pytest.fixture(scope="module")
def registered() -> tuple[set[str], set[str]]:
    """The command-line options and ini settings of the plugin, as pytest's real parser has
    them after the plugin's ``pytest_addoption``: its option group and its ini names."""
    from pytest_indexguard import plugin

    parser = pytest.Parser(_ispytest=True)
    plugin.pytest_addoption(parser)
    flags = {
        name
        for group in parser._groups
        for option in group.options
        for name in option.names()
        if name.startswith("--")
    }
    flags.update(name for option in parser._anonymous.options for name in option.names())
    return flags, set(parser._inidict)


def test_the_parser_sees_the_plugins_options(registered: tuple[set[str], set[str]]) -> None:
    flags, ini = registered
    assert "--indexguard-baseline" in flags
    assert "indexguard_table_rows" in ini


def test_pytest_help_lists_what_the_parser_has(
    pytester: pytest.Pytester, registered: tuple[set[str], set[str]]
) -> None:
    """What ``pytest --help`` shows users is what the parser was asked for: nothing registered
    elsewhere that the check below would miss."""
    result = pytester.runpytest_inprocess("--help", "-p", "no:cacheprovider")
    text = "\n".join(result.outlines)
    shown_flags = set(re.findall(r"(?<![\w-])(--(?:no-)?indexguard[a-z-]*)", text))
    shown_ini = set(re.findall(r"^\s+(indexguard\w*) \(", text, re.MULTILINE))
    flags, ini = registered
    assert shown_flags == flags
    assert shown_ini == ini


def test_the_options_reference_names_every_option(
    generator: object, registered: tuple[set[str], set[str]]
) -> None:
    flags, _ = registered
    reference = generator.options_reference()  # type: ignore[attr-defined]
    table = generator.settings_table()  # type: ignore[attr-defined]
    documented = set(re.findall(r"^:::\{option\} (--[a-z-]+)", reference, re.MULTILINE))
    assert documented == flags
    assert set(re.findall(r"\{option\}`(--[a-z-]+)`", table)) >= flags


def test_the_ini_reference_names_every_setting(
    generator: object, registered: tuple[set[str], set[str]]
) -> None:
    _, ini = registered
    reference = generator.ini_reference()  # type: ignore[attr-defined]
    table = generator.settings_table()  # type: ignore[attr-defined]
    documented = set(re.findall(r"^:::\{confval\} (\w+)", reference, re.MULTILINE))
    assert documented == ini
    assert set(re.findall(r"\{confval\}`(\w+)`", table)) >= ini


def test_the_rules_table_names_every_rule(generator: object) -> None:
    from pytest_indexguard.model import Rule
    from pytest_indexguard.sarif import RULES

    table = generator.rules_table()  # type: ignore[attr-defined]
    for rule in Rule:
        assert f"| `{rule.value}` | `{RULES[rule.value][0]}`" in table


@pytest.mark.parametrize("command", ["merge", "stats"])
def test_the_command_references_name_every_option(generator: object, command: str) -> None:
    from pytest_indexguard.__main__ import build_parser

    reference = generator.command_reference(command)  # type: ignore[attr-defined]
    parser = build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    for action in subparser._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f":::{{option}} {flag}" in reference or f", {flag}" in reference


def test_the_readme_is_a_front_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    # The two commands a newcomer runs, exactly (.ci/run runs them too).
    assert '\npip install -e ".[dev]"\npytest\n' in text
    assert "## How it decides" in text
    assert "](docs/how-it-decides.md)" in text


def test_the_readmes_links_into_the_docs_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#]*)(?:#[^)]*)?\)", text)
    assert links
    for link in links:
        assert (REPO / link).exists(), link
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")} - {"docs/index.md"}
    assert pages - set(links) <= {"docs/changelog.md"}, "pages the README does not link"


def _toctree_entries(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    entries = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", text, re.DOTALL):
        entries += [
            line.strip()
            for line in block.splitlines()
            if line.strip() and not line.strip().startswith(":")
        ]
    return entries


def test_every_page_is_in_the_table_of_contents() -> None:
    reached = {"index"}
    todo = ["index"]
    while todo:
        for entry in _toctree_entries(DOCS / f"{todo.pop()}.md"):
            if entry not in reached:
                assert (DOCS / f"{entry}.md").exists(), f"toctree entry {entry} has no page"
                reached.add(entry)
                todo.append(entry)
    pages = {page.stem for page in DOCS.glob("*.md")}
    assert pages == reached


def test_how_it_decides_keeps_its_heading() -> None:
    """Other documents link to it by name."""
    assert (DOCS / "how-it-decides.md").read_text(encoding="utf-8").startswith("# How it decides\n")
