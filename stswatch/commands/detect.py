"""`stswatch detect INPUT...`: find STS encounters in recorded AIS files."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from config import settings as config
from detectors.errors import StswatchError
from detectors.timefmt import parse_iso_utc
from stswatch.heap_tuning import keep_freed_heap
from stswatch.offline import progress_for, run_detect


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="run the detector over recorded files and write alerts as JSON Lines",
        description=(
            "Read NMEA (tag blocks, appended epochs, $PGHP), MarineCadastre CSV or JSON Lines "
            "files (plain or gzipped, mixed formats allowed), merge them by event time, and "
            "write one alert event per line."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="input files")
    parser.add_argument("--eez", help="EEZ boundaries (GeoJSON, GeoPackage or shapefile)")
    parser.add_argument(
        "--ports", help="ports/anchorages CSV (World Port Index, GFW anchorages, name/lat/lon)"
    )
    parser.add_argument("--config", help="settings file (TOML)")
    parser.add_argument("--out", help="write alerts here instead of stdout")
    parser.add_argument("--rejects", help="write every rejected line with its reason here")
    parser.add_argument(
        "--assume-time",
        help="ISO 8601 UTC time for lines that carry no time (otherwise they are rejected)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = config.load(args.config)
    overrides: dict[str, dict[str, object]] = {}
    if args.eez is not None:
        overrides.setdefault("reference", {})["eez_path"] = args.eez
    if args.ports is not None:
        overrides.setdefault("reference", {})["ports_path"] = args.ports
    settings = config.apply(settings, overrides)
    keep_freed_heap()  # the detector's arrays reuse freed memory (stswatch.heap_tuning)
    assume_time_s = None
    if args.assume_time:
        try:
            assume_time_s = parse_iso_utc(args.assume_time)
        except ValueError:
            raise StswatchError(
                f"--assume-time: {args.assume_time!r} is not an ISO 8601 time"
            ) from None

    with contextlib.ExitStack() as stack:
        alerts_out: TextIO = sys.stdout
        if args.out:
            alerts_out = stack.enter_context(_open_out(args.out))
        rejects_out = stack.enter_context(_open_out(args.rejects)) if args.rejects else None
        progress = progress_for(sys.stderr)
        progress.enabled = progress.enabled and not args.no_progress
        summary = run_detect(
            args.inputs,
            settings,
            alerts_out,
            assume_time_s=assume_time_s,
            rejects_out=rejects_out,
            progress=progress,
        )
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0


def _open_out(path: str) -> TextIO:
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as err:
        raise StswatchError(f"cannot write {path}: {err.strerror}") from None
