"""Great-circle geometry on a spherical Earth, in metres and degrees.

A sphere of the mean Earth radius is accurate to about 0.5 % against the WGS84 ellipsoid,
far inside the noise of AIS positions, and keeps every formula closed-form. Longitudes are
wrapped so that tracks and pairs across the antimeridian behave like any others.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_NAUTICAL_MILE = 1852.0
KNOTS_PER_MPS = 3600.0 / METRES_PER_NAUTICAL_MILE

_RAD = math.pi / 180.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in metres."""
    phi1 = lat1 * _RAD
    phi2 = lat2 * _RAD
    dphi = phi2 - phi1
    dlmb = (lon2 - lon1) * _RAD
    a = math.sin(dphi * 0.5) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def wrap_lon(lon: float) -> float:
    """A longitude in [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


def lon_delta(lon_from: float, lon_to: float) -> float:
    """The signed shortest longitude step from `lon_from` to `lon_to`, in (-180, 180]."""
    d = (lon_to - lon_from) % 360.0
    return d - 360.0 if d > 180.0 else d


def interpolate(
    lat1: float, lon1: float, lat2: float, lon2: float, fraction: float
) -> tuple[float, float]:
    """The point `fraction` of the way from point 1 to point 2.

    Linear in latitude and (wrapped) longitude for the short steps between AIS reports, which
    is exact to centimetres away from the poles; along the great circle when either end is
    within 10 degrees of a pole, where longitude lines converge.
    """
    if abs(lat1) < 80.0 and abs(lat2) < 80.0:
        return lat1 + (lat2 - lat1) * fraction, wrap_lon(lon1 + lon_delta(lon1, lon2) * fraction)
    return _slerp(lat1, lon1, lat2, lon2, fraction)


def _to_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi = lat * _RAD
    lmb = lon * _RAD
    return math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)


def _from_vector(x: float, y: float, z: float) -> tuple[float, float]:
    return math.degrees(math.atan2(z, math.hypot(x, y))), wrap_lon(math.degrees(math.atan2(y, x)))


def _slerp(
    lat1: float, lon1: float, lat2: float, lon2: float, fraction: float
) -> tuple[float, float]:
    a = _to_vector(lat1, lon1)
    b = _to_vector(lat2, lon2)
    dot = max(-1.0, min(1.0, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]))
    omega = math.acos(dot)
    if omega < 1e-12:
        return lat1, wrap_lon(lon1)
    s = math.sin(omega)
    wa = math.sin((1.0 - fraction) * omega) / s
    wb = math.sin(fraction * omega) / s
    return _from_vector(wa * a[0] + wb * b[0], wa * a[1] + wb * b[1], wa * a[2] + wb * b[2])


def mean_position(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The centre of a set of nearby points, right across the antimeridian and at the poles."""
    sx = sy = sz = 0.0
    for lat, lon in points:
        x, y, z = _to_vector(lat, lon)
        sx += x
        sy += y
        sz += z
    return _from_vector(sx, sy, sz)


def destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point `distance_m` from a start along an initial bearing (degrees from north)."""
    delta = distance_m / EARTH_RADIUS_M
    theta = bearing_deg * _RAD
    phi1 = lat * _RAD
    lmb1 = lon * _RAD
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    y = math.sin(theta) * math.sin(delta) * math.cos(phi1)
    x = math.cos(delta) - math.sin(phi1) * sin_phi2
    lmb2 = lmb1 + math.atan2(y, x)
    return math.degrees(phi2), wrap_lon(math.degrees(lmb2))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    phi1 = lat1 * _RAD
    phi2 = lat2 * _RAD
    dlmb = lon_delta(lon1, lon2) * _RAD
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    return math.degrees(math.atan2(y, x)) % 360.0
