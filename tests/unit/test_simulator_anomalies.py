"""The simulator plants each anomaly case, and `stswatch detect` finds each (and no near miss).

`dark-fleet` is the shipped scenario with one case of each anomaly detection and a near miss
for each; here its planted vessels are checked for what they claim (the truth is about
what the transponders send, so the checks read the plans and the emitted lines), and a
small-background run of it goes through `stswatch detect` and the evaluator.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from config import settings as config
from detectors.records import Position, StaticReport
from stswatch.decoding.inputs import read_inputs
from stswatch.evaluation import collapse_alerts, evaluate_by_type
from stswatch.offline import run_detect
from stswatch.simulator import (
    CATEGORY_EXPECT_ALERT,
    World,
    build_track,
    load_scenario,
    plan_world,
    simulate,
    with_overrides,
)
from stswatch.simulator.geo import haversine_m
from stswatch.simulator.scenario import CATEGORY_ALERT_TYPE
from stswatch.simulator.truth import read_truth
from tests.alert_schema import assert_valid_alerts

NEW_CATEGORIES = {
    "dark_sts",
    "dark_apart",
    "identity_conflict",
    "conflict_brief",
    "position_jump",
    "position_glitch",
    "identity_change",
    "voyage_update",
    "ais_gap",
    "gap_short",
}


@cache
def dark_fleet() -> World:
    scenario = load_scenario("dark-fleet")
    return plan_world(scenario, scenario.seed)


def plans_of(event_id: str) -> list:  # type: ignore[type-arg]
    return [p for p in dark_fleet().plans if p.role == event_id]


def test_dark_fleet_plants_every_anomaly_category_with_its_alert_type() -> None:
    w = dark_fleet()
    assert {e.category for e in w.events} == NEW_CATEGORIES
    for e in w.events:
        assert e.alert_type == CATEGORY_ALERT_TYPE[e.category] != "sts"
        assert e.expect_alert == CATEGORY_EXPECT_ALERT[e.category]
        assert w.scenario.start_s <= e.start_s < e.end_s <= w.scenario.end_s
    # Each detection has a case that must alert and one that must not.
    types = {e.alert_type for e in w.events}
    for alert_type in types:
        expects = {e.expect_alert for e in w.events if e.alert_type == alert_type}
        assert expects == {True, False}, alert_type


def test_a_dark_transfer_is_a_rendezvous_with_one_ship_silent_for_the_truth_interval() -> None:
    event = next(e for e in dark_fleet().events if e.category == "dark_sts")
    first, second = plans_of(event.id)
    assert first.gaps == ()
    assert second.gaps == ((event.start_s, event.end_s),)
    assert event.end_s - event.start_s == pytest.approx(150 * 60)
    # Alongside during the silence: the tracks keep station.
    a, b = build_track(first), build_track(second)
    t = np.arange(event.start_s, event.end_s, 600.0)
    distance = haversine_m(*a.position_at(t), *b.position_at(t))
    assert float(np.max(distance)) < 150.0


@pytest.mark.parametrize(
    ("category", "hours"), [("identity_conflict", 3.0), ("conflict_brief", 0.1)]
)
def test_an_identity_conflict_is_a_second_transmitter_with_the_same_identity(
    category: str, hours: float
) -> None:
    event = next(e for e in dark_fleet().events if e.category == category)
    ship, clone = plans_of(event.id)
    assert ship.identity == clone.identity and event.mmsis == (ship.identity.mmsi,)
    clone_track = build_track(clone)
    assert clone_track.start_s == event.start_s and clone_track.end_s == event.end_s
    assert event.end_s - event.start_s == pytest.approx(hours * 3600)
    lat, lon = build_track(ship).position_at(event.start_s)
    assert float(haversine_m(lat, lon, clone_track.lat[0], clone_track.lon[0])) == (
        pytest.approx(45_000, rel=0.01)
    )


@pytest.mark.parametrize(
    ("category", "displaced_s"), [("position_jump", None), ("position_glitch", 180)]
)
def test_position_jumps_and_glitches_displace_the_reports_by_the_separation(
    category: str, displaced_s: float | None
) -> None:
    event = next(e for e in dark_fleet().events if e.category == category)
    (plan,) = plans_of(event.id)
    track = build_track(plan)
    step_m = haversine_m(track.lat[:-1], track.lon[:-1], track.lat[1:], track.lon[1:])
    leaps = np.nonzero(step_m > 10_000)[0]
    assert track.time_s[leaps[0] + 1] == pytest.approx(event.start_s, abs=10)
    assert step_m[leaps[0]] == pytest.approx(40_000, rel=0.05)
    if displaced_s is None:
        assert len(leaps) == 1  # and it carries on from there
    else:
        assert len(leaps) == 2
        assert track.time_s[leaps[1] + 1] - track.time_s[leaps[0] + 1] == pytest.approx(
            displaced_s, abs=10
        )


def test_identity_changes_split_the_voyage_between_two_identities() -> None:
    changes = [e for e in dark_fleet().events if e.alert_type == "identity_change"]
    kinds = set()
    for event in changes:
        before, after = plans_of(event.id)
        old, new = before.identity, after.identity
        assert build_track(before).end_s < event.start_s <= build_track(after).start_s
        assert old.imo == new.imo and old.imo != 0
        if event.category == "voyage_update":
            assert (old.mmsi, old.name) == (new.mmsi, new.name)
            assert old.destination != new.destination
            kinds.add("voyage")
        elif old.mmsi != new.mmsi:
            assert old.mmsi // 1_000_000 == 636 and new.mmsi // 1_000_000 == 620
            assert old.name != new.name
            assert event.mmsis == tuple(sorted((old.mmsi, new.mmsi)))
            kinds.add("reflag")
        else:
            assert old.name != new.name
            kinds.add("rename")
    assert kinds == {"voyage", "reflag", "rename"}


def test_gaps_silence_the_ship_for_the_truth_interval() -> None:
    for category, hours in (("ais_gap", 8.0), ("gap_short", 4.0)):
        event = next(e for e in dark_fleet().events if e.category == category)
        (plan,) = plans_of(event.id)
        assert plan.gaps == ((event.start_s, event.end_s),)
        assert event.end_s - event.start_s == hours * 3600


@pytest.fixture(scope="module")
def small_dark_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dark-fleet with 40 vessels at sea (20 of them planted)."""
    out = tmp_path_factory.mktemp("dark-fleet")
    simulate(with_overrides(load_scenario("dark-fleet"), vessels=40), out, jobs=1)
    return out


