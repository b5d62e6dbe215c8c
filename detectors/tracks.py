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
Of a position only its time, place and reported speed are kept, as doubles in one array per
vessel: a tracked vessel holds 8-9 positions, and as Python objects (a named tuple of boxed
floats each) they were 3 KB of the 5 KB a vessel cost; as doubles they are about 300 bytes.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING

from detectors.geodesy import KNOTS_PER_MPS, haversine_m, interpolate
from detectors.identity import VesselIdentity
from detectors.records import Fix, Position, StaticReport

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


# Layout of `VesselTrack.fixes`, the doubles a vessel keeps:
_CARRY = 0  # time, lat, lon, SOG of the carry position (time -inf: none)
_LAST_SAMPLE = 4  # time, lat, lon of the last tick's sample (time -inf: none)
_HEAD = 7  # then a row per undecided interval, in increasing order of its index k:
_ROW = 9  # k; time, lat, lon, SOG of the interval's first position; of its last
_FIRST = 1
_LAST = 5
# An unknown SOG is stored as NaN (positions never carry one: the decoder gives None).
# The head of a new track: no carry, no sample yet.
_EMPTY_HEAD = (-math.inf, math.nan, math.nan, math.nan, -math.inf, math.nan, math.nan)


def _sog(stored: float) -> float | None:
    return None if math.isnan(stored) else stored


def _fix(fixes: array[float], at: int) -> Fix:
    return Fix(fixes[at], fixes[at + 1], fixes[at + 2], _sog(fixes[at + 3]))


def _doubles(fix: Fix | Position) -> tuple[float, float, float, float]:
    sog = fix.sog_kn
    return (fix.time_s, fix.lat, fix.lon, math.nan if sog is None else sog)


def _row(k: int, first: Fix | Position, last: Fix | Position) -> array[float]:
    return array("d", (k, *_doubles(first), *_doubles(last)))


