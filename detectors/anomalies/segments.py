"""One MMSI, several places: the positions split into tracks a ship could sail.

Global Fishing Watch's segmenter puts each position into the segment it can reach at a
plausible speed and starts a new segment otherwise. Here the same rule decides what the
encounter detector sees, before it sees it:

- the *main* segment is the MMSI's track: its positions reach the vessel's `VesselTrack`;
- a position the main segment cannot reach (farther than `max_segment_speed_kn` times the
  time since its last position, plus `position_slack_m`) joins a *side* segment it can reach,
  or starts one; side positions never reach the encounter detector, so a teleporting MMSI
  neither creates nor breaks encounters.

What the two kinds of segment then do tells what happened:

- the main segment keeps reporting while a side segment collects `conflict_min_positions`
  over `conflict_min_duration_s`: the MMSI is broadcast from two places (identity_conflict);
- the main segment falls silent and a side segment at least `jump_min_distance_m` away
  collects `jump_confirm_positions` over `jump_confirm_s`: the track jumped and carries on
  from there (position_jump); that side segment becomes the main one;
- the main segment reports again after `gap_min_s` or more: an AIS gap (ais_gap).

The positions examined are those the vessel's track keeps (the first and last of each
5-minute interval), in event-time order, when their tick is decided: the same positions in
every process, whatever order they arrived in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from detectors.anomalies.identity_history import IdentityRecord
from detectors.anomalies.params import AnomalyParams
from detectors.geodesy import EARTH_RADIUS_M, METRES_PER_NAUTICAL_MILE, haversine_m
from detectors.records import Fix

_MPS_PER_KNOT = METRES_PER_NAUTICAL_MILE / 3600.0
_METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0


class Segment:
    """A run of mutually reachable positions: where it began, where it is, how many."""

    __slots__ = ("count", "first_lat", "first_lon", "first_s", "lat", "lon", "time_s")

    def __init__(self, time_s: float, lat: float, lon: float) -> None:
        self.first_s = time_s
        self.first_lat = lat
        self.first_lon = lon
        self.time_s = time_s
        self.lat = lat
        self.lon = lon
        self.count = 1

    def reaches(self, position: Fix, max_speed_mps: float, slack_m: float) -> bool:
        span_s = abs(position.time_s - self.time_s)
        limit_m = max_speed_mps * span_s + slack_m
        # Going north-south, then east-west along a parallel, is never shorter than the
        # great circle: when even that fits, no trigonometry is needed (the usual case).
        dlon = abs(position.lon - self.lon)
        if dlon > 180.0:
            dlon = 360.0 - dlon
        if (abs(position.lat - self.lat) + dlon) * _METRES_PER_DEGREE <= limit_m:
            return True
        return haversine_m(self.lat, self.lon, position.lat, position.lon) <= limit_m

    def speed_to(self, position: Fix, slack_m: float) -> float:
        """The speed (m/s) it takes to get from here to `position`, noise allowance off."""
        distance_m = haversine_m(self.lat, self.lon, position.lat, position.lon)
        return max(0.0, distance_m - slack_m) / max(1.0, abs(position.time_s - self.time_s))

    def add(self, position: Fix) -> None:
        if position.time_s >= self.time_s:
            self.time_s = position.time_s
            self.lat = position.lat
            self.lon = position.lon
        self.count += 1

    def to_state(self) -> list[float]:
        return [
            self.first_s,
            self.first_lat,
            self.first_lon,
            self.time_s,
            self.lat,
            self.lon,
            self.count,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> Segment:
        first_s, first_lat, first_lon, time_s, lat, lon, count = state
        segment = cls(float(first_s), float(first_lat), float(first_lon))
        segment.time_s = float(time_s)
        segment.lat = float(lat)
        segment.lon = float(lon)
        segment.count = int(count)
        return segment


@dataclass(frozen=True, slots=True)
class Gap:
    """A silence of the main track: last position before, first after."""

    start_s: float
    start_lat: float
    start_lon: float
    end_s: float
    end_lat: float
    end_lon: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_state(self) -> list[float]:
        return [
            self.start_s,
            self.start_lat,
            self.start_lon,
            self.end_s,
            self.end_lat,
            self.end_lon,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> Gap:
        return cls(*(float(v) for v in state))


@dataclass(frozen=True, slots=True)
class Jump:
    """The main track's last position before a leap and the first one after it."""

    from_s: float
    from_lat: float
    from_lon: float
    to_s: float
    to_lat: float
    to_lon: float
    positions_after: int


