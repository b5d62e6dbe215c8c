"""Spatial shards: which partition of `ais.shards.v1` sees which positions.

The world is cut into coarse H3 cells (resolution `stream.shard_resolution`, 2 by default:
cells about 160 km across); each cell belongs to one partition (a stable hash of the cell
id), and partitions are spread over workers by Kafka's consumer group. A position goes to
the partition of its own cell and also to the partitions of neighbouring cells within
`stream.shard_margin_m`, so a pair near a cell edge is seen whole on both sides.

Exactly one partition reports each encounter: the one owning the cell of the pair's midpoint
when the encounter begins (`Sharding.owns`). Every other partition that sees the pair
tracks it silently, so that it does not take it for a new encounter when the pair drifts
across the edge.

An encounter is seen whole as long as both vessels stay within the margin of the owner's
cell; a pair drifting further than that in one encounter (more than 20 km at < 2 kn means
more than 10 hours) is closed early by the owner when its positions stop arriving.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

from detectors import cells
from detectors.geodesy import destination

# Fine cells (resolution 6, about 3.7 km edges) cache the partition set of everything in them;
# their radius is added to the margin so that the set covers any point inside.
_FINE_RESOLUTION = 6
_FINE_RADIUS_M = 4_000.0
_BEARINGS_DEG = tuple(range(0, 360, 15))


def partition_for_cell(cell: str, partitions: int) -> int:
    """The partition of a shard cell: a hash stable across processes and versions."""
    return zlib.crc32(cell.encode("ascii")) % partitions


class Sharding:
    """Routing and ownership for a shard topic with `partitions` partitions."""

    def __init__(self, resolution: int, margin_m: float, partitions: int) -> None:
        if partitions < 1:
            raise ValueError("a shard topic needs at least one partition")
        self.resolution = resolution
        self.margin_m = margin_m
        self.partitions = partitions
        self._targets = lru_cache(maxsize=200_000)(self._targets_of_fine_cell)

    def shard_cell(self, lat: float, lon: float) -> str:
        return cells.latlng_to_cell(lat, lon, self.resolution)

    def owner(self, lat: float, lon: float) -> int:
        """The partition that reports an encounter starting at (lat, lon)."""
        return partition_for_cell(self.shard_cell(lat, lon), self.partitions)

    def owns(self, partition: int) -> OwnsPredicate:
        return OwnsPredicate(self, partition)

    def targets(self, lat: float, lon: float) -> tuple[int, tuple[int, ...]]:
        """The home partition of a position at (lat, lon), and every partition that must
        see it (home included).

        The home partition is the one of the shard cell that is the H3 parent of the
        position's fine cell: one partition per position, which writes its live status.
        Positions come from the decoders, already validated.
        """
        return self._targets(cells.latlng_to_cell_checked_upstream(lat, lon, _FINE_RESOLUTION))

    def _targets_of_fine_cell(self, fine_cell: str) -> tuple[int, tuple[int, ...]]:
        lat, lon = cells.cell_to_latlng(fine_cell)
        home = partition_for_cell(cells.cell_to_parent(fine_cell, self.resolution), self.partitions)
        found = {home, self.owner(lat, lon)}
        radius_m = self.margin_m + _FINE_RADIUS_M
        for distance_m in (radius_m * 0.5, radius_m):
            for bearing in _BEARINGS_DEG:
                found.add(self.owner(*destination(lat, lon, bearing, distance_m)))
        return home, tuple(sorted(found))


class OwnsPredicate:
    """`owns(lat, lon)` for one partition, as the detector wants it."""

    __slots__ = ("partition", "sharding")

    def __init__(self, sharding: Sharding, partition: int) -> None:
        self.sharding = sharding
        self.partition = partition

    def __call__(self, lat: float, lon: float) -> bool:
        return self.sharding.owner(lat, lon) == self.partition
