"""The NMEA decoder on sentences written for each rule (pyais's encoder makes the payloads)."""

from __future__ import annotations

import calendar
from typing import Any

import pytest
from pyais.encode import encode_dict

from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.nmea import NmeaDecoder, line_time_s, nmea_checksum

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def sentences(fields: dict[str, Any], seq_id: int | None = None, channel: str = "A") -> list[str]:
    """NMEA sentences of one AIS message, made by pyais's encoder (independent of stswatch)."""
    return list(encode_dict(fields, sentence_type="VDM", seq_id=seq_id, radio_channel=channel))


def with_tag(sentence: str, body: str) -> str:
    """`\\body*hh\\sentence` with a correct tag block checksum."""
    checksum = nmea_checksum(body.encode())
    return f"\\{body}*{checksum:02X}\\{sentence}"


def with_checksum(body: str) -> str:
    """`!body*hh` for an NMEA body written by hand."""
    return f"!{body}*{nmea_checksum(body.encode()):02X}"


def decode(
    lines: list[str], fallback_time_s: float | None = T0, source: str = "test"
) -> tuple[list[Position | StaticReport | Reject], NmeaDecoder]:
    decoder = NmeaDecoder()
    out = decoder.decode_lines(lines, source, fallback_time_s)
    out.extend(decoder.flush())
    return out, decoder


def only(items: list[Any], kind: type) -> list[Any]:
    return [item for item in items if type(item) is kind]


POSITION_1 = {
    "type": 1,
    "mmsi": 257000001,
    "lat": 60.5,
    "lon": 5.25,
    "speed": 12.3,
    "course": 45.6,
    "heading": 44,
    "status": 0,
}


# --- Positions and "not available" values ------------------------------------------------------


def test_type_1_position_fields() -> None:
    out, _ = decode(sentences(POSITION_1))
    assert out == [Position(257000001, T0, 60.5, 5.25, 12.3, 45.6, 44.0, 0, 1)]


def test_not_available_speed_course_heading_status_become_none() -> None:
    fields = {**POSITION_1, "speed": 102.3, "course": 360, "heading": 511, "status": 15}
    (position,), _ = decode(sentences(fields))
    assert position == Position(257000001, T0, 60.5, 5.25, None, None, None, None, 1)


@pytest.mark.parametrize(("lat", "lon"), [(91, 5.0), (60.0, 181), (91, 181)])
def test_position_not_available_is_rejected_never_the_north_pole(lat: float, lon: float) -> None:
    out, decoder = decode(sentences({**POSITION_1, "lat": lat, "lon": lon}))
    assert [item.reason for item in out] == ["no_position"]
    assert decoder.stats.positions == 0


@pytest.mark.parametrize(
    ("lat", "lon", "reason"), [(95.0, 5.0, "lat_out_of_range"), (60.0, -185.0, "lon_out_of_range")]
)
def test_position_outside_the_globe_is_rejected(lat: float, lon: float, reason: str) -> None:
    out, _ = decode(sentences({**POSITION_1, "lat": lat, "lon": lon}))
    assert [item.reason for item in out] == [reason]


def test_mmsi_zero_is_rejected() -> None:
    out, _ = decode(sentences({**POSITION_1, "mmsi": 0}))
    assert [item.reason for item in out] == ["bad_mmsi"]


def test_ten_digit_mmsi_is_rejected() -> None:
    out, _ = decode(sentences({**POSITION_1, "mmsi": 1_000_000_000}))
    assert [item.reason for item in out] == ["bad_mmsi"]


def test_type_18_class_b_position() -> None:
    fields = {
        "type": 18,
        "mmsi": 367000002,
        "lat": -33.9,
        "lon": 151.2,
        "speed": 0.4,
        "course": 359.9,
        "heading": 511,
    }
    (position,), _ = decode(sentences(fields))
    assert position == Position(367000002, T0, -33.9, 151.2, 0.4, 359.9, None, None, 18)


def test_type_27_long_range_not_available_codes() -> None:
    fields = {
        "type": 27,
        "mmsi": 257000001,
        "lat": 60.5,
        "lon": 5.25,
        "speed": 63,
        "course": 511,
        "status": 1,
    }
    (position,), _ = decode(sentences(fields))
    assert position == Position(257000001, T0, 60.5, 5.25, None, None, None, 1, 27)


