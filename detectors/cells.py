"""The H3 calls stswatch uses, typed, validated and in one place.

h3-py is untyped and accepts out-of-range input (an AIS "not available" latitude of 91 gives
a cell near the North Pole), so every coordinate is checked here before it reaches h3. Cells
are H3 strings: they read well as Kafka and Redis keys and in alerts.

`resolution_for_distance` answers the question every spatial index in stswatch asks: at which
resolution are two points within a given distance always in the same or in neighbouring cells?
H3 cells are not all the same size. The tightest place is next to the 12 pentagons, where the
gnomonic projection makes the cells smallest: there the gap between a cell and the cells two
steps away (its "ring 2", which separates it from everything farther) shrinks to 0.703 of the
average edge length at class III resolutions and 0.744 at class II ones (0.77 and more at
resolutions 0 to 2). Everywhere else the gap is wider. `SAFE_EDGE_FRACTION` keeps a margin
below that minimum; `benchmarks/h3_neighbour_gap.py` measures it again and
tests/unit/test_cells.py checks the guarantee with random points over the whole globe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import h3
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

Containment = Literal["center", "full", "overlap"]

MAX_RESOLUTION = 15

# Below the measured minimum gap (0.7026 x average edge length, resolutions 0 to 15) by 2 %.
SAFE_EDGE_FRACTION = 0.69

# Average hexagon edge length per resolution, in metres (h3's published table).
_AVERAGE_EDGE_M: tuple[float, ...] = tuple(
    float(h3.average_hexagon_edge_length(res, unit="m")) for res in range(MAX_RESOLUTION + 1)
)


_SAFE_M: tuple[float, ...] = tuple(SAFE_EDGE_FRACTION * edge_m for edge_m in _AVERAGE_EDGE_M)


def h3_version() -> str:
    """The version of the h3 library in use (its polygon fill is still "experimental")."""
    return str(h3.versions()["python"])


def check_latlng(lat: float, lon: float) -> None:
    """Raise ValueError unless (lat, lon) is a real position in degrees."""
    if not (-90.0 <= lat <= 90.0):
        raise ValueError(f"latitude out of range: {lat!r}")
    if not (-180.0 <= lon <= 180.0):
        raise ValueError(f"longitude out of range: {lon!r}")


def _check_resolution(res: int) -> None:
    if not (0 <= res <= MAX_RESOLUTION):
        raise ValueError(f"H3 resolution must be 0 to {MAX_RESOLUTION}, got {res!r}")


def latlng_to_cell(lat: float, lon: float, res: int) -> str:
    """The cell at resolution `res` that holds the point (degrees; lon -180 and 180 alike)."""
    check_latlng(lat, lon)
    _check_resolution(res)
    return str(h3.latlng_to_cell(lat, lon, res))


def latlng_to_cell_checked_upstream(lat: float, lon: float, res: int) -> str:
    """`latlng_to_cell` without the range checks, for hot paths whose points the decoders
    have already validated and whose resolution is fixed (half the cost of the checked call).
    """
    return h3.latlng_to_cell(lat, lon, res)  # type: ignore[no-any-return]


def cell_to_latlng(cell: str) -> tuple[float, float]:
    """The centre of a cell, as (lat, lon) in degrees."""
    lat, lon = h3.cell_to_latlng(cell)
    return float(lat), float(lon)


def cell_boundary(cell: str) -> list[tuple[float, float]]:
    """The corners of a cell as (lat, lon) pairs, counter-clockwise, not closed."""
    return [(float(lat), float(lon)) for lat, lon in h3.cell_to_boundary(cell)]


def cell_resolution(cell: str) -> int:
    return int(h3.get_resolution(cell))


def is_valid_cell(cell: str) -> bool:
    return bool(h3.is_valid_cell(cell))


def grid_disk(cell: str, k: int = 1) -> list[str]:
    """The cell and every cell at most `k` steps from it (pentagons included)."""
    if k < 0:
        raise ValueError(f"k must be zero or positive, got {k!r}")
    return [str(c) for c in h3.grid_disk(cell, k)]


def grid_distance(cell_a: str, cell_b: str) -> int:
    """Steps between two cells of one resolution (raises h3's error when undefined)."""
    return int(h3.grid_distance(cell_a, cell_b))


def cell_to_parent(cell: str, res: int) -> str:
    """The ancestor of a cell at the coarser resolution `res`."""
    _check_resolution(res)
    return str(h3.cell_to_parent(cell, res))


def cell_to_children(cell: str, res: int) -> list[str]:
    _check_resolution(res)
    return [str(c) for c in h3.cell_to_children(cell, res)]


def pentagons(res: int) -> list[str]:
    """The 12 pentagon cells of a resolution (where cells are smallest)."""
    _check_resolution(res)
    return [str(c) for c in h3.get_pentagons(res)]


def average_edge_length_m(res: int) -> float:
    """The average hexagon edge length at a resolution, in metres."""
    _check_resolution(res)
    return _AVERAGE_EDGE_M[res]


def neighbour_safe_distance_m(res: int) -> float:
    """The largest distance at which two points are guaranteed to be in neighbouring cells.

    Any two points at most this far apart are in the same cell or in cells one step apart
    (`grid_disk(cell, 1)`), anywhere on Earth, at resolution `res`.
    """
    _check_resolution(res)
    return _SAFE_M[res]


def resolution_for_distance(distance_m: float) -> int:
    """The finest resolution at which points `distance_m` or less apart are always neighbours.

    Raises ValueError for a negative distance or one too long for even the coarsest cells.
    """
    if not (distance_m >= 0.0) or math.isinf(distance_m):
        raise ValueError(f"distance must be a finite non-negative number, got {distance_m!r}")
    for res in range(MAX_RESOLUTION, -1, -1):
        if distance_m <= _SAFE_M[res]:
            return res
    raise ValueError(
        f"distance {distance_m:.0f} m is longer than H3 cells can cover with one ring "
        f"(at most {_SAFE_M[0]:.0f} m)"
    )


def disk_radius_for_distance(res: int, distance_m: float) -> int:
    """The smallest k such that `grid_disk(cell, k)` holds every point within `distance_m`.

    A path from a cell to a cell k + 1 steps away crosses every ring in between, and every
    two rings it crosses cost at least `neighbour_safe_distance_m(res)`; so k = 2m - 1 rings
    with m * safe > distance_m are enough. Conservative (regular hexagons need fewer), and
    exact at the pentagons, where the guarantee is hardest.
    """
    if not (distance_m >= 0.0) or math.isinf(distance_m):
        raise ValueError(f"distance must be a finite non-negative number, got {distance_m!r}")
    two_ring_gap_m = neighbour_safe_distance_m(res)
    m = math.floor(distance_m / two_ring_gap_m) + 1
    return 2 * m - 1


def cell_polygon(cell: str, points_per_edge: int = 8) -> Polygon | None:
    """A cell as a shapely polygon in (lon, lat) degrees, its edges following the great circles.

    H3 cell edges are great-circle arcs; a polygon of the corners alone, with straight edges
    in longitude and latitude, misses a sliver along each edge (about 160 m at 60 degrees of
    latitude for a resolution 3 cell, 500 m at 80). Each edge is therefore cut into
    `points_per_edge` pieces along its arc, which leaves about 1/64 of that. None for a cell
    that straddles the antimeridian or holds a pole: no longitude/latitude polygon describes
    those.
    """
    return cell_polygons([cell], points_per_edge)[0]


def cell_polygons(cell_list: Sequence[str], points_per_edge: int = 8) -> list[Polygon | None]:
    """`cell_polygon` for many cells at once (the arithmetic is done in bulk)."""
    result: list[Polygon | None] = [None] * len(cell_list)
    by_corner_count: dict[int, tuple[list[int], list[list[tuple[float, float]]]]] = {}
    for position, cell in enumerate(cell_list):
        corners = h3.cell_to_boundary(cell)
        group = by_corner_count.setdefault(len(corners), ([], []))
        group[0].append(position)
        group[1].append(corners)
    steps = np.arange(points_per_edge, dtype=np.float64) / points_per_edge
    for positions, corner_lists in by_corner_count.values():
        corners = np.radians(np.array(corner_lists, dtype=np.float64))  # (cells, corners, 2)
        lat, lon = corners[..., 0], corners[..., 1]
        start = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
        end = np.roll(start, -1, axis=1)
        cosine = np.clip(np.einsum("cij,cij->ci", start, end), -1.0, 1.0)
        angle = np.arccos(cosine)[..., None, None]  # (cells, corners, 1, 1)
        t = steps[None, None, :, None]
        sin_angle = np.sin(angle)
        safe = sin_angle > 1e-15
        sin_angle = np.where(safe, sin_angle, 1.0)
        weight_start = np.where(safe, np.sin((1.0 - t) * angle) / sin_angle, 1.0 - t)
        weight_end = np.where(safe, np.sin(t * angle) / sin_angle, t)
        points = weight_start * start[:, :, None, :] + weight_end * end[:, :, None, :]
        points = points.reshape(len(positions), -1, 3)
        lons = np.degrees(np.arctan2(points[..., 1], points[..., 0]))
        lats = np.degrees(np.arctan2(points[..., 2], np.hypot(points[..., 0], points[..., 1])))
        polygons = shapely.polygons(np.stack([lons, lats], axis=-1))
        spans = np.ptp(lon, axis=1)
        for position, polygon, span in zip(positions, polygons, spans, strict=True):
            result[position] = polygon if span <= math.pi else None
    return result


_MAX_EDGE_DEG = 10.0


def _latlng_ring(coords: Iterable[tuple[float, ...]]) -> list[tuple[float, float]]:
    # Shapely rings are closed (x, y) = (lon, lat); h3 wants open (lat, lon).
    points = [(float(c[1]), float(c[0])) for c in coords]
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return points


def _to_h3shape(geometry: BaseGeometry) -> h3.LatLngMultiPoly:
    polygons: list[h3.LatLngPoly] = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, Polygon):
            if part.is_empty:
                continue
            holes = [_latlng_ring(ring.coords) for ring in part.interiors]
            polygons.append(h3.LatLngPoly(_latlng_ring(part.exterior.coords), *holes))
        elif isinstance(part, MultiPolygon) or part.geom_type == "GeometryCollection":
            polygons.extend(_to_h3shape(part).polys)
    return h3.LatLngMultiPoly(*polygons)


def shape_to_cells(geometry: BaseGeometry, res: int, contain: Containment) -> set[str]:
    """The cells of a (multi)polygon in lon/lat degrees, by containment rule.

    `full`: cells entirely inside; `overlap`: cells touching it at all; `center`: cells whose
    centre is inside. Non-polygonal parts (lines and points left by a repair) are ignored.
    h3, like shapely, treats polygon edges as straight lines in longitude and latitude, so
    both agree on what is inside; a polygon must not cross the antimeridian (split it there,
    as Marine Regions does). Long edges are cut into pieces of at most 10 degrees first.
    """
    _check_resolution(res)
    # h3 reads an edge spanning more than 180 degrees of longitude as crossing the
    # antimeridian; a polygon cut at +-180 and ringing a pole can have such an edge.
    shape = _to_h3shape(shapely.segmentize(geometry, _MAX_EDGE_DEG))
    if not shape.polys:
        return set()
    return {str(c) for c in h3.h3shape_to_cells_experimental(shape, res, contain)}
