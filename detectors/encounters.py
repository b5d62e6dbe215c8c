"""How long each pair stays close, and when that becomes an alert.

Step by step, at every decided tick:
1. a pair that is close now starts an encounter, or extends the one it had, when that one
   ended less than `max_merge_gap_s` ago (Global Fishing Watch merges such pieces);
2. a pair that was together and is now seen apart (both vessels known, not close) separates;
   one that stays unknown for longer than `max_interpolation_gap_s` has gone silent; either way
   its alert, if it had one, is `closed`;
3. an encounter that lasts `min_encounter_duration_s` with both vessels' median speed below
   `max_median_speed_kn` is placed (zone, nearest port) and, unless suppressed there, `opened`;
   while it lasts it is `updated` at most every `update_interval_s`; a closed encounter whose
   pair meets again inside the merge gap continues under the same alert id (`updated`);
4. an encounter apart for longer than the merge gap is forgotten.

Every decision reads event times only, so the same positions give the same events in any
process, in any order of arrival within the allowed lateness.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from detectors.geodesy import mean_position
from detectors.params import DetectionParams
from detectors.proximity import ClosePairs
from detectors.tracks import TickSample

OPENED = "opened"
UPDATED = "updated"
CLOSED = "closed"

# Why a qualifying encounter was not alerted (summary counters use these codes).
SUPPRESSED_HIGH_SEAS = "high_seas"
SUPPRESSED_ZONE_NOT_SELECTED = "zone_not_selected"
SUPPRESSED_NEAR_PORT = "near_port"


class Zone(Protocol):
    """An exclusive economic zone as the alert reports it."""

    @property
    def name(self) -> str: ...
    @property
    def sovereign(self) -> str: ...
    @property
    def iso(self) -> str: ...
    @property
    def mrgid(self) -> int: ...


class ZoneLookup(Protocol):
    def lookup(self, lat: float, lon: float) -> Zone | None: ...
    def matches(self, zone: Zone, selectors: tuple[str, ...]) -> bool: ...


class PortMatch(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def distance_m(self) -> float: ...


class PortLookup(Protocol):
    def nearest(self, lat: float, lon: float, max_distance_m: float) -> PortMatch | None: ...


@dataclass(frozen=True, slots=True)
class EncounterSnapshot:
    """An encounter's figures at the moment an event about it is decided."""

    alert_id: str
    mmsi_a: int
    mmsi_b: int
    start_s: float
    last_seen_s: float
    end_s: float | None
    min_distance_m: float
    median_distance_m: float
    median_speed_a_kn: float | None
    median_speed_b_kn: float | None
    lat: float
    lon: float
    tick_count: int
    zone: Zone | None
    port: PortMatch | None

    @property
    def duration_s(self) -> float:
        return self.last_seen_s - self.start_s


@dataclass(frozen=True, slots=True)
class EncounterEvent:
    """`kind` (opened, updated, closed) decided at event time `time_s`."""

    kind: str
    time_s: float
    encounter: EncounterSnapshot


def place(
    lat: float,
    lon: float,
    zones: ZoneLookup | None,
    ports: PortLookup | None,
    params: DetectionParams,
    *,
    port_suppresses: bool,
) -> tuple[Zone | None, PortMatch | None, str | None]:
    """The zone and nearest port at (lat, lon), and why an alert must not be raised there:
    outside the selected zones (or on the high seas), or, when `port_suppresses`, within the
    port exclusion radius. None as the reason means: alert."""
    zone = zones.lookup(lat, lon) if zones is not None else None
    port = (
        ports.nearest(lat, lon, params.nearest_port_search_radius_m) if ports is not None else None
    )
    reason: str | None = None
    if zones is not None:
        if zone is None:
            if not params.alert_high_seas:
                reason = SUPPRESSED_HIGH_SEAS
        elif params.alert_zones and not zones.matches(zone, params.alert_zones):
            reason = SUPPRESSED_ZONE_NOT_SELECTED
    if (
        reason is None
        and port_suppresses
        and port is not None
        and params.port_exclusion_radius_m > 0
        and port.distance_m <= params.port_exclusion_radius_m
    ):
        reason = SUPPRESSED_NEAR_PORT
    return zone, port, reason


def alert_id_for(mmsi_a: int, mmsi_b: int, start_s: float) -> str:
    """Deterministic id of an encounter: the same pair and start always give the same id."""
    digest = hashlib.sha1(f"{mmsi_a}:{mmsi_b}:{int(start_s)}".encode(), usedforsecurity=False)
    return f"sts-{digest.hexdigest()[:20]}"


