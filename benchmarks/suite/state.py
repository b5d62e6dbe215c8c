"""Measurement 3: detector state per tracked vessel, and forgetting silent vessels.

An `EncounterDetector` (default detection, anomaly and risk settings; no zones or ports, which
are shared reference data, not per-vessel state) is fed noise-free simulated positions of N
vessels (the `large` scenario's vessels copied to other seas, `inputs.fleet`): one static
report each, then a position every 150 s per vessel (each vessel at its own phase, 0 to 140 s)
for 11 rounds, about 27 minutes of event time, in time order. 150 s against 300 s ticks gives
every interval a first and a last position, as a real report rate does (the detector keeps
no more than those whatever the rate). By the end the first ticks have been decided and the
state is what it stays at: a carry position and the 3-4 pending intervals per vessel, the
identity and the anomaly state.

Memory is what `tracemalloc` counts as allocated after the feed (after a garbage collection)
minus what was allocated before the detector was made. Whatever the feed makes and drops is
freed by then, so what remains is the detector's (the positions, strings and numbers it
keeps included, as a decoder would have made them). Divided by the vessels tracked.

The serialized state per vessel is `detectors.snapshot.track_to_state(track)` as compact JSON
(what a stream worker stores in its state table per vessel).

Forgetting, on a second, smaller fleet fed the same way (when every vessel falls silent at
once, a dark-transfer candidate keeps the detector deciding each of the next 288 ticks over
all of them, minutes at 200,000 vessels): then 100 other vessels report every 2 hours from
1 hour after the fleet's last report; the number of tracks is counted at +23 h (all still
there) and at +27 h (the silent vessels gone, with `detection.forget_after_s` at its default
of 24 h). What the detector still holds then, beyond the state of the 100 vessels still
reporting, is reported per forgotten vessel.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np

from config import settings as config
from detectors.engine import EncounterDetector
from detectors.records import Position, StaticReport
from detectors.snapshot import track_to_state

from .common import Row, Section
from .inputs import BaseTracks, fleet

STATE_TARGET_BYTES = 2048
REPORT_EVERY_S = 150.0
PHASES = 15  # vessels report at 0, 10, ... 140 s past each 150 s step
FEED_STEPS = 10
OTHERS = 100
OTHERS_EVERY_S = 7200.0
SILENT_CHECK_S = 23 * 3600.0
SILENT_END_S = 27 * 3600.0


def _feed(detector: EncounterDetector, tracks: BaseTracks, vessels: int) -> float:
    """Static reports, then positions; returns the last event time fed."""
    ships = fleet(tracks, vessels)
    mmsi = (200_000_000 + np.arange(vessels)).tolist()
    phase = np.arange(vessels) % PHASES
    t0 = tracks.start_s
    ship_types = tracks.ship_type[ships.base].tolist()
    copies = (np.arange(vessels) // tracks.vessels).tolist()
    bases = ships.base.tolist()
    for v in range(vessels):
        base, copy = bases[v], copies[v]
        # Fresh strings per vessel, as a decoder makes them: copies must not share them.
        detector.add_static(
            StaticReport(
                mmsi[v],
                t0,
                5,
                f"{tracks.names[base]} {copy}",
                f"{tracks.call_signs[base]}{copy}",
                9_000_000 + v,
                ship_types[v],
                180.0,
                32.0,
                9.5,
                f"{tracks.destinations[base]} {copy}",
            )
        )
    last_s = t0
    # Within a step, vessels report in phase order, so event time never goes back.
    order = np.argsort(phase, kind="stable")
    mmsi_in_order = [mmsi[i] for i in order.tolist()]
    for step in range(FEED_STEPS):
        column = step * PHASES + phase
        lat, lon = ships.positions(column)
        times = (t0 + column[order] * tracks.step_s).tolist()
        sog = tracks.sog_kn[ships.base, column][order].tolist()
        cog = tracks.cog_deg[ships.base, column][order].tolist()
        heading = np.round(tracks.heading_deg[ships.base, column])[order].tolist()
        for args in zip(
            mmsi_in_order,
            times,
            lat[order].tolist(),
            lon[order].tolist(),
            sog,
            cog,
            heading,
            strict=True,
        ):
            # status 0 (under way), message type 1
            detector.add_position(Position(*args, 0, 1))
        last_s = times[-1]
    return last_s


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _feed_traced(
    tracks: BaseTracks, vessels: int
) -> tuple[EncounterDetector, float, int, int, float]:
    """A detector fed `vessels` vessels under tracemalloc (which must be running): the
    detector, the last event time, the bytes traced before and after, the feed seconds."""
    before = _traced()
    started = time.perf_counter()
    detector = EncounterDetector(config.load().detection)
    last_s = _feed(detector, tracks, vessels)
    feed_s = time.perf_counter() - started
    return detector, last_s, before, _traced(), feed_s


def measure_state(tracks: BaseTracks, vessels: int, forget_vessels: int) -> Section:
    section = Section("detector state per vessel")
    gc.collect()
    tracemalloc.start()
    try:
        detector, _, before, after, feed_s = _feed_traced(tracks, vessels)
        tracked = len(detector.tracks)
        per_vessel = (after - before) / tracked
        sizes = [
            len(json.dumps(track_to_state(track), separators=(",", ":")))
            for track in detector.tracks.values()
        ]
        del detector
        # Forgetting, on a smaller fleet: when every vessel falls silent at once, the
        # detector decides each of the next 288 ticks over all of them (a dark-transfer
        # candidate keeps it busy), which at 200,000 vessels would take minutes.
        detector, last_s, before_small, after_small, _ = _feed_traced(tracks, forget_vessels)
        forget = _forgetting(detector, tracks, last_s)
        remaining = _traced() - before_small
        del detector
        released = _traced() - before_small
    finally:
        tracemalloc.stop()
    small_state = after_small - before_small
    # What the detector holds beyond the state of the vessels still reporting.
    retained_per_vessel = (remaining - released - OTHERS * per_vessel) / forget_vessels
    json_mean = statistics.fmean(sizes)
    sizes.sort()
    json_p99 = sizes[int(0.99 * (len(sizes) - 1))]
    section.rows += [
        Row(
            "3. detector memory per tracked vessel",
            f"{per_vessel:,.0f} B",
            "-",
            None,
            f"<= {STATE_TARGET_BYTES:,} B",
            per_vessel <= STATE_TARGET_BYTES,
            f"{tracked:,} vessels, tracemalloc",
        ),
        Row(
            "3. serialized state per vessel (JSON)",
            f"{json_mean:,.0f} B mean, {json_p99:,} B p99",
            "-",
            None,
            f"<= {STATE_TARGET_BYTES:,} B",
            json_p99 <= STATE_TARGET_BYTES,
        ),
        Row(
            "3. vessels silent 24 h forgotten",
            f"{forget['tracks_at_23h']:,} tracks at +23 h, {forget['tracks_at_end']:,} at +27 h",
            f"{forget_vessels:,} silent + {OTHERS} reporting",
            None,
            f"{OTHERS} left",
            forget["tracks_at_23h"] == forget_vessels + OTHERS
            and forget["tracks_at_end"] == OTHERS,
            f"{retained_per_vessel:,.0f} B per forgotten vessel still held",
        ),
    ]
    section.details = {
        "vessels_fed": vessels,
        "tracks": tracked,
        "positions_fed": vessels * FEED_STEPS,
        "traced_bytes_state": after - before,
        "bytes_per_vessel": round(per_vessel, 1),
        "json_bytes": {
            "mean": round(json_mean, 1),
            "p50": sizes[len(sizes) // 2],
            "p99": json_p99,
            "max": sizes[-1],
        },
        "forgetting": forget,
        "forgetting_fleet_traced_bytes": small_state,
        "traced_bytes_after_forgetting": remaining,
        "traced_bytes_after_deleting_detector": released,
        "retained_bytes_per_forgotten_vessel": round(retained_per_vessel, 1),
        "feed_s": round(feed_s, 1),
    }
    section.notes.append(
        f"{vessels:,} vessels fed {FEED_STEPS} positions each ({REPORT_EVERY_S:.0f} s apart) "
        f"in {feed_s:.1f} s under tracemalloc; forgetting checked on {forget_vessels:,} "
        f"vessels: their state was {small_state / 1e6:.1f} MB, "
        f"{(remaining - released) / 1e6:.1f} MB of it still held after they were forgotten"
    )
    return section


def _forgetting(detector: EncounterDetector, tracks: BaseTracks, last_s: float) -> dict[str, Any]:
    """Other vessels report for 27 h after the fleet went silent; count the tracks."""
    lat = tracks.lat[:OTHERS, 0].tolist()
    lon = tracks.lon[:OTHERS, 0].tolist()
    at_check: int | None = None
    # Every 2 h from 1 h after the fleet's last report: 1, 3, ... 23, 25, 27 h.
    time_s = last_s - OTHERS_EVERY_S + 3600.0
    steps = 0
    while time_s < last_s + SILENT_END_S:
        time_s += OTHERS_EVERY_S
        steps += 1
        for index in range(min(OTHERS, len(lat))):
            detector.add_position(
                Position(990_000_000 + index, time_s, lat[index], lon[index], 0.0, 0.0, 0.0, 1, 1)
            )
        if at_check is None and time_s >= last_s + SILENT_CHECK_S:
            at_check = len(detector.tracks)
    return {
        "silent_since_s": last_s,
        "tracks_at_23h": at_check or 0,
        "tracks_at_end": len(detector.tracks),
        "vessels_forgotten": detector.stats.vessels_forgotten,
        "forget_after_s": detector.params.forget_after_s,
        "report_steps": steps,
    }
