"""Where the land is: coarse hand-drawn coastline polygons that keep simulated ships at sea.

The polygons live in `config/data/coastline_*.geojson`. They are drawn by hand from common
geographic knowledge at a resolution of a few kilometres: good enough to keep shipping lanes,
fishing grounds and anchorages off the land, far too coarse for navigation. The simulator
checks every route it builds against them and refuses a scenario whose declared lanes cross
land.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry

from detectors.errors import StswatchError

from .geo import FloatArray


class LandMaskError(StswatchError):
    """A coastline file is missing or malformed."""


def _read_coastline(name: str, base_dir: Path | None) -> list[BaseGeometry]:
    candidates: list[Path] = []
    if base_dir is not None:
        candidates.append(base_dir / name)
    packaged = resources.files("config").joinpath("data", name)
    text: str | None = None
    for path in candidates:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            break
    if text is None:
        if not packaged.is_file():
            raise LandMaskError(f"coastline file not found: {name}")
        text = packaged.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        return [shape(feature["geometry"]) for feature in data["features"]]
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise LandMaskError(f"coastline file {name} is not valid GeoJSON: {err}") from None


class LandMask:
    """Land polygons with point and path tests (prepared for speed)."""

    def __init__(self, polygons: Iterable[BaseGeometry]) -> None:
        geoms = [g if g.is_valid else g.buffer(0) for g in polygons]
        self._land = shapely.union_all(geoms) if geoms else shapely.Polygon()
        shapely.prepare(self._land)

    @classmethod
    def from_files(cls, names: Iterable[str], base_dir: Path | None = None) -> LandMask:
        polygons: list[BaseGeometry] = []
        for name in names:
            polygons.extend(_read_coastline(name, base_dir))
        return cls(polygons)

    @property
    def geometry(self) -> BaseGeometry:
        return self._land

    def is_land(self, lat: float, lon: float) -> bool:
        return bool(self._land.contains(Point(lon, lat)))

    def land_points(self, lat: FloatArray, lon: FloatArray) -> np.ndarray:
        """A boolean array: which of the points are on land."""
        return np.asarray(shapely.contains_xy(self._land, lon, lat))

    def path_crosses_land(self, lat: FloatArray, lon: FloatArray) -> bool:
        """Whether the polyline through the points touches land anywhere."""
        if len(lat) < 2:
            return self.is_land(float(lat[0]), float(lon[0]))
        return bool(self._land.intersects(LineString(np.column_stack([lon, lat]))))

    def distance_to_land_deg(self, lat: float, lon: float) -> float:
        """Distance to the nearest land in degrees (a coarse margin check)."""
        if self._land.is_empty:
            return float("inf")
        return float(self._land.distance(Point(lon, lat)))
