"""AIS messages as NMEA 0183 sentences with NMEA 4.0 tag blocks, encoded with pyais.

pyais builds every message: its message classes pack the fields into bits
(`Payload.to_bytes`). What pyais does after that, turning bytes into the six-bit ASCII
"armour" of the sentence and adding the checksum, is a fixed character mapping that its
pure-Python `SixBitNibleEncoder` runs at about 130 microseconds a message: four times the
cost of building the message itself, and the difference between a million-line scenario in
under a minute or not. So the armouring and the checksums are done here for whole batches
with numpy; tests check that the sentences are identical to `pyais.encode_msg`'s.

Static messages (type 5 in two sentences, type 24 parts A and B) are rare (one per vessel
every six minutes) and go through pyais end to end (`Payload.encode` and
`ais_to_nmea_0183`), once per vessel.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import xor
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyais.encode import ais_to_nmea_0183
from pyais.messages import (
    MessageType1,
    MessageType3,
    MessageType5,
    MessageType18,
    MessageType24PartA,
    MessageType24PartB,
)

from .identity import VesselIdentity

# Six-bit value -> armoured ASCII character (ITU-R M.1371 / IEC 61162-1 payload armouring).
_ARMOUR = np.array([v + 48 if v < 40 else v + 56 for v in range(64)], dtype=np.uint8)
_SIX_BIT_WEIGHTS = np.array([32, 16, 8, 4, 2, 1], dtype=np.uint8)
_POSITION_BITS = 168


def xor_checksum(text: str) -> int:
    """The NMEA checksum: XOR of every character (callers pass the part between ! and *)."""
    return reduce(xor, text.encode("ascii"), 0)


def _armour(rows: Sequence[bytes], n_bits: int) -> tuple[NDArray[np.uint8], int]:
    """Armoured characters (one row per message) and the number of fill bits."""
    n = len(rows)
    data = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(n, -1)
    bits = np.unpackbits(data, axis=1)[:, :n_bits]
    fill = (-n_bits) % 6
    if fill:
        bits = np.concatenate([bits, np.zeros((n, fill), dtype=np.uint8)], axis=1)
    values = bits.reshape(n, -1, 6) @ _SIX_BIT_WEIGHTS
    return _ARMOUR[values], fill


def class_a_payloads(
    mmsi: int,
    accuracy: bool,
    msg_type: Sequence[int],
    status: Sequence[int],
    turn: Sequence[float],
    speed_kn: Sequence[float],
    lon: Sequence[float],
    lat: Sequence[float],
    course_deg: Sequence[float],
    heading: Sequence[int],
    second: Sequence[int],
) -> list[bytes]:
    """pyais-packed type 1 (or 3) position reports of one vessel, 168 bits each.

    Positional arguments follow the attrs field order of pyais' MessageType1: msg_type,
    repeat, mmsi, status, turn, speed, accuracy, lon, lat, course, heading, second,
    maneuver, spare_1, raim, radio.
    """
    t1, t3 = MessageType1, MessageType3
    to_bytes = MessageType1.to_bytes
    # pyais' attrs classes take every field positionally; its type stubs do not say so
    return [
        to_bytes(
            (t3 if kind == 3 else t1)(  # type: ignore[call-arg]
                kind, 0, mmsi, st, tu, sp, accuracy, lo, la, co, hd, se, 0, b"", False, 0
            )
        )[0]
        for kind, st, tu, sp, lo, la, co, hd, se in zip(
            msg_type, status, turn, speed_kn, lon, lat, course_deg, heading, second, strict=True
        )
    ]


def class_b_payloads(
    mmsi: int,
    accuracy: bool,
    speed_kn: Sequence[float],
    lon: Sequence[float],
    lat: Sequence[float],
    course_deg: Sequence[float],
    heading: Sequence[int],
    second: Sequence[int],
) -> list[bytes]:
    """pyais-packed type 18 reports of a class B "CS" transponder (fields in MessageType18's
    order: msg_type, repeat, mmsi, reserved_1, speed, accuracy, lon, lat, course, heading,
    second, reserved_2, cs, display, dsc, band, msg22, assigned, raim, radio)."""
    t18 = MessageType18
    to_bytes = MessageType18.to_bytes
    return [
        to_bytes(
            t18(  # type: ignore[call-arg]
                18,
                0,
                mmsi,
                0,
                sp,
                accuracy,
                lo,
                la,
                co,
                hd,
                se,
                0,
                True,
                False,
                True,
                True,
                True,
                False,
                False,
                0,
            )
        )[0]
        for sp, lo, la, co, hd, se in zip(
            speed_kn, lon, lat, course_deg, heading, second, strict=True
        )
    ]


def transmitted_tenths(tenths: NDArray[np.int64]) -> list[float]:
    """Speeds or courses in tenths as the floats to hand to pyais.

    pyais scales by ten and truncates (`int()`), so each value is passed half a tenth above
    the intended one, which truncates back to exactly the intended tenth.
    """
    values: list[float] = ((tenths + 0.5) / 10.0).tolist()
    return values


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _bytes_column(text: str, n: int) -> NDArray[np.uint8]:
    return np.broadcast_to(np.frombuffer(text.encode("ascii"), dtype=np.uint8), (n, len(text)))


def _hex_columns(values: NDArray[np.integer]) -> NDArray[np.uint8]:
    v = values.astype(np.uint8)
    return np.column_stack([_HEX[v >> 4], _HEX[v & 15]])


def sentence_rows(payloads: list[bytes], channels: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """`!AIVDM,1,1,,A,<payload>,0*hh` for 168-bit payloads, as rows of ASCII bytes.

    `channels` is True for radio channel B. Built for whole batches at once: armour,
    checksum and layout are numpy operations, not per-line Python.
    """
    n = len(payloads)
    if n == 0:
        return np.zeros((0, 0), dtype=np.uint8)
    chars, fill = _armour(payloads, _POSITION_BITS)
    head_a = xor_checksum("AIVDM,1,1,,A,") ^ xor_checksum(f",{fill}")
    head_b = xor_checksum("AIVDM,1,1,,B,") ^ xor_checksum(f",{fill}")
    checksums = np.bitwise_xor.reduce(chars, axis=1) ^ np.where(channels, head_b, head_a)
    channel_col = np.where(channels, ord("B"), ord("A")).astype(np.uint8)[:, None]
    return np.hstack(
        [
            _bytes_column("!AIVDM,1,1,,", n),
            channel_col,
            _bytes_column(",", n),
            chars,
            _bytes_column(f",{fill}*", n),
            _hex_columns(checksums),
        ]
    )


def tag_rows(station: str, receive_s: NDArray[np.int64]) -> NDArray[np.uint8]:
    """NMEA 4.0 tag blocks `\\s:station,c:seconds*hh\\` as rows of ASCII bytes.

    Every time has ten digits (2001-2286, checked when the scenario is read), so the
    checksum is the station part's XOR with the XOR of the digits.
    """
    n = len(receive_s)
    value = receive_s.astype(np.int64)
    digit_cols = np.empty((n, 10), dtype=np.uint8)
    for k in range(9, -1, -1):
        digit_cols[:, k] = 48 + value % 10
        value //= 10
    checksums = np.bitwise_xor.reduce(digit_cols, axis=1) ^ xor_checksum(f"s:{station},c:")
    return np.hstack(
        [
            _bytes_column(f"\\s:{station},c:", n),
            digit_cols,
            _bytes_column("*", n),
            _hex_columns(checksums),
            _bytes_column("\\", n),
        ]
    )


def rows_to_lines(rows: NDArray[np.uint8]) -> list[str]:
    """Fixed-width rows of ASCII bytes as strings."""
    n, width = rows.shape if rows.size else (len(rows), 0)
    if n == 0:
        return []
    text = np.ascontiguousarray(rows).tobytes().decode("ascii")
    return [text[i : i + width] for i in range(0, n * width, width)]


def tag_blocks(station: str, receive_s: NDArray[np.int64]) -> list[str]:
    return rows_to_lines(tag_rows(station, receive_s))


def class_a_sentences(
    mmsi: int, accuracy: bool, channels: Sequence[str], **columns: Any
) -> list[str]:
    """Type 1/3 sentences (see `class_a_payloads`), for tests and small batches."""
    payloads = class_a_payloads(mmsi, accuracy, **columns)
    return rows_to_lines(sentence_rows(payloads, np.array([c == "B" for c in channels])))


def tag_block(station: str, receive_s: int) -> str:
    body = f"s:{station},c:{receive_s}"
    return f"\\{body}*{xor_checksum(body):02X}\\"


class StaticMessages:
    """A vessel's static and voyage sentences, encoded once by pyais and reused."""

    def __init__(self, identity: VesselIdentity, eta: tuple[int, int, int, int]) -> None:
        to_bow, to_stern, to_port, to_starboard = identity.dimensions
        if identity.ais_class == "A":
            month, day, hour, minute = eta
            self._messages = [
                MessageType5.create(
                    mmsi=identity.mmsi,
                    ais_version=2,
                    imo=identity.imo,
                    callsign=identity.call_sign,
                    shipname=identity.name,
                    ship_type=identity.ship_type,
                    to_bow=to_bow,
                    to_stern=to_stern,
                    to_port=to_port,
                    to_starboard=to_starboard,
                    epfd=1,
                    month=month,
                    day=day,
                    hour=hour,
                    minute=minute,
                    draught=identity.draught_m,
                    destination=identity.destination,
                    dte=False,
                )
            ]
        else:
            self._messages = [
                MessageType24PartA.create(mmsi=identity.mmsi, partno=0, shipname=identity.name),
                MessageType24PartB.create(
                    mmsi=identity.mmsi,
                    partno=1,
                    ship_type=identity.ship_type,
                    vendorid="SRT",
                    callsign=identity.call_sign,
                    to_bow=to_bow,
                    to_stern=to_stern,
                    to_port=to_port,
                    to_starboard=to_starboard,
                ),
            ]
        # pyais' own armouring, once per message; sentences per channel and sequence id
        self._armoured = [message.encode() for message in self._messages]
        self._cache: dict[tuple[int, str, int], list[str]] = {}

    @property
    def parts(self) -> int:
        """How many separate transmissions make one static report (1 for A, 2 for B)."""
        return len(self._messages)

    def sentences(self, part: int, channel: str, seq_id: int) -> list[str]:
        """The sentences of one transmission (type 5 needs two, with a sequence id)."""
        key = (part, channel, seq_id)
        cached = self._cache.get(key)
        if cached is None:
            payload, fill_bits = self._armoured[part]
            cached = ais_to_nmea_0183(payload, "AI", "VDM", channel, fill_bits, seq_id)
            self._cache[key] = cached
        return cached
