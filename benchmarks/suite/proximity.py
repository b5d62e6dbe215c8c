"""Measurement 5: the proximity search per position against a batch `cKDTree.query_pairs`.

Input: one tick's `TickSample`s (detectors/tracks.py) of N vessels of `inputs.fleet` (the
`large` scenario's lanes, fishing grounds and anchorages, copied to other seas) at several N,
and ports: vessels spread uniformly over a disc of a few kilometres (2,000 in 3 km: about 55
within 500 m of each; 5,000 in 10 km: about 12).

- stswatch: `detectors.proximity.close_pairs(samples, 500 m)` as the detector calls it:
  unit vectors, cubes of a 3-D grid, candidates from each cube and the cubes it touches,
  distances, nearest-neighbour pairs, sorted.
- baseline: from the same sample list, latitudes and longitudes into numpy, 3-D unit-sphere
  coordinates, `scipy.spatial.cKDTree(xyz).query_pairs(chord, output_type="ndarray")` with
  chord = 2 sin(500 m / 2R): every pair within 500 m (it does not pick nearest neighbours,
  so it does a little less).
- H3 alone: `cells.latlng_to_cell` of every sample at the resolution that keeps 500 m within
  neighbouring cells: what bucketing by H3 cell would cost before any comparison (the search
  bucketed by H3 until December 2026).

CPU time, best of `repeat` runs taken in turns. scipy is imported here only: the product
never uses it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from detectors import cells
from detectors.geodesy import EARTH_RADIUS_M, destination
from detectors.proximity import close_pairs
from detectors.tracks import TickSample

from .common import Row, Section
from .inputs import BaseTracks, fleet

MAX_DISTANCE_M = 500.0
PORT_CENTRE = (1.22, 103.85)  # off Singapore, where anchorages are the densest in the world


def fleet_samples(tracks: BaseTracks, count: int, column: int = 120) -> list[TickSample]:
    ships = fleet(tracks, count)
    lat, lon = ships.positions(np.full(count, column))
    speed = tracks.sog_kn[ships.base, column]
    return [
        TickSample(200_000_000 + i, la, lo, sp)
        for i, (la, lo, sp) in enumerate(
            zip(lat.tolist(), lon.tolist(), speed.tolist(), strict=True)
        )
    ]


def port_samples(count: int, radius_m: float, seed: int = 11) -> list[TickSample]:
    """Vessels spread uniformly over a disc (at anchor: speed 0)."""
    rng = np.random.default_rng(seed)
    distance = radius_m * np.sqrt(rng.random(count))
    bearing = rng.uniform(0.0, 360.0, count)
    out = []
    for i, (d, b) in enumerate(zip(distance.tolist(), bearing.tolist(), strict=True)):
        lat, lon = destination(PORT_CENTRE[0], PORT_CENTRE[1], b, d)
        out.append(TickSample(300_000_000 + i, lat, lon, 0.0))
    return out


def kdtree_pairs(samples: Sequence[TickSample], max_distance_m: float) -> int:
    n = len(samples)
    lat = np.radians(np.fromiter((s.lat for s in samples), float, n))
    lon = np.radians(np.fromiter((s.lon for s in samples), float, n))
    cos_lat = np.cos(lat)
    xyz = np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))
    chord = 2.0 * math.sin(max_distance_m / (2.0 * EARTH_RADIUS_M))
    pairs = cKDTree(xyz).query_pairs(chord, output_type="ndarray")
    return len(pairs)


def h3_only(samples: Sequence[TickSample], resolution: int) -> int:
    found = {cells.latlng_to_cell(s.lat, s.lon, resolution) for s in samples}
    return len(found)


def best_cpu_s(runs: Sequence[Callable[[], object]], repeat: int) -> tuple[list[float], list[Any]]:
    """Best CPU time of each run; the runs take turns so that a busy spell hurts all alike."""
    best = [math.inf] * len(runs)
    results: list[Any] = [None] * len(runs)
    for _ in range(repeat):
        for index, run in enumerate(runs):
            start = time.process_time()
            results[index] = run()
            best[index] = min(best[index], time.process_time() - start)
    return best, results


def measure_proximity(
    tracks: BaseTracks, counts: Sequence[int], ports: Sequence[tuple[int, float]], repeat: int
) -> Section:
    section = Section("proximity search")
    resolution = cells.resolution_for_distance(MAX_DISTANCE_M)
    cases: list[tuple[str, list[TickSample]]] = [
        (f"{count:,} vessels at sea", fleet_samples(tracks, count)) for count in counts
    ]
    cases.extend(
        (f"port: {count:,} in {radius_m / 1000:.0f} km radius", port_samples(count, radius_m))
        for count, radius_m in ports
    )
    details: dict[str, Any] = {"resolution": resolution, "cases": []}
    for label, samples in cases:
        n = len(samples)
        (ours_s, tree_s, h3_s), (pairs, tree_pairs, _) = best_cpu_s(
            [
                partial(close_pairs, samples, MAX_DISTANCE_M),
                partial(kdtree_pairs, samples, MAX_DISTANCE_M),
                partial(h3_only, samples, resolution),
            ],
            repeat,
        )
        ours_us, tree_us, h3_us = (x / n * 1e6 for x in (ours_s, tree_s, h3_s))
        ratio = ours_us / tree_us
        section.rows.append(
            Row(
                f"5. close_pairs, {label}",
                f"{ours_us:.2f} us/position",
                f"cKDTree {tree_us:.2f} us/position",
                ratio,
                "<= 1.00",
                ratio <= 1.0,
                f"H3 cells alone {h3_us:.2f} us",
            )
        )
        details["cases"].append(
            {
                "case": label,
                "positions": n,
                "close_pairs_us_per_position": round(ours_us, 3),
                "kdtree_us_per_position": round(tree_us, 3),
                "h3_cells_us_per_position": round(h3_us, 3),
                "close_pairs_found": len(pairs),
                "kdtree_pairs_within_500m": tree_pairs,
            }
        )
    section.details = details
    section.notes.append(
        f"CPU time, best of {repeat}; close_pairs keeps nearest-neighbour pairs only, "
        "cKDTree lists every pair within 500 m"
    )
    return section
