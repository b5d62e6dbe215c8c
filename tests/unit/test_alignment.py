"""Which raw partition must wait for which: event time, backlog and idleness."""

from __future__ import annotations

import pytest

from streams.alignment import PartitionAlignment

LEAD_S = 150.0
IDLE_S = 5.0


def alignment_of(times: dict[int, float], offsets: dict[int, int]) -> PartitionAlignment:
    alignment = PartitionAlignment(LEAD_S, IDLE_S)
    for partition, time_s in times.items():
        alignment.delivered(partition, now_s=100.0)
        alignment.processed(partition, offsets[partition], time_s)
    return alignment


def test_a_partition_ahead_of_one_with_a_backlog_waits_for_it() -> None:
    alignment = alignment_of({0: 10_000.0, 1: 9_000.0}, {0: 5, 1: 5})
    backlog = {0: 6, 1: 50}.get
    assert alignment.behind(0, backlog, now_s=101.0) == 1
    # The partition behind never waits for the one ahead.
    assert alignment.behind(1, backlog, now_s=101.0) is None


def test_within_the_lead_nothing_waits() -> None:
    alignment = alignment_of({0: 10_000.0, 1: 10_000.0 - LEAD_S}, {0: 5, 1: 5})
    assert alignment.behind(0, {0: 6, 1: 50}.get, now_s=101.0) is None


def test_a_partition_behind_without_a_backlog_holds_nothing_back() -> None:
    # Live: the partition behind has read everything there is (a quiet receiver, or one
    # whose clock is wrong); waiting for it would stop the others for good.
    alignment = alignment_of({0: 10_000.0, 1: 9_000.0}, {0: 5, 1: 49})
    assert alignment.behind(0, {0: 6, 1: 50}.get, now_s=101.0) is None
    # Nor does one whose high-water mark is not known yet.
    assert alignment.behind(0, {0: 6}.get, now_s=101.0) is None


def test_a_partition_that_stopped_delivering_holds_nothing_back() -> None:
    alignment = alignment_of({0: 10_000.0, 1: 9_000.0}, {0: 5, 1: 5})
    backlog = {0: 6, 1: 50}.get
    assert alignment.behind(0, backlog, now_s=100.0 + IDLE_S) == 1
    assert alignment.behind(0, backlog, now_s=100.0 + IDLE_S + 0.1) is None
    alignment.delivered(1, now_s=200.0)
    assert alignment.behind(0, backlog, now_s=201.0) == 1


def test_the_partition_furthest_behind_is_named_and_catching_up_releases() -> None:
    alignment = alignment_of({0: 10_000.0, 1: 9_500.0, 2: 9_000.0}, {0: 5, 1: 5, 2: 5})
    backlog = {0: 6, 1: 50, 2: 50}.get
    assert alignment.behind(0, backlog, now_s=101.0) == 2
    alignment.processed(2, 6, 9_900.0)
    assert alignment.behind(0, backlog, now_s=101.0) == 1
    alignment.processed(1, 6, 9_950.0)
    assert alignment.behind(0, backlog, now_s=101.0) is None


def test_event_time_only_moves_forward_and_a_message_without_records_keeps_it() -> None:
    alignment = PartitionAlignment(LEAD_S, IDLE_S)
    alignment.processed(0, 1, 500.0)
    alignment.processed(0, 2, 400.0)
    alignment.processed(0, 3, None)
    assert alignment.time_s(0) == 500.0


def test_forgotten_partitions_hold_nothing_back() -> None:
    alignment = alignment_of({0: 10_000.0, 1: 9_000.0}, {0: 5, 1: 5})
    alignment.forget([1])
    assert alignment.behind(0, {0: 6, 1: 50}.get, now_s=101.0) is None
    assert alignment.time_s(1) is None


def test_the_lead_and_idle_time_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PartitionAlignment(0.0, IDLE_S)
    with pytest.raises(ValueError):
        PartitionAlignment(LEAD_S, -1.0)


