"""Unit tests of the API's and the alert delivery's pure parts (no Redis, no Kafka)."""

from __future__ import annotations

import dataclasses
import random
import warnings

import pytest
from prometheus_client import generate_latest

from config import settings as settings_module
from config.settings import Secret
from streams.alert_feed import AlertFilter, parse_alert, parse_duration_s
from streams.metrics import WorkerMetrics, lag_from_offsets
from streams.webhook import backoff_s, check_url, signature
from stswatch.api.app import (
    content_security_policy,
    create_app,
    parse_since,
    tile_origin,
    vessel_body,
)
from stswatch.api.auth import token_matches
from stswatch.api.errors import ApiError
from stswatch.commands.alerts import format_alert_line

ALERT = {
    "event": "updated",
    "event_time": "2024-05-01T02:40:00Z",
    "alert_id": "sts-fcd7a23b650eedadc74d",
    "vessels": [
        {
            "mmsi": 412643000,
            "name": "HONG SHUN 74",
            "flag": {"iso2": "CN"},
            "ship_type_text": "Tanker",
        },
        {"mmsi": 636473188, "name": None, "flag": None, "ship_type_text": None},
    ],
    "duration_s": 9000.0,
    "median_distance_m": 60.3,
    "min_distance_m": 40.3,
    "position": {"lat": 30.9021, "lon": -123.4557},
    "eez": {"name": "Chinese EEZ", "iso": "CHN"},
    "nearest_port": {"name": "Zhoushan", "distance_m": 12400.0},
}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3h", 10800),
        ("90m", 5400),
        ("2h30m", 9000),
        ("1.5h", 5400),
        ("45s", 45),
        ("1d", 86400),
        ("7200", 7200),
        (" 2H ", 7200),
        ("0", 0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "3x", "3h 2", "-1", "inf", "nan", "3hh", "h3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration_s(text)


def test_alert_filter() -> None:
    assert AlertFilter().matches(ALERT)
    assert AlertFilter(eez_iso=frozenset({"CHN"})).matches(ALERT)
    assert not AlertFilter(eez_iso=frozenset({"KOR"})).matches(ALERT)
    assert not AlertFilter(eez_iso=frozenset({"CHN"})).matches({**ALERT, "eez": None})
    assert AlertFilter(min_duration_s=9000).matches(ALERT)
    assert not AlertFilter(min_duration_s=9001).matches(ALERT)
    assert not AlertFilter(events=frozenset({"closed"})).matches(ALERT)


def test_parse_alert_refuses_what_is_not_an_alert() -> None:
    assert parse_alert(b'{"alert_id": "sts-1"}') == ({"alert_id": "sts-1"}, None)
    for value in (None, b"\xff", b"not json", b"[1]", b'{"id": 1}'):
        alert, error = parse_alert(value)
        assert alert is None and error


def test_alert_line_reads_like_a_sentence() -> None:
    line = format_alert_line(ALERT)
    assert line.startswith("2024-05-01 02:40:00Z UPDATED")
    assert "HONG SHUN 74 [CN, Tanker] + MMSI 636473188 [??]" in line
    assert "Chinese EEZ (CHN)" in line and "2 h 30 min" in line
    assert "median 60 m (min 40 m)" in line and "30.9021N 123.4557W" in line
    assert "12 km from Zhoushan" in line and line.endswith("sts-fcd7a23b650eedadc74d")


def test_webhook_signature_is_hmac_sha256() -> None:
    # RFC 4231, test case 2.
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signature("Jefe", b"what do ya want for nothing?") == f"sha256={expected}"


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (8, 10.0), (30, 10.0)]:
        for _ in range(50):
            delay = backoff_s(attempt, 0.5, 10.0, rng)
            assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize("url", ["ftp://x/", "localhost:8080", "", "http://"])
def test_webhook_url_must_be_http(url: str) -> None:
    with pytest.raises(settings_module.SettingsError):
        check_url(url)


def test_lag_counts_from_commit_or_earliest() -> None:
    end = {("t", 0): 10, ("t", 1): 7, ("t", 2): 3}
    lag = lag_from_offsets(end, {("t", 0): 4, ("t", 2): 5}, {("t", 0): 0, ("t", 1): 2})
    assert lag == {("t", 0): 6, ("t", 1): 5, ("t", 2): 0}


