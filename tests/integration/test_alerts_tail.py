"""`stswatch alerts tail` and the documented consumer example, against tansu with real alerts.

Alerts come from the detector over the API test scenario (schema-valid), published as the
workers publish them: key = the vessel pair, value = the alert JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings, to_toml
from detectors.alerts import pair_key
from streams.topics import topic_names
from stswatch import cli
from tests.integration.api_data import NAMES, publish_alerts, scenario_alerts

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def alerts(settings: Settings, tmp_path: Path) -> list[dict[str, Any]]:
    published = scenario_alerts(settings, tmp_path)
    publish_alerts(settings, published)
    return published


@pytest.fixture
def config_file(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(to_toml(settings), encoding="utf-8")
    return path


def by_key(alerts: list[dict[str, Any]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for alert in alerts:
        a, b = (v["mmsi"] for v in alert["vessels"])
        grouped[pair_key(a, b)].append(alert["event_id"])
    return dict(grouped)


def tail(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert cli.main(["alerts", "tail", *args]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if line]


def test_tail_json_prints_every_alert_in_order_per_pair(
    alerts: list[dict[str, Any]], config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tail(
        capsys,
        "--config",
        str(config_file),
        "--from-beginning",
        "--json",
        "--count",
        str(len(alerts)),
    )
    printed = [json.loads(line) for line in lines]
    assert sorted(a["event_id"] for a in printed) == sorted(a["event_id"] for a in alerts)
    assert by_key(printed) == by_key(alerts)
    assert all(p == next(a for a in alerts if a["event_id"] == p["event_id"]) for p in printed)


def test_tail_lines_name_vessels_zone_duration_and_position(
    alerts: list[dict[str, Any]], config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tail(
        capsys, "--config", str(config_file), "--from-beginning", "--count", str(len(alerts))
    )
    assert len(lines) == len(alerts)
    for line in lines:
        alert = next(
            a
            for a in alerts
            if a["alert_id"] in line and a["event_time"][:16] in line.replace(" ", "T")
        )
        for vessel in alert["vessels"]:
            assert NAMES[vessel["mmsi"]] in line
            assert f"[{vessel['flag']['iso2']}" in line
        assert alert["eez"]["name"] in line
        assert alert["event"].upper() in line
        hours, minutes = divmod(round(alert["duration_s"] / 60), 60)
        assert f"{hours} h {minutes:02d} min" in line
        assert f"median {alert['median_distance_m']:.0f} m" in line
        assert f"{abs(alert['position']['lat']):.4f}N" in line


@pytest.mark.parametrize(
    ("flags", "keep"),
    [
        (["--eez", "KOR"], lambda a: a["eez"]["iso"] == "KOR"),
        (["--eez", "chn"], lambda a: a["eez"]["iso"] == "CHN"),
        (["--min-duration", "3h"], lambda a: a["duration_s"] >= 3 * 3600),
        (
            ["--min-duration", "2h30m", "--eez", "KOR"],
            lambda a: a["duration_s"] >= 9000 and a["eez"]["iso"] == "KOR",
        ),
        (["--event", "closed"], lambda a: a["event"] == "closed"),
    ],
)
def test_tail_filters(
    alerts: list[dict[str, Any]],
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    keep: Any,
) -> None:
    wanted = [a for a in alerts if keep(a)]
    assert 0 < len(wanted) < len(alerts), "the filter must keep some and drop some"
    lines = tail(
        capsys,
        "--config",
        str(config_file),
        "--from-beginning",
        "--json",
        "--stop-after",
        "4s",
        *flags,
    )
    assert sorted(json.loads(line)["event_id"] for line in lines) == sorted(
        a["event_id"] for a in wanted
    )


def test_tail_without_from_beginning_prints_only_new_alerts(
    settings: Settings,
    alerts: list[dict[str, Any]],
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh = alerts[:2]
    done: dict[str, int] = {}

    def run() -> None:
        done["status"] = cli.main(
            [
                "alerts",
                "tail",
                "--config",
                str(config_file),
                "--json",
                "--stop-after",
                "12s",
                "--count",
                "2",
            ]
        )

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(3.0)  # the tail is positioned at the end by now
    publish_alerts(settings, fresh)
    thread.join(timeout=30.0)
    assert done["status"] == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert [p["event_id"] for p in printed] == [a["event_id"] for a in fresh]


def test_tail_bad_options_are_one_line_errors(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for flags in (["--eez", "CHINA"], ["--min-duration", "three hours"], ["--count", "0"]):
        assert cli.main(["alerts", "tail", "--config", str(config_file), *flags]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and error[0].startswith("stswatch alerts: error:")


def test_documented_consumer_example_receives_each_alert_once(
    settings: Settings, alerts: list[dict[str, Any]]
) -> None:
    # Redelivered duplicates (same event_id) must be dropped by the example.
    publish_alerts(settings, alerts[:3])
    topic = topic_names(settings.kafka).alerts
    process = subprocess.Popen(
        [
            sys.executable,
            str(PROJECT / "docs" / "consumer_example.py"),
            settings.kafka.bootstrap_servers,
            topic,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = threading.Timer(90.0, process.kill)
        deadline.start()
        try:
            while len(lines) < len(alerts):
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line.strip())
        finally:
            deadline.cancel()
        # Nothing more arrives for the three repeated events.
        time.sleep(2.0)
    finally:
        process.kill()
        rest, _ = process.communicate(timeout=10)
    lines += [line for line in rest.splitlines() if line]
    assert sorted(lines) == sorted(
        f"{a['event']} {a['alert_id']} " + " + ".join(NAMES[v["mmsi"]] for v in a["vessels"])
        for a in alerts
    )
