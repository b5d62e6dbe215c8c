"""The alert contract: `sts.alerts.v1` messages and `stswatch detect` output lines.

Downstream services parse these, so the shape is versioned (`schema_version`) and written
down as a JSON Schema in `config/schemas/sts-alert.v1.schema.json`; every alert the tests see
is validated against it. Additive changes keep version 1; anything else is a new version and
a new topic.

One encounter has one `alert_id` (derived from the pair and its start, so the same input gives
the same id in every process); each event about it (`opened`, `updated`, `closed`) has its own
`event_id`, so a consumer can drop redelivered duplicates.

Besides STS encounters (`type: "sts"`) the same contract carries the anomaly detections
(`dark_sts`, `identity_conflict`, `position_jump`, `identity_change`, `ais_gap`): the shared
fields mean the same thing, pair-only figures (distances, median speeds) are null for
alerts about one vessel, and each type adds its own object (`dark`, `conflict`, `jump`,
`changes`, `gap`). Every alert carries `risk` (score 0-100 and its reasons) and each vessel
its recent `identity_history`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from detectors import cells
from detectors.anomalies.events import AnomalyEvent
from detectors.anomalies.identity_history import IdentityChange
from detectors.anomalies.params import ALERT_STS
from detectors.engine import AlertEvent
from detectors.flags import flag_of_mmsi
from detectors.identity import VesselIdentity
from detectors.shiptypes import ship_type_text
from detectors.timefmt import iso_utc

SCHEMA_VERSION = 1
ALERT_TYPE_STS = ALERT_STS


def pair_key(mmsi_a: int, mmsi_b: int) -> str:
    """The Kafka key of an encounter: the sorted MMSI pair."""
    low, high = sorted((mmsi_a, mmsi_b))
    return f"{low}-{high}"


def change_json(change: IdentityChange) -> dict[str, Any]:
    return {
        "time": iso_utc(change.time_s),
        "field": change.field,
        "old": change.old,
        "new": change.new,
        "imo": change.imo,
    }


def _vessel_json(
    identity: VesselIdentity,
    median_speed_kn: float | None,
    history: tuple[IdentityChange, ...] = (),
) -> dict[str, Any]:
    flag = flag_of_mmsi(identity.mmsi)
    return {
        "mmsi": identity.mmsi,
        "name": identity.name,
        "imo": identity.imo,
        "call_sign": identity.call_sign,
        "flag": (
            None if flag is None else {"iso2": flag.iso2, "iso3": flag.iso3, "name": flag.name}
        ),
        "ship_type": identity.ship_type,
        "ship_type_text": (
            ship_type_text(identity.ship_type) if identity.ship_type is not None else None
        ),
        "length_m": identity.length_m,
        "median_speed_kn": _rounded(median_speed_kn, 2),
        "identity_history": [change_json(c) for c in history],
    }


def _port_json(port: Any) -> dict[str, Any]:
    """Name and distance always; country, kind and position when the port index has them."""
    document: dict[str, Any] = {"name": port.name, "distance_m": round(port.distance_m, 1)}
    for name in ("country", "kind"):
        value = getattr(port, name, None)
        if value is not None:
            document[name] = value
    for name in ("lat", "lon"):
        value = getattr(port, name, None)
        if value is not None:
            document[name] = round(value, 5)
    return document


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def alert_to_json(alert: AlertEvent, h3_resolution: int = 7) -> dict[str, Any]:
    """The alert as a JSON-ready dict (schema version 1)."""
    event = alert.event
    snapshot = event.encounter
    zone = snapshot.zone
    port = snapshot.port
    event_id = hashlib.sha1(
        f"{snapshot.alert_id}:{event.kind}:{int(event.time_s)}".encode(),
        usedforsecurity=False,
    ).hexdigest()[:20]
    histories = alert.histories
    history_a = histories[0] if histories else ()
    history_b = histories[1] if len(histories) > 1 else ()
    details: dict[str, Any] = {}
    if isinstance(event, AnomalyEvent):
        anomaly = event.encounter
        alert_type = anomaly.alert_type
        if anomaly.pair:
            vessels = [
                _vessel_json(alert.vessel_a, None, history_a),
                _vessel_json(alert.vessel_b, None, history_b),
            ]
        else:
            vessels = [_vessel_json(alert.vessel_a, None, history_a)]
        min_distance_m = _rounded(anomaly.min_distance_m, 1)
        median_distance_m = _rounded(anomaly.median_distance_m, 1)
        details = anomaly.details
    else:
        encounter = event.encounter
        alert_type = ALERT_TYPE_STS
        vessels = [
            _vessel_json(alert.vessel_a, encounter.median_speed_a_kn, history_a),
            _vessel_json(alert.vessel_b, encounter.median_speed_b_kn, history_b),
        ]
        min_distance_m = round(encounter.min_distance_m, 1)
        median_distance_m = round(encounter.median_distance_m, 1)
    document = {
        "schema_version": SCHEMA_VERSION,
        "type": alert_type,
        "alert_id": snapshot.alert_id,
        "event_id": event_id,
        "event": event.kind,
        "event_time": iso_utc(event.time_s),
        "vessels": vessels,
        "start": iso_utc(snapshot.start_s),
        "end": None if snapshot.end_s is None else iso_utc(snapshot.end_s),
        "last_seen": iso_utc(snapshot.last_seen_s),
        "duration_s": round(snapshot.duration_s, 1),
        "min_distance_m": min_distance_m,
        "median_distance_m": median_distance_m,
        "position": {"lat": round(snapshot.lat, 6), "lon": round(snapshot.lon, 6)},
        "h3_cell": cells.latlng_to_cell(snapshot.lat, snapshot.lon, h3_resolution),
        "eez": (
            None
            if zone is None
            else {
                "name": zone.name,
                "sovereign": zone.sovereign,
                "iso": zone.iso,
                "mrgid": zone.mrgid,
            }
        ),
        "nearest_port": None if port is None else _port_json(port),
        "risk": (alert.risk.to_json() if alert.risk is not None else {"score": 0, "reasons": []}),
    }
    document.update(details)
    return document