def test_type_27_values() -> None:
    fields = {
        "type": 27,
        "mmsi": 257000001,
        "lat": -12.5,
        "lon": -70.25,
        "speed": 9,
        "course": 350,
        "status": 7,
    }
    (position,), _ = decode(sentences(fields))
    assert position == Position(257000001, T0, -12.5, -70.25, 9.0, 350.0, None, 7, 27)


def test_type_27_lat_91_is_no_position() -> None:
    fields = {"type": 27, "mmsi": 257000001, "lat": 91, "lon": 181, "speed": 1, "course": 1}
    out, _ = decode(sentences(fields))
    assert [item.reason for item in out] == ["no_position"]


# --- Static reports -----------------------------------------------------------------------------

STATIC_5 = {
    "type": 5,
    "mmsi": 257000001,
    "imo": 9310941,
    "shipname": "NORNE",
    "callsign": "LAXP4",
    "ship_type": 80,
    "to_bow": 200,
    "to_stern": 50,
    "to_port": 20,
    "to_starboard": 24,
    "draught": 12.1,
    "destination": "MONGSTAD",
}


def test_type_5_two_fragments_make_one_static_report() -> None:
    lines = sentences(STATIC_5, seq_id=3)
    assert len(lines) == 2
    out, decoder = decode(lines)
    assert out == [
        StaticReport(257000001, T0, 5, "NORNE", "LAXP4", 9310941, 80, 250.0, 44.0, 12.1, "MONGSTAD")
    ]
    assert decoder.stats.messages_by_type[5] == 1


def test_type_5_not_available_values_become_none() -> None:
    fields = {
        "type": 5,
        "mmsi": 257000001,
        "imo": 0,
        "shipname": "",
        "callsign": "",
        "ship_type": 0,
        "to_bow": 0,
        "to_stern": 0,
        "to_port": 0,
        "to_starboard": 0,
        "draught": 0,
        "destination": "",
    }
    out, _ = decode(sentences(fields, seq_id=1))
    assert out == [StaticReport(257000001, T0, 5)]


def test_type_24_part_a_name_and_part_b_call_sign_type_dimensions() -> None:
    part_a = sentences({"type": 24, "mmsi": 338000003, "partno": 0, "shipname": "OCEAN LIFE"})
    part_b = sentences(
        {
            "type": 24,
            "mmsi": 338000003,
            "partno": 1,
            "ship_type": 36,
            "callsign": "WDX1234",
            "to_bow": 10,
            "to_stern": 4,
            "to_port": 2,
            "to_starboard": 3,
            "vendorid": "SMT",
        }
    )
    out, _ = decode(part_a + part_b)
    assert out == [
        StaticReport(338000003, T0, 24, name="OCEAN LIFE"),
        StaticReport(
            338000003, T0, 24, call_sign="WDX1234", ship_type=36, length_m=14.0, width_m=5.0
        ),
    ]


def test_type_19_gives_a_position_and_a_static_report() -> None:
    fields = {
        "type": 19,
        "mmsi": 367000004,
        "lat": 36.2,
        "lon": 122.3,
        "speed": 0.4,
        "course": 226,
        "heading": 0,
        "shipname": "SEA BIRD",
        "ship_type": 37,
        "to_bow": 6,
        "to_stern": 4,
        "to_port": 3,
        "to_starboard": 3,
    }
    out, _ = decode(sentences(fields))
    assert out == [
        Position(367000004, T0, 36.2, 122.3, 0.4, 226.0, 0.0, None, 19),
        StaticReport(367000004, T0, 19, name="SEA BIRD", ship_type=37, length_m=10.0, width_m=6.0),
    ]


def test_names_lose_at_sign_padding_and_spaces() -> None:
    fields = {**STATIC_5, "shipname": "  NORNE@@@", "callsign": "@@@@@@@"}
    (static,), _ = decode(sentences(fields, seq_id=2))
    assert static.name == "NORNE"
    assert static.call_sign is None


# --- Receive times ------------------------------------------------------------------------------


def test_tag_block_time_in_seconds_and_station() -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([with_tag(line, "s:rx1,c:1565218798")], fallback_time_s=None)
    assert [item.time_s for item in out] == [1565218798.0]


def test_tag_block_time_in_milliseconds() -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([with_tag(line, "c:1565218798123")], fallback_time_s=None)
    assert [item.time_s for item in out] == [1565218798.123]


