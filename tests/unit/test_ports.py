"""Ports and anchorages: the three CSV layouts, nearest() against a brute-force search over
the whole globe, and one-line errors for unusable files."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors import cells
from detectors.errors import ReferenceDataError
from detectors.geodesy import EARTH_RADIUS_M, destination, haversine_m
from detectors.ports import ANCHORAGE, PORT, Port, PortIndex, load_port_index, read_ports

WPI = "ports/nga_world_port_index_pub150.csv"
ANCHORAGES = "ports/gfw_named_anchorages_overrides_s2.csv"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def port(name: str, lat: float, lon: float, kind: str = PORT) -> Port:
    return Port(name, None, kind, lat, lon)


# ---------------------------------------------------------------------------------------------
# The public files


@pytest.mark.data
def test_world_port_index_is_read_by_its_header(shared_data: Path) -> None:
    ports, skipped = read_ports(shared_data / WPI)
    with (shared_data / WPI).open(encoding="utf-8-sig") as source:
        rows = list(csv.DictReader(source))
    assert len(ports) == len(rows) == 3768
    assert skipped == []
    assert {p.kind for p in ports} == {PORT}
    rotterdam = next(p for p in ports if p.locode == "NL RTM")
    assert (rotterdam.name, rotterdam.country) == ("Rotterdam", "Netherlands")
    assert rotterdam.lat == pytest.approx(51.9, abs=0.1)
    assert rotterdam.lon == pytest.approx(4.48, abs=0.1)


@pytest.mark.data
def test_gfw_anchorages_are_read_and_the_one_impossible_row_is_left_out(
    shared_data: Path,
) -> None:
    ports, skipped = read_ports(shared_data / ANCHORAGES)
    # 60,410 rows, one of which (Pointe Noire) has longitude 1001.
    assert len(ports) == 60_409
    assert len(skipped) == 1
    assert "line 11462" in skipped[0]
    assert "'1001'" in skipped[0]
    assert {p.kind for p in ports} == {ANCHORAGE}
    panama = [p for p in ports if p.name == "PANAMA CITY, PANAMA CANAL"]
    assert panama
    assert all(p.country == "PAN" for p in panama)


@pytest.mark.data
def test_both_files_in_one_index(shared_data: Path) -> None:
    index = load_port_index([shared_data / WPI, shared_data / ANCHORAGES])
    assert index.counts_by_kind() == {PORT: 3768, ANCHORAGE: 60_409}
    assert len(index.skipped_rows) == 1
    # Off Algeciras: GFW's "ALGECIRAS" anchorages lie at about 36.09-36.10 N, 5.41-5.42 W.
    match = index.nearest(36.095, -5.415, 10_000.0)
    assert match is not None
    assert (match.name, match.country, match.kind) == ("ALGECIRAS", "ESP", ANCHORAGE)
    assert match.distance_m < 1_000.0
    # Savusavu Bay (Fiji, 179.33 E) is about 75 km from a point on the antimeridian.
    match = index.nearest(-16.8, -180.0, 100_000.0)
    assert match is not None
    assert match.country in ("Fiji", "FJI")
    assert index.nearest(30.0, -40.0, 100_000.0) is None  # mid-Atlantic


# ---------------------------------------------------------------------------------------------
# Layouts


def test_a_simple_name_lat_lon_csv_with_optional_country(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "mine.csv",
        ["name", "lat", "lon", "country"],
        [["Alpha", 10.0, 20.0, "AAA"], ["Beta", -10.5, -170.25, ""]],
    )
    ports, skipped = read_ports(path)
    assert ports == [
        Port("Alpha", "AAA", PORT, 10.0, 20.0),
        Port("Beta", None, PORT, -10.5, -170.25),
    ]
    assert skipped == []


def test_column_names_are_matched_without_case_and_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffName,Latitude,Longitude\nGamma,1.5,2.5\n", encoding="utf-8")
    ports, _ = read_ports(path)
    assert ports == [Port("Gamma", None, PORT, 1.5, 2.5)]


def test_gfw_layout_joins_label_and_sublabel(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "anch.csv",
        ["s2id", "latitude", "longitude", "label", "sublabel", "iso3"],
        [
            ["8faca711", 9.0, -79.6, "PANAMA CITY", "PANAMA CANAL", "PAN"],
            ["x", 1, 2, "SOLO", "", ""],
        ],
    )
    ports, _ = read_ports(path)
    assert ports == [
        Port("PANAMA CITY, PANAMA CANAL", "PAN", ANCHORAGE, 9.0, -79.6),
        Port("SOLO", None, ANCHORAGE, 1.0, 2.0),
    ]


def test_wpi_layout_falls_back_to_the_locode_for_a_name(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "wpi.csv",
        [
            "World Port Index Number",
            "Main Port Name",
            "UN/LOCODE",
            "Country Code",
            "Latitude",
            "Longitude",
        ],
        [[1, "Somewhere", "XX SMW", "Xland", 5, 6], [2, " ", "XX NON", "Xland", 7, 8]],
    )
    ports, _ = read_ports(path)
    assert ports[0] == Port("Somewhere", "Xland", PORT, 5.0, 6.0, "XX SMW")
    assert ports[1].name == "XX NON"


# ---------------------------------------------------------------------------------------------
# Unusable files


def _error_for(path: Path) -> str:
    with pytest.raises(ReferenceDataError) as caught:
        load_port_index(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in _error_for(tmp_path / "nowhere.csv")


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in _error_for(empty)
    header_only = write_csv(tmp_path / "header.csv", ["name", "lat", "lon"], [])
    assert "no usable ports" in _error_for(header_only)


def test_unknown_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "odd.csv", ["city", "x", "y"], [["a", 1, 2]])
    message = _error_for(path)
    assert "columns: city, x, y" in message


def test_many_bad_rows_mean_a_bad_file(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        ["name", "lat", "lon"],
        [["ok", 1, 2], ["swapped", 1, 200], ["blank", "", ""], ["text", "north", "east"]],
    )
    message = _error_for(path)
    assert "line 3" in message
    assert "and 2 more of 4 rows" in message


def test_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "ports.csv.gz"
    path.write_bytes(bytes(range(256)) * 4)
    _error_for(path)


# ---------------------------------------------------------------------------------------------
# nearest()


def test_nearest_picks_the_closest_within_the_radius() -> None:
    index = PortIndex([port("Far", 0.0, 0.1), port("Near", 0.0, 0.05), port("Other", 5.0, 5.0)])
    match = index.nearest(0.0, 0.0, 10_000.0)
    assert match is not None
    assert match.name == "Near"
    assert match.distance_m == pytest.approx(haversine_m(0.0, 0.0, 0.0, 0.05))
    assert (match.lat, match.lon, match.kind) == (0.0, 0.05, PORT)
    # Exactly at the radius counts; a metre less does not.
    radius_m = haversine_m(0.0, 0.0, 0.0, 0.05)
    assert index.nearest(0.0, 0.0, radius_m) is not None
    assert index.nearest(0.0, 0.0, radius_m - 1.0) is None


def test_zero_radius_disables_and_an_empty_index_finds_nothing() -> None:
    index = PortIndex([port("Here", 1.0, 1.0)])
    assert index.nearest(1.0, 1.0, 0.0) is None
    assert PortIndex([]).nearest(1.0, 1.0, 10_000.0) is None


def test_equal_distances_go_to_the_place_loaded_first() -> None:
    index = PortIndex([port("West", 0.0, -0.01), port("East", 0.0, 0.01)])
    match = index.nearest(0.0, 0.0, 5_000.0)
    assert match is not None
    assert match.name == "West"


def test_nearest_across_the_antimeridian_and_over_the_pole() -> None:
    index = PortIndex([port("Dateline", -17.0, 179.99), port("Polar", 89.95, 0.0)])
    match = index.nearest(-17.0, -179.99, 10_000.0)
    assert match is not None
    assert match.name == "Dateline"
    assert match.distance_m == pytest.approx(2_127, rel=0.01)  # 0.02 deg of longitude at 17 S
    over_pole = index.nearest(89.95, 180.0, 20_000.0)
    assert over_pole is not None
    assert over_pole.distance_m == pytest.approx(11_120, rel=0.01)  # 0.1 deg of latitude


def test_nearest_rejects_impossible_positions() -> None:
    index = PortIndex([port("A", 0.0, 0.0)])
    with pytest.raises(ValueError):
        index.nearest(91.0, 0.0, 1_000.0)
    with pytest.raises(ValueError):
        PortIndex([port("B", 0.0, 181.0)])


def _scattered_ports() -> list[Port]:
    """Places everywhere, and crowded where indexes break: the antimeridian, the poles, the
    pentagons (smallest H3 cells), and one busy anchorage ground."""
    rng = random.Random(5)
    places: list[tuple[float, float]] = []
    for _ in range(1500):
        places.append((math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)))
    for _ in range(300):
        places.append((rng.uniform(-80, 80), rng.choice([-1, 1]) * rng.uniform(179.0, 180.0)))
        places.append((rng.choice([-1, 1]) * rng.uniform(85.0, 90.0), rng.uniform(-180, 180)))
    for pentagon in cells.pentagons(2):
        lat, lon = cells.cell_to_latlng(pentagon)
        for _ in range(40):
            places.append(destination(lat, lon, rng.uniform(0, 360), rng.uniform(0, 200_000)))
    for _ in range(500):
        places.append((1.25 + rng.gauss(0, 0.05), 103.8 + rng.gauss(0, 0.05)))
    return [port(f"P{i}", lat, lon) for i, (lat, lon) in enumerate(places)]


SCATTERED = _scattered_ports()
SCATTERED_INDEX = PortIndex(SCATTERED)


def _unit_vectors(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    phi = np.radians(lats)
    lmb = np.radians(lons)
    return np.stack([np.cos(phi) * np.cos(lmb), np.cos(phi) * np.sin(lmb), np.sin(phi)], axis=-1)


SCATTERED_VECTORS = _unit_vectors(
    np.array([p.lat for p in SCATTERED]), np.array([p.lon for p in SCATTERED])
)


def chord_distances_m(lat: float, lon: float) -> np.ndarray:
    """Great-circle distances from the chord between unit vectors: not the index's formula."""
    here = _unit_vectors(np.array(lat), np.array(lon))
    chords = np.linalg.norm(SCATTERED_VECTORS - here, axis=1)
    distances_m: np.ndarray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, chords / 2.0))
    return distances_m