def test_the_emitted_lines_carry_the_planted_identities_and_silences(
    small_dark_fleet: Path,
) -> None:
    truth = {e.id: e for e in read_truth(small_dark_fleet / "truth.json")}
    records = [
        r
        for r in read_inputs([str(small_dark_fleet / "traffic.nmea")])
        if isinstance(r, Position | StaticReport)
    ]
    gap = truth["silent-8h"]
    (mmsi,) = gap.mmsis
    heard = [r.time_s for r in records if r.mmsi == mmsi]
    assert not [t for t in heard if gap.start_s <= t < gap.end_s]
    assert min(heard) < gap.start_s and max(heard) > gap.end_s
    rename = truth["renamed"]
    names = {
        (r.time_s >= rename.start_s, r.name)
        for r in records
        if isinstance(r, StaticReport) and r.mmsi == rename.mmsis[0] and r.name
    }
    assert len({name for after, name in names if after}) == 1
    assert {name for after, name in names if after} != {name for after, name in names if not after}


def test_stswatch_detect_finds_every_case_and_no_near_miss(small_dark_fleet: Path) -> None:
    settings = config.apply(
        config.load(),
        {
            "reference": {
                "eez_path": str(small_dark_fleet / "zones.geojson"),
                "ports_path": str(small_dark_fleet / "ports.csv"),
            }
        },
    )
    out = io.StringIO()
    run_detect([str(small_dark_fleet / "traffic.nmea")], settings, out)
    lines = out.getvalue().splitlines()
    assert_valid_alerts([json.loads(line) for line in lines])
    encounters, _, _ = collapse_alerts(lines, alert_types=set(CATEGORY_ALERT_TYPE.values()))
    results = evaluate_by_type(encounters, read_truth(small_dark_fleet / "truth.json"))
    for alert_type in ("dark_sts", "identity_conflict", "position_jump", "identity_change"):
        result = results[alert_type]
        assert result.recall == 1.0, (alert_type, result.missed_events)
        assert result.decoy_alerts == (), alert_type
        assert result.unmatched_alerts == (), alert_type
    assert results["ais_gap"].recall == 1.0
    assert results["ais_gap"].decoy_alerts == ()