class VesselTrack:
    """The state one vessel needs between ticks."""

    __slots__ = (
        "anomaly",
        "fixes",
        "identity",
        "last_seen_s",
        "mmsi",
        "pending_statics",
    )

    def __init__(self, mmsi: int) -> None:
        self.mmsi = mmsi
        # The carry (the last position at or before the last decided tick: the "before" side
        # of the next one), the last sample, and the first and last position of each
        # undecided interval (layout above).
        self.fixes = array("d", _EMPTY_HEAD)
        self.identity = VesselIdentity(mmsi)
        # Static reports newer than the last decided tick, applied when their tick is decided
        # so that an alert shows the identity as of its own time. A tuple: usually empty, and
        # the empty tuple costs nothing.
        self.pending_statics: tuple[StaticReport, ...] = ()
        self.last_seen_s = -math.inf
        # Per-vessel state of the anomaly detections (detectors.anomalies), or None.
        self.anomaly: VesselAnomalies | None = None

    def add(self, position: Position, k: int) -> None:
        """Keep `position` if it is the first or last of its interval `k`."""
        # Once per position: written for speed (no calls on the common path, no array made
        # unless a new interval starts).
        fixes = self.fixes
        time_s = position.time_s
        row = len(fixes) - _ROW
        at = 0  # where the position goes in `fixes`; 0: nowhere
        if time_s > self.last_seen_s:
            # Later than everything held (the common case: reports come nearly in time
            # order), so the new last position of its interval, nearly always the newest.
            self.last_seen_s = time_s
            if row >= _HEAD and fixes[row] == k:
                at = row + _LAST
        if not at:
            if row < _HEAD or fixes[row] != k:
                row = self._find(k)
            if row < 0:
                sog = position.sog_kn
                if sog is None:
                    sog = math.nan
                lat, lon = position.lat, position.lon
                values = (k, time_s, lat, lon, sog, time_s, lat, lon, sog)
                row = ~row
                if row == len(fixes):
                    fixes.extend(values)
                else:
                    fixes[row:row] = array("d", values)
                return
            if time_s < fixes[row + _FIRST]:
                at = row + _FIRST
            elif time_s > fixes[row + _LAST]:
                at = row + _LAST
            else:
                return  # between the two, or a second receiver's copy: not kept
        sog = position.sog_kn
        fixes[at] = time_s
        fixes[at + 1] = position.lat
        fixes[at + 2] = position.lon
        fixes[at + 3] = math.nan if sog is None else sog

    def _find(self, k: int) -> int:
        """The row of interval `k`, or ~(the row it would be inserted at)."""
        fixes = self.fixes
        row = len(fixes) - _ROW
        while row >= _HEAD:
            held = fixes[row]
            if held == k:
                return row
            if held < k:
                return ~(row + _ROW)
            row -= _ROW
        return ~_HEAD

    # --- the held positions, for the anomaly monitor and saved state -------------------------

    @property
    def carry(self) -> Fix | None:
        return None if self.fixes[_CARRY] == -math.inf else _fix(self.fixes, _CARRY)

    @carry.setter
    def carry(self, fix: Fix | None) -> None:
        if fix is None:
            self.fixes[_CARRY : _CARRY + 4] = array("d", _EMPTY_HEAD[:4])
        else:
            self.fixes[_CARRY : _CARRY + 4] = array("d", _doubles(fix))

    @property
    def carry_time_s(self) -> float:
        """The carry position's time, -inf when there is none."""
        return self.fixes[_CARRY]

    @property
    def last_sample(self) -> tuple[float, float, float] | None:
        """(tick_s, lat, lon) of the last sample, or None."""
        fixes = self.fixes
        at = _LAST_SAMPLE
        return None if fixes[at] == -math.inf else (fixes[at], fixes[at + 1], fixes[at + 2])

    @last_sample.setter
    def last_sample(self, sample: tuple[float, float, float] | None) -> None:
        at = _LAST_SAMPLE
        self.fixes[at : at + 3] = array("d", _EMPTY_HEAD[at : at + 3] if sample is None else sample)

    @property
    def has_intervals(self) -> bool:
        return len(self.fixes) > _HEAD

    def first_interval(self) -> int | None:
        """The index of the earliest undecided interval, or None."""
        return int(self.fixes[_HEAD]) if len(self.fixes) > _HEAD else None

    def intervals(self) -> list[tuple[int, Fix, Fix]]:
        """Each undecided interval: (k, its first position, its last), in order of k."""
        fixes = self.fixes
        return [
            (int(fixes[row]), _fix(fixes, row + _FIRST), _fix(fixes, row + _LAST))
            for row in range(_HEAD, len(fixes), _ROW)
        ]

    def interval(self, k: int) -> tuple[Fix, Fix] | None:
        """The first and last position of interval `k`, or None."""
        row = self._find(k)
        if row < 0:
            return None
        return _fix(self.fixes, row + _FIRST), _fix(self.fixes, row + _LAST)

    def set_interval(self, k: int, first: Fix, last: Fix) -> None:
        """Hold `first` and `last` as interval `k`'s (in place of what it held)."""
        row = self._find(k)
        if row < 0:
            self.fixes[~row:~row] = _row(k, first, last)
        else:
            self.fixes[row : row + _ROW] = _row(k, first, last)

    def drop_interval(self, k: int) -> None:
        row = self._find(k)
        if row >= 0:
            del self.fixes[row : row + _ROW]

    # --- statics ------------------------------------------------------------------------------

    def add_static(self, report: StaticReport) -> None:
        self.pending_statics = (*self.pending_statics, report)
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
        self.pending_statics = tuple(s for s in self.pending_statics if s.time_s > time_s)

    # --- ticks --------------------------------------------------------------------------------

    def is_idle(self, tick_time_s: float, max_hold_s: float) -> bool:
        """True when no tick from `tick_time_s` on can be answered without new positions."""
        fixes = self.fixes
        # A missing carry has time -inf: idle by the same comparison.
        return len(fixes) == _HEAD and tick_time_s - fixes[_CARRY] > max_hold_s

    def sample(
        self,
        tick_time_s: float,
        k: int,
        tick_s: float,
        max_hold_s: float,
        max_interpolation_gap_s: float,
        hide_upcoming: bool = False,
    ) -> TickSample | None:
        """Decide tick `k` (at `tick_time_s`): the vessel's position then, or None.

        Consumes the interval that ends at this tick, so it must be called once per tick,
        in order. `hide_upcoming` leaves interval k's positions out of the answer (the
        anomaly monitor's: they are not on this vessel's main track).
        """
        fixes = self.fixes
        ended = self._find(k - 1)
        if ended >= 0:
            fixes[_CARRY : _CARRY + 4] = fixes[ended + _LAST : ended + _LAST + 4]
            del fixes[ended : ended + _ROW]
        before_s = fixes[_CARRY]
        upcoming = -1 if hide_upcoming else self._find(k)
        after = -1
        if upcoming >= 0 and fixes[upcoming + _FIRST] <= tick_time_s + max_hold_s:
            after = upcoming + _FIRST
        has_before = tick_time_s - before_s <= max_interpolation_gap_s
        if not has_before and after < 0:
            return None
        if has_before and after >= 0:
            gap_s = fixes[after] - before_s
            if gap_s <= max_interpolation_gap_s:
                fraction = (tick_time_s - before_s) / gap_s if gap_s > 0 else 0.0
                before_lat, before_lon = fixes[_CARRY + 1], fixes[_CARRY + 2]
                lat, lon = interpolate(
                    before_lat, before_lon, fixes[after + 1], fixes[after + 2], fraction
                )
                reported = _interpolated_sog(fixes[_CARRY + 3], fixes[after + 3], fraction)
                return self._sampled(tick_time_s, tick_s, lat, lon, reported)
        if has_before and tick_time_s - before_s <= max_hold_s:
            at = _CARRY
        elif after >= 0:
            at = after
        else:
            return None
        return self._sampled(tick_time_s, tick_s, fixes[at + 1], fixes[at + 2], _sog(fixes[at + 3]))

    def _sampled(
        self, tick_time_s: float, tick_s: float, lat: float, lon: float, sog_kn: float | None
    ) -> TickSample:
        # Speed over ground between consecutive ticks, as Global Fishing Watch does, is immune
        # to transponders that report a constant or zero SOG; over a 5-minute step GPS jitter
        # adds well under 0.1 kn. The reported SOG stands in when the previous tick is unknown.
        speed_kn = sog_kn
        fixes = self.fixes
        previous_s = fixes[_LAST_SAMPLE]  # -inf when there is none: never close enough
        if tick_time_s - previous_s <= tick_s * 1.5:
            speed_kn = (
                haversine_m(fixes[_LAST_SAMPLE + 1], fixes[_LAST_SAMPLE + 2], lat, lon)
                / (tick_time_s - previous_s)
                * KNOTS_PER_MPS
            )
        fixes[_LAST_SAMPLE] = tick_time_s
        fixes[_LAST_SAMPLE + 1] = lat
        fixes[_LAST_SAMPLE + 2] = lon
        return TickSample(self.mmsi, lat, lon, speed_kn)


def _interpolated_sog(before_kn: float, after_kn: float, fraction: float) -> float | None:
    """The reported SOG at `fraction` of the way (NaN in: unknown; None out: unknown)."""
    if math.isnan(before_kn):
        return _sog(after_kn)
    if math.isnan(after_kn):
        return before_kn
    return before_kn + (after_kn - before_kn) * fraction
