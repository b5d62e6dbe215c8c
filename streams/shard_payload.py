"""The spatial shard topic's message format (`ais.shards.v1`), a versioned contract.

One Kafka message carries the records of one decoded raw batch that one shard partition
must see, and the event time the decoder has reached. The key is the coarse H3 cell of the
first record (any cell of the partition for a message with no records); the partition is
chosen explicitly (`streams.shards`), not by the key hash.

Version 2 (written since 2026-12, binary, little-endian), in this order:

- header, 28 bytes: magic `b"STSH"`, version `2` (uint8), flags (uint8: 1 = `final`, the
  input has ended: every source the decoder has seen on the source partition; 2 = a
  watermark follows; 4 = the source partition is known; 8 = that partition had more
  messages waiting), the source partition (uint16: the raw partition the batch was decoded
  from; 0 when flag 4 is clear), the watermark (float64: the newest event time the decoder
  has seen on its input; 0 when flag 2 is clear), then three uint32 counts: positions,
  margin indexes, bytes of static reports.
- positions, 60 bytes each: mmsi (int64), time_s, lat, lon, sog_kn, cog_deg, heading_deg
  (float64 each), nav_status (int16), msg_type (uint8), and a mask of the unknown values
  (uint8: 1 sog_kn, 2 cog_deg, 4 heading_deg, 8 nav_status; an unknown value is stored as 0);
- margin indexes (uint32 each, into the positions): the positions this partition gets only
  as a neighbour (within the margin of its cells); the others are "home" positions, whose
  live status this partition writes;
- static reports: UTF-8 JSON, an array of the fields of `detectors.records.StaticReport` in
  order (empty when there are none: they are a few per cent of AIS and carry text).

Flags 4 and 8 and the source partition were added in 2026-12 in what had been two padding
bytes: a reader that does not know them ignores them. They tell each worker how far every
raw partition has been read (`streams.alignment`): every decoded batch reaches every shard
partition, so whoever holds one hears from all the decoders.

Version 1 (JSON, `{"v": 1, "p": [...], "s": [...], "wm": ..., "final": ..., "m": [...]}`,
the same fields) is still read, so a worker of this version takes over a topic that older
decoders wrote. Why binary: JSON's float formatting and parsing cost about 3.8 us per
position between the decode and shard agents, 14 % of a worker; packing and unpacking these
fixed-size rows costs 0.7 us (measured in the note of issue 7).
"""

from __future__ import annotations

import json
import struct
from typing import Any, NamedTuple

from detectors.records import Position, StaticReport

SHARD_FORMAT_VERSION = 2
MAGIC = b"STSH"

_HEADER = struct.Struct("<4sBBHdIII")
_POSITION = struct.Struct("<qddddddhBB")
_INDEX = struct.Struct("<I")
_FINAL = 1
_HAS_WATERMARK = 2
_HAS_SOURCE = 4
_SOURCE_BACKLOG = 8
_HAS_SOURCE_AND_WATERMARK = _HAS_SOURCE | _HAS_WATERMARK
_SOG_UNKNOWN, _COG_UNKNOWN, _HEADING_UNKNOWN, _STATUS_UNKNOWN = 1, 2, 4, 8


class ShardBatch(NamedTuple):
    positions: list[Position]
    statics: list[StaticReport]
    watermark_s: float | None
    final: bool
    margin: frozenset[int] = frozenset()
    # The raw partition the batch was decoded from (None: not said, as by older workers),
    # and whether that partition had more messages waiting when it was decoded.
    source_partition: int | None = None
    source_backlog: bool = False


