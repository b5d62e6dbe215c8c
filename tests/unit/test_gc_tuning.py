"""The garbage collector's streaming settings hold inside the block and are undone after it."""

from __future__ import annotations

import gc
import weakref

import pytest

from stswatch.gc_tuning import STREAMING_THRESHOLDS, fewer_collections


def test_inside_the_block_what_existed_is_frozen_and_young_collections_wait() -> None:
    before = gc.get_threshold()
    assert before != STREAMING_THRESHOLDS
    with fewer_collections():
        assert gc.get_threshold() == STREAMING_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_error_inside_the_block_still_restores_the_collector() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("a failed pass")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_the_block_are_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.partner: Node | None = None

    with fewer_collections():
        first, second = Node(), Node()
        first.partner, second.partner = second, first
        gone = weakref.ref(first)
        del first, second
        assert gone() is not None  # a cycle: reference counting alone does not free it
        gc.collect()
        assert gone() is None
