"""Background traffic: ships on lanes between ports, fishing boats at work, ships at anchor.

The parent process turns the scenario into `VesselPlan`s: small, picklable descriptions
(identity, where and how the vessel moves, its reception gaps, its random seed) made with
every land check already done. `build_track` turns a plan into the vessel's true track
wherever it runs, so plans can be spread over worker processes and still give the same
bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detectors.geodesy import haversine_m

from .geo import Route, destination, make_route
from .identity import IdentityFactory, VesselIdentity
from .landmask import LandMask
from .motion import (
    STATUS_FISHING,
    STATUS_UNDER_WAY,
    Track,
    along_route,
    at_anchor,
    concat,
    distance_along,
    grid,
    smooth_noise,
    straight_route,
)
from .scenario import Anchorage, FishingGround, Lane, Scenario, ScenarioError


@dataclass(frozen=True, slots=True)
class LanePlan:
    route: Route
    start_s: float
    end_s: float
    start_m: float
    speed_kn: float


@dataclass(frozen=True, slots=True)
class FishingPlan:
    route: Route
    start_s: float
    end_s: float
    trawl_kn: float
    # (start_s, end_s, speed_kn, status) of each working mode, in order
    modes: tuple[tuple[float, float, float, int], ...]


@dataclass(frozen=True, slots=True)
class AnchorPlan:
    anchor_lat: float
    anchor_lon: float
    start_s: float
    end_s: float
    arrive_s: float | None
    approach_bearing_deg: float
    swing_radius_m: float
    wind_dir_deg: float
    tide_phase: float


@dataclass(frozen=True, slots=True)
class FixedPlan:
    track: Track


Motion = LanePlan | FishingPlan | AnchorPlan | FixedPlan


@dataclass(frozen=True, slots=True)
class VesselPlan:
    index: int
    identity: VesselIdentity
    motion: Motion
    gaps: tuple[tuple[float, float], ...]
    seed: int
    rot_sensor: bool
    heading_sensor: bool
    accuracy: bool
    role: str  # "lane", "fishing", "anchorage" or the situation id


def vessel_rng(seed: int, index: int, purpose: int) -> np.random.Generator:
    """A generator that depends only on the scenario seed, the vessel and the purpose."""
    return np.random.default_rng([seed, index, purpose])


# ------------------------------------------------------------------ tracks


def _lane_track(plan: LanePlan, rng: np.random.Generator) -> Track:
    t = grid(plan.start_s, plan.end_s)
    speed = plan.speed_kn + smooth_noise(rng, len(t), 10.0, 1800.0, 0.25)
    leeway = float(rng.normal(0.0, 1.5))
    piece, _ = along_route(plan.route, t, speed, plan.start_m, STATUS_UNDER_WAY, leeway)
    s = distance_along(t, speed, plan.start_m)
    arrived = np.nonzero(s >= plan.route.length_m)[0]
    if len(arrived):
        piece = piece.window(plan.start_s, float(t[arrived[0]]))
    return piece


def _fishing_track(plan: FishingPlan, rng: np.random.Generator) -> Track:
    t = grid(plan.start_s, plan.end_s)
    speed = np.empty(len(t))
    status = np.empty(len(t), dtype=np.int8)
    for start, end, kn, st in plan.modes:
        sel = (t >= start) & (t <= end)
        speed[sel] = kn
        status[sel] = st
    # ramps of a few minutes between modes, and the wobble of a working boat
    kernel = np.ones(18) / 18.0
    padded = np.concatenate([np.full(9, speed[0]), speed, np.full(8, speed[-1])])
    speed = np.convolve(padded, kernel, mode="valid")[: len(t)]
    speed = np.maximum(0.2, speed + smooth_noise(rng, len(t), 10.0, 600.0, 0.2))
    piece, _ = along_route(plan.route, t, speed, 0.0, STATUS_FISHING, float(rng.normal(0, 3.0)))
    return Track(piece.time_s, piece.lat, piece.lon, piece.heading_deg, status)


def _anchor_track(plan: AnchorPlan, rng: np.random.Generator) -> Track:
    if plan.arrive_s is None:
        t = grid(plan.start_s, plan.end_s)
        return at_anchor(
            plan.anchor_lat,
            plan.anchor_lon,
            t,
            plan.swing_radius_m,
            plan.wind_dir_deg,
            plan.tide_phase,
        )
    t_anchor = grid(plan.arrive_s, plan.end_s)
    anchored = at_anchor(
        plan.anchor_lat,
        plan.anchor_lon,
        t_anchor,
        plan.swing_radius_m,
        plan.wind_dir_deg,
        plan.tide_phase,
    )
    approach = approach_piece(
        float(anchored.lat[0]),
        float(anchored.lon[0]),
        plan.arrive_s,
        plan.approach_bearing_deg,
        cruise_kn=9.0,
        final_kn=0.0,
        decel_s=1800.0,
        start_s=plan.start_s,
    )
    return concat([approach, anchored])


def build_track(plan: VesselPlan) -> Track:
    """The vessel's true track, the same wherever and whenever it is built."""
    rng = vessel_rng(plan.seed, plan.index, 1)
    motion = plan.motion
    if isinstance(motion, FixedPlan):
        return motion.track
    if isinstance(motion, LanePlan):
        return _lane_track(motion, rng)
    if isinstance(motion, FishingPlan):
        return _fishing_track(motion, rng)
    return _anchor_track(motion, rng)


