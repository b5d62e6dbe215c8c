"""The traffic simulator: encoding, determinism, reporting intervals, truth against output.

Most checks read the simulator's own output files back with pyais (and a small tag block
parser written here), so they test what a user of `stswatch simulate` gets, not the
simulator's internals.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from pyais import NMEAMessage, decode
from pyais.encode import encode_msg
from pyais.messages import MessageType1, MessageType3
from shapely.geometry import Point, shape

from detectors.geodesy import haversine_m
from detectors.timefmt import parse_iso_utc
from stswatch.simulator import (
    build_track,
    load_scenario,
    plan_world,
    read_truth,
    simulate,
    with_overrides,
)
from stswatch.simulator.identity import imo_check_digit, is_valid_imo
from stswatch.simulator.nmea import (
    class_a_sentences,
    class_b_payloads,
    rows_to_lines,
    sentence_rows,
    tag_blocks,
    transmitted_tenths,
    xor_checksum,
)

TAG_LINE = re.compile(r"^\\(s:([^,*]+),c:(\d+))\*([0-9A-F]{2})\\(!AIVDM,.*)$")


# ------------------------------------------------------------------ reading output back


@dataclass(frozen=True)
class Report:
    station: str
    receive_s: int
    line_no: int
    msg: dict[str, object]


def read_nmea(path: Path) -> tuple[list[Report], int]:
    """Decoded messages (multi-part ones reassembled) and the number of unusable lines."""
    reports: list[Report] = []
    bad = 0
    pending: dict[tuple[str, str, str], list[bytes]] = {}
    for no, line in enumerate(path.read_text(encoding="ascii").splitlines()):
        m = TAG_LINE.match(line)
        if not m or xor_checksum(m.group(1)) != int(m.group(4), 16):
            bad += 1
            continue
        station, receive_s, sentence = m.group(2), int(m.group(3)), m.group(5)
        try:
            nmea = NMEAMessage(sentence.encode())
        except Exception:
            bad += 1
            continue
        if not nmea.is_valid:
            bad += 1
            continue
        fields = sentence.split(",")
        total, number, seq, channel = fields[1], fields[2], fields[3], fields[4]
        if total == "1":
            reports.append(Report(station, receive_s, no, decode(sentence).asdict()))
            continue
        key = (station, seq, channel)
        pending.setdefault(key, []).append(sentence.encode())
        if number == total:
            parts = pending.pop(key)
            if len(parts) == int(total):
                reports.append(Report(station, receive_s, no, decode(*parts).asdict()))
    return reports, bad


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    simulate(load_scenario("demo"), out, write_csv=True, jobs=1)
    return out


@pytest.fixture(scope="module")
def demo_reports(demo_run: Path) -> tuple[list[Report], int]:
    return read_nmea(demo_run / "traffic.nmea")


def by_vessel(reports: list[Report]) -> dict[int, list[Report]]:
    """Position reports, one per transmission (the first copy heard), in receive order."""
    seen: set[tuple[int, object, object, object, object]] = set()
    out: dict[int, list[Report]] = defaultdict(list)
    for r in sorted(reports, key=lambda r: (r.receive_s, r.line_no)):
        msg = r.msg
        if msg["msg_type"] not in (1, 2, 3, 18):
            continue
        key = (int(msg["mmsi"]), msg["msg_type"], msg.get("lat"), msg.get("lon"), msg.get("second"))
        if key in seen:
            continue
        seen.add(key)
        out[int(msg["mmsi"])].append(r)
    return out


# ------------------------------------------------------------------ encoding


def test_position_sentences_are_identical_to_pyais_encode_msg() -> None:
    rng = np.random.default_rng(5)
    n = 400
    kinds = rng.choice([1, 3], n).tolist()
    status = rng.integers(0, 16, n).tolist()
    speed_t = rng.integers(0, 1023, n)
    course_t = rng.integers(0, 3600, n)
    lat = np.round(rng.uniform(-89.9, 89.9, n), 6).tolist()
    lon = np.round(rng.uniform(-179.9, 179.9, n), 6).tolist()
    heading = rng.integers(0, 512, n).tolist()
    second = rng.integers(0, 60, n).tolist()
    turn = rng.choice([0.0, -128.0, 5.0, -20.0], n).tolist()
    channels = rng.choice(["A", "B"], n).tolist()
    ours = class_a_sentences(
        412000123,
        True,
        channels,
        msg_type=kinds,
        status=status,
        turn=turn,
        speed_kn=transmitted_tenths(speed_t),
        lon=lon,
        lat=lat,
        course_deg=transmitted_tenths(course_t),
        heading=heading,
        second=second,
    )
    for i in range(n):
        cls = MessageType3 if kinds[i] == 3 else MessageType1
        msg = cls.create(
            msg_type=kinds[i],
            mmsi=412000123,
            status=status[i],
            turn=turn[i],
            speed=int(speed_t[i]) / 10,
            accuracy=True,
            lon=lon[i],
            lat=lat[i],
            course=int(course_t[i]) / 10,
            heading=heading[i],
            second=second[i],
            maneuver=0,
        )
        expected = encode_msg(msg, talker_id="AI", sentence_type="VDM", radio_channel=channels[i])
        assert ours[i] == expected[0]


def test_class_b_sentences_decode_to_the_values_given() -> None:
    payloads = class_b_payloads(
        224123450,
        False,
        transmitted_tenths(np.array([37, 0])),
        [-6.123456, -5.5],
        [36.5, 35.25],
        transmitted_tenths(np.array([2715, 0])),
        [511, 90],
        [7, 59],
    )
    lines = rows_to_lines(sentence_rows(payloads, np.array([False, True])))
    first, second = (decode(line) for line in lines)
    assert first.msg_type == 18 and first.mmsi == 224123450
    assert first.speed == pytest.approx(3.7) and first.course == pytest.approx(271.5)
    assert first.lon == pytest.approx(-6.123456, abs=2e-6) and first.heading == 511
    assert lines[1].startswith("!AIVDM,1,1,,B,") and second.second == 59


def test_tag_blocks_carry_station_time_and_a_valid_checksum() -> None:
    tags = tag_blocks("RX01", np.array([1714521600, 1714521659]))
    for tag, t in zip(tags, (1714521600, 1714521659), strict=True):
        body, cs = tag[1:-1].split("*")
        assert body == f"s:RX01,c:{t}"
        assert int(cs, 16) == xor_checksum(body)


def test_imo_numbers_follow_the_check_digit_rule() -> None:
    # IMO 9074729 is the textbook example: 9*7+0*6+7*5+4*4+7*3+2*2 = 139, check digit 9.
    assert imo_check_digit(907472) == 9
    assert is_valid_imo(9074729)
    assert not is_valid_imo(9074728)


# ------------------------------------------------------------------ determinism


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files_whatever_the_worker_count(tmp_path: Path) -> None:
    scenario = with_overrides(load_scenario("demo"), hours=1.0, vessels=60)
    simulate(scenario, tmp_path / "a", seed=3, write_csv=True, jobs=1)
    simulate(scenario, tmp_path / "b", seed=3, write_csv=True, jobs=2)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(a) == {"traffic.nmea", "traffic.csv", "truth.json", "zones.geojson", "ports.csv"}
    assert a == b


def test_another_seed_gives_other_traffic(tmp_path: Path) -> None:
    scenario = with_overrides(load_scenario("demo"), hours=1.0, vessels=20)
    simulate(scenario, tmp_path / "a", seed=3, jobs=1)
    simulate(scenario, tmp_path / "b", seed=4, jobs=1)
    assert (tmp_path / "a" / "traffic.nmea").read_bytes() != (
        tmp_path / "b" / "traffic.nmea"
    ).read_bytes()


# ------------------------------------------------------------------ the feed's realism


def _vessel_types(reports: list[Report]) -> dict[int, int]:
    return {
        int(r.msg["mmsi"]): int(r.msg["ship_type"])  # type: ignore[call-overload]
        for r in reports
        if r.msg["msg_type"] in (5, 24) and r.msg.get("ship_type") is not None
    }


def _gaps_s(reports: list[Report]) -> list[tuple[float, float]]:
    """(speed of the earlier report, seconds to the next), from the `second` fields' clock.

    The receive time (tag block) is whole seconds and a second station's clock differs, so
    intervals are measured on one station's reports only.
    """
    out = []
    for a, b in pairwise(reports):
        if a.station == b.station:
            out.append((float(a.msg["speed"]), float(b.receive_s - a.receive_s)))  # type: ignore[arg-type]
    return out


def test_class_a_reports_every_2_to_10_seconds_when_moving_and_3_minutes_when_slow(
    demo_reports: tuple[list[Report], int],
) -> None:
    reports, _ = demo_reports
    fast, slow = [], []
    for mmsi, rs in by_vessel(reports).items():
        positions = [r for r in rs if r.msg["msg_type"] in (1, 2, 3)]
        for speed, gap in _gaps_s(positions):
            if speed >= 4.0:
                fast.append(gap)
            elif speed < 2.0:
                slow.append(gap)
        del mmsi
    assert len(fast) > 1000 and len(slow) > 50
    # Whole-second receive stamps blur a 10 s interval to 9-11 s; lost messages double it.
    assert 2.0 <= statistics.median(fast) <= 10.0
    assert sum(1 for g in fast if 1.0 <= g <= 11.0) / len(fast) > 0.9
    assert 175.0 <= statistics.median(slow) <= 185.0


def test_class_b_reports_every_30_seconds_moving_and_3_minutes_slow(
    demo_reports: tuple[list[Report], int],
) -> None:
    reports, _ = demo_reports
    moving, slow = [], []
    for rs in by_vessel(reports).values():
        positions = [r for r in rs if r.msg["msg_type"] == 18]
        for speed, gap in _gaps_s(positions):
            (moving if speed > 2.5 else slow if speed < 1.5 else []).append(gap)
    assert len(moving) > 100
    assert 29.0 <= statistics.median(moving) <= 31.0
    assert all(gap >= 29.0 for gap in moving)
    if slow:
        assert statistics.median(slow) >= 29.0


def test_static_reports_come_every_six_minutes_type_5_in_two_sentences(
    demo_run: Path, demo_reports: tuple[list[Report], int]
) -> None:
    lines = (demo_run / "traffic.nmea").read_text(encoding="ascii").splitlines()
    two_part = [line for line in lines if ",2,1," in line or ",2,2," in line]
    assert two_part, "type 5 must be sent as two sentences"
    reports, _ = demo_reports
    type5: dict[int, list[int]] = defaultdict(list)
    type24: dict[int, set[int]] = defaultdict(set)
    for r in reports:
        if r.msg["msg_type"] == 5 and r.station == reports[0].station:
            type5[int(r.msg["mmsi"])].append(r.receive_s)  # type: ignore[call-overload]
        if r.msg["msg_type"] == 24:
            type24[int(r.msg["mmsi"])].add(int(r.msg["partno"]))  # type: ignore[call-overload]
    gaps = [
        b - a for ts in type5.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)
    ]
    assert statistics.median(gaps) == pytest.approx(360.0, abs=5.0)
    assert any(parts == {0, 1} for parts in type24.values()), "class B sends type 24 A and B"


def test_the_feed_has_duplicates_late_lines_and_a_few_corrupt_ones(
    demo_run: Path, demo_reports: tuple[list[Report], int]
) -> None:
    lines = (demo_run / "traffic.nmea").read_text(encoding="ascii").splitlines()
    stamps: list[int] = []
    sentences: dict[str, set[str]] = defaultdict(set)
    stations: set[str] = set()
    for line in lines:
        m = TAG_LINE.match(line)
        if not m:
            continue
        stations.add(m.group(2))
        stamps.append(int(m.group(3)))
        sentences[m.group(5)].add(m.group(2))
    _, unusable = demo_reports
    assert len(stations) >= 2
    duplicated = sum(1 for st in sentences.values() if len(st) > 1)
    assert 0.15 < duplicated / len(sentences) < 0.5
    # receive times run roughly forward, some lines arrive late, none more than 10 min
    newest = stamps[0]
    lateness = []
    for t in stamps:
        newest = max(newest, t)
        lateness.append(newest - t)
    assert max(lateness) <= 600
    assert sum(1 for x in lateness if x >= 20) >= 10
    assert 0.001 <= unusable / len(lines) <= 0.005


@pytest.fixture(scope="module")
def ecs_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Report]]:
    """The East China Sea scenario cut to 15 hours, planted vessels only (to keep it quick)."""
    out = tmp_path_factory.mktemp("ecs")
    simulate(with_overrides(load_scenario("east-china-sea"), hours=15.0, vessels=0), out, jobs=1)
    return out, read_nmea(out / "traffic.nmea")[0]


def test_reception_gap_of_the_planted_transfer_lasts_45_minutes(
    ecs_run: tuple[Path, list[Report]],
) -> None:
    folder, reports = ecs_run
    events = {e.id: e for e in read_truth(folder / "truth.json")}
    gap_event = events["sts-gap-yellow-sea"]
    for mmsi in gap_event.mmsis:
        times = sorted(
            r.receive_s
            for r in reports
            if r.msg["mmsi"] == mmsi and gap_event.start_s <= r.receive_s <= gap_event.end_s
        )
        longest = max(b - a for a, b in pairwise(times))
        assert 44 * 60 <= longest <= 55 * 60


# ------------------------------------------------------------------ truth against output


def _track(
    reports: list[Report], mmsi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rs = [r for r in by_vessel(reports)[mmsi] if r.msg["msg_type"] in (1, 2, 3, 18)]
    t = np.array([r.receive_s for r in rs], dtype=float)
    lat = np.array([float(r.msg["lat"]) for r in rs])  # type: ignore[arg-type]
    lon = np.array([float(r.msg["lon"]) for r in rs])  # type: ignore[arg-type]
    sog = np.array([float(r.msg["speed"]) for r in rs])  # type: ignore[arg-type]
    return t, lat, lon, sog


def _pair_in_window(
    reports: list[Report], mmsis: tuple[int, ...], start_s: float, end_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distances between the pair (interpolated to one's report times) and both speeds."""
    ta, la, lo, sa = _track(reports, mmsis[0])
    tb, lb, lob, sb = _track(reports, mmsis[1])
    sel = (ta >= start_s) & (ta <= end_s)
    d = np.array(
        [
            haversine_m(
                float(x), float(y), float(np.interp(t, tb, lb)), float(np.interp(t, tb, lob))
            )
            for t, x, y in zip(ta[sel], la[sel], lo[sel], strict=True)
        ]
    )
    selb = (tb >= start_s) & (tb <= end_s)
    return d, sa[sel], sb[selb]


