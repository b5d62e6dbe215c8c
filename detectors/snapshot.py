"""The detector's state as plain JSON-ready values, and back.

A stream worker persists its detectors in Faust tables so that a restarted or replacement
worker carries on where the last one stopped. Values are lists of numbers and strings (not
pickles: a changelog topic is data, and loading it must not run code). Each function here
is the exact inverse of its partner; `tests/unit/test_snapshot.py` checks the round trip
by running a detector to the middle of a scenario, restoring a copy and finishing both.
"""

from __future__ import annotations

import math
from typing import Any

from detectors.anomalies.segments import VesselAnomalies
from detectors.encounters import PairEncounter
from detectors.engine import EncounterDetector
from detectors.identity import VesselIdentity
from detectors.records import Fix, Position, StaticReport
from detectors.tracks import VesselTrack

STATE_VERSION = 1
# A track's state: version 2 keeps of each held position its time, place and SOG (what the
# track keeps); version 1, still read, kept whole positions.
TRACK_STATE_VERSION = 2

_IDENTITY_FIELDS = (
    "name",
    "call_sign",
    "imo",
    "ship_type",
    "length_m",
    "width_m",
    "draught_m",
    "destination",
    "updated_s",
)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def track_to_state(track: VesselTrack) -> list[Any]:
    identity = track.identity
    return [
        TRACK_STATE_VERSION,
        track.mmsi,
        None if track.carry is None else list(track.carry),
        [[k, list(first), list(last)] for k, first, last in track.intervals()],
        [getattr(identity, name) for name in _IDENTITY_FIELDS],
        [list(report) for report in track.pending_statics],
        None if track.last_sample is None else list(track.last_sample),
        _finite_or_none(track.last_seen_s),
        # Added with the anomaly detections; states saved before have 8 entries.
        None if track.anomaly is None else track.anomaly.to_state(),
    ]


def _fix_from_state(state: list[Any]) -> Fix:
    time_s, lat, lon, sog_kn = state
    return Fix(float(time_s), float(lat), float(lon), None if sog_kn is None else float(sog_kn))


def _fix_from_position_state(state: list[Any]) -> Fix:
    position = Position(*state)
    return Fix(position.time_s, position.lat, position.lon, position.sog_kn)


def track_from_state(state: list[Any]) -> VesselTrack:
    anomaly = state[8] if len(state) > 8 else None
    version, mmsi, carry, buckets, identity, statics, last_sample, last_seen_s = state[:8]
    if version == TRACK_STATE_VERSION:
        held = _fix_from_state
    elif version == 1:
        held = _fix_from_position_state
    else:
        raise ValueError(f"unknown track state version {version!r}")
    track = VesselTrack(int(mmsi))
    track.carry = None if carry is None else held(carry)
    for k, first, last in buckets:
        track.set_interval(int(k), held(first), held(last))
    track.identity = VesselIdentity(int(mmsi), **dict(zip(_IDENTITY_FIELDS, identity, strict=True)))
    track.pending_statics = tuple(StaticReport(*report) for report in statics)
    track.last_sample = None if last_sample is None else tuple(last_sample)
    track.last_seen_s = -math.inf if last_seen_s is None else float(last_seen_s)
    track.anomaly = None if anomaly is None else VesselAnomalies.from_state(anomaly)
    return track


def pair_to_state(pair: PairEncounter) -> list[Any]:
    return [
        STATE_VERSION,
        pair.mmsi_a,
        pair.mmsi_b,
        pair.start_s,
        pair.last_close_s,
        pair.together,
        pair.owned,
        pair.opened,
        pair.closed,
        pair.last_update_s,
        pair.qualified,
        pair.suppressed,
        pair.distances_m,
        pair.speeds_a_kn,
        pair.speeds_b_kn,
        [list(point) for point in pair.midpoints],
    ]


