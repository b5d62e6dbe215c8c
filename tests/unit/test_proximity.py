"""The proximity search against a brute-force one over every pair, with `geodesy.haversine_m`.

Positions are drawn in clusters and crowds (so that pairs and ties happen, and the crowded
search runs), anywhere on the globe, at the poles and across the antimeridian, with
thresholds from a metre to far more than a grid cube. Where a vessel has two neighbours in
different places within a micrometre of the same distance, or one within a micrometre of the
threshold, the reference and the chord may honestly disagree on the last bits, so those draws
are discarded; ties between neighbours in one place (the same position twice) are kept and go
to the lower MMSI.
"""

from __future__ import annotations

import collections
import itertools
import math
import random
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from detectors.geodesy import destination, haversine_m
from detectors.proximity import close_pairs
from detectors.records import Position
from detectors.tracks import TickSample
from stswatch.decoding.inputs import read_inputs

NEAR_TIE_M = 1e-6


def reference_pairs(
    samples: list[TickSample], max_distance_m: float
) -> list[tuple[int, int, float]]:
    """(a, b, distance) with a < b by MMSI: each vessel with its nearest neighbour within the
    threshold, the lower MMSI on equal distances."""
    chosen: set[tuple[int, int]] = set()
    for i, si in enumerate(samples):
        within = [
            (haversine_m(si.lat, si.lon, sj.lat, sj.lon), sj.mmsi, j)
            for j, sj in enumerate(samples)
            if sj.mmsi != si.mmsi
        ]
        within = [w for w in within if w[0] <= max_distance_m]
        if within:
            j = min(within)[2]
            chosen.add((i, j) if si.mmsi < samples[j].mmsi else (j, i))
    found = [
        (a, b, haversine_m(samples[a].lat, samples[a].lon, samples[b].lat, samples[b].lon))
        for a, b in chosen
    ]
    return sorted(found, key=lambda p: (samples[p[0]].mmsi, samples[p[1]].mmsi))


def has_near_ties(samples: list[TickSample], max_distance_m: float) -> bool:
    """Whether a vessel has two neighbours in different places at nearly the same distance
    (or one nearly at the threshold): equal to the last bit by one formula need not be by
    the other. Neighbours in the same place are at exactly the same distance by both."""
    for si in samples:
        neighbours = sorted(
            (haversine_m(si.lat, si.lon, sj.lat, sj.lon), sj.lat, sj.lon)
            for sj in samples
            if sj.mmsi != si.mmsi
        )
        for d, _, _ in neighbours:
            if abs(d - max_distance_m) < NEAR_TIE_M:
                return True
        for (d1, *place1), (d2, *place2) in itertools.pairwise(neighbours):
            if d2 - d1 < NEAR_TIE_M and place1 != place2:
                return True
    return False


@st.composite
def centres(draw: st.DrawFn) -> tuple[float, float]:
    kind = draw(st.sampled_from(["anywhere", "anywhere", "pole", "antimeridian"]))
    if kind == "pole":
        return draw(st.sampled_from([90.0, -90.0, 89.999, -89.999])), draw(st.floats(-180.0, 180.0))
    lat = math.degrees(math.asin(draw(st.floats(-1.0, 1.0))))
    if kind == "antimeridian":
        return lat, draw(st.sampled_from([180.0, -180.0, 179.9999, -179.9999]))
    return lat, draw(st.floats(-180.0, 180.0))


@st.composite
def ticks(draw: st.DrawFn) -> tuple[list[TickSample], float]:
    max_distance_m = 10.0 ** draw(st.floats(0.0, 6.5))
    places: list[tuple[float, float]] = []
    for _ in range(draw(st.integers(1, 4))):
        lat, lon = draw(centres())
        spread_m = max_distance_m * draw(st.sampled_from([0.3, 1.0, 3.0]))
        # Up to 12 in a cluster, or a crowd: the search settles crowds at a shorter reach first.
        size = draw(st.one_of(st.integers(1, 12), st.integers(20, 40)))
        for _ in range(size):
            if places and draw(st.integers(0, 9)) == 0:
                places.append(draw(st.sampled_from(places)))  # the same position twice
                continue
            bearing = draw(st.floats(0.0, 360.0))
            places.append(destination(lat, lon, bearing, draw(st.floats(0.0, spread_m))))
    mmsis = draw(
        st.lists(
            st.integers(100_000_000, 999_999_999),
            min_size=len(places),
            max_size=len(places),
            unique=True,
        )
    )
    samples = [
        TickSample(mmsi, lat, lon, 0.0) for mmsi, (lat, lon) in zip(mmsis, places, strict=True)
    ]
    return samples, max_distance_m


def assert_brute_force_pairs(samples: list[TickSample], max_distance_m: float) -> None:
    """close_pairs gives the brute-force reference's pairs, at its distances."""
    found = close_pairs(samples, max_distance_m)
    expected = reference_pairs(samples, max_distance_m)
    assert [(a, b) for a, b, _ in found] == [(a, b) for a, b, _ in expected]
    for (_, _, found_m), (_, _, distance_m) in zip(found, expected, strict=True):
        assert found_m <= max_distance_m
        assert math.isclose(found_m, distance_m, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=400, deadline=None)
