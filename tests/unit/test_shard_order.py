"""A shard batch's records reach the detector in event-time order, static reports first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detectors.records import Position, StaticReport
from streams.stages import time_order

T0 = 1_714_521_600.0
# Few distinct times, so that equal times (and their tie rule) come up often.
times = st.lists(st.sampled_from([T0, T0 + 1, T0 + 2, T0 + 30, T0 + 3600]), max_size=15)


def position(time_s: float) -> Position:
    return Position(211_000_001, time_s, 54.0, 10.0, 0.5, 90.0, None, 0, 1)


def static(time_s: float) -> StaticReport:
    return StaticReport(211_000_001, time_s, 5, "NORNE")


@given(times, times)
def test_records_come_in_time_order_with_statics_first_then_input_order(
    static_times: list[float], position_times: list[float]
) -> None:
    statics = [static(t) for t in static_times]
    positions = [position(t) for t in position_times]
    expected = [
        (kind, index)
        for _, kind, index in sorted(
            [(t, 0, i) for i, t in enumerate(static_times)]
            + [(t, 1, i) for i, t in enumerate(position_times)]
        )
    ]
    assert list(time_order(statics, positions)) == expected


def test_a_batch_already_in_order_keeps_its_order() -> None:
    positions = [position(T0 + t) for t in (0, 0, 5, 9)]
    assert list(time_order([], positions)) == [(1, 0), (1, 1), (1, 2), (1, 3)]
