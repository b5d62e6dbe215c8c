"""Watchlists: reading CSV and JSON lists, matching exactly and approximately, reloading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from detectors.anomalies.watchlists import (
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    normalise_name,
    parse_watchlist,
)
from detectors.engine import EncounterDetector
from detectors.params import DetectionParams
from stswatch.watchlists import WatchlistFiles, apply_watchlist


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("M/V Océan-Star", "OCEAN STAR"),
        ("MT. NORDIC  SPIRIT", "NORDIC SPIRIT"),
        ("m.t. sea breeze 7", "SEA BREEZE 7"),
        ("SS  Great@@@", "GREAT"),
        ("MV", ""),
        ("MERCHANT", "MERCHANT"),
    ],
)
def test_names_are_normalised(raw: str, normal: str) -> None:
    assert normalise_name(raw) == normal


def test_imo_mmsi_and_call_sign_match_exactly() -> None:
    entry = WatchlistEntry("list", mmsi=636012345, imo=9074729, call_sign="A8-AB1")
    watchlist = Watchlist([entry])
    assert [h.matched_by for h in watchlist.match(imo=9074729)] == ["imo"]
    assert [h.matched_by for h in watchlist.match(mmsi=636012345)] == ["mmsi"]
    assert [h.matched_by for h in watchlist.match(call_signs=["a8ab1"])] == ["call_sign"]
    assert watchlist.match(imo=9074720, mmsi=636012346, call_signs=["A8AB2"]) == []
    # One hit per entry, best evidence first.
    hits = watchlist.match(imo=9074729, mmsi=636012345)
    assert [(h.list_name, h.matched_by) for h in hits] == [("list", "imo")]


def test_names_match_approximately_but_numbers_must_agree() -> None:
    watchlist = Watchlist(
        [
            WatchlistEntry("a", name="OCEAN STAR 1"),
            WatchlistEntry("b", name="PACIFIC VOYAGER"),
        ],
        name_similarity=0.9,
    )
    assert [h.matched_by for h in watchlist.match(names=["M/V OCEANSTAR 1"])] == ["name"]
    similar = watchlist.match(names=["PACIFIC VOYAGR"])
    assert [(h.list_name, h.matched_by) for h in similar] == [("b", "name_similar")]
    assert similar[0].similarity >= 0.9
    assert watchlist.match(names=["OCEAN STAR 7"]) == []
    assert watchlist.match(names=["ATLANTIC VOYAGER"]) == []
    assert Watchlist(watchlist.entries, name_similarity=1.0).match(names=["PACIFIC VOYAGR"]) == []


def test_csv_and_json_lists() -> None:
    csv_text = (
        "IMO,Vessel Name,MMSI,Call Sign,Reason\nIMO9074729,Ocean Star,,,sanctioned\n,,636012345,,\n"
    )
    entries = parse_watchlist(csv_text, "ofac")
    assert [(e.list_name, e.imo, e.name, e.mmsi, e.note) for e in entries] == [
        ("ofac", 9074729, "Ocean Star", None, "sanctioned"),
        ("ofac", None, None, 636012345, None),
    ]
    json_text = '{"name": "client", "vessels": [{"imo": "9074729"}, {"name": "SEA LION"}]}'
    assert [(e.list_name, e.imo, e.name) for e in parse_watchlist(json_text, "file")] == [
        ("client", 9074729, None),
        ("client", None, "SEA LION"),
    ]
    assert parse_watchlist('[{"mmsi": 1, "list": "x"}]', "file")[0].list_name == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour,size\nred,1\n", "expected a header"),
        ("imo,name\n12,ABC\n", "IMO"),
        ('{"vessels": 3}', "expected a list"),
        ("[1, 2]", "not an object"),
        ("{not json", "not JSON"),
    ],
)
def test_malformed_lists_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(WatchlistError, match=message):
        parse_watchlist(text, "bad", source="bad.csv")


def test_files_are_reloaded_when_they_change_and_detectors_get_the_new_list(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("imo\n9074729\n")
    files = WatchlistFiles([str(path)])
    first = files.current()
    assert [e.imo for e in first.entries] == [9074729]
    assert files.reload_if_changed(now_s=100.0) is None  # nothing changed

    path.write_text("imo,name\n9074729,\n9300005,SEA LION\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    changed = files.reload_if_changed(now_s=200.0)
    assert changed is not None and len(changed) == 2
    assert files.current() is changed

    detectors = [EncounterDetector(DetectionParams()) for _ in range(2)]
    assert apply_watchlist(files.current(), detectors) == 2
    assert all(d.watchlist is changed for d in detectors)
    assert apply_watchlist(files.current(), detectors) == 0


def test_a_broken_file_keeps_the_last_good_list(tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    path.write_text('[{"mmsi": 636012345}]')
    files = WatchlistFiles([str(path)], check_interval_s=0.0)
    good = files.current()
    path.write_text("[{broken")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert files.reload_if_changed(now_s=10.0) is None
    assert files.current() is good
    assert files.last_error is not None and "not JSON" in files.last_error


def test_a_missing_file_at_start_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match="cannot read"):
        WatchlistFiles([str(tmp_path / "absent.csv")])
