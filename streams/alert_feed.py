"""Reading `sts.alerts.v1`: the consumer shared by `stswatch alerts tail` and the webhook sink.

Two ways to read:
- without a consumer group (`group_id=None`, what `tail` does): every partition is assigned
  directly, from the end (only new alerts) or from the beginning; nothing is committed and
  there is no group join to wait for;
- with a consumer group (the webhook sink): partitions are shared with other members of the
  group, offsets are committed explicitly (`commit`), and a restarted reader resumes after
  the last committed alert.

`poll` hands out one record at a time by default, in offset order per partition (and so in
order per key: the key is the vessel pair). A message that is not an alert (not JSON, or
without an `alert_id`) comes back as an item with `error` set, so that callers decide whether
to skip it; it is never an exception.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from config.settings import Settings
from detectors.errors import StswatchError
from streams.kafka_clients import connect, consumer_kwargs
from streams.topics import topic_names

log = logging.getLogger(__name__)

# Group membership: Kafka's lowest allowed session timeout by default. A short session lets a
# replacement sink take over a dead one's partitions sooner, and tansu completes a group
# join in about 3 s with it (about 23 s with kafka-python's default of 10 s).
GROUP_SESSION_TIMEOUT_S = 6.0
GROUP_HEARTBEAT_INTERVAL_S = 1.0

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_SECONDS_PER_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


class AlertFeedError(StswatchError):
    """The alert topic cannot be read (missing topic, bad option)."""


def parse_duration_s(text: str) -> float:
    """`"3h"`, `"90m"`, `"2h30m"`, `"1.5h"`, `"45s"`, `"1d"` or plain seconds, in seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    try:
        seconds = float(cleaned)
    except ValueError:
        parts = _DURATION_PART.findall(cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise ValueError(
                f"{text!r} is not a duration (examples: 3h, 90m, 2h30m, 45s, 7200)"
            ) from None
        seconds = sum(float(n) * _SECONDS_PER_UNIT[u] for n, u in parts)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{text!r}: a duration must be a finite number, zero or more")
    return seconds


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a reader wants; empty sets mean "any"."""

    eez_iso: frozenset[str] = frozenset()
    min_duration_s: float = 0.0
    events: frozenset[str] = frozenset()

    def matches(self, alert: dict[str, Any]) -> bool:
        if self.events and alert.get("event") not in self.events:
            return False
        if float(alert.get("duration_s") or 0.0) < self.min_duration_s:
            return False
        if self.eez_iso:
            eez = alert.get("eez") or {}
            if str(eez.get("iso", "")).upper() not in self.eez_iso:
                return False
        return True


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One record of the alert topic: the raw bytes and, when readable, the alert."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_ms: int | None
    alert: dict[str, Any] | None = None
    error: str | None = None

    @property
    def topic_partition(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


def parse_alert(value: bytes | None) -> tuple[dict[str, Any] | None, str | None]:
    """`(alert, None)` for an alert message, `(None, reason)` for anything else."""
    if value is None:
        return None, "empty message"
    try:
        alert = json.loads(value)
    except (UnicodeDecodeError, ValueError) as err:
        return None, f"not JSON: {err}"
    if not isinstance(alert, dict) or not isinstance(alert.get("alert_id"), str):
        return None, "not an alert (no alert_id)"
    return alert, None


@dataclass(slots=True)
class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    """Remembers partitions taken away in a rebalance, so an in-flight record can be dropped."""

    revoked: set[TopicPartition] = field(default_factory=set)

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.revoked.update(revoked)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        # A partition revoked and given back has its position reset to the committed
        # offset, so the in-flight record comes again: it stays marked until
        # `mark_delivering` starts the next record.
        pass


class AlertFeed:
    """A kafka-python consumer of the alert topic (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        group_id: str | None,
        from_beginning: bool,
        client_id: str = "stswatch-alerts",
        topic_wait_s: float = 0.0,
    ) -> None:
        self.settings = settings
        self.topic = topic_names(settings.kafka).alerts
        self.group_id = group_id
        self.from_beginning = from_beginning
        self._revocations = _Revocations()
        # Reading only new alerts without a group: records older than this (Kafka timestamp,
        # ms) are skipped until a partition yields a newer one (see `_start`).
        self._new_since_ms: int | None = None
        self._caught_up: set[int] = set()
        kwargs = consumer_kwargs(
            settings.kafka,
            group_id=group_id,
            client_id=client_id,
            auto_offset_reset="earliest" if from_beginning else "latest",
            enable_auto_commit=False,
            session_timeout_s=GROUP_SESSION_TIMEOUT_S if group_id else None,
            heartbeat_interval_s=GROUP_HEARTBEAT_INTERVAL_S if group_id else None,
        )
        self.consumer: KafkaConsumer = connect(settings.kafka, KafkaConsumer, **kwargs)
        try:
            self._start(topic_wait_s)
        except BaseException:
            self.consumer.close()
            raise

    def _start(self, topic_wait_s: float) -> None:
        deadline = time.monotonic() + topic_wait_s
        partitions = self.consumer.partitions_for_topic(self.topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.5)
            partitions = self.consumer.partitions_for_topic(self.topic)
        if not partitions:
            raise AlertFeedError(
                f"topic {self.topic} does not exist yet: start the pipeline (stswatch up or "
                "stswatch worker) first, or check kafka.topic_prefix"
            )
        if self.group_id is not None:
            self.consumer.subscribe([self.topic], listener=self._revocations)
            return
        assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(assigned)
        if self.from_beginning:
            self.consumer.seek_to_beginning(*assigned)
        else:
            self.consumer.seek_to_end(*assigned)
            # tansu 0.6 reports a partition's end as the start of its last record batch plus
            # one, so seek_to_end can land inside that batch: skip what was there before now.
            self._new_since_ms = int(time.time() * 1000)

    def poll(self, timeout_s: float = 0.5, max_records: int = 1) -> list[FeedItem]:
        """The next records (at most `max_records`), in offset order per partition."""
        batch = self.consumer.poll(timeout_ms=round(timeout_s * 1000), max_records=max_records)
        items: list[FeedItem] = []
        for records in batch.values():
            for record in records:
                if self._is_old(record.partition, record.timestamp):
                    continue
                alert, error = parse_alert(record.value)
                key = record.key.decode("utf-8", "replace") if record.key is not None else None
                items.append(
                    FeedItem(
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        key=key,
                        value=record.value or b"",
                        timestamp_ms=record.timestamp,
                        alert=alert,
                        error=error,
                    )
                )
        return items

    def _is_old(self, partition: int, timestamp_ms: int | None) -> bool:
        if self._new_since_ms is None or partition in self._caught_up:
            return False
        if timestamp_ms is not None and 0 <= timestamp_ms < self._new_since_ms:
            return True
        self._caught_up.add(partition)
        return False

    def commit(self, item: FeedItem) -> None:
        """Commit `item` as done: a restarted reader of the group starts after it."""
        if self.group_id is None:
            return
        self.consumer.commit({item.topic_partition: OffsetAndMetadata(item.offset + 1, "", -1)})

    def still_owned(self, item: FeedItem) -> bool:
        """False once a rebalance took `item`'s partition away (another member has it now)."""
        if self.group_id is None:
            return True
        tp = item.topic_partition
        return tp not in self._revocations.revoked and tp in self.consumer.assignment()

    def keep_alive(self) -> None:
        """Stay in the group while not consuming (during long retries): poll with all paused.

        kafka-python leaves the group when `poll` is not called within max.poll.interval;
        a paused poll returns nothing and does not move any position.
        """
        if self.group_id is None:
            return
        assignment = self.consumer.assignment()
        self.consumer.pause(*assignment)
        try:
            self.consumer.poll(timeout_ms=0)
        finally:
            # The assignment may have changed during the poll: resume what we hold now.
            self.consumer.resume(*self.consumer.assignment())

    def mark_delivering(self, item: FeedItem) -> None:
        """Start watching `item`'s partition for revocation."""
        self._revocations.revoked.discard(item.topic_partition)

    def close(self) -> None:
        self.consumer.close(autocommit=False)

    def __enter__(self) -> AlertFeed:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
