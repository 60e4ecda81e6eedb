"""The `madoguchi` command: one entry point, subcommands registered by each component.

Each component module exposes ``register(subparsers)``; heavy imports happen inside the handlers,
so a display box without FastAPI, or a server without Kivy, still runs its own subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from madoguchi.common.cli import CommandError

# Modules that add subcommands. A component that is not installed is skipped.
COMMAND_MODULES = (
    "madoguchi.server.cli.commands",
    "madoguchi.server.cli.demo",
    "madoguchi.server.cli.broker",
    "madoguchi.hardware.cli",
    "madoguchi.kiosk.cli",
    "madoguchi.display.cli",
    "madoguchi.server.simulate.cli",
    "madoguchi.server.cli.replay",
)


class DefaultsShown(argparse.HelpFormatter):
    """Adds "(default: X)" to an option's help when it has a default worth telling and its help does not
    already say one (flags that are off unless given, and options without a default, say nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return f"{text} (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """Every parser of the command, nested subcommands included (``add_subparsers`` makes parsers of
    the same class), shows defaults in its help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsShown)
        super().__init__(*args, **kwargs)


def package_version() -> str:
    try:
        return metadata.version("madoguchi")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="madoguchi",
        description="Queue management for one-stop city office counters (書かないワンストップ窓口). "
                    "`madoguchi COMMAND --help` explains each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # component not present in this installation
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"madoguchi {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
