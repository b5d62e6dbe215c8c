"""Ground-truth vessel motion: continuous tracks sampled every `STEP_S` seconds.

A track is built from pieces that each start where the previous one ended: following a
route at a planned speed, drifting with the current, swinging at anchor, or keeping station
beside another vessel. Speed over ground and course are derived from the positions
themselves (finite differences), so they can never disagree with the path; headings are
planned per piece and limited to a physical turn rate where pieces meet.

Reported AIS values are sampled from these tracks at the transponder's reporting times
(`reports.py`), with GPS noise added there, never here: the truth is noise-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .geo import METRES_PER_DEG_LAT, FloatArray, Route, bearing_deg, haversine_m, offset

STEP_S = 10.0
KN_TO_MPS = 1852.0 / 3600.0

# AIS navigational status codes (ITU-R M.1371 message 1, field "navigational status").
STATUS_UNDER_WAY = 0
STATUS_AT_ANCHOR = 1
STATUS_RESTRICTED = 3
STATUS_MOORED = 5
STATUS_FISHING = 7
STATUS_UNDEFINED = 15


@dataclass(frozen=True, slots=True)
class Track:
    """A vessel's true motion on a regular time grid."""

    time_s: FloatArray
    lat: FloatArray
    lon: FloatArray
    heading_deg: FloatArray
    status: NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def start_s(self) -> float:
        return float(self.time_s[0])

    @property
    def end_s(self) -> float:
        return float(self.time_s[-1])

    def speed_course(self) -> tuple[FloatArray, FloatArray]:
        """Speed over ground (knots) and course over ground (degrees) from the positions."""
        n = len(self.time_s)
        if n < 2:
            return np.zeros(n), np.zeros(n)
        lat, lon, t = self.lat, self.lon, self.time_s
        step_m = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        step_bearing = bearing_deg(lat[:-1], lon[:-1], lat[1:], lon[1:])
        step_speed = step_m / np.maximum(np.diff(t), 1e-9) / KN_TO_MPS
        # central estimate: average of the steps on either side of each sample
        speed = np.empty(n)
        speed[0] = step_speed[0]
        speed[-1] = step_speed[-1]
        speed[1:-1] = 0.5 * (step_speed[:-1] + step_speed[1:])
        ex = np.sin(np.radians(step_bearing)) * step_m
        ny = np.cos(np.radians(step_bearing)) * step_m
        cx = np.empty(n)
        cy = np.empty(n)
        cx[0], cy[0] = ex[0], ny[0]
        cx[-1], cy[-1] = ex[-1], ny[-1]
        cx[1:-1] = ex[:-1] + ex[1:]
        cy[1:-1] = ny[:-1] + ny[1:]
        course = np.degrees(np.arctan2(cx, cy)) % 360.0
        # a vessel at rest has no course: keep its heading there
        still = speed < 0.05
        course[still] = self.heading_deg[still] % 360.0
        return speed, course

    def window(self, start_s: float, end_s: float) -> Track:
        keep = (self.time_s >= start_s) & (self.time_s <= end_s)
        return Track(
            self.time_s[keep],
            self.lat[keep],
            self.lon[keep],
            self.heading_deg[keep],
            self.status[keep],
        )

    def position_at(self, time_s: float | FloatArray) -> tuple[FloatArray, FloatArray]:
        """Linear interpolation of the true position (times clipped to the track)."""
        return (
            np.asarray(np.interp(time_s, self.time_s, self.lat)),
            np.asarray(np.interp(time_s, self.time_s, self.lon)),
        )


def grid(start_s: float, end_s: float) -> FloatArray:
    """The sample times from `start_s` to `end_s` inclusive, on the global STEP_S grid."""
    first = math.ceil(start_s / STEP_S - 1e-9)
    last = math.floor(end_s / STEP_S + 1e-9)
    return np.arange(first, last + 1, dtype=np.float64) * STEP_S


def concat(pieces: list[Track]) -> Track:
    """One track from consecutive pieces (a repeated boundary sample is dropped)."""
    parts = [p for p in pieces if len(p)]
    out = [parts[0]]
    for p in parts[1:]:
        prev_end = out[-1].time_s[-1]
        keep = p.time_s > prev_end
        out.append(
            Track(p.time_s[keep], p.lat[keep], p.lon[keep], p.heading_deg[keep], p.status[keep])
        )
    return Track(
        np.concatenate([p.time_s for p in out]),
        np.concatenate([p.lat for p in out]),
        np.concatenate([p.lon for p in out]),
        np.concatenate([p.heading_deg for p in out]),
        np.concatenate([p.status for p in out]),
    )


