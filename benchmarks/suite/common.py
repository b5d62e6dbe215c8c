"""What every measurement shares: the machine, CPU clocks, the load sampler, the result table."""

from __future__ import annotations

import os
import platform
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """HEAD's hash, with `+dirty` when tracked files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, all its threads (/proc/PID/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS_PER_S


class LoadSampler:
    """The 1-minute load average every few seconds, in a daemon thread."""

    def __init__(self, interval_s: float = 5.0) -> None:
        self.interval_s = interval_s
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)

    def start(self) -> LoadSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 1)

    def summary(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {
            "min": min(self.samples),
            "mean": sum(self.samples) / len(self.samples),
            "max": max(self.samples),
        }


@dataclass(slots=True)
class Machine:
    cpu: str
    cores: int
    python: str
    platform: str
    load_at_start: tuple[float, float, float]
    commit: str
    command: str

    @classmethod
    def now(cls, argv: Sequence[str]) -> Machine:
        load = os.getloadavg()
        return cls(
            cpu=cpu_model(),
            cores=os.cpu_count() or 0,
            python=platform.python_version(),
            platform=platform.platform(),
            load_at_start=(round(load[0], 2), round(load[1], 2), round(load[2], 2)),
            commit=git_commit(),
            command=" ".join(argv),
        )


@dataclass(slots=True)
class Row:
    """One line of the result table: a figure of stswatch, its baseline and their ratio."""

    measurement: str
    figure: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


@dataclass(slots=True)
class Section:
    """One measurement: its table rows, the details behind them and what to say about it."""

    name: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load_during: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": [asdict(row) for row in self.rows],
            "details": self.details,
            "notes": self.notes,
            "load_during": self.load_during,
            "seconds": round(self.seconds, 1),
        }


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def fmt_rate(value: float, unit: str = "lines/s") -> str:
    return f"{value:,.0f} {unit}"


def _mark(met: bool | None) -> str:
    if met is None:
        return "-"
    return "yes" if met else "**no**"


def markdown_table(sections: Sequence[Section]) -> str:
    lines = [
        "| measurement | stswatch | baseline | ratio | target | met |",
        "|---|---|---|---:|---|---|",
    ]
    for section in sections:
        for row in section.rows:
            ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
            figure = row.figure + (f" ({row.note})" if row.note else "")
            lines.append(
                f"| {row.measurement} | {figure} | {row.baseline} | {ratio} | {row.target} "
                f"| {_mark(row.met)} |"
            )
    return "\n".join(lines)


def machine_lines(machine: Machine, load: dict[str, float], elapsed_s: float) -> list[str]:
    load_text = (
        f"{load['min']:.2f} / {load['mean']:.2f} / {load['max']:.2f}" if load else "not sampled"
    )
    return [
        f"- machine: {machine.cpu}, {machine.cores} cores, Python {machine.python}, "
        f"{machine.platform}",
        f"- load average (1 min) at start: {machine.load_at_start[0]:.2f} "
        f"(5 min {machine.load_at_start[1]:.2f}, 15 min {machine.load_at_start[2]:.2f}); "
        f"during the run min / mean / max: {load_text}",
        f"- commit: {machine.commit}",
        f"- command: `{machine.command}`",
        f"- took {elapsed_s / 60:.1f} min",
    ]
