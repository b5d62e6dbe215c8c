"""Dark transfers, identity conflicts, jumps, identity changes and gaps, from scenario builders.

Each detection has the case that must fire and the near misses that must not. Every alert
the detector emits in these tests is validated against the alert schema.
"""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from detectors.alerts import alert_to_json
from detectors.anomalies.params import AnomalyParams
from detectors.engine import AlertEvent, EncounterDetector
from detectors.geodesy import haversine_m
from detectors.params import DetectionParams
from detectors.records import Position, StaticReport
from detectors.snapshot import detector_to_state, restore_detector
from tests.alert_schema import assert_valid_alerts
from tests.builders import Voyage, at, merged

START = "2024-05-01T00:00:00Z"
TANKER, FEEDER, CARGO, OTHER = 636012345, 413000001, 538000777, 412999888
IMO = 9074729  # a valid IMO number (check digit 9)


def run(
    records: list[Position | StaticReport],
    params: DetectionParams | None = None,
    **kwargs: object,
) -> tuple[list[AlertEvent], EncounterDetector]:
    detector = EncounterDetector(params or DetectionParams(), **kwargs)  # type: ignore[arg-type]
    events = detector.process_all(records)
    events += detector.finish()
    assert_valid_alerts([alert_to_json(e) for e in events])
    return events, detector


def of_type(events: list[AlertEvent], alert_type: str) -> list[AlertEvent]:
    return [e for e in events if e.alert_type == alert_type]


def kinds(events: list[AlertEvent]) -> list[str]:
    return [e.event.kind for e in events]


def documents(events: list[AlertEvent]) -> list[dict]:  # type: ignore[type-arg]
    return [alert_to_json(e) for e in events]


# --- dark_sts ---------------------------------------------------------------------------------


def drifting_tanker(hours: float = 8.0) -> Voyage:
    return Voyage(TANKER, START, 30.5, 123.0, ship_type=80, name="OCEAN TANKER").drift(
        hours=hours, speed_kn=0.3
    )


def test_a_feeder_silent_for_two_hours_alongside_a_drifting_tanker_is_a_dark_transfer() -> None:
    tanker = drifting_tanker()
    feeder = Voyage(FEEDER, START, *tanker.station(at(START), 80, 90), ship_type=80)
    feeder.follow(tanker, hours=1.5)
    feeder.follow(tanker, hours=2, report=False)
    feeder.follow(tanker, hours=1.5).sail(0, 11, hours=1)
    events, _ = run(merged(tanker, feeder))

    dark = of_type(events, "dark_sts")
    assert kinds(dark) == ["opened", "closed"]
    assert len({e.event.encounter.alert_id for e in dark}) == 1
    opened, closed = (alert_to_json(e) for e in dark)
    # Opened once the silence reached an hour with the tanker still there, not before.
    silent_from = at("2024-05-01T01:29:00Z")
    assert opened["start"] == "2024-05-01T01:29:00Z"
    assert silent_from + 3600 <= dark[0].event.time_s <= silent_from + 3600 + 600
    assert opened["end"] is None
    # Closed when the feeder is heard again, with the silent interval.
    assert closed["dark"]["silent_mmsi"] == FEEDER
    assert closed["dark"]["partner_mmsi"] == TANKER
    assert closed["dark"]["silent_from"] == "2024-05-01T01:29:00Z"
    assert closed["dark"]["silent_until"] == "2024-05-01T03:30:00Z"
    assert closed["end"] == "2024-05-01T03:30:00Z"
    assert closed["dark"]["reappeared_near_partner"] is True
    assert closed["dark"]["partner_stayed"] is True
    assert closed["dark"]["silent_s"] == pytest.approx(2 * 3600 + 60)
    assert closed["min_distance_m"] <= 200
    assert sorted(v["mmsi"] for v in closed["vessels"]) == [FEEDER, TANKER]


