"""The configured EEZ file as simplified GeoJSON outlines, for the map.

The file (`reference.eez_path`, GeoJSON, GeoPackage or shapefile) is read once with the same
reader the detector uses, each zone simplified (Douglas-Peucker, `api.eez_simplify_deg`,
topology kept) and its coordinates rounded to 1e-4 degrees (about 11 m), which is finer
than any outline drawn on screen. The result is cached as bytes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from detectors.zones import read_zone_features

_DIGITS = 4


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, _DIGITS)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def eez_feature_collection(path: Path, tolerance_deg: float) -> dict[str, Any]:
    """GeoJSON FeatureCollection: one simplified (Multi)Polygon per zone with its attributes."""
    features = []
    for zone, geometry in read_zone_features(path):
        simple = geometry.simplify(tolerance_deg, preserve_topology=True)
        if simple.is_empty:
            continue
        shape = mapping(simple)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": shape["type"], "coordinates": _rounded(shape["coordinates"])},
                "properties": {
                    "name": zone.name,
                    "sovereign": zone.sovereign,
                    "iso": zone.iso,
                    "mrgid": zone.mrgid,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


class EezOutlines:
    """Loads and caches the outlines on first use (reading a world file takes a second)."""

    def __init__(self, eez_path: str, tolerance_deg: float) -> None:
        self.path = Path(eez_path) if eez_path else None
        self.tolerance_deg = tolerance_deg
        self._body: bytes | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self.path is not None

    def body(self) -> bytes:
        """The GeoJSON as bytes; an empty collection when no EEZ file is configured."""
        with self._lock:
            if self._body is None:
                if self.path is None:
                    collection: dict[str, Any] = {"type": "FeatureCollection", "features": []}
                else:
                    collection = eez_feature_collection(self.path, self.tolerance_deg)
                self._body = json.dumps(collection, separators=(",", ":")).encode("utf-8")
            return self._body
