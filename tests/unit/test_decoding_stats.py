"""Decode counters: merging and the printed summary."""

from __future__ import annotations

from collections import Counter

from stswatch.decoding.stats import DecodeStats


def make(lines: int, rejected: dict[str, int], by_type: dict[int, int]) -> DecodeStats:
    return DecodeStats(
        lines_read=lines,
        messages_by_type=Counter(by_type),
        rejected=Counter(rejected),
        skipped=Counter({"not_ais": 1}),
        positions=lines // 2,
    )


def test_merge_adds_every_counter() -> None:
    first = make(10, {"bad_checksum": 2}, {1: 5})
    second = make(4, {"bad_checksum": 1, "no_time": 3}, {1: 1, 5: 2})
    total = first + second
    assert total.lines_read == 14
    assert total.positions == 7
    assert total.rejected == Counter({"bad_checksum": 3, "no_time": 3})
    assert total.messages_by_type == Counter({1: 6, 5: 2})
    assert total.messages == 8
    assert total.skipped_total == 2
    # `+` leaves its operands alone; `merge` adds in place.
    assert first.lines_read == 10
    first.merge(second)
    assert first == total


def test_summary_names_reasons_and_types() -> None:
    text = make(10, {"bad_checksum": 2, "no_time": 7}, {1: 5, 24: 1}).format()
    assert "lines read: 10" in text
    assert "1: 5" in text
    assert "24: 1" in text
    assert "rejected: 9 (no_time 7, bad_checksum 2)" in text


def test_as_dict_is_json_ready() -> None:
    counts = make(3, {"no_time": 1}, {18: 2}).as_dict()
    assert counts["messages_by_type"] == {"18": 2}
    assert counts["rejected"] == {"no_time": 1}
