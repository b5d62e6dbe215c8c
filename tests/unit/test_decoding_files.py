"""The NMEA decoder on every recording in ../shared/data/nmea.

Expected values come from reading the raw sentences with pyais directly (noted at each test),
never from stswatch's own output; message counts are checked against an independent count
made here with pyais's sentence parser and its own multi-part assembly.
"""

from __future__ import annotations

import calendar
import gzip
from collections import Counter
from pathlib import Path

import pytest
from pyais.messages import AISSentence, NMEASentenceFactory

from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.nmea import NmeaDecoder
from stswatch.decoding.stats import DecodeStats

pytestmark = pytest.mark.data

NMEA_FILES = (
    "amsa_exactearth_sat_2.nmea",
    "amsa_exactearth_sat_2012-01-31.nmea",
    "amsa_exactearth_sat_2012-02-02.nmea",
    "amsa_risky_mixed_stream_2012-01-27.nmea.gz",
    "dma_aislib_stream_pghp_2010-06-11.nmea",
    "gfw_aistools_mixed_types.nmea",
    "gfw_aistools_multipart.nmea",
    "kystverket_tagblock_2019-08-07_1000lines.nm4",
    "pyais_marinetraffic_sample_notime.nmea",
)
# Files without times of their own are decoded with this fallback time.
FALLBACK_TIME_S = 1_500_000_000.0

Item = Position | StaticReport | Reject


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.splitlines()


def decode_file(path: Path, fallback_time_s: float | None) -> tuple[list[Item], DecodeStats]:
    decoder = NmeaDecoder()
    out = decoder.decode_lines(read_lines(path), path.name, fallback_time_s)
    out.extend(decoder.flush())
    return out, decoder.stats


def reference_counts(path: Path) -> Counter[int]:
    """AIS messages per type, counted with pyais alone (its parser, checksum, assembly)."""
    counts: Counter[int] = Counter()
    pending: dict[tuple[str, int | None], dict[int, AISSentence]] = {}
    for line in read_lines(path):
        text = line.strip()
        if text.startswith(b"\\"):
            text = text[text.index(b"\\", 1) + 1 :]
        star = text.rfind(b"*")
        comma = text.find(b",", star)
        if comma > 0:  # pyais reads the last field as the checksum: cut an appended epoch
            text = text[:comma]
        if not text.startswith(b"!") or text[3:6] not in (b"VDM", b"VDO"):
            continue
        try:
            sentence = NMEASentenceFactory.produce(text)
        except Exception:  # malformed lines simply do not count
            continue
        if not isinstance(sentence, AISSentence) or not sentence.is_valid:
            continue
        if sentence.frag_cnt > 1:
            group = pending.setdefault((sentence.channel, sentence.seq_id), {})
            if sentence.frag_num in group:
                group.clear()
            group[sentence.frag_num] = sentence
            if len(group) < sentence.frag_cnt:
                continue
            sentence = AISSentence.assemble_from_iterable([group[n] for n in sorted(group)])
            del pending[(sentence.channel, sentence.seq_id)]
        if sentence.payload:
            counts[sentence.ais_id] += 1
    return counts


def find(items: list[Item], kind: type, mmsi: int, time_s: float) -> Item:
    matches = [
        item
        for item in items
        if type(item) is kind
        and item.mmsi == mmsi  # type: ignore[union-attr]
        and abs(item.time_s - time_s) < 1e-6  # type: ignore[union-attr]
    ]
    assert len(matches) == 1, matches
    return matches[0]


def test_every_file_of_the_folder_is_covered(shared_data: Path) -> None:
    assert sorted(path.name for path in (shared_data / "nmea").iterdir()) == sorted(NMEA_FILES)


@pytest.mark.parametrize("name", NMEA_FILES)
def test_message_counts_per_type_match_pyais(shared_data: Path, name: str) -> None:
    path = shared_data / "nmea" / name
    _, stats = decode_file(path, FALLBACK_TIME_S)
    assert stats.messages_by_type == reference_counts(path)
    assert stats.lines_read == len(read_lines(path))


@pytest.mark.parametrize("name", NMEA_FILES)
def test_every_record_is_valid(shared_data: Path, name: str) -> None:
    out, stats = decode_file(shared_data / "nmea" / name, FALLBACK_TIME_S)
    positions = [item for item in out if type(item) is Position]
    assert len(positions) == stats.positions
    for position in positions:
        assert -90 <= position.lat <= 90
        assert -180 <= position.lon <= 180
        assert 0 < position.mmsi <= 999_999_999
        assert position.sog_kn is None or 0 <= position.sog_kn < 102.3
        assert position.cog_deg is None or 0 <= position.cog_deg < 360
        assert position.heading_deg is None or 0 <= position.heading_deg < 360
    assert sum(stats.rejected.values()) == sum(1 for item in out if type(item) is Reject)


