"""The ground truth of a simulated scenario: `truth.json`.

One JSON object:

```
{"schema_version": 1, "generator": "stswatch simulate", "scenario": "demo", "seed": 1,
 "start": "2024-05-01T00:00:00Z", "end": "2024-05-01T03:00:00Z", "vessels": 31,
 "zones_approximate": true,
 "events": [
   {"id": "sts-1", "category": "sts", "alert_type": "sts", "expect_alert": true,
    "mmsis": [412000123, 636012000],
    "start": "...Z", "end": "...Z", "position": {"lat": 30.9, "lon": 123.4},
    "eez_iso": "CHN", "eez_mrgid": 8486, "description": "...",
    "min_distance_m": 52.1, "max_distance_m": 71.8, "max_median_speed_kn": 0.6}, ...]}
```

`start`/`end` bound the planted behaviour itself: for transfers, the time the pair lies
alongside (not the approach); for decoys, the time the pair is doing what could fool a
detector (passing close, meeting, lying 2-3 km apart, trawling side by side, at anchor).
Distances and speeds are measured on the noise-free tracks over that interval.

`alert_type` names the detection the event is about (`sts`, `dark_sts`, `identity_conflict`,
`position_jump`, `identity_change`, `ais_gap`; "sts" when a file has none). Events about one
vessel list one MMSI (two for an identity change that moved to a new MMSI); for dark
transfers and gaps `start`/`end` bound the silence, for a jump or an identity change they
start when it happens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.errors import StswatchError
from detectors.timefmt import iso_utc, parse_iso_utc

TRUTH_SCHEMA_VERSION = 1


class TruthFileError(StswatchError):
    """A truth file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class TruthEvent:
    id: str
    category: str
    expect_alert: bool
    mmsis: tuple[int, ...]
    start_s: float
    end_s: float
    lat: float
    lon: float
    eez_iso: str | None = None
    eez_mrgid: int | None = None
    description: str = ""
    min_distance_m: float | None = None
    max_distance_m: float | None = None
    max_median_speed_kn: float | None = None
    alert_type: str = "sts"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "alert_type": self.alert_type,
            "expect_alert": self.expect_alert,
            "mmsis": sorted(self.mmsis),
            "start": iso_utc(round(self.start_s)),
            "end": iso_utc(round(self.end_s)),
            "position": {"lat": round(self.lat, 5), "lon": round(self.lon, 5)},
            "eez_iso": self.eez_iso,
            "eez_mrgid": self.eez_mrgid,
            "description": self.description,
            "min_distance_m": _round(self.min_distance_m, 1),
            "max_distance_m": _round(self.max_distance_m, 1),
            "max_median_speed_kn": _round(self.max_median_speed_kn, 2),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TruthEvent:
        position = data.get("position") or {}
        return cls(
            id=str(data["id"]),
            category=str(data["category"]),
            expect_alert=bool(data["expect_alert"]),
            mmsis=tuple(sorted(int(m) for m in data["mmsis"])),
            start_s=parse_iso_utc(str(data["start"])),
            end_s=parse_iso_utc(str(data["end"])),
            lat=float(position.get("lat", 0.0)),
            lon=float(position.get("lon", 0.0)),
            eez_iso=data.get("eez_iso"),
            eez_mrgid=data.get("eez_mrgid"),
            description=str(data.get("description", "")),
            min_distance_m=data.get("min_distance_m"),
            max_distance_m=data.get("max_distance_m"),
            max_median_speed_kn=data.get("max_median_speed_kn"),
            alert_type=str(data.get("alert_type", "sts")),
        )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def truth_document(
    scenario: str,
    seed: int,
    start_s: float,
    end_s: float,
    vessels: int,
    events: list[TruthEvent],
) -> dict[str, Any]:
    return {
        "schema_version": TRUTH_SCHEMA_VERSION,
        "generator": "stswatch simulate",
        "scenario": scenario,
        "seed": seed,
        "start": iso_utc(start_s),
        "end": iso_utc(end_s),
        "vessels": vessels,
        "zones_approximate": True,
        "events": [e.to_json() for e in events],
    }


def read_truth(path: str | Path) -> list[TruthEvent]:
    """The events of a truth file (as written by `stswatch simulate`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TruthFileError(f"truth file not found: {path}") from None
    except OSError as err:
        raise TruthFileError(f"cannot read truth file {path}: {err}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise TypeError("expected an object with an 'events' list")
        return [TruthEvent.from_json(e) for e in data["events"]]
    except (ValueError, KeyError, TypeError) as err:
        raise TruthFileError(f"truth file {path} is malformed: {err}") from None
