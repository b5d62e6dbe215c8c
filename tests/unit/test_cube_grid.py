"""The grid's building blocks against plain Python: spans, expanded ranges, and the ranges of
touching cubes (every pair of points in the same or touching cubes once, no other)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.cube_grid import MIN_CUBE, CubeGrid, expand, spans


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 40)), max_size=60))
def test_spans_are_each_start_counted_up_end_to_end(pieces: list[tuple[int, int]]) -> None:
    start = np.array([s for s, _ in pieces], dtype=np.int64)
    size = np.array([n for _, n in pieces], dtype=np.int64)
    expected = [s + i for s, n in pieces for i in range(n)]
    assert spans(start, size).tolist() == expected


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 60), st.integers(0, 8)), max_size=40))
def test_expand_gives_each_first_with_each_of_its_range(
    ranges: list[tuple[int, int, int]],
) -> None:
    first = np.array([f for f, _, _ in ranges], dtype=np.int64)
    low = np.array([lo for _, lo, _ in ranges], dtype=np.int64)
    high = low + np.array([n for _, _, n in ranges], dtype=np.int64)
    expected = [(f, lo + i) for f, lo, n in ranges for i in range(n)]
    a, b = expand(first, low, high)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == expected


def unit_vectors(count: int, rng: np.random.Generator, spread: float) -> np.ndarray:
    """Points around one place on the unit sphere, `spread` radians across."""
    lat = rng.uniform(-1.5, 1.5) + rng.uniform(-spread, spread, count)
    lon = rng.uniform(-math.pi, math.pi) + rng.uniform(-spread, spread, count)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 300), st.integers(0, 2**32 - 1), st.floats(1e-4, 5e-2))
def test_forward_ranges_pair_every_touching_pair_once(count: int, seed: int, cube: float) -> None:
    rng = np.random.default_rng(seed)
    points = unit_vectors(count, rng, spread=4 * cube)
    cube = max(cube, MIN_CUBE)
    grid = CubeGrid(points[:, 0], points[:, 1], points[:, 2], cube)
    cell = np.floor(points / cube).astype(np.int64).tolist()
    expected = {
        (i, j)
        for i, j in itertools.combinations(range(count), 2)
        if max(abs(a - b) for a, b in zip(cell[i], cell[j], strict=True)) <= 1
    }
    first, second = expand(*grid.forward_ranges())
    order = grid.order.tolist()
    found = [
        (min(order[p], order[q]), max(order[p], order[q]))
        for p, q in zip(first.tolist(), second.tolist(), strict=True)
    ]
    assert len(found) == len(set(found))
    assert set(found) == expected
