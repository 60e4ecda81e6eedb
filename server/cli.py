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

# Modules that add subcommands. A component that is not installed is skipped.
COMMAND_MODULES = (
    "madoguchi.server.commands",
    "madoguchi.server.demo",
    "madoguchi.hardware.cli",
    "madoguchi.kiosk.cli",
    "madoguchi.display.cli",
    "madoguchi.server.simulate.cli",
)


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="madoguchi",
        description="Queue management for one-stop city office counters (書かないワンストップ窓口).",
    )
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
    # run through the package's module, so CommandError raised by subcommands is this very class
    from madoguchi.server.cli import main as package_main

    sys.exit(package_main())
