"""EEZ lookups: known points on the real world file, agreement with a brute-force shapely
search, the overlap rule, the antimeridian and the poles, the three file formats, the
cache, and one-line errors for unusable files."""

from __future__ import annotations

import json
import math
import sqlite3
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
import shapefile
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box, mapping, shape

from detectors import cells
from detectors.errors import ReferenceDataError
from detectors.geodesy import destination, initial_bearing_deg, mean_position
from detectors.zones import (
    Zone,
    ZoneIndex,
    load_zone_index,
    read_zone_features,
    zone_matches,
)

WORLD = "eez/marineregions_world_eez_v11_lowres_simplified1pct.geojson"

# ---------------------------------------------------------------------------------------------
# Scenario builders: a zone is a name, a few attributes and a box or polygon.


def attributes(
    name: str,
    mrgid: float,
    sovereign_iso: str | None = "AAA",
    pol_type: str = "200NM",
    territory_iso: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "GEONAME": name,
        "MRGID": mrgid,
        "SOVEREIGN1": f"{name} land",
        "ISO_SOV1": sovereign_iso,
        "TERRITORY1": name,
        "ISO_TER1": territory_iso or sovereign_iso,
        "POL_TYPE": pol_type,
        **extra,
    }


def write_geojson(path: Path, items: list[tuple[dict[str, Any], Any]]) -> Path:
    features = [
        {"type": "Feature", "properties": props, "geometry": mapping(geometry)}
        for props, geometry in items
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def index_of(items: list[tuple[dict[str, Any], Any]], tmp_path: Path, res: int = 3) -> ZoneIndex:
    return load_zone_index(write_geojson(tmp_path / "zones.geojson", items), res, cache=False)


def name_at(index: ZoneIndex, lat: float, lon: float) -> str | None:
    zone = index.lookup(lat, lon)
    return zone.name if zone is not None else None


# ---------------------------------------------------------------------------------------------
# The real world file


@pytest.fixture(scope="module")
def world(shared_data: Path) -> ZoneIndex:
    return load_zone_index(shared_data / WORLD, cache=False)


@pytest.mark.data
@pytest.mark.parametrize(
    ("lat", "lon", "iso", "mrgid"),
    [
        (30.5, 123.0, "CHN", 8486),  # East China Sea, the example
        (-17.0, 180.0, "FJI", 8325),  # Fiji, on the antimeridian ...
        (-17.0, -180.0, "FJI", 8325),  # ... written either way
        (-17.0, 179.9, "FJI", 8325),
        (-17.0, -179.9, "FJI", 8325),
        (70.0, 180.0, "RUS", 5690),  # Russia's zone is split there and invalid as stored
        (70.0, -180.0, "RUS", 5690),
        (72.0, 45.0, "RUS", 5690),  # Barents Sea
        (36.0, -5.45, "ESP", 5693),  # Strait of Gibraltar, north half: Spain (no Gibraltar
        # zone in this low-resolution file; Algeciras Bay itself is inside the coastline)
        (35.9, -5.6, "MAR", 8367),  # Strait of Gibraltar, south half: Morocco
        (13.5, -18.5, "GMB", 8370),  # off the Gambia
        (-70.0, 0.0, "ATA", 8489),  # Southern Ocean, "Antarctic 200NM zone"
    ],
)
def test_known_points_are_in_their_zones(
    world: ZoneIndex, lat: float, lon: float, iso: str, mrgid: int
) -> None:
    zone = world.lookup(lat, lon)
    assert zone is not None
    assert (zone.iso, zone.mrgid) == (iso, mrgid)


@pytest.mark.data
@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (30.0, 160.0),  # North Pacific between Japan and Hawaii: high seas (the issue)
        (30.0, -40.0),  # mid-Atlantic, between the Azores and Bermuda
        (0.0, -20.0),  # equatorial Atlantic, over 200 nm from St Peter and Paul Rocks and Ascension
        (89.99, 0.0),  # North Pole
        (90.0, 123.0),
        (-90.0, 0.0),  # South Pole (land, inside no zone)
        (69.5, 178.0),  # Chukotka: land is a hole of Russia's zone
    ],
)
def test_high_seas_and_land_are_in_no_zone(world: ZoneIndex, lat: float, lon: float) -> None:
    assert world.lookup(lat, lon) is None


