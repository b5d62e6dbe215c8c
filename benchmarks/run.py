"""The speed targets of issue 7, each measured with its baseline in the same run.

    python benchmarks/run.py [--quick] [--json OUT] [--profile DIR] [--only NAME ...]
                             [--cache DIR] [--rebuild] [--latency-feed tcp replay]
                             [--max-rate LINES_PER_S]

Builds its inputs with the simulator into the cache folder (default `out/benchmark-cache`,
reused when present: delete it or pass `--rebuild` after changing the simulator), runs

1. `detect`: `stswatch detect` (decode + detect in one process) vs bare pyais decoding of
   the same file, lines per CPU second and per wall second (target >= 0.70);
2. `workers`: one `stswatch worker` (raw lines already on the broker -> alerts) vs the same
   bare decode rate (target >= 0.50), and two workers vs one (target >= 1.7);
3. `state`: detector memory (tracemalloc) and serialized state per tracked vessel with
   200,000 vessels (target <= 2 KB), and that vessels silent for 24 h are forgotten;
4. `latency`: alert latency p50/p90/p99/max while ingest runs at half the one-worker rate,
   fed by a paced TCP feed and by a paced file replay (target p99 <= 2 s);
5. `proximity`: `close_pairs` per position vs a batch `cKDTree.query_pairs` (target <= 1x);

and prints a markdown table of figures and ratios with the machine, the load average, the
command line and the git commit. `docs/performance.md` says exactly what each one times.

`--quick` runs everything on small inputs (the first hour of the `large` scenario, 20,000
vessels, ...) in about three minutes; the full run takes about eleven on two cores.
`--profile DIR` attaches py-spy (non-blocking) to `stswatch detect` and to the one-worker
run (and the latency runs' worker) and prints their top functions. `--only` picks
measurements (latency needs the one-worker rate: with `--only latency` the workers are
measured too, unless `--max-rate` gives it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
# The live measurements start workers the way the integration tests do (tests/integration).
sys.path.insert(0, str(PROJECT))

from suite import decode, inputs, live, proximity, state  # noqa: E402
from suite.common import (  # noqa: E402
    LoadSampler,
    Machine,
    Section,
    machine_lines,
    markdown_table,
)
from suite.profiling import Recording, summarise  # noqa: E402

from stswatch.heap_tuning import keep_freed_heap  # noqa: E402

MEASUREMENTS = ("detect", "workers", "state", "latency", "proximity")
DEFAULT_CACHE = PROJECT / "out" / "benchmark-cache"


class Sizes:
    """How big each input is, full or quick."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        # The stretch of the traffic file the workers get: in the full run from 2.2 h to 5.4 h,
        # where the first planted transfer opens, so their alerts can be compared.
        self.worker_first_line = 0 if quick else 450_000
        self.worker_lines = 80_000 if quick else 650_000
        self.state_vessels = 10_000 if quick else 200_000
        self.forget_vessels = 2_000 if quick else 10_000
        self.proximity_counts: tuple[int, ...] = (10_000,) if quick else (10_000, 100_000, 200_000)
        # Vessels evenly over a disc: a crowded port, and anchorages at a fifth of its density.
        self.ports = ((2_000, 3_000.0), (5_000, 10_000.0))
        self.repeat = 2 if quick else 3
        # The proximity search takes milliseconds a run: more turns cost little and keep a
        # busy spell of the machine out of the best.
        self.proximity_repeat = 3 if quick else 9
        # Turns of one worker and two workers (each keeps its fastest run): two workers read
        # 28,894-44,392 lines/s in six runs of one half hour, so two turns were not enough.
        self.worker_turns = 1 if quick else 3


