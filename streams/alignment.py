"""Raw partitions kept within reach of each other in event time while a backlog is read.

Faust hands the decode agent the messages of its raw partitions in turns, a message of each.
Sources differ in how much time a message covers: 500 lines of a busy port's receiver span
half a minute, 500 lines of a quiet coast's an hour, and fetches do not return every
partition every time. While a worker reads a backlog (after a restart, an outage, or in the
benchmarks, where the input is on the topic before the worker starts), one partition's event
time then runs ahead of another's, and every shard's clock with it. The positions of the
partition behind arrive later than `detection.allowed_lateness_s` and are dropped as late.
In the worker benchmark (4 equal sources, 650,000 lines), one partition ran 50 minutes ahead
of the other three, and the detectors dropped 384,782 positions as late.

Kafka Streams takes, of its partitions with records buffered, the one whose next record is
oldest. This does the same with a tolerance. A partition is held while its event time is more
than `max_lead_s` ahead of another partition that still has messages to read (its high-water
mark is beyond the last message processed). A held partition's messages wait in the worker's
memory, not acknowledged (so not committed), until the partition behind catches up.

A partition just assigned to the worker counts as behind every other until it delivers its
first message: fetches do not bring every partition at once, and in the benchmark one
partition read alone for its first second ran an hour ahead before the others started.

A live feed leaves no backlog, so nothing is held there, and a source whose clock is wrong is
never waited for. A partition that has delivered nothing for `idle_s` holds nothing back:
its high-water mark may count offsets that hold no message (transaction markers), and a
worker must not wait on those for ever.

With several workers, each reads some of the raw partitions, and the shard partitions hear
from all of them: one worker's partitions running ahead of another's make the same late
positions. Every shard message says which raw partition it was decoded from, the event time
reached and whether that partition had more messages waiting (`streams.shard_payload`), and
every decoded batch reaches every shard partition, so a worker that holds a shard partition
hears how far every other worker has read. Those reports count like the worker's own
partitions, except that the backlog is the one reported. The worker reads them as its
consumer fetches them (`streams.flow_gated_consumer`), not when its shard agent gets to
them, seconds later in a backlog. They still come a little late, which only ever makes a
partition's event time look older than it is: the worker ahead waits longer than it must,
never too little. After a rebalance, a partition
read elsewhere counts as behind every other until it is reported (or `idle_s` passes), as
a partition just assigned does.

Pure bookkeeping; the worker (`streams.app`) holds and releases the messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

# The offset after the last message of a partition, as the broker last reported it (None
# when not known yet).
HighWater = Callable[[int], int | None]


class PartitionAlignment:
    """Event time, last offset and last delivery of each raw partition this worker reads."""

    def __init__(self, max_lead_s: float, idle_s: float) -> None:
        if max_lead_s <= 0 or idle_s <= 0:
            raise ValueError("max_lead_s and idle_s must be positive")
        self.max_lead_s = max_lead_s
        self.idle_s = idle_s
        self._time_s: dict[int, float] = {}
        self._offset: dict[int, int] = {}
        self._delivered_at_s: dict[int, float] = {}
        # Partitions read by other workers, as reported: event time, backlog, report time.
        self._elsewhere: dict[int, tuple[float, bool, float]] = {}

    def assigned(
        self, partitions: Iterable[int], now_s: float, elsewhere: Iterable[int] = ()
    ) -> None:
        """Partitions this worker now reads, and those other workers read: until each
        delivers or is reported (or `idle_s` passes), it holds back every partition whose
        event time is known."""
        for partition in partitions:
            self._delivered_at_s[partition] = now_s
        # What was reported before the rebalance may describe a reader that is gone.
        self._elsewhere = {partition: (-math.inf, True, now_s) for partition in elsewhere}

    def reported(self, partition: int, time_s: float, backlog: bool, now_s: float) -> None:
        """Another worker has read `partition` up to `time_s`, with more messages waiting
        (`backlog`) or not. Reports of this worker's own partitions are ignored."""
        if partition in self._delivered_at_s:
            return
        known = self._elsewhere.get(partition)
        if known is not None and known[0] > time_s:
            time_s = known[0]
        self._elsewhere[partition] = (time_s, backlog, now_s)

    def delivered(self, partition: int, now_s: float) -> None:
        """A message of `partition` reached the worker (processed or not)."""
        self._delivered_at_s[partition] = now_s

    def processed(self, partition: int, offset: int, newest_time_s: float | None) -> None:
        """The message at `offset` is processed; `newest_time_s` is the newest event time
        it carried (None when it carried no record)."""
        self._offset[partition] = offset
        if newest_time_s is not None and newest_time_s > self._time_s.get(partition, -1e300):
            self._time_s[partition] = newest_time_s

    def time_s(self, partition: int) -> float | None:
        return self._time_s.get(partition)

    def behind(self, partition: int, high_water: HighWater, now_s: float) -> int | None:
        """A partition that still has messages to read and is more than `max_lead_s` behind
        `partition` in event time (the one furthest behind), or None: `partition` may go on."""
        ahead_s = self._time_s.get(partition)
        if ahead_s is None:
            return None
        furthest: int | None = None
        furthest_s = ahead_s - self.max_lead_s
        for other, delivered_at_s in self._delivered_at_s.items():
            # A partition with nothing processed yet may hold anything: it is behind all.
            time_s = self._time_s.get(other, -math.inf)
            if other == partition or time_s >= furthest_s:
                continue
            if now_s - delivered_at_s > self.idle_s:
                continue
            end = high_water(other)
            if end is None:
                # Not fetched yet: only a partition that has delivered nothing may hold.
                if time_s != -math.inf:
                    continue
            elif end <= self._offset.get(other, -1) + 1:
                continue
            furthest, furthest_s = other, time_s
        for other, (time_s, backlog, reported_at_s) in self._elsewhere.items():
            if time_s >= furthest_s or not backlog or now_s - reported_at_s > self.idle_s:
                continue
            if other == partition or other in self._delivered_at_s:
                continue
            furthest, furthest_s = other, time_s
        return furthest

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions this worker no longer reads."""
        for partition in partitions:
            self._time_s.pop(partition, None)
            self._offset.pop(partition, None)
            self._delivered_at_s.pop(partition, None)
