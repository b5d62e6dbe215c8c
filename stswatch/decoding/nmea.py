"""NMEA 0183 AIS sentences (`!xxVDM`, `!xxVDO`) to records: the one decoder of stswatch.

`NmeaDecoder.decode_lines` is called by the offline reader (`stswatch.decoding.inputs`) with
chunks of a file and by the stream with batches of raw lines from Kafka, so both decode alike.
Every line ends as exactly one of: part of a decoded message, a skipped line (counted in
`DecodeStats.skipped` by kind), or a `Reject` with a stable reason. Nothing raises.

The envelope is parsed here; pyais decodes the payload bits (`stswatch.decoding.ais`).

Talkers: any two characters before `VDM`/`VDO` are accepted (AI, AB, BS, AS, SS, BY, `--`,
and the `=I` of some feeds): the talker says which device relayed the sentence, not what it
means, and the checksum still guards the content.

Receive time, in this order of preference:
1. an NMEA 4.0 tag block `\\s:station,c:time*hh\\` before the sentence (`c` in seconds or
   milliseconds, told apart by magnitude; the tag block checksum is verified);
2. an epoch appended after the checksum (`...,0*22,1328133720087`, seconds or milliseconds);
3. the last `$PGHP` line (Gatehouse format) seen from the same source (a PGHP line is parsed
   and checked only when a sentence needs its time; a broken one is rejected then);
4. the caller's `fallback_time_s` (the stream passes the Kafka timestamp; the offline reader
   passes `--assume-time`, or None, which rejects such lines as `no_time`).
A line with no time of its own does not inherit the time of an earlier tag block or appended
epoch: those belong to one line only, and a stale time would misplace the position. `$PGHP`
lines are different by design: they announce the time of the lines that follow them.

Multi-part messages are reassembled per (source, tag block station, channel, sequence id), so
fragments from two receivers are never mixed. A group is rejected as `incomplete_multipart`
when a new message reuses its key before it completes, when it is older than
`fragment_timeout_lines` lines of its source or `fragment_timeout_s` seconds of event time,
and at `flush()`. The time of a reassembled message is the first time any fragment carried.
"""

from __future__ import annotations

import calendar
import functools
import operator
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.ais import (
    POSITION_TYPES,
    STATIC_TYPES,
    SUPPORTED_TYPES,
    bits_problem,
    decode_payload,
    position_of,
    static_of,
)
from stswatch.decoding.checks import (
    EPOCH_MS_THRESHOLD,
    MAX_TIME_S,
    MIN_TIME_S,
    Problem,
    epoch_to_seconds,
)
from stswatch.decoding.stats import DecodeStats

DecodedItem = Position | StaticReport | Reject

# Longer lines are not NMEA (a sentence is at most 82 characters, a tag block adds a few
# dozen); rejecting them early bounds the work done on garbage.
MAX_LINE_BYTES = 1024
# Reject records keep at most this much of a rejected line.
_MAX_REJECT_TEXT = 300

_BACKSLASH = 0x5C
_EXCLAMATION = 0x21
_DOLLAR = 0x24

_HEX_BYTES: dict[bytes, int] = {}
for _value in range(256):
    _HEX_BYTES[b"%02X" % _value] = _value
    _HEX_BYTES[b"%02x" % _value] = _value

# The field after the payload, `<fill bits>*<checksum>`: every valid spelling, parsed once.
_FILL_CHECKSUM: dict[bytes, tuple[int, int]] = {
    b"%d*%s" % (fill, text): (fill, value)
    for fill in range(6)
    for text, value in _HEX_BYTES.items()
}

_FRAGMENT_DIGITS: dict[bytes, int] = {b"%d" % digit: digit for digit in range(1, 10)}

# Six-bit value of each payload character; -1 for bytes outside the AIS armouring alphabet.
_ARMOR: tuple[int, ...] = tuple(
    (code - 48 if code < 88 else code - 56) if (48 <= code <= 87 or 96 <= code <= 119) else -1
    for code in range(256)
)
_ARMOR_CHARS = bytes(code for code in range(256) if _ARMOR[code] >= 0)