def test_a_feeder_that_never_comes_back_while_the_tanker_waits_is_a_dark_transfer() -> None:
    tanker = drifting_tanker(hours=6)
    feeder = Voyage(FEEDER, START, *tanker.station(at(START), 80, 90), ship_type=80)
    feeder.follow(tanker, hours=2.5)
    events, _ = run(merged(tanker, feeder))
    dark = of_type(events, "dark_sts")
    assert kinds(dark) == ["opened"]
    assert alert_to_json(dark[0])["dark"]["silent_until"] is None


def test_a_forty_minute_silence_alongside_is_not_a_dark_transfer() -> None:
    tanker = drifting_tanker()
    feeder = Voyage(FEEDER, START, *tanker.station(at(START), 80, 90), ship_type=80)
    feeder.follow(tanker, hours=1.5)
    feeder.follow(tanker, minutes=40, report=False)
    feeder.follow(tanker, hours=2).sail(0, 11, hours=1)
    events, _ = run(merged(tanker, feeder))
    assert of_type(events, "dark_sts") == []
    assert kinds(of_type(events, "sts"))[0] == "opened"


def test_a_silence_after_which_the_partner_sailed_away_is_not_a_dark_transfer() -> None:
    tanker = Voyage(TANKER, START, 30.5, 123.0, ship_type=80).drift(hours=1.5, speed_kn=0.3)
    tanker.sail(90, 12, hours=4)
    feeder = Voyage(FEEDER, START, *tanker.station(at(START), 80, 90), ship_type=80)
    feeder.follow(tanker, hours=1.5)
    feeder.drift(hours=2, speed_kn=0.3, report=False).drift(hours=2, speed_kn=0.3)
    events, _ = run(merged(tanker, feeder))
    assert of_type(events, "dark_sts") == []


def test_a_ship_whose_ais_drops_while_passing_another_at_speed_is_not_a_dark_transfer() -> None:
    east = Voyage(TANKER, START, 30.5, 122.8, ship_type=80).sail(90, 12, hours=4)
    west = Voyage(FEEDER, START, 30.5 + 0.0027, 123.2, ship_type=70)
    west.sail(270, 12, minutes=60).sail(270, 12, hours=2, report=False).sail(270, 12, hours=1)
    events, _ = run(merged(east, west))
    assert of_type(events, "dark_sts") == []


# --- identity_conflict ----------------------------------------------------------------------


def test_an_mmsi_broadcast_from_two_places_raises_one_conflict_that_closes() -> None:
    ship = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 12, hours=7)
    # A second transmitter with the same MMSI, 90 km away, for two hours.
    clone = Voyage(CARGO, at(START) + 1830, 31.2, 123.5, ship_type=70).drift(hours=2)
    events, _ = run(merged(ship, clone))

    conflict = of_type(events, "identity_conflict")
    assert kinds(conflict)[0] == "opened"
    assert kinds(conflict)[-1] == "closed"
    assert set(kinds(conflict)[1:-1]) <= {"updated"}
    assert len({e.event.encounter.alert_id for e in conflict}) == 1
    opened = alert_to_json(conflict[0])
    assert opened["vessels"][0]["mmsi"] == CARGO and len(opened["vessels"]) == 1
    places = opened["conflict"]["places"]
    assert haversine_m(places[1]["lat"], places[1]["lon"], 31.2, 123.5) < 1000
    assert opened["conflict"]["distance_km"] > 50
    assert (
        opened["conflict"]["implied_speed_kn"] is None
        or opened["conflict"]["implied_speed_kn"] > 50
    )
    # Decided within half an hour of the second transmitter starting.
    assert conflict[0].event.time_s - (at(START) + 1830) <= 1800
    # Closed two hours (conflict_close_after_s) after the second place went quiet.
    closed = conflict[-1].event
    end_s = closed.encounter.end_s
    assert end_s == pytest.approx(at(START) + 1830 + 2 * 3600, abs=300)
    assert end_s is not None and closed.time_s - end_s >= 2 * 3600
    # Neither a jump nor a gap.
    assert of_type(events, "position_jump") == []
    assert of_type(events, "ais_gap") == []