@pytest.mark.data
def test_world_zone_attributes_come_from_the_file(world: ZoneIndex) -> None:
    china = world.lookup(30.5, 123.0)
    assert china == Zone(
        name="Chinese Exclusive Economic Zone",
        sovereign="China",
        iso="CHN",
        territory_iso="CHN",
        mrgid=8486,
        pol_type="200NM",
        iso_codes=("CHN",),
    )
    jan_mayen = world.lookup(70.5, -10.0)
    assert jan_mayen is not None
    assert (jan_mayen.iso, jan_mayen.territory_iso) == ("NOR", "SJM")


@pytest.mark.data
def test_joint_regime_on_a_200nm_zone_gives_the_200nm_zone(
    world: ZoneIndex, shared_data: Path
) -> None:
    """The Iceland / Norway (Jan Mayen) joint regime lies on Jan Mayen's zone in this file."""
    document = json.loads((shared_data / WORLD).read_text())
    by_name = {f["properties"]["GEONAME"]: shape(f["geometry"]) for f in document["features"]}
    joint = by_name["Joint regime area Iceland / Norway (Jan Mayen)"]
    jan_mayen = by_name["Jan Mayen Exclusive Economic Zone"]
    inside_both = joint.intersection(jan_mayen).representative_point()
    assert joint.covers(inside_both)
    zone = world.lookup(inside_both.y, inside_both.x)
    assert zone is not None
    assert zone.name == "Jan Mayen Exclusive Economic Zone"
    assert world.matches(zone, ("NOR",))


class Reference:
    """The world file read with plain json + shapely, ranked by the documented rule."""

    def __init__(self, path: Path) -> None:
        document = json.loads(path.read_text())
        rank = {"200NM": 0, "JOINTREGIME": 1, "OVERLAPPINGCLAIM": 2}
        self.ranks: list[tuple[int, int]] = []
        geometries = []
        for feature in document["features"]:
            props = feature["properties"]
            kind = props["POL_TYPE"].replace(" ", "").upper()
            self.ranks.append((rank.get(kind, 3), int(props["MRGID"])))
            repaired = shapely.make_valid(shape(feature["geometry"]))
            # Only areas count: the repair of Russia's ring leaves a stray line on 180 E.
            polygons = [
                polygon
                for part in shapely.get_parts(repaired)
                for polygon in shapely.get_parts(part)
                if polygon.geom_type == "Polygon"
            ]
            geometries.append(MultiPolygon(polygons))
        self.tree = shapely.STRtree(geometries)

    def mrgid_at(self, lat: float, lon: float) -> int | None:
        hits: set[int] = set()
        for x in {lon, -lon} if abs(lon) == 180.0 else {lon}:
            hits.update(int(i) for i in self.tree.query(Point(x, lat), predicate="intersects"))
        return min(self.ranks[i] for i in hits)[1] if hits else None

    def __repr__(self) -> str:
        return "Reference()"


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> Reference:
    return Reference(shared_data / WORLD)


@st.composite
def world_points(draw: st.DrawFn) -> tuple[float, float]:
    """Anywhere (uniform by area), near a polygon corner, on the antimeridian, near a pole."""
    kind = draw(st.sampled_from(["anywhere", "corner", "corner", "antimeridian", "polar"]))
    if kind == "anywhere":
        lat = math.degrees(math.asin(draw(st.floats(-1.0, 1.0))))
        return lat, draw(st.floats(-180.0, 180.0))
    if kind == "corner":
        x, y = draw(st.sampled_from(WORLD_CORNERS))
        dx = draw(st.floats(-0.05, 0.05))
        dy = draw(st.floats(-0.05, 0.05))
        return min(max(y + dy, -90.0), 90.0), min(max(x + dx, -180.0), 180.0)
    if kind == "antimeridian":
        return draw(st.floats(-85.0, 85.0)), draw(st.sampled_from([180.0, -180.0]))
    return draw(st.floats(75.0, 90.0)) * draw(st.sampled_from([1.0, -1.0])), draw(
        st.floats(-180.0, 180.0)
    )


def _world_corners() -> list[tuple[float, float]]:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / WORLD
    if not path.is_file():
        return [(0.0, 0.0)]
    document = json.loads(path.read_text())
    corners = shapely.get_coordinates([shape(f["geometry"]) for f in document["features"]]).tolist()
    return [tuple(c) for c in corners[::7]]


WORLD_CORNERS = _world_corners()


