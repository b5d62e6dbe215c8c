"""Ports and anchorages: load time of each file and time of `PortIndex.nearest`.

    python benchmarks/port_lookup.py [--queries N] [CSV ...]

Without CSV it uses the World Port Index and GFW anchorages files in ../shared/data/ports
(and exits 0 with a note when that folder is absent). It prints the time to read each file,
then for the 10 km exclusion radius and the 100 km search radius: the first query (which
buckets every place by H3 cell at that radius's resolution), and the mean time of N queries
near busy anchorage grounds (Singapore Strait, Fujairah, Rotterdam: thousands of places in
reach) and N queries at random points on the globe. Best of three, the machine may be shared.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from detectors.ports import PortIndex, load_port_index, read_ports

PORTS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ports"
DEFAULT_FILES = [
    PORTS_DIR / "nga_world_port_index_pub150.csv",
    PORTS_DIR / "gfw_named_anchorages_overrides_s2.csv",
]
BUSY = [(1.25, 103.8), (25.15, 56.45), (51.95, 4.05)]


def _best_of(runs: int, action: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    args = parser.parse_args()
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"skipped: no port file at {missing[0]}")
        return 0
    for path in args.files:
        spent = _best_of(3, lambda path=path: read_ports(path))
        print(f"read {path.name}: {spent:.2f} s")
    rng = random.Random(3)
    busy = [
        (lat + rng.gauss(0.0, 0.1), lon + rng.gauss(0.0, 0.1))
        for lat, lon in (rng.choice(BUSY) for _ in range(args.queries))
    ]
    anywhere = [
        (math.degrees(math.asin(rng.uniform(-1.0, 1.0))), rng.uniform(-180.0, 180.0))
        for _ in range(args.queries)
    ]
    print("radius_km  first_query_ms  busy_us  anywhere_us")
    for radius_m in (10_000.0, 100_000.0):
        index = load_port_index(args.files)
        started = time.perf_counter()
        index.nearest(0.0, 0.0, radius_m)
        first_ms = (time.perf_counter() - started) * 1e3
        timings = []
        for points in (busy, anywhere):

            def run(
                points: list[tuple[float, float]] = points,
                radius_m: float = radius_m,
                index: PortIndex = index,
            ) -> None:
                for lat, lon in points:
                    index.nearest(lat, lon, radius_m)

            timings.append(_best_of(3, run) / len(points) * 1e6)
        print(f"{radius_m / 1e3:9.0f}  {first_ms:14.0f}  {timings[0]:7.1f}  {timings[1]:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
