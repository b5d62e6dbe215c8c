"""Which vessels are close to which, at one tick.

Positions are bucketed by H3 cell at a resolution chosen from the distance threshold, so that
two vessels within the threshold are always in the same or neighbouring cells; only those
candidates get the exact great-circle distance. H3 handles the antimeridian and the poles, so
nothing here special-cases them.

Of the pairs within the threshold, a pair is kept when one vessel is the other's nearest
neighbour (Global Fishing Watch pairs each vessel with its closest neighbour). Three vessels
together thus come out as the pairs that are actually alongside each other, not as every
combination: a tanker with a ship on each beam gives two pairs, not three.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from detectors import cells
from detectors.geodesy import haversine_m
from detectors.tracks import TickSample


class ClosePair(NamedTuple):
    """Two samples (indices into the tick's sample list, a < b by MMSI) and their distance."""

    a: int
    b: int
    distance_m: float


def close_pairs(
    samples: Sequence[TickSample], max_distance_m: float, resolution: int
) -> list[ClosePair]:
    """Pairs of samples within `max_distance_m` where one is the other's nearest neighbour."""
    by_cell: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        cell = cells.latlng_to_cell(sample.lat, sample.lon, resolution)
        members = by_cell.get(cell)
        if members is None:
            by_cell[cell] = [index]
        else:
            members.append(index)

    within: list[ClosePair] = []
    for cell, members in by_cell.items():
        neighbours: list[int] = []
        for other in cells.grid_disk(cell, 1):
            # Each unordered pair of cells is visited once: from the smaller cell id.
            if other > cell:
                found = by_cell.get(other)
                if found is not None:
                    neighbours.extend(found)
        for position, i in enumerate(members):
            si = samples[i]
            for j in members[position + 1 :]:
                _collect(samples, si, i, j, max_distance_m, within)
            for j in neighbours:
                _collect(samples, si, i, j, max_distance_m, within)

    return _nearest_neighbour_pairs(samples, within)


def _collect(
    samples: Sequence[TickSample],
    si: TickSample,
    i: int,
    j: int,
    max_distance_m: float,
    out: list[ClosePair],
) -> None:
    sj = samples[j]
    if si.mmsi == sj.mmsi:
        return
    distance_m = haversine_m(si.lat, si.lon, sj.lat, sj.lon)
    if distance_m <= max_distance_m:
        if si.mmsi < sj.mmsi:
            out.append(ClosePair(i, j, distance_m))
        else:
            out.append(ClosePair(j, i, distance_m))


def _nearest_neighbour_pairs(
    samples: Sequence[TickSample], within: list[ClosePair]
) -> list[ClosePair]:
    """Keep each pair that is the nearest for at least one of its two members.

    Ties are broken by the MMSIs, never by the order of the samples, so that every process
    that sees the same positions keeps the same pairs.
    """
    nearest: dict[int, tuple[float, int, int, ClosePair]] = {}
    for pair in within:
        rank = (pair.distance_m, samples[pair.a].mmsi, samples[pair.b].mmsi, pair)
        for member in (pair.a, pair.b):
            best = nearest.get(member)
            if best is None or rank[:3] < best[:3]:
                nearest[member] = rank
    kept = {(r[3].a, r[3].b): r[3] for r in nearest.values()}
    return sorted(kept.values(), key=lambda p: (samples[p.a].mmsi, samples[p.b].mmsi))
