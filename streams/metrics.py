"""Prometheus metrics of the stream workers, and consumer lag measured from Kafka itself.

A worker makes one `WorkerMetrics` (its own registry: no module-level singletons, so tests
and several pipelines in one process never share counters), counts what it does through its
methods, and serves the registry with `start_exporter`. Names follow Prometheus conventions:
counters end in `_total`, units are in the names (`_seconds`, `_messages`).

| metric                                         | type      | labels            |
|------------------------------------------------|-----------|-------------------|
| `stswatch_messages_in_total`                   | counter   | topic             |
| `stswatch_records_decoded_total`               | counter   | kind              |
| `stswatch_dead_letters_total`                  | counter   | reason            |
| `stswatch_late_positions_total`                | counter   |                   |
| `stswatch_raw_partition_holds_total`           | counter   |                   |
| `stswatch_alerts_published_total`              | counter   | event             |
| `stswatch_consumer_lag_messages`               | gauge     | topic, partition  |
| `stswatch_processing_latency_seconds`          | histogram |                   |
| `stswatch_alert_latency_seconds`               | histogram |                   |
| `stswatch_active_encounters`                   | gauge     |                   |
| `stswatch_tracked_vessels`                     | gauge     |                   |
| `stswatch_status_pending_updates`              | gauge     |                   |

Two latencies, because event time and wall time differ:
- processing latency: wall-clock time from a message's Kafka timestamp (when ingest appended
  it) to the end of its processing; meaningful for live feeds and replays alike.
- alert latency: wall-clock time from an alert's `event_time` to its publication. Live, this
  is what an operator waits (it includes the detector's allowed lateness); in a replay of
  old data it is the data's age, so read it only on live feeds.

Consumer lag is the number of messages on a topic partition that the workers' consumer group
has not committed yet: the end offset minus the committed offset (a partition without a
commit counts from its earliest offset). `measure_group_lag` reads both from the broker, so
any process (the API's /healthz, `LagMonitor` in a worker) can measure it without the
worker's cooperation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError
from kafka.protocol.consumer.offsets import OffsetSpec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Seconds; live alerts wait at least the detector's allowed lateness (10 min by default).
ALERT_LATENCY_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200)
PROCESSING_LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class WorkerMetrics:
    """The metric objects of one worker, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages_in = Counter(
            "stswatch_messages_in", "Kafka messages taken by the worker", ["topic"], registry=r
        )
        self.records_decoded = Counter(
            "stswatch_records_decoded",
            "AIS records decoded from raw lines (kind: position, static)",
            ["kind"],
            registry=r,
        )
        self.dead_letters = Counter(
            "stswatch_dead_letters",
            "Messages sent to the dead-letter topic",
            ["reason"],
            registry=r,
        )
        self.late_positions = Counter(
            "stswatch_late_positions",
            "Positions the detector dropped as later than detection.allowed_lateness_s",
            registry=r,
        )
        self.partition_holds = Counter(
            "stswatch_raw_partition_holds",
            "Times a raw partition was held back for running ahead in event time",
            registry=r,
        )
        self.alerts_published = Counter(
            "stswatch_alerts_published",
            "Alert events published on sts.alerts.v1 (event: opened, updated, closed)",
            ["event"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "stswatch_consumer_lag_messages",
            "Messages not yet committed by the workers' consumer group",
            ["topic", "partition"],
            registry=r,
        )
        self.processing_latency = Histogram(
            "stswatch_processing_latency_seconds",
            "Wall time from a message's Kafka timestamp to the end of its processing",
            buckets=PROCESSING_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.alert_latency = Histogram(
            "stswatch_alert_latency_seconds",
            "Wall time from an alert's event time to its publication (live feeds)",
            buckets=ALERT_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.active_encounters = Gauge(
            "stswatch_active_encounters",
            "Encounters open in this worker's shards",
            registry=r,
        )
        self.tracked_vessels = Gauge(
            "stswatch_tracked_vessels", "Vessels tracked in this worker's shards", registry=r
        )
        self.status_pending = Gauge(
            "stswatch_status_pending_updates",
            "Status updates waiting for Redis (grows while Redis is unreachable)",
            registry=r,
        )

    def count_message(self, topic: str, count: int = 1) -> None:
        self.messages_in.labels(topic=topic).inc(count)

    def count_decoded(self, kind: str, count: int = 1) -> None:
        self.records_decoded.labels(kind=kind).inc(count)

    def count_dead_letter(self, reason: str, count: int = 1) -> None:
        self.dead_letters.labels(reason=reason).inc(count)

    def count_late(self, count: int) -> None:
        self.late_positions.inc(count)

    def count_hold(self) -> None:
        self.partition_holds.inc()

    def count_alert(self, event: str, event_time_s: float, published_at_s: float) -> None:
        """One alert published; `published_at_s` is the wall clock (`time.time()`)."""
        self.alerts_published.labels(event=event).inc()
        self.alert_latency.observe(max(0.0, published_at_s - event_time_s))

    def observe_processing(self, kafka_timestamp_s: float | None, done_at_s: float) -> None:
        """A message processed; `kafka_timestamp_s` is its Kafka timestamp (None: unknown)."""
        if kafka_timestamp_s is not None and kafka_timestamp_s > 0:
            self.processing_latency.observe(max(0.0, done_at_s - kafka_timestamp_s))

    def set_state(
        self, *, active_encounters: int, tracked_vessels: int, status_pending: int = 0
    ) -> None:
        self.active_encounters.set(active_encounters)
        self.tracked_vessels.set(tracked_vessels)
        self.status_pending.set(status_pending)

    def set_lag(self, lag: GroupLag) -> None:
        for (topic, partition), messages in lag.partitions.items():
            self.consumer_lag.labels(topic=topic, partition=str(partition)).set(messages)


@dataclass(frozen=True, slots=True)
class GroupLag:
    """A consumer group's lag on some topics: messages per (topic, partition)."""

    group_id: str
    partitions: dict[tuple[str, int], int] = field(default_factory=dict)
    # Partitions the group has committed an offset on (0: the group never committed there).
    committed_partitions: int = 0

    @property
    def total(self) -> int:
        return sum(self.partitions.values())


def lag_from_offsets(
    end: dict[tuple[str, int], int],
    committed: dict[tuple[str, int], int],
    earliest: dict[tuple[str, int], int],
) -> dict[tuple[str, int], int]:
    """Lag per partition: end offset minus committed (or earliest, without a commit)."""
    out: dict[tuple[str, int], int] = {}
    for key, end_offset in end.items():
        start = committed.get(key)
        if start is None or start < 0:
            start = earliest.get(key, 0)
        out[key] = max(0, end_offset - start)
    return out


def measure_group_lag(
    admin: KafkaAdminClient, group_id: str, topics: Iterable[str], timeout_s: float = 5.0
) -> GroupLag:
    """The group's lag on `topics`, read from the broker (raises `KafkaError` on failure).

    Topics that do not exist yet are left out.
    """
    wanted = list(topics)
    partitions: list[TopicPartition] = []
    for description in admin.describe_topics(wanted):
        if description.get("error_code", 0):
            continue
        for part in description["partitions"]:
            partitions.append(TopicPartition(description["name"], part["partition_index"]))
    if not partitions:
        return GroupLag(group_id)
    timeout_ms = round(timeout_s * 1000)
    latest = admin.list_partition_offsets(
        {tp: OffsetSpec.LATEST for tp in partitions}, timeout_ms=timeout_ms
    )
    earliest = admin.list_partition_offsets(
        {tp: OffsetSpec.EARLIEST for tp in partitions}, timeout_ms=timeout_ms
    )
    offsets: Any = admin.list_group_offsets({group_id: partitions}).get(group_id, {})
    committed = {
        (tp.topic, tp.partition): int(meta.offset)
        for tp, meta in offsets.items()
        if meta.offset is not None and meta.offset >= 0
    }
    lags = lag_from_offsets(
        {(tp.topic, tp.partition): int(o.offset) for tp, o in latest.items()},
        committed,
        {(tp.topic, tp.partition): int(o.offset) for tp, o in earliest.items()},
    )
    return GroupLag(group_id, lags, len(committed))


class LagMonitor:
    """Measures a group's lag every `interval_s` in a daemon thread and sets the gauges.

    For a worker: `LagMonitor(admin, metrics, app_id, [raw, shards, alerts]).start()`; the
    admin client is made with `streams.kafka_clients.admin_kwargs`. Failures are logged and
    retried at the next interval; they never reach the worker.
    """

    def __init__(
        self,
        admin: KafkaAdminClient,
        metrics: WorkerMetrics,
        group_id: str,
        topics: Iterable[str],
        interval_s: float = 15.0,
    ) -> None:
        self.admin = admin
        self.metrics = metrics
        self.group_id = group_id
        self.topics = tuple(topics)
        self.interval_s = interval_s
        self.last: GroupLag | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stswatch-lag", daemon=True)

    def start(self) -> LagMonitor:
        self._thread.start()
        return self

    def measure_once(self) -> GroupLag | None:
        try:
            lag = measure_group_lag(self.admin, self.group_id, self.topics)
        except (KafkaError, OSError) as err:
            log.warning("consumer lag of group %s not measured: %s", self.group_id, err)
            return None
        self.metrics.set_lag(lag)
        self.last = lag
        return lag

    def _run(self) -> None:
        while not self._stop.is_set():
            self.measure_once()
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval_s + 5.0)
        self.admin.close()


@dataclass(slots=True)
class Exporter:
    """A running Prometheus exporter; `close()` stops it."""

    server: Any
    thread: threading.Thread
    port: int

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5.0)


def start_exporter(metrics: WorkerMetrics, port: int, host: str = "127.0.0.1") -> Exporter:
    """Serve `metrics` at http://host:port/metrics from a daemon thread (port 0: any)."""
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    bound_port = int(server.server_address[1])
    log.info("prometheus metrics on http://%s:%d/metrics", host, bound_port)
    return Exporter(server, thread, bound_port)
