"""EEZ index: load time (cold and from the cache) and lookup time, per H3 resolution.

    python benchmarks/zone_lookup.py [--res 2 3 4] [--points N] [EEZ_FILE]

Without EEZ_FILE it uses the world file in ../shared/data/eez (and exits 0 with a note when
that folder is absent). For each resolution it prints:
- `read`: parsing and repairing the file; `cold`: reading plus building the cells (no cache);
  `warm`: reading plus loading the cells from a cache written to a temporary folder;
- the number of interior and edge cells;
- mean lookup time over N random points on the globe (uniform by area), split by where the
  point fell: an interior cell, an edge cell (exact shapely test) or no cell (high seas),
  and the share of each. Best of three runs, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

from detectors import cells
from detectors.zones import ZoneIndex, load_zone_index, read_zone_features

WORLD_FILE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "eez"
    / "marineregions_world_eez_v11_lowres_simplified1pct.geojson"
)


def _best_of(runs: int, action: object) -> float:
    assert callable(action)
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def _kind(index: ZoneIndex, lat: float, lon: float) -> str:
    cell = cells.latlng_to_cell(lat, lon, index.resolution)
    if cell in index._interior:
        return "interior"
    return "edge" if cell in index._edges else "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("eez_file", nargs="?", type=Path, default=WORLD_FILE)
    args = parser.parse_args()
    if not args.eez_file.is_file():
        print(f"skipped: no EEZ file at {args.eez_file}")
        return 0
    rng = random.Random(7)
    points = [
        (math.degrees(math.asin(rng.uniform(-1.0, 1.0))), rng.uniform(-180.0, 180.0))
        for _ in range(args.points)
    ]
    read_s = _best_of(3, lambda: read_zone_features(args.eez_file))
    print(f"file {args.eez_file.name}: read {read_s:.2f} s")
    print("res  cold_s  warm_s  interior  edge   lookup_us: interior  edge   none  (share %)")
    for res in args.res:
        cold_s = _best_of(1, lambda res=res: load_zone_index(args.eez_file, res, cache=False))
        with tempfile.TemporaryDirectory() as cache_dir:
            load_zone_index(args.eez_file, res, cache_dir=cache_dir)
            warm_s = _best_of(
                3, lambda res=res: load_zone_index(args.eez_file, res, cache_dir=cache_dir)
            )
            index = load_zone_index(args.eez_file, res, cache_dir=cache_dir)
            assert index.cache_status == "hit"
        by_kind: dict[str, list[tuple[float, float]]] = {"interior": [], "edge": [], "none": []}
        for lat, lon in points:
            by_kind[_kind(index, lat, lon)].append((lat, lon))
        timings = []
        for kind in ("interior", "edge", "none"):
            chosen = by_kind[kind]

            def run(chosen: list[tuple[float, float]] = chosen, index: ZoneIndex = index) -> None:
                for lat, lon in chosen:
                    index.lookup(lat, lon)

            spent = _best_of(3, run)
            mean_us = spent / len(chosen) * 1e6 if chosen else float("nan")
            timings.append(f"{mean_us:6.1f} ({100 * len(chosen) / len(points):4.1f})")
        print(
            f"{res:3d}  {cold_s:6.2f}  {warm_s:6.2f}  {index.interior_cell_count:8d}"
            f"  {index.edge_cell_count:5d}   " + "  ".join(timings)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
