"""Opening inputs of any format and merging several into event-time order."""

from __future__ import annotations

import gzip
import heapq
import itertools
import zipfile
from collections import deque
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict

from detectors.errors import StswatchError
from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.inputs import (
    CLOCK_EVERY,
    CLOCK_RECORDS,
    InputError,
    InputFormat,
    _reordered,
    detect_format,
    read_file,
    read_inputs,
)
from stswatch.decoding.jsonl import record_to_json_line
from stswatch.decoding.stats import DecodeStats

T0 = 1_700_000_000.0
CSV_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)


def nmea_line(mmsi: int, time_s: float) -> str:
    """A type 1 sentence (pyais's encoder) with the time appended in milliseconds."""
    (sentence,) = encode_dict(
        {"type": 1, "mmsi": mmsi, "lat": 60.0, "lon": 5.0, "speed": 1.0}, sentence_type="VDM"
    )
    return f"{sentence},{round(time_s * 1000)}"


def position(mmsi: int, time_s: float) -> Position:
    return Position(mmsi, time_s, 60.0, 5.0, 1.0, 0.0, 0.0, None, 1)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def times(items: list[Position | StaticReport | Reject]) -> list[float]:
    return [item.time_s for item in items if type(item) is not Reject]  # type: ignore[union-attr]


# --- Formats ------------------------------------------------------------------------------------


def test_formats_are_sniffed_from_content(tmp_path: Path) -> None:
    nmea = write(tmp_path / "a.data", [nmea_line(257000001, T0)])
    tagged = write(tmp_path / "b.nm4", ["\\c:1565218798*53\\" + nmea_line(257000001, T0)])
    csv = write(tmp_path / "c.bin", [CSV_HEADER])
    jsonl = write(tmp_path / "d.txt", [record_to_json_line(position(257000001, T0))])
    assert detect_format(nmea) is InputFormat.NMEA
    assert detect_format(tagged) is InputFormat.NMEA
    assert detect_format(csv) is InputFormat.MARINECADASTRE
    assert detect_format(jsonl) is InputFormat.JSONL


def test_gzip_and_zip_are_opened_whatever_their_names(tmp_path: Path) -> None:
    text = nmea_line(257000001, T0) + "\n"
    gz = tmp_path / "plain.nmea"
    gz.write_bytes(gzip.compress(text.encode()))
    archive = tmp_path / "day.csv"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inner.nmea", text)
    assert list(read_file(gz)) == [position(257000001, T0)]
    assert list(read_file(archive)) == [position(257000001, T0)]


def test_missing_file_is_an_input_error_before_any_record(tmp_path: Path) -> None:
    good = write(tmp_path / "good.nmea", [nmea_line(257000001, T0)])
    records = read_inputs([good, tmp_path / "missing.nmea"])
    with pytest.raises(InputError, match=r"missing\.nmea") as caught:
        next(records)
    assert isinstance(caught.value, StswatchError)


