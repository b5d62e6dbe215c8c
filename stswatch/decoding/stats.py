"""Counters of what the decoders did with their input: read, decoded, skipped, rejected."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class DecodeStats:
    """What happened to every input line, for the summary and for tests.

    - `lines_read`: every line handed to a decoder (NMEA, CSV data rows, JSON lines).
    - `messages_by_type`: complete AIS messages (checksum good, fragments reassembled, payload
      not empty) by AIS message type, supported or not.
    - `rows_read`: data rows of CSV and JSON Lines inputs.
    - `skipped`: lines that are fine but carry nothing to use, by kind (`not_ais`,
      `blank`, `empty_payload`, `unsupported_type`, `time_header`, `fragment`, `header`).
    - `rejected`: lines that are broken or unusable, by reason (`bad_checksum`, `no_time`, ...).
    - `tolerated`: lines accepted despite a known producer quirk, by quirk (see
      `stswatch.decoding.nmea.TOLERATED_TAG_CHECKSUM_WITHOUT_GROUP`).
    - `positions`, `statics`: records produced.
    - `out_of_order`: records that left a file's reorder buffer older than one already
      passed on (input disorder beyond the window, see `stswatch.decoding.inputs`).
    """

    lines_read: int = 0
    rows_read: int = 0
    messages_by_type: Counter[int] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    tolerated: Counter[str] = field(default_factory=Counter)
    positions: int = 0
    statics: int = 0
    out_of_order: int = 0

    @property
    def messages(self) -> int:
        """Complete AIS messages of any type."""
        return sum(self.messages_by_type.values())

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def merge(self, other: DecodeStats) -> DecodeStats:
        """Add `other`'s counts to this one (in place) and return self."""
        self.lines_read += other.lines_read
        self.rows_read += other.rows_read
        self.messages_by_type.update(other.messages_by_type)
        self.skipped.update(other.skipped)
        self.rejected.update(other.rejected)
        self.tolerated.update(other.tolerated)
        self.positions += other.positions
        self.statics += other.statics
        self.out_of_order += other.out_of_order
        return self

    def __add__(self, other: DecodeStats) -> DecodeStats:
        return DecodeStats().merge(self).merge(other)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready counts (message types as string keys, sorted)."""
        return {
            "lines_read": self.lines_read,
            "rows_read": self.rows_read,
            "messages": self.messages,
            "messages_by_type": {
                str(kind): count for kind, count in sorted(self.messages_by_type.items())
            },
            "positions": self.positions,
            "statics": self.statics,
            "out_of_order": self.out_of_order,
            "skipped": dict(sorted(self.skipped.items())),
            "rejected": dict(sorted(self.rejected.items())),
            "tolerated": dict(sorted(self.tolerated.items())),
        }

    def format(self) -> str:
        """A few human-readable lines for the end-of-run summary."""
        by_type = ", ".join(
            f"{kind}: {count:,}" for kind, count in sorted(self.messages_by_type.items())
        )
        lines = [
            f"lines read: {self.lines_read:,}",
            f"AIS messages: {self.messages:,}" + (f" (by type {by_type})" if by_type else ""),
        ]
        if self.rows_read:
            lines.append(f"CSV/JSON rows: {self.rows_read:,}")
        lines.append(f"positions: {self.positions:,}, static reports: {self.statics:,}")
        if self.out_of_order:
            lines.append(f"out of order beyond the reorder window: {self.out_of_order:,}")
        lines.append(f"skipped: {self.skipped_total:,}" + _breakdown(self.skipped))
        lines.append(f"rejected: {self.rejected_total:,}" + _breakdown(self.rejected))
        if self.tolerated:
            lines.append(f"accepted despite known quirks:{_breakdown(self.tolerated)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _breakdown(counts: Counter[str]) -> str:
    if not counts:
        return ""
    parts = ", ".join(f"{reason} {count:,}" for reason, count in counts.most_common())
    return f" ({parts})"