def test_the_planted_transfer_is_alongside_and_slow_for_the_stated_interval(
    demo_run: Path, demo_reports: tuple[list[Report], int]
) -> None:
    reports, _ = demo_reports
    events = [e for e in read_truth(demo_run / "truth.json") if e.category == "sts"]
    assert len(events) == 1
    event = events[0]
    assert event.expect_alert and event.end_s - event.start_s >= 2 * 3600
    d, speed_a, speed_b = _pair_in_window(reports, event.mmsis, event.start_s, event.end_s)
    assert len(d) > 30
    # 30-200 m apart the whole time (GPS noise of both ships included), and slow
    assert d.min() >= 20.0 and d.max() <= 200.0
    assert np.median(speed_a) < 2.0 and np.median(speed_b) < 2.0
    # before the interval they were apart: the pair really came together
    d_before, _, _ = _pair_in_window(reports, event.mmsis, event.start_s - 900, event.start_s - 600)
    assert d_before.min() > 500.0


def test_decoys_are_what_they_claim(demo_run: Path, demo_reports: tuple[list[Report], int]) -> None:
    reports, _ = demo_reports
    events = {e.category: e for e in read_truth(demo_run / "truth.json")}
    types = _vessel_types(reports)

    meeting = events["short_meeting"]
    assert not meeting.expect_alert
    d, _, _ = _pair_in_window(
        reports, meeting.mmsis, meeting.start_s - 3 * 3600, meeting.end_s + 3 * 3600
    )
    ta, _, _, _ = _track(reports, meeting.mmsis[0])
    close_times = ta[(ta >= meeting.start_s - 3 * 3600) & (ta <= meeting.end_s + 3 * 3600)][
        d < 500.0
    ]
    assert 0.5 * 3600 <= close_times.max() - close_times.min() < 3600

    passing = events["passing"]
    d, sa, sb = _pair_in_window(reports, passing.mmsis, passing.start_s - 600, passing.end_s + 600)
    assert d.min() < 500.0 and min(sa.min(), sb.min()) > 8.0

    tug = events["tug_alongside"]
    assert sorted(types[m] for m in tug.mmsis) == [52, 80]
    d, _, _ = _pair_in_window(reports, tug.mmsis, tug.start_s, tug.end_s)
    assert d.max() < 200.0

    anchored = events["anchored_near_port"]
    ports = list(csv.DictReader((demo_run / "ports.csv").open()))
    nearest = min(
        haversine_m(anchored.lat, anchored.lon, float(p["lat"]), float(p["lon"])) for p in ports
    )
    assert nearest < 10_000.0
    d, sa, sb = _pair_in_window(reports, anchored.mmsis, anchored.start_s, anchored.end_s)
    assert d.max() < 500.0 and np.median(sa) < 1.0