def test_known_counts_of_key_files(shared_data: Path) -> None:
    # Counted independently with pyais (reference_counts), written down so that a change in
    # pyais or in the reference shows up too.
    expected = {
        "kystverket_tagblock_2019-08-07_1000lines.nm4": {1: 621, 3: 115, 5: 123, 18: 12, 24: 6},
        "gfw_aistools_multipart.nmea": {5: 10, 6: 2, 8: 1, 12: 10, 14: 10, 17: 10},
    }
    for name, counts in expected.items():
        _, stats = decode_file(shared_data / "nmea" / name, FALLBACK_TIME_S)
        assert dict(stats.messages_by_type) == counts, name
    _, stats = decode_file(shared_data / "nmea" / "amsa_exactearth_sat_2012-02-02.nmea", None)
    assert stats.messages_by_type[1] == 2453
    assert stats.messages_by_type[5] == 1136


def test_multipart_messages_are_reassembled(shared_data: Path) -> None:
    out, stats = decode_file(shared_data / "nmea" / "gfw_aistools_multipart.nmea", FALLBACK_TIME_S)
    # All 43 multi-part messages of the file complete; the ten type 5 give static reports.
    assert stats.rejected["incomplete_multipart"] == 0
    assert stats.statics == 10
    assert sum(1 for item in out if type(item) is StaticReport) == 10


def test_kystverket_tag_block_times_and_multipart_static(shared_data: Path) -> None:
    out, stats = decode_file(
        shared_data / "nmea" / "kystverket_tagblock_2019-08-07_1000lines.nm4", None
    )
    assert stats.rejected["no_time"] == 0
    # \c:1565218798*53\!BSVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D; pyais reads mmsi
    # 257591700, status 0, speed 0.0, lon 7.601958, lat 63.074553, course 360, heading 511.
    assert find(out, Position, 257591700, 1565218798.0) == Position(
        257591700, 1565218798.0, 63.074553, 7.601958, 0.0, None, None, 0, 1
    )
    # The two fragments \g:1-2-9999,c:1565218798*53\!BSVDM,2,1,3,A,53nPnh8... and
    # \g:2-2-9999,...!BSVDM,2,2,3,A,00000000000,2*3E; pyais reads mmsi 258488000, imo 0,
    # LJTF, RIVA ITALIA, type 60, bow 20 + stern 20, port 3 + starboard 3, draught 0, no
    # destination.
    assert find(out, StaticReport, 258488000, 1565218798.0) == StaticReport(
        258488000, 1565218798.0, 5, "RIVA ITALIA", "LJTF", None, 60, 40.0, 6.0, None, None
    )
    # Every multi-part message of this feed carries Kystverket's group tag checksum quirk.
    assert stats.tolerated["tag_checksum_without_group"] == 246
    assert stats.statics == 123 + 6


def test_satellite_appended_epoch_times(shared_data: Path) -> None:
    out, stats = decode_file(shared_data / "nmea" / "amsa_exactearth_sat_2.nmea", None)
    assert stats.rejected["no_time"] == 0
    # !BSVDM,1,1,0,1,53F=qV02>n<<D<`H001A8tpTt0...,2*67,1328133720012: a type 5 in one
    # sentence; pyais reads 224623000, imo 9361603, ECJF, TRONIO, type 30, 29+26 m long,
    # 3+8 m wide, draught 5.4, CAPE TOWN.
    assert find(out, StaticReport, 224623000, 1328133720.012) == StaticReport(
        224623000,
        1328133720.012,
        5,
        "TRONIO",
        "ECJF",
        9361603,
        30,
        55.0,
        11.0,
        5.4,
        "CAPE TOWN",
    )
    # !AIVDM,1,1,,A,144gjIP0085KKPQHMPjT81Sb1PSL,0*22,1328133720087; pyais: 273412710,
    # status 0, speed 0.8, lon 75.8972, lat -69.099183, course 105.6, heading 49.
    assert find(out, Position, 273412710, 1328133720.087) == Position(
        273412710, 1328133720.087, -69.099183, 75.8972, 0.8, 105.6, 49.0, 0, 1
    )