class PairEncounter:
    """The running state of one pair's encounter."""

    __slots__ = (
        "closed",
        "distances_m",
        "last_close_s",
        "last_update_s",
        "midpoints",
        "mmsi_a",
        "mmsi_b",
        "opened",
        "owned",
        "qualified",
        "speeds_a_kn",
        "speeds_b_kn",
        "start_s",
        "suppressed",
        "together",
    )

    def __init__(self, mmsi_a: int, mmsi_b: int, start_s: float, owned: bool) -> None:
        self.mmsi_a = mmsi_a
        self.mmsi_b = mmsi_b
        self.start_s = start_s
        self.last_close_s = start_s
        self.together = True
        self.owned = owned
        self.opened = False
        self.closed = False
        self.last_update_s = start_s
        # Set once the encounter meets the duration and speed rule; `suppressed` then says
        # why it is not alerted where it is (None when it is).
        self.qualified = False
        self.suppressed: str | None = None
        self.distances_m: list[float] = []
        self.speeds_a_kn: list[float] = []
        self.speeds_b_kn: list[float] = []
        self.midpoints: list[tuple[float, float]] = []

    @property
    def alert_id(self) -> str:
        return alert_id_for(self.mmsi_a, self.mmsi_b, self.start_s)

    def observe(self, time_s: float, a: TickSample, b: TickSample, distance_m: float) -> None:
        self.last_close_s = time_s
        self.together = True
        self.distances_m.append(distance_m)
        if a.speed_kn is not None:
            self.speeds_a_kn.append(a.speed_kn)
        if b.speed_kn is not None:
            self.speeds_b_kn.append(b.speed_kn)
        self.midpoints.append(mean_position([(a.lat, a.lon), (b.lat, b.lon)]))

    def is_slow(self, max_median_speed_kn: float) -> bool:
        return (
            bool(self.speeds_a_kn)
            and bool(self.speeds_b_kn)
            and statistics.median(self.speeds_a_kn) < max_median_speed_kn
            and statistics.median(self.speeds_b_kn) < max_median_speed_kn
        )

    def snapshot(self, zone: Zone | None, port: PortMatch | None, ended: bool) -> EncounterSnapshot:
        lat, lon = mean_position(self.midpoints)
        return EncounterSnapshot(
            alert_id=self.alert_id,
            mmsi_a=self.mmsi_a,
            mmsi_b=self.mmsi_b,
            start_s=self.start_s,
            last_seen_s=self.last_close_s,
            end_s=self.last_close_s if ended else None,
            min_distance_m=min(self.distances_m),
            median_distance_m=statistics.median(self.distances_m),
            median_speed_a_kn=statistics.median(self.speeds_a_kn) if self.speeds_a_kn else None,
            median_speed_b_kn=statistics.median(self.speeds_b_kn) if self.speeds_b_kn else None,
            lat=lat,
            lon=lon,
            tick_count=len(self.distances_m),
            zone=zone,
            port=port,
        )


