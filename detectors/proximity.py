"""Which vessels are close to which, at one tick.

Each vessel is paired with its nearest neighbour within the threshold (Global Fishing Watch
pairs each vessel with its closest neighbour), so three vessels together come out as the
pairs that are actually alongside each other: a tanker with a ship on each beam gives two
pairs, not three. It also keeps a crowded marina (hundreds of moored boats in one cell) at
one pair per boat instead of every combination. Ties go to the lower MMSI.

The search buckets positions by cell and compares each bucket with its neighbours, as
pipe-encounters does, but the cells are cubes of a grid over unit vectors
(`detectors.cube_grid`), not H3 cells: numpy places every position at once, where H3 takes a
call per position, and that call alone cost twice a whole `scipy.spatial.cKDTree` search
(about 1 us against 0.5 us per position, `benchmarks/run.py --only proximity`). The stream
still shards by H3 cell; only this search inside a shard is Cartesian.

Where positions crowd (an anchorage), most vessels have a neighbour much closer than the
threshold, and comparing each with everything within the threshold is wasted. The positions
in crowded cubes are first compared with each other within a finer radius, the one within
which a vessel at their density expects three neighbours (`_settling_share`); a vessel with
a neighbour that close is settled, and the full search then only makes the pairs that have
an unsettled vessel in them (`_settle_crowded` says why that is enough).

Everything is numpy: the distance is the chord's great-circle length, `2 R asin(c / 2)`, the
same quantity as `geodesy.haversine_m`'s, computed from the two positions alone, so it has
the same bits whatever the order of the samples or the round that finds it: a shard and a
batch run agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from detectors.cube_grid import MIN_CUBE, CubeGrid, Flags, Floats, Ints, expand, spans
from detectors.geodesy import EARTH_RADIUS_M
from detectors.tracks import TickSample


@dataclass(frozen=True, slots=True)
class ClosePairs:
    """The pairs of one tick as columns: samples a[i] and b[i] (indices into the tick's
    sample list, a's MMSI the lower) are distance_m[i] apart. Iterating gives (a, b,
    distance_m). Columns rather than an object per pair: a crowded tick has thousands of
    pairs, and a named tuple each cost an eighth of finding them (with the collections of
    the garbage collector they set off)."""

    a: list[int]
    b: list[int]
    distance_m: list[float]

    def __len__(self) -> int:
        return len(self.a)

    def __iter__(self) -> Iterator[tuple[int, int, float]]:
        return zip(self.a, self.b, self.distance_m, strict=True)


def close_pairs(samples: Sequence[TickSample], max_distance_m: float) -> ClosePairs:
    """Pairs within `max_distance_m` in which one vessel is the other's nearest neighbour,
    sorted by MMSIs. MMSIs are expected to be unique within a tick."""
    n = len(samples)
    if n < 2:
        return ClosePairs([], [], [])
    mmsi = np.fromiter([s.mmsi for s in samples], np.int64, n)
    lat = np.radians(np.fromiter([s.lat for s in samples], np.float64, n))
    lon = np.radians(np.fromiter([s.lon for s in samples], np.float64, n))
    cos_lat = np.cos(lat)
    x, y, z = cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)
    grid = CubeGrid(x, y, z, _cube_for(max_distance_m))
    # From here on, everything is in the grid's order ("positions").
    order = grid.order
    points = _Points(x[order], y[order], z[order], mmsi[order])

    first, low, high = grid.forward_ranges()
    crowded = np.flatnonzero(grid.count >= _CROWDED)
    if len(crowded) == 0:
        pairs = points.within(*expand(first, low, high), max_distance_m)
    else:
        # The two rounds' pairs are disjoint: the fine round's are of settled vessels only.
        fine_m = max_distance_m * _settling_share(grid.count[crowded])
        settled, fine = _settle_crowded(grid, crowded, points, fine_m)
        full = points.within(*_expand_unsettled(first, low, high, settled), max_distance_m)
        pairs = (
            np.concatenate((fine[0], full[0])),
            np.concatenate((fine[1], full[1])),
            np.concatenate((fine[2], full[2])),
        )
    return _nearest_neighbour_pairs(points.mmsi, grid.order, *pairs)


# A cube of the threshold's width holding this many positions is searched finer first;
# below it, a position has only a few candidates anyway.
_CROWDED = 4
# The finer search's radius is the one within which a vessel of the crowd expects this many
# neighbours: by Poisson, the chance of none (of staying unsettled) is e**-3, 5 %.
_SETTLING_NEIGHBOURS = 3.0
# ... kept between these shares of the threshold: finer than an eighth buys little more,
# and from half on the finer search costs nearly what the full one does.
_SETTLING_SHARES = (0.125, 0.5)


def _settling_share(crowded_counts: Ints) -> float:
    """The finer search's radius as a share of the threshold, from how crowded the crowded
    cubes are. A cube holding k positions stands for a density of about k per face of the
    cube (a threshold squared), at which k pi s**2 neighbours lie within s thresholds; the k
    is the median crowded cube's."""
    k = float(np.median(crowded_counts))
    share = math.sqrt(_SETTLING_NEIGHBOURS / (math.pi * k))
    return min(max(share, _SETTLING_SHARES[0]), _SETTLING_SHARES[1])


# Pairs of positions (each pair once) and their distances.
Pairs = tuple[Ints, Ints, Floats]


