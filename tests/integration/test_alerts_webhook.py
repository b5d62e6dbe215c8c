"""The webhook sink against a local HTTP endpoint that fails on purpose, then recovers.

The endpoint answers 5xx, stalls past the sink's timeout, drops connections, and is not
listening at all for a while (connection refused). Every alert must still arrive, each
once among the 2xx answers, in publication order per vessel pair, and the sink's consumer
group must end with nothing left to commit. A sink stopped mid-retry and restarted must
resume at the first undelivered alert.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from config.settings import Secret, Settings
from detectors.alerts import pair_key
from streams.alert_feed import AlertFeed, AlertFilter
from streams.kafka_clients import admin_kwargs
from streams.services import free_port
from streams.topics import topic_names
from streams.webhook import SIGNATURE_HEADER, WebhookSink, WebhookStats
from tests.integration.api_data import publish_alerts, scenario_alerts

pytestmark = pytest.mark.integration

SIGNING_SECRET = "hook-secret"
TOKEN = "hook-token"


class Endpoint:
    """A webhook receiver whose answers follow a script, then 200 for everything.

    Script entries: "ok", "500", "503" (with Retry-After: 0), "stall" (answer after the
    sink has given up), "drop" (close the connection without an answer). `failing = True`
    makes every request a 500 until it is set back; `fail_after = N` sets it once N alerts
    have been accepted (in the handler, so no delivery slips in between).
    """

    def __init__(self, script: list[str], stall_s: float) -> None:
        self.script = list(script)
        self.stall_s = stall_s
        self.failing = False
        self.fail_after: int | None = None
        self.accepted: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.server: http.server.ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def behaviour(self) -> str:
        with self.lock:
            if self.failing:
                return "500"
            return self.script.pop(0) if self.script else "ok"

    def start(self) -> None:
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                what = endpoint.behaviour()
                with endpoint.lock:
                    endpoint.requests.append(what)
                if what == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if what == "stall":
                    time.sleep(endpoint.stall_s)
                    what = "500"
                if what == "ok":
                    with endpoint.lock:
                        endpoint.accepted.append(json.loads(body))
                        endpoint.headers.append(
                            {k.lower(): v for k, v in self.headers.items()} | {"body": body.hex()}
                        )
                        if endpoint.fail_after is not None:
                            endpoint.failing = len(endpoint.accepted) >= endpoint.fail_after
                    self.send_response(200)
                elif what == "503":
                    self.send_response(503)
                    self.send_header("Retry-After", "0")
                else:
                    self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    webhook = dataclasses.replace(
        settings.webhook,
        group_id=f"{settings.stream.app_id}-webhook",
        timeout_s=0.5,
        backoff_initial_s=0.05,
        backoff_max_s=0.4,
        bearer_token=Secret(TOKEN),
        signing_secret=Secret(SIGNING_SECRET),
    )
    return dataclasses.replace(settings, webhook=webhook)


@pytest.fixture
def alerts(hook_settings: Settings, tmp_path: Path) -> list[dict[str, Any]]:
    published = scenario_alerts(hook_settings, tmp_path)
    publish_alerts(hook_settings, published)
    return published


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    running = Endpoint(["500", "stall", "drop", "503", "ok", "ok", "500", "drop", "ok"], 1.5)
    yield running
    running.stop()


def run_sink(
    settings: Settings,
    url: str,
    *,
    max_alerts: int,
    stop: threading.Event,
    alert_filter: AlertFilter | None = None,
) -> tuple[threading.Thread, dict[str, Any]]:
    """Run a sink in a thread until `max_alerts` are delivered or `stop` is set."""
    result: dict[str, Any] = {}

    def work() -> None:
        feed = AlertFeed(
            settings, group_id=settings.webhook.group_id, from_beginning=True, client_id="test"
        )
        sink = WebhookSink(feed, url, settings.webhook, alert_filter=alert_filter, stop=stop)
        result["sink"] = sink
        try:
            result["stats"] = sink.run(max_alerts=max_alerts)
        finally:
            sink.close()
            feed.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, result


def key_of(alert: dict[str, Any]) -> str:
    a, b = (v["mmsi"] for v in alert["vessels"])
    return pair_key(a, b)


def by_key(alerts: list[dict[str, Any]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for alert in alerts:
        grouped[key_of(alert)].append(alert["event_id"])
    return dict(grouped)


def committed(settings: Settings) -> int:
    """Alerts the sink's group has committed: the sum of its offsets (topics start at 0).

    Read directly rather than as lag, because tansu reports a partition's end offset as the
    start of its last record batch plus one, which undercounts batched alerts.
    """
    admin = KafkaAdminClient(**admin_kwargs(settings.kafka))
    try:
        offsets = admin.list_group_offsets(settings.webhook.group_id)[settings.webhook.group_id]
        topic = topic_names(settings.kafka).alerts
        return sum(max(0, meta.offset) for tp, meta in offsets.items() if tp.topic == topic)
    finally:
        admin.close()


def wait_until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_every_alert_arrives_once_in_order_per_pair_through_failures(
    hook_settings: Settings, alerts: list[dict[str, Any]], endpoint: Endpoint
) -> None:
    stop = threading.Event()
    # The endpoint is not listening yet: the first attempts are refused connections.
    thread, result = run_sink(hook_settings, endpoint.url, max_alerts=len(alerts), stop=stop)
    wait_until(
        lambda: "sink" in result and result["sink"].stats.failures.get("connection", 0) >= 2,
        30.0,
        "refused connections",
    )
    refused = result["sink"].stats.failures["connection"]
    endpoint.start()
    thread.join(timeout=60.0)
    stop.set()
    assert not thread.is_alive(), "the sink did not finish"

    accepted = endpoint.accepted
    assert sorted(a["event_id"] for a in accepted) == sorted(a["event_id"] for a in alerts)
    assert by_key(accepted) == by_key(alerts), "publication order per vessel pair"
    assert {"500", "stall", "drop", "503"} <= set(endpoint.requests)
    stats: WebhookStats = result["stats"]
    assert stats.delivered == len(alerts)
    assert stats.failures["connection"] >= refused + 2  # refused, then dropped twice
    assert stats.failures.get("timeout", 0) >= 1
    assert stats.failures.get("http_500", 0) >= 2 and stats.failures.get("http_503", 0) >= 1

    for headers, alert in zip(endpoint.headers, accepted, strict=True):
        body = bytes.fromhex(headers["body"])
        expected = hmac.new(SIGNING_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER.lower()] == f"sha256={expected}"
        assert headers["authorization"] == f"Bearer {TOKEN}"
        assert headers["x-stswatch-event-id"] == alert["event_id"]
        assert headers["content-type"] == "application/json"
    assert committed(hook_settings) == len(alerts), "every delivered alert is committed"


def test_a_stopped_sink_resumes_at_the_first_undelivered_alert(
    hook_settings: Settings, alerts: list[dict[str, Any]]
) -> None:
    endpoint = Endpoint([], 0.0)
    endpoint.start()
    try:
        first_batch = 5
        # The endpoint starts failing right after the fifth alert: the sink delivers ~240
        # alerts/s, enough to deliver them all between two polls of a waiting test.
        endpoint.fail_after = first_batch
        stop = threading.Event()
        thread, _ = run_sink(hook_settings, endpoint.url, max_alerts=10_000, stop=stop)
        wait_until(lambda: len(endpoint.accepted) >= first_batch, 30.0, "first deliveries")
        # Let it fail and retry a while, then stop it mid-retry.
        failures_seen = len(endpoint.requests)
        wait_until(lambda: len(endpoint.requests) >= failures_seen + 3, 30.0, "retries")
        stop.set()
        thread.join(timeout=30.0)
        assert not thread.is_alive()
        delivered_before = len(endpoint.accepted)
        assert first_batch <= delivered_before < len(alerts)
        assert committed(hook_settings) == delivered_before

        endpoint.fail_after = None
        endpoint.failing = False
        stop2 = threading.Event()
        remaining = len(alerts) - delivered_before
        thread2, result = run_sink(hook_settings, endpoint.url, max_alerts=remaining, stop=stop2)
        thread2.join(timeout=60.0)
        stop2.set()
        assert not thread2.is_alive()
        assert result["stats"].delivered == remaining
    finally:
        endpoint.stop()
    ids = [a["event_id"] for a in endpoint.accepted]
    assert len(ids) == len(set(ids)) == len(alerts), "nothing lost, nothing twice"
    assert by_key(endpoint.accepted) == by_key(alerts)
    assert committed(hook_settings) == len(alerts)


def test_filtered_out_alerts_are_committed_but_not_sent(
    hook_settings: Settings, alerts: list[dict[str, Any]]
) -> None:
    endpoint = Endpoint([], 0.0)
    endpoint.start()
    wanted = [a for a in alerts if a["eez"]["iso"] == "KOR"]
    assert 0 < len(wanted) < len(alerts)
    stop = threading.Event()
    try:
        thread, result = run_sink(
            hook_settings,
            endpoint.url,
            max_alerts=len(wanted),
            stop=stop,
            alert_filter=AlertFilter(eez_iso=frozenset({"KOR"})),
        )
        thread.join(timeout=60.0)
        stop.set()
        assert not thread.is_alive()
    finally:
        endpoint.stop()
    assert [a["event_id"] for a in endpoint.accepted] == [a["event_id"] for a in wanted]
    assert result["stats"].skipped >= 1
