"""A detector restored from its saved state carries on exactly as the original would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from detectors.engine import EncounterDetector
from detectors.params import DetectionParams
from detectors.snapshot import (
    detector_to_state,
    restore_detector,
    track_from_state,
    track_to_state,
)
from tests.builders import Voyage, at, merged

START = "2024-05-01T00:00:00Z"


def test_a_restored_detector_emits_the_same_events_as_one_that_never_stopped() -> None:
    tanker = Voyage(636012345, START, 30.5, 123.0, ship_type=80, name="OCEAN TANKER")
    tanker.sail(90, 12, hours=1).drift(hours=5).sail(90, 12, hours=1)
    feeder = Voyage(413000001, START, 30.6, 123.3, ship_type=70, name="FEEDER ONE")
    meet_s = at("2024-05-01T01:00:00Z")
    feeder.go_to(*tanker.station(meet_s, 80, 90), meet_s).follow(tanker, hours=4.5)
    feeder.sail(0, 10, hours=1)
    records = merged(tanker, feeder)
    # Stop in the middle of the encounter, after it opened.
    split = next(i for i, r in enumerate(records) if r.time_s >= at("2024-05-01T03:40:00Z"))

    original = EncounterDetector(DetectionParams())
    before = original.process_all(records[:split])
    assert [e.event.kind for e in before][:1] == ["opened"]

    saved = json.loads(json.dumps(detector_to_state(original)))
    restored = EncounterDetector(DetectionParams())
    restore_detector(restored, saved)

    expected = original.process_all(records[split:]) + original.finish()
    actual = restored.process_all(records[split:]) + restored.finish()
    assert [e.event.kind for e in expected][-1] == "closed"
    assert actual == expected


def test_a_track_saved_in_version_1_with_whole_positions_is_read_as_today() -> None:
    """Workers saved tracks with whole positions before version 2; a rolling upgrade reads
    them. Version 1 is built here from today's state, each held position given back its
    other fields (what version 1 held and version 2 no longer keeps)."""
    tanker = Voyage(636012345, START, 30.5, 123.0, ship_type=80, name="OCEAN TANKER")
    tanker.sail(90, 12, hours=2)
    detector = EncounterDetector(DetectionParams())
    records = merged(tanker)
    detector.process_all(records[: len(records) // 2])
    track = detector.tracks[636012345]
    today = track_to_state(track)
    assert today[0] == 2
    assert today[2] is not None and today[3], "the tanker holds a carry and intervals"

    def whole(fix: list[Any]) -> list[Any]:
        time_s, lat, lon, sog_kn = fix
        return [636012345, time_s, lat, lon, sog_kn, 90.0, 90.0, 0, 1]

    version_1 = [1, today[1], whole(today[2])]
    version_1.append([[k, whole(first), whole(last)] for k, first, last in today[3]])
    version_1 += today[4:]
    assert track_to_state(track_from_state(version_1)) == today
    with pytest.raises(ValueError, match="unknown track state version 3"):
        track_from_state([3, *today[1:]])