def test_appended_epoch_in_milliseconds_and_seconds() -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([line + ",1328133720087", line + ",1327664821"], fallback_time_s=None)
    assert [item.time_s for item in out] == [1328133720.087, 1327664821.0]


def test_tag_block_time_wins_over_appended_epoch() -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([with_tag(line + ",1328133720087", "c:1565218798")], fallback_time_s=None)
    assert [item.time_s for item in out] == [1565218798.0]


def test_pghp_time_applies_to_the_following_lines_of_its_source() -> None:
    pghp = "$PGHP,1,2010,6,11,11,46,12,451,219,1,992190917,1,58*14"
    (line,) = sentences(POSITION_1)
    out, decoder = decode([pghp, line, line], fallback_time_s=None)
    expected = calendar.timegm((2010, 6, 11, 11, 46, 12, 0, 0, 0)) + 0.451
    assert [item.time_s for item in out] == [expected, expected]
    assert decoder.stats.skipped["time_header"] == 1


def test_pghp_time_is_not_shared_between_sources() -> None:
    pghp = "$PGHP,1,2010,6,11,11,46,12,451,219,1,992190917,1,58*14"
    (line,) = sentences(POSITION_1)
    decoder = NmeaDecoder()
    decoder.decode_lines([pghp], "rx-a", None)
    out = decoder.decode_lines([line], "rx-b", None)
    assert [item.reason for item in out] == ["no_time"]


def test_appended_epoch_wins_over_pghp() -> None:
    pghp = "$PGHP,1,2010,6,11,11,46,12,451,219,1,992190917,1,58*14"
    (line,) = sentences(POSITION_1)
    out, _ = decode([pghp, line + ",1328133720087"], fallback_time_s=None)
    assert [item.time_s for item in out] == [1328133720.087]


def test_pghp_with_bad_checksum_is_rejected_when_used() -> None:
    bad_pghp = "$PGHP,1,2010,6,11,11,46,12,451,219,1,992190917,1,58*15"
    (line,) = sentences(POSITION_1)
    out, decoder = decode([bad_pghp, line], fallback_time_s=None)
    assert sorted(item.reason for item in out) == ["bad_checksum", "no_time"]
    assert decoder.stats.skipped["time_header"] == 0


def test_line_without_time_is_rejected_without_fallback() -> None:
    out, decoder = decode(sentences(POSITION_1), fallback_time_s=None)
    assert [item.reason for item in out] == ["no_time"]
    assert decoder.stats.rejected["no_time"] == 1


def test_line_without_time_takes_the_fallback_not_an_earlier_lines_time() -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([line + ",1328133720087", line], fallback_time_s=T0)
    assert [item.time_s for item in out] == [1328133720.087, T0]


@pytest.mark.parametrize("epoch", ["100", "4102444800", "99999999999999"])
def test_times_outside_1990_to_2100_are_rejected(epoch: str) -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([line + "," + epoch], fallback_time_s=None)
    assert [item.reason for item in out] == ["bad_time"]


def test_line_time_s_reads_each_style() -> None:
    (line,) = sentences(POSITION_1)
    assert line_time_s(with_tag(line, "c:1565218798")) == 1565218798.0
    assert line_time_s(line + ",1328133720087") == 1328133720.087
    pghp_time = line_time_s("$PGHP,1,2010,6,11,11,46,12,451,219,1,992190917,1,58*14")
    assert pghp_time == calendar.timegm((2010, 6, 11, 11, 46, 12, 0, 0, 0)) + 0.451
    assert line_time_s(line) is None


# --- Checksums and malformed lines --------------------------------------------------------------


def test_bad_sentence_checksum_is_rejected() -> None:
    (line,) = sentences(POSITION_1)
    corrupted = line[:20] + ("A" if line[20] != "A" else "B") + line[21:]
    out, _ = decode([corrupted])
    assert [item.reason for item in out] == ["bad_checksum"]
    assert out[0].line == corrupted


def test_bad_tag_block_checksum_is_rejected() -> None:
    (line,) = sentences(POSITION_1)
    out, _ = decode([f"\\c:1565218798*00\\{line}"])
    assert [item.reason for item in out] == ["bad_checksum"]


