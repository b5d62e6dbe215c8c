"""`stswatch detect` over files: ordering, formats, output (the offline shell of the core)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from config import settings as config
from stswatch.offline import run_detect
from tests.builders import Voyage, at, merged
from tests.nmea_lines import nmea_lines

START = "2024-05-01T00:00:00Z"


def sts_lines() -> list[str]:
    tanker = Voyage(636012345, START, 30.5, 123.0, ship_type=80, name="OCEAN TANKER")
    tanker.sail(90, 12, hours=1).drift(hours=5).sail(90, 12, hours=1)
    feeder = Voyage(413000001, START, 30.6, 123.3, ship_type=70, name="FEEDER ONE")
    meet_s = at("2024-05-01T01:00:00Z")
    feeder.go_to(*tanker.station(meet_s, 80, 90), meet_s).follow(tanker, hours=4.5)
    feeder.sail(0, 10, hours=1)
    return nmea_lines(merged(tanker, feeder))


def detect(path: Path) -> list[dict[str, object]]:
    out = io.StringIO()
    run_detect([str(path)], config.load(), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_file_sorted_by_vessel_gives_the_alerts_of_the_time_ordered_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = sts_lines()
    in_time_order = tmp_path / "by_time.nmea"
    in_time_order.write_text("\n".join(lines) + "\n")
    # The same lines grouped by vessel, as some exports are: hours out of time order.
    by_vessel = tmp_path / "by_vessel.nmea"
    by_vessel.write_text("\n".join(sorted(lines, key=lambda line: line.split(",")[6][:6])) + "\n")
    expected = detect(in_time_order)
    assert [a["event"] for a in expected][:1] == ["opened"]
    assert "reading the input again" not in capsys.readouterr().err
    assert detect(by_vessel) == expected
    assert "reading the input again, sorted in memory" in capsys.readouterr().err
