"""A Faust consumer that hands an agent every record after a restart, in order, once.

Two races in faust-streaming 0.15.3 with aiokafka 0.14 lose records when a worker starts
with table state to recover (measured here: a worker restarted after SIGTERM decoded raw
messages 22-24 and went on at 54, or went on at 52 having decoded none of 22-51):

- Recovery resumes the stream partitions, awaits the seek to their committed offsets and only
  then resumes flow control, while the fetcher already runs for the changelogs. Records
  fetched in that window go to queues that flow control clears.
- Faust passes its live set of active partitions to aiokafka's `fetched_records`, where an
  empty set means "every partition". When recovery pauses the changelogs during a fetch, the
  set empties, aiokafka drains a paused stream partition and moves its position past the
  records, and Faust drops them as not active.

This consumer resumes stream partitions only together with the flow (after the seek), and
asks aiokafka for a fixed copy of the active set, fetching nothing when it is empty. Records
of a partition that is not active stay in aiokafka's buffer; the seek replaces them.

It also sets how long a fetch may wait at the broker for new records
(`stream.consumer_fetch_max_wait_ms`), which Faust fixes at 1,500 ms. Apache Kafka answers a
waiting fetch as soon as records arrive; tansu 0.6 does not when the fetch covers several
partitions (measured with aiokafka: 0.48 s from produce to consume with 8 partitions and a
1,500 ms wait, 0.012 s with 100 ms), and a worker's fetch covers every partition it holds,
so each of the two hops to an alert waited up to half a second. tansu also stops reading
stored records when the wait is over, which on S3 storage starves a worker that is behind
(docs/reliability.md): there the wait should stay at 1,500 ms.

An observer may see each fetch as it arrives, before the records wait in the agents'
buffers (the worker reads how far other workers have read from it, `streams.alignment`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer

log = logging.getLogger(__name__)

# Sees each fetch: aiokafka's records (`.value` the bytes) by partition (`.topic`).
FetchObserver = Callable[[Mapping[Any, list[Any]]], None]


class _ConsumerThread(AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread, with the fetch wait of its consumer class."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by aiokafka when the consumer starts (it builds its fetcher then).
        consumer._fetch_max_wait_ms = cast(FlowGatedConsumer, self.consumer).fetch_max_wait_ms
        return consumer


class FlowGatedConsumer(Consumer):
    """Resumes stream partitions only with the flow; fetches only what is active."""

    # How long a fetch may wait at the broker for records, and who sees each fetch
    # (`install` sets both).
    fetch_max_wait_ms = 1500
    fetch_observer: FetchObserver | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resume_with_flow: set[Any] = set()

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def resume_partitions(self, tps: Iterable[Any]) -> None:
        # Faust resumes stream partitions only right before it seeks them and resumes the
        # flow (tables/recovery.py, both paths); changelog partitions are resumed for the
        # recovery itself and are left to it.
        changelog: set[Any] = set()
        for tp in tps:
            if self._is_changelog_tp(tp):
                changelog.add(tp)
            else:
                self._resume_with_flow.add(tp)
        if changelog:
            super().resume_partitions(changelog)

    def resume_flow(self) -> None:
        # Recovery resumes the flow once the seek is done and flow control is open again.
        super().resume_flow()
        resumed, self._resume_with_flow = self._resume_with_flow, set()
        if resumed:
            super().resume_partitions(resumed)

    async def _getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:
        if active_partitions is None:  # a client-only app: every partition
            return await super()._getmany(None, timeout)
        active = set(active_partitions)
        if not active:
            return {}
        records = await super()._getmany(active, timeout)
        observer = type(self).fetch_observer
        if observer is not None and records:
            try:
                observer(records)
            except Exception:  # the fetch loop must go on whatever the observer does
                log.exception("fetch observer failed")
        return records


def install(
    app: Any,
    fetch_max_wait_ms: int = FlowGatedConsumer.fetch_max_wait_ms,
    fetch_observer: FetchObserver | None = None,
) -> None:
    """Make `app` build its consumer as a `FlowGatedConsumer` whose fetches wait at most
    `fetch_max_wait_ms` at the broker and are shown to `fetch_observer` (records by
    partition; call before the app starts)."""
    app.transport.Consumer = type(
        "FlowGatedConsumer",
        (FlowGatedConsumer,),
        {
            "fetch_max_wait_ms": fetch_max_wait_ms,
            # staticmethod: a plain function in a class would be bound as a method.
            "fetch_observer": None if fetch_observer is None else staticmethod(fetch_observer),
        },
    )
