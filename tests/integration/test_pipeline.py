"""The live pipeline end to end: ingest -> tansu -> stswatch workers -> alerts, Redis.

Every test compares the stream with `stswatch detect` on the same input: the same detector
code must give the same alerts (ids, pairs, events, times) however the work is spread.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

from config.settings import Settings
from detectors import cells
from detectors.geodesy import destination, initial_bearing_deg
from detectors.records import Position
from streams.ingest import ingest_files
from streams.kafka_clients import admin_kwargs, connect, producer_kwargs
from streams.shard_payload import encode_shard_batch
from streams.shards import Sharding
from streams.status import StatusReader, sync_client
from streams.topics import ensure_topics, topic_names
from tests.builders import Voyage, at, merged
from tests.integration.pipeline import (
    fast_group_settings,
    offline_alerts,
    read_all,
    unique_events,
    wait_for_alerts,
    with_reference,
    workers,
)
from tests.nmea_lines import nmea_lines

pytestmark = pytest.mark.integration

T_START = 1_714_521_600.0


def test_one_worker_gives_exactly_the_alerts_of_stswatch_detect(
    settings_with_redis: Settings, demo: Path, tmp_path: Path
) -> None:
    settings = fast_group_settings(with_reference(settings_with_redis, demo))
    expected = offline_alerts([demo / "traffic.nmea"], settings)
    assert {a["event"] for a in expected} >= {"opened", "closed"}
    ensure_topics(settings)

    with workers(settings, tmp_path, count=1) as started:
        ingest_files(settings, [demo / "traffic.nmea"], compression_type=None)
        alerts = wait_for_alerts(settings, {a["event_id"] for a in expected}, workers_=started)

    assert unique_events(alerts) == {a["event_id"]: a for a in expected}
    # Alerts are keyed by the sorted MMSI pair.
    names = topic_names(settings.kafka)
    for record in read_all(settings, names.alerts):
        alert = json.loads(record.value)
        pair = sorted(v["mmsi"] for v in alert["vessels"])
        assert record.key == f"{pair[0]}-{pair[1]}".encode()

    # Redis holds each vessel's last position and each encounter's latest alert.
    reader = StatusReader(sync_client(settings.redis), settings.redis)
    last = expected[-1]
    assert reader.encounter(last["alert_id"]) == last
    for vessel in last["vessels"]:
        status = reader.vessel(vessel["mmsi"])
        assert status is not None
        assert status["name"] == vessel["name"]
    if last["event"] == "closed":
        assert last["alert_id"] not in reader.client.smembers(reader.keys.active)


def _edge_point(sharding: Sharding, near_lat: float, near_lon: float) -> tuple[float, float, float]:
    """A point on a shard-cell edge whose two sides belong to different partitions, and the
    bearing across that edge."""
    cell = sharding.shard_cell(near_lat, near_lon)
    centre = cells.cell_to_latlng(cell)
    boundary = cells.cell_boundary(cell)
    for (lat1, lon1), (lat2, lon2) in zip(boundary, boundary[1:] + boundary[:1], strict=True):
        mid = ((lat1 + lat2) / 2, (lon1 + lon2) / 2)
        across = initial_bearing_deg(*centre, *mid)
        inside = destination(*mid, across + 180, 2000)
        outside = destination(*mid, across, 2000)
        if sharding.owner(*inside) != sharding.owner(*outside):
            # Bisect along the crossing line down to a metre: the edge itself.
            low, high = -2000.0, 2000.0
            while high - low > 1.0:
                step = (low + high) / 2
                if sharding.owner(*destination(*mid, across, step)) == sharding.owner(*inside):
                    low = step
                else:
                    high = step
            lat, lon = destination(*mid, across, (low + high) / 2)
            return lat, lon, across
    raise AssertionError("no edge between two partitions around this cell")


def test_two_workers_and_pairs_on_shard_edges_give_the_same_alerts(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    settings = fast_group_settings(settings_with_redis)
    sharding = Sharding(
        settings.stream.shard_resolution, settings.stream.shard_margin_m, settings.kafka.partitions
    )
    start = "2024-05-01T00:00:00Z"
    voyages: list[Voyage] = []
    for n, (near_lat, near_lon) in enumerate([(30.5, 123.0), (-20.0, 60.0)]):
        lat, lon, across = _edge_point(sharding, near_lat, near_lon)
        # Alongside across the edge: one on each side, drifting along the edge.
        tanker = Voyage(
            636010000 + n,
            start,
            *destination(lat, lon, across + 180, 40),
            ship_type=80,
            name=f"EDGE TANKER {n}",
        )
        tanker.drift(hours=5, speed_kn=0.5, bearing_deg=across + 90)
        feeder = Voyage(
            413010000 + n,
            start,
            *tanker.station(at(start), 80, across),
            ship_type=70,
            name=f"EDGE FEEDER {n}",
        )
        feeder.follow(tanker, hours=4, offset_m=80, offset_bearing_deg=across)
        feeder.sail(across, 10, hours=1)
        voyages += [tanker, feeder]
        assert sharding.owner(*tanker.points[0]) != sharding.owner(*feeder.points[0])
    path = tmp_path / "edges.nmea"
    path.write_text("\n".join(nmea_lines(merged(*voyages))) + "\n")

    expected = offline_alerts([path], settings)
    assert sum(a["event"] == "opened" for a in expected) == 2
    ensure_topics(settings)
    with workers(settings, tmp_path, count=2) as started:
        ingest_files(settings, [path], compression_type=None)
        alerts = wait_for_alerts(settings, {a["event_id"] for a in expected}, workers_=started)
    assert unique_events(alerts) == {a["event_id"]: a for a in expected}


def test_two_stations_files_replayed_together_give_the_alerts_of_detect(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    # Each station heard one of the two vessels: the encounter is only in both files
    # together. Replayed one file after the other, the worker had passed the first file's
    # five hours before the second began, and dropped every line of it as late.
    settings = fast_group_settings(settings_with_redis)
    start = "2024-05-01T00:00:00Z"
    tanker = Voyage(636020001, start, 24.5, 56.9, ship_type=80, name="STATION TANKER")
    tanker.drift(hours=5, speed_kn=0.4, bearing_deg=45)
    feeder = Voyage(
        413020001, start, *tanker.station(at(start), 90, 90), ship_type=70, name="STATION FEEDER"
    )
    feeder.follow(tanker, hours=4, offset_m=90, offset_bearing_deg=90)
    feeder.sail(200, 11, hours=1)
    paths = []
    for voyage, station in ((tanker, "STATNA"), (feeder, "STATNB")):
        path = tmp_path / f"{station}.nmea"
        path.write_text("\n".join(nmea_lines(voyage.records(), station=station)) + "\n")
        paths.append(path)

    expected = offline_alerts(paths, settings)
    assert {a["event"] for a in expected} >= {"opened", "closed"}
    ensure_topics(settings)
    with workers(settings, tmp_path, count=1) as started:
        ingest_files(settings, paths, compression_type=None)
        alerts = wait_for_alerts(settings, {a["event_id"] for a in expected}, workers_=started)
    assert unique_events(alerts) == {a["event_id"]: a for a in expected}


CORRUPT_LINES = {
    "bad_checksum": "\\s:TEST01,c:1714521600*0E\\!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*00",
    "truncated": "\\s:TEST01,c:1714521600*0E\\!AIVDM,1,1,,A,13u?etPv2;0n:dD",
    "garbage": "\x00\x01 not an AIS line at all \ufffd",
}


def test_corrupt_lines_are_dead_lettered_with_their_reason_and_nothing_is_lost(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    settings = fast_group_settings(settings_with_redis)
    tanker = Voyage(636012345, "2024-05-01T00:00:00Z", 30.5, 123.0).drift(hours=1)
    good = nmea_lines(tanker.positions())
    lines = good[:10] + list(CORRUPT_LINES.values()) + good[10:]
    path = tmp_path / "mixed.nmea"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ensure_topics(settings)
    names = topic_names(settings.kafka)

    with workers(settings, tmp_path, count=1) as started:
        ingest_files(settings, [path], compression_type=None)
        deadline = time.monotonic() + 60
        records: list = []
        dead: list = []
        while time.monotonic() < deadline:
            records = read_all(settings, names.positions)
            dead = read_all(settings, names.dead_letter)
            if len(records) >= len(good) and len(dead) >= len(CORRUPT_LINES):
                break
            assert started[0].process.poll() is None, started[0].log_tail()
            time.sleep(0.5)

    letters = [json.loads(r.value) for r in dead]
    assert len(records) == len(good)
    assert len(letters) == len(CORRUPT_LINES)
    # Lines in = decoded + dead-lettered: every line is accounted for.
    assert len(records) + len(letters) == len(lines)
    by_line = {letter["line"]: letter for letter in letters}
    assert by_line[CORRUPT_LINES["bad_checksum"]]["reason"] == "bad_checksum"
    for letter in letters:
        assert letter["reason"]
        assert letter["source"] == "mixed.nmea"
        assert letter["topic"] == names.raw
        assert isinstance(letter["offset"], int)


def test_a_worker_killed_mid_replay_is_replaced_and_every_alert_still_arrives(
    settings_with_redis: Settings, demo: Path, tmp_path: Path
) -> None:
    settings = fast_group_settings(with_reference(settings_with_redis, demo))
    expected = offline_alerts([demo / "traffic.nmea"], settings)
    ensure_topics(settings)
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    with workers(settings, first_dir, count=1) as first:
        # About 12 s of replay: the kill lands in the middle of it.
        replay_speed = 3 * 3600 / 12
        import threading

        ingest = threading.Thread(
            target=ingest_files,
            args=(settings, [demo / "traffic.nmea"]),
            kwargs={"speed": replay_speed, "compression_type": None},
        )
        ingest.start()
        time.sleep(7)
        first[0].kill()
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    with workers(settings, second_dir, count=1) as second:
        ingest.join(60)
        alerts = wait_for_alerts(settings, {a["event_id"] for a in expected}, workers_=second)
    events = unique_events(alerts)
    assert events == {a["event_id"]: a for a in expected}


def test_the_tail_of_the_shard_topic_is_committed_without_more_input(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    """Faust's take yields nothing while no event arrives, and the shard agent saves state
    at most once per snapshot interval: a last take that comes before the interval is up
    (here one full take of the 64 messages waiting when the worker starts) must still be
    saved and committed once the input stops."""
    settings = fast_group_settings(settings_with_redis)
    settings = dataclasses.replace(
        settings, stream=dataclasses.replace(settings.stream, table_snapshot_interval_s=5.0)
    )
    ensure_topics(settings)
    names = topic_names(settings.kafka)

    producer = connect(settings.kafka, KafkaProducer, **producer_kwargs(settings.kafka))
    try:
        for step in range(64):  # streams.app._SHARD_TAKE_MAX
            position = Position(244_000_001, T_START + 10.0 * step, 52.0, 4.0, 0.1, 90.0)
            value = encode_shard_batch([position], [], position.time_s)
            producer.send(names.shards, key=b"cell", value=value, partition=0)
        producer.flush()
    finally:
        producer.close()

    def committed() -> int:
        admin = connect(settings.kafka, KafkaAdminClient, **admin_kwargs(settings.kafka))
        try:
            offsets = admin.list_group_offsets({settings.stream.app_id: None})
        finally:
            admin.close()
        found = offsets.get(settings.stream.app_id, {}).get(TopicPartition(names.shards, 0))
        return -1 if found is None else found.offset

    with workers(settings, tmp_path, count=1) as started:
        deadline = time.monotonic() + 30.0
        while committed() < 64 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert committed() == 64, started[0].log_tail()