def pair_from_state(state: list[Any]) -> PairEncounter:
    (
        version,
        mmsi_a,
        mmsi_b,
        start_s,
        last_close_s,
        together,
        owned,
        opened,
        closed,
        last_update_s,
        qualified,
        suppressed,
        distances_m,
        speeds_a_kn,
        speeds_b_kn,
        midpoints,
    ) = state
    if version != STATE_VERSION:
        raise ValueError(f"unknown pair state version {version!r}")
    pair = PairEncounter(int(mmsi_a), int(mmsi_b), float(start_s), bool(owned))
    pair.last_close_s = float(last_close_s)
    pair.together = bool(together)
    pair.opened = bool(opened)
    pair.closed = bool(closed)
    pair.last_update_s = float(last_update_s)
    pair.qualified = bool(qualified)
    pair.suppressed = suppressed
    pair.distances_m = [float(v) for v in distances_m]
    pair.speeds_a_kn = [float(v) for v in speeds_a_kn]
    pair.speeds_b_kn = [float(v) for v in speeds_b_kn]
    pair.midpoints = [(float(lat), float(lon)) for lat, lon in midpoints]
    return pair


def clock_to_state(detector: EncounterDetector) -> dict[str, Any]:
    """The detector's event-time clock and counters (everything but tracks and pairs)."""
    tracker = detector.tracker
    return {
        "v": STATE_VERSION,
        "max_time_s": _finite_or_none(detector.max_time_s),
        "next_k": detector.next_k,
        "decided_until_s": _finite_or_none(detector.decided_until_s),
        "next_forget_s": _finite_or_none(detector.next_forget_s),
        "qualified": tracker.qualified,
        "suppressed": dict(tracker.suppressed),
        "events_by_kind": dict(tracker.events_by_kind),
        "anomalies": detector.anomalies.to_state(),
    }


def restore_clock(detector: EncounterDetector, state: dict[str, Any]) -> None:
    if state.get("v") != STATE_VERSION:
        raise ValueError(f"unknown clock state version {state.get('v')!r}")

    def number(key: str) -> float:
        value = state.get(key)
        return -math.inf if value is None else float(value)

    detector.max_time_s = number("max_time_s")
    detector.next_k = None if state.get("next_k") is None else int(state["next_k"])
    detector.decided_until_s = number("decided_until_s")
    detector.next_forget_s = number("next_forget_s")
    tracker = detector.tracker
    tracker.qualified = int(state.get("qualified", 0))
    tracker.suppressed = {str(k): int(v) for k, v in state.get("suppressed", {}).items()}
    tracker.events_by_kind.update(
        {str(k): int(v) for k, v in state.get("events_by_kind", {}).items()}
    )
    if "anomalies" in state:
        detector.anomalies.restore(state["anomalies"])


def restore_track(detector: EncounterDetector, state: list[Any]) -> None:
    track = track_from_state(state)
    detector.tracks[track.mmsi] = track
    detector.anomalies.adopt(track)


def restore_pair(detector: EncounterDetector, state: list[Any]) -> None:
    pair = pair_from_state(state)
    detector.tracker.pairs[(pair.mmsi_a, pair.mmsi_b)] = pair


def detector_to_state(detector: EncounterDetector) -> dict[str, Any]:
    """The whole detector in one value (tests and small deployments; the stream persists
    tracks and pairs one by one)."""
    return {
        "clock": clock_to_state(detector),
        "tracks": [track_to_state(t) for t in detector.tracks.values()],
        "pairs": [pair_to_state(p) for p in detector.tracker.pairs.values()],
    }


def restore_detector(detector: EncounterDetector, state: dict[str, Any]) -> None:
    """Load `detector_to_state` output into a fresh detector built with the same settings."""
    restore_clock(detector, state["clock"])
    for track_state in state["tracks"]:
        restore_track(detector, track_state)
    for pair_state in state["pairs"]:
        restore_pair(detector, pair_state)
