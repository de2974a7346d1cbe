"""Reference pages generated from the code that defines them, so that they cannot drift.

- ``{indexguard-settings-table}``: every option and ini setting, side by side, with defaults;
- ``{indexguard-options}``: one ``option`` entry per command-line option
  (``pytest_indexguard.config.OPTIONS``, registered by the plugin's ``pytest_addoption`` and
  offered by the Django test runner too);
- ``{indexguard-ini}``: one ``confval`` entry per ini setting (``config.INI``), with its key in
  Django's ``INDEXGUARD`` setting;
- ``{indexguard-rules}``: the rules (``model.Rule``), with their SARIF ids and the words of the
  failure message (``report.RULES``, ``sarif.RULES``);
- ``{indexguard-command} NAME``: the options of ``python -m pytest_indexguard NAME``
  (``__main__.build_parser``).

Each renders MyST Markdown, parsed in place. The rendering functions are plain functions so
that ``tests/test_docs.py`` can check what they produce against pytest's real parser.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from pytest_indexguard import __main__ as commands
from pytest_indexguard import config, model, report, sarif

SOURCES = (config.__file__, model.__file__, report.__file__, sarif.__file__, commands.__file__)


def _ini_by_name() -> dict[str, config.IniSetting]:
    return {setting.name: setting for setting in config.INI}


def _flags() -> set[str]:
    return {option.flag for option in config.OPTIONS}


def _linked(text: str, *, references: bool = True) -> str:
    """Help text as Markdown, with the options and ini settings it names as references (a
    reference to nothing fails the build, with ``nitpicky``), or as code."""
    flags, ini = (_flags(), _ini_by_name()) if references else (set(), {})
    parts = re.split(r"(`[^`]*`)", text)  # leave code spans alone
    for index, part in enumerate(parts):
        if part.startswith("`"):
            continue
        escaped = re.sub(r"([<>*|\[\]])", r"\\\1", part)
        escaped = re.sub(
            r"(?<![\w-])--[a-z][a-z-]*",
            lambda m: f"{{option}}`{m.group(0)}`" if m.group(0) in flags else f"`{m.group(0)}`",
            escaped,
        )
        parts[index] = re.sub(
            r"(?<![\w`])indexguard_[a-z_]+",
            lambda m: f"{{confval}}`{m.group(0)}`" if m.group(0) in ini else m.group(0),
            escaped,
        )
    return "".join(parts)


def _ini_default(setting: config.IniSetting) -> str:
    value = setting.default_value()
    return f"`{value}`" if value else "none"


def _option_default(option: config.Option) -> str:
    if option.action in ("store_true", "store_false"):
        return "off"
    return "none" if option.default is None else f"`{option.default}`"


def _ini_type(setting: config.IniSetting) -> str:
    if setting.type == "linelist":
        return "one entry per line (or comma-separated)"
    if setting.default in ("true", "false"):
        return "true or false"
    if setting.default.isdigit():
        return "a whole number"
    return "text"


def _django_key(setting: config.IniSetting) -> str:
    return f'`INDEXGUARD["{setting.key}"]`'


def settings_table() -> str:
    """One row per setting: its command-line options, its ini name, its key for Django's test
    runner and its default (the ini default, which applies when the command line is silent)."""
    ini = _ini_by_name()
    rows: dict[str, tuple[list[str], config.IniSetting | None, config.Option]] = {}
    for option in config.OPTIONS:
        flags, _, first = rows.setdefault(option.dest, ([], ini.get(option.dest), option))
        flags.append(option.flag)
    lines = [
        "| command line | ini setting | Django's `INDEXGUARD` | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for flags, setting, first in rows.values():
        cli = " / ".join(f"{{option}}`{flag}`" for flag in flags)
        if setting is None:
            lines.append(f"| {cli} | | | {_option_default(first)} | {_linked(first.help)} |")
        else:
            lines.append(
                f"| {cli} | {{confval}}`{setting.name}` | {_django_key(setting)} "
                f"| {_ini_default(setting)} | {_linked(setting.help)} |"
            )
    for setting in config.INI:
        if setting.name not in rows:
            lines.append(
                f"| | {{confval}}`{setting.name}` | {_django_key(setting)} "
                f"| {_ini_default(setting)} | {_linked(setting.help)} |"
            )
    return "\n".join(lines)


def options_reference() -> str:
    """An ``option`` entry per command-line option, in the order pytest's ``--help`` lists
    them."""
    ini = _ini_by_name()
    blocks = []
    for option in config.OPTIONS:
        signature = option.flag + (f"={option.metavar}" if option.metavar else "")
        body = [_linked(option.help), ""]
        setting = ini.get(option.dest)
        if setting is not None:
            body.append(f"In the ini file: {{confval}}`{setting.name}`.")
        elif option.action == "store_true":
            body.append("Command line only. A flag: off unless given.")
        else:
            body.append("Command line only.")
        blocks.append("\n".join([f":::{{option}} {signature}", *body, ":::"]))
    return "\n\n".join(blocks)


def ini_reference() -> str:
    """A ``confval`` entry per ini setting, with its default and its key for Django's runner."""
    flags: dict[str, list[str]] = {}
    for option in config.OPTIONS:
        flags.setdefault(option.dest, []).append(option.flag)
    blocks = []
    for setting in config.INI:
        body = [
            f":type: {_ini_type(setting)}",
            f":default: {_ini_default(setting)}",
            "",
            _linked(setting.help),
            "",
            f"Django's test runner: {_django_key(setting)}.",
        ]
        given = flags.get(setting.name)
        if given:
            options = ", ".join(f"{{option}}`{flag}`" for flag in given)
            body.append(f"On the command line: {options} (the command line wins).")
        else:
            body.append("No command-line option.")
        blocks.append("\n".join([f":::{{confval}} {setting.name}", *body, ":::"]))
    return "\n\n".join(blocks)


