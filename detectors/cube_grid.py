"""Points on the unit sphere bucketed by cube of a 3-D grid, and the pairs in touching cubes.

Two points within a chord `c` of each other differ by at most `c` along each axis, so with
cubes at least `c` wide they are in the same cube or in touching ones: at any latitude, across
the antimeridian and at the poles, with nothing special-cased. A cube is three floors, which
numpy computes for every point at once.

A cube (i, j, k) is one int64 key, 21 bits an axis, k lowest: the three stacked cubes
(i, j, k - 1 .. k + 1) are three consecutive keys, so the points in them are one range of the
points sorted by key, found with two binary searches. Everything here works on that sorted
order ("positions"); `order` maps a position back to the caller's index.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]

_AXIS_BITS = 21
_J = 1 << _AXIS_BITS
_I = 1 << (2 * _AXIS_BITS)
_AXIS_ORIGIN = 1 << (_AXIS_BITS - 1)
# Unit-vector coordinates lie in [-1, 1]: cubes no smaller than this keep an axis within
# +-2**19 of the origin, so keys never carry from one axis into the next.
MIN_CUBE = 4.0 / _J
# Besides its own column (i, j), a cube's forward neighbours lie in these columns (j + 1;
# i + 1 with j - 1, j, j + 1): each unordered pair of touching cubes is visited once.
_FORWARD_COLUMNS = (_J, _I - _J, _I, _I + _J)


class CubeGrid:
    """The points sorted by cube, and the runs of points that share one."""

    __slots__ = ("_columns", "count", "end", "key", "order", "run_key", "start")

    def __init__(self, x: Floats, y: Floats, z: Floats, cube: float) -> None:
        if not cube >= MIN_CUBE:
            raise ValueError(f"cubes must be at least {MIN_CUBE} wide, not {cube}")
        n = len(x)
        key = (
            ((np.floor(x / cube).astype(np.int64) + _AXIS_ORIGIN) * _I)
            + ((np.floor(y / cube).astype(np.int64) + _AXIS_ORIGIN) * _J)
            + (np.floor(z / cube).astype(np.int64) + _AXIS_ORIGIN)
        )
        self.order: Ints = np.argsort(key)
        self.key: Ints = key[self.order]
        # Run r holds positions start[r] .. end[r] - 1, all in the cube run_key[r].
        new_run = np.empty(n, dtype=bool)
        new_run[:1] = True
        np.not_equal(self.key[1:], self.key[:-1], out=new_run[1:])
        self.start: Ints = np.flatnonzero(new_run)
        self.end: Ints = np.append(self.start[1:], n)
        self.run_key: Ints = self.key[self.start]
        self.count: Ints = self.end - self.start
        self._columns = _ColumnSet(self.run_key >> _AXIS_BITS)

    def forward_ranges(self) -> tuple[Ints, Ints, Ints]:
        """(first, low, high): position first[r] with positions low[r] .. high[r] - 1. Over all
        ranges, every pair of positions in the same or touching cubes appears once."""
        n = len(self.key)
        # Own column: each position with the positions after it in its cube and in the cube
        # above (k + 1), which when occupied is the next run.
        above = np.zeros(len(self.start), dtype=bool)
        above[:-1] = self.run_key[1:] == self.run_key[:-1] + 1
        own_high = np.where(above, np.append(self.end[1:], n), self.end)
        own_first = np.arange(n, dtype=np.int64)
        # The other columns: every run against every forward column in one pass (column by
        # column, the runs in order within each), so that a few hundred runs cost a handful of
        # numpy calls, not four times as many.
        run_count = len(self.start)
        runs = np.tile(np.arange(run_count, dtype=np.int64), len(_FORWARD_COLUMNS))
        step = np.repeat(np.array(_FORWARD_COLUMNS, dtype=np.int64), run_count)
        runs, low, high = self._column_ranges(runs, step)
        members = self.count[runs]
        return (
            np.concatenate((own_first, spans(self.start[runs], members))),
            np.concatenate((own_first + 1, np.repeat(low, members))),
            np.concatenate((np.repeat(own_high, self.count), np.repeat(high, members))),
        )

    def _column_ranges(self, runs: Ints, step: Ints) -> tuple[Ints, Ints, Ints]:
        """For each run, the positions in the three stacked cubes of the column `step` away;
        only the runs for which that range is not empty."""
        target = self.run_key[runs] + step
        held = self._columns.may_hold(target >> _AXIS_BITS)
        runs, target = runs[held], target[held]
        low = np.searchsorted(self.key, target - 1, side="left")
        high = np.searchsorted(self.key, target + 1, side="right")
        found = high > low
        return runs[found], low[found], high[found]


def spans(start: Ints, size: Ints) -> Ints:
    """start[0] .. start[0] + size[0] - 1, then the same for each next span, end to end.
    The spans must not be empty."""
    # Steps of one, and at the head of each span the jump from the last of the one before;
    # their running sum is the spans. Two passes where repeat-and-add takes four.
    ends = np.cumsum(size)
    total = int(ends[-1]) if len(ends) else 0
    step = np.ones(total, dtype=np.int64)
    if total:
        step[0] = start[0]
        step[ends[:-1]] = start[1:] - (start[:-1] + size[:-1] - 1)
    return np.cumsum(step, out=step)


def expand(first: Ints, low: Ints, high: Ints) -> tuple[Ints, Ints]:
    """The pairs that ranges stand for: (first[r], each of low[r] .. high[r] - 1)."""
    size = high - low
    ranged = np.flatnonzero(size > 0)
    size = size[ranged]
    return np.repeat(first[ranged], size), spans(low[ranged], size)


class _ColumnSet:
    """Which columns (i, j) hold points: a bitmap over hashed column numbers. At sea nearly
    every neighbouring column is empty, and the bitmap says so in a few nanoseconds where
    two binary searches cost about 40. It is never wrong when it says no; a yes is checked
    by the searches that follow."""

    def __init__(self, columns: Ints) -> None:
        bits = max(10, (len(columns) * 8).bit_length())
        self._shift = np.uint64(64 - bits)
        self._present = np.zeros(1 << bits, dtype=bool)
        self._present[self._slot(columns)] = True

    def _slot(self, columns: Ints) -> Ints:
        # Fibonacci hashing: multiply by 2**64 / golden ratio (wrapping), keep the top bits.
        mixed = columns.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return (mixed >> self._shift).astype(np.int64)

    def may_hold(self, columns: Ints) -> Flags:
        return self._present[self._slot(columns)]
