"""Vectorised geometry for the simulator: distances, offsets and smooth routes.

The detectors' `detectors.geodesy` works on single points; the simulator moves thousands of
samples at once, so these are the numpy counterparts on the same spherical Earth. Offsets of
up to a few kilometres use the local tangent plane (east/north metres), which is exact to
millimetres at that scale; routes are polylines whose corners are replaced by circular arcs
so that a ship following one never turns faster than its speed over the arc radius allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from detectors.geodesy import EARTH_RADIUS_M
from detectors.geodesy import haversine_m as scalar_haversine_m

FloatArray = NDArray[np.float64]

_RAD = math.pi / 180.0
METRES_PER_DEG_LAT = EARTH_RADIUS_M * _RAD


def haversine_m(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Great-circle distance in metres, element-wise."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians((np.asarray(lon2) - np.asarray(lon1) + 180.0) % 360.0 - 180.0)
    a = np.sin(dphi * 0.5) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb * 0.5) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))))


def bearing_deg(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dlmb = np.radians((np.asarray(lon2) - np.asarray(lon1) + 180.0) % 360.0 - 180.0)
    y = np.sin(dlmb) * np.cos(phi2)
    x = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlmb)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0)


def offset(
    lat: FloatArray | float,
    lon: FloatArray | float,
    east_m: FloatArray | float,
    north_m: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """Points `east_m` and `north_m` from the given ones (local tangent plane)."""
    lat_arr = np.asarray(lat, dtype=np.float64)
    new_lat = lat_arr + np.asarray(north_m) / METRES_PER_DEG_LAT
    new_lon = np.asarray(lon) + np.asarray(east_m) / (
        METRES_PER_DEG_LAT * np.cos(np.radians(lat_arr))
    )
    return np.asarray(new_lat), np.asarray((new_lon + 180.0) % 360.0 - 180.0)


def destination(lat: float, lon: float, bearing: float, distance_m: float) -> tuple[float, float]:
    """The point `distance_m` along a great circle from a start (scalar)."""
    delta = distance_m / EARTH_RADIUS_M
    theta = bearing * _RAD
    phi1 = lat * _RAD
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    y = math.sin(theta) * math.sin(delta) * math.cos(phi1)
    x = math.cos(delta) - math.sin(phi1) * sin_phi2
    lon2 = lon + math.degrees(math.atan2(y, x))
    return math.degrees(phi2), (lon2 + 180.0) % 360.0 - 180.0


def unwrap_deg(angles_deg: FloatArray) -> FloatArray:
    """Angles made continuous (no jumps of 360), for interpolation."""
    return np.asarray(np.degrees(np.unwrap(np.radians(angles_deg))))


def angle_diff_deg(a: FloatArray | float, b: FloatArray | float) -> FloatArray:
    """Signed smallest difference a - b in degrees, in [-180, 180)."""
    return np.asarray((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


@dataclass(frozen=True, slots=True)
class Route:
    """A smooth path over the sea: points and the distance along it to each."""

    lat: FloatArray
    lon: FloatArray
    distance_m: FloatArray

    @property
    def length_m(self) -> float:
        return float(self.distance_m[-1])

    def at(self, distance_m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Positions at the given distances along the route (clipped to its ends)."""
        d = np.clip(distance_m, 0.0, self.length_m)
        return (
            np.asarray(np.interp(d, self.distance_m, self.lat)),
            np.asarray(np.interp(d, self.distance_m, self.lon)),
        )

    def reversed(self) -> Route:
        return Route(
            self.lat[::-1].copy(), self.lon[::-1].copy(), self.length_m - self.distance_m[::-1]
        )


def _fillet(
    prev: tuple[float, float],
    corner: tuple[float, float],
    nxt: tuple[float, float],
    radius_m: float,
    max_tangent_m: float,
) -> list[tuple[float, float]]:
    """Points of a circular arc replacing a corner (lat, lon), in the corner's tangent plane."""
    clat, clon = corner
    kx = METRES_PER_DEG_LAT * math.cos(clat * _RAD)
    ky = METRES_PER_DEG_LAT
    ax, ay = (prev[1] - clon) * kx, (prev[0] - clat) * ky
    bx, by = (nxt[1] - clon) * kx, (nxt[0] - clat) * ky
    la = math.hypot(ax, ay)
    lb = math.hypot(bx, by)
    if la < 1.0 or lb < 1.0:
        return [corner]
    # unit vectors: incoming direction (towards the corner) and outgoing direction
    uix, uiy = -ax / la, -ay / la
    uox, uoy = bx / lb, by / lb
    cross = uix * uoy - uiy * uox
    dot = max(-1.0, min(1.0, uix * uox + uiy * uoy))
    turn = math.acos(dot)
    if turn < math.radians(1.0):
        return [corner]
    tangent = radius_m * math.tan(turn / 2.0)
    tangent = min(tangent, max_tangent_m, 0.45 * la, 0.45 * lb)
    radius = tangent / math.tan(turn / 2.0)
    t1x, t1y = -uix * tangent, -uiy * tangent
    # the centre lies on the inside of the turn, perpendicular to the incoming direction
    side = 1.0 if cross > 0 else -1.0
    cx, cy = t1x - side * uiy * radius, t1y + side * uix * radius
    start = math.atan2(t1y - cy, t1x - cx)
    steps = max(2, int(math.degrees(turn) / 5.0) + 1)
    points = []
    for i in range(steps + 1):
        ang = start + side * turn * i / steps
        px, py = cx + radius * math.cos(ang), cy + radius * math.sin(ang)
        points.append((clat + py / ky, clon + px / kx))
    return points


def make_route(
    waypoints: list[tuple[float, float]],
    turn_radius_m: float = 1500.0,
    max_step_m: float = 2000.0,
) -> Route:
    """A route through (lat, lon) waypoints with arcs of `turn_radius_m` at the corners.

    Straight stretches are cut into steps of at most `max_step_m` so that interpolating
    linearly in latitude and longitude stays within metres of the great circle.
    """
    if len(waypoints) < 2:
        raise ValueError("a route needs at least two waypoints")
    points: list[tuple[float, float]] = [waypoints[0]]
    for i in range(1, len(waypoints) - 1):
        points.extend(
            _fillet(waypoints[i - 1], waypoints[i], waypoints[i + 1], turn_radius_m, 20_000.0)
        )
    points.append(waypoints[-1])
    dense: list[tuple[float, float]] = [points[0]]
    for (lat1, lon1), (lat2, lon2) in pairwise(points):
        dist = scalar_haversine_m(lat1, lon1, lat2, lon2)
        n = max(1, math.ceil(dist / max_step_m))
        dlon = (lon2 - lon1 + 180.0) % 360.0 - 180.0
        for j in range(1, n + 1):
            f = j / n
            dense.append((lat1 + (lat2 - lat1) * f, lon1 + dlon * f))
    lat = np.array([p[0] for p in dense])
    lon = np.array([p[1] for p in dense])
    steps = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    keep = np.concatenate(([True], steps > 0.01))
    lat, lon = lat[keep], lon[keep]
    steps = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    distance = np.concatenate(([0.0], np.cumsum(steps)))
    return Route(lat, (lon + 180.0) % 360.0 - 180.0, distance)
