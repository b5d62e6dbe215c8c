"""Response bodies of the status API, as pydantic models: they make the OpenAPI document.

The alert model follows `config/schemas/sts-alert.v1.schema.json`; it and its parts allow
extra fields, so that additive changes to the alert (which keep schema version 1) pass
through unchanged: the API serves each alert exactly as it was published.
Times are ISO 8601 UTC strings ending in `Z`, as in the alerts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Flag(BaseModel):
    model_config = ConfigDict(extra="allow")

    iso2: str
    iso3: str
    name: str


class AlertVessel(BaseModel):
    model_config = ConfigDict(extra="allow")

    mmsi: int
    name: str | None
    imo: int | None
    call_sign: str | None
    flag: Flag | None
    ship_type: int | None
    ship_type_text: str | None
    length_m: float | None
    median_speed_kn: float | None


class LatLon(BaseModel):
    model_config = ConfigDict(extra="allow")

    lat: float
    lon: float


class Eez(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    sovereign: str
    iso: str
    mrgid: int


class NearestPort(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    distance_m: float


class Risk(BaseModel):
    model_config = ConfigDict(extra="allow")

    score: int
    reasons: list[dict[str, Any]]


class Alert(BaseModel):
    """One alert event (schema version 1): the latest state of an encounter or finding.

    Pair alerts (`sts`, `dark_sts`) name two vessels; findings about one vessel
    (`identity_conflict`, `position_jump`, `identity_change`, `ais_gap`) name one and have
    null distances. Type-specific fields (`dark`, `conflict`, `jump`, `changes`, `gap`) pass
    through as published.
    """

    model_config = ConfigDict(extra="allow")

    schema_version: int
    type: str
    alert_id: str
    event_id: str
    event: Literal["opened", "updated", "closed"]
    event_time: str
    vessels: list[AlertVessel]
    start: str
    end: str | None
    last_seen: str
    duration_s: float
    min_distance_m: float | None
    median_distance_m: float | None
    position: LatLon
    h3_cell: str
    eez: Eez | None
    nearest_port: NearestPort | None
    risk: Risk | None = None


class Vessel(BaseModel):
    """A vessel's live status: identity, last position and its active encounters."""

    mmsi: int
    name: str | None = None
    imo: int | None = None
    call_sign: str | None = None
    flag: Flag | None = None
    ship_type: int | None = None
    ship_type_text: str | None = None
    length_m: float | None = None
    destination: str | None = None
    position: LatLon
    time: str = Field(description="event time of the last position")
    sog_kn: float | None = None
    cog_deg: float | None = None
    heading_deg: float | None = None
    nav_status: int | None = None
    h3_cell: str | None = None
    distance_km: float | None = Field(
        default=None, description="distance from the search point (GET /vessels only)"
    )
    active_encounters: list[Alert] = []
    identity_history: list[dict[str, Any]] = Field(
        default=[],
        description="changes of name, call sign, IMO, flag or MMSI seen (newest last)",
    )


class VesselsNear(BaseModel):
    center: LatLon
    radius_km: float
    count: int
    vessels: list[Vessel]


class Encounters(BaseModel):
    state: Literal["active", "closed"]
    count: int
    encounters: list[Alert]


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class EncounterDetail(BaseModel):
    """An encounter: its latest alert, every stored event, and both vessels' recent tracks."""

    alert: Alert
    history: list[Alert] = Field(description="alert events of this encounter, oldest first")
    tracks: FeatureCollection = Field(
        description="one LineString per vessel (properties: mmsi, name, role a/b, times, "
        "sog_kn) and the encounter's position as a Point (role: encounter)"
    )


class CheckResult(BaseModel):
    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] = {}


class Health(BaseModel):
    status: Literal["ok", "failing"]
    checks: dict[str, CheckResult]


class MapConfig(BaseModel):
    tile_url: str
    tile_attribution: str
    refresh_s: float
    auth_required: bool


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer has this shape; `problems` lists invalid parameters."""

    error: str = Field(description="machine-readable code, e.g. invalid_parameter, not_found")
    message: str
    problems: list[dict[str, Any]] | None = None
