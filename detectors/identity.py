"""A vessel's identity: the merge of its static reports, as of a point in event time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from detectors.records import StaticReport

_FIELDS = (
    "name",
    "call_sign",
    "imo",
    "ship_type",
    "length_m",
    "width_m",
    "draught_m",
    "destination",
)


@dataclass(frozen=True, slots=True)
class VesselIdentity:
    """What a vessel says it is. Fields a report leaves out keep their previous value,
    because a type 24 part A carries only the name and a part B only the rest."""

    mmsi: int
    name: str | None = None
    call_sign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    length_m: float | None = None
    width_m: float | None = None
    draught_m: float | None = None
    destination: str | None = None
    # Event time of the report that last changed a field.
    updated_s: float | None = None

    def merged(self, report: StaticReport) -> VesselIdentity:
        """This identity with the fields `report` carries applied.

        Vessels repeat the same static report every few minutes: when nothing changes the
        identity itself is returned, so the common case allocates nothing.
        """
        changes: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(report, name)
            if value is not None and value != getattr(self, name):
                changes[name] = value
        if not changes:
            return self
        changes["updated_s"] = report.time_s
        return replace(self, **changes)
