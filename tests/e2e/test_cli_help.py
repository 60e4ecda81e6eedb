"""The command explains itself: every subcommand, nested ones too, and every option has help; defaults show;
`--version` answers; a reading command on an empty folder creates nothing and says where it looked."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib import metadata

import pytest

from madoguchi.server.cli.main import build_parser
from madoguchi.server.storage.accounts import Role


def madoguchi(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env={**os.environ, "COLUMNS": "200"})


def subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser, help text given in the parent's list) for every command below ``parser``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), child, helps.get(name)
                yield from subcommands(child, (*path, name))


COMMANDS = list(subcommands(build_parser()))


def test_the_walk_sees_the_nested_commands():
    paths = {" ".join(path) for path, _, _ in COMMANDS}
    assert {"serve", "demo", "user list", "user add", "device add", "hardware print-test", "hardware card-test",
            "export", "backup", "check-config", "simulate", "virtual-printer"} <= paths


@pytest.mark.parametrize("path, parser, listed_help", COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS])
def test_every_subcommand_and_option_has_help_and_shows_its_defaults(path, parser, listed_help):
    assert listed_help, f"`madoguchi {' '.join(path[:-1])} --help` lists {path[-1]!r} without a line of help"
    shown = madoguchi(*path, "--help")
    assert shown.returncode == 0 and shown.stdout.startswith("usage: madoguchi " + " ".join(path)), shown.stderr
    printed = " ".join(shown.stdout.split())
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue  # an option hidden on purpose (help=SUPPRESS) is not listed, so it needs no help
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"madoguchi {' '.join(path)}: {name} has no help"
        text = " ".join(parser._get_formatter()._expand_help(action).split())
        assert text in printed, f"madoguchi {' '.join(path)} --help does not print the help of {name}"
        if action.default not in (None, False, argparse.SUPPRESS) and not action.required:
            assert "default" in text.lower(), f"madoguchi {' '.join(path)}: {name} hides its default"


def test_defaults_are_shown_with_their_value():
    shown = madoguchi("user", "list", "--help").stdout
    assert "(default: /var/lib/madoguchi)" in " ".join(shown.split()) and "(default: chuo)" in shown


def test_version_is_the_installed_package_version():
    answer = madoguchi("--version")
    assert answer.returncode == 0 and answer.stdout.strip() == f"madoguchi {metadata.version('madoguchi')}"


def test_an_unknown_role_is_refused_naming_every_role_the_server_knows(tmp_path):
    refused = madoguchi("user", "add", "tanaka", "--role", "boss", "--data-dir", str(tmp_path))
    assert refused.returncode == 2
    assert "invalid choice: 'boss'" in refused.stderr
    for role in Role:
        assert f"'{role.value}'" in refused.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("command", [("user", "list"), ("device", "list"), ("user", "disable", "tanaka"),
                                     ("device", "revoke", "kiosk-1"), ("export", "--out", "visits.csv"),
                                     ("backup",)])
def test_a_reading_command_on_an_empty_folder_creates_nothing_and_says_where_it_looked(tmp_path, command):
    data = tmp_path / "empty"
    data.mkdir()
    answer = madoguchi(*command, "--data-dir", str(data), cwd=str(tmp_path))
    assert answer.returncode == 2 and "Traceback" not in answer.stderr
    assert f"data folder {data}" in answer.stderr and "nothing was created" in answer.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["empty"], "the command created files"


def test_user_list_says_which_database_it_read(tmp_path):
    added = subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", "user", "add", "sato", "--role",
                            "guide", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "MADOGUCHI_PASSWORD": "long-enough-1"})
    assert added.returncode == 0, added.stderr
    listed = madoguchi("user", "list", "--data-dir", str(tmp_path))
    assert listed.stdout.split() == ["sato", "guide", "active"]
    assert f"1 user(s) of site chuo in {tmp_path / 'chuo.sqlite3'}" in listed.stderr


def test_a_missing_subcommand_is_a_usage_error_not_a_traceback():
    answer = madoguchi("user")
    assert answer.returncode == 2 and "Traceback" not in answer.stderr and "ACTION" in answer.stderr
