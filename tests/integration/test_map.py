"""The live map in headless Chromium, against the API over a real Redis.

Drives Debian's chromium through chromedriver with a minimal W3C WebDriver client (a few
HTTP calls), so no browser automation package is needed. Skipped when chromium or
chromedriver is not installed (`scripts/test.sh` installs both on Debian).

The page is loaded with no tile server (as on a machine without internet): the EEZ outlines,
the tracks and the list must still be there. A screenshot is kept as a test artefact in
`artifacts/map.png` (and copied to `docs/map.png` with STSWATCH_UPDATE_DOCS=1).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import settings as settings_module
from detectors.alerts import alert_to_json
from detectors.engine import EncounterDetector
from detectors.records import Position
from detectors.zones import load_zone_index
from streams.services import EmbeddedRedis, free_port
from streams.status import StatusWriter, async_client
from stswatch.api.app import create_app
from tests.builders import Voyage, merged
from tests.integration.api_data import (
    ACTIVE_CHN_PAIR,
    FilledStatus,
    RunningApi,
    fill_status_from_detector,
    schema_validator,
    serve,
)

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
]


class WebDriver:
    """Just enough of the W3C WebDriver protocol: open, run a script, screenshot."""

    def __init__(self, driver_url: str, session_id: str, http: httpx.Client) -> None:
        self.url = f"{driver_url}/session/{session_id}"
        self.http = http

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, self.url + path, json=body)
        payload = response.json()
        if response.status_code != 200:
            raise AssertionError(f"webdriver {path}: {payload['value']}")
        return payload["value"]

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, script: str, timeout_s: float = 20.0) -> Any:
        """Poll `script` until it returns something truthy."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.run(script)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for: {script}")
            time.sleep(0.2)

    def screenshot(self) -> bytes:
        return base64.b64decode(self._call("GET", "/screenshot"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    port = free_port()
    log = (tmp_path_factory.mktemp("chromedriver") / "chromedriver.log").open("wb")
    driver = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}"], stdout=log, stderr=subprocess.STDOUT
    )
    driver_url = f"http://127.0.0.1:{port}"
    http = httpx.Client(timeout=60.0)
    try:
        deadline = time.monotonic() + 20.0
        while True:
            try:
                if http.get(f"{driver_url}/status").json()["value"]["ready"]:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chromedriver did not start")
            time.sleep(0.1)
        profile = tmp_path_factory.mktemp("chromium-profile")
        capabilities = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"],
                    },
                }
            }
        }
        session = http.post(f"{driver_url}/session", json=capabilities).json()["value"]
        if "sessionId" not in session:
            pytest.fail(f"chromium did not start: {session}")
        web = WebDriver(driver_url, session["sessionId"], http)
        try:
            yield web
        finally:
            http.delete(web.url)
    finally:
        http.close()
        driver.terminate()
        driver.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def filled(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> FilledStatus:
    base = settings_module.load()
    redis = dataclasses.replace(
        redis_server.redis_settings(base.redis), key_prefix=f"test:map-{uuid.uuid4().hex[:8]}"
    )
    # No tiles: the page must draw outlines and tracks without any outside server.
    api = dataclasses.replace(base.api, tile_url="", map_refresh_s=1.0)
    settings = dataclasses.replace(base, redis=redis, api=api)
    return fill_status_from_detector(settings, tmp_path_factory.mktemp("map-data"))


@pytest.fixture(scope="module")
def api(filled: FilledStatus) -> Iterator[RunningApi]:
    with serve(create_app(filled.settings, check_kafka=False)) as running:
        yield running


def plant_encounter(filled: FilledStatus) -> str:
    """A new encounter near Zhoushan, written as a worker would; returns its alert id."""
    start = "2024-05-01T06:00:00Z"
    tanker = Voyage(416000501, start, 29.6, 123.6, ship_type=80, name="PLANTED TANKER")
    tanker.drift(hours=3)
    lat, lon = tanker.station(start, 70, 0)
    feeder = Voyage(667000502, start, lat, lon, ship_type=80, name="PLANTED FEEDER")
    feeder.follow(tanker, hours=3, offset_m=70, offset_bearing_deg=0)
    detector = EncounterDetector(filled.settings.detection, load_zone_index(filled.eez_path), None)
    validator = schema_validator()

    async def write() -> str:
        client = async_client(filled.settings.redis)
        writer = StatusWriter(client, filled.settings.redis)
        alert_id = ""
        for record in merged(tanker, feeder):
            for event in detector.process(record):
                alert = alert_to_json(event)
                validator.validate(alert)
                writer.note_alert(alert)
                alert_id = alert["alert_id"]
            if isinstance(record, Position):
                writer.note_vessel(record, detector.identity(record.mmsi))
        assert await writer.flush()
        await client.aclose()
        return alert_id

    alert_id = asyncio.run(write())
    assert alert_id, "the planted pair must raise an alert"
    return alert_id


def save_picture(picture: bytes, name: str, tmp_path: Path) -> None:
    """Keep a screenshot: in the test's tmp dir and in artifacts/ (and docs/ on request)."""
    (tmp_path / name).write_bytes(picture)
    artefacts = PROJECT / "artifacts"
    artefacts.mkdir(exist_ok=True)
    (artefacts / name).write_bytes(picture)
    if os.environ.get("STSWATCH_UPDATE_DOCS") == "1" and name == "map.png":
        (PROJECT / "docs" / name).write_bytes(picture)


def css_id(alert_id: str) -> str:
    return "".join(c for c in alert_id if c.isalnum() or c in "_-")


def expected_order(filled: FilledStatus) -> list[str]:
    latest = filled.latest_alerts().values()
    return [a["alert_id"] for a in sorted(latest, key=lambda a: a["event_time"], reverse=True)]


def test_map_shows_encounters_tracks_and_outlines_and_refreshes_by_itself(
    browser: WebDriver, api: RunningApi, filled: FilledStatus, tmp_path: Path
) -> None:
    browser.open(api.base_url + "/")
    browser.wait_for("return document.body.dataset.encounters === '3'")
    browser.wait_for("return document.body.dataset.eezFeatures === '2'")

    listed = browser.run(
        "return [...document.querySelectorAll('#alerts li')].map(li => li.dataset.alertId)"
    )
    assert listed == expected_order(filled), "newest first"
    for alert_id in listed:
        selector = css_id(alert_id)
        assert browser.run(f"return document.querySelectorAll('path.track-{selector}').length") == 2
        assert (
            browser.run(f"return document.querySelectorAll('path.encounter-{selector}').length")
            == 1
        )
    assert browser.run("return document.querySelectorAll('path.eez-outline').length") == 2

    # A vessel name with markup is shown as text, not run as HTML.
    texts = browser.run(
        "return [...document.querySelectorAll('#alerts li')].map(li => li.textContent)"
    )
    assert any("MARSHALL <B>BOLD</B>" in text for text in texts)
    assert browser.run("return document.querySelectorAll('#alerts b').length") == 0
    assert browser.run("return document.body.dataset.cspViolations") == "0"

    overview = browser.screenshot()
    assert overview.startswith(b"\x89PNG")
    save_picture(overview, "map.png", tmp_path)

    # An encounter planted after the page loaded appears without a reload.
    planted = plant_encounter(filled)
    browser.wait_for("return document.body.dataset.encounters === '4'")
    listed = browser.run(
        "return [...document.querySelectorAll('#alerts li')].map(li => li.dataset.alertId)"
    )
    assert listed[0] == planted, "the newest alert comes first"
    selector = css_id(planted)
    browser.wait_for(f"return document.querySelectorAll('path.track-{selector}').length === 2")

    # Clicking it in the list zooms to it and opens its description.
    browser.run(f"document.querySelector('#alerts li[data-alert-id=\"{planted}\"]').click()")
    popup = browser.wait_for(
        "const p = document.querySelector('.leaflet-popup-content'); return p && p.textContent"
    )
    assert planted in popup and "PLANTED TANKER" in popup
    assert browser.run("return document.querySelector('#alerts li.selected').dataset.alertId") == (
        planted
    )
    chn = [a for a in filled.latest_alerts().values() if a["vessels"][0]["mmsi"] in ACTIVE_CHN_PAIR]
    assert chn, "the scenario's active Chinese-zone pair is listed"

    # The popup stays open across refreshes (the page redraws only what changed).
    time.sleep(2.5)
    assert browser.run("return document.querySelectorAll('.leaflet-popup').length") == 1
    save_picture(browser.screenshot(), "map-zoomed.png", tmp_path)


def test_map_asks_for_the_token_when_the_api_needs_one(
    browser: WebDriver, filled: FilledStatus
) -> None:
    from config.settings import Secret

    settings = dataclasses.replace(
        filled.settings,
        api=dataclasses.replace(filled.settings.api, bearer_token=Secret("map-token")),
    )
    with serve(create_app(settings, check_kafka=False)) as running:
        browser.open(running.base_url + "/")
        browser.run("sessionStorage.clear()")
        browser.open(running.base_url + "/")
        browser.wait_for("return !document.getElementById('login').hidden")
        assert browser.run("return document.body.dataset.encounters") is None
        browser.run(
            "document.getElementById('token').value = 'map-token';"
            "document.getElementById('login').requestSubmit();"
        )
        count = browser.wait_for("return document.body.dataset.encounters")
        assert int(count) >= 3
