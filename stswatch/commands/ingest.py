"""`stswatch ingest`: raw AIS lines from files, a TCP feed or UDP into the raw Kafka topic.

    stswatch ingest FILE [FILE ...] [--speed N]   replay files (NMEA, .gz or not)
    stswatch ingest --tcp HOST:PORT               be a client of a TCP NMEA feed
    stswatch ingest --udp HOST:PORT               listen for NMEA datagrams (AIS-catcher)

Ctrl-C or SIGTERM stops it after sending what was read; the counts are printed at the end.
See `streams.ingest` for batching, pacing and event time.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from config import settings as settings_module
from config.settings import Settings
from streams.ingest import (
    IngestCounts,
    IngestError,
    ingest_files,
    ingest_tcp,
    ingest_udp,
    parse_host_port,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="send raw AIS lines (files, TCP feed, UDP) to the raw Kafka topic",
        description=(
            "Send raw AIS lines to the raw Kafka topic, batched per source. Files are replayed "
            "as fast as possible, or at N x real time by their event times (--speed N); "
            "several files are replayed together, merged by event time, each as its own "
            "source; the last message of each file is marked final. Lines from TCP and UDP "
            "without a time "
            "get an NMEA 4.0 tag block with the receive time."
        ),
    )
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("files", nargs="*", default=[], metavar="FILE", help="NMEA files")
    inputs.add_argument("--tcp", metavar="HOST:PORT", help="read a TCP NMEA feed (client)")
    inputs.add_argument("--udp", metavar="HOST:PORT", help="listen for NMEA datagrams")
    parser.add_argument("--config", metavar="TOML", help="settings file (see config/defaults.toml)")
    parser.add_argument(
        "--bootstrap-servers",
        "--broker",
        metavar="HOST:PORT[,...]",
        help="overrides kafka.bootstrap_servers",
    )
    parser.add_argument(
        "--speed",
        type=float,
        metavar="N",
        help="replay files at N x real time by event time (default: as fast as possible)",
    )
    parser.add_argument(
        "--source", metavar="NAME", help="source name (default: file name, tcp:HOST:PORT, ...)"
    )
    parser.add_argument(
        "--batch-lines", type=int, metavar="N", help="overrides stream.raw_batch_max_lines"
    )
    parser.add_argument(
        "--compression",
        choices=("gzip", "none"),
        default="gzip",
        help="Kafka compression (default gzip)",
    )
    parser.add_argument(
        "--no-create-topics",
        action="store_true",
        help="do not create missing topics (they must exist)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log connections")
    parser.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, dict[str, Any]] = {}
    if args.bootstrap_servers:
        overrides["kafka"] = {"bootstrap_servers": args.bootstrap_servers}
    if args.batch_lines is not None:
        overrides["stream"] = {"raw_batch_max_lines": args.batch_lines}
    return settings_module.apply(settings_module.load(args.config), overrides)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set `stop` (a second Ctrl-C quits at once)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        print("stswatch ingest: stopping, sending what was read...", file=sys.stderr)
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # kafka-python logs every failed connection attempt as an error; ingest reports what
    # matters itself (unreachable broker, undelivered messages), so its chatter waits for -v.
    logging.getLogger("kafka").setLevel(logging.WARNING if args.verbose else logging.CRITICAL)
    settings = _settings(args)
    if args.source and len(args.files) > 1:
        raise IngestError("--source names one input; give one file or drop --source")
    if args.speed is not None and not args.files:
        raise IngestError("--speed paces file replays; live feeds arrive at their own pace")
    compression = None if args.compression == "none" else args.compression
    create_topics = not args.no_create_topics
    stop = threading.Event()
    counts: IngestCounts
    with _stop_on_signals(stop):
        if args.tcp:
            host, port = parse_host_port(args.tcp, "--tcp")
            counts = ingest_tcp(
                settings,
                host,
                port,
                stop=stop,
                source=args.source,
                create_topics=create_topics,
                compression_type=compression,
            )
        elif args.udp:
            host, port = parse_host_port(args.udp, "--udp")
            counts = ingest_udp(
                settings,
                host,
                port,
                stop=stop,
                source=args.source,
                create_topics=create_topics,
                compression_type=compression,
            )
        else:
            counts = ingest_files(
                settings,
                args.files,
                sources=[args.source] if args.source else None,
                speed=args.speed,
                stop=stop,
                create_topics=create_topics,
                compression_type=compression,
            )
    print(f"stswatch ingest: {counts.summary()}")
    return 0
