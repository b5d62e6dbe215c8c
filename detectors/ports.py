"""Ports and anchorages: the nearest one to a position, within a radius.

Three CSV layouts are read, told apart by their header:
- the NGA World Port Index (Pub 150): "Main Port Name", "Country Code" (a country name),
  "UN/LOCODE", "Latitude", "Longitude" among about a hundred columns -> kind "port";
- Global Fishing Watch's named anchorages: s2id, latitude, longitude, label, sublabel, iso3
  -> kind "anchorage";
- a plain list: name, lat (or latitude), lon (or lng, longitude), optionally country
  -> kind "port".
Several files can be combined (ports first, say, then anchorages).

`PortIndex.nearest` buckets the places by H3 cell at the finest resolution where everything
within the radius lies in the query's cell or its neighbours (`cells.resolution_for_distance`),
then measures great-circle distances to the candidates only. Buckets are built once per
resolution, on first use; a radius longer than the coarsest cells can hold is answered by a
scan of every place.
"""

from __future__ import annotations

import csv
import math
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from detectors import cells
from detectors.errors import ReferenceDataError
from detectors.geodesy import EARTH_RADIUS_M

PORT = "port"
ANCHORAGE = "anchorage"

# Candidate lists of recently queried cells kept ready (encounters cluster in space).
_CANDIDATE_CACHE_SIZE = 4096
# Resolutions tried first, finest first: their guaranteed radii are 2.6 km, 18 km, 126 km.
_LADDER = (6, 4, 2)

IndexArray = npt.NDArray[np.intp]


class Port(NamedTuple):
    """A port or anchorage: where it is and what to call it (a tuple: files hold 60,000)."""

    name: str
    country: str | None
    kind: str
    lat: float
    lon: float
    locode: str | None = None


@dataclass(frozen=True, slots=True)
class PortMatch:
    """The nearest port or anchorage to a position, and how far it is."""

    name: str
    country: str | None
    kind: str
    lat: float
    lon: float
    distance_m: float
    locode: str | None = None


