"""Where the sun is: its elevation above the horizon at a place and time.

The "general solar position" formulas of NOAA's Global Monitoring Laboratory (a Fourier
series in the fractional year for the equation of time and the declination, then the hour
angle), good to a few tenths of a degree, which is plenty to tell day from night.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def solar_elevation_deg(lat: float, lon: float, time_s: float) -> float:
    """Elevation of the sun's centre above the horizon, in degrees (no refraction)."""
    moment = datetime.fromtimestamp(time_s, tz=UTC)
    days_in_year = 366 if _is_leap(moment.year) else 365
    hours = moment.hour + moment.minute / 60.0 + (moment.second + moment.microsecond / 1e6) / 3600
    gamma = 2.0 * math.pi / days_in_year * (moment.timetuple().tm_yday - 1 + (hours - 12.0) / 24.0)
    equation_of_time_min = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    declination = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    true_solar_time_min = hours * 60.0 + equation_of_time_min + 4.0 * lon
    hour_angle = math.radians(true_solar_time_min / 4.0 - 180.0)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))


def night_share(
    lat: float,
    lon: float,
    start_s: float,
    end_s: float,
    below_deg: float,
    step_s: float = 600.0,
    max_samples: int = 73,
) -> float:
    """The share (0-1) of [start_s, end_s] with the sun below `below_deg` at the place.

    Sampled every `step_s` (fewer samples, evenly spread, for long intervals); an instant
    (start == end) is either night (1.0) or day (0.0)."""
    span_s = max(0.0, end_s - start_s)
    samples = min(max_samples, int(span_s // step_s) + 1)
    if samples <= 1:
        return 1.0 if solar_elevation_deg(lat, lon, start_s) < below_deg else 0.0
    dark = 0
    for i in range(samples):
        t = start_s + span_s * i / (samples - 1)
        if solar_elevation_deg(lat, lon, t) < below_deg:
            dark += 1
    return dark / samples


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
