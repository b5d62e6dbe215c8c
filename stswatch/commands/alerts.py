"""`stswatch alerts`: follow `sts.alerts.v1` in the terminal, or deliver it to a webhook.

stswatch alerts tail [--eez CHN] [--min-duration 3h] [--json] [--from-beginning]
stswatch alerts webhook https://example.org/hook [--eez CHN] [--min-duration 3h]
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config import settings as config
from config.settings import SettingsError
from streams.alert_feed import AlertFeed, AlertFilter, parse_duration_s
from stswatch.commands.worker import settings_from_args

EVENTS = ("opened", "updated", "closed")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="follow alerts in the terminal (tail) or POST them to a URL (webhook)",
        description="Read the alert topic (sts.alerts.v1).",
    )
    what = parser.add_subparsers(dest="what", required=True, metavar="WHAT")

    tail = what.add_parser(
        "tail",
        help="print alerts as they arrive, one line each",
        description="Print each alert as one readable line (or JSON). Reads without a "
        "consumer group: any number of tails can run, and none affects the others.",
    )
    _common(tail)
    tail.add_argument("--json", action="store_true", help="print each alert as one JSON line")
    tail.add_argument(
        "--from-beginning", action="store_true", help="start at the oldest kept alert"
    )
    tail.add_argument("--count", type=int, help="exit after printing this many alerts")
    tail.add_argument(
        "--stop-after", metavar="DURATION", help="exit after this long (e.g. 30s, 10m)"
    )
    tail.set_defaults(func=run_tail)

    hook = what.add_parser(
        "webhook",
        help="POST each alert (JSON) to a URL; commit only after a 2xx",
        description="Deliver every alert to URL as an HTTP POST with a JSON body, retrying "
        "with backoff until the endpoint answers 2xx, in order per vessel pair. The offset "
        "is committed only after delivery, in the consumer group webhook.group_id, so a "
        "restarted sink resumes where it stopped and nothing is lost.",
    )
    hook.add_argument("url", nargs="?", help="endpoint (default: setting webhook.url)")
    _common(hook)
    hook.add_argument("--group", help="consumer group (overrides webhook.group_id)")
    hook.add_argument(
        "--new-only",
        action="store_true",
        help="a new group starts at the end of the topic instead of its oldest alert",
    )
    hook.set_defaults(func=run_webhook_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="settings file (TOML)")
    parser.add_argument(
        "--broker", help="Kafka bootstrap servers (overrides kafka.bootstrap_servers)"
    )
    parser.add_argument(
        "--eez",
        # Not `eez`: settings_from_args reads that name as the EEZ boundaries file.
        dest="eez_filter",
        action="append",
        metavar="ISO",
        help="only alerts in this EEZ (ISO 3166 alpha-3, e.g. CHN); repeat for several",
    )
    parser.add_argument(
        "--min-duration", metavar="DURATION", help="only encounters at least this long (3h, 90m)"
    )
    parser.add_argument(
        "--event", action="append", choices=EVENTS, help="only these events; repeat for several"
    )


def alert_filter_from_args(args: argparse.Namespace) -> AlertFilter:
    eez: set[str] = set()
    for code in args.eez_filter or []:
        cleaned = code.strip().upper()
        if len(cleaned) != 3 or not cleaned.isalpha():
            raise SettingsError(f"--eez {code!r}: expected an ISO 3166 alpha-3 code such as CHN")
        eez.add(cleaned)
    min_duration_s = 0.0
    if args.min_duration:
        try:
            min_duration_s = parse_duration_s(args.min_duration)
        except ValueError as err:
            raise SettingsError(f"--min-duration: {err}") from None
    return AlertFilter(frozenset(eez), min_duration_s, frozenset(args.event or ()))


def _hours_minutes(duration_s: float) -> str:
    minutes = round(duration_s / 60.0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _vessel_text(vessel: dict[str, Any]) -> str:
    name = vessel.get("name") or f"MMSI {vessel['mmsi']}"
    flag = (vessel.get("flag") or {}).get("iso2") or "??"
    kind = vessel.get("ship_type_text")
    return f"{name} [{flag}{', ' + kind if kind else ''}]"


def _position_text(lat: float, lon: float) -> str:
    return f"{abs(lat):.4f}{'N' if lat >= 0 else 'S'} {abs(lon):.4f}{'E' if lon >= 0 else 'W'}"


def format_alert_line(alert: dict[str, Any]) -> str:
    """One line for people: when, what, who (names, flags, types), where, how long, how close."""
    vessels = " + ".join(_vessel_text(v) for v in alert["vessels"])
    eez = alert.get("eez")
    where = f"{eez['name']} ({eez['iso']})" if eez else "high seas / no EEZ"
    position = alert["position"]
    port = alert.get("nearest_port")
    near = f" | {port['distance_m'] / 1000:.0f} km from {port['name']}" if port else ""
    time_text = alert["event_time"].replace("T", " ")
    what = f"{duration_text(alert)}{distance_text(alert)}"
    at = _position_text(position["lat"], position["lon"])
    kind = "" if alert.get("type", "sts") == "sts" else f"{alert['type']}: "
    risk = alert.get("risk")
    risk_text = f" | risk {risk['score']}" if risk else ""
    return (
        f"{time_text} {alert['event'].upper():<7} {kind}{vessels} | {where} | {what} | "
        f"{at}{near}{risk_text} | {alert['alert_id']}"
    )


def duration_text(alert: dict[str, Any]) -> str:
    return _hours_minutes(float(alert.get("duration_s") or 0.0))


def distance_text(alert: dict[str, Any]) -> str:
    """`, median 60 m (min 40 m)` for pair alerts; empty when the alert has no distances."""
    median, least = alert.get("median_distance_m"), alert.get("min_distance_m")
    if median is None or least is None:
        return ""
    return f", median {median:.0f} m (min {least:.0f} m)"


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop`, so the current delivery ends cleanly."""

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_tail(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    wanted = alert_filter_from_args(args)
    stop_after_s = None
    if args.stop_after:
        try:
            stop_after_s = parse_duration_s(args.stop_after)
        except ValueError as err:
            raise SettingsError(f"--stop-after: {err}") from None
    if args.count is not None and args.count < 1:
        raise SettingsError("--count: must be at least 1")
    deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
    printed = 0
    with AlertFeed(
        settings, group_id=None, from_beginning=args.from_beginning, client_id="stswatch-tail"
    ) as feed:
        start = "from the beginning" if args.from_beginning else "new alerts"
        print(f"following {feed.topic} ({start}; Ctrl-C to stop)", file=sys.stderr)
        while deadline is None or time.monotonic() < deadline:
            for item in feed.poll(timeout_s=0.5, max_records=100):
                if item.alert is None:
                    where = f"{item.partition}:{item.offset}"
                    print(f"unreadable message at {where}: {item.error}", file=sys.stderr)
                    continue
                if not wanted.matches(item.alert):
                    continue
                if args.json:
                    line = json.dumps(item.alert, separators=(",", ":"))
                else:
                    line = format_alert_line(item.alert)
                print(line, flush=True)
                printed += 1
                if args.count is not None and printed >= args.count:
                    return 0
    return 0


def run_webhook_command(args: argparse.Namespace) -> int:
    from streams.webhook import run_webhook

    settings = settings_from_args(args)
    if args.group:
        settings = config.apply(settings, {"webhook": {"group_id": args.group}})
    url = args.url or settings.webhook.url
    if not url:
        raise SettingsError("no URL: give one, or set webhook.url in the settings file")
    wanted = alert_filter_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    print(
        f"stswatch alerts webhook: delivering to {url} (group {settings.webhook.group_id}; "
        "Ctrl-C to stop)",
        file=sys.stderr,
    )
    with _stop_on_signals(stop):
        stats = run_webhook(
            settings, url, alert_filter=wanted, from_beginning=not args.new_only, stop=stop
        )
    print(f"stswatch alerts webhook: {stats.summary()}", file=sys.stderr)
    return 0
