"""The smallest gap between an H3 cell and the cells two steps away, per resolution.

    python benchmarks/h3_neighbour_gap.py [--max-res N] [--random N]

Two points closer than this gap are always in the same or neighbouring cells, which is what
`detectors.cells.resolution_for_distance` promises. For each resolution it measures, for the
cells around the 12 pentagons (where cells are smallest) plus N random cells (all cells at
resolutions 0 to 2), the great-circle distance between the cell's boundary and the boundary of
each cell of its ring 2, and prints the minimum, which cell has it, and the minimum as a
fraction of the average edge length; `cells.SAFE_EDGE_FRACTION` must stay below every printed
fraction. Measured with h3 4.5: 0.933, 0.787, 0.773 at resolutions 0-2, then 0.703
(class III, odd) and 0.744 (class II, even) from resolution 3 on, always at a pentagon.
Slow by design (about 45 s per resolution with the defaults).
"""

from __future__ import annotations

import argparse
import random
import time

import h3
import numpy as np
import numpy.typing as npt

from detectors import cells
from detectors.geodesy import EARTH_RADIUS_M

Vectors = npt.NDArray[np.float64]


def _unit_vectors(latlngs: list[tuple[float, float]]) -> Vectors:
    a = np.radians(np.array(latlngs))
    return np.stack(
        [np.cos(a[:, 0]) * np.cos(a[:, 1]), np.cos(a[:, 0]) * np.sin(a[:, 1]), np.sin(a[:, 0])],
        axis=1,
    )


def _point_to_arcs_rad(points: Vectors, starts: Vectors, ends: Vectors) -> Vectors:
    """Angular distance from each point to each great-circle arc start -> end."""
    normals = np.cross(starts, ends)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    sines = points @ normals.T
    feet = points[:, None, :] - sines[:, :, None] * normals[None, :, :]
    after_start = np.einsum("mk,nmk->nm", normals, np.cross(starts[None, :, :], feet)) >= 0
    before_end = np.einsum("mk,nmk->nm", normals, np.cross(feet, ends[None, :, :])) >= 0
    to_start = np.arccos(np.clip(points @ starts.T, -1.0, 1.0))
    to_end = np.arccos(np.clip(points @ ends.T, -1.0, 1.0))
    on_arc = np.arcsin(np.clip(np.abs(sines), 0.0, 1.0))
    return np.where(after_start & before_end, on_arc, np.minimum(to_start, to_end))


def _boundary_gap_m(cell_a: str, cell_b: str) -> float:
    a = _unit_vectors(cells.cell_boundary(cell_a))
    b = _unit_vectors(cells.cell_boundary(cell_b))
    a_next = np.roll(a, -1, axis=0)
    b_next = np.roll(b, -1, axis=0)
    gap = min(_point_to_arcs_rad(a, b, b_next).min(), _point_to_arcs_rad(b, a, a_next).min())
    return float(gap) * EARTH_RADIUS_M


def _cells_to_measure(res: int, random_count: int, rng: random.Random) -> set[str]:
    if res <= 2:
        return {c for base in h3.get_res0_cells() for c in cells.cell_to_children(str(base), res)}
    chosen: set[str] = set()
    for pentagon in cells.pentagons(res):
        chosen.update(cells.grid_disk(pentagon, 6))
    for _ in range(random_count):
        lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0)))
        chosen.add(cells.latlng_to_cell(float(lat), rng.uniform(-180.0, 180.0), res))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-res", type=int, default=9)
    parser.add_argument("--random", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(1)
    print("res  cells  min_gap_m  cell  pentagon  gap/avg_edge  seconds")
    for res in range(args.max_res + 1):
        started = time.perf_counter()
        gaps = (
            (min(_boundary_gap_m(c, other) for other in h3.grid_ring(c, 2)), c)
            for c in _cells_to_measure(res, args.random, rng)
        )
        measured = list(gaps)
        gap_m, cell = min(measured)
        fraction = gap_m / cells.average_edge_length_m(res)
        print(
            f"{res:3d} {len(measured):6d} {gap_m:10.1f}  {cell}  {h3.is_pentagon(cell)!s:5}"
            f"  {fraction:.4f}  {time.perf_counter() - started:.1f}",
            flush=True,
        )
    print(f"SAFE_EDGE_FRACTION = {cells.SAFE_EDGE_FRACTION}")


if __name__ == "__main__":
    main()
