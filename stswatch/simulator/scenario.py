"""Scenario files: the readable TOML description of an area, its traffic and its planted cases.

A scenario names real places: ports (with their anchorages), shipping lanes as waypoints
over water, fishing grounds, the exclusive economic zones of the area (approximate polygons,
written out as `zones.geojson` so that the pipeline can run without external data), and the
planted situations whose truth the evaluator checks. Coordinates are always written
`[lat, lon]` in decimal degrees, and keys carry their units (`_h`, `_km`, `_m`, `_kn`).

Shipped scenarios live in `config/scenarios/NAME.toml`; `load_scenario` accepts a name or
a path. A scenario may start from another with `extends = "NAME"`: its tables replace the
base's tables of the same name, arrays of tables (`[[lanes]]`, ...) replace them wholesale.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from detectors.errors import StswatchError
from detectors.timefmt import parse_iso_utc


class ScenarioError(StswatchError):
    """A scenario file is missing, not valid TOML, or describes something impossible."""


# Each planted category and whether the detection it is about should alert on it.
CATEGORY_EXPECT_ALERT: dict[str, bool] = {
    "sts": True,
    "sts_reception_gap": True,
    "passing": False,
    "short_meeting": False,
    "loiter_apart": False,
    "tug_alongside": False,
    "pair_trawlers": False,
    "anchored_near_port": False,
    "high_seas_sts": False,
    # one ship of a rendezvous silent for `gap_minutes` alongside / 2.5 km away
    "dark_sts": True,
    "dark_apart": False,
    # the ship's MMSI also broadcast `separation_m` abeam of it, for the duration (hours /
    # a few minutes)
    "identity_conflict": True,
    "conflict_brief": False,
    # the ship's reports displaced `separation_m` abeam from start_h on / for the duration
    "position_jump": True,
    "position_glitch": False,
    # the ship's static reports change at start_h: a new name (and a new MMSI and flag when
    # the two flags differ) / only the voyage data (destination)
    "identity_change": True,
    "voyage_update": False,
    # the ship silent for the duration (6 h or more / less)
    "ais_gap": True,
    "gap_short": False,
}

# The alert type each category is about (what the evaluator scores it against).
CATEGORY_ALERT_TYPE: dict[str, str] = {
    **{category: "sts" for category in CATEGORY_EXPECT_ALERT},
    "dark_sts": "dark_sts",
    "dark_apart": "dark_sts",
    "identity_conflict": "identity_conflict",
    "conflict_brief": "identity_conflict",
    "position_jump": "position_jump",
    "position_glitch": "position_jump",
    "identity_change": "identity_change",
    "voyage_update": "identity_change",
    "ais_gap": "ais_gap",
    "gap_short": "ais_gap",
}


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    lat: float
    lon: float
    country: str
    kind: str = "port"  # "port" or "anchorage"


@dataclass(frozen=True, slots=True)
class Zone:
    """An exclusive economic zone, approximately, with Marine Regions' attribute names."""

    geoname: str
    sovereign: str
    iso_sov: str
    territory: str
    iso_ter: str
    mrgid: int
    pol_type: str
    polygon_latlon: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    waypoints_latlon: tuple[tuple[float, float], ...]
    vessels: int
    speed_kn: tuple[float, float]
    ship_types: tuple[int, ...]
    flags: tuple[int, ...]
    destinations: tuple[str, str]
    turn_radius_m: float = 2000.0
    # one-way lanes (traffic separation schemes) are sailed first waypoint to last only
    one_way: bool = False


@dataclass(frozen=True, slots=True)
class FishingGround:
    name: str
    center_latlon: tuple[float, float]
    radius_km: float
    vessels: int
    flags: tuple[int, ...]
    class_b_share: float = 0.5
    speed_kn: tuple[float, float] = (3.0, 4.5)


@dataclass(frozen=True, slots=True)
class Anchorage:
    name: str
    center_latlon: tuple[float, float]
    radius_km: float
    vessels: int
    ship_types: tuple[int, ...]
    flags: tuple[int, ...]
    arriving_share: float = 0.0
    approach_bearing_deg: float = 90.0
    destination: str = ""


