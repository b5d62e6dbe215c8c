"""Shipped scenarios: they load, stay at sea, and agree with the real boundary and port data.

The scenario files carry hand-drawn approximations of the EEZs (written out as
zones.geojson). Where the real Marine Regions file and the real port lists are available
(../shared/data), the planted truth must hold against them too: true transfers inside the
real EEZ they name and far from every real port and anchorage, the high-seas decoy outside
every real EEZ, the anchorage decoy within the suppression radius of a real port.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from detectors.geodesy import haversine_m
from stswatch.simulator import (
    CATEGORY_EXPECT_ALERT,
    ScenarioError,
    World,
    build_track,
    load_scenario,
    plan_world,
    shipped_scenarios,
    with_overrides,
)

PORT_RADIUS_M = 10_000.0


@cache
def world(name: str) -> World:
    scenario = load_scenario(name)
    if name == "large":
        # same geography as east-china-sea; planning a fifth of it is enough here
        scenario = with_overrides(scenario, vessels=150)
    return plan_world(scenario, scenario.seed)


def test_the_required_scenarios_are_shipped() -> None:
    assert {"demo", "east-china-sea", "gibraltar", "large"} <= set(shipped_scenarios())


@pytest.mark.parametrize("name", ["demo", "east-china-sea", "gibraltar", "large"])
def test_scenario_plans_every_category_it_declares(name: str) -> None:
    w = world(name)
    scenario = w.scenario
    assert len(w.events) == len(scenario.situations) > 0
    assert any(e.expect_alert for e in w.events), "every scenario has a true transfer"
    assert any(not e.expect_alert for e in w.events), "every scenario has decoys"
    for e in w.events:
        assert e.expect_alert == CATEGORY_EXPECT_ALERT[e.category]
        assert scenario.start_s <= e.start_s < e.end_s <= scenario.end_s
    mmsis = [p.identity.mmsi for p in w.plans]
    assert len(mmsis) == len(set(mmsis))


def test_demo_is_small_and_holds_a_transfer_of_at_least_two_hours() -> None:
    w = world("demo")
    assert w.scenario.hours <= 4.0
    sts = [e for e in w.events if e.category == "sts"]
    assert sts and all(e.end_s - e.start_s >= 2 * 3600 for e in sts)
    assert {"short_meeting", "passing", "tug_alongside", "anchored_near_port"} <= {
        e.category for e in w.events
    }


def test_east_china_sea_and_gibraltar_plant_every_kind_of_decoy() -> None:
    decoys = {
        "passing",
        "short_meeting",
        "loiter_apart",
        "tug_alongside",
        "pair_trawlers",
        "anchored_near_port",
        "high_seas_sts",
    }
    for name in ("east-china-sea", "gibraltar"):
        categories = {e.category for e in world(name).events}
        assert decoys <= categories, name
        assert "sts_reception_gap" in categories, name


def test_vessels_override_scales_the_background_and_keeps_the_planted_ones() -> None:
    base = load_scenario("east-china-sea")
    bigger = with_overrides(base, vessels=400)
    planted = 2 * len(bigger.situations)
    assert bigger.background_vessels == 400 - planted
    assert bigger.situations == base.situations


def test_a_shorter_span_leaves_out_situations_that_do_not_fit_and_says_so() -> None:
    short = with_overrides(load_scenario("east-china-sea"), hours=6.0)
    assert all(s.end_h + 0.25 <= 6.0 for s in short.situations)
    assert any("sts-korea-jeju" in note for note in short.notes)


# ------------------------------------------------------------------ bad scenario files


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return str(path)


HEAD = """
[scenario]
name = "bad"
start = "2024-05-01T00:00:00Z"
hours = 3.0
coastlines = ["coastline_east_asia.geojson"]
"""


def test_unknown_keys_and_categories_are_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"unknown key.*speed"):
        load_scenario(_write(tmp_path, HEAD + "[reception]\nspeed = 3\n"))
    bad_situation = (
        HEAD
        + """
[[situations]]
id = "x"
category = "rendezvous"
position_latlon = [30.9, 123.4]
start_h = 0.5
duration_h = 1.0
"""
    )
    with pytest.raises(ScenarioError, match="unknown 'rendezvous'"):
        load_scenario(_write(tmp_path, bad_situation))
    with pytest.raises(ScenarioError, match="unknown scenario 'atlantis'"):
        load_scenario("atlantis")


def test_a_lane_over_land_is_refused(tmp_path: Path) -> None:
    # Shanghai to Qingdao straight across Jiangsu
    text = (
        HEAD
        + """
