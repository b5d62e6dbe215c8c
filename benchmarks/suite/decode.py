"""Measurement 1: `stswatch detect` (decode + detect, one process) against bare pyais.

Both read the same NMEA file from disk, line by line, inside the timing:

- baseline: `pyais.decode(line, error_if_checksum_invalid=True)` for every line, errors caught
  and counted (as benchmarks/decode_speed.py does). The simulator's lines carry an NMEA 4.0
  tag block (`\\s:STATION,c:EPOCH*hh\\!AIVDM,...`), which pyais reads itself, so lines are
  given exactly as stored. A fragment of a two-sentence message fails alone (pyais needs all
  parts in one call): it is counted as an error, as in decode_speed.py.
- stswatch: `stswatch.offline.run_detect([file], settings, alerts -> /dev/null)`: reading,
  decoding, validation, reordering, the encounter detector with its anomaly detections, and
  the alert JSON.

CPU time (`time.process_time`) is the fair figure on a shared machine; wall time is shown
too. The baseline's timing of the lines the live workers get (a stretch of the same file) is
kept apart too, so that measurement 2 compares with pyais on exactly its own input.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from pyais import decode

from config import settings as config
from config.settings import Settings
from stswatch.offline import run_detect

from .common import Row, Section, fmt_rate, rate
from .inputs import SimulatedInput

DETECT_TARGET = 0.70


@dataclass(slots=True)
class Timing:
    lines: int = 0
    decoded: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def cpu_rate(self) -> float:
        return rate(self.lines, self.cpu_s)

    @property
    def wall_rate(self) -> float:
        return rate(self.lines, self.wall_s)

    def plus(self, other: Timing) -> Timing:
        return Timing(
            self.lines + other.lines,
            self.decoded + other.decoded,
            self.cpu_s + other.cpu_s,
            self.wall_s + other.wall_s,
        )

    def as_json(self) -> dict[str, float | None]:
        # A part not timed (`--only detect` times no worker lines) has no rate.
        timed = self.lines > 0 and self.cpu_s > 0 and self.wall_s > 0
        return {
            "lines": self.lines,
            "decoded": self.decoded,
            "cpu_s": round(self.cpu_s, 3),
            "wall_s": round(self.wall_s, 3),
            "lines_per_cpu_s": round(self.cpu_rate) if timed else None,
            "lines_per_s": round(self.wall_rate) if timed else None,
        }


def pyais_file(path: Path, part: tuple[int, int] = (0, 0)) -> tuple[Timing, Timing]:
    """Bare pyais over the file: (lines `part[0]` to `part[1]` alone, the whole file)."""
    first, stop = part
    pieces = [Timing(), Timing(), Timing()]
    with path.open("rb") as handle:
        for index, limit in ((0, first), (1, stop - first), (2, -1)):
            piece = pieces[index]
            if limit == 0:
                continue
            cpu0, wall0 = time.process_time(), time.perf_counter()
            lines = decoded = 0
            for line in handle:
                lines += 1
                try:
                    decode(line.rstrip(b"\r\n"), error_if_checksum_invalid=True)
                    decoded += 1
                except Exception:  # counting failures is the point of a baseline
                    pass
                if lines == limit:
                    break
            piece.cpu_s = time.process_time() - cpu0
            piece.wall_s = time.perf_counter() - wall0
            piece.lines, piece.decoded = lines, decoded
    return pieces[1], pieces[0].plus(pieces[1]).plus(pieces[2])


# The settings file given to `benchmarks/run.py --config`: every measurement starts from it.
_chosen_config: dict[str, Path | None] = {"path": None}


def use_config(path: Path | None) -> None:
    """Measure with the settings in `path` (a stswatch TOML file) instead of the defaults."""
    if path is not None:
        config.load(path)  # a bad file stops the run here, with the setting named
    _chosen_config["path"] = path


def settings_for(folder: SimulatedInput, base: Settings | None = None) -> Settings:
    """Settings with the simulated area's EEZs and ports, as `stswatch detect` would use."""
    return config.apply(
        base or config.load(_chosen_config["path"]),
        {
            "reference": {
                "eez_path": str(folder.zones),
                "ports_path": str(folder.ports),
            }
        },
    )


