"""Decoded AIS messages (pyais objects) to stswatch records, with "not available" made None.

pyais does the bit decoding; this module only reads the attributes of its message objects
(no `asdict()`: a dict per message costs more than the rest of the conversion) and applies
ITU-R M.1371's "not available" conventions:

- lat 91 / lon 181: no position; the message is rejected (`no_position`), never a fix at the
  North Pole. Values outside the globe are rejected as out of range.
- speed 102.3 kn (type 27: 63 kn), course 360 (type 27: 511), heading 511: None. Courses and
  headings above 359.9 are invalid codes and also become None.
- navigational status 15 ("not defined"): None.
- IMO 0, ship type 0, dimensions 0, draught 0, empty texts: None. Texts lose the '@' padding
  and surrounding spaces.
"""

from __future__ import annotations

from typing import Any

from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from detectors.records import Position, StaticReport
from stswatch.decoding.checks import MAX_MMSI, Problem, check_lat_lon

POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
STATIC_TYPES = frozenset({5, 19, 24})
SUPPORTED_TYPES = POSITION_TYPES | STATIC_TYPES

# Fewest payload bits that still hold every field read here (the last one partly, for texts
# at the end). Shorter payloads are rejected as `truncated` instead of read as zeros.
_MIN_BITS: dict[int, int] = {
    1: 137,  # through heading
    2: 137,
    3: 137,
    18: 133,  # through heading
    19: 301,  # through the dimensions
    27: 94,  # through course
    5: 302,  # through draught; the destination may be cut short
    24: 160,  # part A: the name; part B needs 162 (checked after the part number)
}
_MIN_BITS_24B = 162

# Builds a Position from a full tuple of its fields in C: the named tuple's own __new__ is a
# Python function, a frame per position on the hottest path.
_new_tuple = tuple.__new__

_SPEED_NA_KN = 102.3
_SPEED_NA_27_KN = 63.0
_STATUS_NOT_DEFINED = 15


def decode_payload(payload: bytes, fill_bits: int, msg_type: int) -> Any:
    """pyais message object for a complete payload of a supported type.

    Raises whatever pyais raises on a payload it cannot decode; the caller turns that into
    a reject.
    """
    return MSG_CLASS[msg_type].from_vector(bit_vector(payload, fill_bits))


def bits_problem(payload: bytes, fill_bits: int, msg_type: int) -> Problem | None:
    """A `truncated` problem when the payload is too short for the fields read."""
    bits = len(payload) * 6 - fill_bits
    needed = _MIN_BITS[msg_type]
    if msg_type == 24 and bits >= 40 and _part_number(payload) == 1:
        needed = _MIN_BITS_24B
    if bits >= needed:
        return None
    return ("truncated", f"type {msg_type} payload has {bits} bits, needs {needed}")


def _part_number(payload: bytes) -> int:
    # Bits 38-39 of a type 24 message; character 6 holds bits 36-41.
    value = payload[6] - 48
    if value > 40:
        value -= 8
    return (value >> 2) & 3


def text_or_none(text: str | None) -> str | None:
    """AIS six-bit text without '@' padding and spaces; None when nothing is left."""
    if not text:
        return None
    stripped = text.strip(" @")
    return stripped or None


def _positive_or_none(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None
    return float(value)


def _length_width(msg: Any) -> tuple[float | None, float | None]:
    bow, stern, port, starboard = msg.to_bow, msg.to_stern, msg.to_port, msg.to_starboard
    length = None if bow is None or stern is None else _positive_or_none(bow + stern)
    width = None if port is None or starboard is None else _positive_or_none(port + starboard)
    return length, width


def position_of(msg: Any, msg_type: int, time_s: float) -> Position | Problem:
    """Position of a type 1, 2, 3, 18, 19 or 27 message, or the reason it cannot be one.

    The "not available" rules are written inline: this runs for most input lines.
    """
    mmsi: int = msg.mmsi
    if mmsi <= 0 or mmsi > MAX_MMSI:
        return ("bad_mmsi", f"MMSI {mmsi} is not 9 digits")
    lat: float = msg.lat
    lon: float = msg.lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return check_lat_lon(lat, lon) or ("no_position", f"lat {lat}, lon {lon}")
    speed = msg.speed
    course = msg.course
    if msg_type == 27:
        speed_not_available = _SPEED_NA_27_KN
        heading = None
        status = msg.status
    else:
        speed_not_available = _SPEED_NA_KN
        reported_heading = msg.heading
        heading = None if reported_heading >= 360 else float(reported_heading)
        status = msg.status if msg_type <= 3 else _STATUS_NOT_DEFINED
    return _new_tuple(
        Position,
        (
            mmsi,
            time_s,
            lat,
            lon,
            None if speed >= speed_not_available else speed,
            None if course >= 360.0 else course,
            heading,
            None if status == _STATUS_NOT_DEFINED else int(status),
            msg_type,
        ),
    )


def static_of(msg: Any, msg_type: int, time_s: float) -> StaticReport | Problem:
    """StaticReport of a type 5, 19 or 24 message, or the reason it cannot be one."""
    mmsi: int = msg.mmsi
    if mmsi <= 0 or mmsi > MAX_MMSI:
        return ("bad_mmsi", f"MMSI {mmsi} is not 9 digits")
    if msg_type == 5:
        length, width = _length_width(msg)
        return StaticReport(
            mmsi,
            time_s,
            5,
            name=text_or_none(msg.shipname),
            call_sign=text_or_none(msg.callsign),
            imo=msg.imo or None,
            ship_type=int(msg.ship_type) or None,
            length_m=length,
            width_m=width,
            draught_m=_positive_or_none(msg.draught),
            destination=text_or_none(msg.destination),
        )
    if msg_type == 19:
        length, width = _length_width(msg)
        return StaticReport(
            mmsi,
            time_s,
            19,
            name=text_or_none(msg.shipname),
            ship_type=int(msg.ship_type) or None,
            length_m=length,
            width_m=width,
        )
    # Type 24: part A carries the name, part B the rest (an auxiliary craft's part B
    # carries its mother ship's MMSI where the dimensions would be).
    if msg.partno == 0:
        return StaticReport(mmsi, time_s, 24, name=text_or_none(msg.shipname))
    length = width = None
    if hasattr(msg, "to_bow"):
        length, width = _length_width(msg)
    return StaticReport(
        mmsi,
        time_s,
        24,
        call_sign=text_or_none(msg.callsign),
        ship_type=int(msg.ship_type) or None,
        length_m=length,
        width_m=width,
    )