@pytest.mark.data
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(point=world_points())
def test_index_agrees_with_a_brute_force_search_everywhere(
    world: ZoneIndex,
    reference: Reference,
    point: tuple[float, float],
) -> None:
    lat, lon = point
    zone = world.lookup(lat, lon)
    expected = reference.mrgid_at(lat, lon)
    assert (zone.mrgid if zone is not None else None) == expected


@pytest.mark.data
def test_the_invalid_russian_polygon_is_repaired(shared_data: Path) -> None:
    features = read_zone_features(shared_data / WORLD)
    (russia,) = [g for z, g in features if z.iso == "RUS" and z.pol_type == "200NM"]
    assert russia.is_valid
    assert russia.geom_type == "MultiPolygon"


# ---------------------------------------------------------------------------------------------
# The overlap rule


def test_200nm_zone_wins_over_joint_regime_and_overlapping_claim(tmp_path: Path) -> None:
    index = index_of(
        [
            (attributes("Claim", 3, pol_type="Overlapping claim"), box(10, 10, 14, 14)),
            (attributes("Joint", 2, pol_type="Joint regime"), box(10, 10, 12, 12)),
            (attributes("Sovereign", 9, pol_type="200 NM"), box(11, 11, 13, 13)),
        ],
        tmp_path,
    )
    assert name_at(index, 11.5, 11.5) == "Sovereign"  # in all three
    assert name_at(index, 10.5, 10.5) == "Joint"  # joint regime and claim
    assert name_at(index, 13.5, 13.5) == "Claim"  # claim only
    assert name_at(index, 15.0, 15.0) is None


def test_among_zones_of_one_kind_the_lowest_mrgid_wins(tmp_path: Path) -> None:
    index = index_of(
        [
            (attributes("Later", 200), box(0, 0, 2, 2)),
            (attributes("Earlier", 100), box(1, 1, 3, 3)),
        ],
        tmp_path,
    )
    assert name_at(index, 1.5, 1.5) == "Earlier"
    assert name_at(index, 0.5, 0.5) == "Later"


# ---------------------------------------------------------------------------------------------
# Geometry: antimeridian, poles, holes, great-circle cell edges


def test_a_zone_split_at_the_antimeridian_is_found_on_both_sides(tmp_path: Path) -> None:
    east = box(177.0, -20.0, 180.0, -15.0)
    west = box(-180.0, -20.0, -178.0, -15.0)
    index = index_of([(attributes("Split", 1), MultiPolygon([east, west]))], tmp_path)
    for lon in (178.0, 179.999999, 180.0, -180.0, -179.999999, -178.5):
        assert name_at(index, -17.0, lon) == "Split", lon
    assert name_at(index, -17.0, -177.5) is None


def test_a_zone_ringing_the_pole_and_its_hole(tmp_path: Path) -> None:
    # Cut at the antimeridian; its long edges span 360 degrees of longitude.
    ring = Polygon([(-180, 80), (180, 80), (180, 88), (-180, 88)])
    index = index_of([(attributes("Polar", 1), ring)], tmp_path)
    for lon in (-180.0, -90.0, 0.0, 45.0, 179.9, 180.0):
        assert name_at(index, 84.0, lon) == "Polar"
        assert name_at(index, 88.5, lon) is None
        assert name_at(index, 79.5, lon) is None
    assert name_at(index, 90.0, 0.0) is None


