"""The anomaly detections in the live pipeline: the stream emits exactly what `stswatch detect`
writes (ids, events, times, risk), with two workers sharing the shard partitions.

Each case lies well inside one spatial shard cell, so that the shard owning it sees all of
its positions (a stream shard sees its cells and a 30 km margin; docs/risk.md says what that
means for cases spread wider).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from config.settings import Settings
from detectors import cells
from detectors.geodesy import destination
from streams.ingest import ingest_files
from streams.shards import Sharding
from streams.status import StatusReader, sync_client
from streams.topics import ensure_topics, topic_names
from tests.alert_schema import assert_valid_alerts
from tests.builders import Voyage, at, merged
from tests.integration.pipeline import (
    fast_group_settings,
    offline_alerts,
    read_all,
    unique_events,
    wait_for_alerts,
    workers,
)
from tests.nmea_lines import nmea_lines

pytestmark = pytest.mark.integration

START = "2024-05-01T00:00:00Z"


def cases(lat: float, lon: float) -> list[Voyage]:
    """One case of each detection within 25 km of (lat, lon)."""

    def near(bearing: float, distance_m: float) -> tuple[float, float]:
        return destination(lat, lon, bearing, distance_m)

    # dark_sts: the feeder is silent for two hours alongside the drifting tanker.
    tanker = Voyage(636012345, START, lat, lon, ship_type=80, name="DARK TANKER")
    tanker.drift(hours=9, speed_kn=0.3)
    feeder = Voyage(
        413000001, START, *tanker.station(at(START), 80, 90), ship_type=80, name="DARK FEEDER"
    )
    feeder.follow(tanker, hours=1.5).follow(tanker, hours=2, report=False)
    feeder.follow(tanker, hours=2).sail(0, 6, hours=1)
    # identity_conflict: a second transmitter 15 km away for two hours.
    ship = Voyage(477000111, START, *near(0, 20_000), ship_type=70).drift(hours=9, speed_kn=1)
    clone = Voyage(477000111, at(START) + 3630, *near(300, 18_000), ship_type=70)
    clone.drift(hours=2, speed_kn=0.3)
    # position_jump: from 02:00 the reports are 12 km away and carry on.
    jumper = Voyage(352000222, START, *near(180, 20_000), ship_type=70).sail(90, 3, hours=9)
    jumper.spoof("2024-05-01T02:00:00Z", None, 0, 12_000)
    # identity_change: a new name from 03:00.
    renamed = Voyage(
        538000333,
        START,
        *near(120, 15_000),
        ship_type=80,
        name="OCEAN STAR",
        imo=9074729,
        static_every_s=360,
    ).sail(200, 2, hours=9)
    renamed.identity_from("2024-05-01T03:00:00Z", name="SEA BREEZE")
    # ais_gap: seven silent hours.
    silent = Voyage(412000444, START, *near(240, 15_000), ship_type=30).sail(30, 1, hours=1)
    silent.sail(30, 1, hours=7, report=False).sail(30, 1, hours=1)
    return [tanker, feeder, ship, clone, jumper, renamed, silent]


def test_two_workers_emit_every_anomaly_alert_exactly_as_stswatch_detect(
    settings_with_redis: Settings, tmp_path: Path
) -> None:
    # Seven vessels say about seven lines a minute: a 500-line raw batch spans an hour of
    # event time, which the shard stage must take in time order (a sparse feed's batches).
    settings = fast_group_settings(settings_with_redis)
    sharding = Sharding(
        settings.stream.shard_resolution, settings.stream.shard_margin_m, settings.kafka.partitions
    )
    lat, lon = cells.cell_to_latlng(sharding.shard_cell(30.5, 123.0))
    voyages = cases(lat, lon)
    # Every case lies in the one shard cell around (lat, lon).
    owner = sharding.owner(lat, lon)
    for voyage in voyages:
        for point in voyage.points[:: max(1, len(voyage.points) // 20)]:
            assert sharding.owner(*point) == owner
    path = tmp_path / "anomalies.nmea"
    path.write_text("\n".join(nmea_lines(merged(*voyages))) + "\n")

    expected = offline_alerts([path], settings)
    assert_valid_alerts(expected)
    assert {a["type"] for a in expected} == {
        "sts",
        "dark_sts",
        "identity_conflict",
        "position_jump",
        "identity_change",
        "ais_gap",
    }
    assert all(0 < a["risk"]["score"] <= 100 for a in expected)

    ensure_topics(settings)
    with workers(settings, tmp_path, count=2) as started:
        ingest_files(settings, [path], compression_type=None)
        alerts = wait_for_alerts(settings, {a["event_id"] for a in expected}, workers_=started)
        # The renamed vessel's identity history is kept in Redis for lookups.
        reader = StatusReader(sync_client(settings.redis), settings.redis)
        deadline = time.monotonic() + 30
        history: list[dict[str, object]] = []
        while time.monotonic() < deadline and not history:
            status = reader.vessel(538000333)
            history = status["identity_history"] if status else []
            time.sleep(0.5)
    assert unique_events(alerts) == {a["event_id"]: a for a in expected}
    assert [(c["field"], c["old"], c["new"]) for c in history] == [
        ("name", "OCEAN STAR", "SEA BREEZE")
    ]

    # Alerts about one vessel are keyed "mmsi-mmsi", pairs by the sorted pair.
    names = topic_names(settings.kafka)
    for record in read_all(settings, names.alerts):
        alert = json.loads(record.value)
        mmsis = sorted(v["mmsi"] for v in alert["vessels"])
        assert record.key == f"{mmsis[0]}-{mmsis[-1]}".encode()