[[lanes]]
name = "through Jiangsu"
waypoints_latlon = [[31.0, 121.0], [36.0, 120.0]]
vessels = 1
ship_types = [70]
flags = [412]
"""
    )
    scenario = load_scenario(_write(tmp_path, text))
    with pytest.raises(ScenarioError, match=r"through Jiangsu.*crosses land"):
        plan_world(scenario, 1)


# ------------------------------------------------------------------ against real data


@cache
def real_eez(shared_data: Path) -> tuple[list[BaseGeometry], list[dict[str, object]]]:
    path = shared_data / "eez" / "marineregions_world_eez_v11_lowres_simplified1pct.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    geoms = [shapely.make_valid(shape(f["geometry"])) for f in data["features"]]
    return geoms, [f["properties"] for f in data["features"]]


@cache
def real_ports(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    lats: list[float] = []
    lons: list[float] = []
    wpi = shared_data / "ports" / "nga_world_port_index_pub150.csv"
    with wpi.open(encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            lats.append(float(row["Latitude"]))
            lons.append(float(row["Longitude"]))
    gfw = shared_data / "ports" / "gfw_named_anchorages_overrides_s2.csv"
    with gfw.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            lats.append(float(row["latitude"]))
            lons.append(float(row["longitude"]))
    return np.array(lats), np.array(lons)


def _nearest_port_m(shared_data: Path, lat: float, lon: float) -> float:
    lats, lons = real_ports(shared_data)
    d = [
        haversine_m(lat, lon, float(a), float(b))
        for a, b in zip(lats, lons, strict=True)
        if abs(a - lat) < 1.0 and abs(b - lon) < 1.2
    ]
    return min(d) if d else float("inf")


def _real_isos(shared_data: Path, lat: float, lon: float) -> set[str]:
    geoms, props = real_eez(shared_data)
    point = Point(lon, lat)
    out: set[str] = set()
    for g, p in zip(geoms, props, strict=True):
        if g.contains(point):
            out |= {str(p[k]) for k in ("ISO_TER1", "ISO_SOV1") if p.get(k)}
    return out


@pytest.mark.data
@pytest.mark.parametrize("name", ["demo", "east-china-sea", "gibraltar"])
def test_planted_events_agree_with_the_real_eez_and_port_files(
    name: str, shared_data: Path
) -> None:
    for e in world(name).events:
        isos = _real_isos(shared_data, e.lat, e.lon)
        nearest_port_m = _nearest_port_m(shared_data, e.lat, e.lon)
        if e.category == "high_seas_sts":
            assert not isos, f"{e.id} lies in a real EEZ: {isos}"
            assert e.eez_iso is None
            continue
        assert e.eez_iso in isos, f"{e.id}: truth says {e.eez_iso}, real file {isos}"
        if e.category == "anchored_near_port":
            assert nearest_port_m < PORT_RADIUS_M, e.id
        else:
            # the only reason a decoy must not alert is the one it was planted for
            assert nearest_port_m > 1.5 * PORT_RADIUS_M, f"{e.id}: port {nearest_port_m:.0f} m away"


@pytest.mark.data
@pytest.mark.parametrize("name", ["demo", "east-china-sea", "gibraltar"])
def test_every_vessel_stays_in_real_sea_areas(name: str, shared_data: Path) -> None:
    """Outside the high-seas case, the sea here is all EEZ: positions outside every real
    EEZ polygon are on land (allowing for the 1 % simplification of the file)."""
    w = world(name)
    geoms, _ = real_eez(shared_data)
    sea = shapely.union_all([g for g in geoms if g.intersects(shapely.box(-20, 15, 140, 45))])
    shapely.prepare(sea)
    high_seas = {m for e in w.events if e.category == "high_seas_sts" for m in e.mmsis}
    for plan in w.plans:
        if plan.identity.mmsi in high_seas:
            continue
        track = build_track(plan)
        lat, lon = track.lat[::60], track.lon[::60]
        outside = ~shapely.contains_xy(sea, lon, lat)
        if outside.any():
            # within a few kilometres of the simplified coast is fine, deeper is land
            far = [
                sea.distance(Point(x, y)) * 111.0
                for x, y in zip(lon[outside], lat[outside], strict=True)
            ]
            assert max(far) < 4.0, f"{plan.role} vessel {plan.identity.mmsi} goes ashore"