def test_a_hole_inside_one_cell_around_its_centre(tmp_path: Path) -> None:
    """h3 4.5 leaves such a cell out of `overlap` although most of it is in the polygon."""
    res = 3
    cell = cells.latlng_to_cell(10.0, 10.0, res)
    lat, lon = cells.cell_to_latlng(cell)
    hole = box(lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    donut = box(lon - 5, lat - 5, lon + 5, lat + 5).difference(hole)
    index = index_of([(attributes("Donut", 1), donut)], tmp_path, res)
    assert name_at(index, lat, lon) is None  # in the hole
    assert name_at(index, lat + 0.2, lon) == "Donut"  # same cell, outside the hole
    assert cells.latlng_to_cell(lat + 0.2, lon, res) == cell


def test_a_zone_border_along_a_cell_edge_near_the_pole(tmp_path: Path) -> None:
    """Cell edges are great circles, zone edges are straight in lon/lat: at 80 degrees a
    resolution 3 edge bulges about 500 m north of the straight line between its corners.
    Two zones meet on that straight line (1 m north of it): the cell's corners are all in
    the south zone, yet the bulge of the cell is in the north zone."""
    res = 3
    cell = cells.latlng_to_cell(80.0, 10.0, res)
    corners = cells.cell_boundary(cell)
    edges = list(zip(corners, corners[1:] + corners[:1], strict=True))
    (lat1, lon1), (lat2, lon2) = max(edges, key=lambda e: e[0][0] + e[1][0])  # northern edge
    shift = 1.0 / 111_195.0  # a metre of latitude, in degrees

    def along(t: float, dlat: float) -> tuple[float, float]:
        return lon1 + t * (lon2 - lon1), lat1 + t * (lat2 - lat1) + dlat

    south = Polygon([along(-2, shift), along(3, shift), along(3, -3.0), along(-2, -3.0)])
    north = Polygon([along(-2, shift), along(3, shift), along(3, 3.0), along(-2, 3.0)])
    index = index_of(
        [(attributes("South", 1), south), (attributes("North", 2), north)], tmp_path, res
    )
    centre_lat, centre_lon = cells.cell_to_latlng(cell)
    bulge_lat, bulge_lon = mean_position([(lat1, lon1), (lat2, lon2)])
    lat, lon = destination(
        bulge_lat, bulge_lon, initial_bearing_deg(bulge_lat, bulge_lon, centre_lat, centre_lon), 50
    )
    assert cells.latlng_to_cell(lat, lon, res) == cell
    assert north.covers(Point(lon, lat))
    assert name_at(index, lat, lon) == "North"
    assert name_at(index, centre_lat, centre_lon) == "South"


def test_lookup_rejects_impossible_positions(tmp_path: Path) -> None:
    index = index_of([(attributes("A", 1), box(0, 0, 1, 1))], tmp_path)
    with pytest.raises(ValueError):
        index.lookup(91.0, 0.0)
    with pytest.raises(ValueError):
        index.lookup(0.0, 181.0)


def test_an_invalid_bow_tie_polygon_is_repaired(tmp_path: Path) -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    path = tmp_path / "bowtie.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": attributes("Tie", 1), "geometry": bow_tie}
                ],
            }
        )
    )
    index = load_zone_index(path, cache=False)
    assert name_at(index, 1.0, 0.3) == "Tie"  # left triangle
    assert name_at(index, 1.0, 1.7) == "Tie"  # right triangle
    assert name_at(index, 1.9, 1.0) is None  # between the triangles


# ---------------------------------------------------------------------------------------------
# Attributes and selectors


def test_attributes_tolerate_case_and_numbers_stored_as_reals(tmp_path: Path) -> None:
    props = {
        "geoname": "Lower Case Zone",
        "mrgid": 8486.0,
        "sovereign1": "Somewhere",
        "iso_sov1": None,
        "iso_ter1": "ter",
        "Iso_Sov2": "xyz",
        "pol_type": "200NM",
    }
    path = write_geojson(tmp_path / "z.geojson", [(props, box(0, 0, 1, 1))])
    ((zone, _),) = read_zone_features(path)
    assert zone.name == "Lower Case Zone"
    assert zone.mrgid == 8486
    assert zone.iso == "TER"  # no sovereign code: the territory's
    assert zone.territory_iso == "TER"
    assert zone.iso_codes == ("XYZ", "TER")


def test_matches_by_iso_code_of_any_party_or_by_mrgid() -> None:
    zone = Zone(
        name="Joint regime area Spain / France",
        sovereign="France",
        iso="FRA",
        territory_iso="FRA",
        mrgid=48966,
        pol_type="Joint regime",
        iso_codes=("FRA", "ESP"),
    )
    assert zone_matches(zone, ())
    assert zone_matches(zone, ("fra",))
    assert zone_matches(zone, ("GBR", " esp "))
    assert zone_matches(zone, ("48966",))
    assert zone_matches(zone, ("48966.0",))
    assert not zone_matches(zone, ("GBR", "8486"))
    assert not zone_matches(zone, ("4896",))


def test_matches_a_territory_code() -> None:
    zone = Zone("Jan Mayen Exclusive Economic Zone", "Norway", "NOR", "SJM", 8437)
    assert zone_matches(zone, ("SJM",))
    assert zone_matches(zone, ("NOR",))
    assert not zone_matches(zone, ("ISL",))


# ---------------------------------------------------------------------------------------------
# File formats


