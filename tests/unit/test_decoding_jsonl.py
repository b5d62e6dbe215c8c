"""stswatch's JSON Lines record schema: writer, reader, round trip, JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.jsonl import (
    iter_json_lines,
    position_json_line,
    position_to_json,
    record_to_json_line,
    static_to_json,
)
from stswatch.decoding.nmea import NmeaDecoder
from stswatch.decoding.stats import DecodeStats

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "schemas" / "position.v1.schema.json"
T = 1_704_067_200.0  # 2024-01-01T00:00:00Z


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


POSITION = Position(257000001, T, 60.5, 5.25, 12.3, 45.6, 44.0, 0, 1)
SPARSE_POSITION = Position(338000003, T + 0.123, -33.9, 151.2, None, None, None, None, 18)
STATIC = StaticReport(257000001, T, 5, "NORNE", "LAXP4", 9310941, 80, 250.0, 44.0, 12.1, "MONGSTAD")
SPARSE_STATIC = StaticReport(338000003, T, 24, name="OCEAN LIFE")


def test_position_json_has_the_documented_keys() -> None:
    assert position_to_json(POSITION) == {
        "kind": "position",
        "mmsi": 257000001,
        "time": "2024-01-01T00:00:00Z",
        "lat": 60.5,
        "lon": 5.25,
        "sog_kn": 12.3,
        "cog_deg": 45.6,
        "heading_deg": 44.0,
        "nav_status": 0,
        "msg_type": 1,
    }


def test_static_json_has_the_documented_keys() -> None:
    assert static_to_json(STATIC) == {
        "kind": "static",
        "mmsi": 257000001,
        "time": "2024-01-01T00:00:00Z",
        "msg_type": 5,
        "name": "NORNE",
        "call_sign": "LAXP4",
        "imo": 9310941,
        "ship_type": 80,
        "length_m": 250.0,
        "width_m": 44.0,
        "draught_m": 12.1,
        "destination": "MONGSTAD",
    }


def test_round_trip_keeps_every_record() -> None:
    records: list[Position | StaticReport] = [POSITION, SPARSE_POSITION, STATIC, SPARSE_STATIC]
    lines = [record_to_json_line(record) for record in records]
    stats = DecodeStats()
    assert list(iter_json_lines(lines, "test.jsonl", stats)) == records
    assert (stats.positions, stats.statics, stats.rows_read) == (2, 2, 4)


def test_milliseconds_survive_the_round_trip() -> None:
    line = record_to_json_line(SPARSE_POSITION)
    assert json.loads(line)["time"] == "2024-01-01T00:00:00.123Z"
    (item,) = iter_json_lines([line], "x")
    assert item == SPARSE_POSITION


def test_written_records_match_the_schema(validator: jsonschema.Draft202012Validator) -> None:
    for record in (POSITION, SPARSE_POSITION):
        validator.validate(position_to_json(record))
    for static in (STATIC, SPARSE_STATIC):
        validator.validate(static_to_json(static))


@pytest.mark.parametrize(
    "document",
    [
        {**position_to_json(POSITION), "lat": 91.0},
        {**position_to_json(POSITION), "sog_kn": 102.3},
        {**position_to_json(POSITION), "heading_deg": 511},
        {**position_to_json(POSITION), "mmsi": 0},
        {**position_to_json(POSITION), "time": "2024-01-01 00:00:00"},
        {**position_to_json(POSITION), "kind": "track"},
        {key: value for key, value in position_to_json(POSITION).items() if key != "lat"},
        {**static_to_json(STATIC), "imo": 0},
        {**static_to_json(STATIC), "name": ""},
    ],
)
def test_schema_rejects_not_available_codes_and_missing_keys(
    validator: jsonschema.Draft202012Validator, document: dict[str, Any]
) -> None:
    assert not validator.is_valid(document)


@pytest.mark.data
def test_records_decoded_from_real_files_match_the_schema(
    validator: jsonschema.Draft202012Validator, shared_data: Path
) -> None:
    decoder = NmeaDecoder()
    checked = 0
    for name in (
        "kystverket_tagblock_2019-08-07_1000lines.nm4",
        "amsa_exactearth_sat_2012-02-02.nmea",
        "gfw_aistools_mixed_types.nmea",
    ):
        lines = (shared_data / "nmea" / name).read_bytes().splitlines()
        for item in decoder.decode_lines(lines, name, 1_500_000_000.0):
            if type(item) is Position:
                validator.validate(position_to_json(item))
                checked += 1
            elif type(item) is StaticReport:
                validator.validate(static_to_json(item))
                checked += 1
    assert checked > 4000


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"kind": "track", "mmsi": 257000001, "time": "2024-01-01T00:00:00Z"}', "bad_kind"),
        ('{"kind": "position", "time": "2024-01-01T00:00:00Z", "lat": 1, "lon": 1}', "bad_field"),
        ('{"kind": "position", "mmsi": 0, "time": "2024-01-01T00:00:00Z"}', "bad_mmsi"),
        ('{"kind": "position", "mmsi": 257000001, "time": "yesterday"}', "bad_time"),
        ('{"kind": "position", "mmsi": 257000001, "time": "1970-01-01T00:00:00Z"}', "bad_time"),
        (
            '{"kind": "position", "mmsi": 257000001, "time": "2024-01-01T00:00:00Z", "lat": 91,'
            ' "lon": 181}',
            "no_position",
        ),
        (
            '{"kind": "position", "mmsi": 257000001, "time": "2024-01-01T00:00:00Z", "lat": 1,'
            ' "lon": "east"}',
            "bad_field",
        ),
        (
            '{"kind": "position", "mmsi": 257000001, "time": "2024-01-01T00:00:00Z", "lat": NaN,'
            ' "lon": 1}',
            "bad_field",
        ),
        (
            '{"kind": "static", "mmsi": 257000001, "time": "2024-01-01T00:00:00Z", "imo": "x"}',
            "bad_field",
        ),
    ],
)
def test_bad_lines_are_rejected_with_a_reason(line: str, reason: str) -> None:
    stats = DecodeStats()
    (item,) = iter_json_lines([line], "x.jsonl", stats)
    assert type(item) is Reject
    assert (item.reason, item.line, item.source) == (reason, line, "x.jsonl")
    assert stats.rejected[reason] == 1


def test_blank_lines_are_skipped() -> None:
    stats = DecodeStats()
    assert list(iter_json_lines(["", "  \n"], "x", stats)) == []
    assert stats.skipped["blank"] == 2


def test_not_available_codes_from_other_writers_become_none() -> None:
    document = {
        **position_to_json(POSITION),
        "sog_kn": 102.3,
        "cog_deg": 360.0,
        "heading_deg": 511,
        "nav_status": 15,
    }
    (item,) = iter_json_lines([json.dumps(document)], "x")
    assert item == POSITION._replace(sog_kn=None, cog_deg=None, heading_deg=None, nav_status=None)


@given(
    st.builds(
        Position,
        mmsi=st.integers(1, 999_999_999),
        time_s=st.one_of(
            st.integers(0, 4_000_000_000).map(float), st.floats(0, 4e9, allow_nan=False)
        ),
        lat=st.floats(-90, 90, allow_nan=False),
        lon=st.floats(-180, 180, allow_nan=False),
        sog_kn=st.one_of(st.none(), st.floats(0, 102.2, allow_nan=False)),
        cog_deg=st.one_of(st.none(), st.floats(0, 359.9, allow_nan=False)),
        heading_deg=st.one_of(st.none(), st.floats(0, 359, allow_nan=False)),
        nav_status=st.one_of(st.none(), st.integers(0, 15)),
        msg_type=st.sampled_from([1, 2, 3, 18, 19, 27]),
    )
)
def test_the_fast_position_line_is_exactly_json_dumps(position: Position) -> None:
    expected = json.dumps(position_to_json(position), separators=(",", ":"))
    assert position_json_line(position) == expected
