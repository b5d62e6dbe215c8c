"""stswatch's own record schema as JSON Lines: writer (the stream publishes it) and reader.

One JSON object per line (schema: config/schemas/position.v1.schema.json):

    {"kind": "position", "mmsi": 257000000, "time": "2024-01-01T00:00:00Z", "lat": 60.1,
     "lon": 5.2, "sog_kn": 0.3, "cog_deg": 210.5, "heading_deg": null, "nav_status": 1,
     "msg_type": 1}
    {"kind": "static", "mmsi": 257000000, "time": "2024-01-01T00:00:00Z", "msg_type": 5,
     "name": "NORNE", "call_sign": "LAXP4", "imo": 9310941, "ship_type": 80,
     "length_m": 250.0, "width_m": 44.0, "draught_m": 12.1, "destination": "MONGSTAD"}

Missing values are null (the writer writes every key). Times are ISO 8601 UTC with a `Z`;
milliseconds appear when present. The reader applies the same checks as the other decoders.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from detectors.records import Position, Reject, StaticReport
from detectors.timefmt import iso_utc, parse_iso_utc
from stswatch.decoding.checks import check_lat_lon, check_mmsi, check_time
from stswatch.decoding.stats import DecodeStats

KIND_POSITION = "position"
KIND_STATIC = "static"

DecodedItem = Position | StaticReport | Reject

_SPEED_NA_KN = 102.3
_STATUS_NOT_DEFINED = 15


def position_to_json(position: Position) -> dict[str, Any]:
    """The JSON object of a position (schema position.v1)."""
    return {
        "kind": KIND_POSITION,
        "mmsi": position.mmsi,
        "time": iso_utc(position.time_s),
        "lat": position.lat,
        "lon": position.lon,
        "sog_kn": position.sog_kn,
        "cog_deg": position.cog_deg,
        "heading_deg": position.heading_deg,
        "nav_status": position.nav_status,
        "msg_type": position.msg_type,
    }


def static_to_json(static: StaticReport) -> dict[str, Any]:
    """The JSON object of a static report (schema position.v1, kind "static")."""
    return {
        "kind": KIND_STATIC,
        "mmsi": static.mmsi,
        "time": iso_utc(static.time_s),
        "msg_type": static.msg_type,
        "name": static.name,
        "call_sign": static.call_sign,
        "imo": static.imo,
        "ship_type": static.ship_type,
        "length_m": static.length_m,
        "width_m": static.width_m,
        "draught_m": static.draught_m,
        "destination": static.destination,
    }


_TIME_TEXT: dict[float, str] = {}


def _time_text(time_s: float) -> str:
    """iso_utc, remembered: a feed's records share a few distinct seconds at a time."""
    text = _TIME_TEXT.get(time_s)
    if text is None:
        if len(_TIME_TEXT) >= 4096:
            _TIME_TEXT.clear()
        text = _TIME_TEXT[time_s] = iso_utc(time_s)
    return text


def _number(value: float | None) -> str:
    return "null" if value is None else repr(value)


def position_json_line(position: Position) -> str:
    """`json.dumps(position_to_json(p), separators=(",", ":"))`, five times faster.

    The stream publishes one of these per decoded position; positions hold only numbers,
    so the text can be assembled directly (a test checks it against json.dumps).
    """
    mmsi, time_s, lat, lon, sog, cog, heading, status, msg_type = position
    return (
        f'{{"kind":"position","mmsi":{mmsi},"time":"{_time_text(time_s)}",'
        f'"lat":{lat!r},"lon":{lon!r},"sog_kn":{_number(sog)},"cog_deg":{_number(cog)},'
        f'"heading_deg":{_number(heading)},"nav_status":{_number(status)},'
        f'"msg_type":{msg_type}}}'
    )


def record_to_json_line(record: Position | StaticReport) -> str:
    """One compact JSON line (without the newline)."""
    document = position_to_json(record) if isinstance(record, Position) else static_to_json(record)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


class _InvalidRecordError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _required_int(document: dict[str, Any], key: str) -> int:
    value = document.get(key)
    if type(value) is not int:
        raise _InvalidRecordError("bad_field", f"{key} must be an integer, got {value!r}")
    return value


def _optional_int(document: dict[str, Any], key: str) -> int | None:
    value = document.get(key)
    if value is not None and type(value) is not int:
        raise _InvalidRecordError("bad_field", f"{key} must be an integer or null, got {value!r}")
    return value


def _required_float(document: dict[str, Any], key: str) -> float:
    value: Any = document.get(key)
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _InvalidRecordError("bad_field", f"{key} must be a number, got {value!r}")
    return float(value)