@dataclass(slots=True)
class DetectRun:
    timing: Timing
    alerts: int
    records: int
    summary: list[str]


def detect_file(traffic: SimulatedInput) -> DetectRun:
    settings = settings_for(traffic)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with open(os.devnull, "w") as sink:
        summary = run_detect([str(traffic.traffic)], settings, sink)
    timing = Timing(cpu_s=time.process_time() - cpu0, wall_s=time.perf_counter() - wall0)
    timing.lines = summary.decode.lines_read
    events = sum(summary.alert_events.values()) + sum(summary.anomaly_events.values())
    records = summary.decode.positions + summary.decode.statics
    timing.decoded = records
    return DetectRun(timing, events, records, summary.lines())


def measure(
    traffic: SimulatedInput,
    part: tuple[int, int],
    repeat: int,
    around_detect: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> tuple[Section, Timing]:
    """Returns the section and the baseline timing of lines `part[0]` to `part[1]` (the live
    workers' input). pyais and detect take turns `repeat` times and each keeps its fastest
    run (CPU time): a busy spell on this shared machine then spoils neither side's figure.
    `around_detect` is entered for the first detect run only (a profiler)."""
    section = Section("detect vs bare pyais")
    head = baseline = run = None
    cpu_s: dict[str, list[float]] = {"pyais": [], "detect": []}
    for turn in range(repeat):
        turn_head, turn_baseline = pyais_file(traffic.traffic, part)
        with around_detect() if turn == 0 else nullcontext():
            turn_run = detect_file(traffic)
        cpu_s["pyais"].append(round(turn_baseline.cpu_s, 2))
        cpu_s["detect"].append(round(turn_run.timing.cpu_s, 2))
        if head is None or turn_head.cpu_s < head.cpu_s:
            head = turn_head
        if baseline is None or turn_baseline.cpu_s < baseline.cpu_s:
            baseline = turn_baseline
        if run is None or turn_run.timing.cpu_s < run.timing.cpu_s:
            run = turn_run
    assert head is not None and baseline is not None and run is not None, "repeat must be >= 1"
    if run.timing.lines != baseline.lines:
        section.notes.append(
            f"line counts differ: detect read {run.timing.lines:,}, pyais {baseline.lines:,}"
        )
        run.timing.lines = baseline.lines
    cpu_ratio = run.timing.cpu_rate / baseline.cpu_rate
    wall_ratio = run.timing.wall_rate / baseline.wall_rate
    lines = baseline.lines
    section.rows.append(
        Row(
            "1. `stswatch detect`, CPU time",
            fmt_rate(run.timing.cpu_rate, "lines/CPU-s"),
            f"pyais {fmt_rate(baseline.cpu_rate, 'lines/CPU-s')}",
            cpu_ratio,
            f">= {DETECT_TARGET:.2f}",
            cpu_ratio >= DETECT_TARGET,
            f"{lines:,} lines",
        )
    )
    section.rows.append(
        Row(
            "1. `stswatch detect`, wall clock",
            fmt_rate(run.timing.wall_rate),
            f"pyais {fmt_rate(baseline.wall_rate)}",
            wall_ratio,
            f">= {DETECT_TARGET:.2f}",
            wall_ratio >= DETECT_TARGET,
        )
    )
    section.details = {
        "input": str(traffic.traffic),
        "input_info": traffic.info,
        "pyais": baseline.as_json(),
        "pyais_on_worker_lines": head.as_json(),
        "detect": run.timing.as_json(),
        "detect_alert_events": run.alerts,
        "detect_summary": run.summary,
        "cpu_s_per_turn": cpu_s,
    }
    section.notes.append(
        f"best of {repeat} turns each (CPU s, pyais: {cpu_s['pyais']}, detect: {cpu_s['detect']})"
    )
    section.notes.append(
        f"pyais decoded {baseline.decoded:,} of {lines:,} lines without error "
        f"(fragments of two-sentence messages fail alone); detect made {run.records:,} "
        f"records and {run.alerts:,} alert events"
    )
    return section, head
