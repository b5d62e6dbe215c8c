"""Exclusive economic zones: which one holds a position, fast.

Polygons come from Marine Regions' World EEZ files (GeoJSON, GeoPackage or shapefile, in
longitude/latitude degrees, split at the antimeridian). The index is two dictionaries keyed by
H3 cell at one resolution:
- interior cells (h3 `contain='full'`) answer a lookup directly;
- edge cells (the rest of `contain='overlap'`) carry their candidate zones, best first, and
  only there an exact point-in-polygon test (shapely) decides;
- any other cell is outside every zone: the high seas.

Overlaps. Marine Regions' joint regime areas lie on top of the 200 nautical mile zones of
their parties (Iceland / Norway on Jan Mayen's zone, Senegal / Guinea-Bissau on both), and a
simplified file has slivers where neighbours overlap. A point in several zones gets the first
by this rule: a 200NM zone before a joint regime before an overlapping claim before anything
else (POL_TYPE), then the lowest MRGID. So a zone a country holds alone wins over a shared one;
`matches` still lets a selector name any party of the winning zone.

Building the index costs about a second for a world file (h3's polygon fill), so it can be
kept in a JSON cache beside the EEZ file (or in a folder the caller chooses), keyed by the
file's size, modification time and BLAKE2 hash, and by the resolution.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import shapefile
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from detectors import cells
from detectors.errors import ReferenceDataError

# Resolution 3 cells (69 km edges): about 7,100 interior and 9,900 edge cells for the world
# file, built in about 1 s; an edge lookup costs one or two shapely tests (about 12 us each).
# Finer resolutions cut the share of edge lookups but cost 4 s (res 4) to 22 s (res 5) to build.
# See benchmarks/zone_lookup.py.
DEFAULT_ZONE_RESOLUTION = 3

_CACHE_FORMAT = 1
_POL_TYPE_RANK = {"200NM": 0, "JOINTREGIME": 1, "OVERLAPPINGCLAIM": 2}
_UNRANKED = len(_POL_TYPE_RANK)
# Coordinates may overshoot +-180 / +-90 by rounding; more than this means a projected file.
_DEGREE_SLACK = 1e-6


@dataclass(frozen=True, slots=True)
class Zone:
    """One zone of the EEZ file, with Marine Regions' attributes.

    `iso` is the sovereign's ISO 3166 alpha-3 code (ISO_SOV1), or the territory's when the file
    has no sovereign code; `iso_codes` holds every party's code (ISO_SOV1-3, ISO_TER1-3).
    """

    name: str
    sovereign: str
    iso: str
    territory_iso: str | None
    mrgid: int
    pol_type: str = "200NM"
    iso_codes: tuple[str, ...] = ()


class ZoneLike(Protocol):
    """What `zone_matches` needs of a zone (any object with a Zone's main attributes)."""

    @property
    def iso(self) -> str: ...
    @property
    def mrgid(self) -> int: ...


def zone_matches(zone: ZoneLike, selectors: tuple[str, ...]) -> bool:
    """Whether a zone is one of `selectors`: ISO alpha-3 codes or MRGIDs; none means all.

    An ISO code matches when it is the zone's sovereign, territory or any other party (so
    "ESP" selects the Spain / France joint regime); an MRGID ("8370" or "8370.0") matches that
    zone only. Case and surrounding spaces do not matter.
    """
    if not selectors:
        return True
    # Zone has them; a zone-like value from elsewhere may not.
    territory_iso: str | None = getattr(zone, "territory_iso", None)
    iso_codes: tuple[str, ...] = getattr(zone, "iso_codes", ())
    codes = {code.upper() for code in (zone.iso, territory_iso, *iso_codes) if code}
    for selector in selectors:
        text = selector.strip().upper()
        mrgid = _as_int(text)
        if mrgid is not None:
            if mrgid == zone.mrgid:
                return True
        elif text in codes:
            return True
    return False


@dataclass(frozen=True, slots=True)
class _EdgeCell:
    # Zones that may hold points of this cell, best first, each needing an exact test ...
    candidates: tuple[int, ...]
    # ... and the zone that holds the whole cell, if any (every candidate outranks it).
    fallback: int


class ZoneIndex:
    """Point-in-EEZ lookups over H3 cells. Build with `load_zone_index` or `ZoneIndex(...)`."""

    def __init__(
        self,
        features: Sequence[tuple[Zone, BaseGeometry]],
        resolution: int = DEFAULT_ZONE_RESOLUTION,
        *,
        _cells: tuple[dict[str, int], dict[str, _EdgeCell]] | None = None,
    ) -> None:
        self.resolution = resolution
        # Ranked once: position in this list is priority (see the module's overlap rule).
        order = sorted(range(len(features)), key=lambda i: _priority(features[i][0]))
        self.zones: tuple[Zone, ...] = tuple(features[i][0] for i in order)
        self._geometries: tuple[BaseGeometry, ...] = tuple(features[i][1] for i in order)
        for geometry in self._geometries:
            shapely.prepare(geometry)
        if _cells is None:
            self._interior, self._edges = _index_cells(self._geometries, resolution)
        else:
            self._interior, self._edges = _cells
        # How the cells were obtained, for the command's report: built, cache-hit, ...
        self.cache_status = "none"

    @property
    def interior_cell_count(self) -> int:
        return len(self._interior)

    @property
    def edge_cell_count(self) -> int:
        return len(self._edges)

    def lookup(self, lat: float, lon: float) -> Zone | None:
        """The zone that holds the point, or None on the high seas.

        Raises ValueError for a latitude outside [-90, 90] or longitude outside [-180, 180].
        """
        cell = cells.latlng_to_cell(lat, lon, self.resolution)
        interior = self._interior.get(cell)
        if interior is not None:
            return self.zones[interior]
        edge = self._edges.get(cell)
        if edge is None:
            return None
        for candidate in edge.candidates:
            if self._covers(candidate, lat, lon):
                return self.zones[candidate]
        return self.zones[edge.fallback] if edge.fallback >= 0 else None

    def _covers(self, zone_index: int, lat: float, lon: float) -> bool:
        geometry = self._geometries[zone_index]
        if shapely.intersects_xy(geometry, lon, lat):
            return True
        # The files split polygons at the antimeridian: 180 and -180 are the same meridian.
        return abs(lon) == 180.0 and bool(shapely.intersects_xy(geometry, -lon, lat))

    def matches(self, zone: ZoneLike, selectors: tuple[str, ...]) -> bool:
        """Whether `zone` is one of `selectors` (see `zone_matches`); () selects every zone."""
        return zone_matches(zone, selectors)


def _priority(zone: Zone) -> tuple[int, int]:
    kind = "".join(zone.pol_type.split()).upper()
    return _POL_TYPE_RANK.get(kind, _UNRANKED), zone.mrgid


def _index_cells(
    geometries: Sequence[BaseGeometry], resolution: int
) -> tuple[dict[str, int], dict[str, _EdgeCell]]:
    touching: dict[str, list[int]] = {}
    holding: dict[str, list[int]] = {}
    for zone_index, geometry in enumerate(geometries):
        touched, held = _zone_cells(geometry, resolution)
        for cell in touched:
            touching.setdefault(cell, []).append(zone_index)
        for cell in held:
            holding.setdefault(cell, []).append(zone_index)
    interior: dict[str, int] = {}
    edges: dict[str, _EdgeCell] = {}
    for cell, zone_indexes in touching.items():
        # Zone indexes are priorities: the best holder answers for every point it covers,
        # and only better-ranked zones that touch the cell need an exact test.
        fallback = min(holding.get(cell, ()), default=-1)
        better = sorted(i for i in zone_indexes if fallback < 0 or i < fallback)
        if fallback >= 0 and not better:
            interior[cell] = fallback
        else:
            edges[cell] = _EdgeCell(tuple(better), fallback)
    return interior, edges


def _zone_cells(geometry: BaseGeometry, resolution: int) -> tuple[set[str], set[str]]:
    """The cells a zone touches and the cells it holds entirely.

    h3's answers are checked, because they describe cells with straight edges in longitude
    and latitude while a point's cell (`latlng_to_cell`) has great-circle edges, which bulge
    past the straight ones by up to a few hundred metres at high latitudes:
    - h3 (4.5) leaves out of `overlap` a cell whose centre lies in a hole of the polygon
      that is wholly inside the cell, so the cells of every polygon corner are added, and
      a cell holding a corner of a hole is never taken as held;
    - a held cell next to an edge cell must pass shapely's `covers` against the cell with its
      true edges (one whose neighbours are all held cannot bulge out of the zone);
    - the untouched neighbours of edge cells are tested with `intersects`, for zone corners
      that reach only the bulge of a cell.
    """
    corners = shapely.get_coordinates(geometry)
    corner_cells = {
        cells.latlng_to_cell(_clamp(lat, 90.0), _clamp(lon, 180.0), resolution)
        for lon, lat in corners
    }
    hole_corner_cells = {
        cells.latlng_to_cell(_clamp(lat, 90.0), _clamp(lon, 180.0), resolution)
        for polygon in shapely.get_parts(geometry)
        for ring in getattr(polygon, "interiors", ())
        for lon, lat in ring.coords
    }
    held = cells.shape_to_cells(geometry, resolution, "full") - hole_corner_cells
    touched = cells.shape_to_cells(geometry, resolution, "overlap") | held | corner_cells
    near_edge = {n for cell in touched - held for n in cells.grid_disk(cell, 1)}
    to_check = sorted(held & near_edge)
    held.difference_update(
        cell
        for cell, ok in zip(to_check, _cell_test(geometry, to_check, "covers"), strict=True)
        if not ok
    )
    nearby = sorted(near_edge - touched)
    touched.update(
        cell
        for cell, ok in zip(nearby, _cell_test(geometry, nearby, "intersects"), strict=True)
        if ok
    )
    return touched, held


def _clamp(value: float, limit: float) -> float:
    return min(max(float(value), -limit), limit)


def _cell_test(geometry: BaseGeometry, cell_list: list[str], predicate: str) -> list[bool]:
    """`covers` or `intersects` of the zone with each cell (edges along great circles).

    A cell on the antimeridian or a pole has no lon/lat polygon: it is never held, and always
    kept as a touched candidate (the exact test at lookup decides).
    """
    polygons = cells.cell_polygons(cell_list)
    known = [i for i, polygon in enumerate(polygons) if polygon is not None]
    answers = [predicate == "intersects"] * len(cell_list)
    if known:
        test = shapely.covers if predicate == "covers" else shapely.intersects
        for i, answer in zip(known, test(geometry, [polygons[i] for i in known]), strict=True):
            answers[i] = bool(answer)
    return answers


# ---------------------------------------------------------------------------------------------
# Loading


def load_zone_index(
    path: str | os.PathLike[str],
    resolution: int = DEFAULT_ZONE_RESOLUTION,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> ZoneIndex:
    """Read an EEZ file and index it; raise ReferenceDataError when it cannot be used.

    With `cache`, the computed cells are read from (or written to) a JSON file beside the EEZ
    file, or in `cache_dir` when given; a cache that cannot be written is skipped, and
    `ZoneIndex.cache_status` says what happened ("hit", "written", "unwritable", "off").
    """
    source = Path(path)
    features = read_zone_features(source)
    if not cache:
        index = ZoneIndex(features, resolution)
        index.cache_status = "off"
        return index
    key = _cache_key(source, resolution)
    cache_path = _cache_path(source, key, resolution, cache_dir)
    cached = _read_cache(cache_path, key, features)
    if cached is not None:
        index = ZoneIndex(features, resolution, _cells=cached)
        index.cache_status = "hit"
        return index
    index = ZoneIndex(features, resolution)
    index.cache_status = "written" if _write_cache(cache_path, key, index) else "unwritable"
    return index


def read_zone_features(path: Path) -> list[tuple[Zone, BaseGeometry]]:
    """The zones and their (repaired) polygons in a GeoJSON, GeoPackage or shapefile."""
    if not path.is_file():
        raise ReferenceDataError(f"EEZ file {path}: not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".geojson", ".json"):
            raw = list(_read_geojson(path))
        elif suffix == ".gpkg":
            raw = list(_read_geopackage(path))
        elif suffix in (".shp", ".zip"):
            raw = list(_read_shapefile(path))
        else:
            raise ReferenceDataError(
                f"EEZ file {path}: unknown format {suffix or '(no suffix)'!r}; "
                "expected .geojson, .json, .gpkg, .shp or a zipped shapefile"
            )
    except ReferenceDataError:
        raise
    except (OSError, ValueError, TypeError, KeyError, sqlite3.Error, struct.error) as error:
        raise ReferenceDataError(f"EEZ file {path}: {_one_line(error)}") from error
    features: list[tuple[Zone, BaseGeometry]] = []
    for number, (attributes, geometry) in enumerate(raw, start=1):
        where = f"EEZ file {path}, feature {number}"
        if geometry is None or geometry.is_empty:
            continue
        features.append((_zone_from_attributes(attributes, where), _polygonal(geometry, where)))
    if not features:
        raise ReferenceDataError(f"EEZ file {path}: no polygons in it")
    return features


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _read_geojson(path: Path) -> Iterator[tuple[Mapping[str, Any], BaseGeometry | None]]:
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as error:
        raise ReferenceDataError(
            f"EEZ file {path}: not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ReferenceDataError(f"EEZ file {path}: not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ReferenceDataError(f"EEZ file {path}: its FeatureCollection has no feature list")
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise ReferenceDataError(f"EEZ file {path}: feature {number} is not an object")
        geometry = feature.get("geometry")
        properties = feature.get("properties") or {}
        try:
            parsed = shape(geometry) if geometry else None
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
            raise ReferenceDataError(
                f"EEZ file {path}: feature {number} has a broken geometry ({_one_line(error)})"
            ) from error
        yield properties, parsed


def _read_geopackage(path: Path) -> Iterator[tuple[Mapping[str, Any], BaseGeometry | None]]:
    # Read-only: a GeoPackage is an SQLite file, and opening it for writing could change it.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            tables = connection.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
                "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
                "WHERE c.data_type = 'features'"
            ).fetchall()
        except sqlite3.DatabaseError as error:
            raise ReferenceDataError(
                f"EEZ file {path}: not a GeoPackage ({_one_line(error)})"
            ) from error
        table = _pick_geopackage_table(connection, path, tables)
        name, column, srs_id = table
        _check_geopackage_srs(connection, path, srs_id)
        cursor = connection.execute(f'SELECT * FROM "{name}"')
        names = [description[0] for description in cursor.description]
        geometry_at = [n.lower() for n in names].index(column.lower())
        for row in cursor:
            attributes = {
                n: v for i, (n, v) in enumerate(zip(names, row, strict=True)) if i != geometry_at
            }
            blob = row[geometry_at]
            yield attributes, _geopackage_geometry(blob) if blob is not None else None
    finally:
        connection.close()


def _pick_geopackage_table(
    connection: sqlite3.Connection, path: Path, tables: list[tuple[str, str, int]]
) -> tuple[str, str, int]:
    if not tables:
        raise ReferenceDataError(f"EEZ file {path}: the GeoPackage has no feature table")
    if len(tables) == 1:
        return tables[0]
    with_names = []
    for table in tables:
        columns = connection.execute(f'PRAGMA table_info("{table[0]}")').fetchall()
        if any(str(c[1]).upper() == "GEONAME" for c in columns):
            with_names.append(table)
    if len(with_names) != 1:
        listed = ", ".join(t[0] for t in tables)
        raise ReferenceDataError(
            f"EEZ file {path}: cannot tell which feature table holds the zones ({listed})"
        )
    return with_names[0]


def _check_geopackage_srs(connection: sqlite3.Connection, path: Path, srs_id: int) -> None:
    row = connection.execute(
        "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    # Longitude/latitude on WGS84 (EPSG:4326) is what Marine Regions publishes; "undefined
    # geographic" (srs_id 0) is accepted, and the coordinates are range-checked later anyway.
    if srs_id in (0, 4326) or (
        row is not None and str(row[0]).upper() == "EPSG" and row[1] == 4326
    ):
        return
    described = f"{row[0]}:{row[1]}" if row is not None else f"srs_id {srs_id}"
    raise ReferenceDataError(
        f"EEZ file {path}: coordinates are in {described}, expected longitude/latitude (EPSG:4326)"
    )


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _geopackage_geometry(blob: bytes) -> BaseGeometry | None:
    """Parse a GeoPackage binary geometry: an 8-byte header, an envelope, then plain WKB."""
    data = bytes(blob)
    if len(data) < 8 or data[:2] != b"GP":
        raise ValueError("a geometry is not in GeoPackage binary format")
    flags = data[3]
    envelope = (flags >> 1) & 0b111
    if envelope not in _ENVELOPE_BYTES:
        raise ValueError(f"a geometry has an unknown envelope code {envelope}")
    if flags & 0b10000:  # the empty-geometry flag
        return None
    if flags & 0b100000:
        raise ValueError("a geometry uses an extended (non-standard) GeoPackage type")
    return shapely.from_wkb(data[8 + _ENVELOPE_BYTES[envelope] :])


def _read_shapefile(path: Path) -> Iterator[tuple[Mapping[str, Any], BaseGeometry | None]]:

    _check_prj(path)
    try:
        reader = shapefile.Reader(str(path), encodingErrors="replace")
    except shapefile.ShapefileException as error:
        raise ReferenceDataError(f"EEZ file {path}: {_one_line(error)}") from error
    with reader:
        for record in reader.iterShapeRecords():
            geometry = record.shape.__geo_interface__ if record.shape.points else None
            yield record.record.as_dict(), shape(geometry) if geometry else None


def _check_prj(path: Path) -> None:
    prj = path.with_suffix(".prj")
    if path.suffix.lower() == ".shp" and prj.is_file():
        text = prj.read_text(errors="replace")
        if text.lstrip().upper().startswith("PROJCS"):
            raise ReferenceDataError(
                f"EEZ file {path}: projected coordinates ({prj.name}), expected "
                "longitude/latitude (EPSG:4326)"
            )


def _zone_from_attributes(attributes: Mapping[str, Any], where: str) -> Zone:
    upper = {str(k).upper(): v for k, v in attributes.items()}

    def text(key: str) -> str | None:
        value = upper.get(key)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    name = text("GEONAME")
    mrgid = _as_int(text("MRGID") or "")
    if name is None:
        raise ReferenceDataError(f"{where}: no GEONAME attribute")
    if mrgid is None:
        raise ReferenceDataError(f"{where} ({name}): no whole-number MRGID attribute")
    party_keys = ("ISO_SOV1", "ISO_SOV2", "ISO_SOV3", "ISO_TER1", "ISO_TER2", "ISO_TER3")
    iso_codes = tuple(dict.fromkeys(code.upper() for key in party_keys if (code := text(key))))
    territory_iso = text("ISO_TER1")
    return Zone(
        name=name,
        sovereign=text("SOVEREIGN1") or text("TERRITORY1") or "",
        iso=(text("ISO_SOV1") or territory_iso or "").upper(),
        territory_iso=territory_iso.upper() if territory_iso else None,
        mrgid=mrgid,
        pol_type=text("POL_TYPE") or "200NM",
        iso_codes=iso_codes,
    )


def _as_int(text: str) -> int | None:
    """A whole number written as "8486" or "8486.0" (GIS tools store MRGIDs as reals)."""
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)


def _polygonal(geometry: BaseGeometry, where: str) -> BaseGeometry:
    """The polygons of a geometry, repaired when invalid; lines and points dropped."""
    if geometry.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise ReferenceDataError(f"{where}: a {geometry.geom_type}, expected polygons")
    min_x, min_y, max_x, max_y = geometry.bounds
    if (
        min_x < -180.0 - _DEGREE_SLACK
        or max_x > 180.0 + _DEGREE_SLACK
        or min_y < -90.0 - _DEGREE_SLACK
        or max_y > 90.0 + _DEGREE_SLACK
    ):
        raise ReferenceDataError(
            f"{where}: coordinates outside longitude/latitude degrees "
            f"({min_x:.6g}, {min_y:.6g}, {max_x:.6g}, {max_y:.6g}); is the file projected?"
        )
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    polygons = _polygons_of(geometry)
    if not polygons:
        # make_valid can leave only lines of a badly broken ring; buffer(0) rebuilds areas.
        polygons = _polygons_of(geometry.buffer(0))
    if not polygons:
        raise ReferenceDataError(f"{where}: its polygons have no area, even after repair")
    return MultiPolygon(polygons)


def _polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    found: list[Polygon] = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, Polygon) and not part.is_empty:
            found.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            found.extend(_polygons_of(part))
    return found


# ---------------------------------------------------------------------------------------------
# The cache of computed cells


def _cache_key(path: Path, resolution: int) -> dict[str, Any]:
    stat = path.stat()
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return {
        "format": _CACHE_FORMAT,
        "resolution": resolution,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "blake2b": digest.hexdigest(),
        "h3": cells.h3_version(),
    }


def _cache_path(
    source: Path, key: Mapping[str, Any], resolution: int, cache_dir: str | os.PathLike[str] | None
) -> Path:
    if cache_dir is None:
        return source.with_name(f"{source.name}.stswatch-h3r{resolution}.json")
    # Several EEZ files may share a cache folder: the content hash keeps them apart.
    return Path(cache_dir) / f"{source.name}.{key['blake2b'][:12]}.stswatch-h3r{resolution}.json"


def _read_cache(
    cache_path: Path, key: Mapping[str, Any], features: Sequence[tuple[Zone, BaseGeometry]]
) -> tuple[dict[str, int], dict[str, _EdgeCell]] | None:
    try:
        document = json.loads(cache_path.read_bytes())
        if document["key"] != dict(key):
            return None
        ranked = sorted((zone for zone, _ in features), key=_priority)
        if document["mrgids"] != [zone.mrgid for zone in ranked]:
            return None
        interior = {cell: int(zone) for cell, zone in document["interior"].items()}
        edges = {
            cell: _EdgeCell(tuple(int(c) for c in candidates), int(fallback))
            for cell, (candidates, fallback) in document["edges"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        # A missing, stale or damaged cache is rebuilt, never trusted.
        return None
    return interior, edges


def _write_cache(cache_path: Path, key: Mapping[str, Any], index: ZoneIndex) -> bool:
    document = {
        "key": dict(key),
        "mrgids": [zone.mrgid for zone in index.zones],
        "interior": index._interior,
        "edges": {c: [list(e.candidates), e.fallback] for c, e in index._edges.items()},
    }
    partial = cache_path.with_name(f"{cache_path.name}.{os.getpid()}.tmp")
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(document, separators=(",", ":")))
        os.replace(partial, cache_path)  # atomic: a reader sees the old cache or the new one
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        return False
    return True
