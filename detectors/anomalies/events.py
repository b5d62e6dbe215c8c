"""What the anomaly detections report: one event about one subject, as the alert needs it.

An `AnomalyEvent` looks like an encounter event where the alert code and the stream read
one (`kind`, `time_s`, and `encounter.mmsi_a` / `encounter.mmsi_b` for the Kafka key): the
stream's shard stage publishes it without knowing which detection made it. For alerts about
one vessel `mmsi_b` equals `mmsi_a`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from detectors.encounters import PortMatch, Zone


def anomaly_alert_id(alert_type: str, *parts: object) -> str:
    """Deterministic id of an anomaly: the same subject and start give the same id."""
    text = ":".join(str(p) for p in (alert_type, *parts))
    digest = hashlib.sha1(text.encode(), usedforsecurity=False)
    return f"{alert_type}-{digest.hexdigest()[:20]}"


@dataclass(frozen=True, slots=True)
class AnomalySnapshot:
    """An anomaly's figures at the moment an event about it is decided.

    `details` holds the type-specific part of the alert, already JSON-ready (times as ISO
    strings), under the alert's key for that type (`dark`, `conflict`, `jump`, `changes`,
    `gap`)."""

    alert_type: str
    alert_id: str
    mmsi_a: int
    mmsi_b: int
    start_s: float
    last_seen_s: float
    end_s: float | None
    lat: float
    lon: float
    zone: Zone | None = None
    port: PortMatch | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Pair alerts (dark_sts) report distances like an encounter; others leave them None.
    min_distance_m: float | None = None
    median_distance_m: float | None = None

    @property
    def duration_s(self) -> float:
        return self.last_seen_s - self.start_s

    @property
    def pair(self) -> bool:
        return self.mmsi_a != self.mmsi_b


@dataclass(frozen=True, slots=True)
class AnomalyEvent:
    """`kind` (opened, updated, closed) decided at event time `time_s`.

    Named like `EncounterEvent`'s fields on purpose: `encounter` is the subject here."""

    kind: str
    time_s: float
    encounter: AnomalySnapshot

    @property
    def alert_type(self) -> str:
        return self.encounter.alert_type
