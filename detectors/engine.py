"""The encounter detector: records in, encounter events out.

This is the one piece of detection code that both `stswatch detect` and the stream worker
run. It keeps an event-time clock (the newest event time seen, minus the allowed lateness) and
decides ticks once the clock has passed them by `max_hold_s`:

    positions, static reports  ->  per-vessel tracks  ->  samples at tick T
        ->  close pairs (H3 buckets, exact distance)  ->  encounter state  ->  events

It never reads the wall clock, never touches Kafka or Redis, and given the same records it
returns the same events whatever order they came in, as long as none is later than the
allowed lateness (later ones are counted and dropped).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from detectors.anomalies.events import AnomalyEvent
from detectors.anomalies.identity_history import IdentityChange
from detectors.anomalies.monitor import AnomalyMonitor
from detectors.anomalies.params import ALERT_STS
from detectors.anomalies.risk import Risk
from detectors.anomalies.watchlists import Watchlist
from detectors.encounters import (
    EncounterEvent,
    EncounterTracker,
    PortLookup,
    ZoneLookup,
)
from detectors.identity import VesselIdentity
from detectors.params import DetectionParams
from detectors.proximity import close_pairs
from detectors.records import Position, StaticReport, Watermark
from detectors.tracks import TickSample, VesselTrack, interval_index

# Decide at most this many empty ticks one by one before looking for a shortcut: event time
# may jump by days between two files, and nothing happens in the gap.
_FAST_FORWARD_AFTER_TICKS = 12


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An encounter (or anomaly) event with the vessels' identities as of the event's tick,
    its risk score and the vessels' recent identity changes.

    For an alert about one vessel (`AnomalyEvent` of a single-vessel type) `vessel_b` is
    `vessel_a` and `histories` has one entry."""

    event: EncounterEvent | AnomalyEvent
    vessel_a: VesselIdentity
    vessel_b: VesselIdentity
    risk: Risk | None = None
    histories: tuple[tuple[IdentityChange, ...], ...] = ()

    @property
    def alert_type(self) -> str:
        event = self.event
        return event.encounter.alert_type if isinstance(event, AnomalyEvent) else ALERT_STS


@dataclass(slots=True)
class DetectorStats:
    positions: int = 0
    statics: int = 0
    late: int = 0
    ticks: int = 0
    samples: int = 0
    close_pair_samples: int = 0
    vessels_forgotten: int = 0
    events: dict[str, int] = field(default_factory=dict)