def _status(n: int, status: int) -> NDArray[np.int8]:
    return np.full(n, status, dtype=np.int8)


def distance_along(time_s: FloatArray, speed_kn: FloatArray, start_m: float = 0.0) -> FloatArray:
    """Distance travelled at each sample (trapezoidal integration of speed)."""
    v = speed_kn * KN_TO_MPS
    steps = 0.5 * (v[:-1] + v[1:]) * np.diff(time_s)
    return np.concatenate(([start_m], start_m + np.cumsum(steps)))


def along_route(
    route: Route,
    time_s: FloatArray,
    speed_kn: FloatArray,
    start_m: float = 0.0,
    status: int = STATUS_UNDER_WAY,
    leeway_deg: float = 0.0,
) -> tuple[Track, float]:
    """Follow `route` at the planned speeds; returns the piece and the distance reached."""
    s = np.minimum(distance_along(time_s, speed_kn, start_m), route.length_m)
    lat, lon = route.at(s)
    # heading from the route's direction at each point (defined even when nearly stopped)
    ahead_lat, ahead_lon = route.at(s + 20.0)
    behind_lat, behind_lon = route.at(s - 20.0)
    heading = (bearing_deg(behind_lat, behind_lon, ahead_lat, ahead_lon) + leeway_deg) % 360.0
    return Track(time_s, lat, lon, heading, _status(len(time_s), status)), float(s[-1])


def drift(
    lat0: float,
    lon0: float,
    time_s: FloatArray,
    east_mps: FloatArray,
    north_mps: FloatArray,
    heading_deg: FloatArray,
    status: int = STATUS_UNDER_WAY,
) -> Track:
    """Move with a velocity field (current and wind) from a start point."""
    dt = np.diff(time_s)
    east = np.concatenate(([0.0], np.cumsum(0.5 * (east_mps[:-1] + east_mps[1:]) * dt)))
    north = np.concatenate(([0.0], np.cumsum(0.5 * (north_mps[:-1] + north_mps[1:]) * dt)))
    lat, lon = offset(np.full(len(time_s), lat0), np.full(len(time_s), lon0), east, north)
    return Track(time_s, lat, lon, heading_deg % 360.0, _status(len(time_s), status))


def tidal_current(
    time_s: FloatArray,
    mean_kn: float,
    mean_dir_deg: float,
    tidal_kn: float,
    phase: float,
) -> tuple[FloatArray, FloatArray]:
    """East and north velocity (m/s) of a steady drift plus a rotary tidal current.

    Rotary currents, turning once per semidiurnal tide (12.42 h), are typical of open shelf
    seas such as the East China Sea.
    """
    omega = 2.0 * math.pi / 44_712.0
    ang = omega * time_s + phase
    mean_e = mean_kn * math.sin(math.radians(mean_dir_deg))
    mean_n = mean_kn * math.cos(math.radians(mean_dir_deg))
    east = (mean_e + tidal_kn * np.cos(ang)) * KN_TO_MPS
    north = (mean_n + tidal_kn * np.sin(ang)) * KN_TO_MPS
    return east, north


def at_anchor(
    anchor_lat: float,
    anchor_lon: float,
    time_s: FloatArray,
    swing_radius_m: float,
    wind_dir_deg: float,
    phase: float,
    status: int = STATUS_AT_ANCHOR,
) -> Track:
    """A ship riding to its anchor: downwind of it, swinging slowly with the tide."""
    omega = 2.0 * math.pi / 44_712.0
    # the ship lies downwind of the anchor; the tide swings it up to 70 degrees either side
    lie = wind_dir_deg + 180.0 + 70.0 * np.sin(omega * time_s + phase)
    east = swing_radius_m * np.sin(np.radians(lie))
    north = swing_radius_m * np.cos(np.radians(lie))
    lat, lon = offset(
        np.full(len(time_s), anchor_lat), np.full(len(time_s), anchor_lon), east, north
    )
    heading = (lie + 180.0) % 360.0  # bow towards the anchor
    return Track(time_s, lat, lon, heading, _status(len(time_s), status))


