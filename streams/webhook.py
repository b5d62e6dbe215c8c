"""The webhook sink: POST every alert of `sts.alerts.v1` to a URL, losing none.

Delivery policy (at least once, in order per vessel pair):
- one alert at a time, in offset order per partition, so alerts about one pair (one key,
  one partition) arrive in the order they were published;
- an alert counts as delivered only on a 2xx answer; anything else (other statuses,
  timeouts, refused or dropped connections) is retried with exponential backoff (with
  jitter, capped at `webhook.backoff_max_s`, and at least what a `Retry-After` header asks)
  for as long as it takes;
- the Kafka offset is committed only after the 2xx, in the sink's own consumer group
  (`webhook.group_id`): a sink stopped or killed mid-retry starts again at the undelivered
  alert. An alert can therefore arrive twice (sent, then the sink died before committing);
  receivers drop duplicates by `event_id` (also sent as `X-Stswatch-Event-Id`);
- while retrying, the sink keeps its group membership (a paused poll); if a rebalance moves
  the partition to another sink meanwhile, it drops the alert, which the new owner delivers.

A message on the topic that is not an alert is logged and skipped (committed), so that it
cannot block the sink; alerts that the filter does not want are skipped the same way.

Each request: `POST url`, body = the alert exactly as published (JSON), headers
`Content-Type: application/json`, `X-Stswatch-Alert-Id`, `X-Stswatch-Event-Id`,
`X-Stswatch-Event`, `Authorization: Bearer ...` (with `webhook.bearer_token`) and
`X-Stswatch-Signature: sha256=<hex HMAC-SHA256 of the body>` (with `webhook.signing_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from config.settings import Settings, SettingsError, WebhookSettings
from streams.alert_feed import AlertFeed, AlertFilter, FeedItem

log = logging.getLogger(__name__)

USER_AGENT = "stswatch-webhook/1"
SIGNATURE_HEADER = "X-Stswatch-Signature"
# How often the sink polls Kafka (paused) while it waits between retries.
_KEEPALIVE_S = 5.0


def check_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL, else a `SettingsError` naming the setting."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"setting webhook.url: {url!r} is not an http:// or https:// URL")
    return url


def signature(secret: str, body: bytes) -> str:
    """The `X-Stswatch-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def backoff_s(attempt: int, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before retry `attempt` (1, 2, ...): doubling from `initial_s`, capped, jittered.

    Half the delay is fixed and half random, so that many sinks failing together do not
    retry in lockstep, while the delay still grows steadily.
    """
    ceiling = min(max_s, initial_s * 2.0 ** (attempt - 1))
    return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)


def retry_after_s(response: httpx.Response) -> float | None:
    """Seconds asked for by a `Retry-After` header in seconds form, if any."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # the HTTP-date form is rare for webhooks; the backoff applies


@dataclass(slots=True)
class WebhookStats:
    delivered: int = 0
    skipped: int = 0
    unreadable: int = 0
    attempts: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    abandoned_on_rebalance: int = 0
    started_s: float = field(default_factory=time.monotonic)

    def count_failure(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1

    def summary(self) -> str:
        elapsed_s = max(time.monotonic() - self.started_s, 1e-9)
        failures = ", ".join(f"{k} {v}" for k, v in sorted(self.failures.items())) or "none"
        return (
            f"delivered {self.delivered} alerts ({self.delivered / elapsed_s:.1f}/s), "
            f"skipped {self.skipped}, unreadable {self.unreadable}, "
            f"{self.attempts} requests, failed attempts: {failures}"
        )


class WebhookSink:
    """Delivers alerts from an `AlertFeed` (with a consumer group) to one URL."""

    def __init__(
        self,
        feed: AlertFeed,
        url: str,
        webhook: WebhookSettings,
        *,
        alert_filter: AlertFilter | None = None,
        stop: threading.Event | None = None,
        client: httpx.Client | None = None,
        rng: random.Random | None = None,
        on_delivered: Callable[[FeedItem], None] | None = None,
    ) -> None:
        if feed.group_id is None:
            raise ValueError("the webhook sink needs a feed with a consumer group")
        self.feed = feed
        self.url = check_url(url)
        self.webhook = webhook
        self.alert_filter = alert_filter or AlertFilter()
        self.stop = stop or threading.Event()
        self.client = client or httpx.Client(timeout=webhook.timeout_s, follow_redirects=False)
        self.rng = rng or random.Random()
        self.on_delivered = on_delivered
        self.stats = WebhookStats()

    def headers(self, item: FeedItem) -> dict[str, str]:
        alert = item.alert or {}
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Stswatch-Alert-Id": str(alert.get("alert_id", "")),
            "X-Stswatch-Event-Id": str(alert.get("event_id", "")),
            "X-Stswatch-Event": str(alert.get("event", "")),
        }
        if self.webhook.bearer_token:
            headers["Authorization"] = f"Bearer {self.webhook.bearer_token.value}"
        if self.webhook.signing_secret:
            headers[SIGNATURE_HEADER] = signature(self.webhook.signing_secret.value, item.value)
        return headers

    def attempt(self, item: FeedItem) -> tuple[bool, float | None]:
        """One POST: `(delivered, seconds the server asked us to wait)`."""
        self.stats.attempts += 1
        try:
            response = self.client.post(self.url, content=item.value, headers=self.headers(item))
        except httpx.TimeoutException:
            self.stats.count_failure("timeout")
            log.warning("webhook %s: timed out (alert %s)", self.url, item.offset)
            return False, None
        except httpx.TransportError as err:
            self.stats.count_failure("connection")
            log.warning("webhook %s: %s: %s", self.url, type(err).__name__, err)
            return False, None
        if 200 <= response.status_code < 300:
            return True, None
        self.stats.count_failure(f"http_{response.status_code}")
        log.warning("webhook %s answered %d", self.url, response.status_code)
        return False, retry_after_s(response)

    def _wait(self, delay_s: float) -> None:
        """Sleep `delay_s` (or until stopped), polling Kafka paused to stay in the group."""
        deadline = time.monotonic() + delay_s
        while not self.stop.is_set():
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                return
            self.stop.wait(min(left_s, _KEEPALIVE_S))
            self.feed.keep_alive()

    def deliver(self, item: FeedItem) -> bool:
        """POST until a 2xx; False if stopped or the partition moved to another sink."""
        self.feed.mark_delivering(item)
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            delivered, asked_s = self.attempt(item)
            if delivered:
                return True
            delay_s = backoff_s(
                attempt, self.webhook.backoff_initial_s, self.webhook.backoff_max_s, self.rng
            )
            if asked_s is not None:
                delay_s = max(delay_s, min(asked_s, self.webhook.backoff_max_s))
            self._wait(delay_s)
            if not self.feed.still_owned(item):
                self.stats.abandoned_on_rebalance += 1
                log.info(
                    "partition %d moved to another sink; it delivers from here", item.partition
                )
                return False
        return False

    def handle(self, item: FeedItem) -> None:
        if item.alert is None:
            self.stats.unreadable += 1
            log.error(
                "skipping a message that is not an alert at %s:%d:%d: %s",
                item.topic,
                item.partition,
                item.offset,
                item.error,
            )
            self.feed.commit(item)
            return
        if not self.alert_filter.matches(item.alert):
            self.stats.skipped += 1
            self.feed.commit(item)
            return
        if self.deliver(item):
            # Committed only now: an alert that never got its 2xx is read again.
            self.feed.commit(item)
            self.stats.delivered += 1
            if self.on_delivered is not None:
                self.on_delivered(item)

    def run(self, max_alerts: int | None = None) -> WebhookStats:
        """Deliver until stopped (or until `max_alerts` alerts were delivered)."""
        while not self.stop.is_set():
            if max_alerts is not None and self.stats.delivered >= max_alerts:
                break
            for item in self.feed.poll(timeout_s=0.5, max_records=1):
                if self.stop.is_set():
                    break
                self.handle(item)
        return self.stats

    def close(self) -> None:
        self.client.close()


def run_webhook(
    settings: Settings,
    url: str,
    *,
    alert_filter: AlertFilter | None = None,
    from_beginning: bool = True,
    stop: threading.Event | None = None,
    max_alerts: int | None = None,
) -> WebhookStats:
    """Open the feed in `webhook.group_id`, deliver until stopped, close everything."""
    check_url(url)
    feed = AlertFeed(
        settings,
        group_id=settings.webhook.group_id,
        from_beginning=from_beginning,
        client_id="stswatch-webhook",
    )
    sink = WebhookSink(feed, url, settings.webhook, alert_filter=alert_filter, stop=stop)
    try:
        return sink.run(max_alerts=max_alerts)
    finally:
        sink.close()
        feed.close()
