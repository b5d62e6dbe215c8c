"""No input can crash a decoder: every line is decoded, skipped or rejected with a reason."""

from __future__ import annotations

import functools
import json
import operator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict

from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.jsonl import iter_json_lines
from stswatch.decoding.marinecadastre import iter_marinecadastre
from stswatch.decoding.nmea import NmeaDecoder, nmea_checksum, utf8_lines
from stswatch.decoding.stats import DecodeStats

T0 = 1_700_000_000.0

REAL_LINES = [
    "\\c:1565218798*53\\!BSVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D",
    "!AIVDM,1,1,,A,144gjIP0085KKPQHMPjT81Sb1PSL,0*22,1328133720087",
    "$PGHP,1,2010,6,11,11,46,12,451,219,1,992190917,1,58*14",
    "!AIVDM,1,1,,A,33nr7t001f13KNTOahh2@QpF00vh,0*58",
    "!BSVDM,1,1,0,1,53F=qV02>n<<D<`H001A8tpTt00000000000000N3`J384V<t=PhD1H53mkP00000000000,2*67",
    "!AIVDM,1,1,,A,KmMsIt?uItk2F4mp,0*42",
    "!AIVDM,1,1,,A,C2Gajeh012;uPp5;C76=@001QQSkgKW11gW:00000001vPH21QR0,0*5D",
    "!AIVDM,1,1,,A,H52P<14TC=D6DE100000001h0050,0*04",
    "!AIVDM,1,1,,A,B6:WWgP009r9kN4?0?`03wP2h000,0*22",
    *encode_dict(
        {"type": 5, "mmsi": 257000001, "shipname": "NORNE", "callsign": "LAXP4"},
        sentence_type="VDM",
        seq_id=3,
    ),
]
NMEA_ALPHABET = "!$\\*,.:-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw@`<>?;=\r\n"


def check_items(items: list[Position | StaticReport | Reject]) -> None:
    for item in items:
        assert type(item) in (Position, StaticReport, Reject)
        if type(item) is Reject:
            assert item.reason
            continue
        assert 0 < item.mmsi <= 999_999_999  # type: ignore[union-attr]
        assert 631_152_000 <= item.time_s < 4_102_444_800  # type: ignore[union-attr]
        if type(item) is Position:
            assert -90 <= item.lat <= 90
            assert -180 <= item.lon <= 180
            assert item.sog_kn is None or 0 <= item.sog_kn < 102.3
            assert item.cog_deg is None or 0 <= item.cog_deg < 360
            assert item.heading_deg is None or 0 <= item.heading_deg < 360


def decode_all(lines: list[str | bytes], fallback_time_s: float | None) -> DecodeStats:
    decoder = NmeaDecoder(fragment_timeout_lines=5)
    items = decoder.decode_lines(lines, "fuzz", fallback_time_s)
    items.extend(decoder.flush())
    check_items(items)
    assert decoder.stats.lines_read == len(lines)
    return decoder.stats


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), max_size=20), st.none() | st.just(T0))
def test_random_bytes_never_crash_the_nmea_decoder(
    lines: list[bytes], fallback_time_s: float | None
) -> None:
    decode_all(list(lines), fallback_time_s)


@settings(max_examples=120)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_random_text_never_crashes_the_nmea_decoder(lines: list[str]) -> None:
    decode_all(list(lines), T0)


@settings(max_examples=120)
@given(st.lists(st.text(alphabet=NMEA_ALPHABET, max_size=120), max_size=20))
def test_nmea_like_text_never_crashes_the_nmea_decoder(lines: list[str]) -> None:
    decode_all(list(lines), T0)


@st.composite
def mutated_sentences(draw: st.DrawFn) -> str:
    """A real line with a few characters changed, its checksum then made right again.

    This gets past the checksum and exercises the payload and envelope checks behind it.
    """
    line = draw(st.sampled_from(REAL_LINES))
    characters = list(line)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(characters) - 1))
        characters[index] = draw(st.sampled_from(NMEA_ALPHABET[:-2]))
    text = "".join(characters)
    start = text.rfind("!")
    star = text.rfind("*")
    if 0 <= start < star and draw(st.booleans()):
        body = text[start + 1 : star]
        checksum = nmea_checksum(body.encode("ascii", "replace"))
        text = f"{text[: star + 1]}{checksum:02X}{text[star + 3 :]}"
    return text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_sentences(), max_size=10), st.none() | st.just(T0))
def test_damaged_real_sentences_never_crash_the_nmea_decoder(
    lines: list[str], fallback_time_s: float | None
) -> None:
    decode_all(list(lines), fallback_time_s)


@given(st.binary(max_size=300))
def test_checksum_is_the_xor_of_all_bytes(data: bytes) -> None:
    assert nmea_checksum(data) == functools.reduce(operator.xor, data, 0)


@given(st.lists(st.text(alphabet=st.characters(codec=None), max_size=40), max_size=12))
def test_a_batch_of_lines_is_encoded_as_each_line_would_be(lines: list[str]) -> None:
    # Line breaks inside a line, lone surrogates and empty lines included.
    assert utf8_lines(lines) == [line.encode("utf-8", "backslashreplace") for line in lines]


def test_huge_and_invalid_utf8_lines() -> None:
    stats = decode_all(
        [b"\xff\xfe\x00" * 10_000, "!" + "\u00e9" * 100_000, b"\\" * 5000, b"\x00"], T0
    )
    assert stats.rejected_total == 4


CSV_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)
CSV_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0", "91", "181", "-1", "nan", "inf", "1e400", "IMO123", "511"]),
    st.floats(allow_nan=True).map(str),
    st.integers(-(10**12), 10**12).map(str),
)


@settings(max_examples=120)
@given(st.lists(st.lists(CSV_CELL, min_size=0, max_size=19), max_size=10))
def test_random_csv_rows_never_crash_the_marinecadastre_decoder(rows: list[list[str]]) -> None:
    lines = [CSV_HEADER] + [",".join(f'"{c.replace(chr(34), "")}"' for c in row) for row in rows]
    stats = DecodeStats()
    items = list(iter_marinecadastre(lines, "fuzz.csv", stats))
    check_items(items)
    assert stats.positions + stats.rejected_total + stats.skipped["blank"] == len(rows)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=3,
)


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["position", "static", "other"]))
    document = {
        "kind": kind,
        "mmsi": draw(st.integers(-5, 2_000_000_000) | JSON_VALUE),
        "time": draw(
            st.sampled_from(["2024-01-01T00:00:00Z", "1969-12-31T00:00:00Z"]) | JSON_VALUE
        ),
        "lat": draw(st.floats() | JSON_VALUE),
        "lon": draw(st.floats() | JSON_VALUE),
        "sog_kn": draw(st.floats() | JSON_VALUE),
        "heading_deg": draw(st.sampled_from([511, 360.0, 12.5]) | JSON_VALUE),
        "name": draw(JSON_VALUE),
        "imo": draw(JSON_VALUE),
    }
    if draw(st.booleans()):
        return json.dumps(document)
    return draw(st.text(max_size=80))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(json_lines(), max_size=5))
def test_random_json_lines_never_crash_the_reader(lines: list[str]) -> None:
    stats = DecodeStats()
    items = list(iter_json_lines(lines, "fuzz.jsonl", stats))
    check_items(items)
    assert stats.lines_read == len(lines)
