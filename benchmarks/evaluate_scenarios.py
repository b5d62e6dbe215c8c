"""Precision, recall and F1 of `stswatch detect` on every shipped scenario, as a table.

    python benchmarks/evaluate_scenarios.py [--scenarios demo,gibraltar] [--out DIR]
                                            [--seed N] [--jobs N]

For each scenario: `stswatch simulate --scenario NAME --out DIR/NAME`, then
`stswatch detect DIR/NAME/traffic.nmea --eez DIR/NAME/zones.geojson --ports DIR/NAME/ports.csv
--out DIR/NAME/alerts.jsonl`, then `stswatch evaluate`, and prints one markdown row per
scenario (the table the README shows), then a second table with one row per scenario and
alert type that scenario plants (sts, dark_sts, identity_conflict, position_jump,
identity_change, ais_gap: the anomaly cases are in `dark-fleet`). Everything runs from the
scenario's own files; no external data is needed. The large scenario takes several minutes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stswatch.evaluation import evaluate_files, evaluate_files_by_type
from stswatch.simulator import shipped_scenarios
from stswatch.simulator.run import default_jobs

ORDER = ["demo", "east-china-sea", "gibraltar", "dark-fleet", "large"]


def _stswatch(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "stswatch.cli", *args], check=True, stdout=subprocess.DEVNULL
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", help="comma-separated names (default: all shipped)")
    parser.add_argument("--out", help="work folder (default: a temporary one)")
    parser.add_argument("--seed", type=int, help="seed for every scenario (default: theirs)")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()

    shipped = shipped_scenarios()
    names = (
        args.scenarios.split(",")
        if args.scenarios
        else ([n for n in ORDER if n in shipped] + [n for n in shipped if n not in ORDER])
    )
    rows = []
    type_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.out) if args.out else Path(tmp)
        for name in names:
            folder = base / name
            started = time.perf_counter()
            simulate_args = [
                "simulate",
                "--scenario",
                name,
                "--out",
                str(folder),
                "--jobs",
                str(args.jobs),
            ]
            if args.seed is not None:
                simulate_args += ["--seed", str(args.seed)]
            _stswatch(*simulate_args)
            _stswatch(
                "detect",
                str(folder / "traffic.nmea"),
                "--eez",
                str(folder / "zones.geojson"),
                "--ports",
                str(folder / "ports.csv"),
                "--out",
                str(folder / "alerts.jsonl"),
                "--no-progress",
            )
            result = evaluate_files(folder / "truth.json", folder / "alerts.jsonl")
            lines = sum(1 for _ in (folder / "traffic.nmea").open(encoding="ascii"))
            expected = result.expected_events
            rows.append(
                f"| {name} | {lines:,} | {len(expected)} | "
                f"{len(result.events) - len(expected)} | {len(result.encounters)} | "
                f"{_fmt(result.precision)} | {_fmt(result.recall)} | {_fmt(result.f1)} | "
                f"{len(result.decoy_alerts)} | {len(result.unmatched_alerts)} |"
            )
            by_type = evaluate_files_by_type(folder / "truth.json", folder / "alerts.jsonl")
            for alert_type, typed in by_type.items():
                if not typed.events:
                    continue  # nothing of this type planted here
                planted = len(typed.expected_events)
                type_rows.append(
                    f"| {name} | {alert_type} | {planted} | {len(typed.events) - planted} | "
                    f"{len(typed.encounters)} | {_fmt(typed.precision)} | "
                    f"{_fmt(typed.recall)} | {_fmt(typed.f1)} | {len(typed.decoy_alerts)} | "
                    f"{len(typed.unmatched_alerts)} |"
                )
            print(f"{name}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(
        "| scenario | NMEA lines | true STS | decoys | alerts | precision | recall | F1 "
        "| decoys alerted | alerts matching nothing |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print()
    print(
        "| scenario | alert type | planted cases | near misses | alerts | precision | recall "
        "| F1 | near misses alerted | alerts matching nothing |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in type_rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
