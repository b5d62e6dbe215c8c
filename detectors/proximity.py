"""Which vessels are close to which, at one tick.

Each vessel is paired with its nearest neighbour within the threshold (Global Fishing Watch
pairs each vessel with its closest neighbour), so three vessels together come out as the
pairs that are actually alongside each other: a tanker with a ship on each beam gives two
pairs, not three. It also keeps a crowded marina (hundreds of moored boats in one cell) at
one pair per boat instead of every combination. Ties go to the lower MMSI.

The search buckets positions by cell and compares each bucket with its neighbours, as
pipe-encounters does, but the cells are cubes of a grid over points on the unit sphere, not
H3 cells. Two positions within the threshold are within its chord in 3-D, so they are in the
same or touching cubes, at any latitude, across the antimeridian and at the poles. A cube is
three integers: numpy computes every position's cube at once, where H3 needs one call per
position, and that call alone cost twice a whole `scipy.spatial.cKDTree` search (about 1 us
against 0.5 us per position, `benchmarks/run.py --only proximity`). The stream still shards
by H3 cell; only this search inside a shard is Cartesian.

Everything is numpy: the distance is the chord's great-circle length, `2 R asin(c / 2)`, the
same quantity as `geodesy.haversine_m`'s. Arithmetic on the same positions gives the same
bits whatever their order, so a shard and a batch run agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from detectors.geodesy import EARTH_RADIUS_M
from detectors.tracks import TickSample

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# A cube is (i, j, k) packed into one int64 key, 21 bits an axis, so that the three cubes
# (i, j, k - 1 .. k + 1) are three consecutive keys: one range of the sorted positions.
_AXIS_BITS = 21
_J = 1 << _AXIS_BITS
_I = 1 << (2 * _AXIS_BITS)
_AXIS_ORIGIN = 1 << (_AXIS_BITS - 1)
# Unit-vector coordinates lie in [-1, 1]: cubes no smaller than this keep an axis within
# +-2**19 of the origin. It only matters for thresholds under about 7 m.
_MIN_CUBE = 4.0 / _J
# Besides its own column (i, j), a cube's forward neighbours lie in these columns; each
# unordered pair of touching cubes is visited once.
_FORWARD_COLUMNS = (_J, _I - _J, _I, _I + _J)


class ClosePair(NamedTuple):
    """Two samples (indices into the tick's sample list, a < b by MMSI) and their distance."""

    a: int
    b: int
    distance_m: float


def close_pairs(samples: Sequence[TickSample], max_distance_m: float) -> list[ClosePair]:
    """Pairs within `max_distance_m` in which one vessel is the other's nearest neighbour,
    sorted by MMSIs. MMSIs are expected to be unique within a tick."""
    n = len(samples)
    if n < 2:
        return []
    chord = 2.0 * math.sin(min(max_distance_m / (2.0 * EARTH_RADIUS_M), math.pi / 2.0))
    mmsi = np.fromiter([s.mmsi for s in samples], np.int64, n)
    lat = np.radians(np.fromiter([s.lat for s in samples], np.float64, n))
    lon = np.radians(np.fromiter([s.lon for s in samples], np.float64, n))
    cos_lat = np.cos(lat)
    x = cos_lat * np.cos(lon)
    y = cos_lat * np.sin(lon)
    z = np.sin(lat)

    reach = chord * (1.0 + 1e-9)
    order, first, second = _candidates(x, y, z, max(reach, _MIN_CUBE))
    # Candidates index the cube order: gather once, map back the few pairs that are close.
    x, y, z = x[order], y[order], z[order]
    squared = np.square(x[first] - x[second])
    squared += np.square(y[first] - y[second])
    squared += np.square(z[first] - z[second])
    # The chord test is a cheap filter with a hair of slack; the distance decides.
    near = np.flatnonzero(squared <= reach * reach)
    distance = (2.0 * EARTH_RADIUS_M) * np.arcsin(np.minimum(np.sqrt(squared[near]) * 0.5, 1.0))
    first, second = order[first[near]], order[second[near]]
    near = (distance <= max_distance_m) & (mmsi[first] != mmsi[second])
    if not near.any():
        return []
    return _nearest_neighbour_pairs(mmsi, first[near], second[near], distance[near])


def _candidates(x: Floats, y: Floats, z: Floats, cube: float) -> tuple[Ints, Ints, Ints]:
    """Every pair of positions in the same or touching cubes, once: `order` sorts the positions
    by cube, and `first` and `second` index that order."""
    n = len(x)
    key = (
        ((np.floor(x / cube).astype(np.int64) + _AXIS_ORIGIN) * _I)
        + ((np.floor(y / cube).astype(np.int64) + _AXIS_ORIGIN) * _J)
        + (np.floor(z / cube).astype(np.int64) + _AXIS_ORIGIN)
    )
    order = np.argsort(key)
    key = key[order]

    # Runs of positions in one cube: run r holds positions start[r] .. end[r] - 1.
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    np.not_equal(key[1:], key[:-1], out=new_run[1:])
    start = np.flatnonzero(new_run)
    end = np.append(start[1:], n)
    run_key = key[start]
    count = end - start

    # Own column: each position with the positions after it in its cube and in the cube
    # above (k + 1), which when occupied is the next run.
    above = np.zeros(len(start), dtype=bool)
    above[:-1] = run_key[1:] == run_key[:-1] + 1
    own_high = np.where(above, np.append(end[1:], n), end)
    firsts = [np.arange(n, dtype=np.int64)]
    lows = [firsts[0] + 1]
    highs = [np.repeat(own_high, count)]

    # Forward columns: most are empty at sea, and a hash set of the occupied columns says so
    # for a few nanoseconds where a binary search costs twice 20.
    column = run_key >> _AXIS_BITS
    occupied = _ColumnSet(column)
    for step in _FORWARD_COLUMNS:
        runs = np.flatnonzero(occupied.may_hold(column + (step >> _AXIS_BITS)))
        if len(runs) == 0:
            continue
        low = np.searchsorted(key, run_key[runs] + (step - 1), side="left")
        high = np.searchsorted(key, run_key[runs] + (step + 1), side="right")
        found = high > low
        runs, low, high = runs[found], low[found], high[found]
        members = count[runs]
        firsts.append(_spans(start[runs], members))
        lows.append(np.repeat(low, members))
        highs.append(np.repeat(high, members))

    first = np.concatenate(firsts)
    low = np.concatenate(lows)
    size = np.concatenate(highs) - low
    ranged = np.flatnonzero(size > 0)
    size = size[ranged]
    return order, np.repeat(first[ranged], size), _spans(low[ranged], size)


def _spans(start: Ints, size: Ints) -> Ints:
    """start[0] .. start[0] + size[0] - 1, then the same for each next span, end to end."""
    before = np.cumsum(size) - size
    return np.repeat(start - before, size) + np.arange(int(size.sum()), dtype=np.int64)


class _ColumnSet:
    """Which columns hold positions: a bitmap over hashed column numbers. `may_hold` is
    never wrong when it says no; a yes is checked by the binary search that follows."""

    def __init__(self, columns: Ints) -> None:
        bits = max(10, int(len(columns) * 8).bit_length())
        self._shift = np.uint64(64 - bits)
        self._present = np.zeros(1 << bits, dtype=bool)
        self._present[self._slot(columns)] = True

    def _slot(self, columns: Ints) -> Ints:
        # Fibonacci hashing: multiply by 2**64 / golden ratio, keep the top bits.
        mixed = columns.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return (mixed >> self._shift).astype(np.int64)

    def may_hold(self, columns: Ints) -> npt.NDArray[np.bool_]:
        return self._present[self._slot(columns)]


def _nearest_neighbour_pairs(
    mmsi: Ints, first: Ints, second: Ints, distance: Floats
) -> list[ClosePair]:
    """From close pairs (each once), the pairs in which one is the other's nearest, by
    distance and then lower MMSI."""
    source = np.concatenate((first, second))
    other = np.concatenate((second, first))
    both = np.concatenate((distance, distance))
    best = np.full(len(mmsi), np.inf)
    np.minimum.at(best, source, both)
    tied = both == best[source]
    source, other, both = source[tied], other[tied], both[tied]
    lowest = np.full(len(mmsi), np.iinfo(np.int64).max)
    np.minimum.at(lowest, source, mmsi[other])
    chosen = mmsi[other] == lowest[source]
    source, other, both = source[chosen], other[chosen], both[chosen]

    low_first = mmsi[source] < mmsi[other]
    a = np.where(low_first, source, other)
    b = np.where(low_first, other, source)
    # A mutual pair is chosen from both sides: keep it once, and sort by the two MMSIs
    # (30 bits each in AIS, so one int64 holds both).
    ranked = np.argsort((mmsi[a] << 32) | mmsi[b])
    a, b, both = a[ranked], b[ranked], both[ranked]
    new = np.ones(len(a), dtype=bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    kept = zip(a[new].tolist(), b[new].tolist(), both[new].tolist(), strict=True)
    return list(map(ClosePair._make, kept))
