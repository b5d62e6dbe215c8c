"""Prometheus metrics of the API process, served at `/metrics`.

- `stswatch_api_requests_total{route,method,status}` and
  `stswatch_api_request_duration_seconds{route}`: what the API answered, and how fast;
- read from the status store at each scrape: `stswatch_status_active_encounters`,
  `stswatch_status_closed_encounters`, `stswatch_status_vessels`;
- measured from Kafka (cached, see `stswatch.api.health`): `stswatch_worker_lag_messages`,
  the workers' consumer-group lag, and `stswatch_kafka_up`, `stswatch_redis_up`.

So one scrape of the API shows the pipeline's state even where the workers export nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.status import StatusReader
from stswatch.api.health import KafkaHealth

log = logging.getLogger(__name__)

_LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class StatusCollector(Collector):
    """Gauges computed at scrape time from Redis and Kafka; failures become `*_up 0`."""

    def __init__(self, reader: StatusReader, kafka: KafkaHealth | None) -> None:
        self.reader = reader
        self.kafka = kafka

    def collect(self) -> Iterator[Metric]:
        redis_up = GaugeMetricFamily("stswatch_redis_up", "1 when the status store answered")
        try:
            counts = self.reader.counts()
        except (redis.RedisError, OSError) as err:
            log.warning("metrics: redis not reachable: %s", err)
            redis_up.add_metric([], 0)
        else:
            redis_up.add_metric([], 1)
            yield GaugeMetricFamily(
                "stswatch_status_active_encounters",
                "Active encounters in the status store",
                value=counts["active_encounters"],
            )
            yield GaugeMetricFamily(
                "stswatch_status_closed_encounters",
                "Closed encounters still in the status store",
                value=counts["closed_encounters"],
            )
            yield GaugeMetricFamily(
                "stswatch_status_vessels",
                "Vessels in the status store's geo index",
                value=counts["vessels"],
            )
        yield redis_up
        if self.kafka is None:
            return
        kafka_check, worker_check = self.kafka.check()
        yield GaugeMetricFamily(
            "stswatch_kafka_up", "1 when the broker answered", value=1 if kafka_check.ok else 0
        )
        lag = worker_check.details.get("lag_messages")
        if lag is not None:
            yield GaugeMetricFamily(
                "stswatch_worker_lag_messages",
                "Messages not yet committed by the workers' consumer group",
                value=lag,
            )


class ApiMetrics:
    """The API's registry: request counters and latencies, plus the status collector."""

    def __init__(self, reader: StatusReader, kafka: KafkaHealth | None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stswatch_api_requests",
            "HTTP requests answered by the API",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "stswatch_api_request_duration_seconds",
            "Time to answer an API request",
            ["route"],
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.registry.register(StatusCollector(reader, kafka))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.duration.labels(route=route).observe(seconds)
