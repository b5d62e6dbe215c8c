"""`stswatch detect`: the detection core over recorded files, in event-time order.

Reads any mix of NMEA, MarineCadastre CSV and JSON Lines inputs (merged by event time),
runs the same `EncounterDetector` the stream workers run, writes alerts as JSON Lines and
returns a summary of what was read, refused and found.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from config.settings import Settings
from detectors.alerts import alert_to_json
from detectors.engine import AlertEvent, EncounterDetector
from detectors.records import Position, Reject, StaticReport
from detectors.timefmt import iso_utc
from stswatch.decoding.inputs import read_inputs
from stswatch.decoding.stats import DecodeStats
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


def run_detect(
    paths: Sequence[str],
    settings: Settings,
    alerts_out: TextIO,
    *,
    assume_time_s: float | None = None,
    rejects_out: TextIO | None = None,
    progress: Progress | None = None,
) -> DetectSummary:
    started = time.monotonic()
    zones, ports = load_reference(settings.reference, announce=True)
    watchlists = WatchlistFiles.from_settings(settings.watchlists)
    detector = EncounterDetector(settings.detection, zones, ports, watchlist=watchlists.current())
    stats = DecodeStats()
    summary = DetectSummary(decode=stats)
    alerts_written = 0
    records = 0
    mmsis: set[int] = set()

    def write(events: list[AlertEvent]) -> None:
        nonlocal alerts_written
        for event in events:
            alerts_out.write(json.dumps(alert_to_json(event), separators=(",", ":")) + "\n")
            alerts_written += 1

    for item in read_inputs(
        paths,
        assume_time_s=assume_time_s,
        reorder_window_s=settings.detection.allowed_lateness_s,
        stats=stats,
    ):
        if isinstance(item, Reject):
            if rejects_out is not None:
                rejects_out.write(
                    json.dumps(
                        {
                            "reason": item.reason,
                            "detail": item.detail,
                            "source": item.source,
                            "line": item.line,
                        }
                    )
                    + "\n"
                )
            continue
        if not isinstance(item, Position | StaticReport):
            continue
        records += 1
        mmsis.add(item.mmsi)
        if summary.first_time_s is None or item.time_s < summary.first_time_s:
            summary.first_time_s = item.time_s
        if summary.last_time_s is None or item.time_s > summary.last_time_s:
            summary.last_time_s = item.time_s
        events = detector.process(item)
        if events:
            write(events)
        if records % 4096 == 0:
            # A watchlist file edited while a long input runs applies from then on.
            refresh_watchlists(watchlists, (detector,))
            if progress is not None:
                progress.update(records, alerts_written, detector.max_time_s)
    write(detector.finish())
    if progress is not None:
        progress.done()

    tracker = detector.tracker
    summary.vessels = len(mmsis)
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


def progress_for(stream: TextIO = sys.stderr) -> Progress:
    return Progress(stream, enabled=stream.isatty())
