"""A detector restored from its saved state carries on exactly as the original would."""

from __future__ import annotations

import json

from detectors.engine import EncounterDetector
from detectors.params import DetectionParams
from detectors.snapshot import detector_to_state, restore_detector
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
