"""`stswatch detect`: the detection core over recorded files, in event-time order.

Reads any mix of NMEA, MarineCadastre CSV and JSON Lines inputs (merged by event time),
runs the same `EncounterDetector` the stream workers run, writes alerts as JSON Lines and
returns a summary of what was read, refused and found.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from config.settings import Settings
from detectors.alerts import alert_to_json
from detectors.encounters import PortLookup, ZoneLookup
from detectors.engine import EncounterDetector
from detectors.records import Position, Reject, StaticReport
from detectors.timefmt import iso_utc
from stswatch.decoding.inputs import read_inputs
from stswatch.decoding.stats import DecodeStats
from stswatch.gc_tuning import fewer_collections
from stswatch.reference import load_reference
from stswatch.watchlists import WatchlistFiles, refresh_watchlists


@dataclass(slots=True)
class DetectSummary:
    decode: DecodeStats
    vessels: int = 0
    late_positions: int = 0
    encounters: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    alert_events: dict[str, int] = field(default_factory=dict)
    still_open: int = 0
    # Anomaly alert events (dark_sts, identity_conflict, ...) by type, and why some were not
    # raised ("type:reason").
    anomaly_events: dict[str, int] = field(default_factory=dict)
    anomalies_suppressed: dict[str, int] = field(default_factory=dict)
    first_time_s: float | None = None
    last_time_s: float | None = None
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        """The summary for people, a few lines."""
        decode = self.decode
        out = [decode.summary()] if hasattr(decode, "summary") else [str(decode)]
        span = ""
        if self.first_time_s is not None and self.last_time_s is not None:
            span = f" from {iso_utc(self.first_time_s)} to {iso_utc(self.last_time_s)}"
        out.append(f"vessels: {self.vessels}{span}; late positions dropped: {self.late_positions}")
        suppressed = ", ".join(f"{k} {v}" for k, v in sorted(self.suppressed.items())) or "none"
        events = ", ".join(f"{k} {v}" for k, v in sorted(self.alert_events.items()) if v)
        out.append(
            f"encounters: {self.encounters} (suppressed: {suppressed}); "
            f"alerts: {self.alerts} ({events or 'no events'}); still open at end: {self.still_open}"
        )
        if self.anomaly_events or self.anomalies_suppressed:
            found = ", ".join(f"{k} {v}" for k, v in sorted(self.anomaly_events.items()))
            held = ", ".join(f"{k} {v}" for k, v in sorted(self.anomalies_suppressed.items()))
            out.append(f"anomaly alert events: {found or 'none'} (suppressed: {held or 'none'})")
        out.append(f"took {self.elapsed_s:.1f} s")
        return out


class Progress:
    """A one-line progress report on stderr, at most once a second, for people watching."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._next = time.monotonic() + 1.0
        self._shown = False

    def update(self, records: int, alerts: int, event_time_s: float | None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 1.0
        when = iso_utc(event_time_s) if event_time_s is not None else "-"
        self.stream.write(f"\r{records:,} records, {alerts:,} alert events, event time {when}  ")
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


class _TooDisorderedError(Exception):
    """The input is far out of time order; read it again, sorted."""


# A pass gives up on streaming when more than this share of its records (checked every
# _DISORDER_CHECK_EVERY records, and at least _DISORDER_MIN of them) came later than the
# reorder window and the allowed lateness: files sorted by vessel, say, rather than by time.
_DISORDER_SHARE = 0.01
_DISORDER_MIN = 100
_DISORDER_CHECK_EVERY = 20_000


def run_detect(
    paths: Sequence[str],
    settings: Settings,
    alerts_out: TextIO,
    *,
    assume_time_s: float | None = None,
    rejects_out: TextIO | None = None,
    progress: Progress | None = None,
) -> DetectSummary:
    """Detect over `paths` and write the alerts; return the summary.

    The input is streamed in event-time order through a reorder window of
    `detection.allowed_lateness_s` (the detector tolerates as much again), which is how
    receivers deliver it and what the stream does. An input far more disordered than that
    (a CSV sorted by vessel, files of different days given in any order) is read again and
    sorted as a whole in memory, so that no record of a recorded file is dropped as late.
    """
    started = time.monotonic()
    zones, ports = load_reference(settings.reference, announce=True)
    watchlists = WatchlistFiles.from_settings(settings.watchlists)
    window_s = settings.detection.allowed_lateness_s
    detect_pass = functools.partial(
        _detect_pass, paths, settings, zones, ports, watchlists, assume_time_s
    )
    # Everything loaded so far is frozen out of garbage collections (stswatch.gc_tuning).
    with fewer_collections():
        try:
            summary, detector, alerts = detect_pass(
                window_s, rejects_out, progress, give_up_when_disordered=True
            )
        except _TooDisorderedError as why:
            print(
                f"stswatch detect: {why}; reading the input again, sorted in memory",
                file=sys.stderr,
            )
            summary, detector, alerts = detect_pass(
                math.inf, rejects_out, progress, give_up_when_disordered=False
            )
    for alert in alerts:
        alerts_out.write(json.dumps(alert, separators=(",", ":")) + "\n")

    tracker = detector.tracker
    summary.late_positions = detector.stats.late
    summary.encounters = tracker.qualified
    summary.suppressed = tracker.suppressed_counts()
    summary.alert_events = dict(tracker.events_by_kind)
    summary.alerts = tracker.events_by_kind.get("opened", 0)
    summary.anomaly_events = dict(detector.anomalies.events_by_type)
    summary.anomalies_suppressed = dict(detector.anomalies.suppressed)
    summary.still_open = sum(
        1 for p in tracker.pairs.values() if p.opened and not p.closed and p.owned
    )
    summary.elapsed_s = time.monotonic() - started
    return summary


def _detect_pass(
    paths: Sequence[str],
    settings: Settings,
    zones: ZoneLookup | None,
    ports: PortLookup | None,
    watchlists: WatchlistFiles,
    assume_time_s: float | None,
    reorder_window_s: float,
    rejects_out: TextIO | None,
    progress: Progress | None,
    *,
    give_up_when_disordered: bool,
) -> tuple[DetectSummary, EncounterDetector, list[dict[str, Any]]]:
    """One pass over the input: the summary so far, the detector and the alerts."""
    detector = EncounterDetector(settings.detection, zones, ports, watchlist=watchlists.current())
    stats = DecodeStats()
    summary = DetectSummary(decode=stats)
    alerts: list[dict[str, Any]] = []
    rejects: list[str] = []
    records = 0
    mmsis: set[int] = set()

    # The loop runs once per record of the input: names are bound locally and the per-record
    # checks are plain type tests (this loop was 10 % of `stswatch detect`'s time).
    process = detector.process
    note_mmsi = mmsis.add
    first_s = math.inf
    last_s = -math.inf
    disorder_every = _DISORDER_CHECK_EVERY if give_up_when_disordered else 0
    for item in read_inputs(
        paths, assume_time_s=assume_time_s, reorder_window_s=reorder_window_s, stats=stats
    ):
        kind = type(item)
        if kind is not Position and kind is not StaticReport:
            if kind is Reject and rejects_out is not None:
                rejects.append(
                    json.dumps(
                        {
                            "reason": item.reason,  # type: ignore[union-attr]
                            "detail": item.detail,  # type: ignore[union-attr]
                            "source": item.source,  # type: ignore[union-attr]
                            "line": item.line,  # type: ignore[union-attr]
                        }
                    )
                )
            continue
        records += 1
        note_mmsi(item.mmsi)  # type: ignore[union-attr]
        time_s = item.time_s  # type: ignore[union-attr]
        if time_s < first_s:  # noqa: PLR1730 - a comparison costs less than a call of min()
            first_s = time_s
        if time_s > last_s:  # noqa: PLR1730
            last_s = time_s
        events = process(item)  # type: ignore[arg-type]
        if events:
            alerts.extend(alert_to_json(event) for event in events)
        if records & 4095 == 0:
            # A watchlist file edited while a long input runs applies from then on.
            refresh_watchlists(watchlists, (detector,))
            if progress is not None:
                progress.update(records, len(alerts), detector.max_time_s)
        if disorder_every and records % disorder_every == 0:
            _check_order(records, stats.out_of_order + detector.stats.late)
    if records:
        summary.first_time_s, summary.last_time_s = first_s, last_s
    if give_up_when_disordered:
        _check_order(records, stats.out_of_order + detector.stats.late, final=True)
    alerts.extend(alert_to_json(event) for event in detector.finish())
    if progress is not None:
        progress.done()
    if rejects_out is not None:
        for line in rejects:
            rejects_out.write(line + "\n")
    summary.vessels = len(mmsis)
    return summary, detector, alerts


def _check_order(records: int, disordered: int, final: bool = False) -> None:
    if disordered >= _DISORDER_MIN and disordered > _DISORDER_SHARE * records:
        where = "in all" if final else "so far"
        raise _TooDisorderedError(
            f"{disordered:,} of {records:,} records {where} came more than the allowed "
            "lateness out of time order"
        )


def progress_for(stream: TextIO = sys.stderr) -> Progress:
    return Progress(stream, enabled=stream.isatty())
