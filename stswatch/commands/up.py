"""`stswatch up`: the embedded default, the whole pipeline on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from config import settings as config
from stswatch.embedded import UpOptions, run_up


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run the whole pipeline locally on a simulated scenario (embedded broker and Redis)",
        description=(
            "Start a local broker (tansu) and Redis, a worker, replay a simulated scenario and "
            "print alerts as they fire. Status stays queryable until Ctrl-C."
        ),
    )
    parser.add_argument("--scenario", default="demo", help="shipped scenario name or TOML file")
    parser.add_argument(
        "--speed",
        type=float,
        default=600.0,
        help="replay speed, times real time (default 600); 0 = as fast as possible",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--partitions", type=int, default=2, help="partitions per topic")
    parser.add_argument("--workdir", type=Path, help="logs, settings and scenario files")
    parser.add_argument("--config", help="settings file (TOML) for detection and references")
    parser.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop once the replay is over and no alert came for --idle seconds",
    )
    parser.add_argument("--idle", type=float, default=10.0, help="seconds (with --exit-when-done)")
    parser.add_argument(
        "--api-port",
        type=int,
        default=8000,
        help="port of the status API and live map (default 8000; 0: do not start it)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    options = UpOptions(
        scenario=args.scenario,
        speed=args.speed if args.speed > 0 else None,
        workdir=args.workdir,
        partitions=args.partitions,
        workers=args.workers,
        exit_when_done=args.exit_when_done,
        idle_s=args.idle,
        api_port=args.api_port,
    )
    return run_up(options, config.load(args.config))
