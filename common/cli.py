"""What every box's subcommands share with the ``madoguchi`` dispatcher."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit status 2."""
