"""`stswatch evaluate`: precision, recall and F1 of alerts against a simulation's truth.

The STS report comes first (as before); when the truth or the alerts hold other alert types
(dark_sts, identity_conflict, ...), a table with one line per type follows."""

from __future__ import annotations

import argparse
import json

from stswatch.evaluation import (
    DEFAULT_TOLERANCE_S,
    by_type_table,
    by_type_to_json,
    evaluate_files,
    evaluate_files_by_type,
    to_json,
    to_text,
)


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
    tolerance_s = args.tolerance_h * 3600.0
    result = evaluate_files(args.truth, args.alerts, tolerance_s)
    by_type = evaluate_files_by_type(args.truth, args.alerts, tolerance_s)
    others = set(by_type) - {"sts"}
    if args.json:
        document = to_json(result)
        document["by_type"] = by_type_to_json(by_type)
        print(json.dumps(document, indent=2))
    else:
        print(to_text(result))
        if others:
            print()
            print("by alert type (alerts matching only events of other types are incidental):")
            print(by_type_table(by_type))
    return 0
