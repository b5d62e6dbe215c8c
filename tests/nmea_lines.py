"""Scenario records as the NMEA lines a receiver would deliver (encoded with pyais).

Each line carries an NMEA 4.0 tag block with the station and the receive time, like the
simulator's output and Kystverket's feed, so the stream and `stswatch detect` read them the
same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyais import encode_dict

from detectors.records import Position, StaticReport


def _checksum(text: str) -> str:
    value = 0
    for byte in text.encode("ascii"):
        value ^= byte
    return f"{value:02X}"


def tag_block(station: str, time_s: float) -> str:
    body = f"s:{station},c:{int(time_s)}"
    return f"\\{body}*{_checksum(body)}\\"


def nmea_lines(records: Iterable[Position | StaticReport], station: str = "TEST01") -> list[str]:
    """One or two lines per record, in the order given."""
    lines: list[str] = []
    sequence = 0
    for record in records:
        if isinstance(record, Position):
            sentences = encode_dict(
                {
                    "type": 1,
                    "mmsi": record.mmsi,
                    "lat": record.lat,
                    "lon": record.lon,
                    "speed": record.sog_kn or 0.0,
                    "course": record.cog_deg or 0.0,
                    "heading": 511,
                    "status": 0,
                },
                sentence_type="VDM",
            )
        else:
            sequence = sequence % 9 + 1
            sentences = encode_dict(
                {
                    "type": 5,
                    "mmsi": record.mmsi,
                    "shipname": record.name or "",
                    "ship_type": record.ship_type or 0,
                    "callsign": record.call_sign or "",
                    "imo": record.imo or 0,
                },
                sentence_type="VDM",
                seq_id=sequence,
            )
        prefix = tag_block(station, record.time_s)
        lines.extend(prefix + sentence for sentence in sentences)
    return lines
