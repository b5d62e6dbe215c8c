"""The Faust application: topics, the state table and three agents, all thin.

    ais.raw.v1 --[stswatch-decode]--> ais.shards.v1 --[stswatch-shards]--> sts.alerts.v1
                        |--> ais.positions.v1             |--> Redis (vessels)    |
                        |--> ais.dead-letter.v1                                   |
                                       Redis (encounters) <--[stswatch-alert-status]

- `stswatch-decode` decodes raw line batches and routes records to spatial shards.
- `stswatch-shards` runs the encounter detector of each shard partition it holds and
  publishes alerts; the detector's state is saved in the `shard-state` table (a changelog
  topic) every `stream.table_snapshot_interval_s` (and 1 s after the input pauses), and a
  message is acknowledged only once the state that includes it is saved, so a replacement
  worker resumes from that state and re-reads only what came after it (at-least-once;
  repeated alerts keep their ids).
- `stswatch-alert-status` keeps encounter status in Redis.

The work itself lives in `streams.stages`; here messages are only moved. Every Faust setting
is passed explicitly and the environment is not read (`env={}`): Faust otherwise lets
variables such as BROKER_URL silently override code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import faust
from faust.tables.table import Table
from faust.transport.drivers.aiokafka import Producer as AIOKafkaTransportProducer
from faust.types import TP
from kafka import KafkaAdminClient

from config.settings import Settings
from detectors.encounters import PortLookup, ZoneLookup
from detectors.timefmt import parse_iso_utc
from streams import flow_gated_consumer
from streams.alignment import PartitionAlignment
from streams.kafka_clients import admin_kwargs, connect, faust_broker_credentials, faust_broker_url
from streams.metrics import LagMonitor, WorkerMetrics, start_exporter
from streams.shard_payload import shard_batch_source
from streams.shards import Sharding
from streams.stages import (
    DecodeStage,
    Outgoing,
    ShardOutput,
    ShardStage,
    dead_letter,
    partition_of_key,
    save_clock,
    save_partition,
)
from streams.status import StatusWriter, async_client
from streams.topics import topic_names
from stswatch.gc_tuning import fewer_collections
from stswatch.watchlists import WatchlistFiles, refresh_watchlists

log = logging.getLogger(__name__)

# How many shard messages one pass of the shard agent takes at most, and how long it waits
# for them: each message already carries a whole decoded batch.
_SHARD_TAKE_MAX = 64
_SHARD_TAKE_WITHIN_S = 0.2
# The shard agent's quiet tail is saved once no take has come for this long (checked
# every _QUIET_CHECK_S by a timer).
_QUIET_AFTER_S = 1.0
_QUIET_CHECK_S = 0.5
# How long a stopping worker waits for Redis to take the pending status.
_SHUTDOWN_FLUSH_S = 5.0
# Raw partitions are held when their event time runs ahead of a partition with a backlog by
# more than this share of the allowed lateness (streams.alignment); a partition that has
# delivered nothing for _IDLE_PARTITION_S holds none back. The other half is left for the
# span of one raw message and for sources out of step within a partition; a position is
# only dropped once it is later than the allowed lateness and `max_hold_s` together.
_MAX_LEAD_SHARE = 0.5
_IDLE_PARTITION_S = 5.0
_RELEASE_CHECK_S = 1.0
# Held messages stay in memory (Faust keeps fetching the partition: pausing it through
# Faust's consumer fought its own flow control and stalled the worker). Beyond this many per
# partition (about 40 MB of 500-line messages) the oldest go on, even if their positions
# come too late for the partitions behind.
_MAX_PARKED = 1000


class PartitionedStateTable(Table[str, Any]):
    """A table whose keys name their partition (`"3:v:636012345"` lives in partition 3).

    The shard agent writes state from inside `stream.noack_take()`, where Faust has no
    current event to take the partition from; the key carries it instead, so each entry
    lands in the changelog partition that is restored with its shard partition.
    """

    def partition_for_key(self, key: Any) -> int | None:
        return partition_of_key(key)


class StreamPipeline:
    """One worker's Faust app with the stswatch agents installed."""

    def __init__(
        self,
        settings: Settings,
        zones: ZoneLookup | None = None,
        ports: PortLookup | None = None,
        *,
        web_enabled: bool = False,
        web_port: int = 6066,
    ) -> None:
        self.settings = settings
        stream = settings.stream
        kafka = settings.kafka
        self.names = topic_names(kafka)
        partitions = kafka.partitions
        self.sharding = Sharding(stream.shard_resolution, stream.shard_margin_m, partitions)
        self.app = faust.App(
            stream.app_id,
            env={},
            broker=faust_broker_url(kafka),
            broker_credentials=faust_broker_credentials(kafka),
            store="memory://",
            autodiscover=False,
            web_enabled=web_enabled,
            web_port=web_port,
            topic_partitions=partitions,
            topic_replication_factor=kafka.replication_factor,
            topic_allow_declare=True,
            broker_session_timeout=stream.broker_session_timeout_s,
            broker_heartbeat_interval=stream.broker_heartbeat_interval_s,
            broker_max_poll_interval=stream.broker_max_poll_interval_s,
            consumer_auto_offset_reset="earliest",
            # A broker that restarts may answer its first metadata requests without some
            # topics; Faust's assignor then leaves them out of the group's assignment until
            # the client refreshes its metadata (5 min by default) and the group rejoins.
            consumer_metadata_max_age_ms=30_000,
            producer_acks=-1,
            stream_wait_empty=False,
            table_cleanup_interval=3600.0,
            datadir=stream.state_dir or None,
            processing_guarantee="at_least_once",
        )
        app = self.app
        flow_gated_consumer.install(app, stream.consumer_fetch_max_wait_ms, self._on_fetched)

        def raw_topic(name: str) -> Any:
            return app.topic(
                name,
                partitions=partitions,
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
            )

        self.raw_topic = raw_topic(self.names.raw)
        self.shards_topic = raw_topic(self.names.shards)
        self.records_topic = raw_topic(self.names.positions)
        self.alerts_topic = raw_topic(self.names.alerts)
        self.dead_letter_topic = raw_topic(self.names.dead_letter)
        self.state = app.Table("shard-state", partitions=partitions, default=None)
        # Faust builds tables through its own factory; switch the class so the keys choose
        # their changelog partition (see PartitionedStateTable).
        self.state.__class__ = PartitionedStateTable

        self.decode_stage = DecodeStage(
            self.sharding,
            self.names.raw,
            publish_records=stream.publish_records,
            record_partitions=partitions,
        )
        # A bad watchlist file stops the worker at start with one line naming it.
        self.watchlists = WatchlistFiles.from_settings(settings.watchlists)
        self.shard_stage = ShardStage(
            settings.detection,
            self.sharding,
            self.names.shards,
            zones,
            ports,
            watchlist=self.watchlists.current(),
        )
        self.status: StatusWriter | None = None
        # Shard events processed but not yet saved and acknowledged, and when the shard
        # state was last saved; the lock keeps a timed save and a take from interleaving.
        self._unacked: list[Any] = []
        self._last_save_s = self._last_take_s = time.monotonic()
        self._save_lock = asyncio.Lock()
        self._quiet_save: asyncio.Task[None] | None = None
        self.metrics = WorkerMetrics()
        # Raw messages of partitions held back (streams.alignment), not yet decoded nor
        # acknowledged; the lock keeps the agent and the release timer from interleaving.
        self.alignment = PartitionAlignment(
            settings.detection.allowed_lateness_s * _MAX_LEAD_SHARE, _IDLE_PARTITION_S
        )
        self._parked: dict[int, deque[Any]] = {}
        self._decode_lock = asyncio.Lock()
        self._release: asyncio.Task[None] | None = None

        app.agent(self.raw_topic, name="stswatch-decode")(self._decode_agent)
        app.agent(self.shards_topic, name="stswatch-shards")(self._shard_agent)
        app.agent(self.alerts_topic, name="stswatch-alert-status")(self._alert_status_agent)
        # mode types a handler as taking any positional arguments; these signals send the
        # partitions (or nothing), which is all the handlers take.
        app.on_partitions_revoked.connect(cast(Any, self._on_revoked))
        app.on_partitions_assigned.connect(cast(Any, self._on_assigned))
        app.on_before_shutdown.connect(cast(Any, self._on_shutdown))
        app.timer(_QUIET_CHECK_S)(self._save_when_quiet)
        app.timer(_RELEASE_CHECK_S)(self._release_held)

    # --- helpers -----------------------------------------------------------------------

    def _status_writer(self) -> StatusWriter:
        if self.status is None:
            self.status = StatusWriter(async_client(self.settings.redis), self.settings.redis)
        return self.status

    def _count_dead_letters(self, letters: list[Outgoing]) -> None:
        for letter in letters:
            self.metrics.count_dead_letter(letter.label or "unknown")

    async def _publish_many(
        self, topic: Any, by_partition: dict[int, list[tuple[bytes, bytes]]]
    ) -> None:
        """Publish many small messages (key, value) with explicit partitions as record batches.

        One `send` per message costs aiokafka about 10 us of Python; appending to a batch
        builder costs a fraction of that, and decoded records are one message per position.
        Faust's producer flushes these batches with everything else before a commit.
        """
        if not by_partition:
            return
        # The worker's transport is aiokafka: its producer holds an AIOKafkaProducer.
        producer = cast(AIOKafkaTransportProducer, self.app.producer)._ensure_producer()
        name = topic.get_topic_name()
        for partition, group in by_partition.items():
            batch = producer.create_batch()
            for key, value in group:
                if batch.append(key=key, value=value, timestamp=None) is None:
                    await producer.send_batch(batch, name, partition=partition)
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
            await producer.send_batch(batch, name, partition=partition)

    async def _publish(self, topic: Any, messages: list[Outgoing]) -> None:
        producer = self.app.producer
        for message in messages:
            await producer.send(
                topic.get_topic_name(), message.key, message.value, message.partition, None, None
            )

    def _on_fetched(self, records: Mapping[Any, list[Any]]) -> None:
        """The consumer fetched `records`: the shard messages among them say how far each
        raw partition has been read. Read here, not when the shard agent takes them: that
        may be seconds later, and the worker ahead would wait for a view that old."""
        shards = self.names.shards
        now_s = time.monotonic()
        reported = False
        for tp, fetched in records.items():
            if tp.topic != shards:
                continue
            for record in fetched:
                source = shard_batch_source(record.value)
                if source is not None:
                    self.alignment.reported(*source, now_s)
                    reported = True
        if reported and self._parked:
            self._release_soon()

    async def _on_revoked(self, app: Any, revoked: set[Any], **_: Any) -> None:
        self.shard_stage.drop(tp.partition for tp in revoked if tp.topic == self.names.shards)
        # Held raw messages were never acknowledged: whoever reads the partition next reads
        # them again from the committed offset.
        raw = [tp.partition for tp in revoked if tp.topic == self.names.raw]
        for partition in raw:
            self._parked.pop(partition, None)
        self.alignment.forget(raw)
        self.decode_stage.forget(raw)

    async def _on_assigned(self, app: Any, assigned: set[Any], **_: Any) -> None:
        # A partition we get back may have moved on elsewhere: reload it from the table.
        self.shard_stage.drop(tp.partition for tp in assigned if tp.topic == self.names.shards)
        raw = {tp.partition for tp in assigned if tp.topic == self.names.raw}
        elsewhere = set(range(self.settings.kafka.partitions)) - raw
        self.alignment.assigned(raw, time.monotonic(), elsewhere)

    async def _on_shutdown(self, app: Any, **_: Any) -> None:
        # Vessel status waiting for its flush interval (`StatusWriter.flush_soon`) is written
        # before the worker goes; a Redis that does not answer does not hold the shutdown.
        status = self.status
        if status is not None and status.pending:
            try:
                await asyncio.wait_for(status.flush(), _SHUTDOWN_FLUSH_S)
            except TimeoutError:
                log.warning("redis status not written at shutdown: %d pending", status.pending)

    # --- agents ------------------------------------------------------------------------

    async def _decode_agent(self, stream: Any) -> AsyncIterator[None]:
        # Acknowledged one by one once decoded: a held message must not be committed.
        async for event in stream.noack().events():
            async with self._decode_lock:
                partition = event.message.partition
                self.alignment.delivered(partition, time.monotonic())
                waiting = self._parked.get(partition)
                if waiting is None and self._held_back_by(partition) is None:
                    await self._decode(event)
                else:
                    self._park(event)
                await self._release_parked()
            yield None

    async def _decode(self, event: Any) -> None:
        stage = self.decode_stage
        message = event.message
        source_time_s = None
        try:
            timestamp_s = message.timestamp if message.timestamp else None
            end = self._raw_high_water(message.partition)
            backlog = end is not None and end > message.offset + 1
            out = stage.handle(event.value, message.partition, message.offset, timestamp_s, backlog)
            source_time_s = out.source_time_s
            await self._publish(self.shards_topic, out.shards)
            await self._publish_many(self.records_topic, out.records)
            await self._publish(self.dead_letter_topic, out.dead_letters)
            self._count_dead_letters(out.dead_letters)
            self.metrics.count_decoded("position", out.positions)
            self.metrics.count_decoded("static", out.statics)
        except Exception as err:  # one bad message must not stop the agent
            log.exception("decode failed at %s:%s", message.partition, message.offset)
            letters = [
                dead_letter(
                    "internal_error",
                    repr(err),
                    "",
                    self.names.raw,
                    message.partition,
                    message.offset,
                    raw=event.value or b"",
                )
            ]
            await self._publish(self.dead_letter_topic, letters)
            self._count_dead_letters(letters)
        self.alignment.processed(message.partition, message.offset, source_time_s)
        event.ack()
        self.metrics.count_message(self.names.raw)
        self.metrics.observe_processing(message.timestamp or None, time.time())

    def _raw_high_water(self, partition: int) -> int | None:
        """The offset after the last message of a raw partition this worker reads, as the
        broker last reported it (None when not known yet)."""
        end = self.app.consumer.highwater(TP(self.names.raw, partition))
        return None if end is None else int(end)

    def _held_back_by(self, partition: int) -> int | None:
        return self.alignment.behind(partition, self._raw_high_water, time.monotonic())

    def _park(self, event: Any) -> None:
        partition = event.message.partition
        waiting = self._parked.get(partition)
        if waiting is None:
            waiting = self._parked[partition] = deque()
            self.metrics.count_hold()
            log.info("raw partition %d held: ahead of the others in event time", partition)
        waiting.append(event)

    async def _release_parked(self) -> None:
        """Decode the held messages of partitions no longer ahead, furthest behind first."""
        released = True
        while released and self._parked:
            released = False
            by_time = sorted(self._parked, key=lambda p: self.alignment.time_s(p) or 0.0)
            for partition in by_time:
                waiting = self._parked.get(partition)
                # `is waiting`: a rebalance during a decode may take the partition away.
                while (
                    waiting
                    and self._parked.get(partition) is waiting
                    and (len(waiting) > _MAX_PARKED or self._held_back_by(partition) is None)
                ):
                    await self._decode(waiting.popleft())
                    released = True
                if waiting is not None and not waiting and self._parked.get(partition) is waiting:
                    del self._parked[partition]

    async def _release_held(self) -> None:
        """Release what may go on, outside the agent: by a timer (a partition behind may stop
        delivering, caught up or idle, and nothing then wakes the agent) and after a fetch
        brought other workers' reports (`_release_soon`)."""
        if self._parked:
            async with self._decode_lock:
                await self._release_parked()

    def _release_soon(self) -> None:
        """Release what may go on, in a task of its own: the fetch that brought the news
        must not wait for the decode agent's lock."""
        if self._release is None or self._release.done():
            self._release = asyncio.get_running_loop().create_task(self._release_held())

    async def _shard_agent(self, stream: Any) -> AsyncIterator[None]:
        status = self._status_writer()
        interval_s = self.settings.stream.table_snapshot_interval_s
        async for events in stream.noack_take(_SHARD_TAKE_MAX, within=_SHARD_TAKE_WITHIN_S):
            # Held until the take's alerts are published: a timed save in between would
            # acknowledge events whose alerts are not sent, or save state half-way.
            async with self._save_lock:
                await self._process_take(events, status)
                self._last_take_s = time.monotonic()
                # While takes keep coming, one save per interval: a save writes every vessel
                # changed since the last one, and saving after every take that was not full
                # (the rule before) cost two workers a third of their CPU. The tail, once
                # the input pauses, is saved by `_save_when_quiet`.
                if time.monotonic() - self._last_save_s >= interval_s:
                    await self._save_unacked()
            yield None

    async def _process_take(self, events: list[Any], status: StatusWriter) -> None:
        stage = self.shard_stage
        # Watchlist files are re-read when they change (checked every few seconds).
        if refresh_watchlists(self.watchlists, stage.detectors.values()):
            stage.watchlist = self.watchlists.current()
        out = ShardOutput()
        for event in events:
            message = event.message
            try:
                stage.handle(event.value, message.partition, message.offset, self.state, out)
            except Exception as err:  # one bad message must not stop the agent
                log.exception("shard step failed at %s:%s", message.partition, message.offset)
                out.dead_letters.append(
                    dead_letter(
                        "internal_error",
                        repr(err),
                        "",
                        self.names.shards,
                        message.partition,
                        message.offset,
                        raw=event.value or b"",
                    )
                )
        self._unacked.extend(events)
        await self._publish(self.alerts_topic, out.alerts)
        await self._publish(self.dead_letter_topic, out.dead_letters)
        metrics = self.metrics
        metrics.count_message(self.names.shards, len(events))
        self._count_dead_letters(out.dead_letters)
        metrics.count_late(out.late_positions)
        published_at_s = time.time()
        for document in out.alert_documents:
            metrics.count_alert(
                document["event"], parse_iso_utc(document["event_time"]), published_at_s
            )
        for position in out.home_positions:
            status.note_track(position)
        for mmsi, (position, identity) in out.vessels.items():
            status.note_vessel(position, identity, out.identity_histories.get(mmsi))
        await status.flush_soon()
        metrics.set_state(
            active_encounters=stage.active_encounters(),
            tracked_vessels=stage.tracked_vessels(),
            status_pending=status.pending,
        )

    async def _save_when_quiet(self) -> None:
        """Timer: save and acknowledge what the shard agent processed since its last save
        once no take has come for `_QUIET_AFTER_S` (or the interval is up). Faust's take
        yields nothing while no event arrives, so without this the tail of an input would
        stay uncommitted until the next message.

        The save runs as a task of its own: on slow storage it takes longer than the timer's
        period, and Faust warns on every timer call that overlaps the next."""
        if not self._unacked or (self._quiet_save is not None and not self._quiet_save.done()):
            return
        if self._save_is_due():
            self._quiet_save = asyncio.get_running_loop().create_task(self._save_quiet_tail())

    def _save_is_due(self) -> bool:
        now = time.monotonic()
        quiet = now - self._last_take_s >= _QUIET_AFTER_S
        return quiet or now - self._last_save_s >= self.settings.stream.table_snapshot_interval_s

    async def _save_quiet_tail(self) -> None:
        async with self._save_lock:
            # The agent may have taken and saved meanwhile.
            if self._unacked and self._save_is_due():
                await self._save_unacked()

    async def _save_unacked(self) -> None:
        events, self._unacked = self._unacked, []
        await self._save_and_ack(events)
        self._last_save_s = time.monotonic()

    async def _save_and_ack(self, events: list[Any]) -> None:
        """Save the detectors' changes, make them and the alerts durable, then acknowledge.

        The table's changelog writes wait in Faust's producer buffer: the flushes come after
        them, or a commit could run ahead of the state it stands for. The clocks go last, each
        alone in its record batch: tansu 0.6 reports a partition's end offset as the base
        offset of its last batch + 1 (batches of 10 and 3 records: 11, not 13), and Faust's
        recovery reads a changelog only up to that end, so a last batch of several records
        would leave all but its first unread after a restart.
        """
        stage = self.shard_stage
        detectors = stage.detectors
        for partition, detector in detectors.items():
            save_partition(detector, partition, self.state)
            stage.save_inputs(partition, self.state)
        await self.app.producer.flush()
        for partition, detector in detectors.items():
            save_clock(detector, partition, self.state)
        await self.app.producer.flush()
        for event in events:
            event.ack()

    async def _alert_status_agent(self, stream: Any) -> AsyncIterator[None]:
        status = self._status_writer()
        async for value in stream:
            try:
                status.note_alert(json.loads(value))
            except (ValueError, KeyError, TypeError) as err:
                log.error("unreadable alert on %s: %s", self.names.alerts, err)
            await status.flush()
            self.metrics.count_message(self.names.alerts)
            yield None


