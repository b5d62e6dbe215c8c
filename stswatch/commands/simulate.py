"""`stswatch simulate`: realistic AIS traffic with planted situations and their truth."""

from __future__ import annotations

import argparse
import sys

from stswatch.simulator import load_scenario, shipped_scenarios, simulate, with_overrides
from stswatch.simulator.run import default_jobs


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="write simulated AIS traffic (NMEA), its truth and reference files to a folder",
        description=(
            "Simulate a scenario: NMEA lines with tag blocks (traffic.nmea), the planted "
            "events (truth.json), the scenario's approximate EEZs (zones.geojson) and ports "
            "(ports.csv), and with --csv a MarineCadastre CSV (traffic.csv). The same seed "
            f"gives byte-identical files. Shipped scenarios: {', '.join(shipped_scenarios())}."
        ),
    )
    parser.add_argument(
        "--scenario", required=True, metavar="NAME|FILE", help="shipped scenario or TOML file"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    parser.add_argument("--hours", type=float, help="simulated time span in hours")
    parser.add_argument(
        "--vessels", type=int, help="vessels at sea at any time (planted ones included)"
    )
    parser.add_argument("--csv", action="store_true", help="also write traffic.csv")
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help="worker processes (default: %(default)s); the output does not depend on it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scenario = with_overrides(load_scenario(args.scenario), hours=args.hours, vessels=args.vessels)
    for note in scenario.notes:
        print(f"stswatch simulate: note: {note}", file=sys.stderr)
    result = simulate(scenario, args.out, seed=args.seed, write_csv=args.csv, jobs=args.jobs)
    print(result.summary())
    return 0
