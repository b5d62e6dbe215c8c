"""The anomaly detections as the encounter detector calls them, tick by tick.

`EncounterDetector` calls, at each tick it decides:

1. `note_statics(track, time_s)` for a vessel whose static reports are due (before they are
   merged into its identity), so that identity changes are read report by report;
2. `sample(track, time_s, k)` instead of `track.sample(...)`: the positions of the interval
   that just ended go through the segmenter (`segments`), the ones the main segment cannot
   reach are taken out of the track before it samples, and so are the first positions of
   the next interval when they are out of reach;
3. `step(...)` once the encounters have moved on: identity changes, gaps, jumps, conflicts
   and dark transfers become `AnomalyEvent`s;
4. `enrich(...)` for every alert (STS ones too): its risk score and the vessels' identity
   histories.

Per-vessel state lives on the vessel's track (`VesselTrack.anomaly`), so that the stream
persists it with the track; detector-wide state (dark-transfer candidates) goes with the
detector's clock (`to_state` / `restore`).

Per-vessel alerts are raised by the process that owns their position (`owns`, the stream's
spatial shards): a gap by the owner of where the vessel fell silent, a jump by the owner of
where it landed, a conflict or an identity change by the owner of the main track's last
position. A stream shard sees only the positions in and near its cells, so a conflict or a
jump between places farther apart than the shard margin is seen whole only by
`stswatch detect` (see docs/risk.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detectors.anomalies.dark import DarkCandidate, DarkDecision, DarkWatcher
from detectors.anomalies.events import AnomalyEvent, AnomalySnapshot, anomaly_alert_id
from detectors.anomalies.identity_history import IdentityChange, IdentityRegistry
from detectors.anomalies.params import (
    ALERT_AIS_GAP,
    ALERT_DARK_STS,
    ALERT_IDENTITY_CHANGE,
    ALERT_IDENTITY_CONFLICT,
    ALERT_POSITION_JUMP,
    ALERT_STS,
)
from detectors.anomalies.risk import Risk, RiskSubject, score_alert
from detectors.anomalies.segments import (
    ConflictState,
    Findings,
    Gap,
    Jump,
    Segment,
    Segmenter,
    VesselAnomalies,
)
from detectors.anomalies.watchlists import Watchlist
from detectors.encounters import (
    CLOSED,
    OPENED,
    EncounterEvent,
    EncounterTracker,
    PortLookup,
    PortMatch,
    Zone,
    ZoneLookup,
    place,
)
from detectors.geodesy import KNOTS_PER_MPS, haversine_m
from detectors.identity import VesselIdentity
from detectors.params import DetectionParams
from detectors.records import Fix, StaticReport
from detectors.timefmt import iso_utc
from detectors.tracks import TickSample, VesselTrack

UPDATED = "updated"
_PURGE_EVERY_S = 3600.0
STATE_VERSION = 1


def _point(time_s: float, lat: float, lon: float) -> dict[str, Any]:
    return {"time": iso_utc(time_s), "lat": round(lat, 6), "lon": round(lon, 6)}


def _static_order(
    report: StaticReport,
) -> tuple[float, int, int, str, str, int]:
    """Event-time order, and a full order for reports that tie (so that every process reads
    them in the same order whatever order they arrived in)."""
    return (
        report.time_s,
        report.mmsi,
        report.msg_type,
        report.name or "",
        report.call_sign or "",
        report.imo or 0,
    )


def _speed_kn(distance_m: float, span_s: float) -> float | None:
    return round(distance_m / span_s * KNOTS_PER_MPS, 1) if span_s > 0 else None


class AnomalyMonitor:
    """Dark transfers, identity conflicts, jumps, identity changes, gaps; risk scores."""

    def __init__(
        self,
        params: DetectionParams,
        zones: ZoneLookup | None = None,
        ports: PortLookup | None = None,
        owns: Callable[[float, float], bool] | None = None,
        changed: set[int] | None = None,
    ) -> None:
        self.params = params
        self.config = params.anomalies
        self.enabled = params.anomalies.enabled
        self.zones = zones
        self.ports = ports
        self.owns = owns
        # The detector's set of vessels to persist (stream), or None.
        self.changed = changed
        self.segmenter = Segmenter(params.anomalies, params.tick_s)
        self.registry = IdentityRegistry(
            params.anomalies.identity_confirm_reports, params.anomalies.identity_memory_s
        )
        self.dark = DarkWatcher(
            params.anomalies.dark_min_silence_s,
            params.anomalies.dark_max_silence_s,
            params.anomalies.dark_loiter_radius_m,
            params.anomalies.dark_reappear_distance_m,
            params.max_median_speed_kn,
            params.tick_s,
            owns,
        )
        self.open_conflicts: set[int] = set()
        self.next_purge_s = float("-inf")
        self.suppressed: dict[str, int] = {}
        self.events_by_type: dict[str, int] = {}
        # Work collected while the tick's tracks are sampled, handled in `step`.
        self._statics: list[StaticReport] = []
        self._found: list[tuple[int, Findings]] = []
        self._scratch = Findings([], [], [])

    # --- per vessel, while sampling ---------------------------------------------------------

    def vessel(self, track: VesselTrack) -> VesselAnomalies:
        state: VesselAnomalies | None = track.anomaly
        if state is None:
            state = track.anomaly = VesselAnomalies(self.registry.record(track.mmsi))
        elif state.identity is None:
            state.identity = self.registry.record(track.mmsi)
        return state

    def note_statics(self, track: VesselTrack, time_s: float) -> None:
        for report in track.pending_statics:
            if report.time_s <= time_s:
                self._statics.append(report)

    def sample(self, track: VesselTrack, time_s: float, k: int) -> TickSample | None:
        """`track.sample` for tick k, on the main segment's positions only."""
        params = self.params
        state = self.vessel(track)
        ended = track.interval(k - 1)
        if ended is not None:
            self._segment(track, state, ended, k - 1)
        elif state.sides:
            self.segmenter.expire(state, time_s)
        upcoming = track.interval(k)
        # Out of the main track's reach: not this vessel's position as far as the encounter
        # detector is concerned (it is segmented with its interval next tick).
        hidden = (
            upcoming is not None
            and upcoming[0].time_s <= time_s + params.max_hold_s
            and not self.segmenter.belongs_to_main(state, upcoming[0])
        )
        return track.sample(
            time_s,
            k,
            params.tick_s,
            params.max_hold_s,
            params.max_interpolation_gap_s,
            hide_upcoming=hidden,
        )

    def _segment(
        self, track: VesselTrack, state: VesselAnomalies, ended: tuple[Fix, Fix], k: int
    ) -> None:
        first, last = ended
        found = self._scratch
        observe = self.segmenter.observe
        keep_first = observe(state, first, found)
        # One position in the interval: first and last are the same report.
        keep_last = keep_first if last.time_s == first.time_s else observe(state, last, found)
        if keep_first and keep_last:
            pass
        elif keep_first:
            track.set_interval(k, first, first)
        elif keep_last:
            track.set_interval(k, last, last)
        else:
            track.drop_interval(k)
        if state.sides:
            self.segmenter.expire(state, last.time_s)
        if found:
            if found.jumps:
                # The track starts afresh where it landed: no interpolation, no speed
                # across the leap.
                track.last_sample = None
                if not keep_first and not keep_last:
                    track.carry = None
            if found.gaps:
                state.gaps = (*state.gaps, *found.gaps)
                self.segmenter.expire(state, last.time_s)
            self._found.append((track.mmsi, Findings(found.gaps, found.jumps, found.conflicting)))
            self._scratch = Findings([], [], [])

    # --- per tick, after the encounters -----------------------------------------------------

    def step(
        self,
        time_s: float,
        samples: list[TickSample],
        tracks: dict[int, VesselTrack],
        tracker: EncounterTracker,
    ) -> list[AnomalyEvent]:
        events: list[AnomalyEvent] = []
        if self._statics:
            events.extend(self._identity_changes(time_s, tracks))
        if self._found:
            found, self._found = self._found, []
            found.sort(key=lambda item: item[0])
            for mmsi, findings in found:
                track = tracks.get(mmsi)
                if track is None or track.anomaly is None:
                    continue
                for gap in findings.gaps:
                    events.extend(self._gap_events(time_s, mmsi, gap))
                for jump in findings.jumps:
                    events.extend(self._jump_events(time_s, mmsi, jump))
                for side in findings.conflicting:
                    events.extend(self._conflict_seen(time_s, mmsi, track.anomaly, side))
        if self.open_conflicts:
            events.extend(self._close_conflicts(time_s, tracks))
        if tracker.pairs or self.dark.candidates:
            events.extend(self._dark_events(time_s, samples, tracks, tracker))
        if time_s >= self.next_purge_s:
            self.registry.forget_older_than(time_s - self.config.identity_memory_s)
            self.next_purge_s = time_s + _PURGE_EVERY_S
        for event in events:
            kind = event.encounter.alert_type
            self.events_by_type[kind] = self.events_by_type.get(kind, 0) + 1
        return events

    def busy(self) -> bool:
        """True while something may happen at a tick with no positions at all (the detector
        then decides every tick instead of skipping idle ones)."""
        return bool(self.open_conflicts or self.dark.candidates)

    # --- placing --------------------------------------------------------------------------

    def place(
        self, lat: float, lon: float, alert_type: str
    ) -> tuple[Zone | None, PortMatch | None, str | None]:
        """Zone and nearest port of an alert at (lat, lon), and why it must not be raised
        there (the STS rule's zone selection; the port radius for some types)."""
        return place(
            lat,
            lon,
            self.zones,
            self.ports,
            self.params,
            port_suppresses=alert_type in self.config.port_suppressed_types,
        )

    def _suppress(self, alert_type: str, reason: str) -> None:
        key = f"{alert_type}:{reason}"
        self.suppressed[key] = self.suppressed.get(key, 0) + 1

    def _placed_pair(
        self,
        time_s: float,
        alert_type: str,
        alert_id: str,
        mmsi: int,
        lat: float,
        lon: float,
        start_s: float,
        end_s: float,
        details: dict[str, Any],
    ) -> list[AnomalyEvent]:
        """An instantaneous finding: `opened` and `closed` at the same tick (or nothing when
        its place is suppressed or another shard owns it)."""
        if self.owns is not None and not self.owns(lat, lon):
            return []
        zone, port, reason = self.place(lat, lon, alert_type)
        if reason is not None:
            self._suppress(alert_type, reason)
            return []
        return [
            AnomalyEvent(
                kind,
                time_s,
                AnomalySnapshot(
                    alert_type,
                    alert_id,
                    mmsi,
                    mmsi,
                    start_s,
                    end_s,
                    end_s if kind == CLOSED else None,
                    lat,
                    lon,
                    zone,
                    port,
                    details,
                ),
            )
            for kind in (OPENED, CLOSED)
        ]

    # --- identity changes -------------------------------------------------------------------

    def _identity_changes(
        self, time_s: float, tracks: dict[int, VesselTrack]
    ) -> list[AnomalyEvent]:
        statics, self._statics = self._statics, []
        statics.sort(key=_static_order)
        by_mmsi: dict[int, list[IdentityChange]] = {}
        for report in statics:
            changes = self.registry.observe(report)
            if changes:
                by_mmsi.setdefault(report.mmsi, []).extend(changes)
                if self.changed is not None:
                    self.changed.add(report.mmsi)
        events: list[AnomalyEvent] = []
        for mmsi in sorted(by_mmsi):
            changes = by_mmsi[mmsi]
            track = tracks.get(mmsi)
            main = track.anomaly.main if track is not None and track.anomaly is not None else None
            if main is None or time_s - main.time_s > self.config.vessel_position_max_age_s:
                continue  # no recent position: the change is in the history, not alerted
            first_s = changes[0].time_s
            details = {
                "changes": [
                    {
                        "time": iso_utc(c.time_s),
                        "field": c.field,
                        "old": c.old,
                        "new": c.new,
                        "imo": c.imo,
                    }
                    for c in changes
                ]
            }
            events.extend(
                self._placed_pair(
                    time_s,
                    ALERT_IDENTITY_CHANGE,
                    anomaly_alert_id(ALERT_IDENTITY_CHANGE, mmsi, int(first_s)),
                    mmsi,
                    main.lat,
                    main.lon,
                    first_s,
                    changes[-1].time_s,
                    details,
                )
            )
        return events

    # --- gaps, jumps ------------------------------------------------------------------------

    def _gap_events(self, time_s: float, mmsi: int, gap: Gap) -> list[AnomalyEvent]:
        distance_m = haversine_m(gap.start_lat, gap.start_lon, gap.end_lat, gap.end_lon)
        details = {
            "gap": {
                "from": _point(gap.start_s, gap.start_lat, gap.start_lon),
                "to": _point(gap.end_s, gap.end_lat, gap.end_lon),
                "duration_s": round(gap.duration_s, 1),
                "distance_km": round(distance_m / 1000.0, 3),
                "implied_speed_kn": _speed_kn(distance_m, gap.duration_s),
            }
        }
        return self._placed_pair(
            time_s,
            ALERT_AIS_GAP,
            anomaly_alert_id(ALERT_AIS_GAP, mmsi, int(gap.start_s)),
            mmsi,
            gap.start_lat,
            gap.start_lon,
            gap.start_s,
            gap.end_s,
            details,
        )

    def _jump_events(self, time_s: float, mmsi: int, jump: Jump) -> list[AnomalyEvent]:
        distance_m = haversine_m(jump.from_lat, jump.from_lon, jump.to_lat, jump.to_lon)
        details = {
            "jump": {
                "from": _point(jump.from_s, jump.from_lat, jump.from_lon),
                "to": _point(jump.to_s, jump.to_lat, jump.to_lon),
                "distance_km": round(distance_m / 1000.0, 3),
                "implied_speed_kn": _speed_kn(distance_m, jump.to_s - jump.from_s),
                "positions_after": jump.positions_after,
            }
        }
        return self._placed_pair(
            time_s,
            ALERT_POSITION_JUMP,
            anomaly_alert_id(ALERT_POSITION_JUMP, mmsi, int(jump.to_s)),
            mmsi,
            jump.to_lat,
            jump.to_lon,
            jump.from_s,
            jump.to_s,
            details,
        )

    # --- identity conflicts -----------------------------------------------------------------

    def _conflict_seen(
        self, time_s: float, mmsi: int, state: VesselAnomalies, side: Segment
    ) -> list[AnomalyEvent]:
        main = state.main
        if main is None:
            return []
        conflict = state.conflict
        if conflict is None:
            owned = self.owns is None or self.owns(main.lat, main.lon)
            conflict = state.conflict = ConflictState(
                anomaly_alert_id(ALERT_IDENTITY_CONFLICT, mmsi, int(side.first_s)),
                side.first_s,
                owned,
            )
            self.open_conflicts.add(mmsi)
        conflict.side_first_s = min(conflict.side_first_s, side.first_s)
        conflict.side_s = max(conflict.side_s, side.time_s)
        conflict.lat = side.lat
        conflict.lon = side.lon
        conflict.count += 1
        if not conflict.owned:
            return []
        if not conflict.opened:
            zone, port, reason = self.place(main.lat, main.lon, ALERT_IDENTITY_CONFLICT)
            if reason is not None:
                self._suppress(ALERT_IDENTITY_CONFLICT, reason)
                conflict.owned = False  # tracked, never alerted
                return []
            conflict.opened = True
            conflict.last_update_s = time_s
            return [self._conflict_event(OPENED, time_s, mmsi, state, None, zone, port)]
        if time_s - conflict.last_update_s >= self.params.update_interval_s:
            conflict.last_update_s = time_s
            zone, port, _ = self.place(main.lat, main.lon, ALERT_IDENTITY_CONFLICT)
            return [self._conflict_event(UPDATED, time_s, mmsi, state, None, zone, port)]
        return []

    def _close_conflicts(self, time_s: float, tracks: dict[int, VesselTrack]) -> list[AnomalyEvent]:
        events = []
        after_s = self.config.conflict_close_after_s
        for mmsi in sorted(self.open_conflicts):
            track = tracks.get(mmsi)
            state = track.anomaly if track is not None else None
            conflict = state.conflict if state is not None else None
            if state is None or conflict is None:
                self.open_conflicts.discard(mmsi)
                continue
            if time_s - conflict.side_s <= after_s:
                continue
            if conflict.opened and conflict.owned and state.main is not None:
                main = state.main
                zone, port, _ = self.place(main.lat, main.lon, ALERT_IDENTITY_CONFLICT)
                events.append(
                    self._conflict_event(CLOSED, time_s, mmsi, state, conflict.side_s, zone, port)
                )
            state.conflict = None
            self.open_conflicts.discard(mmsi)
            if self.changed is not None:
                self.changed.add(mmsi)
        return events

    def _conflict_event(
        self,
        kind: str,
        time_s: float,
        mmsi: int,
        state: VesselAnomalies,
        end_s: float | None,
        zone: Zone | None,
        port: PortMatch | None,
    ) -> AnomalyEvent:
        conflict = state.conflict
        main = state.main
        assert conflict is not None and main is not None
        distance_m = haversine_m(main.lat, main.lon, conflict.lat, conflict.lon)
        span_s = abs(main.time_s - conflict.side_s)
        details = {
            "conflict": {
                "places": [
                    _point(main.time_s, main.lat, main.lon),
                    _point(conflict.side_s, conflict.lat, conflict.lon),
                ],
                "distance_km": round(distance_m / 1000.0, 3),
                "implied_speed_kn": _speed_kn(distance_m, span_s),
                "reports_elsewhere": conflict.count,
            }
        }
        last_seen_s = max(conflict.side_s, min(main.time_s, time_s))
        return AnomalyEvent(
            kind,
            time_s,
            AnomalySnapshot(
                ALERT_IDENTITY_CONFLICT,
                conflict.alert_id,
                mmsi,
                mmsi,
                conflict.start_s,
                last_seen_s,
                end_s,
                main.lat,
                main.lon,
                zone,
                port,
                details,
            ),
        )

    # --- dark transfers ---------------------------------------------------------------------

    def _dark_events(
        self,
        time_s: float,
        samples: list[TickSample],
        tracks: dict[int, VesselTrack],
        tracker: EncounterTracker,
    ) -> list[AnomalyEvent]:
        def vessel_state(mmsi: int) -> VesselAnomalies | None:
            track = tracks.get(mmsi)
            return track.anomaly if track is not None else None

        def place(candidate: DarkCandidate) -> str | None:
            _, _, reason = self.place(candidate.lat, candidate.lon, ALERT_DARK_STS)
            if reason is not None:
                self._suppress(ALERT_DARK_STS, reason)
            return reason

        decisions = self.dark.step(time_s, tracker.pairs, vessel_state, samples, place)
        return [self._dark_event(time_s, d) for d in decisions]

    def _dark_event(self, time_s: float, decision: DarkDecision) -> AnomalyEvent:
        kind, candidate, extra = decision
        resumed = extra.get("resumed")
        last_seen_s = float(extra["last_seen_s"])
        distances = sorted(candidate.distances_m)
        zone, port, _ = self.place(candidate.lat, candidate.lon, ALERT_DARK_STS)
        details = {
            "dark": {
                "silent_mmsi": candidate.silent,
                "partner_mmsi": candidate.partner,
                "silent_from": iso_utc(candidate.silent_s),
                "silent_until": None if resumed is None else iso_utc(resumed[1]),
                "silent_s": round(last_seen_s - candidate.silent_s, 1),
                "vanished_at": {"lat": round(candidate.lat, 6), "lon": round(candidate.lon, 6)},
                "reappeared_at": (
                    None
                    if resumed is None
                    else {"lat": round(resumed[2], 6), "lon": round(resumed[3], 6)}
                ),
                "reappeared_near_partner": extra.get("reappeared_near_partner"),
                "partner_stayed": not candidate.partner_left and bool(candidate.distances_m),
            }
        }
        low, high = sorted((candidate.silent, candidate.partner))
        return AnomalyEvent(
            kind,
            time_s,
            AnomalySnapshot(
                ALERT_DARK_STS,
                candidate.alert_id,
                low,
                high,
                candidate.silent_s,
                last_seen_s,
                (None if resumed is None else resumed[1]) if kind == CLOSED else None,
                candidate.lat,
                candidate.lon,
                zone,
                port,
                details,
                min_distance_m=distances[0] if distances else None,
                median_distance_m=distances[len(distances) // 2] if distances else None,
            ),
        )

    # --- every alert: risk and identity histories -----------------------------------------

    def enrich(
        self,
        event: EncounterEvent | AnomalyEvent,
        vessels: tuple[VesselIdentity, ...],
        tracks: dict[int, VesselTrack],
        watchlist: Watchlist | None,
    ) -> tuple[Risk, tuple[tuple[IdentityChange, ...], ...]]:
        snapshot = event.encounter
        alert_type = event.alert_type if isinstance(event, AnomalyEvent) else ALERT_STS
        since_s = event.time_s - self.config.identity_memory_s
        histories = tuple(tuple(self.registry.changes_since(v.mmsi, since_s)) for v in vessels)
        gaps = []
        for vessel in vessels:
            track = tracks.get(vessel.mmsi)
            state = track.anomaly if track is not None else None
            gaps.append(state.gaps if state is not None else ())
        end_s = snapshot.end_s if snapshot.end_s is not None else snapshot.last_seen_s
        subject = RiskSubject(
            alert_type,
            vessels,
            snapshot.start_s,
            max(snapshot.start_s, end_s),
            snapshot.lat,
            snapshot.lon,
            snapshot.zone,
            histories,
            tuple(gaps),
        )
        zone_matches = self.zones.matches if self.zones is not None else None
        risk = score_alert(subject, self.params.risk, zone_matches, watchlist)
        return risk, histories

    # --- saved state ------------------------------------------------------------------------

    def adopt(self, track: VesselTrack) -> None:
        """Register a track restored from saved state."""
        state = track.anomaly
        if state is None:
            return
        if state.identity is not None:
            self.registry.adopt(state.identity)
        if state.conflict is not None:
            self.open_conflicts.add(track.mmsi)

    def to_state(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "dark": self.dark.to_state(),
            "next_purge_s": None if self.next_purge_s == float("-inf") else self.next_purge_s,
            "suppressed": dict(self.suppressed),
            "events_by_type": dict(self.events_by_type),
        }

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"unknown anomaly state version {state.get('v')!r}")
        self.dark.restore(state.get("dark", []))
        purge = state.get("next_purge_s")
        self.next_purge_s = float("-inf") if purge is None else float(purge)
        self.suppressed = {str(k): int(v) for k, v in state.get("suppressed", {}).items()}
        self.events_by_type = {str(k): int(v) for k, v in state.get("events_by_type", {}).items()}