class PortIndex:
    """Nearest-place queries over ports and anchorages."""

    def __init__(self, ports: Sequence[Port]) -> None:
        self.ports: tuple[Port, ...] = tuple(ports)
        for port in self.ports:
            cells.check_latlng(port.lat, port.lon)
        self._lat_rad = np.radians(np.array([p.lat for p in self.ports], dtype=np.float64))
        self._lon_rad = np.radians(np.array([p.lon for p in self.ports], dtype=np.float64))
        self._cos_lat = np.cos(self._lat_rad)
        self._buckets: dict[int, dict[str, IndexArray]] = {}
        self._candidates: OrderedDict[tuple[int, str], IndexArray] = OrderedDict()
        # Rows of the files that were left out, with the reason (set by load_port_index).
        self.skipped_rows: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.ports)

    def counts_by_kind(self) -> dict[str, int]:
        """How many places of each kind the index holds (for the command's report)."""
        counts: dict[str, int] = {}
        for port in self.ports:
            counts[port.kind] = counts.get(port.kind, 0) + 1
        return counts

    def nearest(self, lat: float, lon: float, max_distance_m: float) -> PortMatch | None:
        """The closest place at most `max_distance_m` away, or None (always None for 0).

        Raises ValueError for an impossible position. Of places at the same distance, the
        one loaded first wins.
        """
        cells.check_latlng(lat, lon)
        if not (max_distance_m > 0.0) or not self.ports:
            return None
        # Look close first: at a busy anchorage ground the nearest place is a few hundred
        # metres away, and a small disk holds tens of places instead of thousands. A place
        # found within a rung's guaranteed radius is the nearest of all; one found farther
        # still bounds the search that follows.
        limit_m = max_distance_m
        for res in _LADDER:
            rung_m = cells.neighbour_safe_distance_m(res)
            if rung_m >= limit_m:
                break
            found = self._nearest_among(lat, lon, self._candidates_near(lat, lon, res))
            if found is not None:
                if found[1] <= rung_m:
                    return self._match(*found)
                limit_m = min(limit_m, found[1])
        if math.isinf(limit_m) or limit_m > cells.neighbour_safe_distance_m(0):
            candidates = np.arange(len(self.ports))
        else:
            candidates = self._candidates_near(lat, lon, cells.resolution_for_distance(limit_m))
        found = self._nearest_among(lat, lon, candidates)
        if found is None or found[1] > max_distance_m:
            return None
        return self._match(*found)

    def _match(self, i: int, distance_m: float) -> PortMatch:
        port = self.ports[i]
        return PortMatch(
            port.name, port.country, port.kind, port.lat, port.lon, distance_m, port.locode
        )

    def _nearest_among(
        self, lat: float, lon: float, candidates: IndexArray
    ) -> tuple[int, float] | None:
        if candidates.size == 0:
            return None
        distances_m = self._distances_m(lat, lon, candidates)
        best = int(np.argmin(distances_m))
        return int(candidates[best]), float(distances_m[best])

    def _candidates_near(self, lat: float, lon: float, res: int) -> IndexArray:
        """The places in the query's cell and its neighbours at resolution `res`."""
        cell = cells.latlng_to_cell(lat, lon, res)
        key = (res, cell)
        found = self._candidates.get(key)
        if found is not None:
            self._candidates.move_to_end(key)
            return found
        buckets = self._buckets_at(res)
        parts = [buckets[c] for c in cells.grid_disk(cell, 1) if c in buckets]
        # In load order, so that of places at the same distance the first loaded wins.
        found = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.intp)
        self._candidates[key] = found
        if len(self._candidates) > _CANDIDATE_CACHE_SIZE:
            self._candidates.popitem(last=False)
        return found

    def _buckets_at(self, res: int) -> dict[str, IndexArray]:
        buckets = self._buckets.get(res)
        if buckets is not None:
            return buckets
        if res < _LADDER[0]:
            # Coarser buckets come from the finest rung's: one parent per cell, not per place.
            members: dict[str, list[IndexArray]] = {}
            for cell, indexes in self._buckets_at(_LADDER[0]).items():
                members.setdefault(cells.cell_to_parent(cell, res), []).append(indexes)
            buckets = {c: np.sort(np.concatenate(parts)) for c, parts in members.items()}
        else:
            places: dict[str, list[int]] = {}
            for i, port in enumerate(self.ports):
                places.setdefault(cells.latlng_to_cell(port.lat, port.lon, res), []).append(i)
            buckets = {c: np.array(m, dtype=np.intp) for c, m in places.items()}
        self._buckets[res] = buckets
        return buckets

    def _distances_m(
        self, lat: float, lon: float, candidates: IndexArray
    ) -> npt.NDArray[np.float64]:
        # Haversine, as geodesy.haversine_m, over many places at once.
        lat_rad = math.radians(lat)
        half_dlat = (self._lat_rad[candidates] - lat_rad) * 0.5
        half_dlon = (self._lon_rad[candidates] - math.radians(lon)) * 0.5
        a = np.sin(half_dlat) ** 2 + math.cos(lat_rad) * self._cos_lat[candidates] * (
            np.sin(half_dlon) ** 2
        )
        distances: npt.NDArray[np.float64] = (
            2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        )
        return distances


# ---------------------------------------------------------------------------------------------
# Loading


