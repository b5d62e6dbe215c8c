"""A worker reading a backlog keeps its raw partitions together in event time.

Two receivers' lines wait on the raw topic before the worker starts, as after an outage: a
busy one (a report every 2 s, so a message of 10 lines spans 20 s) and a quiet one (every
20 s: 200 s a message). Faust hands the worker a message of each partition in turn, so
without alignment the quiet partition's event time runs ten times faster, and the busy
receiver's positions fall more than the allowed lateness behind and are dropped as late.
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
from tests.integration.pipeline import fast_group_settings, workers
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


def test_a_quiet_receiver_does_not_run_ahead_of_a_busy_one_in_a_backlog(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    port = free_port()
    settings = fast_group_settings(settings_with_redis)
    settings = dataclasses.replace(
        settings, metrics=dataclasses.replace(settings.metrics, worker_port=port)
    )
    ensure_topics(settings)
    raw = topic_names(settings.kafka).raw
    busy = receiver_messages(366_000_001, 2.0, "BUSY01")
    quiet = receiver_messages(366_000_002, 20.0, "QUIET01")
    producer = connect(settings.kafka, KafkaProducer, **producer_kwargs(settings.kafka))
    try:
        for partition, messages in ((0, busy), (1, quiet)):
            for value in messages:
                producer.send(raw, value=value, key=b"x", partition=partition)
        producer.flush()
    finally:
        producer.close()
    total = len(busy) + len(quiet)

    taken_series = f'stswatch_messages_in_total{{topic="{raw}"}}'
    with workers(settings, tmp_path, count=1) as started:
        deadline = time.monotonic() + 120.0
        while (worker_counter(port, taken_series) or 0) < total:
            assert time.monotonic() < deadline, started[0].log_tail()
            assert started[0].process.poll() is None, started[0].log_tail()
            time.sleep(0.5)
        decoded = 'stswatch_records_decoded_total{kind="position"}'
        assert worker_counter(port, decoded) == 10 * len(busy) + 10 * len(quiet)
        # Every shard partition hears every decoded batch.
        shards_series = (
            f'stswatch_messages_in_total{{topic="{topic_names(settings.kafka).shards}"}}'
        )
        while (worker_counter(port, shards_series) or 0) < total * settings.kafka.partitions:
            assert time.monotonic() < deadline, started[0].log_tail()
            time.sleep(0.5)
        late = worker_counter(port, "stswatch_late_positions_total")
        holds = worker_counter(port, "stswatch_raw_partition_holds_total")
        log = started[0].log_tail()

    assert late == 0, log
    assert holds is not None and holds > 0
