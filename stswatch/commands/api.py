"""`stswatch api`: serve the status API, its OpenAPI document and the live map."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from config import settings as config
from stswatch.commands.worker import settings_from_args


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "api",
        help="serve the status API and the live map (http://127.0.0.1:8000/)",
        description="Serve the status API (OpenAPI at /openapi.json), /healthz, /metrics and "
        "the live map at / over the Redis status store the workers keep.",
    )
    parser.add_argument("--config", help="settings file (TOML)")
    parser.add_argument(
        "--broker", help="Kafka bootstrap servers (overrides kafka.bootstrap_servers)"
    )
    parser.add_argument("--redis", help="Redis URL (overrides redis.url)")
    parser.add_argument(
        "--eez", help="EEZ file for the map outlines (overrides reference.eez_path)"
    )
    parser.add_argument("--host", help="address to listen on (overrides api.host)")
    parser.add_argument("--port", type=int, help="port to listen on (overrides api.port)")
    parser.add_argument(
        "--no-kafka-check",
        action="store_true",
        help="leave Kafka and worker lag out of /healthz and /metrics",
    )
    parser.set_defaults(func=run)


def api_settings_from_args(args: argparse.Namespace) -> config.Settings:
    settings = settings_from_args(args)
    overrides: dict[str, dict[str, object]] = {}
    if args.host:
        overrides.setdefault("api", {})["host"] = args.host
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise config.SettingsError(f"--port {args.port}: expected 1-65535")
        overrides.setdefault("api", {})["port"] = args.port
    return config.apply(settings, overrides)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from stswatch.api.app import create_app

    settings = api_settings_from_args(args)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    described = config.describe(settings)
    print(
        "stswatch api: effective settings "
        + json.dumps({k: described[k] for k in ("api", "redis", "kafka", "reference")}),
        file=sys.stderr,
    )
    api = settings.api
    if not api.bearer_token and api.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"stswatch api: warning: listening on {api.host} without api.bearer_token: "
            "anyone who reaches this port can read the status",
            file=sys.stderr,
        )
    app = create_app(settings, check_kafka=not args.no_kafka_check)
    print(f"stswatch api: map at http://{api.host}:{api.port}/", file=sys.stderr)
    uvicorn.run(app, host=api.host, port=api.port, log_level="info", server_header=False)
    return 0