def _two_zones() -> list[tuple[dict[str, Any], Any]]:
    return [
        (attributes("Alpha", 11.0, "AAA"), box(0, 0, 2, 2)),
        (
            attributes("Beta", 22.0, "BBB"),
            Polygon([(3, 0), (6, 0), (6, 3), (3, 3)], [[(4, 1), (5, 1), (5, 2), (4, 2)]]),
        ),
    ]


def _check_two_zones(index: ZoneIndex) -> None:
    assert name_at(index, 1.0, 1.0) == "Alpha"
    assert name_at(index, 0.5, 3.5) == "Beta"
    assert name_at(index, 1.5, 4.5) is None  # Beta's hole
    assert name_at(index, 1.0, 2.5) is None
    beta = index.lookup(0.5, 3.5)
    assert beta is not None
    assert (beta.mrgid, beta.iso) == (22, "BBB")


def write_geopackage(
    path: Path, items: list[tuple[dict[str, Any], Any]], srs_id: int = 4326
) -> Path:
    """A minimal GeoPackage, as the OGC standard lays it out (tables, header, WKB)."""
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY,
            organization TEXT, organization_coordsys_id INTEGER, definition TEXT,
            description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT,
            identifier TEXT, srs_id INTEGER);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT,
            geometry_type_name TEXT, srs_id INTEGER, z TINYINT, m TINYINT);
        CREATE TABLE eez_v11 (fid INTEGER PRIMARY KEY, geom BLOB, GEONAME TEXT, MRGID REAL,
            SOVEREIGN1 TEXT, ISO_SOV1 TEXT, TERRITORY1 TEXT, ISO_TER1 TEXT, POL_TYPE TEXT);
        """
    )
    connection.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, '', '')"
    )
    connection.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('Mercator', 3395, 'EPSG', 3395, '', '')"
    )
    connection.execute(
        "INSERT INTO gpkg_contents VALUES ('eez_v11', 'features', 'eez', ?)", (srs_id,)
    )
    connection.execute(
        "INSERT INTO gpkg_geometry_columns VALUES ('eez_v11', 'geom', 'MULTIPOLYGON', ?, 0, 0)",
        (srs_id,),
    )
    for number, (props, geometry) in enumerate(items):
        if number % 2 == 0:
            # Flags: little endian, envelope [minx, maxx, miny, maxy] (code 1, 32 bytes).
            min_x, min_y, max_x, max_y = geometry.bounds
            header = b"GP\x00" + bytes([0b0000_0011]) + struct.pack("<i", srs_id)
            header += struct.pack("<4d", min_x, max_x, min_y, max_y)
        else:
            header = b"GP\x00" + bytes([0b0000_0001]) + struct.pack("<i", srs_id)
        blob = header + shapely.to_wkb(
            MultiPolygon([geometry]) if geometry.geom_type == "Polygon" else geometry
        )
        connection.execute(
            "INSERT INTO eez_v11 VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                blob,
                props["GEONAME"],
                props["MRGID"],
                props["SOVEREIGN1"],
                props["ISO_SOV1"],
                props["TERRITORY1"],
                props["ISO_TER1"],
                props["POL_TYPE"],
            ),
        )
    connection.commit()
    connection.close()
    return path


def write_shapefile(base: Path, items: list[tuple[dict[str, Any], Any]]) -> Path:
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as writer:
        writer.field("GEONAME", "C", 80)
        writer.field("MRGID", "N", 12, 1)  # a real with a decimal, as GIS tools write it
        writer.field("SOVEREIGN1", "C", 40)
        writer.field("ISO_SOV1", "C", 3)
        writer.field("TERRITORY1", "C", 40)
        writer.field("ISO_TER1", "C", 3)
        writer.field("POL_TYPE", "C", 20)
        for props, geometry in items:
            writer.shape(mapping(geometry))
            writer.record(
                props["GEONAME"],
                props["MRGID"],
                props["SOVEREIGN1"],
                props["ISO_SOV1"],
                props["TERRITORY1"],
                props["ISO_TER1"],
                props["POL_TYPE"],
            )
    base.with_suffix(".prj").write_text('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984"]]')
    return base.with_suffix(".shp")


def test_geojson_geopackage_and_shapefile_give_the_same_zones(tmp_path: Path) -> None:
    items = _two_zones()
    geojson = write_geojson(tmp_path / "z.geojson", items)
    gpkg = write_geopackage(tmp_path / "z.gpkg", items)
    shp = write_shapefile(tmp_path / "z", items)
    for path in (geojson, gpkg, shp):
        _check_two_zones(load_zone_index(path, cache=False))
    zones = [sorted(z.mrgid for z, _ in read_zone_features(p)) for p in (geojson, gpkg, shp)]
    assert zones == [[11, 22]] * 3


def test_a_zipped_shapefile_is_read(tmp_path: Path) -> None:
    shp = write_shapefile(tmp_path / "eez", _two_zones())
    archive = tmp_path / "World_EEZ.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            bundle.write(shp.with_suffix(suffix), f"World_EEZ/eez{suffix}")
    _check_two_zones(load_zone_index(archive, cache=False))


# ---------------------------------------------------------------------------------------------
# Unusable files: one clear line naming the file


def _error_for(path: Path) -> str:
    with pytest.raises(ReferenceDataError) as caught:
        load_zone_index(path, cache=False)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in _error_for(tmp_path / "nowhere.geojson")


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [\n{oops')
    assert "not valid JSON (line 2" in _error_for(path)


def test_json_that_is_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "point.geojson"
    path.write_text(json.dumps({"type": "Point", "coordinates": [0, 0]}))
    assert "FeatureCollection" in _error_for(path)


def test_features_without_the_marine_regions_attributes(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "plain.geojson", [({"NAME": "x"}, box(0, 0, 1, 1))])
    assert "feature 1: no GEONAME" in _error_for(path)
    path = write_geojson(
        tmp_path / "nomrgid.geojson", [({"GEONAME": "x", "MRGID": "abc"}, box(0, 0, 1, 1))]
    )
    assert "MRGID" in _error_for(path)


def test_projected_coordinates(tmp_path: Path) -> None:
    mercator = box(1_000_000, 4_000_000, 1_200_000, 4_300_000)
    path = write_geojson(tmp_path / "mercator.geojson", [(attributes("M", 1), mercator)])
    assert "projected" in _error_for(path)
    gpkg = write_geopackage(
        tmp_path / "mercator.gpkg", [(attributes("M", 1), box(0, 0, 1, 1))], 3395
    )
    assert "EPSG:3395" in _error_for(gpkg)


def test_lines_instead_of_polygons(tmp_path: Path) -> None:
    path = tmp_path / "line.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": attributes("L", 1),
                        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                    }
                ],
            }
        )
    )
    assert "LineString" in _error_for(path)


def test_an_empty_collection(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "empty.geojson", [])
    assert "no polygons" in _error_for(path)


def test_a_file_that_is_not_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "fake.gpkg"
    path.write_text("hello")
    assert "not a GeoPackage" in _error_for(path)


def test_a_broken_shapefile(tmp_path: Path) -> None:
    path = tmp_path / "fake.shp"
    path.write_bytes(b"\x00" * 10)
    _error_for(path)


def test_an_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "zones.kml"
    path.write_text("<kml/>")
    assert "unknown format '.kml'" in _error_for(path)


# ---------------------------------------------------------------------------------------------
# The cache of computed cells


def test_cache_is_written_then_used_and_rebuilt_when_the_file_changes(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "z.geojson", _two_zones())
    first = load_zone_index(path)
    assert first.cache_status == "written"
    cache_files = list(tmp_path.glob("z.geojson.stswatch-h3r3.json"))
    assert len(cache_files) == 1
    second = load_zone_index(path)
    assert second.cache_status == "hit"
    _check_two_zones(second)
    # Same size, new content (Alpha moves): the hash in the key notices.
    items = _two_zones()
    items[0] = (items[0][0], box(0, 10, 2, 12))
    write_geojson(path, items)
    third = load_zone_index(path)
    assert third.cache_status == "written"
    assert name_at(third, 11.0, 1.0) == "Alpha"
    assert name_at(third, 1.0, 1.0) is None


def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "z.geojson", _two_zones())
    load_zone_index(path)
    cache_file = tmp_path / "z.geojson.stswatch-h3r3.json"
    cache_file.write_text('{"key": ')
    index = load_zone_index(path)
    assert index.cache_status == "written"
    _check_two_zones(index)


def test_a_cache_folder_can_be_given_and_an_unwritable_one_is_skipped(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "z.geojson", _two_zones())
    folder = tmp_path / "cache"
    assert load_zone_index(path, cache_dir=folder).cache_status == "written"
    assert load_zone_index(path, cache_dir=folder).cache_status == "hit"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    index = load_zone_index(path, cache_dir=blocked)
    assert index.cache_status == "unwritable"
    _check_two_zones(index)