_xor = operator.xor
_reduce = functools.reduce
_from_bytes = int.from_bytes
_LOW_512 = (1 << 512) - 1
_LOW_256 = (1 << 256) - 1
_LOW_128 = (1 << 128) - 1
_LOW_64 = (1 << 64) - 1


def nmea_checksum(data: bytes) -> int:
    """XOR of all bytes: the NMEA checksum of the text between the start character and '*'.

    A sentence (at most 128 bytes here) is read as one integer and folded in halves down to
    one byte: a dozen integer operations instead of a Python step per byte, two to three
    times faster on the 45-90 byte sentences of AIS.
    """
    if len(data) > 128:
        return _reduce(_xor, data, 0)
    value = _from_bytes(data, "little")
    value = (value >> 512) ^ (value & _LOW_512)
    value = (value >> 256) ^ (value & _LOW_256)
    value = (value >> 128) ^ (value & _LOW_128)
    value = (value >> 64) ^ (value & _LOW_64)
    value ^= value >> 32
    value ^= value >> 16
    value ^= value >> 8
    return value & 0xFF


class TagBlock(NamedTuple):
    """The parts of an NMEA 4.0 tag block stswatch uses.

    `tolerance` names a known producer quirk the block was accepted despite (counted in
    `DecodeStats.tolerated`), `problem` why it was not accepted.
    """

    time_s: float | None
    station: str | None
    problem: Problem | None = None
    tolerance: str | None = None


# Kystverket (the Norwegian Coastal Administration's public feed) writes the tag blocks of
# multi-part messages as `\g:1-2-9999,c:1565218798*53\` with the checksum of the block
# *without* its `g:` group field. Rejecting them would drop every multi-part message (all
# static reports) of that feed, so such a block is accepted when its checksum matches the
# other fields: they are still verified, and stswatch does not use the group field (it
# reassembles by the sentence's own sequence id, which the sentence checksum covers).
TOLERATED_TAG_CHECKSUM_WITHOUT_GROUP = "tag_checksum_without_group"


def _checksum_without_group(body: bytes) -> int:
    return nmea_checksum(b",".join(item for item in body.split(b",") if item[:2] != b"g:"))


def parse_tag_block(block: bytes) -> TagBlock:
    """`s:station,c:1565218798*53` (without the backslashes) to time and station."""
    star = block.rfind(b"*")
    expected = _HEX_BYTES.get(block[star + 1 :]) if star >= 0 else None
    if expected is None:
        return TagBlock(None, None, ("malformed", "tag block without a checksum"))
    body = block[:star]
    tolerance: str | None = None
    if nmea_checksum(body) != expected:
        if b"g:" not in body or _checksum_without_group(body) != expected:
            return TagBlock(None, None, ("bad_checksum", "tag block checksum does not match"))
        tolerance = TOLERATED_TAG_CHECKSUM_WITHOUT_GROUP
    time_s: float | None = None
    station: str | None = None
    for item in body.split(b","):
        if item[:2] == b"c:":
            value = _parse_epoch(item[2:])
            if value is None:
                return TagBlock(None, None, ("bad_time", "unreadable tag block time"))
            time_s = value
        elif item[:2] == b"s:":
            station = item[2:].decode("ascii", "replace")
    return TagBlock(time_s, station, None, tolerance)


_MAX_INT_EPOCH_DIGITS = 18


def _parse_epoch(text: bytes) -> float | None:
    """Epoch seconds from digits in seconds or milliseconds; None if unreadable."""
    # Past 18 digits an int no longer converts to a float reliably (OverflowError beyond
    # 309 digits); float() reads such junk as a huge value, which the time check rejects.
    if text.isdigit() and len(text) <= _MAX_INT_EPOCH_DIGITS:
        value = int(text)
        return value / 1000.0 if value > EPOCH_MS_THRESHOLD else float(value)
    try:
        return epoch_to_seconds(float(text))
    except ValueError:
        return None


