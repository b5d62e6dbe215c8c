"""`stswatch worker`: one Faust worker of the live pipeline. Run several to share the load."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import redis

from config import settings as config
from streams.status import connection_kwargs
from streams.topics import ensure_topics
from stswatch.heap_tuning import keep_freed_heap
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
    print(
        "stswatch worker: effective settings " + json.dumps(config.describe(settings)),
        file=sys.stderr,
    )
    # Everything that can be wrong with the settings or the services is checked before the
    # worker starts, cheapest first, each ending in one line that names the setting.
    check_reference_files(settings.reference)
    with _quiet_client_logs():
        check_redis(settings.redis)
        ensure_topics(settings)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    zones, ports = load_reference(settings.reference, announce=True)
    pipeline = StreamPipeline(settings, zones, ports, web_enabled=args.web)
    keep_freed_heap()  # the detector's arrays reuse freed memory (stswatch.heap_tuning)
    run_worker(pipeline, loglevel=args.loglevel)
    return 0


def check_reference_files(reference: config.ReferenceData) -> None:
    """A configured EEZ or port file that does not exist stops the worker, naming the setting."""
    files = [("reference.eez_path", reference.eez_path)] + [
        ("reference.ports_path", part.strip())
        for part in reference.ports_path.split(",")
        if part.strip()
    ]
    for setting, path in files:
        if path and not Path(path).is_file():
            raise config.SettingsError(f"setting {setting}: file not found: {path}")


def check_redis(redis_settings: config.RedisSettings, timeout_s: float = 5.0) -> None:
    """Ping Redis once; raise a one-line `SettingsError` naming the setting if it fails.

    The worker would otherwise start, consume, and keep every status update in memory
    while it retries a Redis that was never there.
    """
    where = config.mask_url(redis_settings.url)
    kwargs = connection_kwargs(redis_settings)
    try:
        client = redis.Redis.from_url(
            redis_settings.url, **kwargs, socket_connect_timeout=timeout_s
        )
    except ValueError as err:  # redis-py's message for a URL it cannot read
        raise config.SettingsError(f"setting redis.url: {where}: {err}") from None
    try:
        client.ping()
    except redis.AuthenticationError as err:
        raise config.SettingsError(
            f"settings redis.username / redis.password: Redis at {where} refused them ({err})"
        ) from None
    except (redis.RedisError, OSError) as err:
        raise config.SettingsError(
            f"setting redis.url: no Redis answered at {where} ({type(err).__name__}: {err})"
        ) from None
    finally:
        client.close()


@contextlib.contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """Hush kafka-python's retry warnings during the start-up checks: a failure there is
    reported once, as one line naming the setting."""
    logger = logging.getLogger("kafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
