"""The decode stage tells every shard partition where each batch came from, whether more of
that raw partition is waiting (how workers learn each other's progress, streams.alignment)
and whether every source of that partition has ended."""

from __future__ import annotations

import pytest

from detectors.records import Position
from streams.raw import encode_raw
from streams.shard_payload import decode_shard_batch, shard_batch_source
from streams.shards import Sharding
from streams.stages import DecodeStage
from tests.nmea_lines import nmea_lines

START_S = 1_714_521_600.0  # 2024-05-01T00:00:00Z
SHARD_PARTITIONS = 3


@pytest.mark.parametrize("backlog", [False, True])
def test_every_shard_message_names_the_raw_partition_and_its_backlog(backlog: bool) -> None:
    stage = DecodeStage(Sharding(2, 30_000.0, SHARD_PARTITIONS), "ais.raw.v1")
    positions = [
        Position(366_000_001, START_S + 10.0 * i, 10.0, 110.0 + i, 8.0, 0.0, None, 0, 1)
        for i in range(5)
    ]
    raw = encode_raw("STATION1", nmea_lines(positions, station="STATION1"))
    out = stage.handle(raw, 7, 120, None, backlog)
    assert out.positions == 5
    # Every shard partition hears the batch, with or without positions of its own.
    assert sorted(message.partition for message in out.shards) == list(range(SHARD_PARTITIONS))
    newest_s = START_S + 40.0
    for message in out.shards:
        assert shard_batch_source(message.value) == (7, newest_s, backlog)
        batch = decode_shard_batch(message.value)
        assert (batch.source_partition, batch.source_backlog) == (7, backlog)


def station_batch(station: str, start_s: float, final: bool) -> bytes:
    positions = [Position(366_000_002, start_s, 10.0, 110.0, 8.0, 0.0, None, 0, 1)]
    return encode_raw(station, nmea_lines(positions, station=station), final)


def test_a_partition_ends_only_when_every_source_seen_on_it_has_ended() -> None:
    stage = DecodeStage(Sharding(2, 30_000.0, SHARD_PARTITIONS), "ais.raw.v1")

    def finals(value: bytes, partition: int = 3) -> set[bool]:
        out = stage.handle(value, partition, 0, None)
        return {decode_shard_batch(message.value).final for message in out.shards}

    # Two files replayed together on one raw partition: the first to end ends only itself.
    assert finals(station_batch("FILEA", START_S, False)) == {False}
    assert finals(station_batch("FILEB", START_S + 1, False)) == {False}
    assert finals(station_batch("FILEA", START_S + 2, True)) == {False}
    assert finals(station_batch("FILEB", START_S + 3, False)) == {False}
    assert finals(station_batch("FILEB", START_S + 4, True)) == {True}
    # Another partition's sources are its own.
    assert finals(station_batch("FILEC", START_S + 5, True), partition=4) == {True}
    # A partition given up and read again later starts over.
    assert finals(station_batch("FILED", START_S + 6, False)) == {False}
    stage.forget([3])
    assert finals(station_batch("FILEE", START_S + 7, True)) == {True}
