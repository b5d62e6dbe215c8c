"""`stswatch status`: look up live vessel and encounter status in Redis."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import redis

from detectors.errors import StswatchError
from streams.status import StatusReader, sync_client
from stswatch.commands.worker import settings_from_args


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("status", help="look up live vessel or encounter status")
    parser.add_argument("--config", help="settings file (TOML)")
    parser.add_argument("--redis", help="Redis URL (overrides redis.url)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    what = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    vessel = what.add_parser("vessel", help="one vessel's last position, identity, encounters")
    vessel.add_argument("mmsi", type=int)
    encounters = what.add_parser("encounters", help="active (or recently closed) encounters")
    encounters.add_argument("--eez", help="only this EEZ (ISO 3166 alpha-3 code)")
    encounters.add_argument("--closed", action="store_true", help="recently closed ones instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    reader = StatusReader(sync_client(settings.redis), settings.redis)
    try:
        if args.what == "vessel":
            vessel = reader.vessel(args.mmsi)
            if vessel is None:
                print(f"no status for MMSI {args.mmsi}", file=sys.stderr)
                return 1
            print(json.dumps(vessel, indent=2) if args.json else describe_vessel(vessel))
            return 0
        found = reader.encounters(args.eez, "closed" if args.closed else "active")
    except (redis.RedisError, OSError) as err:
        raise StswatchError(f"redis at setting redis.url is not reachable: {err}") from None
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        for alert in found:
            print(describe_alert(alert))
        print(f"{len(found)} encounter(s)", file=sys.stderr)
    return 0


def describe_vessel(vessel: dict[str, Any]) -> str:
    lines = [
        f"MMSI {vessel['mmsi']}  {vessel.get('name', '?')}  IMO {vessel.get('imo', '-')}  "
        f"flag {vessel.get('flag_name', '?')}  type {vessel.get('ship_type_text', '?')}",
        f"  at {vessel['lat']}, {vessel['lon']} ({vessel.get('h3_cell', '')}) "
        f"on {vessel['time']}, {vessel.get('sog_kn', '?')} kn, course {vessel.get('cog_deg', '?')}",
    ]
    for alert in vessel.get("active_encounters", []):
        lines.append("  in encounter: " + describe_alert(alert))
    return "\n".join(lines)


def describe_alert(alert: dict[str, Any]) -> str:
    """One readable line per alert: who, where, how long, how close."""
    names = " + ".join(
        f"{v.get('name') or v['mmsi']} ({(v.get('flag') or {}).get('iso2', '??')})"
        for v in alert["vessels"]
    )
    eez = alert.get("eez")
    where = f"{eez['name']}" if eez else "no EEZ"
    hours = alert["duration_s"] / 3600.0
    position = alert["position"]
    return (
        f"[{alert['event']}] {names}: {hours:.1f} h, median {alert['median_distance_m']:.0f} m, "
        f"at {position['lat']:.4f},{position['lon']:.4f} in {where} since {alert['start']} "
        f"({alert['alert_id']})"
    )
