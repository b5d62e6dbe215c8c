"""Planted situations: true ship-to-ship transfers and the decoys that must not alert.

Each builder returns the two vessels' true tracks and the `TruthEvent` that says what
happened. The tracks are physically plausible from end to end: the ships steam in, slow
down, do what the situation is about, and leave; headings turn at a bounded rate where the
pieces meet.

- `sts`, `sts_reception_gap`, `high_seas_sts`, `short_meeting`, `tug_alongside`,
  `loiter_apart`: one ship arrives and drifts with the current; the other comes up from
  its quarter on one side and keeps station `separation_m` abeam (60 m for hulls alongside with
  fenders, 2.5 km for ships merely waiting near each other), then peels away.
- `pair_trawlers`: two trawlers tow one net between them, a couple of hundred metres
  apart, at 3-4 knots.
- `passing`: two ships on reciprocal courses pass `separation_m` apart at full speed.
- `anchored_near_port`: two ships anchored a few hundred metres apart inside a port's
  anchorage.

The anomaly detections' cases (one ship on a steady course through `position_latlon`,
there at `start_h`, unless said otherwise):

- `dark_sts` / `dark_apart`: a rendezvous (alongside / 2.5 km apart) in which one ship is
  silent for `gap_minutes` in the middle; the truth interval is the silence;
- `identity_conflict` / `conflict_brief`: a second transmitter with the ship's identity
  `separation_m` abeam of it (drifting) for `duration_h` (hours / minutes);
- `position_jump` / `position_glitch`: the ship's reports displaced `separation_m` abeam
  from `start_h` to the end / for `duration_h` only;
- `identity_change` / `voyage_update`: from `start_h` the static reports give a new name
  (and, when the two `flags` differ, a new MMSI under that flag, same IMO) / only a new
  destination and draught;
- `ais_gap` / `gap_short`: the ship is silent for `duration_h`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import Point, Polygon

from detectors.geodesy import mean_position

from .geo import destination, haversine_m, make_route, offset
from .identity import IdentityFactory, VesselIdentity, make_imo
from .landmask import LandMask
from .motion import (
    STATUS_AT_ANCHOR,
    STATUS_FISHING,
    STATUS_RESTRICTED,
    STATUS_UNDER_WAY,
    Track,
    along_route,
    alongside,
    at_anchor,
    concat,
    drift,
    grid,
    limit_turn_rate,
    smooth_noise,
    tidal_current,
)
from .scenario import CATEGORY_ALERT_TYPE, Scenario, ScenarioError, Situation, Zone
from .traffic import approach_piece, departure_piece
from .truth import TruthEvent

# Heading change limits (degrees per second) where motion pieces meet: a large ship turns
# at up to about 30 degrees a minute.
MAX_TURN_DEG_S = 0.5


@dataclass(frozen=True, slots=True)
class PlantedVessel:
    identity: VesselIdentity
    track: Track
    gaps: tuple[tuple[float, float], ...]


def zone_of(zones: tuple[Zone, ...], lat: float, lon: float) -> Zone | None:
    """The first scenario zone containing the point (approximate polygons)."""
    p = Point(lon, lat)
    for zone in zones:
        if Polygon([(lo, la) for la, lo in zone.polygon_latlon]).contains(p):
            return zone
    return None


def _check_sea(land: LandMask, track: Track, what: str) -> None:
    bad = land.land_points(track.lat, track.lon)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise ScenarioError(f"{what} runs over land near [{track.lat[i]:.3f}, {track.lon[i]:.3f}]")


def _approach_over_sea(
    land: LandMask,
    end_lat: float,
    end_lon: float,
    arrive_s: float,
    from_bearing: float,
    cruise_kn: float,
    final_kn: float,
    decel_s: float,
    start_s: float,
    what: str,
) -> Track:
    """An approach from the preferred direction, or the nearest one that stays at sea."""
    for delta in (0, 25, -25, 50, -50, 75, -75, 100, -100, 130, -130, 160, -160, 180):
        piece = approach_piece(
            end_lat,
            end_lon,
            arrive_s,
            (from_bearing + delta) % 360.0,
            cruise_kn,
            final_kn,
            decel_s,
            start_s,
        )
        if not land.land_points(piece.lat, piece.lon).any():
            return piece
    raise ScenarioError(f"{what}: no approach over water found")


def _departure_over_sea(
    land: LandMask,
    lat: float,
    lon: float,
    start_s: float,
    end_s: float,
    bearing: float,
    from_kn: float,
    cruise_kn: float,
    what: str,
    accel_s: float = 1200.0,
) -> Track:
    for delta in (0, 25, -25, 50, -50, 75, -75, 100, -100, 130, -130, 160, -160, 180):
        piece = departure_piece(
            lat, lon, start_s, end_s, (bearing + delta) % 360.0, from_kn, cruise_kn, accel_s
        )
        if not len(piece) or not land.land_points(piece.lat, piece.lon).any():
            return piece
    raise ScenarioError(f"{what}: no departure over water found")


def _smooth_headings(track: Track) -> Track:
    heading = limit_turn_rate(track.heading_deg, track.time_s, MAX_TURN_DEG_S)
    return Track(track.time_s, track.lat, track.lon, heading, track.status)


def _measure(
    a: Track, b: Track, start_s: float, end_s: float
) -> tuple[float, float, float, float, float]:
    """Min and max distance, the pair's centre, and the larger median speed in a window."""
    wa = a.window(start_s, end_s)
    wb = b.window(start_s, end_s)
    times = np.intersect1d(wa.time_s, wb.time_s)
    if len(times) == 0:
        raise ScenarioError("planted vessels do not overlap in time")
    la, lo = a.position_at(times)
    lb, lob = b.position_at(times)
    d = haversine_m(la, lo, lb, lob)
    centre = mean_position(
        [
            (float(x), float(y))
            for x, y in zip(la[:: max(1, len(la) // 50)], lo[:: max(1, len(lo) // 50)], strict=True)
        ]
    )
    speeds = []
    for t in (wa, wb):
        sog, _ = t.speed_course()
        speeds.append(float(np.median(sog)))
    return float(d.min()), float(d.max()), centre[0], centre[1], max(speeds)


def _event(
    sit: Situation,
    scenario: Scenario,
    a: PlantedVessel,
    b: PlantedVessel,
    start_s: float,
    end_s: float,
    description: str,
) -> TruthEvent:
    dmin, dmax, lat, lon, speed = _measure(a.track, b.track, start_s, end_s)
    zone = zone_of(scenario.zones, lat, lon)
    return TruthEvent(
        id=sit.id,
        category=sit.category,
        expect_alert=sit.expect_alert,
        mmsis=tuple(sorted((a.identity.mmsi, b.identity.mmsi))),
        start_s=start_s,
        end_s=end_s,
        lat=lat,
        lon=lon,
        eez_iso=zone.iso_ter if zone else None,
        eez_mrgid=zone.mrgid if zone else None,
        description=sit.description or description,
        min_distance_m=dmin,
        max_distance_m=dmax,
        max_median_speed_kn=speed,
        alert_type=CATEGORY_ALERT_TYPE[sit.category],
    )


def _identities(
    sit: Situation, ids: IdentityFactory, destinations: tuple[str, str]
) -> tuple[VesselIdentity, VesselIdentity]:
    def make(i: int) -> VesselIdentity:
        ship_type = sit.ship_types[i]
        ais_class = "A"
        return ids.make(sit.flags[i], ship_type, ais_class, destinations[i])

    return make(0), make(1)


def _rendezvous(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    """One ship drifts, the other lies `separation_m` abeam of it for the duration."""
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    end = scenario.end_s
    lat0, lon0 = sit.position_latlon
    h = sit.heading_deg
    side = 1.0 if rng.random() < 0.5 else -1.0
    stay_s = float(rng.uniform(1800.0, 3600.0))
    t_a_end = min(end, t1 + stay_s)
    what = f"situation {sit.id}"

    # the first ship drifts with a steady current plus the tide
    t_drift = grid(t0, t_a_end)
    east, north = tidal_current(
        t_drift,
        float(rng.uniform(0.1, 0.3)),
        float(rng.uniform(0.0, 360.0)),
        0.25,
        float(rng.uniform(0.0, 2.0 * math.pi)),
    )
    heading_a = h + smooth_noise(rng, len(t_drift), 10.0, 1200.0, 3.0)
    status_drift = STATUS_RESTRICTED if rng.random() < 0.5 else STATUS_UNDER_WAY
    a_drift = drift(lat0, lon0, t_drift, east, north, heading_a, status_drift)

    # the second keeps station on one side; its distance varies a little around the plan
    apart = sit.separation_m > 1000.0
    a_with_b = a_drift.window(t0, t1)
    n = len(a_with_b)
    sep_sigma = 0.08 * sit.separation_m if apart else 3.0
    across = side * np.clip(
        sit.separation_m + smooth_noise(rng, n, 10.0, 3600.0 if apart else 900.0, sep_sigma),
        0.8 * sit.separation_m,
        1.2 * sit.separation_m,
    )
    along = float(rng.uniform(-20.0, 20.0)) + smooth_noise(rng, n, 10.0, 900.0, 4.0)
    if apart:
        along = along + float(rng.uniform(-800.0, 800.0))
        head_off = float(rng.uniform(-40.0, 40.0)) + smooth_noise(rng, n, 10.0, 1800.0, 5.0)
    else:
        head_off = smooth_noise(rng, n, 10.0, 1200.0, 1.0)
    b_status = STATUS_RESTRICTED if rng.random() < 0.5 else STATUS_UNDER_WAY
    b_with_a = alongside(
        a_with_b, along, across, head_off, b_status, frame_heading_deg=h if apart else None
    )

    cruise = sit.speed_kn
    approach_start = max(scenario.start_s, t0 - 3.0 * 3600.0)
    a_in = _approach_over_sea(
        land,
        lat0,
        lon0,
        t0,
        (h + 180.0) % 360.0,
        cruise,
        0.8,
        1500.0,
        approach_start,
        f"{what} (first ship)",
    )
    b_in = _approach_over_sea(
        land,
        float(b_with_a.lat[0]),
        float(b_with_a.lon[0]),
        t0,
        (h + 180.0 + side * 70.0) % 360.0,
        cruise * 0.9,
        0.8,
        1200.0,
        approach_start,
        f"{what} (second ship)",
    )
    pieces_a = [a_in, a_drift]
    if t_a_end < end:
        pieces_a.append(
            _departure_over_sea(
                land,
                float(a_drift.lat[-1]),
                float(a_drift.lon[-1]),
                t_a_end,
                min(end, t_a_end + 3.0 * 3600.0),
                (h - side * 20.0) % 360.0,
                0.5,
                cruise,
                f"{what} (first ship leaving)",
                accel_s=900.0,
            )
        )
    pieces_b = [b_in, b_with_a]
    if t1 < end:
        pieces_b.append(
            _departure_over_sea(
                land,
                float(b_with_a.lat[-1]),
                float(b_with_a.lon[-1]),
                t1,
                min(end, t1 + 3.0 * 3600.0),
                (h + side * 35.0) % 360.0,
                0.5,
                cruise,
                f"{what} (second ship leaving)",
                accel_s=600.0,
            )
        )
    track_a = _smooth_headings(concat(pieces_a))
    track_b = _smooth_headings(concat(pieces_b))
    _check_sea(land, track_a, what)
    _check_sea(land, track_b, what)

    gaps_a: tuple[tuple[float, float], ...] = ()
    gaps_b: tuple[tuple[float, float], ...] = ()
    if sit.gap_minutes > 0:
        mid = 0.5 * (t0 + t1)
        gap = (mid - sit.gap_minutes * 30.0, mid + sit.gap_minutes * 30.0)
        if sit.gap_vessels in ("both", "first"):
            gaps_a = (gap,)
        if sit.gap_vessels in ("both", "second"):
            gaps_b = (gap,)

    destinations = ("FOR ORDERS", "FOR ORDERS")
    if sit.ship_types[1] in (31, 32, 50, 51, 52, 53, 55):
        destinations = ("FOR ORDERS", "")
    id_a, id_b = _identities(sit, ids, destinations)
    a = PlantedVessel(id_a, track_a, gaps_a)
    b = PlantedVessel(id_b, track_b, gaps_b)
    description = {
        "sts": "two ships drift alongside each other",
        "sts_reception_gap": "two ships alongside; a reception gap in the middle",
        "high_seas_sts": "a transfer outside every EEZ",
        "short_meeting": "two ships alongside for less than the alert duration",
        "tug_alongside": "a tug alongside a tanker",
        "loiter_apart": "two slow ships a few kilometres apart",
        "dark_sts": "one ship silent alongside the other",
        "dark_apart": "one ship silent 2.5 km from the other",
    }.get(sit.category, sit.category)
    event = _event(sit, scenario, a, b, t0, t1, description)
    if sit.category in ("dark_sts", "dark_apart"):
        silences = gaps_b or gaps_a
        if not silences:
            raise ScenarioError(f"{what}: a {sit.category} situation needs gap_minutes > 0")
        event = replace(event, start_s=silences[0][0], end_s=silences[0][1])
    return [a, b], event


def _pair_trawlers(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    end = scenario.end_s
    lat0, lon0 = sit.position_latlon
    what = f"situation {sit.id}"
    trawl_kn = float(rng.uniform(3.3, 3.8))
    need_m = trawl_kn * 1852.0 / 3600.0 * (t1 - t0) * 1.2 + 3000.0
    # a tow: long straight legs joined by wide turns (the pair turns together)
    points = [(lat0, lon0)]
    heading = sit.heading_deg
    total = 0.0
    while total < need_m:
        leg = float(rng.uniform(5000.0, 9000.0))
        nxt = destination(points[-1][0], points[-1][1], heading, leg)
        if haversine_m(nxt[0], nxt[1], lat0, lon0) > 12_000.0:
            heading = (heading + 150.0 + float(rng.uniform(-20.0, 20.0))) % 360.0
            nxt = destination(points[-1][0], points[-1][1], heading, leg)
        points.append(nxt)
        total += leg
        heading = (
            heading + float(rng.choice((-1.0, 1.0))) * float(rng.uniform(20.0, 60.0))
        ) % 360.0
    route = make_route(points, turn_radius_m=1200.0, max_step_m=500.0)
    t = grid(t0, t1)
    speed = trawl_kn + smooth_noise(rng, len(t), 10.0, 900.0, 0.1)
    lead, _ = along_route(route, t, speed, 0.0, STATUS_FISHING, float(rng.normal(0, 2.0)))
    side = 1.0 if rng.random() < 0.5 else -1.0
    across = side * np.clip(
        sit.separation_m + smooth_noise(rng, len(t), 10.0, 900.0, 15.0),
        0.75 * sit.separation_m,
        1.25 * sit.separation_m,
    )
    along = smooth_noise(rng, len(t), 10.0, 900.0, 15.0)
    follow = alongside(lead, along, across, 0.0, STATUS_FISHING)

    start = max(scenario.start_s, t0 - 2.0 * 3600.0)
    h0 = float(lead.heading_deg[0])
    lead_in = _approach_over_sea(
        land,
        float(lead.lat[0]),
        float(lead.lon[0]),
        t0,
        (h0 + 180.0 - side * 30.0) % 360.0,
        9.0,
        trawl_kn,
        900.0,
        start,
        what,
    )
    follow_in = _approach_over_sea(
        land,
        float(follow.lat[0]),
        float(follow.lon[0]),
        t0,
        (h0 + 180.0 + side * 30.0) % 360.0,
        9.0,
        trawl_kn,
        900.0,
        start,
        what,
    )
    pieces_a = [lead_in, lead]
    pieces_b = [follow_in, follow]
    if t1 < end:
        h1 = float(lead.heading_deg[-1])
        stop = min(end, t1 + 2.0 * 3600.0)
        pieces_a.append(
            _departure_over_sea(
                land,
                float(lead.lat[-1]),
                float(lead.lon[-1]),
                t1,
                stop,
                (h1 - side * 30.0) % 360.0,
                trawl_kn,
                9.0,
                what,
            )
        )
        pieces_b.append(
            _departure_over_sea(
                land,
                float(follow.lat[-1]),
                float(follow.lon[-1]),
                t1,
                stop,
                (h1 + side * 30.0) % 360.0,
                trawl_kn,
                9.0,
                what,
            )
        )
    track_a = _smooth_headings(concat(pieces_a))
    track_b = _smooth_headings(concat(pieces_b))
    _check_sea(land, track_a, what)
    _check_sea(land, track_b, what)
    id_a, id_b = _identities(sit, ids, ("", ""))
    a = PlantedVessel(id_a, track_a, ())
    b = PlantedVessel(id_b, track_b, ())
    return [a, b], _event(sit, scenario, a, b, t0, t1, "pair trawlers towing one net")


def _passing(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    tc = 0.5 * (t0 + t1)
    lat0, lon0 = sit.position_latlon
    h = sit.heading_deg
    what = f"situation {sit.id}"
    speeds = (sit.speed_kn, sit.speed_kn + float(rng.uniform(0.5, 2.0)))
    tracks = []
    for i, (heading, kn) in enumerate(((h, speeds[0]), ((h + 180.0) % 360.0, speeds[1]))):
        # the second ship passes `separation_m` off the first one's starboard side
        if i == 0:
            clat, clon = lat0, lon0
        else:
            clat, clon = destination(lat0, lon0, (h + 90.0) % 360.0, sit.separation_m)
        mps = kn * 1852.0 / 3600.0
        start_lat, start_lon = destination(clat, clon, (heading + 180.0) % 360.0, mps * (tc - t0))
        piece = departure_piece(start_lat, start_lon, t0, t1, heading, kn, kn, 1.0)
        _check_sea(land, piece, what)
        tracks.append(piece)
    id_a, id_b = _identities(sit, ids, ("", ""))
    a = PlantedVessel(id_a, tracks[0], ())
    b = PlantedVessel(id_b, tracks[1], ())
    times = np.intersect1d(tracks[0].time_s, tracks[1].time_s)
    la, lo = tracks[0].position_at(times)
    lb, lob = tracks[1].position_at(times)
    close = times[haversine_m(la, lo, lb, lob) <= 500.0]
    start, stop = (float(close[0]), float(close[-1])) if len(close) else (tc - 60.0, tc + 60.0)
    return [a, b], _event(sit, scenario, a, b, start, stop, "two ships pass at full speed")


def _anchored(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    end = scenario.end_s
    lat0, lon0 = sit.position_latlon
    sea_bearing = sit.heading_deg
    what = f"situation {sit.id}"
    wind = float(rng.uniform(0.0, 360.0))
    # anchored abreast across the wind, so that both swing the same way and stay apart
    lat1, lon1 = destination(lat0, lon0, (wind + 90.0) % 360.0, sit.separation_m)
    phase = float(rng.uniform(0.0, 1.0))
    radius = float(rng.uniform(100.0, 150.0))
    vessels = []
    for i, (alat, alon) in enumerate(((lat0, lon0), (lat1, lon1))):
        arrive = t0 - (900.0 if i == 0 else 0.0)
        leave = t1 + (0.0 if i == 0 else 1200.0)
        t = grid(arrive, min(end, leave))
        riding = at_anchor(alat, alon, t, radius, wind, phase, STATUS_AT_ANCHOR)
        pieces = [
            _approach_over_sea(
                land,
                float(riding.lat[0]),
                float(riding.lon[0]),
                arrive,
                sea_bearing,
                9.0,
                0.0,
                1800.0,
                max(scenario.start_s, arrive - 2.0 * 3600.0),
                what,
            ),
            riding,
        ]
        if leave < end:
            pieces.append(
                _departure_over_sea(
                    land,
                    float(riding.lat[-1]),
                    float(riding.lon[-1]),
                    leave,
                    min(end, leave + 2.0 * 3600.0),
                    sea_bearing,
                    0.0,
                    10.0,
                    what,
                )
            )
        track = _smooth_headings(concat(pieces))
        _check_sea(land, track, what)
        vessels.append(track)
    id_a, id_b = _identities(sit, ids, ("", ""))
    a = PlantedVessel(id_a, vessels[0], ())
    b = PlantedVessel(id_b, vessels[1], ())
    return [a, b], _event(sit, scenario, a, b, t0, t1, "two ships at anchor near a port")


def _lone_track(
    sit: Situation, scenario: Scenario, land: LandMask, t_from: float, t_to: float
) -> Track:
    """A ship on a steady course (`heading_deg`, `speed_kn`) that is at `position_latlon`
    at `start_h`, from `t_from` to `t_to` (clipped to the scenario)."""
    t0 = scenario.start_s + sit.start_h * 3600.0
    t_from = max(scenario.start_s, t_from)
    t_to = min(scenario.end_s, t_to)
    lat0, lon0 = sit.position_latlon
    back_m = sit.speed_kn * 1852.0 / 3600.0 * (t0 - t_from)
    start_lat, start_lon = destination(lat0, lon0, (sit.heading_deg + 180.0) % 360.0, back_m)
    piece = departure_piece(
        start_lat, start_lon, t_from, t_to, sit.heading_deg, sit.speed_kn, sit.speed_kn, 1.0
    )
    _check_sea(land, piece, f"situation {sit.id}")
    return piece


def _lone_event(
    sit: Situation,
    scenario: Scenario,
    track: Track,
    mmsis: tuple[int, ...],
    start_s: float,
    end_s: float,
    description: str,
) -> TruthEvent:
    lat, lon = (float(v) for v in track.position_at(0.5 * (start_s + end_s)))
    zone = zone_of(scenario.zones, lat, lon)
    return TruthEvent(
        id=sit.id,
        category=sit.category,
        expect_alert=sit.expect_alert,
        mmsis=tuple(sorted(set(mmsis))),
        start_s=start_s,
        end_s=end_s,
        lat=lat,
        lon=lon,
        eez_iso=zone.iso_ter if zone else None,
        eez_mrgid=zone.mrgid if zone else None,
        description=sit.description or description,
        alert_type=CATEGORY_ALERT_TYPE[sit.category],
    )


def _lone_identity(
    sit: Situation, ids: IdentityFactory, rng: np.random.Generator
) -> VesselIdentity:
    identity = ids.make(sit.flags[0], sit.ship_types[0], "A", "FOR ORDERS")
    if identity.imo == 0:
        identity = replace(identity, imo=make_imo(rng))
    return identity


def _displaced(track: Track, start_s: float, end_s: float, bearing: float, metres: float) -> Track:
    """The track with its positions in [start_s, end_s) moved `metres` towards `bearing`."""
    inside = (track.time_s >= start_s) & (track.time_s < end_s)
    lat = track.lat.copy()
    lon = track.lon.copy()
    east = metres * math.sin(math.radians(bearing))
    north = metres * math.cos(math.radians(bearing))
    lat[inside], lon[inside] = offset(track.lat[inside], track.lon[inside], east, north)
    return Track(track.time_s, lat, lon, track.heading_deg, track.status)


def _identity_conflict(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    ship = _lone_track(sit, scenario, land, t0 - 2.0 * 3600.0, t1 + 3.0 * 3600.0)
    lat, lon = (float(v) for v in ship.position_at(t0))
    clone_lat, clone_lon = destination(lat, lon, (sit.heading_deg + 90.0) % 360.0, sit.separation_m)
    drift_bearing = float(rng.uniform(0.0, 360.0))
    clone = departure_piece(clone_lat, clone_lon, t0, t1, drift_bearing, 0.4, 0.4, 1.0)
    _check_sea(land, clone, f"situation {sit.id} (second transmitter)")
    identity = _lone_identity(sit, ids, rng)
    vessels = [PlantedVessel(identity, ship, ()), PlantedVessel(identity, clone, ())]
    event = _lone_event(
        sit, scenario, ship, (identity.mmsi,), t0, t1, "one MMSI broadcast from two places"
    )
    return vessels, event


def _position_jump(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    ship = _lone_track(sit, scenario, land, t0 - 2.0 * 3600.0, t1 + 1.0 * 3600.0)
    until = ship.end_s + 1.0 if sit.category == "position_jump" else t1
    reported = _displaced(ship, t0, until, (sit.heading_deg + 90.0) % 360.0, sit.separation_m)
    identity = _lone_identity(sit, ids, rng)
    what = (
        "the reported track leaps abeam and carries on"
        if sit.category == "position_jump"
        else "the reported track leaps abeam and comes back"
    )
    return [PlantedVessel(identity, reported, ())], _lone_event(
        sit, scenario, ship, (identity.mmsi,), t0, t1, what
    )


def _identity_change(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    ship = _lone_track(sit, scenario, land, t0 - 2.0 * 3600.0, t1 + 1.0 * 3600.0)
    before = ship.window(ship.start_s, t0 - 1.0)
    after = ship.window(t0, ship.end_s)
    old = _lone_identity(sit, ids, rng)
    if sit.category == "voyage_update":
        new = replace(old, destination="SINGAPORE", draught_m=round(old.draught_m * 0.6, 1))
        what = "the static reports change destination and draught"
    elif sit.flags[1] != sit.flags[0]:
        fresh = ids.make(sit.flags[1], old.ship_type, "A", old.destination)
        new = replace(old, mmsi=fresh.mmsi, name=fresh.name, call_sign=fresh.call_sign)
        what = "the ship is reflagged: a new MMSI, flag and name under the same IMO"
    else:
        fresh = ids.make(sit.flags[0], old.ship_type, "A", old.destination)
        new = replace(old, name=fresh.name)
        what = "the ship is renamed"
    vessels = [PlantedVessel(old, before, ()), PlantedVessel(new, after, ())]
    return vessels, _lone_event(sit, scenario, ship, (old.mmsi, new.mmsi), t0, t1, what)


def _ais_gap(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    t0 = scenario.start_s + sit.start_h * 3600.0
    t1 = t0 + sit.duration_h * 3600.0
    ship = _lone_track(sit, scenario, land, t0 - 2.0 * 3600.0, t1 + 2.0 * 3600.0)
    identity = _lone_identity(sit, ids, rng)
    return [PlantedVessel(identity, ship, ((t0, t1),))], _lone_event(
        sit, scenario, ship, (identity.mmsi,), t0, t1, "the ship is silent"
    )


def build_situation(
    sit: Situation,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
    land: LandMask,
) -> tuple[list[PlantedVessel], TruthEvent]:
    """The vessels and the truth of one planted situation."""
    if sit.category == "pair_trawlers":
        return _pair_trawlers(sit, scenario, ids, rng, land)
    if sit.category == "passing":
        return _passing(sit, scenario, ids, rng, land)
    if sit.category == "anchored_near_port":
        return _anchored(sit, scenario, ids, rng, land)
    if sit.category in ("identity_conflict", "conflict_brief"):
        return _identity_conflict(sit, scenario, ids, rng, land)
    if sit.category in ("position_jump", "position_glitch"):
        return _position_jump(sit, scenario, ids, rng, land)
    if sit.category in ("identity_change", "voyage_update"):
        return _identity_change(sit, scenario, ids, rng, land)
    if sit.category in ("ais_gap", "gap_short"):
        return _ais_gap(sit, scenario, ids, rng, land)
    return _rendezvous(sit, scenario, ids, rng, land)
