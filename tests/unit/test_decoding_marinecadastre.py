"""NOAA MarineCadastre CSV: rows to positions, identities only when they change, bad rows."""

from __future__ import annotations

import calendar
import gzip
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.inputs import InputFormat, detect_format, read_file
from stswatch.decoding.marinecadastre import CsvFormatError, iter_marinecadastre
from stswatch.decoding.stats import DecodeStats

HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)
JAN_11_2023 = calendar.timegm((2023, 1, 11, 0, 0, 0, 0, 0, 0))
JAN_3_2022 = calendar.timegm((2022, 1, 3, 0, 0, 0, 0, 0, 0))


def decode(rows: list[str]) -> tuple[list[Position | StaticReport | Reject], DecodeStats]:
    stats = DecodeStats()
    items = list(iter_marinecadastre([HEADER, *rows], "test.csv", stats))
    return items, stats


def test_row_gives_a_position_and_the_identity() -> None:
    items, stats = decode(
        [
            "636021061,2023-01-11T00:00:00,26.09241,-80.04806,8.8,272.7,270.0,MSC NAISHA III,"
            "IMO9307839,5LCB4,70,8.0,208.0,30.0,8.0,70.0,A"
        ]
    )
    assert items == [
        Position(636021061, JAN_11_2023, 26.09241, -80.04806, 8.8, 272.7, 270.0, 8, 0),
        StaticReport(
            636021061, JAN_11_2023, 0, "MSC NAISHA III", "5LCB4", 9307839, 70, 208.0, 30.0, 8.0
        ),
    ]
    assert (stats.positions, stats.statics, stats.rows_read) == (1, 1, 1)


def test_not_available_values_and_empty_cells_become_none() -> None:
    items, _ = decode(
        [
            "338148873,2022-01-03T00:00:00,33.60716,-117.91483,102.3,360.0,511,CAZADOR,"
            "IMO0000000,,0,,0,,0,,B"
        ]
    )
    assert items == [
        Position(338148873, JAN_3_2022, 33.60716, -117.91483, None, None, None, None, 0),
        StaticReport(338148873, JAN_3_2022, 0, name="CAZADOR"),
    ]


def test_identity_is_reported_only_when_it_changes() -> None:
    row = (
        "366993510,2022-01-03T00:0{s}:36,29.857,-90.06391,0.0,271.0,511,{name},,WDC2462,"
        "31,5,33,8,,90,A"
    )
    items, stats = decode(
        [
            row.format(s=0, name='"LIL ""D"""'),
            row.format(s=1, name='"LIL ""D"""'),
            row.format(s=2, name="LIL D"),
            row.format(s=3, name="LIL D"),
        ]
    )
    statics = [item for item in items if type(item) is StaticReport]
    assert [static.name for static in statics] == ['LIL "D"', "LIL D"]
    assert [static.time_s for static in statics] == [JAN_3_2022 + 36, JAN_3_2022 + 2 * 60 + 36]
    assert stats.positions == 4


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0,2022-01-03T00:00:00,33.6,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_mmsi"),
        ("1234567890,2022-01-03T00:00:00,33.6,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_mmsi"),
        ("abc,2022-01-03T00:00:00,33.6,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_field"),
        ("338148873,2022-01-03T00:00:00,91,181,0,0,511,X,,,37,,14,,,,B", "no_position"),
        ("338148873,2022-01-03T00:00:00,,-117.9,0,0,511,X,,,37,,14,,,,B", "no_position"),
        ("338148873,2022-01-03T00:00:00,-95,-117.9,0,0,511,X,,,37,,14,,,,B", "lat_out_of_range"),
        ("338148873,2022-01-03T00:00:00,33.6,200,0,0,511,X,,,37,,14,,,,B", "lon_out_of_range"),
        ("338148873,2022-01-03T00:00:00,north,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_field"),
        ("338148873,2022-01-03T00:00:00,33.6,-117.9,fast,0,511,X,,,37,,14,,,,B", "bad_field"),
        ("338148873,yesterday,33.6,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_time"),
        ("338148873,1970-01-01T00:00:00,33.6,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_time"),
        ("338148873,2022-01-03T25:00:00,33.6,-117.9,0,0,511,X,,,37,,14,,,,B", "bad_time"),
        ("338148873,2022-01-03T00:00:00,33.6,-117.9", "malformed"),
    ],
)
def test_bad_rows_are_rejected_with_reason_and_text(row: str, reason: str) -> None:
    items, stats = decode([row])
    assert len(items) == 1
    reject = items[0]
    assert type(reject) is Reject
    assert reject.reason == reason
    assert reject.line == row
    assert reject.source == "test.csv"
    assert stats.rejected[reason] == 1


