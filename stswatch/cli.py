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

# name -> (module, one-line help). Only the module of the command being run is imported:
# some pull in Kafka clients, FastAPI or the simulator, and `detect` should not pay for them.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("stswatch.commands.up", "run the whole pipeline locally on a simulated scenario"),
    "detect": ("stswatch.commands.detect", "run the detector over recorded files"),
    "simulate": ("stswatch.commands.simulate", "write simulated AIS traffic and its truth"),
    "evaluate": ("stswatch.commands.evaluate", "score alerts against a truth file"),
    "ingest": ("stswatch.commands.ingest", "send raw AIS lines to the raw Kafka topic"),
    "worker": ("stswatch.commands.worker", "run a stream worker"),
    "status": ("stswatch.commands.status", "look up live vessel or encounter status"),
    "api": ("stswatch.commands.api", "serve the status API and the live map"),
    "alerts": ("stswatch.commands.alerts", "follow alerts in the terminal or POST them to a URL"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the full options of `command` (or of every command when None)."""
    parser = argparse.ArgumentParser(
        prog="stswatch",
        description="Watch AIS traffic and raise alerts on likely ship-to-ship transfers.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, summary) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(module_name).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    requested = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(requested if requested in COMMANDS else "")
    args = parser.parse_args(arguments)
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
