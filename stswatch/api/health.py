"""`/healthz`: is Redis reachable, is Kafka reachable, are the workers keeping up?

Worker lag is measured from the broker, without asking the workers: the committed offsets
of the workers' consumer group (`api.worker_group_id`, by default `stream.app_id`, which is
the Faust app id and so the group id) against the end offsets of the topics the workers
consume (raw lines, shards, alerts). The sum over partitions must stay at or below
`api.max_worker_lag_messages`. A partition the group never committed counts from its
earliest offset, so a pipeline with no worker running shows its whole backlog as lag.
(tansu 0.6 reports the end offset of a partition as the start of its last record batch
plus one, so on the embedded broker lag is a lower bound; Apache Kafka reports it exactly.)

Kafka answers are cached for `cache_s`, so that frequent probes do not load the broker; the
admin client is kept between checks and rebuilt after a failure.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import redis
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from config.settings import Settings
from detectors.errors import StswatchError
from streams.kafka_clients import admin_kwargs, connect
from streams.metrics import GroupLag, measure_group_lag
from streams.topics import topic_names
from stswatch.api.models import CheckResult


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


class KafkaHealth:
    """Reachability of the broker and lag of the workers' consumer group, cached."""

    def __init__(self, settings: Settings, cache_s: float = 2.0) -> None:
        self.settings = settings
        api = settings.api
        self.group_id = api.worker_group_id or settings.stream.app_id
        names = topic_names(settings.kafka)
        self.topics = (names.raw, names.shards, names.alerts)
        self.max_lag = api.max_worker_lag_messages
        self.timeout_s = api.kafka_timeout_s
        self.cache_s = cache_s
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()
        self._cached: tuple[float, CheckResult, CheckResult] | None = None
        self.last_lag: GroupLag | None = None

    def _connect(self) -> KafkaAdminClient:
        if self._admin is None:
            kwargs = admin_kwargs(
                self.settings.kafka,
                client_id="stswatch-api-health",
                bootstrap_timeout_s=self.timeout_s,
            )
            kwargs["request_timeout_ms"] = max(1000, round(self.timeout_s * 1000))
            self._admin = connect(self.settings.kafka, KafkaAdminClient, **kwargs)
        return self._admin

    def _drop(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(KafkaError, OSError):
                self._admin.close()
            self._admin = None

    def check(self) -> tuple[CheckResult, CheckResult]:
        """`(kafka, worker)` results, measured at most once per `cache_s`."""
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_s:
                return self._cached[1], self._cached[2]
            kafka, worker = self._measure()
            self._cached = (time.monotonic(), kafka, worker)
            return kafka, worker

    def _measure(self) -> tuple[CheckResult, CheckResult]:
        started = time.perf_counter()
        try:
            lag = measure_group_lag(self._connect(), self.group_id, self.topics, self.timeout_s)
        except (KafkaError, OSError, StswatchError) as err:
            self._drop()
            failed = CheckResult(ok=False, error=_one_line(err))
            return failed, CheckResult(
                ok=False, error="lag unknown: Kafka not reachable", details=self._details(None)
            )
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.last_lag = lag
        kafka = CheckResult(ok=True, latency_ms=round(latency_ms, 1))
        ok = lag.total <= self.max_lag
        worker = CheckResult(
            ok=ok,
            error=None if ok else f"lag {lag.total} > {self.max_lag} messages",
            details=self._details(lag),
        )
        return kafka, worker

    def _details(self, lag: GroupLag | None) -> dict[str, Any]:
        details: dict[str, Any] = {
            "group_id": self.group_id,
            "topics": list(self.topics),
            "max_lag_messages": self.max_lag,
        }
        if lag is not None:
            details["lag_messages"] = lag.total
            details["committed_partitions"] = lag.committed_partitions
            details["partitions"] = len(lag.partitions)
        return details

    def close(self) -> None:
        with self._lock:
            self._drop()


def redis_health(client: redis.Redis) -> CheckResult:
    started = time.perf_counter()
    try:
        client.ping()
    except (redis.RedisError, OSError) as err:
        return CheckResult(ok=False, error=_one_line(err))
    return CheckResult(ok=True, latency_ms=round((time.perf_counter() - started) * 1000.0, 1))
