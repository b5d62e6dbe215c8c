"""Hostile input against the line decoder, the CSV reader and the worker's decode stage.

`test_decoding_properties.py` shows that random text does not crash the decoders. This file
adds the accounting: every input line ends as exactly one of decoded, skipped (counted by
kind) or rejected with a stable reason, for the kinds of damage real feeds carry (random
bytes, truncated sentences, wrong checksums, fragments that never complete, absurd field
values, huge lines, invalid UTF-8, timestamps far in the past or future). The strategies are
shared with `benchmarks/fuzz_decoder.py`, which runs them for longer and counts the inputs.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict

from detectors.records import Position, Reject, StaticReport
from streams.ingest import IngestCounts, SourceBatcher, replay_lines
from streams.raw import RawError, decode_raw, encode_raw
from streams.shards import Sharding
from streams.stages import DecodeStage
from stswatch.decoding.checks import MAX_TIME_S, MIN_TIME_S
from stswatch.decoding.marinecadastre import iter_marinecadastre
from stswatch.decoding.nmea import NmeaDecoder, line_time_s, nmea_checksum
from stswatch.decoding.stats import DecodeStats

T0 = 1_714_521_600.0  # 2024-05-01T00:00:00Z

# Every reason a decoder may give; a new one must be added here on purpose (they are codes
# that dead-letter consumers and dashboards count).
NMEA_REASONS = frozenset(
    {
        "bad_checksum",
        "bad_mmsi",
        "bad_payload",
        "bad_time",
        "incomplete_multipart",
        "lat_out_of_range",
        "line_too_long",
        "lon_out_of_range",
        "malformed",
        "no_position",
        "no_time",
        "not_nmea",
        "truncated",
        "undecodable",
    }
)
CSV_REASONS = frozenset(
    {"bad_field", "bad_mmsi", "bad_time", "lat_out_of_range", "lon_out_of_range", "malformed"}
    | {"no_position"}
)
SKIP_KINDS = frozenset(
    {"blank", "empty_payload", "not_ais", "time_header", "unsupported_type", "header"}
)

Item = Position | StaticReport | Reject

# --- building lines ---------------------------------------------------------------------


def checksum_hex(body: str) -> str:
    return f"{nmea_checksum(body.encode('utf-8')):02X}"


def tag(body: str) -> str:
    return f"\\{body}*{checksum_hex(body)}\\"


def sentence(fields: str) -> str:
    """`!` + fields + `*hh`: a sentence with a right checksum."""
    return f"!{fields}*{checksum_hex(fields)}"


ARMOUR = "".join(chr(c) for c in range(48, 88)) + "".join(chr(c) for c in range(96, 120))


def position_line(mmsi: int, lat: float, lon: float, speed: float = 0.5, heading: int = 511) -> str:
    (line,) = encode_dict(
        {
            "type": 1,
            "mmsi": mmsi,
            "lat": lat,
            "lon": lon,
            "speed": speed,
            "course": 90.0,
            "heading": heading,
        },
        sentence_type="VDM",
    )
    return str(line)


def static_fragments(mmsi: int, seq_id: int, channel: str = "A") -> list[str]:
    lines = encode_dict(
        {"type": 5, "mmsi": mmsi, "shipname": "FUZZ TANKER", "callsign": "FUZZ1", "ship_type": 80},
        sentence_type="VDM",
        seq_id=seq_id,
        radio_channel=channel,
    )
    assert len(lines) == 2  # a type 5 message is 424 bits: always two sentences
    return [str(line) for line in lines]


MMSIS = st.integers(200_000_000, 775_999_999)
LATS = st.floats(-89.0, 89.0)
LONS = st.floats(-179.0, 179.0)


@st.composite
def good_position(draw: st.DrawFn) -> str:
    return tag(f"s:FUZZ,c:{int(T0) + draw(st.integers(0, 86_400))}") + position_line(
        draw(MMSIS), draw(LATS), draw(LONS)
    )


@st.composite
def truncated_sentence(draw: st.DrawFn) -> str:
    line = draw(good_position())
    return line[: draw(st.integers(1, len(line) - 1))]


@st.composite
def wrong_checksum(draw: st.DrawFn) -> str:
    line = draw(good_position())
    right = line[-2:]
    wrong = draw(st.integers(0, 255).map(lambda v: f"{v:02X}").filter(lambda h: h != right))
    return line[:-2] + wrong


@st.composite
def absurd_fields(draw: st.DrawFn) -> str:
    """Checksum-valid sentences with random payload bits: any MMSI, lat, lon, speed..."""
    first = draw(st.sampled_from("123BCH5K"))  # types 1-3, 18, 19, 24, 5, 27
    payload = first + draw(st.text(alphabet=ARMOUR, min_size=0, max_size=80))
    fill = draw(st.integers(0, 5))
    return tag(f"c:{int(T0)}") + sentence(f"AIVDM,1,1,,A,{payload},{fill}")


@st.composite
def not_available_values(draw: st.DrawFn) -> str:
    """pyais-encoded positions with AIS "not available" or out-of-range values."""
    lat = draw(st.sampled_from([91.0, -91.0, 90.0, -90.0, 0.0]))
    lon = draw(st.sampled_from([181.0, -181.0, 180.0, -180.0, 0.0]))
    mmsi = draw(st.sampled_from([0, 1, 999_999_999, 2**30 - 1]))
    line = position_line(mmsi, lat, lon, speed=draw(st.sampled_from([102.3, 0.0])))
    return tag(f"c:{int(T0)}") + line


FAR_TIMES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["0", "1", "-1", "nan", "inf", "-inf", "1e400", "9" * 400, "99999999999999"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def far_time(draw: st.DrawFn) -> str:
    """A good sentence with a time from the far past or future, three ways."""
    body = position_line(draw(MMSIS), draw(LATS), draw(LONS))
    value = draw(FAR_TIMES)
    how = draw(st.sampled_from(["tag", "appended", "pghp"]))
    if how == "tag":
        return tag(f"c:{value}") + body
    if how == "appended":
        return f"{body},{value}"
    year = draw(st.integers(0, 10**12))
    fields = f"PGHP,1,{year},{draw(st.integers(0, 99))},1,0,0,0,0,219,1"
    return f"${fields}*{checksum_hex(fields)}"


@st.composite
def huge_line(draw: st.DrawFn) -> str:
    start = draw(st.sampled_from(["!AIVDM,1,1,,A,", "\\c:1714521600*", "$PGHP,", "", "\\"]))
    return start + draw(st.sampled_from("1A,*\\9")) * draw(st.integers(1000, 200_000))


@st.composite
def invalid_utf8(draw: st.DrawFn) -> bytes:
    line = draw(good_position()).encode("ascii")
    junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xf8\x88"]))
    index = draw(st.integers(0, len(line)))
    return line[:index] + junk + line[index:]


@st.composite
def lone_fragment(draw: st.DrawFn) -> str:
    fragments = static_fragments(draw(MMSIS), draw(st.integers(0, 9)))
    return tag(f"c:{int(T0)}") + draw(st.sampled_from(fragments))


def _no_terminators(data: bytes) -> bytes:
    # A "line" has no line terminator inside: the readers split on them.
    return data.replace(b"\n", b" ").replace(b"\r", b" ")


HOSTILE_LINE: st.SearchStrategy[str | bytes] = st.one_of(
    st.binary(max_size=200).map(_no_terminators),
    truncated_sentence(),
    wrong_checksum(),
    absurd_fields(),
    not_available_values(),
    far_time(),
    huge_line(),
    invalid_utf8(),
    lone_fragment(),
    good_position(),
)

# --- accounting --------------------------------------------------------------------------


def single_line_outcome(line: str | bytes, fallback_time_s: float | None) -> str:
    """What one line becomes in a fresh decoder: "decoded", "skipped" or "rejected"."""
    decoder = NmeaDecoder()
    items = decoder.decode_lines([line], "fuzz", fallback_time_s)
    items += decoder.flush()
    stats = decoder.stats
    assert stats.lines_read == 1
    check_records(items)
    rejects = [item for item in items if type(item) is Reject]
    records = [item for item in items if type(item) is not Reject]
    assert stats.rejected == Counter(r.reason for r in rejects)
    assert set(stats.skipped) <= SKIP_KINDS and all(v >= 0 for v in stats.skipped.values())
    outcomes = [
        stats.skipped_total == 1 and not items,
        len(rejects) == 1 and not records and stats.skipped_total == 0,
        # One line gives one record, or two for a type 19 (position and identity).
        1 <= len(records) <= 2 and not rejects and stats.skipped_total == 0,
    ]
    assert outcomes.count(True) == 1, (line, items, stats.as_dict())
    return ("skipped", "rejected", "decoded")[outcomes.index(True)]


def check_records(items: list[Item]) -> None:
    for item in items:
        assert type(item) in (Position, StaticReport, Reject)
        if type(item) is Reject:
            assert item.reason in NMEA_REASONS | CSV_REASONS, item
            assert len(item.line) <= 310  # rejects keep a bounded copy of the line
            continue
        assert 0 < item.mmsi <= 999_999_999  # type: ignore[union-attr]
        assert MIN_TIME_S <= item.time_s < MAX_TIME_S  # type: ignore[union-attr]
        if type(item) is Position:
            assert -90 <= item.lat <= 90 and -180 <= item.lon <= 180
            for value in (item.sog_kn, item.cog_deg, item.heading_deg):
                assert value is None or math.isfinite(value)


_FRAGMENTS_RECEIVED = re.compile(r"^(\d) of \d fragments")


def lines_in_reject(reject: Reject) -> int:
    """How many input lines one reject stands for (a broken multi-part group: its parts)."""
    found = _FRAGMENTS_RECEIVED.match(reject.detail)
    if reject.reason == "incomplete_multipart" and found:
        return int(found.group(1))
    return reject.line.count("\n") + 1


def lines_in_record(record: Position | StaticReport) -> int:
    """Input lines behind a record of the traffic strategy below (types 1 and 5 only)."""
    if type(record) is StaticReport:
        assert record.msg_type == 5
        return 2
    return 1


def check_hostile_line(line: str | bytes, fallback_time_s: float | None) -> None:
    single_line_outcome(line, fallback_time_s)


@st.composite
def damaged_traffic(draw: st.DrawFn) -> list[str | bytes]:
    """Realistic traffic (positions, two-part identities) with damage applied to it.

    Fragments are dropped, repeated, swapped and interleaved; lines are truncated, get
    wrong checksums or junk bytes; blank, foreign and far-time lines are mixed in.
    """
    lines: list[str | bytes] = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(
            st.sampled_from(
                ["position", "static", "static", "blank", "foreign", "damaged", "far_time"]
            )
        )
        stamp = tag(f"s:FUZZ,c:{int(T0) + len(lines)}")
        if kind == "position":
            lines.append(draw(good_position()))
        elif kind == "static":
            parts = [stamp + f for f in static_fragments(draw(MMSIS), draw(st.integers(0, 9)), "A")]
            fate = draw(st.sampled_from(["whole", "first_only", "last_only", "twice", "swap"]))
            if fate == "first_only":
                parts = parts[:1]
            elif fate == "last_only":
                parts = parts[1:]
            elif fate == "twice":
                parts = [parts[0], parts[0], parts[1]]
            elif fate == "swap":
                parts = parts[::-1]
            lines.extend(parts)
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "   ", "\t"])))
        elif kind == "foreign":
            lines.append(draw(st.sampled_from(["$GPGGA,1,2,3*00", "hello", "!AIALR,1*00"])))
        elif kind == "damaged":
            lines.append(draw(st.one_of(truncated_sentence(), wrong_checksum(), invalid_utf8())))
        else:
            value = draw(FAR_TIMES)
            lines.append(tag(f"c:{value}") + position_line(draw(MMSIS), draw(LATS), draw(LONS)))
    # Interleave by moving a few lines elsewhere: fragments of different messages mix.
    for _ in range(draw(st.integers(0, 3))):
        if len(lines) > 1:
            item = lines.pop(draw(st.integers(0, len(lines) - 1)))
            lines.insert(draw(st.integers(0, len(lines))), item)
    return lines


def account(lines: list[str | bytes], decoder: NmeaDecoder, items: list[Item]) -> None:
    """lines in = skipped + lines behind rejects + lines behind records, exactly."""
    stats = decoder.stats
    check_records(items)
    rejects = [item for item in items if type(item) is Reject]
    records = [item for item in items if type(item) is not Reject]
    assert stats.lines_read == len(lines)
    assert stats.rejected == Counter(r.reason for r in rejects)
    assert stats.positions == sum(type(r) is Position for r in records)
    assert stats.statics == sum(type(r) is StaticReport for r in records)
    accounted = (
        stats.skipped_total
        + sum(lines_in_reject(r) for r in rejects)
        + sum(lines_in_record(r) for r in records)  # type: ignore[arg-type]
    )
    assert accounted == len(lines), (stats.as_dict(), rejects)


def check_damaged_traffic(lines: list[str | bytes], chunks: int) -> None:
    # Split the input into consecutive batches, as the stream does with raw messages:
    # fragments may straddle batches.
    decoder = NmeaDecoder(fragment_timeout_lines=8)
    items: list[Item] = []
    size = max(1, len(lines) // chunks)
    for start in range(0, len(lines), size):
        items += decoder.decode_lines(lines[start : start + size], "fuzz", None)
    items += decoder.flush()
    account(lines, decoder, items)


def test_the_accounting_sees_a_lost_line() -> None:
    """The accounting is not vacuous: a missing outcome is noticed."""
    lines: list[str | bytes] = [tag(f"c:{int(T0)}") + position_line(244_000_001, 52.0, 4.0)]
    decoder = NmeaDecoder()
    items = decoder.decode_lines(lines, "fuzz", None)
    account(lines, decoder, items)
    try:
        account([*lines, "one more"], decoder, items)
    except AssertionError:
        return
    raise AssertionError("a line without an outcome went unnoticed")


# --- the regressions fuzzing found, as plain examples -------------------------------------


def test_a_400_digit_time_is_rejected_not_raised() -> None:
    """int -> float overflow in the tag block and appended epoch used to escape."""
    body = position_line(244_000_001, 52.0, 4.0)
    for line in (tag("c:" + "9" * 400) + body, f"{body},{'9' * 400}"):
        assert single_line_outcome(line, None) == "rejected"
        (reject,) = [i for i in NmeaDecoder().decode_lines([line], "x") if type(i) is Reject]
        assert reject.reason == "bad_time"


def test_a_pghp_year_out_of_range_is_rejected_not_raised() -> None:
    """`calendar.timegm` raised ValueError for year 0 or 99999 in a $PGHP line."""
    body = position_line(244_000_001, 52.0, 4.0)
    for year in ("0", "99999", "9" * 5000):
        fields = f"PGHP,1,{year},6,11,11,46,12,451,219,1"
        pghp = f"${fields}*{checksum_hex(fields)}"
        decoder = NmeaDecoder()
        items = decoder.decode_lines([pghp, body], "x", None)
        assert [getattr(i, "reason", "") for i in items] == [
            "line_too_long" if len(pghp) > 1024 else "bad_time",
            "no_time",
        ]
        line_time_s(pghp)  # must not raise either: ingest paces replays with it


def test_line_time_of_hostile_lines_never_raises() -> None:
    for line in ("\\c:" + "9" * 5000 + "*00\\", "!A*00," + "9" * 5000, "$PGHP," + "9," * 3000):
        line_time_s(line)


def check_line_time(line: str | bytes) -> None:
    found = line_time_s(line)
    assert found is None or isinstance(found, float)


# --- the CSV reader -------------------------------------------------------------------------

CSV_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)
GOOD_ROW = "636021061,2024-05-01T00:00:00,26.09241,-80.04806,8.8,272.7,270.0,MSC X,IMO9307839,"
GOOD_ROW += "5LCB4,70,8.0,208.0,30.0,8.0,70.0,A"
CSV_VALUES = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "-0", "91", "181", "511", "102.3"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.text(max_size=15),
    st.sampled_from(
        [
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59",
            "2024-02-30T25:61:61",
            "1970-01-01T00:00:00",
            "2024-05-01 00:00:00.5",
            "2024-05-01T00:00:nan",
        ]
    ),
)


@st.composite
def hostile_csv_line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["cells", "quote", "huge", "truncated", "junk", "good"]))
    if kind == "cells":
        cells = GOOD_ROW.split(",")
        for _ in range(draw(st.integers(1, 4))):
            cells[draw(st.integers(0, len(cells) - 1))] = draw(CSV_VALUES).replace("\n", " ")
        return ",".join(cells)
    if kind == "quote":  # a stray quote opens a field that never closes
        cells = GOOD_ROW.split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = '"' + draw(st.text(max_size=10))
        return ",".join(cells).replace("\n", " ").replace("\r", " ")
    if kind == "huge":
        return GOOD_ROW + "x" * draw(st.integers(100_000, 300_000))
    if kind == "truncated":
        return GOOD_ROW[: draw(st.integers(0, len(GOOD_ROW) - 1))]
    if kind == "junk":
        return draw(st.text(max_size=200)).replace("\n", " ").replace("\r", " ")
    return GOOD_ROW


def check_csv_lines(rows: list[str]) -> None:
    stats = DecodeStats()
    items = list(iter_marinecadastre([CSV_HEADER, *rows], "fuzz.csv", stats))
    check_records(items)
    rejects = [i for i in items if type(i) is Reject]
    positions = [i for i in items if type(i) is Position]
    assert {r.reason for r in rejects} <= CSV_REASONS
    assert stats.lines_read == len(rows) + 1
    assert stats.rejected == Counter(r.reason for r in rejects)
    # A data line is one row: a position (maybe with an identity), a skip or a reject.
    assert len(positions) + len(rejects) + stats.skipped_total == len(rows) + 1


def test_a_stray_quote_costs_its_own_line_only() -> None:
    """csv.reader over the whole file let a quote swallow every line after it."""
    stats = DecodeStats()
    rows = ['"636021061,2024-05-01T00:00:00,26.0,-80.0', GOOD_ROW, GOOD_ROW]
    items = list(iter_marinecadastre([CSV_HEADER, *rows], "q.csv", stats))
    assert [type(i).__name__ for i in items if type(i) is not StaticReport] == [
        "Reject",
        "Position",
        "Position",
    ]
    assert stats.lines_read == 4


def test_a_huge_csv_field_is_a_reject_not_a_crash() -> None:
    """csv.Error (field larger than field limit) used to escape the reader."""
    stats = DecodeStats()
    items = list(
        iter_marinecadastre([CSV_HEADER, GOOD_ROW + "x" * 200_000, GOOD_ROW], "big.csv", stats)
    )
    reasons = [i.reason for i in items if type(i) is Reject]
    assert reasons == ["malformed"]
    assert sum(type(i) is Position for i in items) == 1


# --- the worker's decode stage: raw messages from Kafka -------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=4,
)


@st.composite
def raw_message(draw: st.DrawFn) -> bytes | None:
    """A raw-topic value: a good batch of hostile lines, or a broken message."""
    kind = draw(st.sampled_from(["batch", "batch", "bytes", "json", "none"]))
    if kind == "batch":
        lines = [
            line if isinstance(line, str) else line.decode("utf-8", "replace")
            for line in draw(st.lists(HOSTILE_LINE, max_size=8))
        ]
        return encode_raw("fuzz", lines, final=draw(st.booleans()))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        document = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "v": JSONISH,
                    "source": JSONISH,
                    "lines": JSONISH,
                    "final": JSONISH,
                },
            )
        )
        return json.dumps(document).encode()
    return None


DEAD_LETTER_KEYS = {"v", "reason", "detail", "source", "topic", "partition", "offset"}


def make_stage() -> DecodeStage:
    return DecodeStage(Sharding(2, 30_000.0, 3), "ais.raw.v1")


def check_raw_messages(messages: list[bytes | None]) -> None:
    stage = make_stage()
    stats = stage.stats
    for offset, value in enumerate(messages):
        lines_before, rejected_before = stats.lines_read, stats.rejected_total
        records_before = stats.positions + stats.statics
        out = stage.handle(value, 0, offset, T0)
        for letter in out.dead_letters:
            document = json.loads(letter.value)
            assert set(document) >= DEAD_LETTER_KEYS
            assert document["reason"] and document["offset"] == offset
            assert "line" in document or "raw_b64" in document
        batch = decode_raw(value)
        if isinstance(batch, RawError):
            # Not a readable batch: the message itself is one dead letter, bytes and all.
            assert len(out.dead_letters) == 1 and not out.shards and not out.records
            assert json.loads(out.dead_letters[0].value)["reason"] == batch.reason
            continue
        assert stats.lines_read - lines_before == len(batch.lines)
        # Every reject is a dead letter; every record is published.
        assert len(out.dead_letters) == stats.rejected_total - rejected_before
        published = sum(len(group) for group in out.records.values())
        assert published == stats.positions + stats.statics - records_before
        # A batch reaches every shard partition, even without positions (event time).
        assert len(out.shards) == 3


FUZZ_TARGETS: dict[str, tuple[Callable[..., None], tuple[st.SearchStrategy[object], ...]]] = {
    "nmea hostile line": (check_hostile_line, (HOSTILE_LINE, st.none() | st.just(T0))),
    "nmea damaged traffic": (check_damaged_traffic, (damaged_traffic(), st.integers(1, 7))),
    "line_time_s": (check_line_time, (HOSTILE_LINE,)),
    "marinecadastre csv": (check_csv_lines, (st.lists(hostile_csv_line(), max_size=12),)),
    "decode stage": (check_raw_messages, (st.lists(raw_message(), max_size=5),)),
}
"""Name -> (check, strategies): what `benchmarks/fuzz_decoder.py` runs, longer."""

_CI = settings(max_examples=200, suppress_health_check=list(HealthCheck), deadline=None)


@_CI
@given(*FUZZ_TARGETS["nmea hostile line"][1])
def test_every_hostile_line_is_decoded_skipped_or_rejected_exactly_once(
    line: str | bytes, fallback_time_s: float | None
) -> None:
    check_hostile_line(line, fallback_time_s)


@_CI
@given(*FUZZ_TARGETS["nmea damaged traffic"][1])
def test_damaged_traffic_accounts_for_every_line(lines: list[str | bytes], chunks: int) -> None:
    check_damaged_traffic(lines, chunks)


@_CI
@given(*FUZZ_TARGETS["line_time_s"][1])
def test_line_time_never_raises(line: str | bytes) -> None:
    check_line_time(line)


@_CI
@given(*FUZZ_TARGETS["marinecadastre csv"][1])
def test_every_csv_line_is_one_position_a_skip_or_a_reject(rows: list[str]) -> None:
    check_csv_lines(rows)


@_CI
@given(*FUZZ_TARGETS["decode stage"][1])
def test_the_decode_stage_turns_any_message_into_records_or_dead_letters(
    messages: list[bytes | None],
) -> None:
    check_raw_messages(messages)


def test_fuzz_helpers_build_valid_lines() -> None:
    """The strategies' good lines decode: the damage, not the test, makes the rejects."""
    line = tag(f"c:{int(T0)}") + position_line(244_000_001, 52.0, 4.0)
    assert single_line_outcome(line, None) == "decoded"
    decoder = NmeaDecoder()
    fragments = [tag(f"c:{int(T0)}") + f for f in static_fragments(244_000_001, 3)]
    items = decoder.decode_lines(fragments, "x", None)
    assert [type(i) for i in items] == [StaticReport]


class _Collect:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    def send(self, source: str, value: bytes) -> None:
        self.values.append(value)


@pytest.mark.parametrize("corrupt_time", ["32503680000", "nan", "inf", "9" * 400])
def test_a_corrupt_line_time_does_not_stall_a_paced_replay(corrupt_time: str) -> None:
    """A year-3000 (or NaN, inf) time between good lines used to make the pacer wait for
    centuries or raise; it is sent without pacing and the replay goes on."""
    good = [
        tag(f"c:{int(T0) + offset}") + position_line(244_000_001, 52.0, 4.0) for offset in (0, 1)
    ]
    lines = [good[0], tag(f"c:{corrupt_time}") + position_line(244_000_002, 52.0, 4.0), good[1]]
    sink = _Collect()
    batcher = SourceBatcher("paced", sink, IngestCounts(), max_lines=10)
    started = time.monotonic()
    assert replay_lines(lines, batcher, speed=2.0)
    assert time.monotonic() - started < 3.0
    assert [line for value in sink.values for line in json.loads(value)["lines"]] == lines
