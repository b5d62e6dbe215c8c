"""The status API against a real Redis filled the way the workers fill it (see api_data).

Expectations come from the scenario's inputs (positions fed, alerts published, the zones
file), computed here independently of the API: last positions, great-circle distances,
the last event of each encounter, the history of events.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import settings as settings_module
from config.settings import Secret, Settings
from detectors.geodesy import haversine_m
from detectors.timefmt import iso_utc, parse_iso_utc
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port
from stswatch.api.app import TRACK_MARGIN_S, create_app
from tests.integration.api_data import (
    ACTIVE_CHN_PAIR,
    ACTIVE_KOR_PAIR,
    CLOSED_PAIR,
    NAMES,
    PASSER,
    FilledStatus,
    RunningApi,
    fill_status_from_detector,
    fill_status_from_pipeline,
    schema_validator,
    serve,
)

pytestmark = pytest.mark.integration

# Flags from the ITU maritime identification digits (the first three digits of the MMSI).
EXPECTED_FLAG_ISO2 = {413: "CN", 636: "LR", 538: "MH", 440: "KR", 352: "PA", 477: "HK"}


@pytest.fixture(scope="module", params=["detector", "pipeline"])
def filled(
    request: pytest.FixtureRequest,
    broker: EmbeddedBroker,
    redis_server: EmbeddedRedis,
    tmp_path_factory: pytest.TempPathFactory,
) -> FilledStatus:
    """Redis filled by the detector and a StatusWriter, and by the live pipeline (a real
    worker process): every endpoint test runs against both."""
    base = settings_module.load()
    token = uuid.uuid4().hex[:8]
    redis = dataclasses.replace(
        redis_server.redis_settings(base.redis), key_prefix=f"test:api-{token}"
    )
    settings = dataclasses.replace(base, redis=redis)
    work_dir = tmp_path_factory.mktemp(f"api-data-{request.param}")
    if request.param == "detector":
        return fill_status_from_detector(settings, work_dir)
    kafka = dataclasses.replace(
        broker.kafka_settings(base.kafka), topic_prefix=f"t-api-{token}.", partitions=2
    )
    stream = dataclasses.replace(base.stream, app_id=f"app-api-{token}")
    return fill_status_from_pipeline(
        dataclasses.replace(settings, kafka=kafka, stream=stream), work_dir
    )


@pytest.fixture(scope="module")
def api(filled: FilledStatus) -> Iterator[RunningApi]:
    with serve(create_app(filled.settings, check_kafka=False)) as running:
        yield running


@pytest.fixture
def client(api: RunningApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, timeout=10.0) as http:
        yield http


def expected_active(filled: FilledStatus) -> dict[str, dict[str, Any]]:
    return {i: a for i, a in filled.latest_alerts().items() if a["event"] != "closed"}


def expected_closed(filled: FilledStatus) -> dict[str, dict[str, Any]]:
    return {i: a for i, a in filled.latest_alerts().items() if a["event"] == "closed"}


def alert_of_pair(filled: FilledStatus, pair: tuple[int, int]) -> dict[str, Any]:
    for alert in filled.latest_alerts().values():
        if {v["mmsi"] for v in alert["vessels"]} == set(pair):
            return alert
    raise AssertionError(f"no alert for {pair}")


# --- the scenario itself ---------------------------------------------------------------


def test_scenario_has_one_closed_and_two_active_encounters(filled: FilledStatus) -> None:
    closed = expected_closed(filled)
    active = expected_active(filled)
    assert len(closed) == 1 and len(active) == 2
    assert {v["mmsi"] for v in next(iter(closed.values()))["vessels"]} == set(CLOSED_PAIR)
    assert {a["eez"]["iso"] for a in active.values()} == {"CHN", "KOR"}


# --- vessels ---------------------------------------------------------------------------


@pytest.mark.parametrize("mmsi", [*CLOSED_PAIR, *ACTIVE_CHN_PAIR, *ACTIVE_KOR_PAIR, PASSER])
def test_vessel_status_is_its_last_position_identity_and_encounters(
    client: httpx.Client, filled: FilledStatus, mmsi: int
) -> None:
    response = client.get(f"/vessels/{mmsi}")
    assert response.status_code == 200
    body = response.json()
    last = filled.last_positions()[mmsi]
    assert body["mmsi"] == mmsi
    assert body["position"]["lat"] == pytest.approx(last.lat, abs=1e-6)
    assert body["position"]["lon"] == pytest.approx(last.lon, abs=1e-6)
    assert body["time"] == iso_utc(last.time_s)
    assert body["name"] == NAMES[mmsi]
    assert body["flag"]["iso2"] == EXPECTED_FLAG_ISO2[mmsi // 1_000_000]
    assert body["sog_kn"] == pytest.approx(last.sog_kn)
    wanted = sorted(
        i for i, a in expected_active(filled).items() if mmsi in {v["mmsi"] for v in a["vessels"]}
    )
    assert sorted(a["alert_id"] for a in body["active_encounters"]) == wanted


def test_unknown_vessel_is_a_404_with_a_json_error(client: httpx.Client) -> None:
    response = client.get("/vessels/999999999")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "999999999" in response.json()["message"]


@pytest.mark.parametrize(("lat", "lon", "radius_km"), [(30.0, 123.0, 60.0), (34.5, 126.0, 5.0)])
def test_vessels_near_a_point_are_those_within_the_radius_nearest_first(
    client: httpx.Client, filled: FilledStatus, lat: float, lon: float, radius_km: float
) -> None:
    distances_km = {
        mmsi: haversine_m(lat, lon, p.lat, p.lon) / 1000.0
        for mmsi, p in filled.last_positions().items()
    }
    # Redis' geo index stores positions to about 0.6 m: leave vessels on the rim out of it.
    assert all(abs(d - radius_km) > 0.01 for d in distances_km.values())
    inside = {mmsi for mmsi, d in distances_km.items() if d <= radius_km}
    assert inside, "the chosen point must have vessels around it"

    response = client.get("/vessels", params={"lat": lat, "lon": lon, "radius_km": radius_km})
    assert response.status_code == 200
    body = response.json()
    found = [v["mmsi"] for v in body["vessels"]]
    assert set(found) == inside
    assert body["count"] == len(inside)
    returned_km = [v["distance_km"] for v in body["vessels"]]
    assert returned_km == sorted(returned_km)
    for vessel in body["vessels"]:
        assert vessel["distance_km"] == pytest.approx(distances_km[vessel["mmsi"]], rel=0.005)


def test_vessels_near_honours_the_limit(client: httpx.Client) -> None:
    response = client.get("/vessels", params={"lat": 30, "lon": 123, "radius_km": 1000, "limit": 2})
    assert response.status_code == 200
    assert response.json()["count"] == 2


# --- encounters ------------------------------------------------------------------------


def test_active_encounters_are_the_latest_alert_of_each_open_encounter(
    client: httpx.Client, filled: FilledStatus
) -> None:
    response = client.get("/encounters")
    assert response.status_code == 200
    body = response.json()
    expected = expected_active(filled)
    assert body["state"] == "active"
    assert {a["alert_id"]: a for a in body["encounters"]} == expected
    times = [a["event_time"] for a in body["encounters"]]
    assert times == sorted(times, reverse=True), "newest first"


def test_closed_encounters(client: httpx.Client, filled: FilledStatus) -> None:
    response = client.get("/encounters", params={"state": "closed"})
    assert response.status_code == 200
    assert {a["alert_id"]: a for a in response.json()["encounters"]} == expected_closed(filled)


@pytest.mark.parametrize("code", ["KOR", "kor", "CHN"])
def test_encounters_by_eez(client: httpx.Client, filled: FilledStatus, code: str) -> None:
    response = client.get("/encounters", params={"eez": code})
    assert response.status_code == 200
    expected = {i for i, a in expected_active(filled).items() if a["eez"]["iso"] == code.upper()}
    assert {a["alert_id"] for a in response.json()["encounters"]} == expected
    closed = client.get("/encounters", params={"eez": code, "state": "closed"}).json()
    expected_closed_ids = {
        i for i, a in expected_closed(filled).items() if a["eez"]["iso"] == code.upper()
    }
    assert {a["alert_id"] for a in closed["encounters"]} == expected_closed_ids


def test_encounters_since_keeps_those_seen_at_or_after_it(
    client: httpx.Client, filled: FilledStatus
) -> None:
    closed = next(iter(expected_closed(filled).values()))
    end_s = parse_iso_utc(closed["end"])
    before = client.get("/encounters", params={"state": "closed", "since": iso_utc(end_s - 60)})
    after = client.get("/encounters", params={"state": "closed", "since": iso_utc(end_s + 60)})
    assert [a["alert_id"] for a in before.json()["encounters"]] == [closed["alert_id"]]
    assert after.json()["encounters"] == []
    # Other time zones mean the same instant.
    same = client.get(
        "/encounters", params={"state": "closed", "since": "2024-05-01T08:00:00+08:00"}
    )
    assert [a["alert_id"] for a in same.json()["encounters"]] == [closed["alert_id"]]
    latest_active = max(parse_iso_utc(a["last_seen"]) for a in expected_active(filled).values())
    none_active = client.get("/encounters", params={"since": iso_utc(latest_active + 1)})
    assert none_active.json()["count"] == 0


def test_alerts_served_by_the_api_are_the_published_ones_and_valid(
    client: httpx.Client, filled: FilledStatus
) -> None:
    validator = schema_validator()
    served = client.get("/encounters").json()["encounters"]
    served += client.get("/encounters", params={"state": "closed"}).json()["encounters"]
    assert len(served) == len(filled.latest_alerts())
    for alert in served:
        validator.validate(alert)
        assert alert == filled.latest_alerts()[alert["alert_id"]]


def test_encounter_detail_has_the_whole_history_and_both_tracks(
    client: httpx.Client, filled: FilledStatus
) -> None:
    settings = filled.settings.redis
    for pair in (CLOSED_PAIR, ACTIVE_KOR_PAIR):
        alert = alert_of_pair(filled, pair)
        response = client.get(f"/encounters/{alert['alert_id']}")
        assert response.status_code == 200
        body = response.json()
        assert body["alert"] == alert
        published = [a for a in filled.alerts if a["alert_id"] == alert["alert_id"]]
        assert [e["event_id"] for e in body["history"]] == [e["event_id"] for e in published]

        features = body["tracks"]["features"]
        lines = [f for f in features if f["properties"]["role"] in ("a", "b")]
        points = [f for f in features if f["properties"]["role"] == "encounter"]
        assert [f["properties"]["mmsi"] for f in lines] == [v["mmsi"] for v in alert["vessels"]]
        assert points[0]["geometry"]["coordinates"] == [
            alert["position"]["lon"],
            alert["position"]["lat"],
        ]
        start_s = parse_iso_utc(alert["start"]) - TRACK_MARGIN_S
        end_s = parse_iso_utc(alert["end"]) + TRACK_MARGIN_S if alert["end"] else float("inf")
        for line in lines:
            mmsi = line["properties"]["mmsi"]
            assert line["geometry"]["type"] == "LineString"
            coordinates = line["geometry"]["coordinates"]
            times = [parse_iso_utc(t) for t in line["properties"]["times"]]
            assert len(coordinates) == len(times) >= 2
            assert len(coordinates) <= settings.track_points
            assert all(start_s <= t <= end_s for t in times)
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert min(gaps) >= settings.track_interval_s
            fed = {p.time_s: (p.lon, p.lat) for p in filled.positions if p.mmsi == mmsi}
            for time_s, (lon, lat) in zip(times, coordinates, strict=True):
                assert (lon, lat) == pytest.approx(fed[time_s], abs=1e-5)


def test_unknown_encounter_is_a_404(client: httpx.Client) -> None:
    response = client.get("/encounters/sts-00000000000000000000")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- map support, OpenAPI, metrics -----------------------------------------------------


def test_eez_outlines_are_the_configured_zones(client: httpx.Client, filled: FilledStatus) -> None:
    response = client.get("/eez")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    features = response.json()["features"]
    given = json.loads(Path(filled.eez_path).read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["iso"] for f in features] == [
        g["properties"]["ISO_SOV1"] for g in given
    ]
    for feature, original in zip(features, given, strict=True):
        # A rectangle stays a rectangle under simplification.
        got = {tuple(c) for c in feature["geometry"]["coordinates"][0]}
        assert got == {tuple(c) for c in original["geometry"]["coordinates"][0]}


def test_map_page_and_its_bundled_assets_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "/static/vendor/leaflet/leaflet.js" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "https://tile.openstreetmap.org" in policy
    for asset in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "map.js", "map.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    licence = client.get("/static/vendor/leaflet/LICENSE")
    assert licence.status_code == 200 and "BSD" in licence.text
    config = client.get("/map/config").json()
    assert config["auth_required"] is False and config["refresh_s"] > 0


def test_openapi_describes_every_endpoint(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    for path in (
        "/vessels/{mmsi}",
        "/vessels",
        "/encounters",
        "/encounters/{alert_id}",
        "/eez",
        "/healthz",
        "/metrics",
    ):
        assert "get" in paths[path], path
    parameters = {p["name"] for p in paths["/encounters"]["get"]["parameters"]}
    assert parameters == {"state", "eez", "since", "limit"}
    assert {"Alert", "Vessel", "EncounterDetail", "ErrorBody"} <= set(
        document["components"]["schemas"]
    )


def test_metrics_count_requests_and_read_the_status_store(
    client: httpx.Client, filled: FilledStatus
) -> None:
    client.get(f"/vessels/{PASSER}")
    client.get("/vessels/999999999")
    text = client.get("/metrics").text
    assert 'stswatch_api_requests_total{method="GET",route="/vessels/{mmsi}",status="200"}' in text
    assert 'route="/vessels/{mmsi}",status="404"' in text
    assert f"stswatch_status_active_encounters {float(len(expected_active(filled)))}" in text
    assert f"stswatch_status_closed_encounters {float(len(expected_closed(filled)))}" in text
    assert f"stswatch_status_vessels {float(len(filled.last_positions()))}" in text
    assert "stswatch_redis_up 1.0" in text


# --- validation, errors, auth, CORS ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/vessels/abc", "mmsi"),
        ("/vessels/0", "mmsi"),
        ("/vessels/1000000000", "mmsi"),
        ("/vessels?lat=91&lon=0&radius_km=1", "lat"),
        ("/vessels?lat=0&lon=-181&radius_km=1", "lon"),
        ("/vessels?lat=0&lon=0&radius_km=0", "radius_km"),
        ("/vessels?lat=0&lon=0&radius_km=5000", "radius_km"),
        ("/vessels?lat=0&lon=0&radius_km=nan", "radius_km"),
        ("/vessels?lat=0&lon=0", "radius_km"),
        ("/vessels?lat=0&lon=0&radius_km=1&limit=0", "limit"),
        ("/encounters?state=open", "state"),
        ("/encounters?eez=CN", "eez"),
        ("/encounters?eez=C1N", "eez"),
        ("/encounters?since=yesterday", "since"),
        ("/encounters?since=2024-05-01T00:00:00", "since"),
        ("/encounters?limit=100000", "limit"),
        ("/encounters?stat=active", "stat"),
        ("/encounters?state=active&state=closed", "state"),
        ("/encounters/not-an-id", "alert_id"),
        ("/eez?simplify=1", "simplify"),
    ],
)
def test_invalid_parameters_are_a_422_naming_the_parameter(
    client: httpx.Client, path: str, parameter: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_parameter"
    assert parameter in [p["parameter"] for p in body["problems"]]
    assert "Traceback" not in response.text


def test_unknown_paths_and_methods_answer_json(client: httpx.Client) -> None:
    missing = client.get("/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.post("/encounters")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_cors_is_closed_by_default(client: httpx.Client) -> None:
    response = client.get("/encounters", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/encounters",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def _with_api(settings: Settings, **api_changes: Any) -> Settings:
    return dataclasses.replace(settings, api=dataclasses.replace(settings.api, **api_changes))


def test_cors_allows_only_the_configured_origins(filled: FilledStatus) -> None:
    settings = _with_api(filled.settings, cors_origins=("https://ops.example",))
    with (
        serve(create_app(settings, check_kafka=False)) as running,
        httpx.Client(base_url=running.base_url) as http,
    ):
        allowed = http.get("/encounters", headers={"Origin": "https://ops.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
        other = http.get("/encounters", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_bearer_token_guards_the_data_but_not_the_page_or_health(filled: FilledStatus) -> None:
    token = "s3cret-token-for-tests"
    settings = _with_api(filled.settings, bearer_token=Secret(token))
    with (
        serve(create_app(settings, check_kafka=False)) as running,
        httpx.Client(base_url=running.base_url) as http,
    ):
        for path in ("/encounters", f"/vessels/{PASSER}", "/eez", "/metrics"):
            missing = http.get(path)
            assert missing.status_code == 401, path
            assert missing.json()["error"] == "unauthorized"
            assert missing.headers["www-authenticate"].startswith("Bearer")
            wrong = http.get(path, headers={"Authorization": f"Bearer {token}x"})
            assert wrong.status_code == 401
            basic = http.get(path, headers={"Authorization": f"Basic {token}"})
            assert basic.status_code == 401
            right = http.get(path, headers={"Authorization": f"Bearer {token}"})
            assert right.status_code == 200, path
        for path in ("/", "/healthz", "/map/config", "/openapi.json", "/static/map.js"):
            assert http.get(path).status_code == 200, path
        assert http.get("/map/config").json()["auth_required"] is True
        # The token is never echoed back.
        assert token not in http.get("/encounters").text


def test_redis_down_is_a_503_not_a_traceback(filled: FilledStatus) -> None:
    redis = dataclasses.replace(filled.settings.redis, url=f"redis://127.0.0.1:{free_port()}/0")
    settings = dataclasses.replace(filled.settings, redis=redis)
    with (
        serve(create_app(settings, check_kafka=False)) as running,
        httpx.Client(base_url=running.base_url) as http,
    ):
        response = http.get("/encounters")
        assert response.status_code == 503
        assert response.json()["error"] == "redis_unavailable"
        health = http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["checks"]["redis"]["ok"] is False
        assert "stswatch_redis_up 0.0" in http.get("/metrics").text