def test_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    lines = [nmea_line(257000001, T0 + second) for second in range(2000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.nmea.gz"
    path.write_bytes(data[: len(data) // 2])
    stats = DecodeStats()
    items = list(read_file(path, stats=stats))
    assert 0 < stats.positions < 2000
    assert items[-1].reason == "unreadable_file"  # type: ignore[union-attr]
    assert stats.rejected["unreadable_file"] == 1


def test_lines_without_time_use_assume_time(tmp_path: Path) -> None:
    (sentence,) = encode_dict({"type": 1, "mmsi": 257000001, "lat": 60.0, "lon": 5.0})
    path = write(tmp_path / "notime.nmea", [sentence])
    assert [item.reason for item in read_inputs([path])] == ["no_time"]  # type: ignore[union-attr]
    assert times(list(read_inputs([path], assume_time_s=T0))) == [T0]


# --- Ordering -----------------------------------------------------------------------------------


def test_files_of_mixed_formats_are_merged_in_time_order(tmp_path: Path) -> None:
    nmea = write(tmp_path / "a.nmea", [nmea_line(257000001, T0 + s) for s in (0, 20, 40)])
    jsonl = write(
        tmp_path / "b.jsonl",
        [record_to_json_line(position(257000002, T0 + s)) for s in (10, 30, 50)],
    )
    csv = write(
        tmp_path / "c.csv",
        [CSV_HEADER, "367000003,2023-11-14T22:13:25,40.0,-70.0,0,0,511,,,,,,,,,,A"],
    )
    items = list(read_inputs([nmea, jsonl, csv]))
    assert times(items) == [T0 + s for s in (0, 5, 10, 20, 30, 40, 50)]


def test_disorder_within_the_window_is_repaired(tmp_path: Path) -> None:
    seconds = [0, 30, 10, 20, 60, 40, 50, 100, 70]
    path = write(tmp_path / "a.nmea", [nmea_line(257000001, T0 + s) for s in seconds])
    stats = DecodeStats()
    items = list(read_inputs([path], reorder_window_s=60.0, stats=stats))
    assert times(items) == [T0 + s for s in sorted(seconds)]
    assert stats.out_of_order == 0


def test_disorder_beyond_the_window_passes_through_late_and_is_counted(tmp_path: Path) -> None:
    seconds = [*range(0, 1000, 10), 5]  # the last record is ~1000 s late
    path = write(tmp_path / "a.nmea", [nmea_line(257000001, T0 + s) for s in seconds])
    stats = DecodeStats()
    items = list(read_inputs([path], reorder_window_s=60.0, stats=stats))
    assert sorted(times(items)) == sorted(T0 + s for s in seconds)
    assert times(items) != sorted(times(items))
    assert stats.out_of_order == 1


def test_a_record_from_the_future_does_not_flush_the_buffer(tmp_path: Path) -> None:
    # MarineCadastre files scatter end-of-day rows among the first minutes of the day.
    seconds = [0, 20, 80_000, 10, 30, 40, 80_001, 35, 50]
    path = write(tmp_path / "a.nmea", [nmea_line(257000001, T0 + s) for s in seconds])
    stats = DecodeStats()
    items = list(read_inputs([path], reorder_window_s=600.0, stats=stats))
    assert times(items) == [T0 + s for s in sorted(seconds)]
    assert stats.out_of_order == 0


def test_rejects_are_passed_on_at_once(tmp_path: Path) -> None:
    # Records wait in the reorder buffer; rejects have no time to wait for.
    lines = [nmea_line(257000001, T0), "garbage", nmea_line(257000001, T0 + 10)]
    items = list(read_inputs([write(tmp_path / "a.nmea", lines)]))
    assert [type(item) for item in items] == [Reject, Position, Position]


def test_the_same_file_twice_is_read_twice(tmp_path: Path) -> None:
    path = write(tmp_path / "a.nmea", [nmea_line(257000001, T0)])
    items = list(read_inputs([path, path]))
    assert times(items) == [T0, T0]


@pytest.mark.data
def test_real_files_come_out_in_time_order(shared_data: Path) -> None:
    nmea = shared_data / "nmea"
    paths = [
        nmea / "amsa_exactearth_sat_2012-01-31.nmea",
        nmea / "amsa_exactearth_sat_2012-02-02.nmea",
        nmea / "amsa_exactearth_sat_2.nmea",
        nmea / "dma_aislib_stream_pghp_2010-06-11.nmea",
        nmea / "kystverket_tagblock_2019-08-07_1000lines.nm4",
        shared_data / "csv" / "noaa_marinecadastre_2023-01-11_1000rows.csv",
    ]
    stats = DecodeStats()
    record_times = times(list(read_inputs(paths, stats=stats)))
    assert len(record_times) == stats.positions + stats.statics
    late = sum(1 for before, after in itertools.pairwise(record_times) if after < before)
    assert late == stats.out_of_order
    assert late < len(record_times) / 1000


def _reordered_with_one_heap(
    items: list[Position | Reject], reorder_window_s: float, stats: DecodeStats
) -> list[tuple[float, int, Position | Reject]]:
    """The reorder buffer as one heap: what `_reordered`'s buckets must equal."""
    heap: list[tuple[float, int, Position | Reject]] = []
    recent: deque[float] = deque(maxlen=CLOCK_RECORDS)
    release_s = emitted_s = float("-inf")
    out = []

    def emit(entry: tuple[float, int, Position | Reject]) -> None:
        nonlocal emitted_s
        if entry[0] < emitted_s:
            stats.out_of_order += 1
        else:
            emitted_s = entry[0]
        out.append(entry)

    for sequence, item in enumerate(items, 1):
        if isinstance(item, Reject):
            out.append((emitted_s, sequence, item))
            continue
        heapq.heappush(heap, (item.time_s, sequence, item))
        recent.append(item.time_s)
        if sequence % CLOCK_EVERY == 0 or sequence < CLOCK_EVERY:
            release_s = sorted(recent)[(len(recent) - 1) // 2] - reorder_window_s
        while heap and heap[0][0] <= release_s:
            emit(heapq.heappop(heap))
    while heap:
        emit(heapq.heappop(heap))
    return out


@settings(max_examples=1500, deadline=None)
@given(
    steps=st.lists(st.one_of(st.none(), st.integers(min_value=-400, max_value=400)), max_size=300),
    window_s=st.sampled_from([0.0, 30.0, 120.0, 3.3]),
    granularity_s=st.sampled_from([1, 4, 60, 0.013]),
)
def test_the_reorder_buffer_releases_as_one_heap_would(
    steps: list[int | None], window_s: float, granularity_s: float
) -> None:
    # A drifting clock with jitter, repeated times and rejects (None) among the records;
    # coarse times make a late record often share its time with one held in order. Times in
    # steps of 13 ms put many records, out of order, into each second, and make the release
    # time fall inside a second that is held.
    items: list[Position | Reject] = []
    clock = 0
    for step in steps:
        if step is None:
            items.append(Reject("malformed", "x"))
            continue
        clock += 7
        if granularity_s < 1:
            time_s = T0 + (clock + step) * granularity_s
        else:
            time_s = T0 + ((clock + step) // granularity_s) * granularity_s
        items.append(position(257000001, time_s))
    expected_stats, stats = DecodeStats(), DecodeStats()
    expected = _reordered_with_one_heap(items, window_s, expected_stats)
    assert list(_reordered(iter(items), window_s, stats)) == expected
    assert stats.out_of_order == expected_stats.out_of_order


def test_a_late_record_sharing_a_held_records_time_leaves_after_it() -> None:
    # Equal times leave in arrival order, however late the second of them came.
    items: list[Position | Reject] = [
        position(257000001, T0),
        position(257000002, T0 + 5),
        position(257000003, T0),  # late: it arrives after T0 + 5
        *(position(257000004, T0 + 100 + i) for i in range(70)),
    ]
    stats = DecodeStats()
    entries = _reordered(iter(items), 30.0, stats)
    released = [(time_s - T0, sequence) for time_s, sequence, _ in entries]
    assert released[:3] == [(0, 1), (0, 3), (5, 2)]
    assert stats.out_of_order == 0
