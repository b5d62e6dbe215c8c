"""Simulator speed: lines per second and the time for a scenario of about a million lines.

    python benchmarks/simulate_speed.py [--scenario large] [--hours 6] [--vessels 360]
                                        [--jobs N] [--repeat 1] [--out DIR]

Runs `stswatch simulate` in-process on the given scenario (by default `large` cut to about a
million lines) and prints vessels, lines, wall and CPU seconds (this process and its
workers) and lines per second, then the cost of the pyais step that dominates: building and
packing one position report (`MessageType1(...).to_bytes()`), against pyais' complete
`encode_msg` path, in microseconds. The machine may be shared: the best of `--repeat` runs
is kept, and the CPU time shows how much of the machine the run actually got.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from pyais.encode import encode_msg
from pyais.messages import MessageType1

from stswatch.simulator import load_scenario, simulate, with_overrides
from stswatch.simulator.run import default_jobs


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _pyais_costs(n: int = 20_000) -> tuple[float, float]:
    args = (
        1,
        0,
        412345678,
        0,
        0.0,
        12.35,
        True,
        123.456789,
        30.123456,
        123.45,
        123,
        34,
        0,
        b"",
        False,
        0,
    )
    start = time.perf_counter()
    for _ in range(n):
        MessageType1(*args).to_bytes()  # type: ignore[call-arg]
    packed = (time.perf_counter() - start) / n * 1e6
    msg = MessageType1(*args)  # type: ignore[call-arg]
    start = time.perf_counter()
    for _ in range(n // 4):
        encode_msg(msg, talker_id="AI", sentence_type="VDM")
    full = (time.perf_counter() - start) / (n // 4) * 1e6
    return packed, full


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--vessels", type=int, default=360)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", help="output folder (default: a temporary one)")
    args = parser.parse_args()

    scenario = with_overrides(load_scenario(args.scenario), hours=args.hours, vessels=args.vessels)
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "sim"
        for _ in range(args.repeat):
            cpu0 = _cpu_s()
            wall0 = time.perf_counter()
            result = simulate(scenario, out, jobs=args.jobs)
            wall = time.perf_counter() - wall0
            cpu = _cpu_s() - cpu0
            if best is None or wall < best[0]:
                best = (wall, cpu, result)
    assert best is not None
    wall, cpu, result = best
    print(
        f"scenario {result.scenario}: {args.hours:g} h, {result.vessels:,} vessels, "
        f"{result.lines:,} lines ({result.position_reports:,} position reports encoded), "
        f"jobs {args.jobs}"
    )
    print(
        f"wall {wall:.1f} s, CPU {cpu:.1f} s ({cpu / wall:.2f} cores), "
        f"{result.lines / wall:,.0f} lines/s, {cpu / result.lines * 1e6:.1f} CPU us/line"
    )
    print("phases: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in result.phase_seconds))
    per_million = wall * 1_000_000 / result.lines
    print(f"time for a million lines at this rate: {per_million:.1f} s")
    packed, full = _pyais_costs()
    print(
        f"pyais per position report: MessageType1(...).to_bytes() {packed:.1f} us, "
        f"encode_msg (pyais armouring included) {full:.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