def test_group_tag_checksum_without_group_field_is_tolerated() -> None:
    # Kystverket's quirk: the checksum of `c:...` alone on a block that also has `g:`.
    first, second = sentences(STATIC_5, seq_id=5)
    checksum = nmea_checksum(b"c:1565218798")
    lines = [
        f"\\g:1-2-9999,c:1565218798*{checksum:02X}\\{first}",
        f"\\g:2-2-9999,c:1565218798*{checksum:02X}\\{second}",
    ]
    out, decoder = decode(lines, fallback_time_s=None)
    assert [type(item) for item in out] == [StaticReport]
    assert decoder.stats.tolerated["tag_checksum_without_group"] == 2


def test_any_talker_is_accepted() -> None:
    (line,) = sentences(POSITION_1)
    body = line[1 : line.rindex("*")]
    for talker in ("AB", "BS", "AS", "SS", "--", "=I"):
        out, _ = decode([with_checksum(talker + body[2:])])
        assert [type(item) for item in out] == [Position], talker


def test_vdo_own_ship_is_decoded() -> None:
    (line,) = sentences(POSITION_1)
    body = line[1 : line.rindex("*")].replace("AIVDM", "AIVDO")
    out, _ = decode([with_checksum(body)])
    assert [type(item) for item in out] == [Position]


@pytest.mark.parametrize(
    "junk",
    [
        "$PSHI,001,57.56188576,,01479,27232,115157.29,2,2158,-101*3A",
        "$AIVSI,RIG,5,112959.09,1,-108,12*5B",
        "$BSALR,,006,V,V,general failure*62",
        "$GPZDA,115906.00,27,01,2012,00,00*66",
        "!AIPWR,UNIT=0,POWER=1*05",
    ],
)
def test_junk_lines_are_skipped_not_rejected(junk: str) -> None:
    out, decoder = decode([junk])
    assert out == []
    assert decoder.stats.skipped["not_ais"] == 1
    assert decoder.stats.rejected_total == 0


def test_empty_payload_is_skipped() -> None:
    out, decoder = decode(["!AIVDM,1,1,,B,,0*25"])
    assert out == []
    assert decoder.stats.skipped["empty_payload"] == 1


def test_unsupported_types_are_counted_by_type_and_skipped() -> None:
    base_station = sentences({"type": 4, "mmsi": 2190047, "lat": 55.0, "lon": 12.0})
    out, decoder = decode(base_station)
    assert out == []
    assert decoder.stats.messages_by_type[4] == 1
    assert decoder.stats.skipped["unsupported_type"] == 1


def test_short_payload_is_rejected_as_truncated() -> None:
    (line,) = sentences(POSITION_1)
    payload = line.split(",")[5]
    out, _ = decode([with_checksum(f"AIVDM,1,1,,A,{payload[:15]},0")])
    assert [item.reason for item in out] == ["truncated"]


def test_payload_character_outside_the_armouring_is_rejected() -> None:
    out, _ = decode([with_checksum("AIVDM,1,1,,A,13m62@OP?w<tSF0l4Q@>4?v1P00|,0")])
    assert [item.reason for item in out] == ["bad_payload"]


@pytest.mark.parametrize(
    "line",
    [
        "hello world",
        "!AIVDM,1,1,,A,13m62@OP?w<tSF0l4Q@>4?v1P000",
        "!AIVDM,1,1,,A,13m62@OP?w<tSF0l4Q@>4?v1P000,0*ZZ",
        "!AIVDM,3,4,,A,13m62@OP?w<tSF0l4Q@>4?v1P000,0*6C",
        "\\c:1565218798*53",
    ],
)
def test_malformed_lines_are_rejected_with_a_reason(line: str) -> None:
    out, decoder = decode([line])
    assert len(out) == 1
    assert type(out[0]) is Reject
    assert out[0].reason in {"malformed", "not_nmea", "bad_checksum"}
    assert decoder.stats.rejected_total == 1


def test_blank_lines_and_bytes_input() -> None:
    (line,) = sentences(POSITION_1)
    out, decoder = decode(["", "   ", line.encode() + b"\r\n"])  # type: ignore[list-item]
    assert [type(item) for item in out] == [Position]
    assert decoder.stats.skipped["blank"] == 2
    assert decoder.stats.lines_read == 3


def test_huge_line_is_rejected_and_shortened_in_the_reject() -> None:
    out, _ = decode(["!" + "A" * 100_000])
    assert [item.reason for item in out] == ["line_too_long"]
    assert len(out[0].line) < 1000


# --- Multi-part reassembly ----------------------------------------------------------------------