def encode_shard_batch(
    positions: list[Position],
    statics: list[StaticReport],
    watermark_s: float | None,
    final: bool = False,
    margin: list[int] | None = None,
    source_partition: int | None = None,
    source_backlog: bool = False,
) -> bytes:
    flags = (_FINAL if final else 0) | (0 if watermark_s is None else _HAS_WATERMARK)
    if source_partition is not None:
        flags |= _HAS_SOURCE | (_SOURCE_BACKLOG if source_backlog else 0)
    static_bytes = (
        json.dumps(statics, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if statics
        else b""
    )
    margin = margin or []
    parts = [
        _HEADER.pack(
            MAGIC,
            SHARD_FORMAT_VERSION,
            flags,
            0 if source_partition is None else source_partition,
            0.0 if watermark_s is None else watermark_s,
            len(positions),
            len(margin),
            len(static_bytes),
        )
    ]
    try:
        parts.extend(_packed_positions(positions))
    except struct.error as err:
        # Decoders check every value that reaches here; one out of range is a bug upstream.
        raise ValueError(f"a position does not fit the shard format: {err}") from err
    if margin:
        parts.append(struct.pack(f"<{len(margin)}I", *margin))
    parts.append(static_bytes)
    return b"".join(parts)


def _packed_positions(positions: list[Position]) -> list[bytes]:
    parts = []
    pack = _POSITION.pack
    for position in positions:
        mmsi, time_s, lat, lon, sog, cog, heading, status, msg_type = position
        unknown = 0
        if sog is None:
            sog = 0.0
            unknown = _SOG_UNKNOWN
        if cog is None:
            cog = 0.0
            unknown |= _COG_UNKNOWN
        if heading is None:
            heading = 0.0
            unknown |= _HEADING_UNKNOWN
        if status is None:
            status = 0
            unknown |= _STATUS_UNKNOWN
        parts.append(pack(mmsi, time_s, lat, lon, sog, cog, heading, status, msg_type, unknown))
    return parts


def decode_shard_batch(value: bytes) -> ShardBatch:
    """Read a shard message (version 2, or version 1 JSON). Raises ValueError on anything
    malformed: the worker dead-letters the message with that error as the reason."""
    if value[:1] == b"{":
        return _decode_json_batch(value)
    if len(value) < _HEADER.size:
        raise ValueError(f"shard message of {len(value)} bytes is shorter than its header")
    magic, version, flags, source, watermark_s, count, margin_count, static_length = (
        _HEADER.unpack_from(value)
    )
    if magic != MAGIC or version != SHARD_FORMAT_VERSION:
        raise ValueError("not a version 2 shard message")
    positions_end = _HEADER.size + count * _POSITION.size
    margin_end = positions_end + margin_count * _INDEX.size
    if len(value) != margin_end + static_length:
        raise ValueError(
            f"shard message is {len(value)} bytes, its header says {margin_end + static_length}"
        )
    view = memoryview(value)
    positions: list[Position] = []
    append = positions.append
    # tuple.__new__ builds each Position in C: the named tuple's `_make` is a Python call
    # per position, a quarter of reading a batch.
    new_tuple = tuple.__new__
    for row in _POSITION.iter_unpack(view[_HEADER.size : positions_end]):
        unknown = row[9]
        if unknown:
            mmsi, time_s, lat, lon, sog, cog, heading, status, msg_type, _ = row
            append(
                Position(
                    mmsi,
                    time_s,
                    lat,
                    lon,
                    None if unknown & _SOG_UNKNOWN else sog,
                    None if unknown & _COG_UNKNOWN else cog,
                    None if unknown & _HEADING_UNKNOWN else heading,
                    None if unknown & _STATUS_UNKNOWN else status,
                    msg_type,
                )
            )
        else:
            append(new_tuple(Position, row[:9]))
    margin = frozenset(
        struct.unpack_from(f"<{margin_count}I", value, positions_end) if margin_count else ()
    )
    if margin and max(margin) >= count:
        raise ValueError(f"margin index {max(margin)} beyond the {count} positions")
    statics = (
        [StaticReport(*row) for row in json.loads(view[margin_end:].tobytes())]
        if static_length
        else []
    )
    return ShardBatch(
        positions,
        statics,
        watermark_s if flags & _HAS_WATERMARK else None,
        bool(flags & _FINAL),
        margin,
        source if flags & _HAS_SOURCE else None,
        bool(flags & _SOURCE_BACKLOG),
    )


def shard_batch_source(value: bytes | None) -> tuple[int, float, bool] | None:
    """(source partition, watermark, backlog) from a version 2 header alone, or None when the
    message does not say them. For the worker's consumer, which reads every shard message's
    header as it is fetched (`streams.alignment`); the whole message is read later."""
    if value is None or len(value) < _HEADER.size or value[:4] != MAGIC:
        return None
    _, version, flags, source, watermark_s, _, _, _ = _HEADER.unpack_from(value)
    if version != SHARD_FORMAT_VERSION or flags & _HAS_SOURCE_AND_WATERMARK != (
        _HAS_SOURCE_AND_WATERMARK
    ):
        return None
    return source, watermark_s, bool(flags & _SOURCE_BACKLOG)


def _decode_json_batch(value: bytes) -> ShardBatch:
    document: Any = json.loads(value)
    if not isinstance(document, dict) or document.get("v") != 1:
        raise ValueError("not a version 1 shard message")
    positions = [Position(*row) for row in document.get("p", ())]
    statics = [StaticReport(*row) for row in document.get("s", ())]
    watermark = document.get("wm")
    margin = document.get("m")
    return ShardBatch(
        positions,
        statics,
        None if watermark is None else float(watermark),
        bool(document.get("final", False)),
        frozenset(int(i) for i in margin) if margin else frozenset(),
    )