def start_monitoring(pipeline: StreamPipeline) -> list[Any]:
    """The Prometheus exporter (when `metrics.worker_port` is set) and the lag monitor."""
    settings = pipeline.settings
    started: list[Any] = []
    if settings.metrics.worker_port:
        started.append(
            start_exporter(pipeline.metrics, settings.metrics.worker_port, settings.metrics.host)
        )
        kafka = settings.kafka
        admin = connect(kafka, KafkaAdminClient, **admin_kwargs(kafka, client_id="stswatch-lag"))
        names = pipeline.names
        started.append(
            LagMonitor(
                admin,
                pipeline.metrics,
                settings.stream.app_id,
                [names.raw, names.shards, names.alerts],
            ).start()
        )
    return started


def run_worker(pipeline: StreamPipeline, loglevel: str = "info") -> None:
    """Run the worker until SIGINT/SIGTERM (Faust handles both and commits on the way out)."""
    start_monitoring(pipeline)
    worker = faust.Worker(pipeline.app, loglevel=loglevel, quiet=True)
    # Faust's terminal spinner sets the root logger to DEBUG so that it can spin on every
    # record: every debug call in aiokafka then builds a LogRecord (13 % of a busy worker).
    worker.spinner = None
    asyncio.set_event_loop(worker.loop)
    with fewer_collections():
        worker.execute_from_commandline()
