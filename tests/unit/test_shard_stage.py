"""The shard stage counts the positions its detectors drop as late, batch by batch, and
finishes a detector only once every input it has heard from has ended."""

from __future__ import annotations

from config import settings as settings_module
from detectors.records import Position
from streams.shard_payload import encode_shard_batch
from streams.shards import Sharding
from streams.stages import ShardOutput, ShardStage, save_clock, save_partition

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


def batch(time_s: float, source: int | None, final: bool = False, mmsi: int = 366_000_001) -> bytes:
    return encode_shard_batch([position(mmsi, time_s)], [], time_s, final, source_partition=source)


def test_one_input_ending_does_not_make_the_others_late() -> None:
    shards = stage()
    tick_s = shards.params.tick_s
    end_s = START_S + 4 * 3600.0
    # Two files replayed from raw partitions 0 and 1; partition 1 is five minutes behind.
    shards.handle(batch(end_s - 600.0, 1), 0, 0)
    shards.handle(batch(end_s, 0, final=True), 0, 1)
    detector = shards.detectors[0]
    assert detector.decided_until_s < end_s - shards.params.allowed_lateness_s
    out = shards.handle(batch(end_s - 300.0, 1, mmsi=366_000_002), 0, 2)
    assert out.late_positions == 0
    # The last input ends: every tick up to the newest event time is decided.
    shards.handle(batch(end_s - 240.0, 1, final=True, mmsi=366_000_002), 0, 3)
    assert detector.decided_until_s == (end_s // tick_s) * tick_s


def test_an_input_that_goes_on_after_its_final_batch_is_waited_for_again() -> None:
    shards = stage()
    end_s = START_S + 4 * 3600.0
    shards.handle(batch(end_s - 700.0, 0), 0, 0)
    shards.handle(batch(end_s - 600.0, 1, final=True), 0, 1)
    shards.handle(batch(end_s - 500.0, 1), 0, 2)  # another source of partition 1
    shards.handle(batch(end_s, 0, final=True), 0, 3)
    assert shards.detectors[0].decided_until_s < end_s - shards.params.allowed_lateness_s


def test_a_final_batch_of_an_older_decoder_finishes_at_once() -> None:
    shards = stage()
    end_s = START_S + 4 * 3600.0
    shards.handle(batch(end_s - 600.0, 1), 0, 0)
    shards.handle(batch(end_s, None, final=True), 0, 1)
    assert shards.detectors[0].decided_until_s == (end_s // 300.0) * 300.0


def test_which_inputs_ended_is_saved_and_restored_with_the_partition() -> None:
    shards = stage()
    end_s = START_S + 4 * 3600.0
    table: dict[str, object] = {}
    shards.handle(batch(end_s - 600.0, 1), 0, 0, table)
    shards.handle(batch(end_s, 0, final=True), 0, 1, table)
    save_partition(shards.detectors[0], 0, table)
    shards.save_inputs(0, table)
    save_clock(shards.detectors[0], 0, table)
    assert table["0:i:ended"] == {"0": True, "1": False}
    # Written again only when it changes.
    table["0:i:ended"] = {"0": True, "1": False, "unchanged": True}
    shards.handle(batch(end_s - 300.0, 1), 0, 2, table)
    shards.save_inputs(0, table)
    assert "unchanged" in table["0:i:ended"]
    del table["0:i:ended"]["unchanged"]

    restarted = stage()
    restarted.handle(batch(end_s - 240.0, 1, final=True), 0, 3, table)
    # Partition 0 ended before the restart: this was the last input.
    assert restarted.inputs[0] == {0: True, 1: True}
    assert restarted.detectors[0].decided_until_s == (end_s // 300.0) * 300.0