def test_a_partition_assigned_but_not_heard_yet_holds_the_others_until_idle() -> None:
    alignment = alignment_of({0: 10_000.0}, {0: 5})
    alignment.assigned([1], now_s=100.0)
    backlog = {0: 6, 1: 50}.get
    assert alignment.behind(0, backlog, now_s=101.0) == 1
    # Unless it has nothing to read, or stays silent.
    assert alignment.behind(0, {0: 6, 1: 0}.get, now_s=101.0) is None
    assert alignment.behind(0, backlog, now_s=100.0 + IDLE_S + 0.1) is None
    # Its first message tells where it is.
    alignment.delivered(1, now_s=102.0)
    alignment.processed(1, 0, 9_950.0)
    assert alignment.behind(0, backlog, now_s=102.0) is None


def test_a_partition_just_assigned_and_not_fetched_yet_holds_the_others() -> None:
    # Its high-water mark is not known before its first fetch.
    alignment = alignment_of({0: 10_000.0}, {0: 5})
    alignment.assigned([1], now_s=100.0)
    assert alignment.behind(0, {0: 6}.get, now_s=101.0) == 1
    assert alignment.behind(0, {0: 6}.get, now_s=100.0 + IDLE_S + 0.1) is None


def test_a_partition_another_worker_reads_holds_back_while_it_reports_a_backlog() -> None:
    alignment = alignment_of({0: 10_000.0}, {0: 5})
    backlog = {0: 6}.get
    alignment.reported(2, 9_000.0, True, now_s=101.0)
    assert alignment.behind(0, backlog, now_s=101.0) == 2
    # Caught up (nothing more waiting) or close enough: nothing held.
    alignment.reported(2, 9_000.0, False, now_s=101.5)
    assert alignment.behind(0, backlog, now_s=101.5) is None
    alignment.reported(2, 10_000.0 - LEAD_S, True, now_s=102.0)
    assert alignment.behind(0, backlog, now_s=102.0) is None
    # A report never moves a partition back (the shard partitions say it in any order).
    alignment.reported(2, 9_000.0, True, now_s=102.5)
    assert alignment.behind(0, backlog, now_s=102.5) is None


def test_a_partition_no_longer_reported_holds_nothing_back() -> None:
    # Its worker may have stopped: the partition waits for the group to move it.
    alignment = alignment_of({0: 10_000.0}, {0: 5})
    alignment.reported(2, 9_000.0, True, now_s=101.0)
    assert alignment.behind(0, {0: 6}.get, now_s=101.0 + IDLE_S) == 2
    assert alignment.behind(0, {0: 6}.get, now_s=101.0 + IDLE_S + 0.1) is None


def test_reports_of_this_workers_own_partitions_are_ignored() -> None:
    # The worker knows its own partitions better: the reports come back late.
    alignment = alignment_of({0: 10_000.0, 1: 9_950.0}, {0: 5, 1: 5})
    alignment.reported(1, 5_000.0, True, now_s=101.0)
    assert alignment.behind(0, {0: 6, 1: 50}.get, now_s=101.0) is None


def test_after_a_rebalance_partitions_read_elsewhere_hold_until_reported() -> None:
    alignment = alignment_of({0: 10_000.0}, {0: 5})
    alignment.reported(2, 9_990.0, True, now_s=101.0)
    alignment.assigned([0], now_s=102.0, elsewhere=[1, 2])
    backlog = {0: 6}.get
    # What was reported before the rebalance is forgotten: both are unknown again.
    assert alignment.behind(0, backlog, now_s=102.5) in (1, 2)
    alignment.reported(1, 9_990.0, False, now_s=103.0)
    alignment.reported(2, 9_990.0, True, now_s=103.0)
    assert alignment.behind(0, backlog, now_s=103.0) is None
    # One never reported holds nothing back once `idle_s` has passed.
    alignment.assigned([0], now_s=200.0, elsewhere=[3])
    assert alignment.behind(0, backlog, now_s=200.0 + IDLE_S) == 3
    assert alignment.behind(0, backlog, now_s=200.0 + IDLE_S + 0.1) is None
