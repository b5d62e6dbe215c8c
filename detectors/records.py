"""The values that flow through stswatch: decoded positions, static reports, rejects.

They are NamedTuples rather than dataclasses because millions are made per minute: a tuple
is the cheapest immutable record CPython builds, and it serialises as a plain JSON array or
object without custom code.

Times are event times in seconds since the Unix epoch (UTC), as floats: arithmetic on them
is what the detectors do all day. Conversion to timezone-aware datetimes happens only at the
edges (alert JSON, command output); see `detectors.timefmt`.

AIS "not available" values never reach these records: decoders turn them into None (or reject
the message when the missing value is the position itself).
"""

from __future__ import annotations

from typing import NamedTuple


class Position(NamedTuple):
    """One position report of one vessel (AIS types 1, 2, 3, 18, 19, 27 or a CSV row)."""

    mmsi: int
    time_s: float
    lat: float
    lon: float
    sog_kn: float | None = None
    cog_deg: float | None = None
    heading_deg: float | None = None
    nav_status: int | None = None
    msg_type: int = 0


class Fix(NamedTuple):
    """What a track keeps of a position: when, where, and the speed it reported (None when
    unknown). Nothing else of a report is read once it is held."""

    time_s: float
    lat: float
    lon: float
    sog_kn: float | None


class StaticReport(NamedTuple):
    """Identity and voyage data of one vessel (AIS types 5, 19, 24 or a CSV row).

    Every field but `mmsi`, `time_s` and `msg_type` may be None: a type 24 part A carries only
    the name, a part B only the rest. A vessel's identity is the merge of its reports
    (`detectors.identity.VesselIdentity`).
    """

    mmsi: int
    time_s: float
    msg_type: int
    name: str | None = None
    call_sign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    length_m: float | None = None
    width_m: float | None = None
    draught_m: float | None = None
    destination: str | None = None


class Reject(NamedTuple):
    """An input line that could not be used, with a short machine-readable reason.

    `reason` is a stable code (for example `bad_checksum`, `no_time`, `lat_out_of_range`)
    so that counts by reason can be compared across runs; `detail` is free text for people.
    """

    reason: str
    line: str
    source: str = ""
    detail: str = ""


class Watermark(NamedTuple):
    """Event time has reached `time_s` on the input; nothing older than the lateness is due.

    Decoders emit these so that a detector can advance its clock on inputs that carry no
    positions for a while (and the stream can forward the clock to every shard). With
    `final=True` the input has ended and every tick up to `time_s` may be closed.
    """

    time_s: float
    final: bool = False


Record = Position | StaticReport