def test_east_china_sea_decoys_and_high_seas_pair(ecs_run: tuple[Path, list[Report]]) -> None:
    folder, reports = ecs_run
    events = {e.id: e for e in read_truth(folder / "truth.json")}

    apart = events["loiter-2500m"]
    d, sa, sb = _pair_in_window(reports, apart.mmsis, apart.start_s, apart.end_s)
    assert np.percentile(d, 5) >= 1800.0 and np.percentile(d, 95) <= 3200.0
    assert np.median(sa) < 2.0 and np.median(sb) < 2.0

    trawlers = events["pair-trawlers-yellow-sea"]
    d, sa, sb = _pair_in_window(reports, trawlers.mmsis, trawlers.start_s, trawlers.end_s)
    assert d.max() < 500.0
    assert 3.0 <= np.median(sa) <= 4.0 and 3.0 <= np.median(sb) <= 4.0

    high_seas = events["high-seas-philippine-sea"]
    zones = json.loads((folder / "zones.geojson").read_text())
    point = Point(high_seas.lon, high_seas.lat)
    assert not any(shape(f["geometry"]).contains(point) for f in zones["features"])
    assert high_seas.eez_iso is None and not high_seas.expect_alert
    d, sa, sb = _pair_in_window(reports, high_seas.mmsis, high_seas.start_s, high_seas.end_s)
    assert d.max() < 200.0 and np.median(sa) < 2.0

    for event in events.values():
        if event.category in ("sts", "sts_reception_gap"):
            assert event.expect_alert and event.eez_iso in ("CHN", "KOR")
            assert 2 * 3600 <= event.end_s - event.start_s <= 12 * 3600


