"""The `stswatch` command: one subcommand per module listed in COMMANDS.

Each command module defines `register(subparsers)`, which adds its parser and sets
`func(args) -> int` as the parser default. Errors the user can fix (`StswatchError`) end the
program with one line on stderr and exit status 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from detectors.errors import StswatchError

COMMANDS: tuple[str, ...] = (
    "stswatch.commands.detect",
    "stswatch.commands.ingest",
    "stswatch.commands.worker",
    "stswatch.commands.status",
    "stswatch.commands.simulate",
    "stswatch.commands.evaluate",
    "stswatch.commands.api",
    "stswatch.commands.alerts",
    "stswatch.commands.up",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stswatch",
        description="Watch AIS traffic and raise alerts on likely ship-to-ship transfers.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except StswatchError as err:
        print(f"stswatch {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