def test_fragments_from_two_sources_are_never_mixed() -> None:
    first_a, second_a = sentences(STATIC_5, seq_id=1)
    first_b, second_b = sentences({**STATIC_5, "mmsi": 257000099, "shipname": "OTHER"}, seq_id=1)
    decoder = NmeaDecoder()
    out = decoder.decode_lines([first_a], "rx-a", T0)
    out += decoder.decode_lines([first_b], "rx-b", T0)
    out += decoder.decode_lines([second_a], "rx-a", T0)
    out += decoder.decode_lines([second_b], "rx-b", T0)
    assert [(item.mmsi, item.name) for item in out] == [
        (257000001, "NORNE"),
        (257000099, "OTHER"),
    ]


def test_fragments_from_two_stations_of_one_source_are_never_mixed() -> None:
    first_a, second_a = sentences(STATIC_5, seq_id=1)
    first_b, second_b = sentences({**STATIC_5, "mmsi": 257000099, "shipname": "OTHER"}, seq_id=1)
    lines = [
        with_tag(first_a, "s:rx1,c:1565218798"),
        with_tag(first_b, "s:rx2,c:1565218798"),
        with_tag(second_a, "s:rx1,c:1565218798"),
        with_tag(second_b, "s:rx2,c:1565218798"),
    ]
    out, _ = decode(lines)
    assert [(item.mmsi, item.name) for item in out] == [
        (257000001, "NORNE"),
        (257000099, "OTHER"),
    ]


def test_fragments_split_across_batches_are_joined() -> None:
    first, second = sentences(STATIC_5, seq_id=4)
    decoder = NmeaDecoder()
    assert decoder.decode_lines([first], "rx", T0) == []
    (static,) = decoder.decode_lines([second], "rx", T0)
    assert static.name == "NORNE"


def test_incomplete_group_is_rejected_at_flush() -> None:
    first, _second = sentences(STATIC_5, seq_id=4)
    out, decoder = decode([first])
    assert [item.reason for item in out] == ["incomplete_multipart"]
    assert out[0].line == first
    assert decoder.stats.rejected["incomplete_multipart"] == 1


def test_group_reusing_a_sequence_id_rejects_the_unfinished_one() -> None:
    first, second = sentences(STATIC_5, seq_id=4)
    out, _ = decode([first, first, second])
    assert [type(item) for item in out] == [Reject, StaticReport]
    assert out[0].reason == "incomplete_multipart"


def test_group_times_out_after_too_many_lines() -> None:
    first, second = sentences(STATIC_5, seq_id=4)
    (position,) = sentences(POSITION_1)
    decoder = NmeaDecoder(fragment_timeout_lines=5)
    out = decoder.decode_lines([first, *[position] * 10], "rx", T0)
    assert [item.reason for item in out if type(item) is Reject] == ["incomplete_multipart"]
    out = decoder.decode_lines([second], "rx", T0)
    assert [item.reason for item in out if type(item) is Reject] == []
    assert [type(item) for item in out] == []  # a lone second fragment waits for its first


def test_group_times_out_after_too_much_event_time() -> None:
    first, _second = sentences(STATIC_5, seq_id=4)
    (position,) = sentences(POSITION_1)
    decoder = NmeaDecoder(fragment_timeout_s=60.0)
    out = decoder.decode_lines([first + ",1600000000", position + ",1600000061"], "rx", None)
    assert [item.reason for item in out if type(item) is Reject] == ["incomplete_multipart"]


def test_reassembled_message_takes_the_first_fragments_time() -> None:
    first, second = sentences(STATIC_5, seq_id=4)
    out, _ = decode([with_tag(first, "g:1-2-77,c:1565218798"), with_tag(second, "g:2-2-77")])
    assert [item.time_s for item in out] == [1565218798.0]


def test_forget_drops_a_sources_state() -> None:
    first, second = sentences(STATIC_5, seq_id=4)
    decoder = NmeaDecoder()
    decoder.decode_lines([first], "rx", T0)
    assert [item.reason for item in decoder.forget("rx")] == ["incomplete_multipart"]
    assert decoder.decode_lines([second], "rx", T0) == []


def test_repeated_payloads_decode_identically() -> None:
    # The decoder keeps decoded payloads; a repeat must still get its own time.
    (line,) = sentences(POSITION_1)
    out, _ = decode([line + ",1600000000", line + ",1600000010"], fallback_time_s=None)
    assert [item.time_s for item in out] == [1600000000.0, 1600000010.0]
    assert out[0]._replace(time_s=0) == out[1]._replace(time_s=0)