@dataclass(frozen=True, slots=True)
class Situation:
    """One planted case: its category, place, timing and the knobs of its builder."""

    id: str
    category: str
    position_latlon: tuple[float, float]
    start_h: float
    duration_h: float
    heading_deg: float = 0.0
    separation_m: float = 60.0
    ship_types: tuple[int, int] = (80, 80)
    flags: tuple[int, int] = (636, 538)
    speed_kn: float = 12.0
    gap_minutes: float = 0.0
    gap_vessels: str = "both"
    expect_alert: bool = False
    description: str = ""

    @property
    def end_h(self) -> float:
        return self.start_h + self.duration_h


@dataclass(frozen=True, slots=True)
class Reception:
    """How the receiving network hears the traffic."""

    stations: tuple[str, ...] = ("RX01", "RX02")
    message_loss: float = 0.03
    duplicate_share: float = 0.3
    late_share: float = 0.004
    late_max_s: float = 240.0
    backlogs_per_day: float = 4.0
    backlog_max_s: float = 180.0
    corrupt_share: float = 0.003
    gap_vessel_share: float = 0.1
    gap_minutes: tuple[float, float] = (10.0, 40.0)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    description: str
    start_s: float
    hours: float
    seed: int
    coastlines: tuple[str, ...]
    zones: tuple[Zone, ...]
    ports: tuple[Port, ...]
    lanes: tuple[Lane, ...] = ()
    fishing_grounds: tuple[FishingGround, ...] = ()
    anchorages: tuple[Anchorage, ...] = ()
    situations: tuple[Situation, ...] = ()
    reception: Reception = field(default_factory=Reception)
    source_dir: Path | None = None
    # what loading or overriding left out, said once to the user
    notes: tuple[str, ...] = ()

    @property
    def end_s(self) -> float:
        return self.start_s + self.hours * 3600.0

    @property
    def background_vessels(self) -> int:
        return (
            sum(lane.vessels for lane in self.lanes)
            + sum(g.vessels for g in self.fishing_grounds)
            + sum(a.vessels for a in self.anchorages)
        )


