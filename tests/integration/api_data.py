"""Test data for the API, map and alert-delivery tests: a Redis status store filled the way
the workers fill it, and the alerts and positions that went into it.

`fill_status_from_detector` runs the detection core over a small, readable scenario (three
encounters: one closed in China's zone, one active there, one active in Korea's zone, plus a
ship passing at speed), validates every alert against the alert schema, and writes vessels
and alerts with the project's `StatusWriter`, flushing every few records as a worker does.
It returns a `FilledStatus`: the settings to reach that Redis and what went in, so tests
derive their expectations from the inputs, not from the API's answers.

`fill_status_from_pipeline` sends the same scenario, as NMEA lines, through the live
pipeline (ingest, a real worker process) and returns the same `FilledStatus`: the tests only
use its fields, so every endpoint is tested against both.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import uvicorn
from fastapi import FastAPI

from config.settings import Settings
from detectors.alerts import alert_to_json
from detectors.engine import EncounterDetector
from detectors.records import Position, StaticReport
from detectors.zones import load_zone_index
from streams.ingest import ingest_files
from streams.services import free_port
from streams.status import StatusKeys, StatusWriter, async_client, sync_client
from streams.topics import ensure_topics
from stswatch.decoding.nmea import NmeaDecoder
from tests.builders import Voyage, merged
from tests.integration.pipeline import (
    fast_group_settings,
    offline_alerts,
    unique_events,
    wait_for_alerts,
    workers,
)
from tests.nmea_lines import nmea_lines

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / "config" / "schemas" / "sts-alert.v1.schema.json"
)
START = "2024-05-01T00:00:00Z"

# MMSIs with real maritime identification digits, so flags resolve (413 China, 636 Liberia,
# 440 Korea, 538 Marshall Islands, 352 Panama, 477 Hong Kong, 563 Singapore).
CLOSED_PAIR = (413000101, 636000102)
ACTIVE_CHN_PAIR = (413000201, 538000202)
ACTIVE_KOR_PAIR = (440000301, 352000302)
PASSER = 477000401
NAMES = {
    CLOSED_PAIR[0]: "OCEAN TANKER",
    CLOSED_PAIR[1]: "SEA FEEDER",
    ACTIVE_CHN_PAIR[0]: "EAST STAR",
    # Markup in a name must stay text on the map (upper case: AIS text has no lower case).
    ACTIVE_CHN_PAIR[1]: "MARSHALL <B>BOLD</B>",
    ACTIVE_KOR_PAIR[0]: "HAN RIVER",
    ACTIVE_KOR_PAIR[1]: "PANAMA SPIRIT",
    PASSER: "FAST BOX",
}


def zones_geojson() -> dict[str, Any]:
    """Two rectangles with Marine Regions attributes: China's and Korea's (made up)."""

    def zone(name: str, iso: str, sovereign: str, mrgid: int, box: tuple[float, ...]) -> Any:
        south, west, north, east = box
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        return {
            "type": "Feature",
            "properties": {
                "GEONAME": name,
                "SOVEREIGN1": sovereign,
                "ISO_SOV1": iso,
                "MRGID": mrgid,
                "POL_TYPE": "200NM",
            },
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    return {
        "type": "FeatureCollection",
        "features": [
            zone("Test Chinese EEZ", "CHN", "China", 8486, (27.0, 121.0, 33.0, 125.0)),
            zone("Test Korean EEZ", "KOR", "South Korea", 8327, (33.5, 124.5, 36.5, 128.0)),
        ],
    }


def scenario() -> list[Position | StaticReport]:
    """Five hours: a pair that meets for 3 h and parts, two pairs still together at the end."""
    a = Voyage(CLOSED_PAIR[0], START, 30.0, 123.0, ship_type=80, name=NAMES[CLOSED_PAIR[0]])
    a.drift(hours=3.5).sail(90, 12, hours=1.5)
    b_lat, b_lon = a.station(START, 90, 90)
    b = Voyage(CLOSED_PAIR[1], START, b_lat, b_lon, ship_type=80, name=NAMES[CLOSED_PAIR[1]])
    b.follow(a, hours=3.5, offset_m=90).sail(270, 12, hours=1.5)

    c = Voyage(ACTIVE_CHN_PAIR[0], START, 31.5, 122.6, ship_type=81, name=NAMES[ACTIVE_CHN_PAIR[0]])
    c.sail(180, 10, hours=1).drift(hours=4)
    d = Voyage(ACTIVE_CHN_PAIR[1], START, 31.2, 122.3, ship_type=80, name=NAMES[ACTIVE_CHN_PAIR[1]])
    d.go_to(*c.station(at("2024-05-01T01:00:00Z"), 80, 90), at_time="2024-05-01T01:00:00Z")
    d.follow(c, hours=4, offset_m=80)

    e = Voyage(ACTIVE_KOR_PAIR[0], START, 34.5, 126.0, ship_type=80, name=NAMES[ACTIVE_KOR_PAIR[0]])
    e.drift(hours=5)
    f_lat, f_lon = e.station(START, 120, 200)
    f = Voyage(
        ACTIVE_KOR_PAIR[1], START, f_lat, f_lon, ship_type=84, name=NAMES[ACTIVE_KOR_PAIR[1]]
    )
    f.follow(e, hours=5, offset_m=120, offset_bearing_deg=200)

    g = Voyage(PASSER, START, 29.0, 122.0, ship_type=70, name=NAMES[PASSER]).sail(45, 14, hours=5)
    return merged(a, b, c, d, e, f, g)


def at(iso: str) -> float:
    from detectors.timefmt import parse_iso_utc

    return parse_iso_utc(iso)


@dataclass(frozen=True)
class FilledStatus:
    """A filled status store and what went into it."""

    settings: Settings
    alerts: list[dict[str, Any]]
    positions: list[Position]
    eez_path: Path

    def latest_alerts(self) -> dict[str, dict[str, Any]]:
        """The last alert event of each encounter, by alert id."""
        latest: dict[str, dict[str, Any]] = {}
        for alert in self.alerts:
            latest[alert["alert_id"]] = alert
        return latest

    def last_positions(self) -> dict[int, Position]:
        last: dict[int, Position] = {}
        for position in self.positions:
            held = last.get(position.mmsi)
            if held is None or position.time_s >= held.time_s:
                last[position.mmsi] = position
        return last


def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def detect_alerts(
    records: list[Position | StaticReport], eez_path: Path, settings: Settings
) -> tuple[list[dict[str, Any]], EncounterDetector]:
    zones = load_zone_index(eez_path)
    detector = EncounterDetector(settings.detection, zones, None)
    validator = schema_validator()
    alerts: list[dict[str, Any]] = []
    for record in records:
        for event in detector.process(record):
            alert = alert_to_json(event)
            validator.validate(alert)
            alerts.append(alert)
    return alerts, detector


def fill_status_from_detector(settings: Settings, work_dir: Path) -> FilledStatus:
    """Run the scenario through the detector and the StatusWriter (see the module docstring)."""
    eez_path = work_dir / "zones.geojson"
    eez_path.write_text(json.dumps(zones_geojson()), encoding="utf-8")
    settings = dataclasses.replace(
        settings, reference=dataclasses.replace(settings.reference, eez_path=str(eez_path))
    )
    records = scenario()
    zones = load_zone_index(eez_path)
    detector = EncounterDetector(settings.detection, zones, None)
    validator = schema_validator()
    alerts: list[dict[str, Any]] = []
    positions: list[Position] = []

    async def fill() -> None:
        client = async_client(settings.redis)
        writer = StatusWriter(client, settings.redis)
        try:
            for number, record in enumerate(records, start=1):
                for event in detector.process(record):
                    alert = alert_to_json(event)
                    validator.validate(alert)
                    alerts.append(alert)
                    writer.note_alert(alert)
                if isinstance(record, Position):
                    positions.append(record)
                    writer.note_vessel(record, detector.identity(record.mmsi))
                if number % 50 == 0:
                    assert await writer.flush()
            assert await writer.flush()
        finally:
            await client.aclose()

    asyncio.run(fill())
    return FilledStatus(settings, alerts, positions, eez_path)


@dataclass
class RunningApi:
    base_url: str
    server: uvicorn.Server


@contextmanager
def serve(app: FastAPI) -> Iterator[RunningApi]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1 from a thread."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15.0
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield RunningApi(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)


def scenario_alerts(settings: Settings, work_dir: Path) -> list[dict[str, Any]]:
    """The scenario's alert events (schema-valid), in the order the detector published them."""
    eez_path = work_dir / "zones.geojson"
    eez_path.write_text(json.dumps(zones_geojson()), encoding="utf-8")
    alerts, _ = detect_alerts(scenario(), eez_path, settings)
    return alerts


