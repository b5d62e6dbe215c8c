"""py-spy attached to a running measurement, and the top functions of what it sampled.

`py-spy record --pid P --duration S --format raw --nonblocking` writes collapsed stacks
(`frame;frame;...;frame COUNT` per line, outermost frame first). `--nonblocking` reads the
process's memory without pausing it, so the measurement it watches is barely slowed.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Frames of stswatch's own packages, and the share above which a frame is an entry point
# (main, the worker's event loop) rather than work.
_PROJECT_FRAME = re.compile(r"\((config|detectors|streams|stswatch|suite)/")
_ENTRY_SHARE = 0.85
_PROJECT = Path(__file__).resolve().parents[2]
# "function (path/to/file.py:123)" -> "function (path/to/file.py)"
_LINE_NUMBER = re.compile(r":\d+\)$")


def py_spy_binary() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    if beside.is_file():
        return str(beside)
    return shutil.which("py-spy")


class Recording:
    """One py-spy run in the background; `wait()` returns the raw file once it is written."""

    def __init__(self, pid: int, out: Path, duration_s: int, rate_hz: int = 100) -> None:
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None
        binary = py_spy_binary()
        if binary is None:
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        self.log = out.with_suffix(".log")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(duration_s),
                    "--rate",
                    str(rate_hz),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "-o",
                    str(out),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, timeout_s: float = 30.0) -> Path | None:
        """End the recording now (py-spy writes what it has on SIGINT) and return the file."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait(timeout_s)

    def wait(self, timeout_s: float = 120.0) -> Path | None:
        if self.process is None:
            return None
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(10)
        return self.out if self.out.is_file() and self.out.stat().st_size > 0 else None


@dataclass(slots=True)
class ProfileSummary:
    samples: int
    own: list[tuple[str, float]]  # function, share of samples where it is the innermost frame
    # Functions of stswatch itself (config, detectors, streams, stswatch), share of samples
    # where they are on the stack; entry points on nearly every stack are left out.
    total: list[tuple[str, float]]

    def lines(self, title: str, top: int = 15) -> list[str]:
        out = [f"{title}: {self.samples:,} samples"]
        out.append("  own time (innermost frame):")
        out += [f"    {share:6.1%}  {name}" for name, share in self.own[:top]]
        out.append("  total time of stswatch's own functions (anywhere on the stack):")
        out += [f"    {share:6.1%}  {name}" for name, share in self.total[:top]]
        return out

    def as_json(self, top: int = 25) -> dict[str, object]:
        return {
            "samples": self.samples,
            "own": [[name, round(share, 4)] for name, share in self.own[:top]],
            "total": [[name, round(share, 4)] for name, share in self.total[:top]],
        }


def _short(frame: str) -> str:
    frame = _LINE_NUMBER.sub(")", frame.strip())
    # Site-packages and project paths are long; the package path inside them is what matters.
    frame = frame.replace(f"({_PROJECT}/", "(").replace("(benchmarks/suite/", "(suite/")
    return re.sub(r"\(.*?site-packages/", "(", frame)


def summarise(raw: Path) -> ProfileSummary:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";") if frame]
        # py-spy puts the thread ("process 123:"python ..."" / "thread (0x...)") first.
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    if samples == 0:
        return ProfileSummary(0, [], [])
    own_code = [
        (name, n / samples)
        for name, n in total.most_common()
        if _PROJECT_FRAME.search(name) and n / samples < _ENTRY_SHARE
    ]
    return ProfileSummary(samples, [(name, n / samples) for name, n in own.most_common()], own_code)