def approach_piece(
    end_lat: float,
    end_lon: float,
    arrive_s: float,
    from_bearing_deg: float,
    cruise_kn: float,
    final_kn: float,
    decel_s: float,
    start_s: float,
) -> Track:
    """Steam in a straight line towards a point, slowing down to arrive at `arrive_s`.

    `from_bearing_deg` is the direction from the point back towards where the ship comes
    from. The path is laid backwards from the arrival, so the ship is exactly there in time.
    """
    t = grid(start_s, arrive_s)
    if len(t) < 2:
        t = np.array([arrive_s - 10.0, arrive_s])
    t = t.copy()
    t[-1] = arrive_s
    speed = np.full(len(t), cruise_kn)
    ramp = t > arrive_s - decel_s
    frac = (t[ramp] - (arrive_s - decel_s)) / decel_s
    speed[ramp] = cruise_kn + (final_kn - cruise_kn) * frac
    total_m = float(distance_along(t, speed)[-1])
    heading = (from_bearing_deg + 180.0) % 360.0
    route = straight_route(end_lat, end_lon, heading, max(total_m, 1.0), backwards=True)
    piece, _ = along_route(route, t, speed, route.length_m - total_m, STATUS_UNDER_WAY)
    return piece


def departure_piece(
    lat: float,
    lon: float,
    start_s: float,
    end_s: float,
    bearing: float,
    from_kn: float,
    cruise_kn: float,
    accel_s: float,
) -> Track:
    """Leave a point in a straight line, speeding up to `cruise_kn`."""
    t = grid(start_s, end_s)
    if len(t) == 0:
        return Track(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.int8))
    speed = np.full(len(t), cruise_kn)
    ramp = t < start_s + accel_s
    speed[ramp] = from_kn + (cruise_kn - from_kn) * (t[ramp] - start_s) / accel_s
    total_m = float(distance_along(t, speed)[-1]) + 100.0
    route = straight_route(lat, lon, bearing, total_m)
    piece, _ = along_route(route, t, speed, 0.0, STATUS_UNDER_WAY)
    return piece


# ------------------------------------------------------------------ planning


def lane_route(lane: Lane, land: LandMask) -> Route:
    route = make_route(list(lane.waypoints_latlon), turn_radius_m=lane.turn_radius_m)
    if land.path_crosses_land(route.lat, route.lon):
        bad = land.land_points(route.lat, route.lon)
        where = np.nonzero(bad)[0]
        hint = ""
        if len(where):
            i = int(where[0])
            hint = f" near [{route.lat[i]:.3f}, {route.lon[i]:.3f}]"
        raise ScenarioError(f"lane {lane.name!r} crosses land{hint}")
    return route