def test_worker_metrics_exposition() -> None:
    metrics = WorkerMetrics()
    metrics.count_message("ais.raw.v1", 3)
    metrics.count_decoded("position", 10)
    metrics.count_dead_letter("bad_checksum")
    metrics.count_late(4)
    metrics.count_hold()
    metrics.count_alert("opened", event_time_s=1000.0, published_at_s=1090.0)
    metrics.observe_processing(kafka_timestamp_s=50.0, done_at_s=50.2)
    metrics.set_state(active_encounters=2, tracked_vessels=31, status_pending=0)
    text = generate_latest(metrics.registry).decode()
    assert 'stswatch_messages_in_total{topic="ais.raw.v1"} 3.0' in text
    assert 'stswatch_records_decoded_total{kind="position"} 10.0' in text
    assert 'stswatch_dead_letters_total{reason="bad_checksum"} 1.0' in text
    assert "stswatch_late_positions_total 4.0" in text
    assert "stswatch_raw_partition_holds_total 1.0" in text
    assert 'stswatch_alerts_published_total{event="opened"} 1.0' in text
    assert 'stswatch_alert_latency_seconds_bucket{le="120.0"} 1.0' in text
    assert 'stswatch_alert_latency_seconds_bucket{le="60.0"} 0.0' in text
    assert 'stswatch_processing_latency_seconds_bucket{le="0.25"} 1.0' in text
    assert "stswatch_active_encounters 2.0" in text and "stswatch_tracked_vessels 31.0" in text
    # Separate instances never share counters.
    assert "stswatch_messages_in_total{" not in generate_latest(WorkerMetrics().registry).decode()


def test_since_needs_a_zone() -> None:
    assert parse_since("2024-05-01T00:00:00Z") == 1714521600.0
    assert parse_since("2024-05-01T08:00:00+08:00") == 1714521600.0
    assert parse_since(None) is None
    for bad in ("2024-05-01T00:00:00", "yesterday", ""):
        with pytest.raises(ApiError) as caught:
            parse_since(bad)
        assert caught.value.status_code == 422


def test_tile_origin_and_policy() -> None:
    assert tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "https://tile.openstreetmap.org"
    )
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    assert tile_origin("") == "" and tile_origin("javascript:alert(1)") == ""
    policy = content_security_policy("")
    assert "img-src 'self' data:;" in policy and "script-src 'self'" in policy


def test_token_comparison() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd") and not token_matches("abc", "ab")
    assert not token_matches("", "") and not token_matches("abc", None)


def test_vessel_hash_becomes_typed_fields() -> None:
    body = vessel_body(
        {
            "mmsi": "412643000",
            "lat": "30.9",
            "lon": "123.4",
            "time": "2024-05-01T00:00:00Z",
            "sog_kn": "0.3",
            "imo": "9549580",
            "flag_iso2": "CN",
            "flag_iso3": "CHN",
            "flag_name": "China",
            "nav_status": "1",
            "cog_deg": "",
        }
    )
    assert body["mmsi"] == 412643000 and body["imo"] == 9549580 and body["nav_status"] == 1
    assert body["position"] == {"lat": 30.9, "lon": 123.4} and body["sog_kn"] == 0.3
    assert body["cog_deg"] is None and body["heading_deg"] is None
    assert body["flag"] == {"iso2": "CN", "iso3": "CHN", "name": "China"}


def test_validation_and_auth_answer_before_redis_is_needed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    base = settings_module.load()
    settings = dataclasses.replace(
        base,
        redis=dataclasses.replace(base.redis, url="redis://127.0.0.1:1/0"),
        api=dataclasses.replace(base.api, bearer_token=Secret("t")),
    )
    with TestClient(create_app(settings, check_kafka=False), raise_server_exceptions=False) as c:
        assert c.get("/encounters").status_code == 401
        response = c.get(
            "/vessels?lat=100&lon=0&radius_km=1", headers={"Authorization": "Bearer t"}
        )
        assert response.status_code == 422
        assert response.json()["problems"][0]["parameter"] == "lat"
        down = c.get("/encounters", headers={"Authorization": "Bearer t"})
        assert down.status_code == 503 and down.json()["error"] == "redis_unavailable"


def test_alert_line_for_a_single_vessel_finding_with_risk() -> None:
    finding = {
        **ALERT,
        "type": "ais_gap",
        "vessels": ALERT["vessels"][:1],
        "median_distance_m": None,
        "min_distance_m": None,
        "risk": {"score": 35, "reasons": []},
    }
    line = format_alert_line(finding)
    assert "ais_gap: HONG SHUN 74 [CN, Tanker] |" in line
    assert "median" not in line and "| risk 35 |" in line
