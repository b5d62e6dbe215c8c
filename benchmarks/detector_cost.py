"""What the detector itself costs per message, decoding left out.

    python benchmarks/detector_cost.py FOLDER [--repeat N] [--no-anomalies]

FOLDER is a `stswatch simulate` output (traffic.nmea, zones.geojson, ports.csv). The input is
decoded once (and cached next to it as `records.pickle`, keyed by the file's size and time);
then the records are fed to a fresh `EncounterDetector` `--repeat` times and the fastest run
is reported, in seconds and microseconds per record: the process's CPU time (which other
processes on a shared machine disturb less) and the wall time. `--no-anomalies` turns the anomaly
detections off (`anomalies.enabled = false`) to show what they add.

`stswatch detect` time is this plus decoding, which dominates: run `time stswatch detect ...`
for the end-to-end figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import sys
import time
from pathlib import Path

from config import settings as config
from detectors.engine import EncounterDetector
from detectors.records import Position, StaticReport
from stswatch.decoding.inputs import read_inputs
from stswatch.reference import load_reference


def _records(folder: Path) -> list[Position | StaticReport]:
    source = folder / "traffic.nmea"
    stat = os.stat(source)
    cache = folder / "records.pickle"
    key = (stat.st_size, stat.st_mtime_ns)
    if cache.exists():
        with cache.open("rb") as handle:
            cached_key, records = pickle.load(handle)
        if cached_key == key:
            return records  # type: ignore[no-any-return]
    records = [
        item
        for item in read_inputs([str(source)], reorder_window_s=600.0)
        if isinstance(item, Position | StaticReport)
    ]
    with cache.open("wb") as handle:
        pickle.dump((key, records), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a `stswatch simulate` output folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-anomalies", action="store_true")
    args = parser.parse_args()
    folder = Path(args.folder)
    settings = config.load()
    settings = config.apply(
        settings,
        {
            "reference": {
                "eez_path": str(folder / "zones.geojson"),
                "ports_path": str(folder / "ports.csv"),
            }
        },
    )
    params = settings.detection
    if args.no_anomalies:
        if not hasattr(params, "anomalies"):
            print("this version has no anomaly detections", file=sys.stderr)
        else:
            params = dataclasses.replace(
                params, anomalies=dataclasses.replace(params.anomalies, enabled=False)
            )
    zones, ports = load_reference(settings.reference, announce=False)
    records = _records(folder)
    best_s = best_cpu_s = float("inf")
    events = 0
    for _ in range(args.repeat):
        detector = EncounterDetector(params, zones, ports)
        started = time.perf_counter()
        started_cpu = time.process_time()
        found = detector.process_all(records)
        found += detector.finish()
        best_cpu_s = min(best_cpu_s, time.process_time() - started_cpu)
        best_s = min(best_s, time.perf_counter() - started)
        events = len(found)
    kinds: dict[str, int] = {}
    for event in found:
        kind = getattr(event, "alert_type", "sts")
        kinds[kind] = kinds.get(kind, 0) + 1
    print(
        f"{len(records):,} records, {events} alert events {kinds}: best of {args.repeat}: "
        f"CPU {best_cpu_s:.2f} s ({best_cpu_s / len(records) * 1e6:.2f} us per record), "
        f"wall {best_s:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