def rules_table() -> str:
    """The rules a full scan is judged by, as the reports, SARIF and the failure message name
    them."""
    lines = [
        "| rule (`rule` in reports) | SARIF rule | the failure message says the table ... |",
        "|---|---|---|",
    ]
    for rule in model.Rule:
        if rule not in report.RULES or rule.value not in sarif.RULES:
            raise ExtensionError(f"indexguard-rules: rule {rule.value!r} has no description")
        rule_id, name, description = sarif.RULES[rule.value]
        lines.append(
            f"| `{rule.value}` | `{rule_id}` `{name}`: {_linked(description)} "
            f"| {_linked(report.RULES[rule])} |"
        )
    return "\n".join(lines)


def command_reference(name: str) -> str:
    """The arguments of ``python -m pytest_indexguard NAME``."""
    parser = commands.build_parser()
    subparsers = next(
        action
        for action in parser._actions  # argparse offers no public way to its sub-commands
        if isinstance(action, argparse._SubParsersAction)
    )
    command = subparsers.choices.get(name)
    if command is None:
        raise ExtensionError(f"indexguard-command: no command {name!r}")
    program = f"{parser.prog} {name}"
    blocks = [
        f"```console\n{command.format_usage().removeprefix('usage: ').strip()}\n```",
        _linked(command.description or ""),
        # The entries below are this program's options (``--report`` of merge, not pytest's).
        f"```{{program}} {program}\n```",
    ]
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        metavar = action.metavar or (action.dest.upper() if action.nargs != 0 else None)
        if action.option_strings:
            signature = ", ".join(
                f"{flag}={metavar}" if metavar and action.nargs != 0 else flag
                for flag in action.option_strings
            )
            if action.nargs == "?":
                signature = ", ".join(f"{flag}[={metavar}]" for flag in action.option_strings)
        else:
            signature = str(metavar)
        help_text = _linked(action.help or "", references=False)
        if action.required and action.option_strings:
            help_text += " Required."
        blocks.append(f":::{{option}} {signature}\n{help_text}\n:::")
    blocks.append("```{program} None\n```")  # back to pytest's options for the rest of the page
    return "\n\n".join(blocks)


class _Generated(SphinxDirective):
    """Renders generated MyST Markdown in place."""

    optional_arguments = 1

    def markdown(self) -> str:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        for source in SOURCES:
            self.env.note_dependency(source)
        text = self.markdown()
        container = nodes.container()
        self.state.nested_parse(
            StringList(text.splitlines(), source=f"<{self.name}>"), self.content_offset, container
        )
        return list(container.children)


class SettingsTable(_Generated):
    def markdown(self) -> str:
        return settings_table()


class Options(_Generated):
    def markdown(self) -> str:
        return options_reference()


class Ini(_Generated):
    def markdown(self) -> str:
        return ini_reference()


class Rules(_Generated):
    def markdown(self) -> str:
        return rules_table()


class Command(_Generated):
    required_arguments = 1
    optional_arguments = 0

    def markdown(self) -> str:
        return command_reference(self.arguments[0])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("indexguard-settings-table", SettingsTable)
    app.add_directive("indexguard-options", Options)
    app.add_directive("indexguard-ini", Ini)
    app.add_directive("indexguard-rules", Rules)
    app.add_directive("indexguard-command", Command)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