def sts_with_clone(params: DetectionParams, clone: bool) -> list[AlertEvent]:
    tanker = drifting_tanker(hours=6)
    begin_s = at(START) + 15
    feeder = Voyage(CARGO, begin_s, *tanker.station(begin_s, 80, 90), ship_type=70)
    feeder.follow(tanker, hours=4.5).sail(0, 11, hours=1)
    voyages = [tanker, feeder]
    if clone:
        # The feeder's MMSI is also broadcast from 60 km away, every minute, 30 s after
        # the feeder: the last position of each 5-minute interval is the clone's.
        voyages.append(Voyage(CARGO, begin_s + 1830, 31.0, 123.2, ship_type=70).drift(hours=3))
    events, _ = run(merged(*voyages), params)
    return of_type(events, "sts")


def test_a_teleporting_mmsi_neither_breaks_nor_changes_an_encounter() -> None:
    params = DetectionParams()
    plain = sts_with_clone(params, clone=False)
    cloned = sts_with_clone(params, clone=True)
    assert kinds(plain)[0] == "opened" and kinds(plain)[-1] == "closed"
    assert [(e.event.kind, e.event.time_s, e.event.encounter.alert_id) for e in cloned] == [
        (e.event.kind, e.event.time_s, e.event.encounter.alert_id) for e in plain
    ]
    # Without the segmenter the same clone does break it (what the segmenter is for).
    off = dataclasses.replace(params, anomalies=AnomalyParams(enabled=False))
    unprotected = sts_with_clone(off, clone=True)
    assert [(e.event.kind, e.event.time_s) for e in unprotected] != [
        (e.event.kind, e.event.time_s) for e in plain
    ]


def test_a_clone_next_to_another_ship_does_not_create_an_encounter() -> None:
    ship = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 12, hours=6)
    waiting = Voyage(OTHER, START, 31.0, 123.2, ship_type=80).drift(hours=6, speed_kn=0.2)
    clone = Voyage(CARGO, at(START) + 1830, *waiting.station(at(START) + 1830, 100, 90))
    clone.ship_type = 70
    clone.follow(waiting, hours=4, offset_m=100)
    events, _ = run(merged(ship, waiting, clone))
    assert of_type(events, "sts") == []
    assert kinds(of_type(events, "identity_conflict"))[0] == "opened"


def test_one_false_position_far_away_is_neither_a_conflict_nor_a_jump() -> None:
    ship = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 12, hours=4)
    ship.spoof(at(START) + 3600, at(START) + 3601, 0, 60_000)
    events, _ = run(merged(ship))
    assert events == []


# --- position_jump --------------------------------------------------------------------------


def test_a_track_that_leaps_forty_km_and_carries_on_is_a_position_jump() -> None:
    ship = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 12, hours=3)
    ship.spoof("2024-05-01T01:00:00Z", None, 90, 40_000)
    events, _ = run(merged(ship))
    jump = of_type(events, "position_jump")
    assert kinds(jump) == ["opened", "closed"]
    document = alert_to_json(jump[0])
    # From the last position before the leap the track kept (the first or last of each
    # 5-minute interval: here 00:56), to the first one after it.
    assert "2024-05-01T00:55:00Z" < document["jump"]["from"]["time"] < "2024-05-01T01:00:00Z"
    assert document["jump"]["to"]["time"] == "2024-05-01T01:00:00Z"
    # 40 km east, plus what the ship sailed east at 12 kn from "from" to "to".
    sailed_h = (at(document["jump"]["to"]["time"]) - at(document["jump"]["from"]["time"])) / 3600
    assert document["jump"]["distance_km"] == pytest.approx(40 + 12 * 1.852 * sailed_h, abs=0.1)
    assert document["jump"]["implied_speed_kn"] > 300
    assert document["start"] == document["jump"]["from"]["time"]
    assert document["end"] is None and alert_to_json(jump[1])["end"] is not None
    # Confirmed once the new place carried on for jump_confirm_s, within half an hour.
    assert jump[0].event.time_s - at("2024-05-01T01:00:00Z") <= 1800
    assert of_type(events, "identity_conflict") == []


