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

from madoguchi.common.cli import CommandError

# Modules that add subcommands. A component that is not installed is skipped.
COMMAND_MODULES = (
    "madoguchi.server.cli.commands",
    "madoguchi.server.cli.demo",
    "madoguchi.hardware.cli",
    "madoguchi.kiosk.cli",
    "madoguchi.display.cli",
    "madoguchi.server.simulate.cli",
)


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
    sys.exit(main())