class EncounterTracker:
    """All pairs' encounters of one detector instance."""

    def __init__(
        self,
        params: DetectionParams,
        zones: ZoneLookup | None = None,
        ports: PortLookup | None = None,
        owns: Callable[[float, float], bool] | None = None,
        track_changes: bool = False,
    ) -> None:
        self.params = params
        self.zones = zones
        self.ports = ports
        self.owns = owns
        self.pairs: dict[tuple[int, int], PairEncounter] = {}
        self.qualified = 0
        self.suppressed: dict[str, int] = {}
        self.events_by_kind: dict[str, int] = {OPENED: 0, UPDATED: 0, CLOSED: 0}
        # For a stream worker that persists only what changed (see detectors.snapshot).
        self.track_changes = track_changes
        self.changed_pairs: set[tuple[int, int]] = set()
        self.forgotten_pairs: set[tuple[int, int]] = set()

    def step(
        self,
        time_s: float,
        samples: list[TickSample],
        close: ClosePairs,
        known: set[int],
    ) -> list[EncounterEvent]:
        """Advance every pair to tick `time_s`; return the events decided there."""
        params = self.params
        events: list[EncounterEvent] = []
        seen: set[tuple[int, int]] = set()
        changed = self.changed_pairs if self.track_changes else None
        for index_a, index_b, distance_m in close:
            a = samples[index_a]
            b = samples[index_b]
            key = (a.mmsi, b.mmsi)
            seen.add(key)
            encounter = self.pairs.get(key)
            rejoined = False
            if encounter is not None and time_s - encounter.last_close_s > params.max_merge_gap_s:
                self._forget(key, encounter)
                encounter = None
            if encounter is None:
                owned = True
                if self.owns is not None:
                    mid_lat, mid_lon = mean_position([(a.lat, a.lon), (b.lat, b.lon)])
                    owned = self.owns(mid_lat, mid_lon)
                encounter = PairEncounter(a.mmsi, b.mmsi, time_s, owned)
                self.pairs[key] = encounter
            elif not encounter.together:
                rejoined = True
            encounter.observe(time_s, a, b, distance_m)
            if changed is not None:
                changed.add(key)
            event = self._decide_alert(encounter, time_s, rejoined)
            if event is not None:
                events.append(event)

        for key in sorted(self.pairs.keys() - seen):
            encounter = self.pairs[key]
            if encounter.together:
                both_known = encounter.mmsi_a in known and encounter.mmsi_b in known
                silent = time_s - encounter.last_close_s > params.max_interpolation_gap_s
                if both_known or silent:
                    encounter.together = False
                    if changed is not None:
                        changed.add(key)
                    if encounter.opened and not encounter.closed and encounter.owned:
                        encounter.closed = True
                        events.append(self._event(CLOSED, encounter, time_s, ended=True))
            elif time_s - encounter.last_close_s > params.max_merge_gap_s:
                self._forget(key, encounter)
        return events

    def _decide_alert(
        self, encounter: PairEncounter, time_s: float, rejoined: bool
    ) -> EncounterEvent | None:
        params = self.params
        if not encounter.owned:
            return None
        if encounter.opened:
            if rejoined and encounter.closed:
                encounter.closed = False
                encounter.last_update_s = time_s
                return self._event(UPDATED, encounter, time_s, ended=False)
            if time_s - encounter.last_update_s >= params.update_interval_s:
                encounter.last_update_s = time_s
                return self._event(UPDATED, encounter, time_s, ended=False)
            return None
        if encounter.last_close_s - encounter.start_s < params.min_encounter_duration_s:
            return None
        if not encounter.is_slow(params.max_median_speed_kn):
            return None
        if not encounter.qualified:
            encounter.qualified = True
            self.qualified += 1
        zone, port, reason = self._place(encounter)
        encounter.suppressed = reason
        if reason is not None:
            return None
        encounter.opened = True
        encounter.last_update_s = time_s
        return self._event(OPENED, encounter, time_s, ended=False, zone=zone, port=port)

    def _place(self, encounter: PairEncounter) -> tuple[Zone | None, PortMatch | None, str | None]:
        """The encounter's zone and nearest port, and why it must not alert there (if so)."""
        lat, lon = mean_position(encounter.midpoints)
        return place(lat, lon, self.zones, self.ports, self.params, port_suppresses=True)

    def _event(
        self,
        kind: str,
        encounter: PairEncounter,
        time_s: float,
        ended: bool,
        zone: Zone | None = None,
        port: PortMatch | None = None,
    ) -> EncounterEvent:
        if kind != OPENED:
            zone, port, _ = self._place(encounter)
        self.events_by_kind[kind] += 1
        return EncounterEvent(kind, time_s, encounter.snapshot(zone, port, ended))

    def _forget(self, key: tuple[int, int], encounter: PairEncounter) -> None:
        if encounter.owned and not encounter.opened and encounter.suppressed:
            self.suppressed[encounter.suppressed] = self.suppressed.get(encounter.suppressed, 0) + 1
        del self.pairs[key]

    def suppressed_counts(self) -> dict[str, int]:
        """Qualifying encounters never alerted, by reason, including those still held."""
        counts = dict(self.suppressed)
        for encounter in self.pairs.values():
            if encounter.owned and not encounter.opened and encounter.suppressed:
                counts[encounter.suppressed] = counts.get(encounter.suppressed, 0) + 1
        return counts

    def forget_vessel_pairs_older_than(self, time_s: float) -> None:
        """Drop encounters whose last close tick is before `time_s` (used when idle)."""
        for key in [k for k, e in self.pairs.items() if e.last_close_s < time_s]:
            self._forget(key, self.pairs[key])