def test_a_two_minute_excursion_and_a_fast_ship_are_not_position_jumps() -> None:
    glitch = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 12, hours=3)
    glitch.spoof("2024-05-01T01:00:00Z", "2024-05-01T01:02:00Z", 90, 40_000)
    fast = Voyage(OTHER, START, 31.5, 123.0, ship_type=70).sail(45, 38, hours=3)
    events, _ = run(merged(glitch, fast))
    assert of_type(events, "position_jump") == []
    assert of_type(events, "identity_conflict") == []


# --- identity_change ------------------------------------------------------------------------


def test_a_new_name_under_the_same_mmsi_is_an_identity_change() -> None:
    ship = Voyage(
        TANKER,
        START,
        30.5,
        123.0,
        ship_type=80,
        name="OCEAN STAR",
        imo=IMO,
        call_sign="A8AB1",
        static_every_s=360,
    )
    ship.sail(90, 10, hours=4).identity_from("2024-05-01T02:00:00Z", name="SEA BREEZE")
    events, _ = run(merged(ship))
    change = of_type(events, "identity_change")
    assert kinds(change) == ["opened", "closed"]
    document = alert_to_json(change[0])
    assert [(c["field"], c["old"], c["new"]) for c in document["changes"]] == [
        ("name", "OCEAN STAR", "SEA BREEZE")
    ]
    # Confirmed by the second report that carries the new name, not the first.
    first_new = min(s.time_s for s in ship.statics() if s.name == "SEA BREEZE")
    assert document["start"] == alert_to_json(change[0])["start"]
    assert change[0].event.encounter.start_s == first_new + 360
    history = document["vessels"][0]["identity_history"]
    assert [(h["field"], h["new"]) for h in history] == [("name", "SEA BREEZE")]
    codes = {r["code"] for r in document["risk"]["reasons"]}
    assert "identity_changes" in codes


def test_the_same_imo_under_a_new_mmsi_and_flag_is_an_identity_change() -> None:
    old = Voyage(
        TANKER, START, 30.5, 123.0, ship_type=80, name="OCEAN STAR", imo=IMO, static_every_s=360
    ).sail(90, 10, hours=2)
    new_start = old.end_s + 900
    reflagged = Voyage(
        620001234,  # Comoros
        new_start,
        *old.points[-1],
        ship_type=80,
        name="STAR OCEAN",
        imo=IMO,
        static_every_s=360,
    ).sail(90, 10, hours=2)
    events, _ = run(merged(old, reflagged))
    change = of_type(events, "identity_change")
    assert kinds(change) == ["opened", "closed"]
    document = alert_to_json(change[0])
    assert document["vessels"][0]["mmsi"] == 620001234
    found = {(c["field"], c["old"], c["new"]) for c in document["changes"]}
    assert found == {
        ("mmsi", TANKER, 620001234),
        ("flag", "LBR", "COM"),
        ("name", "OCEAN STAR", "STAR OCEAN"),
    }
    assert all(c["imo"] == IMO for c in document["changes"])


def test_voyage_data_and_one_garbled_report_are_not_identity_changes() -> None:
    ship = Voyage(
        TANKER, START, 30.5, 123.0, ship_type=80, name="OCEAN STAR", imo=IMO, static_every_s=360
    ).sail(90, 10, hours=4)
    ship.identity_from("2024-05-01T01:00:00Z", destination="SINGAPORE")
    records = merged(ship)
    # One report, once, with a garbled name (a bad reception, a second transmitter).
    garbled, report = next(
        (i, r)
        for i, r in enumerate(records)
        if isinstance(r, StaticReport) and r.time_s > at(START) + 7000
    )
    assert isinstance(report, StaticReport)
    records[garbled] = report._replace(name="OCEAN STAB")
    events, _ = run(records)
    assert of_type(events, "identity_change") == []


# --- ais_gap --------------------------------------------------------------------------------