def _pick(rng: np.random.Generator, values: tuple[int, ...]) -> int:
    return int(values[int(rng.integers(0, len(values)))])


def plan_lane(
    lane: Lane,
    route: Route,
    scenario: Scenario,
    ids: IdentityFactory,
    rng: np.random.Generator,
) -> list[tuple[VesselIdentity, LanePlan]]:
    """Vessels keeping `lane.vessels` ships on the lane: when one arrives, another sets out."""
    out: list[tuple[VesselIdentity, LanePlan]] = []
    reverse = route.reversed()
    for _ in range(lane.vessels):
        t = scenario.start_s
        first = True
        while t < scenario.end_s - 600.0:
            backwards = not lane.one_way and bool(rng.random() < 0.5)
            r = reverse if backwards else route
            speed = float(rng.uniform(*lane.speed_kn))
            start_m = float(rng.uniform(0.0, 0.95)) * r.length_m if first else 0.0
            remaining_s = (r.length_m - start_m) / (speed * 1852.0 / 3600.0)
            end_s = min(scenario.end_s, t + remaining_s * 1.05 + 600.0)
            ship_type = _pick(rng, lane.ship_types)
            destination_name = lane.destinations[0] if backwards else lane.destinations[1]
            identity = ids.make(_pick(rng, lane.flags), ship_type, "A", destination_name)
            out.append((identity, LanePlan(r, t, end_s, start_m, speed)))
            # the next ship on this slot sets out some time after this one arrives
            t = t + remaining_s + float(rng.uniform(600.0, 5400.0))
            first = False
    return out


def _random_point_in_circle(
    rng: np.random.Generator, lat: float, lon: float, radius_m: float
) -> tuple[float, float]:
    r = radius_m * math.sqrt(float(rng.random()))
    return destination(lat, lon, float(rng.uniform(0.0, 360.0)), r)


def _fishing_waypoints(
    ground: FishingGround, land: LandMask, rng: np.random.Generator, length_m: float
) -> list[tuple[float, float]]:
    """Legs of a few kilometres inside the ground, each over water, until long enough."""
    clat, clon = ground.center_latlon
    radius = ground.radius_km * 1000.0
    for _ in range(200):
        start = _random_point_in_circle(rng, clat, clon, radius)
        if not land.is_land(*start):
            break
    else:
        raise ScenarioError(f"fishing ground {ground.name!r} seems to be all land")
    points = [start]
    total = 0.0
    heading = float(rng.uniform(0.0, 360.0))
    while total < length_m:
        for _ in range(50):
            turn = float(rng.choice((-1.0, 1.0))) * float(rng.uniform(60.0, 160.0))
            if rng.random() < 0.3:
                turn = float(rng.uniform(-30.0, 30.0))
            cand_heading = (heading + turn) % 360.0
            leg = float(rng.uniform(2500.0, 9000.0))
            cand = destination(points[-1][0], points[-1][1], cand_heading, leg)
            inside = float(haversine_m(cand[0], cand[1], clat, clon)) <= radius
            if inside and not land.path_crosses_land(
                np.array([points[-1][0], cand[0]]), np.array([points[-1][1], cand[1]])
            ):
                points.append(cand)
                heading = cand_heading
                total += leg
                break
        else:
            # boxed in: head back towards the middle of the ground
            points.append((clat, clon))
            total += float(haversine_m(points[-2][0], points[-2][1], clat, clon))
    return points