def parse_pghp_time(sentence: bytes) -> float | Problem:
    """Epoch seconds of a `$PGHP,1,yyyy,m,d,h,m,s,ms,...*hh` line (checksum verified)."""
    star = sentence.find(b"*")
    expected = _HEX_BYTES.get(sentence[star + 1 : star + 3]) if star > 0 else None
    if expected is None:
        return ("malformed", "PGHP line without a checksum")
    if nmea_checksum(sentence[1:star]) != expected:
        return ("bad_checksum", "PGHP checksum does not match")
    fields = sentence[:star].split(b",")
    parts = fields[2:9]
    # At most 9 digits: int() refuses strings of more than 4300 (lines here have no limit).
    if len(parts) != 7 or not all(part.isdigit() and len(part) <= 9 for part in parts):
        return ("bad_time", "unreadable PGHP date and time")
    year, month, day, hour, minute, second, millisecond = (int(part) for part in parts)
    # calendar.timegm raises for years outside 1..9999; the time check rejects those anyway.
    if not (
        1 <= year <= 9999
        and 1 <= month <= 12
        and 1 <= day <= 31
        and hour <= 23
        and minute <= 59
        and second <= 60
        and millisecond <= 999
    ):
        return ("bad_time", "PGHP date or time out of range")
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) + (
        millisecond / 1000.0
    )


def line_time_s(line: str | bytes) -> float | None:
    """The receive time a raw line carries itself, or None (no state, no checks of the rest).

    Tag block `c:` first, then an epoch appended after the checksum, then the time of a
    `$PGHP` line. For pacing replays and routing; decoding uses `NmeaDecoder`. The time is
    returned as written, even when the decoder would reject it (inf, NaN, year 3000).
    """
    raw = line.encode("utf-8", "backslashreplace") if isinstance(line, str) else line
    raw = raw.strip()
    if raw[:1] == b"\\":
        end = raw.find(b"\\", 1)
        if end < 0:
            return None
        time_s = _tag_block_time_s(raw[1:end])
        if time_s is not None:
            return time_s
        raw = raw[end + 1 :]
    if raw[:6] == b"$PGHP,":
        parsed = parse_pghp_time(raw)
        return None if isinstance(parsed, tuple) else parsed
    star = raw.rfind(b"*")
    if star < 0:
        return None
    comma = raw.find(b",", star)
    if comma < 0:
        return None
    return _parse_epoch(raw[comma + 1 :])


@functools.lru_cache(maxsize=4096)
def _tag_block_time_s(block: bytes) -> float | None:
    """The time of a sound tag block. Cached: a station's lines of one second share their
    tag block (`s:station,c:second*hh`), and a replay of several files reads the time of
    every line to merge them (3.1 -> 0.7 us a line on 200,000 lines of the `large`
    scenario; the benchmark's four worker files replayed together 2.9-3.7 -> 1.9 CPU-s)."""
    tag = parse_tag_block(block)
    return tag.time_s if tag.problem is None else None


class _Fragments:
    """The fragments of one multi-part message received so far."""

    __slots__ = ("count", "fill_bits", "first_line_no", "lines", "parts", "received", "time_s")

    def __init__(self, count: int, first_line_no: int) -> None:
        self.count = count
        self.first_line_no = first_line_no
        self.parts: list[bytes | None] = [None] * count
        self.lines: list[bytes] = []
        self.received = 0
        self.fill_bits = 0
        self.time_s: float | None = None


class _SourceState:
    """Per-source memory: pending fragments, the last PGHP time, lines seen."""

    __slots__ = ("line_no", "pending", "pghp_line", "pghp_time_s")

    def __init__(self) -> None:
        self.line_no = 0
        self.pending: dict[tuple[str | None, bytes, bytes], _Fragments] = {}
        # The latest PGHP line, kept unparsed until a sentence needs its time (satellite
        # files carry one per sentence but give a better time after the checksum).
        self.pghp_line: bytes | None = None
        self.pghp_time_s: float | None = None


# Bounds of the per-decoder caches; each is emptied when full (cheaper than LRU upkeep).
_MAX_TAG_CACHE = 4096
_MAX_DECODED_CACHE = 50_000

# At most this many multi-part groups wait per source; more means garbage input.
_MAX_PENDING = 1000


def _as_bytes(line: object) -> bytes:
    if type(line) is str:
        return line.encode("utf-8", "backslashreplace")
    if isinstance(line, bytearray | memoryview):
        return bytes(line)
    return str(line).encode("utf-8", "backslashreplace")


