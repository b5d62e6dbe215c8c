"""Which vessels are close to which, at one tick.

Positions are bucketed by H3 cell at a resolution chosen from the distance threshold, so that
two vessels within the threshold are always in the same or neighbouring cells; only those
candidates are compared. H3 handles the antimeridian and the poles, so nothing here
special-cases them.

Each vessel is paired with its nearest neighbour within the threshold (Global Fishing Watch
pairs each vessel with its closest neighbour), so three vessels together come out as the
pairs that are actually alongside each other: a tanker with a ship on each beam gives two
pairs, not three. It also keeps a crowded marina (hundreds of moored boats in one cell) at
one pair per boat instead of every combination.

Small buckets are compared in plain Python; crowded ones with numpy, a whole distance matrix
at a time. Either way the reported distance of a kept pair is recomputed with
`geodesy.haversine_m`, and ties go to the lower MMSI, so the result never depends on which
path ran or on the order of the samples: the stream's shards and a batch run agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from detectors import cells
from detectors.geodesy import EARTH_RADIUS_M, haversine_m
from detectors.tracks import TickSample

# Above this many member x candidate comparisons, a bucket is compared with numpy.
_VECTORISE_FROM = 48
# numpy and math may differ in the last bits: numpy only proposes, haversine_m decides.
_PROPOSAL_SLACK_M = 0.01


class ClosePair(NamedTuple):
    """Two samples (indices into the tick's sample list, a < b by MMSI) and their distance."""

    a: int
    b: int
    distance_m: float


def close_pairs(
    samples: Sequence[TickSample], max_distance_m: float, resolution: int
) -> list[ClosePair]:
    """Pairs within `max_distance_m` in which one vessel is the other's nearest neighbour."""
    by_cell: dict[str, list[int]] = {}
    to_cell = cells.latlng_to_cell_checked_upstream  # samples come from validated positions
    for index, sample in enumerate(samples):
        cell = to_cell(sample.lat, sample.lon, resolution)
        members = by_cell.get(cell)
        if members is None:
            by_cell[cell] = [index]
        else:
            members.append(index)

    # nearest[i] = (distance, mmsi of the neighbour, index of the neighbour)
    nearest: dict[int, tuple[float, int, int]] = {}
    for cell, members in by_cell.items():
        candidates = list(members)
        for other in cells.grid_disk(cell, 1):
            if other != cell:
                found = by_cell.get(other)
                if found is not None:
                    candidates.extend(found)
        if len(candidates) < 2:
            continue
        if len(members) * len(candidates) >= _VECTORISE_FROM:
            _nearest_vectorised(samples, members, candidates, max_distance_m, nearest)
        else:
            _nearest_plain(samples, members, candidates, max_distance_m, nearest)

    kept: dict[tuple[int, int], ClosePair] = {}
    for i, (distance_m, _, j) in nearest.items():
        a, b = (i, j) if samples[i].mmsi < samples[j].mmsi else (j, i)
        kept[(a, b)] = ClosePair(a, b, distance_m)
    return sorted(kept.values(), key=lambda p: (samples[p.a].mmsi, samples[p.b].mmsi))


def _offer(
    nearest: dict[int, tuple[float, int, int]], i: int, distance_m: float, mmsi: int, j: int
) -> None:
    best = nearest.get(i)
    if best is None or (distance_m, mmsi) < best[:2]:
        nearest[i] = (distance_m, mmsi, j)


def _nearest_plain(
    samples: Sequence[TickSample],
    members: list[int],
    candidates: list[int],
    max_distance_m: float,
    nearest: dict[int, tuple[float, int, int]],
) -> None:
    for i in members:
        si = samples[i]
        for j in candidates:
            sj = samples[j]
            if sj.mmsi == si.mmsi:
                continue
            distance_m = haversine_m(si.lat, si.lon, sj.lat, sj.lon)
            if distance_m <= max_distance_m:
                _offer(nearest, i, distance_m, sj.mmsi, j)


def _nearest_vectorised(
    samples: Sequence[TickSample],
    members: list[int],
    candidates: list[int],
    max_distance_m: float,
    nearest: dict[int, tuple[float, int, int]],
) -> None:
    member_lat = np.radians([samples[i].lat for i in members])
    member_lon = np.radians([samples[i].lon for i in members])
    cand_lat = np.radians([samples[j].lat for j in candidates])
    cand_lon = np.radians([samples[j].lon for j in candidates])
    member_mmsi = np.array([samples[i].mmsi for i in members])
    cand_mmsi = np.array([samples[j].mmsi for j in candidates])

    dlat = cand_lat[None, :] - member_lat[:, None]
    dlon = cand_lon[None, :] - member_lon[:, None]
    h = (
        np.sin(dlat * 0.5) ** 2
        + np.cos(member_lat)[:, None] * np.cos(cand_lat)[None, :] * np.sin(dlon * 0.5) ** 2
    )
    distance = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    distance[member_mmsi[:, None] == cand_mmsi[None, :]] = np.inf
    distance[distance > max_distance_m + _PROPOSAL_SLACK_M] = np.inf

    best = distance.min(axis=1)
    for row in np.flatnonzero(np.isfinite(best)):
        i = members[row]
        si = samples[i]
        # Every candidate within the slack of the minimum is checked exactly, so ties and
        # last-bit differences resolve exactly as the plain path would resolve them.
        for column in np.flatnonzero(distance[row] <= best[row] + _PROPOSAL_SLACK_M):
            j = candidates[column]
            sj = samples[j]
            distance_m = haversine_m(si.lat, si.lon, sj.lat, sj.lon)
            if distance_m <= max_distance_m:
                _offer(nearest, i, distance_m, sj.mmsi, j)