def plan_fishing(
    ground: FishingGround,
    scenario: Scenario,
    land: LandMask,
    ids: IdentityFactory,
    rng: np.random.Generator,
) -> list[tuple[VesselIdentity, FishingPlan]]:
    out: list[tuple[VesselIdentity, FishingPlan]] = []
    for _ in range(ground.vessels):
        ais_class = "B" if rng.random() < ground.class_b_share else "A"
        identity = ids.make(_pick(rng, ground.flags), 30, ais_class, "")
        trawl = float(rng.uniform(*ground.speed_kn))
        # working modes: trawling for hours, hauling the net slowly for half an hour, and
        # now and then steaming to another spot
        modes: list[tuple[float, float, float, int]] = []
        t = scenario.start_s
        while t < scenario.end_s:
            trawl_s = float(rng.uniform(1.5, 4.0)) * 3600.0
            modes.append((t, t + trawl_s, trawl, STATUS_FISHING))
            t += trawl_s
            haul_s = float(rng.uniform(15.0, 35.0)) * 60.0
            modes.append((t, t + haul_s, float(rng.uniform(0.6, 1.6)), STATUS_FISHING))
            t += haul_s
            if rng.random() < 0.3:
                steam_s = float(rng.uniform(20.0, 50.0)) * 60.0
                modes.append((t, t + steam_s, float(rng.uniform(7.0, 9.5)), STATUS_UNDER_WAY))
                t += steam_s
        distance_m = sum((e - s) * kn * 1852.0 / 3600.0 for s, e, kn, _ in modes) * 1.2 + 5000.0
        waypoints = _fishing_waypoints(ground, land, rng, distance_m)
        route = make_route(waypoints, turn_radius_m=250.0, max_step_m=1000.0)
        out.append(
            (identity, FishingPlan(route, scenario.start_s, scenario.end_s, trawl, tuple(modes)))
        )
    return out


def plan_anchorage(
    anchorage: Anchorage,
    scenario: Scenario,
    land: LandMask,
    ids: IdentityFactory,
    rng: np.random.Generator,
) -> list[tuple[VesselIdentity, AnchorPlan]]:
    """Ships riding at anchor, spaced like a real anchorage (at least 600 m apart)."""
    out: list[tuple[VesselIdentity, AnchorPlan]] = []
    clat, clon = anchorage.center_latlon
    radius = anchorage.radius_km * 1000.0
    wind = float(rng.uniform(0.0, 360.0))
    spots: list[tuple[float, float]] = []
    for _ in range(anchorage.vessels):
        for _ in range(300):
            cand = _random_point_in_circle(rng, clat, clon, radius)
            if land.is_land(*cand):
                continue
            if all(float(haversine_m(cand[0], cand[1], a, b)) > 600.0 for a, b in spots):
                break
        else:
            raise ScenarioError(
                f"anchorage {anchorage.name!r}: no room for {anchorage.vessels} ships"
            )
        spots.append(cand)
        ship_type = _pick(rng, anchorage.ship_types)
        identity = ids.make(_pick(rng, anchorage.flags), ship_type, "A", anchorage.destination)
        arrive: float | None = None
        bearing = anchorage.approach_bearing_deg
        if rng.random() < anchorage.arriving_share:
            span_s = scenario.end_s - scenario.start_s
            arrive = scenario.start_s + float(rng.uniform(0.4, 0.8)) * span_s
            bearing = anchorage.approach_bearing_deg + float(rng.uniform(-20.0, 20.0))
            probe = straight_route(cand[0], cand[1], bearing, 25_000.0)
            if land.path_crosses_land(probe.lat[1:], probe.lon[1:]):
                arrive = None
        out.append(
            (
                identity,
                AnchorPlan(
                    anchor_lat=cand[0],
                    anchor_lon=cand[1],
                    start_s=scenario.start_s if arrive is None else arrive - 1.5 * 3600.0,
                    end_s=scenario.end_s,
                    arrive_s=arrive,
                    approach_bearing_deg=bearing,
                    swing_radius_m=float(rng.uniform(80.0, 250.0)),
                    wind_dir_deg=wind + float(rng.normal(0.0, 5.0)),
                    tide_phase=float(rng.uniform(0.0, 0.3)),
                ),
            )
        )
    return out
