"""`stswatch worker`: one Faust worker of the live pipeline. Run several to share the load."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from config import settings as config
from streams.topics import ensure_topics
from stswatch.reference import load_reference


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run a stream worker (decode, detect, publish alerts, keep Redis status)",
        description="Run one Faust worker. Workers of the same app id share the partitions.",
    )
    parser.add_argument("--config", help="settings file (TOML)")
    parser.add_argument(
        "--broker", help="Kafka bootstrap servers (overrides kafka.bootstrap_servers)"
    )
    parser.add_argument("--redis", help="Redis URL (overrides redis.url)")
    parser.add_argument("--eez", help="EEZ boundaries file (overrides reference.eez_path)")
    parser.add_argument("--ports", help="ports/anchorages file (overrides reference.ports_path)")
    parser.add_argument("--web", action="store_true", help="enable Faust's web server (port 6066)")
    parser.add_argument(
        "--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"]
    )
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> config.Settings:
    """Settings file, then the flags given on the command line."""
    settings = config.load(getattr(args, "config", None))
    overrides: dict[str, dict[str, object]] = {}
    if getattr(args, "broker", None):
        overrides.setdefault("kafka", {})["bootstrap_servers"] = args.broker
    if getattr(args, "redis", None):
        overrides.setdefault("redis", {})["url"] = args.redis
    if getattr(args, "eez", None) is not None:
        overrides.setdefault("reference", {})["eez_path"] = args.eez
    if getattr(args, "ports", None) is not None:
        overrides.setdefault("reference", {})["ports_path"] = args.ports
    return config.apply(settings, overrides)


def run(args: argparse.Namespace) -> int:
    from streams.app import StreamPipeline, run_worker

    settings = settings_from_args(args)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    print(
        "stswatch worker: effective settings " + json.dumps(config.describe(settings)),
        file=sys.stderr,
    )
    ensure_topics(settings)
    zones, ports = load_reference(settings.reference, announce=True)
    pipeline = StreamPipeline(settings, zones, ports, web_enabled=args.web)
    run_worker(pipeline, loglevel=args.loglevel)
    return 0