# ---------------------------------------------------------------- reading TOML


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _get(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ScenarioError(f"{where}: missing key {key!r}")
    return table[key]


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ScenarioError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{where}: expected an integer, got {value!r}")
    return int(value)


def _latlon(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ScenarioError(f"{where}: expected [lat, lon], got {value!r}")
    lat, lon = _float(value[0], where), _float(value[1], where)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ScenarioError(f"{where}: [lat, lon] out of range: {value!r}")
    return lat, lon


def _latlons(value: Any, where: str, minimum: int) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or len(value) < minimum:
        raise ScenarioError(f"{where}: expected at least {minimum} [lat, lon] points")
    return tuple(_latlon(v, f"{where}[{i}]") for i, v in enumerate(value))


def _range(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(f"{where}: expected [low, high]")
    low, high = _float(value[0], where), _float(value[1], where)
    if low > high:
        raise ScenarioError(f"{where}: low {low} is above high {high}")
    return low, high


def _ints(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"{where}: expected a non-empty list of integers")
    return tuple(_int(v, where) for v in value)


def _share(value: Any, where: str) -> float:
    share = _float(value, where)
    if not 0.0 <= share <= 1.0:
        raise ScenarioError(f"{where}: expected a share between 0 and 1, got {share}")
    return share


def _count(value: Any, where: str) -> int:
    count = _int(value, where)
    if count < 0:
        raise ScenarioError(f"{where}: expected zero or more, got {count}")
    return count


def _zone(t: dict[str, Any], where: str) -> Zone:
    keys = {
        "geoname",
        "sovereign",
        "iso_sov",
        "territory",
        "iso_ter",
        "mrgid",
        "pol_type",
        "polygon_latlon",
    }
    _check_keys(t, keys, where)
    return Zone(
        geoname=str(_get(t, "geoname", where)),
        sovereign=str(_get(t, "sovereign", where)),
        iso_sov=str(_get(t, "iso_sov", where)),
        territory=str(t.get("territory", t.get("sovereign", ""))),
        iso_ter=str(t.get("iso_ter", t.get("iso_sov", ""))),
        mrgid=_int(_get(t, "mrgid", where), f"{where}.mrgid"),
        pol_type=str(t.get("pol_type", "200NM")),
        polygon_latlon=_latlons(_get(t, "polygon_latlon", where), f"{where}.polygon_latlon", 3),
    )


def _port(t: dict[str, Any], where: str) -> Port:
    _check_keys(t, {"name", "lat", "lon", "country", "kind"}, where)
    kind = str(t.get("kind", "port"))
    if kind not in ("port", "anchorage"):
        raise ScenarioError(f"{where}.kind: expected 'port' or 'anchorage', got {kind!r}")
    lat, lon = _latlon([_get(t, "lat", where), _get(t, "lon", where)], where)
    return Port(str(_get(t, "name", where)), lat, lon, str(_get(t, "country", where)), kind)


def _lane(t: dict[str, Any], where: str) -> Lane:
    keys = {
        "name",
        "waypoints_latlon",
        "vessels",
        "speed_kn",
        "ship_types",
        "flags",
        "destinations",
        "turn_radius_m",
        "one_way",
    }
    _check_keys(t, keys, where)
    one_way = t.get("one_way", False)
    if not isinstance(one_way, bool):
        raise ScenarioError(f"{where}.one_way: expected true or false")
    dest = t.get("destinations", ["", ""])
    if not isinstance(dest, list) or len(dest) != 2:
        raise ScenarioError(f"{where}.destinations: expected [towards first, towards last]")
    return Lane(
        name=str(_get(t, "name", where)),
        waypoints_latlon=_latlons(_get(t, "waypoints_latlon", where), f"{where}.waypoints", 2),
        vessels=_count(_get(t, "vessels", where), f"{where}.vessels"),
        speed_kn=_range(t.get("speed_kn", [10.0, 14.0]), f"{where}.speed_kn"),
        ship_types=_ints(_get(t, "ship_types", where), f"{where}.ship_types"),
        flags=_ints(_get(t, "flags", where), f"{where}.flags"),
        destinations=(str(dest[0]), str(dest[1])),
        turn_radius_m=_float(t.get("turn_radius_m", 2000.0), f"{where}.turn_radius_m"),
        one_way=one_way,
    )


def _fishing(t: dict[str, Any], where: str) -> FishingGround:
    keys = {"name", "center_latlon", "radius_km", "vessels", "flags", "class_b_share", "speed_kn"}
    _check_keys(t, keys, where)
    return FishingGround(
        name=str(_get(t, "name", where)),
        center_latlon=_latlon(_get(t, "center_latlon", where), f"{where}.center_latlon"),
        radius_km=_float(_get(t, "radius_km", where), f"{where}.radius_km"),
        vessels=_count(_get(t, "vessels", where), f"{where}.vessels"),
        flags=_ints(_get(t, "flags", where), f"{where}.flags"),
        class_b_share=_share(t.get("class_b_share", 0.5), f"{where}.class_b_share"),
        speed_kn=_range(t.get("speed_kn", [3.0, 4.5]), f"{where}.speed_kn"),
    )


def _anchorage(t: dict[str, Any], where: str) -> Anchorage:
    keys = {
        "name",
        "center_latlon",
        "radius_km",
        "vessels",
        "ship_types",
        "flags",
        "arriving_share",
        "approach_bearing_deg",
        "destination",
    }
    _check_keys(t, keys, where)
    return Anchorage(
        name=str(_get(t, "name", where)),
        center_latlon=_latlon(_get(t, "center_latlon", where), f"{where}.center_latlon"),
        radius_km=_float(_get(t, "radius_km", where), f"{where}.radius_km"),
        vessels=_count(_get(t, "vessels", where), f"{where}.vessels"),
        ship_types=_ints(_get(t, "ship_types", where), f"{where}.ship_types"),
        flags=_ints(_get(t, "flags", where), f"{where}.flags"),
        arriving_share=_share(t.get("arriving_share", 0.0), f"{where}.arriving_share"),
        approach_bearing_deg=_float(t.get("approach_bearing_deg", 90.0), where),
        destination=str(t.get("destination", "")),
    )


def _situation(t: dict[str, Any], where: str) -> Situation:
    keys = {
        "id",
        "category",
        "position_latlon",
        "start_h",
        "duration_h",
        "heading_deg",
        "separation_m",
        "ship_types",
        "flags",
        "speed_kn",
        "gap_minutes",
        "gap_vessels",
        "expect_alert",
        "description",
    }
    _check_keys(t, keys, where)
    category = str(_get(t, "category", where))
    if category not in CATEGORY_EXPECT_ALERT:
        raise ScenarioError(
            f"{where}.category: unknown {category!r} (known: {', '.join(CATEGORY_EXPECT_ALERT)})"
        )
    ship_types = _ints(t.get("ship_types", [80, 80]), f"{where}.ship_types")
    flags = _ints(t.get("flags", [636, 538]), f"{where}.flags")
    if len(ship_types) != 2 or len(flags) != 2:
        raise ScenarioError(f"{where}: ship_types and flags need one entry per vessel (two)")
    gap_vessels = str(t.get("gap_vessels", "both"))
    if gap_vessels not in ("both", "first", "second"):
        raise ScenarioError(f"{where}.gap_vessels: expected both, first or second")
    expect = t.get("expect_alert", CATEGORY_EXPECT_ALERT[category])
    if not isinstance(expect, bool):
        raise ScenarioError(f"{where}.expect_alert: expected true or false")
    duration = _float(_get(t, "duration_h", where), f"{where}.duration_h")
    start = _float(_get(t, "start_h", where), f"{where}.start_h")
    if duration <= 0 or start < 0:
        raise ScenarioError(f"{where}: start_h must be >= 0 and duration_h > 0")
    return Situation(
        id=str(_get(t, "id", where)),
        category=category,
        position_latlon=_latlon(_get(t, "position_latlon", where), f"{where}.position_latlon"),
        start_h=start,
        duration_h=duration,
        heading_deg=_float(t.get("heading_deg", 0.0), f"{where}.heading_deg") % 360.0,
        separation_m=_float(t.get("separation_m", 60.0), f"{where}.separation_m"),
        ship_types=(ship_types[0], ship_types[1]),
        flags=(flags[0], flags[1]),
        speed_kn=_float(t.get("speed_kn", 12.0), f"{where}.speed_kn"),
        gap_minutes=_float(t.get("gap_minutes", 0.0), f"{where}.gap_minutes"),
        gap_vessels=gap_vessels,
        expect_alert=expect,
        description=str(t.get("description", "")),
    )


def _reception(t: dict[str, Any], where: str) -> Reception:
    keys = {f.name for f in Reception.__dataclass_fields__.values()}
    _check_keys(t, keys, where)
    base = Reception()
    stations = t.get("stations", list(base.stations))
    if not isinstance(stations, list) or not stations:
        raise ScenarioError(f"{where}.stations: expected a non-empty list of names")
    for s in stations:
        if not isinstance(s, str) or not s or any(c in s for c in ",*\\!"):
            raise ScenarioError(f"{where}.stations: {s!r} is not a valid station name")
    return Reception(
        stations=tuple(stations),
        message_loss=_share(t.get("message_loss", base.message_loss), f"{where}.message_loss"),
        duplicate_share=_share(t.get("duplicate_share", base.duplicate_share), where),
        late_share=_share(t.get("late_share", base.late_share), f"{where}.late_share"),
        late_max_s=_float(t.get("late_max_s", base.late_max_s), f"{where}.late_max_s"),
        backlogs_per_day=_float(t.get("backlogs_per_day", base.backlogs_per_day), where),
        backlog_max_s=_float(t.get("backlog_max_s", base.backlog_max_s), where),
        corrupt_share=_share(t.get("corrupt_share", base.corrupt_share), where),
        gap_vessel_share=_share(t.get("gap_vessel_share", base.gap_vessel_share), where),
        gap_minutes=_range(t.get("gap_minutes", list(base.gap_minutes)), f"{where}.gap_minutes"),
    )


_TOP_KEYS = {
    "extends",
    "scenario",
    "reception",
    "zones",
    "ports",
    "lanes",
    "fishing_grounds",
    "anchorages",
    "situations",
}


def _read_toml_text(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"scenario {where} is not valid TOML: {err}") from None


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped in `config/scenarios/`."""
    folder = resources.files("config").joinpath("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _raw(name_or_path: str, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], Path | None]:
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise ScenarioError(f"scenario file not found: {name_or_path}")
        data = _read_toml_text(path.read_text(encoding="utf-8"), str(path))
        base_dir: Path | None = path.resolve().parent
    else:
        packaged = resources.files("config").joinpath("scenarios", f"{name_or_path}.toml")
        if not packaged.is_file():
            known = ", ".join(shipped_scenarios())
            raise ScenarioError(f"unknown scenario {name_or_path!r} (shipped: {known})")
        data = _read_toml_text(packaged.read_text(encoding="utf-8"), name_or_path)
        base_dir = None
    _check_keys(data, _TOP_KEYS, f"scenario {name_or_path}")
    parent = data.get("extends")
    if parent:
        if parent in seen or parent == name_or_path:
            raise ScenarioError(f"scenario {name_or_path}: extends itself via {parent}")
        base, base_dir_parent = _raw(str(parent), (*seen, name_or_path))
        merged = dict(base)
        for key, value in data.items():
            if key == "extends":
                continue
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return merged, base_dir or base_dir_parent
    return data, base_dir


def load_scenario(name_or_path: str) -> Scenario:
    """A shipped scenario by name (`demo`, `east-china-sea`...) or a TOML file by path."""
    data, base_dir = _raw(name_or_path)
    head = data.get("scenario")
    if not isinstance(head, dict):
        raise ScenarioError(f"scenario {name_or_path}: missing [scenario] table")
    _check_keys(
        head,
        {
            "name",
            "title",
            "description",
            "start",
            "hours",
            "seed",
            "coastlines",
            "background_scale",
        },
        "[scenario]",
    )
    try:
        start_s = parse_iso_utc(str(_get(head, "start", "[scenario]")))
    except ValueError:
        raise ScenarioError(f"[scenario].start: not an ISO 8601 time: {head['start']!r}") from None
    # Tag blocks carry 10-digit epoch seconds: keep scenarios between 2001 and 2286.
    if not 1_000_000_000 <= start_s < 9_000_000_000:
        raise ScenarioError("[scenario].start must lie between 2001 and 2255")
    hours = _float(_get(head, "hours", "[scenario]"), "[scenario].hours")
    if hours <= 0:
        raise ScenarioError("[scenario].hours must be positive")
    coastlines = head.get("coastlines", [])
    if not isinstance(coastlines, list):
        raise ScenarioError("[scenario].coastlines: expected a list of file names")

    def tables(key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ScenarioError(f"[[{key}]] must be an array of tables")
        return value

    scenario = Scenario(
        name=str(_get(head, "name", "[scenario]")),
        title=str(head.get("title", "")),
        description=str(head.get("description", "")).strip(),
        start_s=start_s,
        hours=hours,
        seed=_int(head.get("seed", 1), "[scenario].seed"),
        coastlines=tuple(str(c) for c in coastlines),
        zones=tuple(_zone(t, f"[[zones]] #{i + 1}") for i, t in enumerate(tables("zones"))),
        ports=tuple(_port(t, f"[[ports]] #{i + 1}") for i, t in enumerate(tables("ports"))),
        lanes=tuple(_lane(t, f"[[lanes]] #{i + 1}") for i, t in enumerate(tables("lanes"))),
        fishing_grounds=tuple(
            _fishing(t, f"[[fishing_grounds]] #{i + 1}")
            for i, t in enumerate(tables("fishing_grounds"))
        ),
        anchorages=tuple(
            _anchorage(t, f"[[anchorages]] #{i + 1}") for i, t in enumerate(tables("anchorages"))
        ),
        situations=tuple(
            _situation(t, f"[[situations]] #{i + 1}") for i, t in enumerate(tables("situations"))
        ),
        reception=_reception(data.get("reception", {}), "[reception]"),
        source_dir=base_dir,
    )
    ids = [s.id for s in scenario.situations]
    if len(set(ids)) != len(ids):
        raise ScenarioError("[[situations]]: ids must be unique")
    scale = _float(head.get("background_scale", 1.0), "[scenario].background_scale")
    if scale <= 0:
        raise ScenarioError("[scenario].background_scale must be positive")
    if scale != 1.0:
        scenario = _scaled_background(scenario, scale)
    return _fit_situations(scenario)


def _fit_situations(scenario: Scenario) -> Scenario:
    """Leave out situations that do not end a quarter of an hour before the span does."""
    kept = []
    notes = list(scenario.notes)
    for s in scenario.situations:
        if s.end_h + 0.25 > scenario.hours:
            notes.append(f"situation {s.id} ends after {scenario.hours:g} h and is left out")
        else:
            kept.append(s)
    return replace(scenario, situations=tuple(kept), notes=tuple(notes))


def _scaled_background(scenario: Scenario, scale: float) -> Scenario:
    """Every background count times `scale`; anchorages grow in area to keep ships apart."""
    return replace(
        scenario,
        lanes=tuple(replace(x, vessels=round(x.vessels * scale)) for x in scenario.lanes),
        fishing_grounds=tuple(
            replace(x, vessels=round(x.vessels * scale)) for x in scenario.fishing_grounds
        ),
        anchorages=tuple(
            replace(x, vessels=round(x.vessels * scale), radius_km=x.radius_km * math.sqrt(scale))
            for x in scenario.anchorages
        ),
    )


def _scaled_counts(counts: list[int], total: int) -> list[int]:
    """Counts scaled to sum to `total`, by largest remainder (deterministic)."""
    current = sum(counts)
    if current == 0:
        return counts
    exact = [c * total / current for c in counts]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def with_overrides(
    scenario: Scenario, hours: float | None = None, vessels: int | None = None
) -> Scenario:
    """The scenario with another duration or background vessel count.

    `vessels` is the number of vessels at sea at any one time: planted situations keep their
    vessels, the background (lanes, fishing grounds, anchorages) is scaled to fill the rest.
    Situations that no longer fit in a shorter span are left out, and `notes` says so.
    """
    if hours is not None:
        if hours <= 0:
            raise ScenarioError("--hours must be positive")
        scenario = _fit_situations(replace(scenario, hours=float(hours)))
    if vessels is not None:
        if vessels < 0:
            raise ScenarioError("--vessels must be zero or more")
        planted = 2 * len(scenario.situations)
        target = max(0, vessels - planted)
        groups = [lane.vessels for lane in scenario.lanes]
        groups += [g.vessels for g in scenario.fishing_grounds]
        groups += [a.vessels for a in scenario.anchorages]
        if sum(groups) == 0 and target > 0:
            raise ScenarioError("this scenario has no background traffic to scale")
        scaled = _scaled_counts(groups, target)
        n_lanes = len(scenario.lanes)
        n_fish = len(scenario.fishing_grounds)
        lanes = tuple(
            replace(lane, vessels=c)
            for lane, c in zip(scenario.lanes, scaled[:n_lanes], strict=True)
        )
        fishing = tuple(
            replace(g, vessels=c)
            for g, c in zip(
                scenario.fishing_grounds, scaled[n_lanes : n_lanes + n_fish], strict=True
            )
        )
        anchorages = tuple(
            replace(
                a, vessels=c, radius_km=a.radius_km * math.sqrt(max(1.0, c / max(1, a.vessels)))
            )
            for a, c in zip(scenario.anchorages, scaled[n_lanes + n_fish :], strict=True)
        )
        scenario = replace(scenario, lanes=lanes, fishing_grounds=fishing, anchorages=anchorages)
    return scenario