def publish_alerts(settings: Settings, alerts: list[dict[str, Any]]) -> None:
    """Put alerts on the alert topic as the workers do: key = the vessel pair, value = JSON."""
    from kafka import KafkaProducer

    from detectors.alerts import pair_key
    from streams.kafka_clients import producer_kwargs
    from streams.topics import ensure_topics, topic_names

    ensure_topics(settings)
    topic = topic_names(settings.kafka).alerts
    producer = KafkaProducer(**producer_kwargs(settings.kafka))
    try:
        for alert in alerts:
            a, b = (v["mmsi"] for v in alert["vessels"])
            producer.send(
                topic,
                key=pair_key(a, b).encode(),
                value=json.dumps(alert, separators=(",", ":")).encode(),
            )
        producer.flush()
    finally:
        producer.close()


def fill_status_from_pipeline(settings: Settings, work_dir: Path) -> FilledStatus:
    """The same scenario through the live pipeline: NMEA lines -> `stswatch ingest` -> a
    real `stswatch worker` process -> Redis. `settings` must point at a broker and Redis.

    The positions returned are the ones the decoder reads back from the NMEA lines (AIS
    rounds coordinates and speeds); the alerts published on `sts.alerts.v1` must equal what
    the detector gives for those positions, and are returned in the detector's order.
    """
    eez_path = work_dir / "zones.geojson"
    eez_path.write_text(json.dumps(zones_geojson()), encoding="utf-8")
    settings = fast_group_settings(
        dataclasses.replace(
            settings, reference=dataclasses.replace(settings.reference, eez_path=str(eez_path))
        )
    )
    lines = nmea_lines(scenario())
    traffic = work_dir / "traffic.nmea"
    traffic.write_text("\n".join(lines) + "\n", encoding="utf-8")
    decoded = NmeaDecoder().decode_lines(lines, "traffic.nmea")
    positions = [r for r in decoded if isinstance(r, Position)]
    expected = offline_alerts([traffic], settings)
    validator = schema_validator()
    for alert in expected:
        validator.validate(alert)

    ensure_topics(settings)
    with workers(settings, work_dir, count=1) as started:
        ingest_files(settings, [traffic], compression_type=None)
        alerts = wait_for_alerts(settings, {a["event_id"] for a in expected}, workers_=started)
        assert unique_events(alerts) == {a["event_id"]: a for a in expected}
        _wait_for_status(settings, positions, expected)
    return FilledStatus(settings, expected, positions, eez_path)


def _wait_for_status(
    settings: Settings, positions: list[Position], alerts: list[dict[str, Any]]
) -> None:
    """Until Redis holds every vessel's last position and every encounter's latest event
    (status writes follow the alerts), at most a minute."""
    client = sync_client(settings.redis)
    keys = StatusKeys(settings.redis.key_prefix)
    last = {p.mmsi: p for p in sorted(positions, key=lambda p: p.time_s)}
    latest = {a["alert_id"]: a for a in alerts}

    def written() -> bool:
        for mmsi, position in last.items():
            if client.hget(keys.vessel(mmsi), "time_s") != str(position.time_s):
                return False
        for alert_id, alert in latest.items():
            text = client.get(keys.encounter(alert_id))
            if text is None or json.loads(str(text))["event_id"] != alert["event_id"]:
                return False
        return True

    deadline = time.monotonic() + 60
    while not written():
        assert time.monotonic() < deadline, "Redis status did not catch up with the alerts"
        time.sleep(0.5)
    client.close()
