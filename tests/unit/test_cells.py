"""The typed H3 wrapper, and the neighbour guarantee the spatial indexes rely on."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from detectors import cells
from detectors.geodesy import destination, haversine_m, initial_bearing_deg, mean_position


@st.composite
def start_points(draw: st.DrawFn, res: int) -> tuple[float, float]:
    """A point anywhere, on a pole or the antimeridian, or at a corner of a cell by a pentagon.

    Cells are smallest next to the 12 pentagons, and the shortest way out of a cell's
    neighbourhood starts at a corner, so half the points are drawn there.
    """
    kind = draw(st.sampled_from(["anywhere", "pole", "antimeridian", "pentagon", "pentagon"]))
    if kind == "anywhere":
        lat = math.degrees(math.asin(draw(st.floats(-1.0, 1.0))))
        return lat, draw(st.floats(-180.0, 180.0))
    if kind == "pole":
        return draw(st.sampled_from([90.0, -90.0, 89.9999, -89.9999])), draw(
            st.floats(-180.0, 180.0)
        )
    if kind == "antimeridian":
        lat = math.degrees(math.asin(draw(st.floats(-1.0, 1.0))))
        return lat, draw(st.sampled_from([180.0, -180.0, 179.999999, -179.999999]))
    pentagon = draw(st.sampled_from(cells.pentagons(res)))
    cell = draw(st.sampled_from(sorted(cells.grid_disk(pentagon, 2))))
    corner_lat, corner_lon = draw(st.sampled_from(cells.cell_boundary(cell)))
    # A little inside the corner, so that the start cell is the one just drawn.
    centre_lat, centre_lon = cells.cell_to_latlng(cell)
    nudge_m = draw(st.floats(0.0, 0.01)) * cells.average_edge_length_m(res)
    bearing = initial_bearing_deg(corner_lat, corner_lon, centre_lat, centre_lon)
    return destination(corner_lat, corner_lon, bearing, nudge_m)


@st.composite
def close_pairs(draw: st.DrawFn) -> tuple[float, float, float, float, float]:
    """(distance_m, lat1, lon1, lat2, lon2) with the two points at most distance_m apart."""
    exponent = draw(st.floats(0.0, math.log10(cells.neighbour_safe_distance_m(0))))
    distance_m = 10.0**exponent
    res = cells.resolution_for_distance(distance_m)
    lat1, lon1 = draw(start_points(res))
    # Mostly the full distance: that is where a wrong resolution would show.
    step_m = draw(st.one_of(st.just(distance_m), st.floats(0.0, distance_m)))
    lat2, lon2 = destination(lat1, lon1, draw(st.floats(0.0, 360.0)), step_m)
    return distance_m, lat1, lon1, lat2, lon2


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(close_pairs())
def test_points_within_the_distance_are_always_in_neighbouring_cells(
    pair: tuple[float, float, float, float, float],
) -> None:
    distance_m, lat1, lon1, lat2, lon2 = pair
    assert haversine_m(lat1, lon1, lat2, lon2) <= distance_m * 1.001 + 0.01
    res = cells.resolution_for_distance(distance_m)
    cell1 = cells.latlng_to_cell(lat1, lon1, res)
    cell2 = cells.latlng_to_cell(lat2, lon2, res)
    assert cell2 in cells.grid_disk(cell1, 1)


@pytest.mark.parametrize("res", [4, 7, 8, 11])
def test_no_way_out_of_the_neighbourhood_from_any_corner_next_to_a_pentagon(res: int) -> None:
    """Systematic: every corner of every cell by every pentagon, 72 directions, full distance."""
    reach_m = cells.neighbour_safe_distance_m(res)
    for pentagon in cells.pentagons(res):
        for cell in cells.grid_disk(pentagon, 2):
            neighbours = set(cells.grid_disk(cell, 1))
            centre_lat, centre_lon = cells.cell_to_latlng(cell)
            for corner_lat, corner_lon in cells.cell_boundary(cell):
                inward = initial_bearing_deg(corner_lat, corner_lon, centre_lat, centre_lon)
                lat, lon = destination(corner_lat, corner_lon, inward, reach_m * 1e-4)
                assert cells.latlng_to_cell(lat, lon, res) == cell
                for bearing in range(0, 360, 5):
                    lat2, lon2 = destination(lat, lon, bearing, reach_m)
                    assert cells.latlng_to_cell(lat2, lon2, res) in neighbours


def _escapes_neighbourhood(res: int, distance_m: float) -> bool:
    """Whether some point by a pentagon has a point `distance_m` away two or more cells off."""
    for pentagon in cells.pentagons(res):
        for cell in cells.grid_disk(pentagon, 1):
            neighbours = set(cells.grid_disk(cell, 1))
            centre_lat, centre_lon = cells.cell_to_latlng(cell)
            for corner_lat, corner_lon in cells.cell_boundary(cell):
                inward = initial_bearing_deg(corner_lat, corner_lon, centre_lat, centre_lon)
                lat, lon = destination(corner_lat, corner_lon, inward, 0.1)
                for bearing in range(0, 360, 5):
                    lat2, lon2 = destination(lat, lon, bearing, distance_m)
                    if cells.latlng_to_cell(lat2, lon2, res) not in neighbours:
                        return True
    return False


@pytest.mark.parametrize("distance_m", [500.0, 2_000.0, 10_000.0, 100_000.0])
def test_the_chosen_resolution_is_the_finest_that_works(distance_m: float) -> None:
    res = cells.resolution_for_distance(distance_m)
    # One resolution finer, two points that close can be two cells apart.
    assert _escapes_neighbourhood(res + 1, distance_m)


def test_500_m_needs_resolution_7_not_8() -> None:
    # Resolution 8 hexagons average 531 m edges, but by a pentagon two points 500 m apart
    # can be two cells apart (shown above); resolution 7 (1.4 km edges) holds them.
    assert cells.resolution_for_distance(500.0) == 7


def test_resolution_for_distance_rejects_impossible_distances() -> None:
    with pytest.raises(ValueError):
        cells.resolution_for_distance(-1.0)
    with pytest.raises(ValueError):
        cells.resolution_for_distance(float("nan"))
    with pytest.raises(ValueError):
        cells.resolution_for_distance(5_000_000.0)
    assert cells.resolution_for_distance(0.0) == cells.MAX_RESOLUTION


@st.composite
def disk_cases(draw: st.DrawFn) -> tuple[int, float, float, float, float, float]:
    res = draw(st.integers(1, 9))
    distance_m = draw(st.floats(0.0, 4.0)) * cells.neighbour_safe_distance_m(res)
    lat1, lon1 = draw(start_points(res))
    step_m = draw(st.one_of(st.just(distance_m), st.floats(0.0, distance_m)))
    lat2, lon2 = destination(lat1, lon1, draw(st.floats(0.0, 360.0)), step_m)
    return res, distance_m, lat1, lon1, lat2, lon2


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disk_cases())
def test_a_disk_of_the_computed_radius_holds_every_point_within_the_distance(
    case: tuple[int, float, float, float, float, float],
) -> None:
    res, distance_m, lat1, lon1, lat2, lon2 = case
    k = cells.disk_radius_for_distance(res, distance_m)
    cell1 = cells.latlng_to_cell(lat1, lon1, res)
    assert cells.latlng_to_cell(lat2, lon2, res) in cells.grid_disk(cell1, k)


def test_disk_radius_grows_with_distance() -> None:
    safe_m = cells.neighbour_safe_distance_m(5)
    assert cells.disk_radius_for_distance(5, 0.0) == 1
    assert cells.disk_radius_for_distance(5, safe_m * 0.99) == 1
    assert cells.disk_radius_for_distance(5, safe_m * 1.01) == 3
    assert cells.disk_radius_for_distance(5, safe_m * 2.5) == 5


@pytest.mark.parametrize(
    ("lat", "lon"), [(91.0, 0.0), (-90.5, 0.0), (0.0, 181.0), (float("nan"), 0.0)]
)
def test_latlng_to_cell_rejects_ais_not_available_and_junk(lat: float, lon: float) -> None:
    with pytest.raises(ValueError):
        cells.latlng_to_cell(lat, lon, 5)


def test_antimeridian_longitudes_give_one_cell() -> None:
    assert cells.latlng_to_cell(-17.0, 180.0, 6) == cells.latlng_to_cell(-17.0, -180.0, 6)


def test_parent_children_and_centre_round_trip() -> None:
    cell = cells.latlng_to_cell(51.9, 4.1, 8)
    parent = cells.cell_to_parent(cell, 5)
    assert cells.cell_resolution(parent) == 5
    assert cell in cells.cell_to_children(parent, 8)
    lat, lon = cells.cell_to_latlng(cell)
    assert haversine_m(lat, lon, 51.9, 4.1) < cells.average_edge_length_m(8) * 2
    assert cells.latlng_to_cell(lat, lon, 8) == cell


def test_shape_to_cells_full_cells_are_inside_and_overlap_cells_cover_the_polygon() -> None:
    square = Polygon([(10.0, 50.0), (11.0, 50.0), (11.0, 51.0), (10.0, 51.0)])
    full = cells.shape_to_cells(square, 6, "full")
    overlap = cells.shape_to_cells(square, 6, "overlap")
    assert full and full < overlap
    for cell in full:
        assert square.covers(Polygon([(lon, lat) for lat, lon in cells.cell_boundary(cell)]))
    # Every point of the square is in an overlap cell; cells of the edge are not "full".
    for lat, lon in [(50.0001, 10.0001), (50.5, 10.5), (50.9999, 10.9999), (50.5, 10.0)]:
        assert cells.latlng_to_cell(lat, lon, 6) in overlap
    assert cells.latlng_to_cell(50.5, 10.0, 6) not in full


def test_shape_to_cells_takes_multipolygons_with_holes() -> None:
    outer = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]
    hole = [(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5)]
    donut = MultiPolygon([Polygon(outer, [hole])])
    full = cells.shape_to_cells(donut, 6, "full")
    assert cells.latlng_to_cell(1.0, 1.0, 6) not in full
    assert cells.latlng_to_cell(0.25, 0.25, 6) in full
    assert cells.shape_to_cells(Polygon(), 6, "full") == set()


def test_cell_polygon_follows_the_great_circle_edges() -> None:
    """Near a pole, points of a cell (as h3 assigns them) lie outside the polygon of its
    corners with straight lon/lat edges, but inside `cell_polygon`."""
    cell = cells.latlng_to_cell(80.0, 10.0, 3)
    corners = cells.cell_boundary(cell)
    straight = Polygon([(lon, lat) for lat, lon in corners])
    curved = cells.cell_polygon(cell)
    assert curved is not None
    centre_lat, centre_lon = cells.cell_to_latlng(cell)
    outside_straight = 0
    for (lat1, lon1), (lat2, lon2) in zip(corners, corners[1:] + corners[:1], strict=True):
        # The middle of each edge along the great circle, nudged 20 m towards the centre.
        lat, lon = mean_position([(lat1, lon1), (lat2, lon2)])
        lat, lon = destination(lat, lon, initial_bearing_deg(lat, lon, centre_lat, centre_lon), 20)
        assert cells.latlng_to_cell(lat, lon, 3) == cell
        assert curved.covers(Point(lon, lat))
        outside_straight += not straight.covers(Point(lon, lat))
    assert outside_straight >= 2


def test_cell_polygon_is_none_on_the_antimeridian_and_at_the_poles() -> None:
    assert cells.cell_polygon(cells.latlng_to_cell(-17.0, 180.0, 3)) is None
    assert cells.cell_polygon(cells.latlng_to_cell(90.0, 0.0, 3)) is None
    assert cells.cell_polygon(cells.latlng_to_cell(-90.0, 0.0, 3)) is None
    polygons = cells.cell_polygons([cells.latlng_to_cell(0.0, 0.0, 5), cells.pentagons(5)[0]])
    assert all(p is not None and p.is_valid for p in polygons)
