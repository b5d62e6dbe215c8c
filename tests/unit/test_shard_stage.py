"""The shard stage counts the positions its detectors drop as late, batch by batch."""

from __future__ import annotations

from config import settings as settings_module
from detectors.records import Position
from streams.shard_payload import encode_shard_batch
from streams.shards import Sharding
from streams.stages import ShardOutput, ShardStage

START_S = 1_714_521_600.0  # 2024-05-01T00:00:00Z


def position(mmsi: int, time_s: float) -> Position:
    return Position(mmsi, time_s, 1.25, 103.9, 0.3, 90.0, None, 1, 1)


def stage() -> ShardStage:
    settings = settings_module.load()
    return ShardStage(settings.detection, Sharding(2, 30_000.0, 1), "ais.shards.v1")


def test_positions_older_than_the_allowed_lateness_are_counted_late() -> None:
    shards = stage()
    lateness_s = shards.params.allowed_lateness_s
    now_s = START_S + 4 * 3600.0
    first = shards.handle(encode_shard_batch([position(366_000_001, now_s)], [], now_s), 0, 0)
    assert first.late_positions == 0

    out = ShardOutput()
    stale = [position(366_000_002, now_s - 3 * lateness_s), position(366_000_003, now_s - 3600.0)]
    in_time = [position(366_000_004, now_s - lateness_s / 2)]
    shards.handle(encode_shard_batch(stale + in_time, [], now_s), 0, 1, out=out)
    assert out.late_positions == 2
    # A take adds its batches' counts into one output.
    shards.handle(encode_shard_batch(stale[:1], [], now_s), 0, 2, out=out)
    assert out.late_positions == 3