def test_seven_silent_hours_are_an_ais_gap_with_where_they_began_and_ended() -> None:
    ship = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 10, hours=1)
    ship.sail(90, 10, hours=7, report=False).sail(90, 10, hours=1)
    events, _ = run(merged(ship))
    gap = of_type(events, "ais_gap")
    assert kinds(gap) == ["opened", "closed"]
    document = alert_to_json(gap[1])
    assert document["gap"]["from"]["time"] == "2024-05-01T00:59:00Z"
    assert document["gap"]["to"]["time"] == "2024-05-01T08:00:00Z"
    assert document["gap"]["duration_s"] == pytest.approx(7 * 3600 + 60)
    assert document["gap"]["distance_km"] == pytest.approx(10 * 1.852 * (7 + 1 / 60), rel=0.01)
    assert document["gap"]["implied_speed_kn"] == pytest.approx(10, abs=0.2)
    assert document["start"] == "2024-05-01T00:59:00Z"
    assert document["end"] == "2024-05-01T08:00:00Z"
    assert document["position"]["lat"] == pytest.approx(document["gap"]["from"]["lat"])


def test_five_silent_hours_are_not_an_ais_gap() -> None:
    ship = Voyage(CARGO, START, 30.5, 123.0, ship_type=70).sail(90, 10, hours=1)
    ship.sail(90, 10, hours=5, report=False).sail(90, 10, hours=1)
    events, _ = run(merged(ship))
    assert events == []


# --- stream and restart behaviour -----------------------------------------------------------


def everything() -> list[Position | StaticReport]:
    """A dark transfer, a clone, a rename and a gap, all at once."""
    tanker = drifting_tanker(hours=9)
    feeder = Voyage(FEEDER, START, *tanker.station(at(START), 80, 90), ship_type=80)
    feeder.follow(tanker, hours=1.5).follow(tanker, hours=2, report=False)
    feeder.follow(tanker, hours=1.5).sail(0, 11, hours=1)
    ship = Voyage(CARGO, START, 31.5, 123.0, ship_type=70, name="SEA LION", static_every_s=360)
    ship.sail(90, 12, hours=9).identity_from("2024-05-01T04:00:00Z", name="LION OF THE SEA")
    clone = Voyage(CARGO, at(START) + 1830, 32.2, 123.5, ship_type=70).drift(hours=2)
    silent = Voyage(OTHER, START, 29.5, 123.0, ship_type=30).sail(0, 8, hours=1)
    silent.sail(0, 8, hours=6.5, report=False).sail(0, 8, hours=1)
    return merged(tanker, feeder, ship, clone, silent)


def test_every_detection_at_once_and_the_same_alerts_in_any_arrival_order() -> None:
    records = everything()
    events, _ = run(records)
    assert {e.alert_type for e in events} == {
        "sts",
        "dark_sts",
        "identity_conflict",
        "identity_change",
        "ais_gap",
    }
    rng = random.Random(6)
    # Each record up to 9 minutes late (the allowed lateness is 10), and shuffled.
    delayed = sorted(records, key=lambda r: r.time_s + rng.uniform(0, 540))
    reordered, _ = run(delayed)
    assert documents(reordered) == documents(events)


def test_a_restored_detector_carries_on_every_anomaly_exactly() -> None:
    records = everything()
    seen: set[str] = set()
    for split_iso in ("2024-05-01T01:50:00Z", "2024-05-01T02:40:00Z", "2024-05-01T04:03:00Z"):
        split = next(i for i, r in enumerate(records) if r.time_s >= at(split_iso))
        detector = EncounterDetector(DetectionParams())
        detector.process_all(records[:split])
        saved = json.loads(json.dumps(detector_to_state(detector)))
        restored = EncounterDetector(DetectionParams())
        restore_detector(restored, saved)
        assert detector_to_state(restored) == saved
        expected = detector.process_all(records[split:]) + detector.finish()
        actual = restored.process_all(records[split:]) + restored.finish()
        assert documents(actual) == documents(expected)
        seen.update(e.alert_type for e in expected)
    assert seen >= {"dark_sts", "identity_conflict", "identity_change", "ais_gap"}


def test_the_anomalies_can_be_switched_off() -> None:
    off = dataclasses.replace(DetectionParams(), anomalies=AnomalyParams(enabled=False))
    events, _ = run(everything(), off)
    assert {e.alert_type for e in events} == {"sts"}
