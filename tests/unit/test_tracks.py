"""A vessel track keeps the first and last position of each undecided interval, as doubles.

The reference below keeps every position it is given and picks the first and last of each
interval when asked; the track must agree with it whatever the order, duplicates and unknown
speeds of the input.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from detectors.records import Fix, Position
from detectors.tracks import VesselTrack, interval_index

TICK_S = 300.0
MMSI = 366000001


def fix_of(position: Position) -> Fix:
    return Fix(position.time_s, position.lat, position.lon, position.sog_kn)


def reference_intervals(positions: list[Position]) -> list[tuple[int, Fix, Fix]]:
    """(k, first, last) per interval: the earliest and the latest position of each, the one
    given first on equal times (a second receiver's copy changes nothing)."""
    by_k: dict[int, list[Position]] = {}
    for position in positions:
        by_k.setdefault(interval_index(position.time_s, TICK_S), []).append(position)
    return [
        (
            k,
            fix_of(min(held, key=lambda p: p.time_s)),
            fix_of(max(held, key=lambda p: p.time_s)),
        )
        for k, held in sorted(by_k.items())
    ]


def track_of(positions: list[Position]) -> VesselTrack:
    track = VesselTrack(MMSI)
    for position in positions:
        track.add(position, interval_index(position.time_s, TICK_S))
    return track


positions_strategy = st.lists(
    st.builds(
        Position,
        st.just(MMSI),
        # Whole seconds over five intervals, so that equal times (duplicates) are common.
        st.integers(1_000_000 * 300 + 1, 1_000_000 * 300 + 1500).map(float),
        st.floats(-80, 80),
        st.floats(-179, 179),
        st.one_of(st.none(), st.floats(0, 30)),
    ),
    max_size=40,
)


@given(positions_strategy)
def test_a_track_keeps_the_first_and_last_position_of_each_interval(
    positions: list[Position],
) -> None:
    track = track_of(positions)
    assert track.intervals() == reference_intervals(positions)
    assert track.has_intervals == bool(positions)
    assert track.last_seen_s == max((p.time_s for p in positions), default=-math.inf)
    expected_first = reference_intervals(positions)[0][0] if positions else None
    assert track.first_interval() == expected_first


@given(positions_strategy)
def test_deciding_a_tick_consumes_the_interval_that_ends_there(
    positions: list[Position],
) -> None:
    track = track_of(positions)
    intervals = reference_intervals(positions)
    carry = None
    for k in range(1_000_000, 1_000_006):
        track.sample(k * TICK_S, k, TICK_S, max_hold_s=600.0, max_interpolation_gap_s=1800.0)
        ended = [last for held_k, _, last in intervals if held_k == k - 1]
        carry = ended[0] if ended else carry
        assert track.carry == carry
        assert [held_k for held_k, _, _ in track.intervals()] == [
            held_k for held_k, _, _ in intervals if held_k >= k
        ]


def test_a_sample_between_two_positions_is_interpolated_and_an_unknown_speed_stays_unknown() -> (
    None
):
    track = VesselTrack(MMSI)
    k = 1_000_000
    tick_s = k * TICK_S
    track.add(Position(MMSI, tick_s - 100, 10.0, 20.0, None), k - 1)
    track.add(Position(MMSI, tick_s + 100, 10.004, 20.0, None), k)
    sample = track.sample(tick_s, k, TICK_S, max_hold_s=600.0, max_interpolation_gap_s=1800.0)
    assert sample is not None
    assert math.isclose(sample.lat, 10.002, abs_tol=1e-9)
    assert sample.speed_kn is None  # neither report had a speed, no tick before
    assert track.carry == Fix(tick_s - 100, 10.0, 20.0, None)
    # The next tick has a previous sample 300 s before: speed over ground between them.
    following = track.sample(
        tick_s + TICK_S, k + 1, TICK_S, max_hold_s=600.0, max_interpolation_gap_s=1800.0
    )
    assert following is not None
    assert following.lat == 10.004
    assert following.speed_kn is not None
    assert 1.3 < following.speed_kn < 1.6  # 0.002 degree of latitude in 300 s: 1.44 kn


def test_a_hidden_upcoming_interval_is_left_out_of_the_sample_but_kept() -> None:
    track = VesselTrack(MMSI)
    k = 1_000_000
    tick_s = k * TICK_S
    track.add(Position(MMSI, tick_s + 100, 10.2, 20.0, 5.0), k)
    assert track.sample(tick_s, k, TICK_S, 600.0, 1800.0, hide_upcoming=True) is None
    assert track.interval(k) == (Fix(tick_s + 100, 10.2, 20.0, 5.0),) * 2
    sample = track.sample(tick_s, k, TICK_S, 600.0, 1800.0)
    assert sample is not None
    assert (sample.lat, sample.speed_kn) == (10.2, 5.0)
