"""Validity rules shared by every input format: times, MMSIs, coordinates.

Each check returns None when the value is fine, or a `(reason, detail)` pair: `reason` is the
stable code counted in `DecodeStats.rejected`, `detail` a short text for people.
"""

from __future__ import annotations

# Event times outside [1990-01-01, 2100-01-01) UTC are corrupt clocks or wrong units.
MIN_TIME_S = 631_152_000.0
MAX_TIME_S = 4_102_444_800.0

# An MMSI has nine digits; written as an int, leading zeros (coast stations 00MID...) vanish,
# so any value from 1 to 999,999,999 is a well-formed MMSI.
MAX_MMSI = 999_999_999

# Epoch values above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
EPOCH_MS_THRESHOLD = 100_000_000_000

Problem = tuple[str, str]


def epoch_to_seconds(value: float) -> float:
    """Epoch seconds from an epoch in seconds or milliseconds, told apart by magnitude."""
    if value > EPOCH_MS_THRESHOLD:
        return value / 1000.0
    return float(value)


def check_time(time_s: float) -> Problem | None:
    if MIN_TIME_S <= time_s < MAX_TIME_S:
        return None
    return ("bad_time", f"time {time_s!r} s is not between 1990 and 2100")


def check_mmsi(mmsi: int) -> Problem | None:
    if 0 < mmsi <= MAX_MMSI:
        return None
    return ("bad_mmsi", f"MMSI {mmsi} is not 9 digits")


def check_lat_lon(lat: float, lon: float) -> Problem | None:
    """Rejects AIS "not available" (91, 181) and anything outside the globe.

    NaN fails every comparison and lands in the out-of-range branches.
    """
    if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
        return None
    if lat == 91.0 or lon == 181.0:
        return ("no_position", f"position not available (lat {lat}, lon {lon})")
    if not -90.0 <= lat <= 90.0:
        return ("lat_out_of_range", f"lat {lat}")
    return ("lon_out_of_range", f"lon {lon}")