def test_dma_pghp_times(shared_data: Path) -> None:
    out, stats = decode_file(shared_data / "nmea" / "dma_aislib_stream_pghp_2010-06-11.nmea", None)
    assert stats.rejected["no_time"] == 0
    # $PGHP,1,2010,6,11,11,46,12,451,... then !AIVDM,1,1,,A,33nr7t001f13KNTOahh2@QpF00vh,0*58;
    # pyais: 258902000, status 0, speed 11.0, lon 14.730163, lat 55.3168, course 57.8,
    # heading 60.
    time_s = calendar.timegm((2010, 6, 11, 11, 46, 12, 0, 0, 0)) + 0.451
    assert find(out, Position, 258902000, time_s) == Position(
        258902000, time_s, 55.3168, 14.730163, 11.0, 57.8, 60.0, 0, 3
    )


def test_mixed_stream_appended_seconds_junk_and_missing_times(shared_data: Path) -> None:
    out, stats = decode_file(
        shared_data / "nmea" / "amsa_risky_mixed_stream_2012-01-27.nmea.gz", None
    )
    # !AIVDM,1,1,,A,35MuKPUP02I<cf<A1wt0JOv00000,0*48,1327664822; pyais: 366959490, status 5
    # (moored), speed 0.2, lon -95.096417, lat 29.76424, course 10.5, heading 511.
    assert find(out, Position, 366959490, 1327664822.0) == Position(
        366959490, 1327664822.0, 29.76424, -95.096417, 0.2, 10.5, None, 5, 3
    )
    # $PSHI, $AIVSI, $BSALR, $GPZDA, !AIPWR ... are skipped as not AIS, not rejected.
    assert stats.skipped["not_ais"] > 10_000
    assert stats.rejected["no_time"] > 0  # most of this stream has no time at all
    # The file holds four first fragments of `!=IVDM,2,1,...` type 5 messages whose second
    # fragments were never recorded (and one cut-off `!ABVDO,2,2,7,` line, malformed).
    assert stats.rejected["incomplete_multipart"] == 4


def test_files_without_time_need_a_fallback(shared_data: Path) -> None:
    path = shared_data / "nmea" / "pyais_marinetraffic_sample_notime.nmea"
    without, stats = decode_file(path, None)
    assert stats.positions == 0
    assert stats.rejected["no_time"] > 700
    with_time, stats = decode_file(path, FALLBACK_TIME_S)
    assert stats.positions > 700
    assert {item.time_s for item in with_time if type(item) is Position} == {FALLBACK_TIME_S}
    assert len(without) > 0


def test_gfw_mixed_types_field_values(shared_data: Path) -> None:
    out, _ = decode_file(shared_data / "nmea" / "gfw_aistools_mixed_types.nmea", FALLBACK_TIME_S)
    t = FALLBACK_TIME_S
    # !AIVDM,1,1,,A,B6:WWgP009r9kN4?0?`03wP2h000,0*22; pyais type 18: 413788094, speed 0.0,
    # lon 106.739087, lat 29.600843, course 0.0, heading 511.
    assert find(out, Position, 413788094, t) == Position(
        413788094, t, 29.600843, 106.739087, 0.0, 0.0, None, None, 18
    )
    # !AIVDM,1,1,,A,KmMsIt?uItk2F4mp,0*42; pyais type 27: 366926320, status 15, lon
    # -70.848333, lat 41.46, speed 9, course 350.
    assert find(out, Position, 366926320, t) == Position(
        366926320, t, 41.46, -70.848333, 9.0, 350.0, None, None, 27
    )
    # !AIVDM,1,1,,A,C2Gajeh012;uPp5;C76=@001QQSkgKW11gW:00000001vPH21QR0,0*5D; pyais type
    # 19: 159019703, speed 0.4, lon 122.29992, lat 36.186642, course 226, heading 0,
    # name '00197-3  73%', type 0, 6+4 m long, 3+3 m wide.
    assert find(out, Position, 159019703, t) == Position(
        159019703, t, 36.186642, 122.29992, 0.4, 226.0, 0.0, None, 19
    )
    assert find(out, StaticReport, 159019703, t) == StaticReport(
        159019703, t, 19, name="00197-3  73%", length_m=10.0, width_m=6.0
    )
    # !AIVDM,1,1,,A,H52aML0t<D4r0hTHD0000000000,2*71; pyais type 24 part A: 338320752,
    # OCEAN LIFE. !AIVDM,1,1,,A,H52P<14TC=D6DE100000001h0050,0*04: part B of 338168836,
    # type 36, no call sign, bow 14 + stern 0, port 0 + starboard 5.
    assert find(out, StaticReport, 338320752, t) == StaticReport(
        338320752, t, 24, name="OCEAN LIFE"
    )
    assert find(out, StaticReport, 338168836, t) == StaticReport(
        338168836, t, 24, ship_type=36, length_m=14.0, width_m=5.0
    )