def utf8_lines(lines: Sequence[str]) -> list[bytes]:
    """`lines` as UTF-8 bytes, encoded in one call rather than one per line (the stream's
    raw batches arrive as JSON strings). A line holding a line break of its own is kept
    whole: the batch is then encoded line by line."""
    joined = "\n".join(lines)
    if not lines or joined.count("\n") != len(lines) - 1:
        return [_as_bytes(line) for line in lines]
    return joined.encode("utf-8", "backslashreplace").split(b"\n")


def _line_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "backslashreplace")
    if len(text) > _MAX_REJECT_TEXT:
        return text[:_MAX_REJECT_TEXT] + "..."
    return text


class NmeaDecoder:
    """Decodes NMEA AIS lines of any number of sources, keeping per-source state.

    `stats` (created when not given) accumulates counts over all calls.
    """

    def __init__(
        self,
        stats: DecodeStats | None = None,
        fragment_timeout_lines: int = 1000,
        fragment_timeout_s: float = 60.0,
    ) -> None:
        self.stats = stats if stats is not None else DecodeStats()
        self.fragment_timeout_lines = fragment_timeout_lines
        self.fragment_timeout_s = fragment_timeout_s
        self._sources: dict[str, _SourceState] = {}
        # pyais message objects by payload: the same message arrives from several receivers,
        # and a vessel repeats its static report unchanged, so a good share of payloads
        # repeat within minutes (30 % in the mixed AMSA stream, 59 % of the type 5 messages
        # of a satellite pass). The objects are only read, never changed.
        self._decoded_cache: dict[bytes | tuple[bytes, int], Any] = {}
        # A receiver writes the same tag block on every line of one second.
        self._tag_cache: dict[bytes, TagBlock] = {}

    def decode_lines(
        self,
        lines: Iterable[str | bytes],
        source: str,
        fallback_time_s: float | None = None,
    ) -> list[DecodedItem]:
        """Decode a batch of raw lines of one source, in arrival order.

        `fallback_time_s` is the time given to lines that carry none (the Kafka message
        timestamp in the stream, `--assume-time` offline); with None they are rejected.
        """
        out: list[DecodedItem] = []
        state = self._sources.get(source)
        if state is None:
            state = self._sources[source] = _SourceState()
        stats = self.stats
        skipped = stats.skipped
        messages_by_type = stats.messages_by_type
        line_no = state.line_no
        last_time_s: float | None = None
        positions = statics = 0
        decoded_cache = self._decoded_cache
        tag_cache = self._tag_cache

        for line in lines:
            line_no += 1
            raw = line if type(line) is bytes else _as_bytes(line)
            raw = raw.strip()
            if not raw:
                skipped["blank"] += 1
                continue
            if len(raw) > MAX_LINE_BYTES:
                self._reject(out, "line_too_long", raw, source, f"{len(raw)} bytes")
                continue

            # Tag block.
            station: str | None = None
            own_time_s: float | None = None
            sentence = raw
            if raw[0] == _BACKSLASH:
                end = raw.find(b"\\", 1)
                if end < 0:
                    self._reject(out, "malformed", raw, source, "unterminated tag block")
                    continue
                block = raw[1:end]
                tag = tag_cache.get(block)
                if tag is None:
                    if len(tag_cache) >= _MAX_TAG_CACHE:
                        tag_cache.clear()
                    tag = tag_cache[block] = parse_tag_block(block)
                if tag.problem is not None:
                    self._reject(out, tag.problem[0], raw, source, tag.problem[1])
                    continue
                if tag.tolerance is not None:
                    stats.tolerated[tag.tolerance] += 1
                station = tag.station
                own_time_s = tag.time_s
                sentence = raw[end + 1 :]
                if not sentence:
                    self._reject(out, "malformed", raw, source, "tag block without a sentence")
                    continue

            start = sentence[0]
            if start != _EXCLAMATION:
                if start == _DOLLAR:
                    if sentence[:6] == b"$PGHP,":
                        state.pghp_line = raw
                        state.pghp_time_s = None
                        skipped["time_header"] += 1
                    else:
                        skipped["not_ais"] += 1
                else:
                    self._reject(out, "not_nmea", raw, source, "does not start with ! or $")
                continue

            # Envelope: !AIVDM,count,number,sequence id,channel,payload,fill*checksum[,epoch]
            fields = sentence.split(b",")
            head = fields[0]
            formatter = head[3:]
            if len(head) != 6 or formatter not in {b"VDM", b"VDO"}:
                skipped["not_ais"] += 1
                continue
            field_count = len(fields)
            if field_count not in {7, 8}:
                self._reject(out, "malformed", raw, source, f"{field_count} fields")
                continue
            fill_checksum = _FILL_CHECKSUM.get(fields[6])
            if fill_checksum is None:
                self._reject(out, "malformed", raw, source, "bad fill bits or checksum field")
                continue
            fill_bits, expected = fill_checksum
            if nmea_checksum(sentence[1 : sentence.rfind(b"*")]) != expected:
                self._reject(out, "bad_checksum", raw, source)
                continue
            count = _FRAGMENT_DIGITS.get(fields[1])
            number = _FRAGMENT_DIGITS.get(fields[2])
            if count is None or number is None or number > count:
                self._reject(out, "malformed", raw, source, "bad fragment count or number")
                continue

            if own_time_s is None:
                if field_count == 8 and fields[7]:
                    own_time_s = _parse_epoch(fields[7])
                    if own_time_s is None:
                        self._reject(out, "bad_time", raw, source, "unreadable epoch")
                        continue
                elif state.pghp_line is not None:
                    own_time_s = self._pghp_time(state, source, out)
                else:
                    own_time_s = state.pghp_time_s
            if own_time_s is not None:
                last_time_s = own_time_s

            payload = fields[5]
            if count > 1:
                assembled = self._add_fragment(
                    state,
                    source,
                    (station, fields[4], fields[3]),
                    count,
                    number,
                    payload,
                    fill_bits,
                    own_time_s,
                    raw,
                    line_no,
                    out,
                )
                if assembled is None:
                    continue
                payload, fill_bits, own_time_s, raw = assembled

            if not payload:
                skipped["empty_payload"] += 1
                continue
            msg_type = _ARMOR[payload[0]]
            if msg_type < 0:
                self._reject(out, "bad_payload", raw, source, "character outside AIS armouring")
                continue
            messages_by_type[msg_type] += 1
            if msg_type not in SUPPORTED_TYPES:
                skipped["unsupported_type"] += 1
                continue

            time_s = own_time_s if own_time_s is not None else fallback_time_s
            if time_s is None:
                self._reject(out, "no_time", raw, source)
                continue
            if not MIN_TIME_S <= time_s < MAX_TIME_S:
                self._reject(out, "bad_time", raw, source, f"time {time_s} s")
                continue
            cache_key = payload if fill_bits == 0 else (payload, fill_bits)
            msg = decoded_cache.get(cache_key)
            if msg is None:
                if payload.translate(None, _ARMOR_CHARS):
                    self._reject(out, "bad_payload", raw, source, "character outside AIS armouring")
                    continue
                problem = bits_problem(payload, fill_bits, msg_type)
                if problem is not None:
                    self._reject(out, problem[0], raw, source, problem[1])
                    continue
                try:
                    msg = decode_payload(payload, fill_bits, msg_type)
                except Exception as err:  # pyais on a payload it cannot read: data, not a bug
                    self._reject(out, "undecodable", raw, source, f"{type(err).__name__}: {err}")
                    continue
                if len(decoded_cache) >= _MAX_DECODED_CACHE:
                    decoded_cache.clear()
                decoded_cache[cache_key] = msg

            if msg_type in POSITION_TYPES:
                position = position_of(msg, msg_type, time_s)
                if not isinstance(position, Position):
                    self._reject(out, position[0], raw, source, position[1])
                    continue
                out.append(position)
                positions += 1
                if msg_type != 19:
                    continue
            if msg_type in STATIC_TYPES:
                static = static_of(msg, msg_type, time_s)
                if not isinstance(static, StaticReport):
                    self._reject(out, static[0], raw, source, static[1])
                    continue
                out.append(static)
                statics += 1

        stats.lines_read += line_no - state.line_no
        stats.positions += positions
        stats.statics += statics
        state.line_no = line_no
        if state.pending:
            self._expire(state, source, line_no, last_time_s, out)
        return out

    def flush(self, source: str | None = None) -> list[Reject]:
        """Reject every unfinished multi-part message (of one source, or of all)."""
        out: list[DecodedItem] = []
        names = list(self._sources) if source is None else [source]
        for name in names:
            state = self._sources.get(name)
            if state is None:
                continue
            for group in state.pending.values():
                self._reject_group(group, name, "input ended", out)
            state.pending.clear()
        return [item for item in out if type(item) is Reject]

    def forget(self, source: str) -> list[Reject]:
        """Flush one source and drop its state (a file ended, a receiver went away)."""
        rejects = self.flush(source)
        self._sources.pop(source, None)
        return rejects

    # The rarer paths, kept out of the loop above.

    def _reject(
        self, out: list[DecodedItem], reason: str, raw: bytes, source: str, detail: str = ""
    ) -> None:
        out.append(Reject(reason, _line_text(raw), source, detail))
        self.stats.rejected[reason] += 1

    def _pghp_time(self, state: _SourceState, source: str, out: list[DecodedItem]) -> float | None:
        """Parse the source's latest PGHP line (once); a broken one is rejected then."""
        raw = state.pghp_line
        state.pghp_line = None
        if raw is None:
            return state.pghp_time_s
        sentence = raw[raw.find(b"$") :]
        parsed = parse_pghp_time(sentence)
        if isinstance(parsed, tuple):
            # Counted as a time header when read; it turned out to be a broken line.
            self.stats.skipped["time_header"] -= 1
            self._reject(out, parsed[0], raw, source, parsed[1])
            state.pghp_time_s = None
        else:
            state.pghp_time_s = parsed
        return state.pghp_time_s

    def _add_fragment(
        self,
        state: _SourceState,
        source: str,
        key: tuple[str | None, bytes, bytes],
        count: int,
        number: int,
        payload: bytes,
        fill_bits: int,
        time_s: float | None,
        raw: bytes,
        line_no: int,
        out: list[DecodedItem],
    ) -> tuple[bytes, int, float | None, bytes] | None:
        """Store one fragment; the whole message once every fragment is in, else None.

        A fragment that cannot belong to the pending group of its key (another fragment
        count, or a number already received) means that group will never complete: it is
        rejected and the fragment starts a new group.
        """
        pending = state.pending
        group = pending.get(key)
        if group is not None and (group.count != count or group.parts[number - 1] is not None):
            del pending[key]
            self._reject_group(group, source, "a new message reused its sequence id", out)
            group = None
        if group is None:
            if len(pending) >= _MAX_PENDING:
                oldest = next(iter(pending))
                self._reject_group(pending.pop(oldest), source, "too many pending", out)
            group = pending[key] = _Fragments(count, line_no)
        group.parts[number - 1] = payload
        group.lines.append(raw)
        group.received += 1
        if group.time_s is None:
            group.time_s = time_s
        if number == count:
            group.fill_bits = fill_bits
        if group.received < count:
            return None
        del pending[key]
        return (
            b"".join(part or b"" for part in group.parts),
            group.fill_bits,
            group.time_s,
            b"\n".join(group.lines),
        )

    def _expire(
        self,
        state: _SourceState,
        source: str,
        line_no: int,
        time_s: float | None,
        out: list[DecodedItem],
    ) -> None:
        expired = [
            key
            for key, group in state.pending.items()
            if line_no - group.first_line_no > self.fragment_timeout_lines
            or (
                time_s is not None
                and group.time_s is not None
                and time_s - group.time_s > self.fragment_timeout_s
            )
        ]
        for key in expired:
            self._reject_group(state.pending.pop(key), source, "timed out", out)

    def _reject_group(
        self, group: _Fragments, source: str, detail: str, out: list[DecodedItem]
    ) -> None:
        received = sum(part is not None for part in group.parts)
        out.append(
            Reject(
                "incomplete_multipart",
                _line_text(b"\n".join(group.lines)),
                source,
                f"{received} of {group.count} fragments; {detail}",
            )
        )
        self.stats.rejected["incomplete_multipart"] += 1