@st.composite
def queries(draw: st.DrawFn) -> tuple[float, float, float]:
    """(lat, lon, radius_m): near a place (inside or just outside the radius) or anywhere."""
    radius_m = 10.0 ** draw(st.floats(2.0, 6.3))  # 100 m to 2,000 km (beyond H3's reach)
    if draw(st.booleans()):
        anchor = draw(st.sampled_from(SCATTERED))
        lat, lon = destination(
            anchor.lat,
            anchor.lon,
            draw(st.floats(0.0, 360.0)),
            draw(st.floats(0.0, 1.2)) * radius_m,
        )
    else:
        lat = math.degrees(math.asin(draw(st.floats(-1.0, 1.0))))
        lon = draw(st.floats(-180.0, 180.0))
    return lat, lon, radius_m


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_nearest_agrees_with_a_brute_force_search(query: tuple[float, float, float]) -> None:
    lat, lon, radius_m = query
    distances_m = chord_distances_m(lat, lon)
    best_m = float(distances_m.min())
    match = SCATTERED_INDEX.nearest(lat, lon, radius_m)
    if best_m > radius_m * (1 + 1e-6):
        assert match is None
    elif best_m < radius_m * (1 - 1e-6):
        assert match is not None
        assert match.distance_m == pytest.approx(best_m, rel=1e-6, abs=1e-3)
        # The place found is one of those at that distance.
        assert float(distances_m[int(match.name[1:])]) == pytest.approx(best_m, rel=1e-6, abs=1e-3)