# ------------------------------------------------------------------ ground truth physics


def test_ground_truth_tracks_are_continuous_at_sea_and_physically_plausible() -> None:
    scenario = with_overrides(load_scenario("demo"), vessels=40)
    world = plan_world(scenario, 1)
    for plan in world.plans:
        track = build_track(plan)
        assert not world.land.land_points(track.lat, track.lon).any(), plan.role
        dt = np.diff(track.time_s)
        step_m = np.array(
            [
                haversine_m(a, b, c, d)
                for a, b, c, d in zip(
                    track.lat[:-1], track.lon[:-1], track.lat[1:], track.lon[1:], strict=True
                )
            ]
        )
        speed_mps = step_m / dt
        assert speed_mps.max() < 25.0 * 1852 / 3600, plan.role  # no jumps
        accel = np.abs(np.diff(speed_mps)) / dt[1:]
        assert accel.max() < 0.2, plan.role  # m/s^2: a ship does not stop dead
        sog, cog = track.speed_course()
        moving = (sog[:-1] > 3.0) & (sog[1:] > 3.0)
        turn = np.abs((np.diff(cog) + 180.0) % 360.0 - 180.0) / dt
        assert (turn[moving] < 1.5).all(), plan.role  # degrees per second


def test_marinecadastre_csv_has_the_noaa_columns_and_one_row_a_minute(demo_run: Path) -> None:
    with (demo_run / "traffic.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    header = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status"
    assert list(rows[0]) == [
        *header.split(","),
        "Length",
        "Width",
        "Draft",
        "Cargo",
        "TransceiverClass",
    ]
    minutes = defaultdict(int)
    for r in rows:
        minutes[(r["MMSI"], r["BaseDateTime"][:16])] += 1
        assert r["TransceiverClass"] in ("A", "B")
        assert -90 <= float(r["LAT"]) <= 90 and 0 <= float(r["SOG"]) < 102.3
        if r["IMO"]:
            assert is_valid_imo(int(r["IMO"][3:]))
    assert max(minutes.values()) == 1
    times = [parse_iso_utc(r["BaseDateTime"]) for r in rows]
    assert times == sorted(times)
    assert not math.isnan(times[0])