def _optional_float(document: dict[str, Any], key: str) -> float | None:
    value: Any = document.get(key)
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _InvalidRecordError("bad_field", f"{key} must be a number or null, got {value!r}")
    return float(value)


def _optional_text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is not None and type(value) is not str:
        raise _InvalidRecordError("bad_field", f"{key} must be a string or null, got {value!r}")
    return value or None


def _time_s(document: dict[str, Any]) -> float:
    value = document.get("time")
    if type(value) is not str:
        raise _InvalidRecordError("bad_time", f"time must be an ISO 8601 string, got {value!r}")
    try:
        time_s = parse_iso_utc(value)
    except (ValueError, OverflowError) as err:
        raise _InvalidRecordError("bad_time", f"unreadable time {value!r}: {err}") from None
    problem = check_time(time_s)
    if problem is not None:
        raise _InvalidRecordError(*problem)
    return time_s


def record_from_json(document: Any) -> Position | StaticReport:
    """The record of one decoded JSON object; raises ValueError with a reason code as args[0].

    The checks are those of the other decoders: the MMSI, the time range, the position.
    """
    try:
        return _record_from_json(document)
    except _InvalidRecordError as err:
        raise ValueError(err.reason, err.detail) from None


def _record_from_json(document: Any) -> Position | StaticReport:
    if not isinstance(document, dict):
        raise _InvalidRecordError("bad_json", "not a JSON object")
    kind = document.get("kind")
    mmsi = _required_int(document, "mmsi")
    problem = check_mmsi(mmsi)
    if problem is not None:
        raise _InvalidRecordError(*problem)
    time_s = _time_s(document)
    msg_type = _optional_int(document, "msg_type") or 0
    if kind == KIND_POSITION:
        lat = _required_float(document, "lat")
        lon = _required_float(document, "lon")
        problem = check_lat_lon(lat, lon)
        if problem is not None:
            raise _InvalidRecordError(*problem)
        sog = _optional_float(document, "sog_kn")
        cog = _optional_float(document, "cog_deg")
        heading = _optional_float(document, "heading_deg")
        status = _optional_int(document, "nav_status")
        # Writers of this schema never send "not available" codes; other writers might.
        return Position(
            mmsi,
            time_s,
            lat,
            lon,
            sog if sog is not None and 0 <= sog < _SPEED_NA_KN else None,
            cog if cog is not None and 0 <= cog < 360 else None,
            heading if heading is not None and 0 <= heading < 360 else None,
            status if status is not None and 0 <= status < _STATUS_NOT_DEFINED else None,
            msg_type,
        )
    if kind == KIND_STATIC:
        return StaticReport(
            mmsi,
            time_s,
            msg_type,
            name=_optional_text(document, "name"),
            call_sign=_optional_text(document, "call_sign"),
            imo=_optional_int(document, "imo"),
            ship_type=_optional_int(document, "ship_type"),
            length_m=_optional_float(document, "length_m"),
            width_m=_optional_float(document, "width_m"),
            draught_m=_optional_float(document, "draught_m"),
            destination=_optional_text(document, "destination"),
        )
    raise _InvalidRecordError("bad_kind", f"kind must be 'position' or 'static', got {kind!r}")


def decode_json_line(line: str | bytes, source: str, stats: DecodeStats) -> DecodedItem | None:
    """The record of one JSON line, a Reject, or None for a blank line (counted)."""
    stats.lines_read += 1
    text = line.strip()
    if not text:
        stats.skipped["blank"] += 1
        return None
    stats.rows_read += 1
    try:
        document = json.loads(text)
        record = _record_from_json(document)
    except (ValueError, RecursionError) as err:  # json.JSONDecodeError is a ValueError
        shown = text if isinstance(text, str) else text.decode("utf-8", "backslashreplace")
        if len(shown) > 300:
            shown = shown[:300] + "..."
        stats.rejected["bad_json"] += 1
        return Reject("bad_json", shown, source, str(err))
    except _InvalidRecordError as err:
        shown = text if isinstance(text, str) else text.decode("utf-8", "backslashreplace")
        stats.rejected[err.reason] += 1
        return Reject(err.reason, shown[:300], source, err.detail)
    if type(record) is Position:
        stats.positions += 1
    else:
        stats.statics += 1
    return record


def iter_json_lines(
    lines: Iterable[str | bytes], source: str, stats: DecodeStats | None = None
) -> Iterator[DecodedItem]:
    """Records and rejects of a JSON Lines input."""
    stats = stats if stats is not None else DecodeStats()
    for line in lines:
        item = decode_json_line(line, source, stats)
        if item is not None:
            yield item