def test_header_without_needed_columns_is_a_clear_error() -> None:
    with pytest.raises(CsvFormatError, match="LAT"):
        list(iter_marinecadastre(["MMSI,BaseDateTime,LON", "1,2,3"], "x.csv"))


def test_columns_are_found_by_name_in_any_order() -> None:
    rows = ["LON,LAT,BaseDateTime,MMSI", "-117.9,33.6,2022-01-03T00:00:10,338148873"]
    items = list(iter_marinecadastre(rows, "x.csv"))
    assert items == [Position(338148873, JAN_3_2022 + 10, 33.6, -117.9, None, None, None, None, 0)]


# --- The real files -----------------------------------------------------------------------------


@pytest.mark.data
def test_small_file_first_rows(shared_data: Path) -> None:
    path = shared_data / "csv" / "noaa_marinecadastre_2023-01-11_1000rows.csv"
    stats = DecodeStats()
    items = list(read_file(path, stats=stats))
    # First data row, read from the file: 367752440,2023-01-11T00:00:00,43.07917,-70.75733,
    # 0.0,360.0,95.0,SAN JOSE,,WDI9818,31,0.0,,,,52.0,A
    assert items[:2] == [
        Position(367752440, JAN_11_2023, 43.07917, -70.75733, 0.0, None, 95.0, 0, 0),
        StaticReport(367752440, JAN_11_2023, 0, "SAN JOSE", "WDI9818", None, 31),
    ]
    assert stats.rows_read == 1000
    assert stats.positions + stats.rejected_total == 1000


@pytest.mark.data
def test_gzipped_day_file(shared_data: Path) -> None:
    path = shared_data / "csv" / "noaa_marinecadastre_2022-01-03_first99999.csv.gz"
    stats = DecodeStats()
    items = list(read_file(path, stats=stats))
    assert stats.rows_read == 99_999
    assert stats.positions + stats.rejected_total == 99_999
    # 338148873,2022-01-03T00:00:00,33.60716,-117.91483,0.0,280.0,511,CAZADOR,,,37,,14,,,,B
    assert items[:2] == [
        Position(338148873, JAN_3_2022, 33.60716, -117.91483, 0.0, 280.0, None, None, 0),
        StaticReport(338148873, JAN_3_2022, 0, name="CAZADOR", ship_type=37, length_m=14.0),
    ]
    statics_by_mmsi: dict[int, list[StaticReport]] = defaultdict(list)
    for item in items:
        if type(item) is StaticReport:
            statics_by_mmsi[item.mmsi].append(item)
    # Identities are sent when they change, not once per row.
    assert stats.statics < stats.positions / 5
    for reports in statics_by_mmsi.values():
        for before, after in itertools.pairwise(reports):
            assert before._replace(time_s=0) != after._replace(time_s=0)
    # The quoted name of the file: "RAY ""CHIEF"" TONEY".
    assert any(report.name == 'RAY "CHIEF" TONEY' for report in statics_by_mmsi[367704390])


@pytest.mark.data
def test_gzip_is_sniffed_by_content_not_name(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "csv" / "noaa_marinecadastre_2023-01-11_1000rows.csv"
    disguised = tmp_path / "positions.txt"
    disguised.write_bytes(gzip.compress(source.read_bytes()))
    assert detect_format(disguised) is InputFormat.MARINECADASTRE
    assert list(read_file(disguised, source="same")) == list(read_file(source, source="same"))
