"""Per-vessel tracks resampled on a fixed grid of event times ("ticks").

Encounters compare two vessels at the same instant, but AIS reports arrive at irregular times,
from several receivers, sometimes late or twice. Each track therefore keeps only what the next
ticks need and answers one question: where was this vessel at tick T?

The answer is read from the positions around T: interpolated between the last report at or
before T and the first after it (when they are less than `max_interpolation_gap_s` apart and
the later one is at most `max_hold_s` after T), else the nearest of the two when it is within
`max_hold_s` of T, else unknown. Limiting the look-ahead to `max_hold_s` is what lets a tick
be decided once event time has passed T + max_hold_s + the allowed lateness, so a stream and a
batch run decide every tick on exactly the same positions.

Storage per vessel is bounded whatever the report rate: event time is cut into intervals
(k*tick, (k+1)*tick], and of each pending interval only its first and last positions are kept,
which are the only ones any tick can use. Duplicates from a second receiver fall away for free.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from detectors.geodesy import KNOTS_PER_MPS, haversine_m, interpolate
from detectors.identity import VesselIdentity
from detectors.records import Position, StaticReport

if TYPE_CHECKING:
    from detectors.anomalies.segments import VesselAnomalies


def interval_index(time_s: float, tick_s: float) -> int:
    """Index k of the interval (k*tick_s, (k+1)*tick_s] that holds `time_s`."""
    return math.ceil(time_s / tick_s) - 1


class TickSample:
    """Where one vessel was at one tick, and how fast it was going (None when unknown)."""

    __slots__ = ("lat", "lon", "mmsi", "speed_kn")

    def __init__(self, mmsi: int, lat: float, lon: float, speed_kn: float | None) -> None:
        self.mmsi = mmsi
        self.lat = lat
        self.lon = lon
        self.speed_kn = speed_kn

    def __repr__(self) -> str:
        return f"TickSample({self.mmsi}, {self.lat:.5f}, {self.lon:.5f}, {self.speed_kn})"


class VesselTrack:
    """The state one vessel needs between ticks."""

    __slots__ = (
        "anomaly",
        "buckets",
        "carry",
        "identity",
        "last_sample",
        "last_seen_s",
        "mmsi",
        "pending_statics",
    )

    def __init__(self, mmsi: int) -> None:
        self.mmsi = mmsi
        # Last position at or before the last decided tick: the "before" side of the next one.
        self.carry: Position | None = None
        # interval index -> [first, last] position of that interval, for undecided intervals.
        self.buckets: dict[int, list[Position]] = {}
        self.identity = VesselIdentity(mmsi)
        # Static reports newer than the last decided tick, applied when their tick is decided
        # so that an alert shows the identity as of its own time.
        self.pending_statics: list[StaticReport] = []
        self.last_sample: tuple[float, float, float] | None = None  # (tick_s, lat, lon)
        self.last_seen_s = -math.inf
        # Per-vessel state of the anomaly detections (detectors.anomalies), or None.
        self.anomaly: VesselAnomalies | None = None

    def add(self, position: Position, k: int) -> None:
        """Keep `position` if it is the first or last of its interval `k`."""
        bucket = self.buckets.get(k)
        if bucket is None:
            self.buckets[k] = [position, position]
        elif position.time_s < bucket[0].time_s:
            bucket[0] = position
        elif position.time_s > bucket[1].time_s:
            bucket[1] = position
        self.last_seen_s = max(self.last_seen_s, position.time_s)

    def add_static(self, report: StaticReport) -> None:
        self.pending_statics.append(report)
        self.last_seen_s = max(self.last_seen_s, report.time_s)

    def apply_statics_until(self, time_s: float) -> None:
        """Merge the static reports with event time at or before `time_s`, oldest first."""
        if not self.pending_statics:
            return
        due = [s for s in self.pending_statics if s.time_s <= time_s]
        if not due:
            return
        due.sort(key=lambda s: s.time_s)
        identity = self.identity
        for report in due:
            identity = identity.merged(report)
        self.identity = identity
        self.pending_statics = [s for s in self.pending_statics if s.time_s > time_s]

    def is_idle(self, tick_time_s: float, max_hold_s: float) -> bool:
        """True when no tick from `tick_time_s` on can be answered without new positions."""
        return not self.buckets and (
            self.carry is None or tick_time_s - self.carry.time_s > max_hold_s
        )

    def sample(
        self,
        tick_time_s: float,
        k: int,
        tick_s: float,
        max_hold_s: float,
        max_interpolation_gap_s: float,
    ) -> TickSample | None:
        """Decide tick `k` (at `tick_time_s`): the vessel's position then, or None.

        Consumes the interval that ends at this tick, so it must be called once per tick,
        in order.
        """
        ended = self.buckets.pop(k - 1, None)
        if ended is not None:
            self.carry = ended[1]
        before = self.carry
        upcoming = self.buckets.get(k)
        after = (
            upcoming[0]
            if upcoming is not None and upcoming[0].time_s <= tick_time_s + max_hold_s
            else None
        )
        if before is not None and tick_time_s - before.time_s > max_interpolation_gap_s:
            before = None
        if before is None and after is None:
            return None
        if before is not None and after is not None:
            gap_s = after.time_s - before.time_s
            if gap_s <= max_interpolation_gap_s:
                fraction = (tick_time_s - before.time_s) / gap_s if gap_s > 0 else 0.0
                lat, lon = interpolate(before.lat, before.lon, after.lat, after.lon, fraction)
                reported = _interpolated_sog(before, after, fraction)
                return self._sampled(tick_time_s, tick_s, lat, lon, reported)
        if before is not None and tick_time_s - before.time_s <= max_hold_s:
            return self._sampled(tick_time_s, tick_s, before.lat, before.lon, before.sog_kn)
        if after is not None:
            return self._sampled(tick_time_s, tick_s, after.lat, after.lon, after.sog_kn)
        return None

    def _sampled(
        self, tick_time_s: float, tick_s: float, lat: float, lon: float, sog_kn: float | None
    ) -> TickSample:
        # Speed over ground between consecutive ticks, as Global Fishing Watch does, is immune
        # to transponders that report a constant or zero SOG; over a 5-minute step GPS jitter
        # adds well under 0.1 kn. The reported SOG stands in when the previous tick is unknown.
        speed_kn = sog_kn
        previous = self.last_sample
        if previous is not None and tick_time_s - previous[0] <= tick_s * 1.5:
            speed_kn = (
                haversine_m(previous[1], previous[2], lat, lon)
                / (tick_time_s - previous[0])
                * KNOTS_PER_MPS
            )
        self.last_sample = (tick_time_s, lat, lon)
        return TickSample(self.mmsi, lat, lon, speed_kn)


def _interpolated_sog(before: Position, after: Position, fraction: float) -> float | None:
    if before.sog_kn is None:
        return after.sog_kn
    if after.sog_kn is None:
        return before.sog_kn
    return before.sog_kn + (after.sog_kn - before.sog_kn) * fraction