@given(ticks())
def test_the_pairs_are_the_brute_force_nearest_neighbour_pairs(
    tick: tuple[list[TickSample], float],
) -> None:
    assume(not has_near_ties(*tick))
    assert_brute_force_pairs(*tick)


@st.composite
def crowds(draw: st.DrawFn) -> tuple[list[TickSample], float]:
    """An anchorage: vessels spread evenly over a disc one to three thresholds across, so
    that some grid cubes are crowded and their neighbours are not."""
    max_distance_m = 10.0 ** draw(st.floats(1.0, 4.0))
    lat, lon = draw(centres())
    radius_m = max_distance_m * draw(st.floats(0.5, 3.0))
    rng = random.Random(draw(st.integers(0, 2**32)))
    samples = []
    for i in range(draw(st.integers(30, 120))):
        distance_m = radius_m * math.sqrt(rng.random())
        place = destination(lat, lon, rng.uniform(0.0, 360.0), distance_m)
        samples.append(TickSample(200_000_000 + 7_919 * i, *place, 0.0))
    return samples, max_distance_m


@settings(max_examples=300, deadline=None)
@given(crowds())
def test_crowds_give_the_brute_force_nearest_neighbour_pairs(
    tick: tuple[list[TickSample], float],
) -> None:
    assume(not has_near_ties(*tick))
    assert_brute_force_pairs(*tick)


@settings(max_examples=100, deadline=None)
@given(ticks(), st.randoms(use_true_random=False))
def test_the_order_of_the_samples_changes_nothing(
    tick: tuple[list[TickSample], float], shuffler: random.Random
) -> None:
    samples, max_distance_m = tick
    shuffled = list(samples)
    shuffler.shuffle(shuffled)

    def by_mmsi(sample_list: list[TickSample]) -> list[tuple[int, int, float]]:
        return [
            (sample_list[a].mmsi, sample_list[b].mmsi, distance_m)
            for a, b, distance_m in close_pairs(sample_list, max_distance_m)
        ]

    assert by_mmsi(shuffled) == by_mmsi(samples)


def test_a_tanker_with_a_ship_on_each_beam_gives_two_pairs_not_three() -> None:
    lat, lon = 26.0, 56.5
    port_side = destination(lat, lon, 270.0, 60.0)
    starboard = destination(lat, lon, 90.0, 80.0)
    samples = [
        TickSample(311000001, lat, lon, 0.2),
        TickSample(311000002, *port_side, 0.1),
        TickSample(311000003, *starboard, 0.3),
    ]
    pairs = close_pairs(samples, 500.0)
    assert (pairs.a, pairs.b) == ([0, 0], [1, 2])
    assert math.isclose(pairs.distance_m[0], 60.0, rel_tol=1e-6)
    assert math.isclose(pairs.distance_m[1], 80.0, rel_tol=1e-6)


def test_a_pair_across_the_antimeridian_and_one_at_the_pole_are_found() -> None:
    samples = [
        TickSample(412000001, -16.5, 179.9990, 0.0),
        TickSample(412000002, -16.5, -179.9995, 0.0),
        TickSample(257000001, 90.0, 0.0, 0.0),
        TickSample(257000002, *destination(90.0, 0.0, 135.0, 300.0), 0.0),
    ]
    pairs = close_pairs(samples, 500.0)
    assert (pairs.a, pairs.b) == ([2, 0], [3, 1])
    assert math.isclose(pairs.distance_m[1], haversine_m(-16.5, 179.999, -16.5, -179.9995))


def test_vessels_further_apart_than_the_threshold_or_alone_make_no_pair() -> None:
    lat, lon = 1.2, 103.8
    apart = destination(lat, lon, 45.0, 500.5)
    assert len(close_pairs([TickSample(1, lat, lon, 0.0), TickSample(2, *apart, 0.0)], 500.0)) == 0
    assert len(close_pairs([TickSample(1, lat, lon, 0.0)], 500.0)) == 0
    assert len(close_pairs([], 500.0)) == 0


def test_one_vessel_reported_twice_is_not_its_own_neighbour() -> None:
    samples = [TickSample(7, 10.0, 10.0, 0.0), TickSample(7, 10.0, 10.0, 0.0)]
    assert len(close_pairs(samples, 500.0)) == 0


def test_real_harbours_give_the_brute_force_pairs(shared_data: Path) -> None:
    """The last position of each vessel in a day of US coastal traffic (MarineCadastre), in
    the three half-degree boxes that hold the most vessels (Puget Sound, Miami, Galveston
    Bay: marinas, berths, anchorages, boats moored at one position): real crowding, at
    thresholds from alongside to a couple of kilometres."""
    last: dict[int, Position] = {}
    path = shared_data / "csv" / "noaa_marinecadastre_2022-01-03_first99999.csv.gz"
    for record in read_inputs([path]):
        if type(record) is Position:
            last[record.mmsi] = record
    by_box: dict[tuple[int, int], list[TickSample]] = collections.defaultdict(list)
    for p in last.values():
        by_box[round(p.lat * 2), round(p.lon * 2)].append(
            TickSample(p.mmsi, p.lat, p.lon, p.sog_kn)
        )
    for samples in sorted(by_box.values(), key=len, reverse=True)[:3]:
        assert len(samples) > 400
        for max_distance_m in (50.0, 500.0, 2_000.0):
            assert_brute_force_pairs(samples, max_distance_m)