class EncounterDetector:
    """Feed it records in (roughly) event-time order; it returns alert events."""

    def __init__(
        self,
        params: DetectionParams,
        zones: ZoneLookup | None = None,
        ports: PortLookup | None = None,
        owns: Callable[[float, float], bool] | None = None,
        track_changes: bool = False,
        watchlist: Watchlist | None = None,
    ) -> None:
        """`owns(lat, lon)` says whether this instance reports an encounter that starts
        there (the stream's spatial shards); None means it reports everything.

        With `track_changes`, the MMSIs whose state changed are collected in
        `changed_vessels` so that a stream worker can persist only those.

        `watchlist` (replaceable at any time through the attribute of that name) raises
        the risk of alerts about the vessels on it."""
        self.params = params
        self.tracker = EncounterTracker(params, zones, ports, owns, track_changes)
        self.tracks: dict[int, VesselTrack] = {}
        self.stats = DetectorStats()
        self.max_time_s = -math.inf
        # Ticks are decided in order; `next_k` is the first undecided one.
        self.next_k: int | None = None
        self.decided_until_s = -math.inf
        self.next_forget_s = -math.inf
        self.track_changes = track_changes
        self.changed_vessels: set[int] = set()
        self.forgotten_vessels: set[int] = set()
        self.watchlist = watchlist
        # Dark transfers, identity conflicts, jumps, identity changes, gaps, risk scores.
        self.anomalies = AnomalyMonitor(
            params, zones, ports, owns, self.changed_vessels if track_changes else None
        )

    # --- input -------------------------------------------------------------------------

    def process(self, record: Position | StaticReport | Watermark) -> list[AlertEvent]:
        """Take one record; return the events of any ticks it lets the detector decide."""
        if isinstance(record, Position):
            return self.add_position(record)
        if isinstance(record, StaticReport):
            return self.add_static(record)
        if record.final:
            return self.finish(record.time_s)
        return self.advance(record.time_s)

    def process_all(
        self, records: Iterable[Position | StaticReport | Watermark]
    ) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for record in records:
            found = self.process(record)
            if found:
                events.extend(found)
        return events

    def add_position(self, position: Position) -> list[AlertEvent]:
        time_s = position.time_s
        if self.next_k is None:
            self._start_clock(time_s)
        if time_s <= self.decided_until_s:
            self.stats.late += 1
            return []
        self.stats.positions += 1
        track = self.tracks.get(position.mmsi)
        if track is None:
            track = self.tracks[position.mmsi] = VesselTrack(position.mmsi)
        track.add(position, interval_index(time_s, self.params.tick_s))
        if self.track_changes:
            self.changed_vessels.add(position.mmsi)
        if time_s > self.max_time_s:
            return self.advance(time_s)
        return []

    def add_static(self, report: StaticReport) -> list[AlertEvent]:
        if self.next_k is None:
            self._start_clock(report.time_s)
        self.stats.statics += 1
        track = self.tracks.get(report.mmsi)
        if track is None:
            track = self.tracks[report.mmsi] = VesselTrack(report.mmsi)
        if self.track_changes:
            self.changed_vessels.add(report.mmsi)
        if report.time_s <= self.decided_until_s:
            # Identity is not position: a late report still tells who the vessel is.
            track.identity = track.identity.merged(report)
            return []
        track.add_static(report)
        if report.time_s > self.max_time_s:
            return self.advance(report.time_s)
        return []

    def advance(self, time_s: float) -> list[AlertEvent]:
        """Event time has reached `time_s`: decide every tick that is now due."""
        self.max_time_s = max(self.max_time_s, time_s)
        if self.next_k is None:
            return []
        params = self.params
        due_k = math.floor(
            (self.max_time_s - params.allowed_lateness_s - params.max_hold_s) / params.tick_s
        )
        return self._decide_until(due_k)

    def finish(self, time_s: float | None = None) -> list[AlertEvent]:
        """The input has ended: decide every tick up to the newest event time.

        Encounters still open stay open (nothing says they ended); their last state is in
        the events already returned.
        """
        if time_s is not None and time_s > self.max_time_s:
            self.max_time_s = time_s
        if self.next_k is None or self.max_time_s == -math.inf:
            return []
        return self._decide_until(math.floor(self.max_time_s / self.params.tick_s))

    # --- ticks -------------------------------------------------------------------------

    def _start_clock(self, time_s: float) -> None:
        tick_s = self.params.tick_s
        self.next_k = math.floor((time_s - self.params.allowed_lateness_s) / tick_s) + 1
        self.decided_until_s = (self.next_k - 1) * tick_s

    def _decide_until(self, due_k: int) -> list[AlertEvent]:
        assert self.next_k is not None
        events: list[AlertEvent] = []
        while self.next_k <= due_k:
            if due_k - self.next_k > _FAST_FORWARD_AFTER_TICKS:
                self._fast_forward(due_k)
                if self.next_k > due_k:
                    break
            events.extend(self._decide_tick(self.next_k))
            self.next_k += 1
        return events

    def _decide_tick(self, k: int) -> list[AlertEvent]:
        params = self.params
        tick_s = params.tick_s
        time_s = k * tick_s
        max_hold_s = params.max_hold_s
        max_gap_s = params.max_interpolation_gap_s
        excluded = params.excluded_ship_types
        samples: list[TickSample] = []
        known: set[int] = set()
        anomalies = self.anomalies if self.anomalies.enabled else None
        for track in self.tracks.values():
            if track.pending_statics:
                if anomalies is not None:
                    anomalies.note_statics(track, time_s)
                track.apply_statics_until(time_s)
                if self.track_changes:
                    self.changed_vessels.add(track.mmsi)
            if track.is_idle(time_s, max_hold_s):
                continue
            if self.track_changes:
                self.changed_vessels.add(track.mmsi)
            if anomalies is not None:
                # The same sample, on the positions of the MMSI's main segment only.
                sample = anomalies.sample(track, time_s, k)
            else:
                sample = track.sample(time_s, k, tick_s, max_hold_s, max_gap_s)
            if sample is None:
                continue
            known.add(track.mmsi)
            if track.identity.ship_type in excluded:
                continue
            samples.append(sample)
        self.decided_until_s = time_s
        self.stats.ticks += 1
        self.stats.samples += len(samples)

        pairs = close_pairs(samples, params.max_encounter_dist_m)
        self.stats.close_pair_samples += len(pairs)
        found: list[EncounterEvent | AnomalyEvent] = list(
            self.tracker.step(time_s, samples, pairs, known)
        )
        if anomalies is not None:
            found.extend(anomalies.step(time_s, samples, self.tracks, self.tracker))

        if time_s >= self.next_forget_s:
            self._forget_silent(time_s)
        if not found:
            return []
        return [self._alert(event) for event in found]

    def _alert(self, event: EncounterEvent | AnomalyEvent) -> AlertEvent:
        kind = event.kind
        self.stats.events[kind] = self.stats.events.get(kind, 0) + 1
        snapshot = event.encounter
        vessel_a = self.identity(snapshot.mmsi_a)
        if snapshot.mmsi_b == snapshot.mmsi_a:
            vessels: tuple[VesselIdentity, ...] = (vessel_a,)
            vessel_b = vessel_a
        else:
            vessel_b = self.identity(snapshot.mmsi_b)
            vessels = (vessel_a, vessel_b)
        risk, histories = self.anomalies.enrich(event, vessels, self.tracks, self.watchlist)
        return AlertEvent(event, vessel_a, vessel_b, risk, histories)

    def _fast_forward(self, due_k: int) -> None:
        """Skip ticks nothing can happen at: when no pair is together and no vessel has a
        recent enough position, jump to the interval of the earliest undecided position."""
        assert self.next_k is not None
        if any(e.together for e in self.tracker.pairs.values()) or self.anomalies.busy():
            return
        params = self.params
        time_s = self.next_k * params.tick_s
        earliest_k: int | None = None
        for track in self.tracks.values():
            # A missing carry has time -inf: never recent enough.
            if time_s - track.carry_time_s <= params.max_hold_s:
                return
            first = track.first_interval()
            if first is not None and (earliest_k is None or first < earliest_k):
                earliest_k = first
        # Tick k reads interval k-1 (its "before" side) and interval k (its "after" side).
        target_k = due_k + 1 if earliest_k is None else min(due_k + 1, earliest_k)
        if target_k > self.next_k:
            self.next_k = target_k
            self.decided_until_s = (target_k - 1) * params.tick_s

    def _forget_silent(self, time_s: float) -> None:
        """Drop vessels silent for `forget_after_s` (checked once an hour of event time)."""
        horizon_s = time_s - self.params.forget_after_s
        stale = [
            mmsi
            for mmsi, track in self.tracks.items()
            if track.last_seen_s < horizon_s and not track.has_intervals
        ]
        for mmsi in stale:
            del self.tracks[mmsi]
        self.anomalies.open_conflicts.difference_update(stale)
        if self.track_changes:
            self.forgotten_vessels.update(stale)
            self.changed_vessels.difference_update(stale)
        self.stats.vessels_forgotten += len(stale)
        self.next_forget_s = time_s + 3600.0

    # --- lookups -----------------------------------------------------------------------

    def identity(self, mmsi: int) -> VesselIdentity:
        track = self.tracks.get(mmsi)
        return track.identity if track is not None else VesselIdentity(mmsi)

    @property
    def vessel_count(self) -> int:
        return len(self.tracks)