class ConflictState:
    """An MMSI heard from two places: where the second one is, since when, and the alert."""

    __slots__ = (
        "alert_id",
        "count",
        "last_update_s",
        "lat",
        "lon",
        "opened",
        "owned",
        "side_first_s",
        "side_s",
        "start_s",
    )

    def __init__(self, alert_id: str, start_s: float, owned: bool) -> None:
        self.alert_id = alert_id
        self.start_s = start_s
        self.owned = owned
        self.opened = False
        self.last_update_s = start_s
        self.side_first_s = start_s
        self.side_s = start_s
        self.lat = 0.0
        self.lon = 0.0
        self.count = 0

    def to_state(self) -> list[Any]:
        return [
            self.alert_id,
            self.start_s,
            self.owned,
            self.opened,
            self.last_update_s,
            self.side_first_s,
            self.side_s,
            self.lat,
            self.lon,
            self.count,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> ConflictState:
        (alert_id, start_s, owned, opened, last_update_s, side_first_s, side_s, lat, lon, count) = (
            state
        )
        conflict = cls(str(alert_id), float(start_s), bool(owned))
        conflict.opened = bool(opened)
        conflict.last_update_s = float(last_update_s)
        conflict.side_first_s = float(side_first_s)
        conflict.side_s = float(side_s)
        conflict.lat = float(lat)
        conflict.lon = float(lon)
        conflict.count = int(count)
        return conflict


class VesselAnomalies:
    """What the anomaly detections keep per vessel (hung on its `VesselTrack`)."""

    __slots__ = ("conflict", "gaps", "identity", "main", "resumed", "sides")

    def __init__(self, identity: IdentityRecord | None = None) -> None:
        # Tuples, not lists: most vessels never have a side segment or a gap, and the
        # empty tuple costs nothing (an empty list a vessel: 56 bytes each).
        self.main: Segment | None = None
        self.sides: tuple[Segment, ...] = ()
        self.conflict: ConflictState | None = None
        # Recent silences of gap_min_s or more (for ais_gap alerts and the risk score).
        self.gaps: tuple[Gap, ...] = ()
        # The last time the main track was heard again after more than a tick of silence:
        # (silent from, heard again at, lat, lon). The dark-transfer watcher reads it.
        self.resumed: tuple[float, float, float, float] | None = None
        self.identity = identity

    def to_state(self) -> list[Any]:
        return [
            None if self.main is None else self.main.to_state(),
            [s.to_state() for s in self.sides],
            None if self.conflict is None else self.conflict.to_state(),
            [g.to_state() for g in self.gaps],
            None if self.resumed is None else list(self.resumed),
            None if self.identity is None else self.identity.to_state(),
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> VesselAnomalies:
        main, sides, conflict, gaps, resumed, identity = state
        found = cls(None if identity is None else IdentityRecord.from_state(identity))
        found.main = None if main is None else Segment.from_state(main)
        found.sides = tuple(Segment.from_state(s) for s in sides)
        found.conflict = None if conflict is None else ConflictState.from_state(conflict)
        found.gaps = tuple(Gap.from_state(g) for g in gaps)
        found.resumed = None if resumed is None else tuple(float(v) for v in resumed)  # type: ignore[assignment]
        return found


@dataclass(slots=True)
class Findings:
    """What one tick's positions of one vessel revealed."""

    gaps: list[Gap]
    jumps: list[Jump]
    conflicting: list[Segment]

    def __bool__(self) -> bool:
        return bool(self.gaps or self.jumps or self.conflicting)


class Segmenter:
    """The segment rule with its thresholds, applied position by position."""

    def __init__(self, params: AnomalyParams, tick_s: float) -> None:
        self.params = params
        self.max_speed_mps = params.max_segment_speed_kn * _MPS_PER_KNOT
        self.slack_m = params.position_slack_m
        self.tick_s = tick_s

    def belongs_to_main(self, state: VesselAnomalies, position: Fix) -> bool:
        """Whether `position` would join the main segment (without adding it)."""
        main = state.main
        if main is None:
            return True
        if not main.reaches(position, self.max_speed_mps, self.slack_m):
            return False
        return not state.sides or self._side_for(state, position, main) is None

    def observe(self, state: VesselAnomalies, position: Fix, found: Findings) -> bool:
        """Put `position` (the next in event time) in its segment; True if it is main.

        A position that several segments can reach joins the one heard from last (a track
        that leapt 12 km is reachable from its old place again within minutes at 50 kn,
        but it carries on from the new place; a stray position long ago must not capture
        the track when the ship later passes near it), or, between segments heard within a
        minute of each other, the one it takes the lower speed to reach."""
        main = state.main
        if main is None:
            state.main = Segment(position.time_s, position.lat, position.lon)
            return True
        if main.reaches(position, self.max_speed_mps, self.slack_m) and (
            not state.sides or self._side_for(state, position, main) is None
        ):
            silence_s = position.time_s - main.time_s
            if silence_s > self.tick_s:
                state.resumed = (main.time_s, position.time_s, position.lat, position.lon)
                if silence_s >= self.params.gap_min_s:
                    found.gaps.append(
                        Gap(
                            main.time_s,
                            main.lat,
                            main.lon,
                            position.time_s,
                            position.lat,
                            position.lon,
                        )
                    )
            main.add(position)
            return True
        side = self._side_for(state, position, None)
        if side is None:
            side = Segment(position.time_s, position.lat, position.lon)
            state.sides = (*state.sides, side)
            if len(state.sides) > self.params.max_side_segments:
                state.sides = tuple(sorted(state.sides, key=lambda s: s.time_s)[1:])
        else:
            side.add(position)
        params = self.params
        if main.time_s < side.first_s:
            # The main track has been quiet since this place appeared: a jump, once the new
            # place has carried on long enough and is far enough.
            if (
                side.count >= params.jump_confirm_positions
                and side.time_s - side.first_s >= params.jump_confirm_s
                and haversine_m(main.lat, main.lon, side.first_lat, side.first_lon)
                >= params.jump_min_distance_m
            ):
                found.jumps.append(
                    Jump(
                        main.time_s,
                        main.lat,
                        main.lon,
                        side.first_s,
                        side.first_lat,
                        side.first_lon,
                        side.count,
                    )
                )
                at = state.sides.index(side)
                state.sides = state.sides[:at] + state.sides[at + 1 :]
                state.main = side
                return True
        elif (
            side.count >= params.conflict_min_positions
            and side.time_s - side.first_s >= params.conflict_min_duration_s
        ):
            found.conflicting.append(side)
        return False

    def _side_for(
        self, state: VesselAnomalies, position: Fix, main: Segment | None
    ) -> Segment | None:
        """The side segment `position` fits best (see `observe`); with `main` given (and
        reaching it), only a side segment that fits better than the main one."""
        slack_m = self.slack_m
        reaching = [s for s in state.sides if s.reaches(position, self.max_speed_mps, slack_m)]
        if not reaching:
            return None
        candidates: list[tuple[Segment, bool]] = [(s, False) for s in reaching]
        if main is not None:
            candidates.append((main, True))
        latest_s = max(s.time_s for s, _ in candidates)
        recent = [(s, is_main) for s, is_main in candidates if s.time_s >= latest_s - 60.0]
        best, best_is_main = min(
            recent, key=lambda item: (item[0].speed_to(position, slack_m), not item[1])
        )
        return None if best_is_main else best

    def expire(self, state: VesselAnomalies, time_s: float) -> None:
        """Drop side segments quiet for `side_segment_expiry_s` and gaps past memory."""
        expiry_s = self.params.side_segment_expiry_s
        if state.sides:
            state.sides = tuple(s for s in state.sides if time_s - s.time_s <= expiry_s)
        if state.gaps:
            memory_s = self.params.gap_memory_s
            state.gaps = tuple(g for g in state.gaps if time_s - g.end_s <= memory_s)