def alongside(
    leader: Track,
    along_m: FloatArray | float,
    across_m: FloatArray | float,
    heading_offset_deg: FloatArray | float = 0.0,
    status: int | None = None,
    frame_heading_deg: float | None = None,
) -> Track:
    """Keep station relative to a leader: `along_m` ahead and `across_m` to starboard.

    Offsets turn with the leader's heading (a ship moored alongside), or with a fixed
    `frame_heading_deg` (ships merely keeping near each other, whose lever arm of
    kilometres would otherwise swing with every yaw of the leader).
    """
    n = len(leader)
    along = np.broadcast_to(np.asarray(along_m, dtype=np.float64), (n,))
    across = np.broadcast_to(np.asarray(across_m, dtype=np.float64), (n,))
    frame = leader.heading_deg if frame_heading_deg is None else np.full(n, frame_heading_deg)
    h = np.radians(frame)
    east = along * np.sin(h) + across * np.cos(h)
    north = along * np.cos(h) - across * np.sin(h)
    lat, lon = offset(leader.lat, leader.lon, east, north)
    heading = (leader.heading_deg + heading_offset_deg) % 360.0
    st = leader.status if status is None else _status(n, status)
    return Track(leader.time_s, lat, lon, np.asarray(heading), st.copy())


def straight_route(
    lat: float, lon: float, bearing: float, length_m: float, backwards: bool = False
) -> Route:
    """A straight route of `length_m` leaving (or, with backwards, arriving at) a point."""
    from .geo import destination  # local: avoids a cycle in type-only imports

    if backwards:
        start = destination(lat, lon, (bearing + 180.0) % 360.0, length_m)
        end = (lat, lon)
    else:
        start = (lat, lon)
        end = destination(lat, lon, bearing, length_m)
    n = max(2, int(length_m / 1000.0) + 2)
    f = np.linspace(0.0, 1.0, n)
    lats = start[0] + (end[0] - start[0]) * f
    dlon = (end[1] - start[1] + 180.0) % 360.0 - 180.0
    lons = start[1] + dlon * f
    steps = haversine_m(lats[:-1], lons[:-1], lats[1:], lons[1:])
    return Route(lats, lons, np.concatenate(([0.0], np.cumsum(steps))))


def limit_turn_rate(
    heading_deg: FloatArray, time_s: FloatArray, max_deg_per_s: float
) -> FloatArray:
    """Headings changed no faster than a ship can turn (applied where pieces meet)."""
    out = np.array(heading_deg, dtype=np.float64)
    dt = np.diff(time_s)
    for i in range(1, len(out)):
        step = (out[i] - out[i - 1] + 180.0) % 360.0 - 180.0
        limit = max_deg_per_s * dt[i - 1]
        if step > limit:
            out[i] = (out[i - 1] + limit) % 360.0
        elif step < -limit:
            out[i] = (out[i - 1] - limit) % 360.0
    return out


def smooth_noise(
    rng: np.random.Generator, n: int, step_s: float, correlation_s: float, sigma: float
) -> FloatArray:
    """Slowly and smoothly varying noise of about standard deviation `sigma`.

    An Ornstein-Uhlenbeck process (correlation time `correlation_s`) is rough at short time
    scales, which would show as jerky speeds when it drives a position; a moving average
    over a fifth of the correlation time smooths it. The recursion x[k] = a * x[k-1] + e[k]
    is evaluated in closed form per segment, x[k] = a**k * (a * c + cumsum(e / a**j)), with
    c the value before the segment; segments of 20 correlation times keep a**-j finite.
    """
    if n == 0:
        return np.zeros(0)
    a = math.exp(-step_s / correlation_s)
    width = max(1, int(correlation_s / step_s / 5.0))
    total = n + width
    shocks = rng.normal(0.0, sigma * math.sqrt(1.0 - a * a), total)
    seg = max(1, int(20.0 * correlation_s / step_s))
    powers = a ** np.arange(min(seg, total))
    raw = np.empty(total)
    carry = float(rng.normal(0.0, sigma))
    for s0 in range(0, total, seg):
        e = shocks[s0 : s0 + seg]
        p = powers[: len(e)]
        x = p * (a * carry + np.cumsum(e / p))
        raw[s0 : s0 + len(e)] = x
        carry = float(x[-1])
    if width == 1:
        return raw[:n]
    csum = np.concatenate(([0.0], np.cumsum(raw)))
    smoothed = (csum[width:] - csum[:-width]) / width
    # a moving average shrinks the spread; scale it back to about sigma
    scale = sigma / max(float(np.std(smoothed)), 1e-12) if n > 10 * width else 1.0
    return np.asarray(smoothed[:n] * min(scale, 2.0))


def metres_to_deg_lat(metres: float) -> float:
    return metres / METRES_PER_DEG_LAT
