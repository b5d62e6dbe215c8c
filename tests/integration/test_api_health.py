"""/healthz and /metrics with a real broker: Kafka reachable, worker lag measured from the
workers' consumer group, and failing when the lag passes api.max_worker_lag_messages."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from config.settings import Settings
from streams.kafka_clients import consumer_kwargs, producer_kwargs
from streams.services import free_port
from streams.topics import ensure_topics, topic_names
from stswatch.api.app import create_app
from tests.integration.api_data import serve

pytestmark = pytest.mark.integration


def poll_health(http: httpx.Client, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """/healthz until `done(body)`; the Kafka part is cached for 2 s."""
    deadline = time.monotonic() + 20.0
    while True:
        body = http.get("/healthz").json()
        if done(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"health never became as expected: {body}")
        time.sleep(0.3)


def test_health_follows_the_worker_group_lag(settings_with_redis: Settings) -> None:
    settings = dataclasses.replace(
        settings_with_redis,
        api=dataclasses.replace(settings_with_redis.api, max_worker_lag_messages=2),
    )
    ensure_topics(settings)
    raw = topic_names(settings.kafka).raw
    group = settings.stream.app_id
    with serve(create_app(settings)) as running, httpx.Client(base_url=running.base_url) as http:
        healthy = poll_health(http, lambda b: "worker" in b["checks"])
        assert healthy["status"] == "ok"
        assert healthy["checks"]["kafka"]["ok"] is True
        worker = healthy["checks"]["worker"]["details"]
        assert worker["group_id"] == group and worker["lag_messages"] == 0

        # Five messages nobody consumes (sent one by one: tansu counts a batch as one).
        producer = KafkaProducer(**producer_kwargs(settings.kafka, linger_ms=0))
        for number in range(5):
            producer.send(raw, key=b"test", value=b"line %d" % number, partition=0)
            producer.flush()
        producer.close()
        lagging = poll_health(http, lambda b: b["status"] == "failing")
        assert lagging["checks"]["worker"]["details"]["lag_messages"] == 5
        assert "lag 5 > 2" in lagging["checks"]["worker"]["error"]
        assert http.get("/healthz").status_code == 503
        assert "stswatch_worker_lag_messages 5.0" in http.get("/metrics").text

        # The workers' group commits them: healthy again.
        consumer = KafkaConsumer(**consumer_kwargs(settings.kafka, group_id=group))
        partition = TopicPartition(raw, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        seen = 0
        deadline = time.monotonic() + 20.0
        while seen < 5 and time.monotonic() < deadline:
            seen += sum(len(r) for r in consumer.poll(timeout_ms=500).values())
        consumer.commit()
        consumer.close()
        recovered = poll_health(http, lambda b: b["status"] == "ok")
        assert recovered["checks"]["worker"]["details"]["lag_messages"] == 0


def test_health_fails_with_kafka_down(settings_with_redis: Settings) -> None:
    kafka = dataclasses.replace(
        settings_with_redis.kafka, bootstrap_servers=f"127.0.0.1:{free_port()}"
    )
    api = dataclasses.replace(settings_with_redis.api, kafka_timeout_s=1.0)
    settings = dataclasses.replace(settings_with_redis, kafka=kafka, api=api)
    with serve(create_app(settings)) as running, httpx.Client(base_url=running.base_url) as http:
        response = http.get("/healthz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["redis"]["ok"] is True
        assert checks["kafka"]["ok"] is False and checks["kafka"]["error"]
        assert checks["worker"]["ok"] is False
        # The data endpoints do not need Kafka.
        assert http.get("/encounters").status_code == 200
        assert "stswatch_kafka_up 0.0" in http.get("/metrics").text
