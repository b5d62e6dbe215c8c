"""The spatial shard topic's message format (`ais.shards.v1`), a versioned contract.

One Kafka message carries the records of one decoded raw batch that one shard partition
must see, and the event time the decoder has reached:

- key: the coarse H3 cell of the first record (any cell of the partition for a message with
  no records); the partition is chosen explicitly (`streams.shards`), not by the key hash;
- value: UTF-8 JSON object `{"v": 1, "p": [...], "s": [...], "wm": 1714521600.0, "final": false}`
  - `p`: positions, each `[mmsi, time_s, lat, lon, sog_kn, cog_deg, heading_deg, nav_status,
    msg_type]` (the fields of `detectors.records.Position`, in order, nulls for unknown);
  - `m`: indexes (into `p`) of the positions this partition gets only as a neighbour
    (within the margin of its cells); the others are "home" positions, whose live status
    this partition writes. Optional, default none;
  - `s`: static reports, each the fields of `detectors.records.StaticReport` in order;
  - `wm`: the newest event time the decoder has seen on its input (or null);
  - `final`: true when that input has ended (a file replay's last batch).

Arrays instead of objects keep the messages small and fast to parse; the field order is
part of the contract and changes only with `v`.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from detectors.records import Position, StaticReport

SHARD_FORMAT_VERSION = 1


class ShardBatch(NamedTuple):
    positions: list[Position]
    statics: list[StaticReport]
    watermark_s: float | None
    final: bool
    margin: frozenset[int] = frozenset()


def encode_shard_batch(
    positions: list[Position],
    statics: list[StaticReport],
    watermark_s: float | None,
    final: bool = False,
    margin: list[int] | None = None,
) -> bytes:
    document: dict[str, Any] = {
        "v": SHARD_FORMAT_VERSION,
        "p": positions,
        "s": statics,
        "wm": watermark_s,
        "final": final,
    }
    if margin:
        document["m"] = margin
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def decode_shard_batch(value: bytes) -> ShardBatch:
    """Read a shard message. Raises ValueError on anything malformed: the worker
    dead-letters the message with that error as the reason."""
    document = json.loads(value)
    if not isinstance(document, dict) or document.get("v") != SHARD_FORMAT_VERSION:
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
