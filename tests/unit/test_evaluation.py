"""`stswatch evaluate` on hand-made truth and alerts: perfect, empty, false positive, decoy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detectors.timefmt import parse_iso_utc
from stswatch.cli import main
from stswatch.evaluation import (
    AlertFileError,
    collapse_alerts,
    evaluate,
    evaluate_files,
    to_json,
)
from stswatch.simulator.truth import TruthEvent, truth_document

T0 = parse_iso_utc("2024-05-01T00:00:00Z")
H = 3600.0


def event(
    event_id: str, category: str, mmsis: tuple[int, int], start_h: float, end_h: float
) -> TruthEvent:
    expect = category in ("sts", "sts_reception_gap")
    return TruthEvent(
        id=event_id,
        category=category,
        expect_alert=expect,
        mmsis=tuple(sorted(mmsis)),
        start_s=T0 + start_h * H,
        end_s=T0 + end_h * H,
        lat=30.9,
        lon=123.4,
    )


TRUTH = [
    event("sts-1", "sts", (412000001, 636000001), 2.0, 6.0),
    event("sts-2", "sts", (538000002, 440000002), 10.0, 13.0),
    event("meeting", "short_meeting", (413000003, 538000003), 3.0, 3.75),
    event("high-seas", "high_seas_sts", (636000004, 372000004), 4.0, 9.0),
]


def iso(hours: float) -> str:
    from detectors.timefmt import iso_utc

    return iso_utc(T0 + hours * H)


def alert_lines(
    alert_id: str, mmsis: tuple[int, int], start_h: float, end_h: float | None, kind: str = "sts"
) -> list[str]:
    """The events a detector emits for one encounter: opened, an update, closed."""
    vessels = [{"mmsi": m, "name": f"V{m}"} for m in mmsis]
    base = {
        "schema_version": 1,
        "alert_id": alert_id,
        "type": kind,
        "vessels": vessels,
        "start": iso(start_h),
    }
    opened = {**base, "event": "opened", "end": None, "last_seen": iso(start_h + 2.0)}
    updated = {**base, "event": "updated", "end": None, "last_seen": iso(start_h + 2.5)}
    events = [opened, updated]
    if end_h is not None:
        events.append({**base, "event": "closed", "end": iso(end_h), "last_seen": iso(end_h)})
    return [json.dumps(e) for e in events]


def test_collapse_gives_one_encounter_per_alert_id_spanning_all_its_events() -> None:
    lines = alert_lines("a1", (636000001, 412000001), 2.1, 6.0) + alert_lines(
        "a2", (440000002, 538000002), 10.2, None
    )
    encounters, read, ignored = collapse_alerts(lines)
    assert (read, ignored) == (5, 0)
    a1, a2 = encounters
    assert a1.pair == (412000001, 636000001) and a1.events == 3
    assert a1.start_s == T0 + 2.1 * H and a1.end_s == T0 + 6.0 * H
    # still open: the encounter runs to the last time the pair was seen
    assert a2.end_s == T0 + 12.7 * H


def test_perfect_alerts_score_one() -> None:
    lines = alert_lines("a1", (412000001, 636000001), 1.9, 6.0) + alert_lines(
        "a2", (538000002, 440000002), 10.0, 13.1
    )
    result = evaluate(collapse_alerts(lines)[0], TRUTH)
    assert result.precision == 1.0 and result.recall == 1.0 and result.f1 == 1.0
    assert not result.decoy_alerts and not result.unmatched_alerts and not result.missed_events
    by_category = {c.category: c for c in result.categories()}
    assert by_category["sts"].recall == 1.0
    assert by_category["short_meeting"].false_positives == 0


def test_no_alerts_means_zero_recall_and_no_precision() -> None:
    result = evaluate([], TRUTH)
    assert result.recall == 0.0
    assert result.precision is None  # nothing alerted: precision is undefined, not 0 or 1
    assert result.f1 == 0.0
    assert [e.id for e in result.missed_events] == ["sts-1", "sts-2"]


def test_an_alert_matching_nothing_is_a_false_positive() -> None:
    lines = (
        alert_lines("a1", (412000001, 636000001), 2.0, 6.0)
        + alert_lines("a2", (538000002, 440000002), 10.0, 13.0)
        + alert_lines("stray", (111000001, 222000002), 15.0, 18.0)
    )
    result = evaluate(collapse_alerts(lines)[0], TRUTH)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == 1.0
    assert result.f1 == pytest.approx(0.8)
    assert [a.alert_id for a in result.unmatched_alerts] == ["stray"]


def test_a_decoy_that_alerts_costs_precision_and_is_named() -> None:
    lines = alert_lines("a1", (412000001, 636000001), 2.0, 6.0) + alert_lines(
        "decoy", (636000004, 372000004), 4.5, 9.0
    )
    result = evaluate(collapse_alerts(lines)[0], TRUTH)
    assert result.precision == 0.5 and result.recall == 0.5
    assert [(a.alert_id, e.id) for a, e in result.decoy_alerts] == [("decoy", "high-seas")]
    by_category = {c.category: c for c in result.categories()}
    assert by_category["high_seas_sts"].false_positives == 1
    assert by_category["sts"].recall == 0.5
    assert not result.unmatched_alerts


def test_right_pair_at_the_wrong_time_does_not_match_beyond_the_tolerance() -> None:
    # one closed alert from 0:00 to 0:30, 1.5 h before the planted transfer began
    closed = {
        "alert_id": "early",
        "event": "closed",
        "type": "sts",
        "start": iso(0.0),
        "end": iso(0.5),
        "last_seen": iso(0.5),
        "vessels": [{"mmsi": 412000001}, {"mmsi": 636000001}],
    }
    early = [json.dumps(closed)]
    result = evaluate(collapse_alerts(early)[0], TRUTH, tolerance_s=H)
    assert [a.alert_id for a in result.unmatched_alerts] == ["early"]
    result = evaluate(collapse_alerts(early)[0], TRUTH, tolerance_s=2 * H)
    assert not result.unmatched_alerts


def test_alerts_of_other_types_are_ignored() -> None:
    lines = alert_lines("dark", (412000001, 636000001), 2.0, 6.0, kind="dark_activity")
    encounters, read, ignored = collapse_alerts(lines)
    assert encounters == [] and (read, ignored) == (3, 3)


def test_malformed_alert_lines_are_a_clear_error() -> None:
    with pytest.raises(AlertFileError, match="line 2"):
        collapse_alerts(
            [
                '{"alert_id": "a", "vessels": [{"mmsi": 1}], "start": "2024-05-01T00:00:00Z"}',
                "{oops",
            ]
        )
    with pytest.raises(AlertFileError, match="mmsi"):
        collapse_alerts(
            ['{"alert_id": "a", "vessels": [{"name": "X"}], "start": "2024-05-01T00:00:00Z"}']
        )


def test_command_prints_scores_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth_document("hand", 1, T0, T0 + 24 * H, 8, TRUTH)))
    alerts_path = tmp_path / "alerts.jsonl"
    alerts_path.write_text(
        "\n".join(
            alert_lines("a1", (412000001, 636000001), 2.0, 6.0)
            + alert_lines("decoy", (413000003, 538000003), 3.0, 4.0)
        )
        + "\n"
    )
    assert main(["evaluate", "--truth", str(truth_path), "--alerts", str(alerts_path)]) == 0
    text = capsys.readouterr().out
    assert "precision 0.500" in text and "recall    0.500" in text
    assert "meeting (short_meeting)" in text
    assert (
        main(["evaluate", "--truth", str(truth_path), "--alerts", str(alerts_path), "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["precision"] == 0.5 and data["recall"] == 0.5
    assert data["decoys_alerted"][0]["event_id"] == "meeting"
    by_type = data.pop("by_type")
    assert data == to_json(evaluate_files(truth_path, alerts_path))
    assert set(by_type) == {"sts"} and by_type["sts"] == data


def test_missing_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--truth", str(tmp_path / "no.json"), "--alerts", "x"]) == 2
    assert "not found" in capsys.readouterr().err