def _cube_for(distance_m: float) -> float:
    """A cube wide enough that two positions within `distance_m` are in touching cubes."""
    chord = 2.0 * math.sin(min(distance_m / (2.0 * EARTH_RADIUS_M), math.pi / 2.0))
    return max(chord * (1.0 + 1e-9), MIN_CUBE)


class _Points:
    """Unit vectors and MMSIs of the positions."""

    __slots__ = ("mmsi", "x", "y", "z")

    def __init__(self, x: Floats, y: Floats, z: Floats, mmsi: Ints) -> None:
        self.x, self.y, self.z, self.mmsi = x, y, z, mmsi

    def within(self, first: Ints, second: Ints, max_distance_m: float) -> Pairs:
        """The candidate pairs of two vessels no more than `max_distance_m` apart, with it."""
        x, y, z = self.x, self.y, self.z
        squared = np.square(x[first] - x[second])
        squared += np.square(y[first] - y[second])
        squared += np.square(z[first] - z[second])
        # The chord test is a cheap filter with a hair of slack; the distance decides.
        reach = _cube_for(max_distance_m)
        near = np.flatnonzero(squared <= reach * reach)
        first, second = first[near], second[near]
        distance = (2.0 * EARTH_RADIUS_M) * np.arcsin(np.minimum(np.sqrt(squared[near]) * 0.5, 1.0))
        near = np.flatnonzero(
            (distance <= max_distance_m) & (self.mmsi[first] != self.mmsi[second])
        )
        return first[near], second[near], distance[near]


def _settle_crowded(
    grid: CubeGrid, crowded: Ints, points: _Points, fine_m: float
) -> tuple[Flags, Pairs]:
    """Compare the positions in crowded cubes with each other within `fine_m`. A vessel
    with a neighbour that close is settled; the pairs found are returned.

    Why a settled vessel needs nothing more: its nearest neighbour is within `fine_m`. If
    that neighbour is settled too, both were in the crowded cubes and their pair was found
    here; if not, the full-threshold search finds every pair with an unsettled vessel in
    it. Either way the nearest is among the pairs."""
    crowd = spans(grid.start[crowded], grid.count[crowded])
    fine = CubeGrid(points.x[crowd], points.y[crowd], points.z[crowd], _cube_for(fine_m))
    first, second = expand(*fine.forward_ranges())
    first, second = crowd[fine.order[first]], crowd[fine.order[second]]
    found = points.within(first, second, fine_m)
    settled = np.zeros(len(grid.key), dtype=bool)
    settled[found[0]] = True
    settled[found[1]] = True
    return settled, found


def _expand_unsettled(first: Ints, low: Ints, high: Ints, settled: Flags) -> tuple[Ints, Ints]:
    """The pairs of the ranges that have an unsettled vessel in them: a range from an
    unsettled position whole, one from a settled position only its unsettled positions."""
    unsettled = np.flatnonzero(~settled)
    # before[p]: how many unsettled positions come before position p.
    before = np.zeros(len(settled) + 1, dtype=np.int64)
    np.cumsum(~settled, out=before[1:])
    is_settled = settled[first]
    whole_first, whole_second = expand(first[~is_settled], low[~is_settled], high[~is_settled])
    part_first, part_rank = expand(
        first[is_settled], before[low[is_settled]], before[high[is_settled]]
    )
    return (
        np.concatenate((whole_first, part_first)),
        np.concatenate((whole_second, unsettled[part_rank])),
    )


def _nearest_neighbour_pairs(
    mmsi: Ints, order: Ints, first: Ints, second: Ints, distance: Floats
) -> ClosePairs:
    """From pairs of positions (each pair once) and their distances, those in which one
    vessel is the other's nearest neighbour, by distance and then lower MMSI, as sample
    indices (`order` maps positions to them), sorted by the two MMSIs."""
    best = np.full(len(mmsi), np.inf)
    np.minimum.at(best, first, distance)
    np.minimum.at(best, second, distance)
    nearest_of_first = distance == best[first]
    nearest_of_second = distance == best[second]
    nearest_ends = np.concatenate((first[nearest_of_first], second[nearest_of_second]))
    if len(nearest_ends) == 0 or np.bincount(nearest_ends).max() == 1:
        # No vessel has two neighbours at exactly its nearest distance: nothing to break.
        chosen = nearest_of_first | nearest_of_second
    else:
        lowest = np.full(len(mmsi), np.iinfo(np.int64).max)
        np.minimum.at(lowest, first[nearest_of_first], mmsi[second[nearest_of_first]])
        np.minimum.at(lowest, second[nearest_of_second], mmsi[first[nearest_of_second]])
        chosen = (nearest_of_first & (mmsi[second] == lowest[first])) | (
            nearest_of_second & (mmsi[first] == lowest[second])
        )
    first, second, distance = first[chosen], second[chosen], distance[chosen]

    low_first = mmsi[first] < mmsi[second]
    a = np.where(low_first, first, second)
    b = np.where(low_first, second, first)
    # MMSIs are 30 bits in AIS, so one int64 holds both.
    ranked = np.argsort((mmsi[a] << 32) | mmsi[b])
    return ClosePairs(
        order[a[ranked]].tolist(), order[b[ranked]].tolist(), distance[ranked].tolist()
    )