def _print_section(section: Section) -> None:
    print()
    print(markdown_table([section]))
    for note in section.notes:
        print(f"  - {note}")
    print(f"  ({section.seconds:.0f} s)", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, about 3 minutes")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--profile", type=Path, help="py-spy profiles into this folder")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, help="measurements to run")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="input cache folder")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached inputs")
    parser.add_argument(
        "--latency-feed",
        nargs="+",
        choices=("tcp", "replay"),
        help="how ingest feeds the latency run: a paced TCP feed, a paced file replay (both)",
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        help="one-worker lines/s for the latency run (instead of measuring workers first)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="a stswatch settings file to measure with (default: the shipped defaults)",
    )
    args = parser.parse_args(argv)
    decode.use_config(args.config)
    # What `stswatch detect` and the worker do at their start: the in-process measurements
    # (detect, proximity, state) then run as the product does, baselines alike.
    keep_freed_heap()

    chosen = set(args.only or MEASUREMENTS)
    if "latency" in chosen and args.max_rate is None:
        chosen.add("workers")
    sizes = Sizes(args.quick)
    cache: Path = args.cache
    if args.rebuild and cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runs_dir = cache / "runs" / stamp
    machine = Machine.now(["python", "benchmarks/run.py", *sys.argv[1:]])
    sampler = LoadSampler().start()
    started = time.perf_counter()
    print(f"stswatch benchmarks ({'quick' if args.quick else 'full'}), inputs in {cache}")
    print(f"load average at start: {machine.load_at_start}", flush=True)

    def timed(section_name: str) -> tuple[float, int]:
        print(f"\n## {section_name}", flush=True)
        return time.perf_counter(), len(sampler.samples)

    def close(section: Section, began: tuple[float, int]) -> Section:
        section.seconds = time.perf_counter() - began[0]
        window = sampler.samples[began[1] :] or sampler.samples[-1:]
        if window:
            section.load_during = {
                "min": min(window),
                "mean": sum(window) / len(window),
                "max": max(window),
            }
        _print_section(section)
        return section

    sections: list[Section] = []
    profiles: dict[str, object] = {}
    profile_text: list[str] = []
    traffic = inputs.traffic_input(cache, args.quick)
    head: decode.Timing | None = None
    worker_input = None
    if "workers" in chosen:
        worker_input = inputs.worker_input(
            traffic, sizes.worker_first_line, sizes.worker_lines, live.PARTITIONS
        )

    if "detect" in chosen:
        began = timed("1. stswatch detect vs bare pyais")
        part = worker_input.part if worker_input is not None else (0, 0)
        detect_raw: list[Path | None] = []

        @contextmanager
        def profiled() -> Iterator[None]:
            recording = (
                Recording(os.getpid(), args.profile / "detect.raw", 3600)
                if args.profile is not None
                else None
            )
            try:
                yield
            finally:
                if recording is not None:
                    detect_raw.append(recording.stop())

        section, head = decode.measure(traffic, part, sizes.repeat, profiled)
        sections.append(close(section, began))
        for raw in detect_raw:
            if raw is not None:
                summary = summarise(raw)
                profiles["detect"] = summary.as_json()
                profile_text += summary.lines(f"py-spy, stswatch detect ({raw})")

    one_worker_rate: float | None = args.max_rate
    if "workers" in chosen and worker_input is not None:
        began = timed("2. live workers vs bare pyais")
        if head is None or head.lines != worker_input.lines:
            head, _ = decode.pyais_file(worker_input.slice_path, (0, worker_input.lines))
        section, one = live.measure_workers(
            traffic, worker_input, head, runs_dir / "workers", args.profile, sizes.worker_turns
        )
        one_worker_rate = one.rate
        sections.append(close(section, began))
        if args.profile is not None and (args.profile / "worker.raw").is_file():
            summary = summarise(args.profile / "worker.raw")
            profiles["worker"] = summary.as_json()
            profile_text += summary.lines(f"py-spy, one worker ({args.profile / 'worker.raw'})")

    if "latency" in chosen and one_worker_rate is not None:
        began = timed("4. alert latency at half the one-worker rate")
        latency_input = inputs.latency_input(cache, args.quick)
        section = live.measure_latency(
            latency_input,
            one_worker_rate,
            runs_dir / "latency",
            args.latency_feed or ("tcp", "replay"),
            args.profile,
        )
        sections.append(close(section, began))
        for feed in args.latency_feed or ("tcp", "replay"):
            raw_path = None if args.profile is None else args.profile / f"latency-worker-{feed}.raw"
            if raw_path is not None and raw_path.is_file():
                summary = summarise(raw_path)
                profiles[f"latency-worker-{feed}"] = summary.as_json()
                profile_text += summary.lines(f"py-spy, worker under the {feed} feed ({raw_path})")

    tracks = None
    if "state" in chosen:
        began = timed("3. detector state per vessel")
        tracks = inputs.base_tracks(cache)
        sections.append(
            close(state.measure_state(tracks, sizes.state_vessels, sizes.forget_vessels), began)
        )

    if "proximity" in chosen:
        began = timed("5. proximity search vs cKDTree")
        tracks = tracks or inputs.base_tracks(cache)
        section = proximity.measure_proximity(
            tracks, sizes.proximity_counts, sizes.ports, sizes.proximity_repeat
        )
        sections.append(close(section, began))

    sampler.stop()
    elapsed_s = time.perf_counter() - started
    load = sampler.summary()
    order = {name: i for i, name in enumerate(("1.", "2.", "3.", "4.", "5."))}
    sections.sort(key=lambda s: order.get(s.rows[0].measurement[:2], 9) if s.rows else 9)

    print("\n# Results\n")
    print(markdown_table(sections))
    print()
    for line in machine_lines(machine, load, elapsed_s):
        print(line)
    for section in sections:
        for note in section.notes:
            print(f"- {section.name}: {note}")
    if profile_text:
        print()
        print("\n".join(profile_text))

    if args.json is not None:
        document = {
            "quick": args.quick,
            "machine": machine.__dict__ if hasattr(machine, "__dict__") else _slots(machine),
            "load_during_run": load,
            "elapsed_s": round(elapsed_s, 1),
            "sections": [section.as_json() for section in sections],
            "profiles": profiles,
            "runs_dir": str(runs_dir),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=1, default=str) + "\n")
        print(f"\nwrote {args.json}")
    return 0


def _slots(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in getattr(value, "__slots__", ())}


if __name__ == "__main__":
    sys.exit(main())
