"""The shard topic's message format: what goes in comes out, and bad bytes are refused."""

from __future__ import annotations

import itertools
import json
import struct

import pytest

from detectors.records import Position, StaticReport
from streams.shard_payload import (
    ShardBatch,
    decode_shard_batch,
    encode_shard_batch,
    shard_batch_source,
)

T0 = 1_714_521_600.125


def every_unknown_combination() -> list[Position]:
    """Positions with each subset of the optional values unknown."""
    positions = []
    for index, unknown in enumerate(itertools.product([False, True], repeat=4)):
        positions.append(
            Position(
                211_000_000 + index,
                T0 + index * 0.1,
                -61.25 + index * 1e-7,
                179.999_999_9 - index,
                None if unknown[0] else 12.3,
                None if unknown[1] else 359.9,
                None if unknown[2] else 511.0 - 200,
                None if unknown[3] else 15,
                (1, 2, 3, 18, 19, 27)[index % 6],
            )
        )
    return positions


STATICS = [
    StaticReport(
        211_000_001, T0, 5, "ÆGIR Ω", "DABC", 9_123_456, 80, 228.0, 32.2, 14.1, "ROTTERDAM"
    ),
    StaticReport(211_000_002, T0 + 1, 24, "ONLY A NAME"),
]


@pytest.mark.parametrize("watermark_s", [None, T0 + 30.5])
@pytest.mark.parametrize("final", [False, True])
def test_a_batch_comes_back_exactly(watermark_s: float | None, final: bool) -> None:
    positions = every_unknown_combination()
    encoded = encode_shard_batch(positions, STATICS, watermark_s, final, margin=[0, 5, 15])
    assert decode_shard_batch(encoded) == ShardBatch(
        positions, STATICS, watermark_s, final, frozenset({0, 5, 15})
    )


def test_an_empty_batch_carries_only_the_clock() -> None:
    encoded = encode_shard_batch([], [], T0, False)
    assert decode_shard_batch(encoded) == ShardBatch([], [], T0, False, frozenset())
    assert len(encoded) == 28


@pytest.mark.parametrize("backlog", [False, True])
def test_the_source_partition_and_its_backlog_come_back(backlog: bool) -> None:
    encoded = encode_shard_batch(
        every_unknown_combination(), STATICS, T0, source_partition=65_535, source_backlog=backlog
    )
    batch = decode_shard_batch(encoded)
    assert (batch.source_partition, batch.source_backlog) == (65_535, backlog)
    assert batch.positions == every_unknown_combination()
    # The header alone says the same, without reading the positions.
    assert shard_batch_source(encoded) == (65_535, T0, backlog)


def test_a_batch_that_does_not_say_its_source_reads_as_unknown() -> None:
    encoded = encode_shard_batch([], [], T0)
    assert decode_shard_batch(encoded).source_partition is None
    assert shard_batch_source(encoded) is None
    # Nor does a batch without a watermark: there is no event time to report.
    assert shard_batch_source(encode_shard_batch([], [], None, source_partition=1)) is None
    written_by_an_older_worker = json.dumps({"v": 1, "p": [], "wm": T0}).encode()
    assert shard_batch_source(written_by_an_older_worker) is None
    assert decode_shard_batch(written_by_an_older_worker).source_partition is None
    for junk in (None, b"", b"STSH", b"XXXX" + encode_shard_batch([], [], T0)[4:]):
        assert shard_batch_source(junk) is None


def test_a_reader_of_the_first_version_2_header_still_reads_it() -> None:
    # Before the source partition, its two bytes were padding: older workers skip them.
    first_header = struct.Struct("<4sBBxxdIII")
    encoded = encode_shard_batch(
        every_unknown_combination(), STATICS, T0, True, [3], source_partition=7, source_backlog=True
    )
    magic, version, flags, watermark_s, count, margins, static_length = first_header.unpack_from(
        encoded
    )
    assert (magic, version, watermark_s, count, margins) == (b"STSH", 2, T0, 16, 1)
    assert flags & 3 == 3  # final, has a watermark: the bits older readers know
    assert len(encoded) == first_header.size + 16 * 60 + 4 + static_length


def test_positions_cost_less_than_json() -> None:
    positions = every_unknown_combination()
    as_json = json.dumps({"v": 1, "p": positions}, separators=(",", ":"))
    assert len(encode_shard_batch(positions, [], T0)) < len(as_json)


def test_a_version_1_json_message_is_still_read() -> None:
    positions = every_unknown_combination()
    written_by_an_older_worker = json.dumps(
        {"v": 1, "p": positions, "s": STATICS, "wm": T0, "final": True, "m": [2]}
    ).encode()
    assert decode_shard_batch(written_by_an_older_worker) == ShardBatch(
        positions, STATICS, T0, True, frozenset({2})
    )


def test_bad_messages_are_value_errors() -> None:
    good = encode_shard_batch(every_unknown_combination(), STATICS, T0, margin=[1])
    bad = {
        "empty": b"",
        "truncated header": good[:10],
        "truncated positions": good[:100],
        "trailing bytes": good + b"x",
        "other magic": b"XXXX" + good[4:],
        "other version": good[:4] + b"\x03" + good[5:],
        "json of another version": b'{"v": 7}',
        "margin beyond the positions": encode_shard_batch([], [], T0, margin=[3]),
    }
    # A header claiming 4 bytes of statics, with 4 bytes that are not JSON.
    header = bytearray(encode_shard_batch([], [], T0))
    header[24:28] = (4).to_bytes(4, "little")
    bad["statics that are not JSON"] = bytes(header) + b"\xff{[x"
    for name, value in bad.items():
        with pytest.raises(ValueError):
            decode_shard_batch(value)
            pytest.fail(f"{name} was read")


def test_a_value_the_format_cannot_hold_is_a_value_error() -> None:
    too_big_a_type = Position(211_000_000, T0, 1.0, 2.0, msg_type=300)
    with pytest.raises(ValueError, match="does not fit"):
        encode_shard_batch([too_big_a_type], [], T0)
