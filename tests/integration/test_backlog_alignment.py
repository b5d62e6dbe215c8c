"""Workers reading a backlog keep the raw partitions together in event time.

Receivers' lines wait on the raw topic before the workers start, as after an outage: a
busy one (a report every 2 s, so a message of 10 lines spans 20 s) and a quiet one (every
20 s: 200 s a message). Faust hands a worker a message of each partition in turn, so
without alignment the quiet partition's event time runs ten times faster, and the busy
receiver's positions fall more than the allowed lateness behind and are dropped as late.
With two workers, each reads its own partitions and only hears of the other's through the
shard messages.
"""

from __future__ import annotations

import dataclasses
import time
import urllib.request
from pathlib import Path

import pytest
from kafka import KafkaProducer

from config.settings import Settings
from detectors.records import Position
from streams.kafka_clients import connect, producer_kwargs
from streams.raw import encode_raw
from streams.services import free_port
from streams.topics import ensure_topics, topic_names
from tests.integration.pipeline import Worker, fast_group_settings, workers
from tests.nmea_lines import nmea_lines

pytestmark = pytest.mark.integration

T_START = 1_714_521_600.0
SPAN_S = 3 * 3600.0
LINES_PER_MESSAGE = 10


def receiver_messages(mmsi: int, every_s: float, station: str) -> list[bytes]:
    """One vessel heard every `every_s` for SPAN_S, as raw messages of 10 lines."""
    count = int(SPAN_S / every_s)
    positions = [
        Position(mmsi, T_START + i * every_s, 10.0 + i * 1e-4, 110.0, 8.0, 0.0, None, 0, 1)
        for i in range(count)
    ]
    lines = nmea_lines(positions, station=station)
    return [
        encode_raw(station, lines[i : i + LINES_PER_MESSAGE])
        for i in range(0, len(lines), LINES_PER_MESSAGE)
    ]


def worker_counter(port: int, series: str) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1.0) as page:
            text = page.read().decode("utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return None


def put_on_raw(settings: Settings, messages_by_partition: dict[int, list[bytes]]) -> int:
    producer = connect(settings.kafka, KafkaProducer, **producer_kwargs(settings.kafka))
    try:
        for partition, messages in messages_by_partition.items():
            for value in messages:
                producer.send(topic_names(settings.kafka).raw, value=value, partition=partition)
        producer.flush()
    finally:
        producer.close()
    return sum(len(messages) for messages in messages_by_partition.values())


def total(ports: list[int], series: str) -> float:
    return sum(worker_counter(port, series) or 0.0 for port in ports)


def read_everything(
    settings: Settings, started: list[Worker], ports: list[int], raw_messages: int
) -> tuple[float, float]:
    """Wait until the workers have decoded every raw message and their shard agents have
    taken every shard message; return (late positions, holds)."""
    names = topic_names(settings.kafka)

    def logs() -> str:
        return "\n".join(worker.log_tail() for worker in started)

    deadline = time.monotonic() + 120.0
    for topic, expected in (
        (names.raw, raw_messages),
        # Every shard partition hears every decoded batch.
        (names.shards, raw_messages * settings.kafka.partitions),
    ):
        while total(ports, f'stswatch_messages_in_total{{topic="{topic}"}}') < expected:
            assert time.monotonic() < deadline, logs()
            assert all(worker.process.poll() is None for worker in started), logs()
            time.sleep(0.5)
    return (
        total(ports, "stswatch_late_positions_total"),
        total(ports, "stswatch_raw_partition_holds_total"),
    )


def with_metrics_port(settings: Settings, port: int) -> Settings:
    return dataclasses.replace(
        settings, metrics=dataclasses.replace(settings.metrics, worker_port=port)
    )


def test_a_quiet_receiver_does_not_run_ahead_of_a_busy_one_in_a_backlog(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    port = free_port()
    settings = with_metrics_port(fast_group_settings(settings_with_redis), port)
    ensure_topics(settings)
    busy = receiver_messages(366_000_001, 2.0, "BUSY01")
    quiet = receiver_messages(366_000_002, 20.0, "QUIET01")
    raw_messages = put_on_raw(settings, {0: busy, 1: quiet})

    with workers(settings, tmp_path, count=1) as started:
        late, holds = read_everything(settings, started, [port], raw_messages)
        decoded = 'stswatch_records_decoded_total{kind="position"}'
        assert worker_counter(port, decoded) == 10 * len(busy) + 10 * len(quiet)
        log = started[0].log_tail()

    assert late == 0, log
    assert holds > 0


def test_two_workers_keep_each_others_partitions_together(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    settings = fast_group_settings(settings_with_redis)
    assert settings.kafka.partitions == 3
    ensure_topics(settings)
    # Whichever worker reads the busy receiver's partition, the other reads a quiet one.
    raw_messages = put_on_raw(
        settings,
        {
            0: receiver_messages(366_000_001, 2.0, "BUSY01"),
            1: receiver_messages(366_000_002, 20.0, "QUIET01"),
            2: receiver_messages(366_000_003, 20.0, "QUIET02"),
        },
    )
    ports = [free_port(), free_port()]
    started = [
        Worker(with_metrics_port(settings, port), tmp_path, f"worker{i}")
        for i, port in enumerate(ports)
    ]
    try:
        late, holds = read_everything(settings, started, ports, raw_messages)
        log = "\n".join(worker.log_tail() for worker in started)
    finally:
        for worker in started:
            worker.stop()

    assert late == 0, log
    assert holds > 0
