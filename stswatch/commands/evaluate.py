"""`stswatch evaluate`: precision, recall and F1 of STS alerts against a simulation's truth."""

from __future__ import annotations

import argparse
import json

from stswatch.evaluation import DEFAULT_TOLERANCE_S, evaluate_files, to_json, to_text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score alerts (JSON Lines) against truth.json from `stswatch simulate`",
        description=(
            "Collapse alert events into encounters (one per alert_id), match them to the "
            "truth by vessel pair and overlapping time, and print precision, recall and F1 "
            "overall and per category, the decoys that alerted and the alerts that match "
            "nothing."
        ),
    )
    parser.add_argument("--truth", required=True, metavar="FILE", help="truth.json")
    parser.add_argument("--alerts", required=True, metavar="FILE", help="alerts (JSON Lines)")
    parser.add_argument(
        "--tolerance-h",
        type=float,
        default=DEFAULT_TOLERANCE_S / 3600.0,
        help="time tolerance when matching, hours (default: %(default)g)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = evaluate_files(args.truth, args.alerts, args.tolerance_h * 3600.0)
    if args.json:
        print(json.dumps(to_json(result), indent=2))
    else:
        print(to_text(result))
    return 0
