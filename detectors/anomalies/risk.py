"""The risk score every alert carries: 0-100 and the reasons behind it.

The score is the sum of the weights (settings `[risk]`, explained in docs/risk.md) of the
reasons that apply, capped at 100. Each reason says what it is (`code`), the number or
name behind it (`value`), what it added (`weight`) and, when it is about one vessel, which
(`mmsi`). Reasons come in a fixed order, so the same alert always reads the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from detectors.anomalies.identity_history import IdentityChange
from detectors.anomalies.params import ALERT_DARK_STS, ALERT_STS, RiskParams
from detectors.anomalies.segments import Gap
from detectors.anomalies.solar import night_share
from detectors.anomalies.watchlists import Watchlist
from detectors.encounters import Zone
from detectors.flags import flag_of_mmsi
from detectors.geodesy import haversine_m
from detectors.identity import VesselIdentity

MAX_SCORE = 100
_PAIR_TYPES = (ALERT_STS, ALERT_DARK_STS)


@dataclass(frozen=True, slots=True)
class RiskReason:
    code: str
    weight: float
    value: Any = None
    mmsi: int | None = None
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "value": self.value, "weight": self.weight}
        if self.mmsi is not None:
            out["mmsi"] = self.mmsi
        if self.detail is not None:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class Risk:
    score: int
    reasons: tuple[RiskReason, ...]

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "reasons": [r.to_json() for r in self.reasons]}


@dataclass(frozen=True, slots=True)
class RiskSubject:
    """What the score reads about one alert."""

    alert_type: str
    vessels: tuple[VesselIdentity, ...]
    start_s: float
    end_s: float
    lat: float
    lon: float
    zone: Zone | None
    # per vessel (same order): identity changes and AIS gaps known at decision time
    changes: tuple[tuple[IdentityChange, ...], ...] = ()
    gaps: tuple[tuple[Gap, ...], ...] = ()


def score_alert(
    subject: RiskSubject,
    params: RiskParams,
    zone_matches: Callable[[Zone, tuple[str, ...]], bool] | None = None,
    watchlist: Watchlist | None = None,
) -> Risk:
    reasons: list[RiskReason] = []

    def add(code: str, weight: float, value: Any, mmsi: int | None = None, **kw: Any) -> None:
        if weight > 0:
            reasons.append(RiskReason(code, round(weight, 1), value, mmsi, **kw))

    add(f"type_{subject.alert_type}", params.type_weight(subject.alert_type), subject.alert_type)
    foc = set(params.flags_of_convenience)
    for vessel in subject.vessels:
        flag = flag_of_mmsi(vessel.mmsi)
        if flag is not None and flag.iso3 in foc:
            add("flag_of_convenience", params.weight_flag_of_convenience, flag.iso3, vessel.mmsi)
    for vessel in subject.vessels:
        ship_type = vessel.ship_type
        if ship_type is None or ship_type == 0:
            add("unknown_ship_type", params.weight_unknown_type, ship_type, vessel.mmsi)
        elif 80 <= ship_type <= 89:
            add("tanker", params.weight_tanker, ship_type, vessel.mmsi)
    since_s = subject.end_s - params.identity_change_window_s
    for vessel, changes in zip(subject.vessels, subject.changes, strict=False):
        recent = [c for c in changes if c.time_s >= since_s]
        if recent:
            weight = min(
                params.max_identity_change_weight, params.weight_identity_change * len(recent)
            )
            fields = ",".join(sorted({c.field for c in recent}))
            add("identity_changes", weight, len(recent), vessel.mmsi, detail=fields)
    longest: tuple[float, int] | None = None
    for vessel, gaps in zip(subject.vessels, subject.gaps, strict=False):
        for gap in gaps:
            if not _gap_near(gap, subject, params):
                continue
            if longest is None or gap.duration_s > longest[0]:
                longest = (gap.duration_s, vessel.mmsi)
    if longest is not None:
        add("ais_gap", params.weight_ais_gap, round(longest[0] / 3600.0, 1), longest[1])
    share = night_share(
        subject.lat, subject.lon, subject.start_s, subject.end_s, params.night_sun_elevation_deg
    )
    if share > 0:
        add("night", params.weight_night * share, round(share, 2))
    if subject.alert_type in _PAIR_TYPES:
        hours = max(0.0, subject.end_s - subject.start_s) / 3600.0
        add(
            "duration",
            min(params.max_duration_weight, params.weight_duration_per_hour * hours),
            round(hours, 1),
        )
    zone_name = _high_risk_zone(subject, params, zone_matches)
    if zone_name is not None:
        add("high_risk_zone", params.weight_high_risk_zone, zone_name)
    if watchlist is not None and len(watchlist):
        for list_name, mmsi, how in _watchlist_hits(subject, watchlist):
            add("watchlist", params.weight_watchlist, list_name, mmsi, detail=how)
    total = sum(r.weight for r in reasons)
    return Risk(min(MAX_SCORE, round(total)), tuple(reasons))


def _gap_near(gap: Gap, subject: RiskSubject, params: RiskParams) -> bool:
    if gap.end_s < subject.start_s - params.gap_window_s:
        return False
    if gap.start_s > subject.end_s + params.gap_window_s:
        return False
    radius_m = params.gap_radius_m
    return (
        haversine_m(gap.start_lat, gap.start_lon, subject.lat, subject.lon) <= radius_m
        or haversine_m(gap.end_lat, gap.end_lon, subject.lat, subject.lon) <= radius_m
    )


def _high_risk_zone(
    subject: RiskSubject,
    params: RiskParams,
    zone_matches: Callable[[Zone, tuple[str, ...]], bool] | None,
) -> str | None:
    zone = subject.zone
    if (
        zone is not None
        and params.high_risk_zones
        and zone_matches is not None
        and zone_matches(zone, params.high_risk_zones)
    ):
        return zone.name
    for name, lat_min, lon_min, lat_max, lon_max in params.areas():
        if not lat_min <= subject.lat <= lat_max:
            continue
        if lon_min <= lon_max:
            inside = lon_min <= subject.lon <= lon_max
        else:  # the box crosses the antimeridian
            inside = subject.lon >= lon_min or subject.lon <= lon_max
        if inside:
            return name
    return None


def _watchlist_hits(subject: RiskSubject, watchlist: Watchlist) -> list[tuple[str, int, str]]:
    """(list, mmsi, how) for each list each vessel is on: current identity first, then the
    names, call signs, IMOs and MMSIs in its recent history (a renamed ship is still on the
    list under its old name)."""
    out: list[tuple[str, int, str]] = []
    seen: set[tuple[str, int]] = set()
    for index, vessel in enumerate(subject.vessels):
        changes: Sequence[IdentityChange] = (
            subject.changes[index] if index < len(subject.changes) else ()
        )
        names = [vessel.name] + [str(c.old) for c in changes if c.field == "name" and c.old]
        call_signs = [vessel.call_sign] + [
            str(c.old) for c in changes if c.field == "call_sign" and c.old
        ]
        hits = watchlist.match(mmsi=vessel.mmsi, imo=vessel.imo, names=names, call_signs=call_signs)
        for change in changes:
            if change.field == "imo" and isinstance(change.old, int):
                hits.extend(watchlist.match(imo=change.old))
            elif change.field == "mmsi" and isinstance(change.old, int):
                hits.extend(watchlist.match(mmsi=change.old))
        for hit in hits:
            key = (hit.list_name, vessel.mmsi)
            if key not in seen:
                seen.add(key)
                out.append((hit.list_name, vessel.mmsi, f"{hit.matched_by}={hit.value}"))
    return out
