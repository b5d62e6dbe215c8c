"""Scoring alerts against a simulation's truth (`stswatch evaluate`).

Alerts arrive as JSON Lines of alert events (`opened`, `updated`, `closed`), several per
encounter. They are collapsed into one encounter per `alert_id`: its pair is the sorted
MMSIs of its vessels, its start the earliest `start`, its end the latest `end` (or
`last_seen` while the alert was still open).

Each alert type is scored on its own (`evaluate(..., alert_type=...)`; "sts" by default,
`evaluate_by_type` for all): alerts of that type against the truth events about that type
(each truth event names its `alert_type`). An alert that matches no event of its own type
but an event about another detection (the STS alert of a pair whose planted case is a dark
transfer, say) is *incidental*: neither right nor wrong for its type, it is counted apart
and left out of precision.

An encounter matches a truth event when its two vessels are among the event's vessels and
the times overlap, each end widened by a tolerance (default one hour: a detector reports an
encounter from the moment the pair came within range, which may be before the planted
alongside interval, and rounds to its tick). Then:

- precision = encounters matching an event that should alert / all encounters;
- recall = events that should alert and were matched / all such events;
- F1 = their harmonic mean;
- per category: for true categories the recall, for decoys how many alerted (each one is a
  false positive); decoys that alerted and encounters that match nothing are listed.

A ratio whose denominator is zero is reported as null ("n/a"), never as 0 or 1.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detectors.anomalies.params import ALERT_TYPES
from detectors.errors import StswatchError
from detectors.timefmt import iso_utc, parse_iso_utc
from stswatch.simulator.truth import TruthEvent, read_truth

DEFAULT_TOLERANCE_S = 3600.0


class AlertFileError(StswatchError):
    """An alerts file is missing or has a line that is not an alert event."""


@dataclass(frozen=True, slots=True)
class Encounter:
    """All events of one alert, collapsed."""

    alert_id: str
    pair: tuple[int, ...]
    start_s: float
    end_s: float
    events: int
    alert_type: str = "sts"


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    expect_alert: bool
    events: int
    alerted: int

    @property
    def recall(self) -> float | None:
        if not self.expect_alert:
            return None
        return _ratio(self.alerted, self.events)

    @property
    def false_positives(self) -> int:
        return 0 if self.expect_alert else self.alerted


@dataclass(frozen=True, slots=True)
class Evaluation:
    encounters: tuple[Encounter, ...]
    events: tuple[TruthEvent, ...]
    tolerance_s: float
    alert_events_read: int
    ignored_alert_events: int
    # encounter alert_id -> ids of the truth events it matches
    matches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    alert_type: str = "sts"
    # alerts of this type that match only events about other detections
    incidental: tuple[Encounter, ...] = ()

    def _event(self, event_id: str) -> TruthEvent:
        return next(e for e in self.events if e.id == event_id)

    @property
    def true_positive_alerts(self) -> tuple[Encounter, ...]:
        return tuple(
            a
            for a in self.encounters
            if any(self._event(i).expect_alert for i in self.matches.get(a.alert_id, ()))
        )

    @property
    def decoy_alerts(self) -> tuple[tuple[Encounter, TruthEvent], ...]:
        """Encounters that match a decoy (and no event that should alert)."""
        out = []
        for a in self.encounters:
            matched = [self._event(i) for i in self.matches.get(a.alert_id, ())]
            if matched and not any(e.expect_alert for e in matched):
                out.append((a, matched[0]))
        return tuple(out)

    @property
    def unmatched_alerts(self) -> tuple[Encounter, ...]:
        return tuple(a for a in self.encounters if not self.matches.get(a.alert_id))

    @property
    def detected_event_ids(self) -> frozenset[str]:
        return frozenset(i for ids in self.matches.values() for i in ids)

    @property
    def expected_events(self) -> tuple[TruthEvent, ...]:
        return tuple(e for e in self.events if e.expect_alert)

    @property
    def missed_events(self) -> tuple[TruthEvent, ...]:
        found = self.detected_event_ids
        return tuple(e for e in self.expected_events if e.id not in found)

    @property
    def precision(self) -> float | None:
        return _ratio(len(self.true_positive_alerts), len(self.encounters))

    @property
    def recall(self) -> float | None:
        expected = self.expected_events
        return _ratio(len(expected) - len(self.missed_events), len(expected))

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if r is None:
            return None
        if p is None:
            # no alerts at all while something was expected: recall is 0, and so is F1
            return 0.0
        return 0.0 if p + r == 0 else 2.0 * p * r / (p + r)

    def categories(self) -> tuple[CategoryScore, ...]:
        found = self.detected_event_ids
        names: list[str] = []
        for e in self.events:
            if e.category not in names:
                names.append(e.category)
        out = []
        for name in names:
            members = [e for e in self.events if e.category == name]
            out.append(
                CategoryScore(
                    category=name,
                    expect_alert=members[0].expect_alert,
                    events=len(members),
                    alerted=sum(1 for e in members if e.id in found),
                )
            )
        return tuple(out)


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _parse_time(value: Any, where: str) -> float:
    if not isinstance(value, str):
        raise AlertFileError(f"{where}: expected an ISO 8601 time, got {value!r}")
    try:
        return parse_iso_utc(value)
    except ValueError:
        raise AlertFileError(f"{where}: not an ISO 8601 time: {value!r}") from None


def collapse_alerts(
    lines: Iterable[str], source: str = "alerts", alert_types: Collection[str] = ("sts",)
) -> tuple[list[Encounter], int, int]:
    """Encounters from alert event lines of `alert_types`; also the events read and the
    events ignored (of other types)."""
    firsts: dict[str, tuple[tuple[int, ...], float, float, int]] = {}
    types: dict[str, str] = {}
    order: list[str] = []
    read = ignored = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        where = f"{source} line {number}"
        try:
            obj = json.loads(text)
        except ValueError as err:
            raise AlertFileError(f"{where}: not JSON ({err})") from None
        if not isinstance(obj, dict):
            raise AlertFileError(f"{where}: expected a JSON object")
        read += 1
        alert_type = obj.get("type", "sts")
        if alert_type not in alert_types:
            ignored += 1
            continue
        alert_id = obj.get("alert_id")
        vessels = obj.get("vessels")
        if not isinstance(alert_id, str) or not alert_id:
            raise AlertFileError(f"{where}: missing alert_id")
        if not isinstance(vessels, list) or not vessels:
            raise AlertFileError(f"{where}: missing vessels")
        try:
            pair = tuple(sorted(int(v["mmsi"]) for v in vessels))
        except (KeyError, TypeError, ValueError):
            raise AlertFileError(f"{where}: every vessel needs an integer mmsi") from None
        start = _parse_time(obj.get("start"), f"{where} start")
        end_value = obj.get("end") or obj.get("last_seen")
        end = _parse_time(end_value, f"{where} end") if end_value is not None else start
        if alert_id in firsts:
            old_pair, old_start, old_end, count = firsts[alert_id]
            firsts[alert_id] = (old_pair, min(old_start, start), max(old_end, end), count + 1)
        else:
            firsts[alert_id] = (pair, start, end, 1)
            types[alert_id] = str(alert_type)
            order.append(alert_id)
    encounters = [
        Encounter(
            alert_id=i,
            pair=firsts[i][0],
            start_s=firsts[i][1],
            end_s=firsts[i][2],
            events=firsts[i][3],
            alert_type=types[i],
        )
        for i in order
    ]
    return encounters, read, ignored


def read_alerts(
    path: str | Path, alert_types: Collection[str] = ("sts",)
) -> tuple[list[Encounter], int, int]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return collapse_alerts(handle, str(path), alert_types)
    except FileNotFoundError:
        raise AlertFileError(f"alerts file not found: {path}") from None
    except UnicodeDecodeError as err:
        raise AlertFileError(f"alerts file {path} is not UTF-8 text: {err}") from None


def evaluate(
    encounters: Iterable[Encounter],
    events: Iterable[TruthEvent],
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    alert_events_read: int = 0,
    ignored_alert_events: int = 0,
    alert_type: str = "sts",
) -> Evaluation:
    """Match the encounters of `alert_type` to the truth events about it, by vessels and
    overlapping time."""
    all_events = tuple(events)
    event_list = tuple(e for e in all_events if e.alert_type == alert_type)
    other_events = tuple(e for e in all_events if e.alert_type != alert_type)
    kept: list[Encounter] = []
    incidental: list[Encounter] = []
    matches: dict[str, tuple[str, ...]] = {}
    for a in encounters:
        if a.alert_type != alert_type:
            continue
        hits = _matching(a, event_list, tolerance_s)
        if hits:
            matches[a.alert_id] = hits
            kept.append(a)
        elif _matching(a, other_events, tolerance_s):
            incidental.append(a)
        else:
            kept.append(a)
    return Evaluation(
        encounters=tuple(kept),
        events=event_list,
        tolerance_s=tolerance_s,
        alert_events_read=alert_events_read,
        ignored_alert_events=ignored_alert_events,
        matches=matches,
        alert_type=alert_type,
        incidental=tuple(incidental),
    )


def _matching(
    alert: Encounter, events: Iterable[TruthEvent], tolerance_s: float
) -> tuple[str, ...]:
    members = set(alert.pair)
    return tuple(
        e.id
        for e in events
        if members <= set(e.mmsis)
        and alert.start_s - tolerance_s <= e.end_s
        and alert.end_s + tolerance_s >= e.start_s
    )


def evaluate_by_type(
    encounters: Iterable[Encounter],
    events: Iterable[TruthEvent],
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> dict[str, Evaluation]:
    """One evaluation per alert type found in the truth or the alerts (sts first)."""
    encounter_list = list(encounters)
    event_list = list(events)
    present = {a.alert_type for a in encounter_list} | {e.alert_type for e in event_list}
    order = [t for t in ALERT_TYPES if t in present] + sorted(present - set(ALERT_TYPES))
    read = sum(a.events for a in encounter_list)
    return {
        alert_type: evaluate(encounter_list, event_list, tolerance_s, read, 0, alert_type)
        for alert_type in order
    }


def evaluate_files(
    truth_path: str | Path, alerts_path: str | Path, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> Evaluation:
    encounters, read, ignored = read_alerts(alerts_path)
    return evaluate(encounters, read_truth(truth_path), tolerance_s, read, ignored)


def evaluate_files_by_type(
    truth_path: str | Path, alerts_path: str | Path, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> dict[str, Evaluation]:
    encounters, _, _ = read_alerts(alerts_path, ALERT_TYPES)
    return evaluate_by_type(encounters, read_truth(truth_path), tolerance_s)


# ------------------------------------------------------------------ reporting


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _encounter_json(a: Encounter) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "mmsis": list(a.pair),
        "start": iso_utc(a.start_s),
        "end": iso_utc(a.end_s),
        "events": a.events,
    }


def to_json(ev: Evaluation) -> dict[str, Any]:
    return {
        "precision": ev.precision,
        "recall": ev.recall,
        "f1": ev.f1,
        "alerts": len(ev.encounters),
        "alert_events_read": ev.alert_events_read,
        "ignored_alert_events": ev.ignored_alert_events,
        "true_positive_alerts": len(ev.true_positive_alerts),
        "expected_events": len(ev.expected_events),
        "detected_events": len(ev.expected_events) - len(ev.missed_events),
        "tolerance_s": ev.tolerance_s,
        "alert_type": ev.alert_type,
        "incidental_alerts": len(ev.incidental),
        "categories": [
            {
                "category": c.category,
                "expect_alert": c.expect_alert,
                "events": c.events,
                "alerted": c.alerted,
                "recall": c.recall,
                "false_positives": c.false_positives,
            }
            for c in ev.categories()
        ],
        "decoys_alerted": [
            {"event_id": e.id, "category": e.category, "alert": _encounter_json(a)}
            for a, e in ev.decoy_alerts
        ],
        "unmatched_alerts": [_encounter_json(a) for a in ev.unmatched_alerts],
        "missed_events": [
            {
                "event_id": e.id,
                "category": e.category,
                "mmsis": list(e.mmsis),
                "start": iso_utc(e.start_s),
                "end": iso_utc(e.end_s),
            }
            for e in ev.missed_events
        ],
    }


def by_type_to_json(evaluations: dict[str, Evaluation]) -> dict[str, Any]:
    return {alert_type: to_json(ev) for alert_type, ev in evaluations.items()}


def by_type_table(evaluations: dict[str, Evaluation]) -> str:
    """One line per alert type: expected events, decoys, alerts and the scores."""
    lines = [
        f"{'alert type':<18} {'expected':>8} {'decoys':>6} {'alerts':>6} {'incid.':>6} "
        f"{'precision':>9} {'recall':>7} {'F1':>6} {'decoys alerted':>14}"
    ]
    for alert_type, ev in evaluations.items():
        expected = len(ev.expected_events)
        lines.append(
            f"{alert_type:<18} {expected:>8} {len(ev.events) - expected:>6} "
            f"{len(ev.encounters):>6} {len(ev.incidental):>6} {_fmt(ev.precision):>9} "
            f"{_fmt(ev.recall):>7} {_fmt(ev.f1):>6} {len(ev.decoy_alerts):>14}"
        )
    return "\n".join(lines)


def to_text(ev: Evaluation) -> str:
    expected = ev.expected_events
    detected = len(expected) - len(ev.missed_events)
    lines = [
        f"alerts: {len(ev.encounters)} encounters from {ev.alert_events_read} alert events"
        + (
            f" ({ev.ignored_alert_events} events of other types ignored)"
            if ev.ignored_alert_events
            else ""
        ),
        f"truth: {len(ev.events)} events, {len(expected)} expected to alert; "
        f"match tolerance {ev.tolerance_s / 3600.0:g} h",
        f"precision {_fmt(ev.precision)}  ({len(ev.true_positive_alerts)} of "
        f"{len(ev.encounters)} alerts match an expected event)",
        f"recall    {_fmt(ev.recall)}  ({detected} of {len(expected)} expected events alerted)",
        f"F1        {_fmt(ev.f1)}",
        "",
        f"{'category':<22} {'expect':<6} {'events':>6} {'alerted':>7} {'recall':>7} "
        f"{'false pos.':>10}",
    ]
    for c in ev.categories():
        lines.append(
            f"{c.category:<22} {'yes' if c.expect_alert else 'no':<6} {c.events:>6} "
            f"{c.alerted:>7} {_fmt(c.recall) if c.expect_alert else '-':>7} "
            f"{'-' if c.expect_alert else str(c.false_positives):>10}"
        )
    if ev.incidental:
        lines.append(
            f"({len(ev.incidental)} {ev.alert_type} alerts match only events planted for "
            "other detections and are left out)"
        )
    decoys = ev.decoy_alerts
    lines.append("")
    lines.append(f"decoys that alerted: {len(decoys)}")
    for a, e in decoys:
        lines.append(
            f"  {e.id} ({e.category}) {'-'.join(map(str, a.pair))} alert {a.alert_id} "
            f"{iso_utc(a.start_s)} .. {iso_utc(a.end_s)}"
        )
    unmatched = ev.unmatched_alerts
    lines.append(f"alerts that match nothing: {len(unmatched)}")
    for a in unmatched:
        lines.append(
            f"  alert {a.alert_id} {'-'.join(map(str, a.pair))} "
            f"{iso_utc(a.start_s)} .. {iso_utc(a.end_s)}"
        )
    missed = ev.missed_events
    lines.append(f"expected events missed: {len(missed)}")
    for e in missed:
        lines.append(
            f"  {e.id} ({e.category}) {'-'.join(map(str, e.mmsis))} "
            f"{iso_utc(e.start_s)} .. {iso_utc(e.end_s)}"
        )
    return "\n".join(lines)