def load_port_index(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> PortIndex:
    """Read one or several port / anchorage CSV files into one index.

    Raises ReferenceDataError (one line, naming the file) for a missing or unusable file.
    Single rows with impossible coordinates are left out and listed in `skipped_rows`.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    ports: list[Port] = []
    skipped: list[str] = []
    for path in paths:
        file_ports, file_skipped = read_ports(Path(path))
        ports.extend(file_ports)
        skipped.extend(file_skipped)
    index = PortIndex(ports)
    index.skipped_rows = tuple(skipped)
    return index


# A file with more bad rows than this share has its columns wrong, or is not a port list.
_MAX_BAD_ROW_SHARE = 0.01


def read_ports(path: Path) -> tuple[list[Port], list[str]]:
    """The places in one CSV file, whichever of the three layouts it has, and the rows left
    out ("FILE, line N: reason"; the public files have a few typos, such as a GFW anchorage
    at longitude 1001)."""
    if not path.is_file():
        raise ReferenceDataError(f"port file {path}: not found")
    ports: list[Port] = []
    skipped: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as source:
            reader = csv.reader(source)
            header = next(reader, None)
            if header is None:
                raise ReferenceDataError(f"port file {path}: empty")
            layout = _Layout.sniff(path, header)
            for row in reader:
                if not any(field.strip() for field in row):
                    continue
                try:
                    ports.append(layout.port(row))
                except ValueError as error:
                    skipped.append(f"port file {path}, line {reader.line_num}: {error}")
    except ReferenceDataError:
        raise
    except (OSError, csv.Error) as error:
        message = " ".join(str(error).split())
        raise ReferenceDataError(f"port file {path}: {message}") from error
    if not ports:
        reason = skipped[0] if skipped else "only a header"
        raise ReferenceDataError(f"port file {path}: no usable ports ({reason})")
    if len(skipped) > _MAX_BAD_ROW_SHARE * (len(ports) + len(skipped)):
        raise ReferenceDataError(
            f"{skipped[0]}; and {len(skipped) - 1} more of {len(ports) + len(skipped)} rows"
        )
    return ports, skipped


@dataclass(frozen=True, slots=True)
class _Layout:
    kind: str
    name: int
    lat: int
    lon: int
    country: int | None = None
    locode: int | None = None
    sublabel: int | None = None

    @staticmethod
    def sniff(path: Path, header: Sequence[str]) -> _Layout:
        columns = {name.strip().lower(): i for i, name in reversed(list(enumerate(header)))}

        def first(*names: str) -> int | None:
            return next((columns[n] for n in names if n in columns), None)

        lat = first("latitude", "lat")
        lon = first("longitude", "lon", "lng", "long")
        if lat is not None and lon is not None:
            if "main port name" in columns:
                return _Layout(
                    PORT,
                    columns["main port name"],
                    lat,
                    lon,
                    country=first("country code", "country"),
                    locode=first("un/locode", "locode"),
                )
            if "s2id" in columns and "label" in columns:
                return _Layout(
                    ANCHORAGE,
                    columns["label"],
                    lat,
                    lon,
                    country=first("iso3"),
                    sublabel=first("sublabel"),
                )
            name = first("name", "port", "port name")
            if name is not None:
                return _Layout(PORT, name, lat, lon, country=first("country", "iso3"))
        shown = ", ".join(h.strip() for h in header[:8]) + (", ..." if len(header) > 8 else "")
        raise ReferenceDataError(
            f"port file {path}: not a World Port Index, GFW anchorages or name,lat,lon CSV "
            f"(columns: {shown})"
        )

    def port(self, row: Sequence[str]) -> Port:
        """The place of one row; ValueError when its position is missing or impossible."""
        try:
            lat = float(row[self.lat])
            lon = float(row[self.lon])
        except (IndexError, ValueError):
            lat = lon = math.nan
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            position = ", ".join(repr(_field(row, i)) for i in (self.lat, self.lon))
            raise ValueError(f"latitude, longitude ({position}) is not a position")
        name = _field(row, self.name)
        if self.sublabel is not None and (sublabel := _field(row, self.sublabel)):
            name = f"{name}, {sublabel}" if name else sublabel
        locode = _field(row, self.locode)
        return Port(
            name or locode or "(unnamed)", _field(row, self.country), self.kind, lat, lon, locode
        )


def _field(row: Sequence[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    return row[index].strip() or None


# The name stswatch.reference calls.
load_ports = load_port_index
