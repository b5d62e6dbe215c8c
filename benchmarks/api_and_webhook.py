"""Status API latency per endpoint, and webhook delivery rate, on this machine.

    python benchmarks/api_and_webhook.py [--requests N] [--alerts N]

Starts a Redis server and a tansu broker on free ports, fills the status store with the
API test scenario (7 vessels, 3 encounters, as the workers write it), serves the API with
uvicorn on 127.0.0.1 and requests each endpoint N times in a row from one client (keep-alive
connection), printing median, 95th percentile and max in milliseconds. Then publishes
alerts on a prefixed alert topic and delivers them with the webhook sink to a local
endpoint that answers 200 at once, printing alerts per second (each one POSTed, then its
offset committed). Single client, sequential: latency, not throughput under load.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.server
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from config import settings as settings_module  # noqa: E402
from streams.alert_feed import AlertFeed  # noqa: E402
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port  # noqa: E402
from streams.webhook import WebhookSink  # noqa: E402
from stswatch.api.app import create_app  # noqa: E402
from tests.integration.api_data import (  # noqa: E402
    ACTIVE_KOR_PAIR,
    fill_status_from_detector,
    publish_alerts,
    serve,
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def api_latency(work: Path, requests: int) -> None:
    with EmbeddedRedis(work / "redis") as redis_server:
        base = settings_module.load()
        redis = dataclasses.replace(
            redis_server.redis_settings(base.redis), key_prefix=f"bench:{uuid.uuid4().hex[:6]}"
        )
        filled = fill_status_from_detector(dataclasses.replace(base, redis=redis), work)
        alert_id = next(
            a["alert_id"]
            for a in filled.alerts
            if {v["mmsi"] for v in a["vessels"]} == set(ACTIVE_KOR_PAIR)
        )
        paths = {
            "GET /vessels/{mmsi}": f"/vessels/{ACTIVE_KOR_PAIR[0]}",
            "GET /vessels?lat&lon&radius_km": "/vessels?lat=30&lon=123&radius_km=300",
            "GET /encounters": "/encounters",
            "GET /encounters?state=closed": "/encounters?state=closed",
            "GET /encounters/{alert_id}": f"/encounters/{alert_id}",
            "GET /healthz (Redis only)": "/healthz",
            "GET /metrics": "/metrics",
            "GET /eez": "/eez",
        }
        with (
            serve(create_app(filled.settings, check_kafka=False)) as running,
            httpx.Client(base_url=running.base_url) as client,
        ):
            print(f"API latency, {requests} sequential requests each (ms):")
            print(f"  {'endpoint':<34} {'median':>8} {'p95':>8} {'max':>8}")
            for name, path in paths.items():
                client.get(path).raise_for_status()  # warm up
                times_ms = []
                for _ in range(requests):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    times_ms.append((time.perf_counter() - started) * 1000.0)
                print(
                    f"  {name:<34} {statistics.median(times_ms):8.2f} "
                    f"{percentile(times_ms, 0.95):8.2f} {max(times_ms):8.2f}"
                )


class Ok(http.server.BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Ok.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def webhook_rate(work: Path, count: int) -> None:
    with EmbeddedBroker(work / "tansu") as broker:
        base = settings_module.load()
        kafka = dataclasses.replace(
            broker.kafka_settings(base.kafka), topic_prefix=f"bench-{uuid.uuid4().hex[:6]}."
        )
        webhook = dataclasses.replace(base.webhook, group_id="bench-webhook")
        settings = dataclasses.replace(base, kafka=kafka, webhook=webhook)
        template = {
            "schema_version": 1,
            "type": "sts",
            "event": "opened",
            "event_time": "2024-05-01T00:00:00Z",
            "vessels": [{"mmsi": 413000000 + i} for i in range(2)],
            "duration_s": 7200.0,
        }
        alerts = [
            {**template, "alert_id": f"sts-{i:020x}", "event_id": f"{i:020x}"} for i in range(count)
        ]
        publish_alerts(settings, alerts)
        port = free_port()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Ok)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        feed = AlertFeed(settings, group_id="bench-webhook", from_beginning=True)
        delivered_at: list[float] = []
        sink = WebhookSink(
            feed,
            f"http://127.0.0.1:{port}/hook",
            settings.webhook,
            on_delivered=lambda item: delivered_at.append(time.perf_counter()),
        )
        try:
            sink.run(max_alerts=count)
        finally:
            sink.close()
            feed.close()
            server.shutdown()
        # From the first delivery on, so that the group join is not counted.
        elapsed_s = delivered_at[-1] - delivered_at[0]
        rate = (len(delivered_at) - 1) / elapsed_s
        print(
            f"webhook: {sink.stats.delivered} alerts delivered, {rate:.0f} alerts/s after the "
            "first (each POSTed, answered 200, then its offset committed; tansu, one sink)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--alerts", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        api_latency(Path(tmp), args.requests)
        webhook_rate(Path(tmp), args.alerts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
