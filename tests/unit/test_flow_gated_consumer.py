"""The worker's Faust consumer: stream partitions wait for the flow; fetches name what is active.

What these guard against is described in `streams/flow_gated_consumer.py`; the restart test in
tests/integration/test_faults.py shows the effect end to end against a real broker.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from faust.types import TP

from streams import flow_gated_consumer
from streams.flow_gated_consumer import FlowGatedConsumer

RAW = TP("raw", 0)


@pytest.fixture
def app() -> Any:
    # The consumer is only built here, never started: nothing connects to the broker URL.
    app = faust.App("test-flow-gated", broker="kafka://127.0.0.1:1", autodiscover=False)
    flow_gated_consumer.install(app)
    app.Table("state", partitions=1, default=None)
    return app


def changelog_tp(app: Any) -> TP:
    (topic,) = app.tables.changelog_topics
    return TP(topic, 0)


def test_the_app_builds_this_consumer(app: Any) -> None:
    assert isinstance(app.consumer, FlowGatedConsumer)


def test_a_stream_partition_is_resumed_only_with_the_flow(app: Any) -> None:
    consumer = app.consumer
    consumer.pause_partitions({RAW})
    consumer.resume_partitions({RAW})  # recovery does this before it seeks
    assert RAW not in consumer._get_active_partitions()
    consumer.resume_flow()  # ... and this after the seek
    assert RAW in consumer._get_active_partitions()


def test_a_changelog_partition_is_resumed_at_once(app: Any) -> None:
    consumer = app.consumer
    changelog = changelog_tp(app)
    consumer.pause_partitions({changelog, RAW})
    consumer.resume_partitions({changelog, RAW})
    assert consumer._get_active_partitions() == {changelog}


class RecordingThread:
    """Stands in for Faust's consumer thread: records what the consumer asks aiokafka for."""

    def __init__(self, fetched: dict[Any, Any] | None = None) -> None:
        self.asked: list[Any] = []
        self.fetched = fetched or {}

    async def getmany(self, active_partitions: Any, timeout: float) -> dict[Any, Any]:
        self.asked.append(active_partitions)
        return self.fetched


def test_nothing_is_fetched_with_no_active_partition_and_a_set_is_copied(app: Any) -> None:
    consumer = app.consumer
    thread = RecordingThread()
    consumer._thread = thread
    active: set[TP] = set()
    # aiokafka reads an empty set as "every partition": it must never be passed on.
    assert asyncio.run(consumer._getmany(active, 0.0)) == {}
    assert thread.asked == []
    active.add(RAW)
    asyncio.run(consumer._getmany(active, 0.0))
    (asked,) = thread.asked
    active.clear()  # recovery changing the live set during the fetch
    assert asked == {RAW}


def test_the_fetch_wait_reaches_the_aiokafka_consumer() -> None:
    # Faust builds its aiokafka consumer with a 1,500 ms fetch wait; the setting replaces it.
    app = faust.App("test-fetch-wait", broker="kafka://127.0.0.1:1", autodiscover=False)
    flow_gated_consumer.install(app, fetch_max_wait_ms=100)
    thread = app.consumer._new_consumer_thread()

    async def build() -> Any:  # aiokafka objects are made inside a running loop
        return thread._create_worker_consumer(app.transport)

    assert asyncio.run(build())._fetch_max_wait_ms == 100


def test_the_fetch_observer_sees_each_fetch_with_records() -> None:
    seen: list[Any] = []
    app = faust.App("test-fetch-observer", broker="kafka://127.0.0.1:1", autodiscover=False)
    flow_gated_consumer.install(app, fetch_observer=seen.append)
    consumer = app.consumer
    fetched = {RAW: ["a record"]}
    consumer._thread = RecordingThread(fetched)
    assert asyncio.run(consumer._getmany({RAW}, 0.0)) == fetched
    assert seen == [fetched]
    # An empty fetch is not shown.
    consumer._thread = RecordingThread({})
    asyncio.run(consumer._getmany({RAW}, 0.0))
    assert seen == [fetched]


def test_a_failing_fetch_observer_does_not_stop_the_fetch() -> None:
    def fails(records: Any) -> None:
        raise ValueError("a bug in the observer")

    app = faust.App("test-fetch-observer-fails", broker="kafka://127.0.0.1:1", autodiscover=False)
    flow_gated_consumer.install(app, fetch_observer=fails)
    consumer = app.consumer
    fetched = {RAW: ["a record"]}
    consumer._thread = RecordingThread(fetched)
    assert asyncio.run(consumer._getmany({RAW}, 0.0)) == fetched
