"""What the stream's agents do with each message, without Kafka in the way.

An agent receives bytes and hands them to a stage; the stage returns the bytes to publish.
Keeping Kafka out of here lets the unit tests drive the exact code the worker runs, and
keeps the agents (`streams.app`) down to moving messages.

- `DecodeStage`: raw line batches (`ais.raw.v1`) -> records routed to spatial shards
  (`ais.shards.v1`), decoded records by MMSI (`ais.positions.v1`) and dead letters.
- `ShardStage`: shard batches -> the encounter detector of that partition -> alerts
  (`sts.alerts.v1`), plus the vessels whose live status changed.

Neither ever raises on bad input: bad input becomes a dead letter with its reason.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zlib import crc32

from detectors import snapshot
from detectors.alerts import alert_to_json, change_json, pair_key
from detectors.anomalies.watchlists import Watchlist
from detectors.encounters import PortLookup, ZoneLookup
from detectors.engine import AlertEvent, EncounterDetector
from detectors.identity import VesselIdentity
from detectors.params import DetectionParams
from detectors.records import Position, Reject, StaticReport
from streams.raw import RawError, decode_raw
from streams.shard_payload import decode_shard_batch, encode_shard_batch
from streams.shards import Sharding
from stswatch.decoding.jsonl import position_json_line, record_to_json_line
from stswatch.decoding.nmea import NmeaDecoder, utf8_lines
from stswatch.decoding.stats import DecodeStats

log = logging.getLogger(__name__)

DEAD_LETTER_VERSION = 1


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish: `partition` None lets the producer choose by key."""

    key: bytes
    value: bytes
    partition: int | None = None
    # What the message is about, for metrics (a dead letter's reason).
    label: str = ""


def dead_letter(
    reason: str,
    detail: str,
    source: str,
    topic: str,
    partition: int,
    offset: int,
    line: str | None = None,
    raw: bytes | None = None,
) -> Outgoing:
    """A dead-letter message: the original input, why it was refused, and where it was."""
    document: dict[str, Any] = {
        "v": DEAD_LETTER_VERSION,
        "reason": reason,
        "detail": detail,
        "source": source,
        "topic": topic,
        "partition": partition,
        "offset": offset,
    }
    if line is not None:
        document["line"] = line
    if raw is not None:
        document["raw_b64"] = base64.b64encode(raw).decode("ascii")
    return Outgoing(
        source.encode("utf-8", "replace"), json.dumps(document).encode("utf-8"), label=reason
    )


@dataclass(slots=True)
class DecodeOutput:
    shards: list[Outgoing] = field(default_factory=list)
    # Decoded records (key, JSON value) by the partition of the records topic they go to.
    records: dict[int, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    dead_letters: list[Outgoing] = field(default_factory=list)
    positions: int = 0
    statics: int = 0
    # The newest event time of the batch's source so far (None: it has carried no record).
    source_time_s: float | None = None


class DecodeStage:
    """Raw batches of one raw-topic partition's sources, decoded and routed."""

    def __init__(
        self,
        sharding: Sharding,
        raw_topic: str,
        publish_records: bool = True,
        record_partitions: int = 1,
    ) -> None:
        self.sharding = sharding
        self.record_partitions = record_partitions
        self.raw_topic = raw_topic
        self.publish_records = publish_records
        self.stats = DecodeStats()
        self.decoder = NmeaDecoder(self.stats)
        self.source_time_s: dict[str, float] = {}
        # Of each raw partition read: the sources seen since it was assigned and whether each
        # has ended. The shard messages say "final" only once all have: files replayed
        # together may share a partition, and the first to end must not end the others.
        self.sources_ended: dict[int, dict[str, bool]] = {}
        self.lines_in = 0
        self.dead_lettered = 0

    def handle(
        self,
        value: bytes | None,
        partition: int,
        offset: int,
        timestamp_s: float | None,
        backlog: bool = False,
    ) -> DecodeOutput:
        """Decode one raw message; `backlog` says whether `partition` has more messages
        waiting behind it (the shard messages tell every worker, `streams.alignment`)."""
        out = DecodeOutput()
        batch = decode_raw(value)
        if isinstance(batch, RawError):
            out.dead_letters.append(
                dead_letter(
                    batch.reason,
                    batch.detail,
                    "",
                    self.raw_topic,
                    partition,
                    offset,
                    raw=value or b"",
                )
            )
            self.dead_lettered += 1
            return out
        self.lines_in += len(batch.lines)
        # Lines that carry no time of their own take the Kafka message's timestamp: the
        # only case where event time does not come from the data.
        items = self.decoder.decode_lines(utf8_lines(batch.lines), batch.source, timestamp_s)
        if batch.final:
            items.extend(self.decoder.flush(batch.source))
        positions: list[Position] = []
        statics: list[StaticReport] = []
        newest_s = self.source_time_s.get(batch.source)
        for item in items:
            if type(item) is Position:
                positions.append(item)
            elif type(item) is StaticReport:
                statics.append(item)
            elif isinstance(item, Reject):
                out.dead_letters.append(
                    dead_letter(
                        item.reason,
                        item.detail,
                        batch.source,
                        self.raw_topic,
                        partition,
                        offset,
                        line=item.line,
                    )
                )
                self.dead_lettered += 1
                continue
            else:
                continue
            if newest_s is None or item.time_s > newest_s:
                newest_s = item.time_s
        if newest_s is not None:
            self.source_time_s[batch.source] = newest_s
        out.source_time_s = newest_s
        out.positions = len(positions)
        out.statics = len(statics)
        ended = self.sources_ended.setdefault(partition, {})
        ended[batch.source] = batch.final
        partition_ended = batch.final and all(ended.values())
        out.shards = self._route(positions, statics, newest_s, partition_ended, partition, backlog)
        if self.publish_records:
            out.records = self._records(positions, statics)
        return out

    def forget(self, partitions: Iterable[int]) -> None:
        """Raw partitions this worker no longer reads: whoever reads them next learns their
        sources again."""
        for partition in partitions:
            self.sources_ended.pop(partition, None)

    def _records(
        self, positions: list[Position], statics: list[StaticReport]
    ) -> dict[int, list[tuple[bytes, bytes]]]:
        """One message per decoded record, keyed by MMSI, grouped by partition.

        The partition is chosen here (a CRC of the key, like the shards) rather than by the
        client's murmur2, which aiokafka computes in pure Python: a third of the decode
        agent's time when it did. Same key, same partition, as consumers expect. Plain
        tuples, not `Outgoing`s: a frozen dataclass costs 0.5 us to build, and there is one
        of these per position.
        """
        partitions = self.record_partitions
        out: dict[int, list[tuple[bytes, bytes]]] = {}
        for position in positions:
            key = str(position.mmsi).encode()
            partition = crc32(key) % partitions
            message = (key, position_json_line(position).encode())
            group = out.get(partition)
            if group is None:
                out[partition] = [message]
            else:
                group.append(message)
        for static in statics:
            key = str(static.mmsi).encode()
            message = (key, record_to_json_line(static).encode())
            out.setdefault(crc32(key) % partitions, []).append(message)
        return out

    def _route(
        self,
        positions: list[Position],
        statics: list[StaticReport],
        watermark_s: float | None,
        final: bool,
        source_partition: int,
        source_backlog: bool,
    ) -> list[Outgoing]:
        sharding = self.sharding
        targets_of = sharding.targets
        by_partition: dict[int, list[Position]] = {}
        margin: dict[int, list[int]] = {}
        for position in positions:
            home, targets = targets_of(position.lat, position.lon)
            for target in targets:
                routed = by_partition.get(target)
                if routed is None:
                    routed = by_partition[target] = []
                if target != home:
                    margin.setdefault(target, []).append(len(routed))
                routed.append(position)
        out: list[Outgoing] = []
        # Every partition hears every batch: the static reports (identity is needed wherever
        # the vessel goes next), the event time, which moves each shard's clock on even
        # when none of its vessels spoke, and how far the source partition has been read.
        for target in range(sharding.partitions):
            routed = by_partition.get(target, [])
            key = (
                sharding.shard_cell(routed[0].lat, routed[0].lon)
                if routed
                else f"partition-{target}"
            )
            out.append(
                Outgoing(
                    key.encode(),
                    encode_shard_batch(
                        routed,
                        statics,
                        watermark_s,
                        final,
                        margin.get(target),
                        source_partition,
                        source_backlog,
                    ),
                    target,
                )
            )
        return out


@dataclass(slots=True)
class ShardOutput:
    alerts: list[Outgoing] = field(default_factory=list)
    alert_documents: list[dict[str, Any]] = field(default_factory=list)
    vessels: dict[int, tuple[Position, VesselIdentity]] = field(default_factory=dict)
    # Identity histories (JSON-ready) of the vessels above that have one.
    identity_histories: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # Every position this partition is home for, in time order, for the vessels' tracks.
    home_positions: list[Position] = field(default_factory=list)
    dead_letters: list[Outgoing] = field(default_factory=list)
    # Positions the detectors dropped as later than the allowed lateness (event time).
    late_positions: int = 0


StateTable = Any  # a Faust table or a plain dict: str keys, JSON-ready values


def _state_key(partition: int, kind: str, name: str) -> str:
    return f"{partition}:{kind}:{name}"


class ShardStage:
    """The encounter detectors of the shard partitions this worker holds."""

    def __init__(
        self,
        params: DetectionParams,
        sharding: Sharding,
        shard_topic: str,
        zones: ZoneLookup | None = None,
        ports: PortLookup | None = None,
        watchlist: Watchlist | None = None,
    ) -> None:
        self.params = params
        self.sharding = sharding
        self.shard_topic = shard_topic
        self.zones = zones
        self.ports = ports
        # Swapped by the worker when a watchlist file changes (stswatch.watchlists).
        self.watchlist = watchlist
        self.detectors: dict[int, EncounterDetector] = {}
        # Of each shard partition: the raw partitions it has heard from and whether each
        # one's input has ended (a `final` batch). The detector finishes (decides every tick
        # up to the newest event time) only once all have: one file of a replay ending
        # first must not make the others' positions late.
        self.inputs: dict[int, dict[int, bool]] = {}
        self.changed_inputs: set[int] = set()
        self.messages_in = 0

    def new_detector(self, partition: int) -> EncounterDetector:
        return EncounterDetector(
            self.params,
            self.zones,
            self.ports,
            owns=self.sharding.owns(partition),
            track_changes=True,
            watchlist=self.watchlist,
        )

    def detector(self, partition: int, table: StateTable | None = None) -> EncounterDetector:
        """The partition's detector, restored from `table` the first time it is needed."""
        found = self.detectors.get(partition)
        if found is None:
            found = self.new_detector(partition)
            if table is not None:
                self.inputs[partition] = restore_partition(found, partition, table)
            self.detectors[partition] = found
        return found

    def input_ended(self, partition: int, source: int | None, final: bool) -> bool:
        """Note a batch from raw partition `source` (`final`: its input ended); True when
        every raw partition this shard partition has heard from has ended."""
        if source is None:
            # An older decoder does not say its partition: its final ends the input, as then.
            return final
        inputs = self.inputs.setdefault(partition, {})
        if inputs.get(source) != final:
            inputs[source] = final
            self.changed_inputs.add(partition)
        return final and all(inputs.values())

    def save_inputs(self, partition: int, table: StateTable) -> None:
        """Write which inputs of `partition` have ended into `table`, if that changed."""
        if partition in self.changed_inputs:
            self.changed_inputs.discard(partition)
            ended = {str(source): end for source, end in self.inputs.get(partition, {}).items()}
            table[_state_key(partition, "i", "ended")] = ended

    def active_encounters(self) -> int:
        """Alerted encounters not yet closed that this worker reports."""
        return sum(
            1
            for detector in self.detectors.values()
            for pair in detector.tracker.pairs.values()
            if pair.owned and pair.opened and not pair.closed
        )

    def tracked_vessels(self) -> int:
        return sum(len(detector.tracks) for detector in self.detectors.values())

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget partitions this worker no longer holds (their state lives in the table)."""
        for partition in partitions:
            self.detectors.pop(partition, None)
            self.inputs.pop(partition, None)
            self.changed_inputs.discard(partition)

    def handle(
        self,
        value: bytes,
        partition: int,
        offset: int,
        table: StateTable | None = None,
        out: ShardOutput | None = None,
    ) -> ShardOutput:
        out = out if out is not None else ShardOutput()
        self.messages_in += 1
        try:
            batch = decode_shard_batch(value)
        except (ValueError, TypeError) as err:
            out.dead_letters.append(
                dead_letter(
                    "bad_shard_message",
                    str(err),
                    "",
                    self.shard_topic,
                    partition,
                    offset,
                    raw=value,
                )
            )
            return out
        detector = self.detector(partition, table)
        events: list[AlertEvent] = []
        margin = batch.margin
        positions = batch.positions
        # Records reach the detector in event-time order within the batch, as they do
        # offline after the reorder window: a batch of a sparse feed may span an hour, and
        # a late record taken first would move the clock past the records before it. Static
        # reports go first at equal times, as offline.
        statics = batch.statics
        homes: set[int] = set()
        late_before = detector.stats.late
        for kind, index in time_order(statics, positions):
            if kind == 0:
                events.extend(detector.add_static(statics[index]))
                continue
            position = positions[index]
            events.extend(detector.add_position(position))
            if index not in margin:
                mmsi = position.mmsi
                out.home_positions.append(position)
                homes.add(mmsi)
                held = out.vessels.get(mmsi)
                if held is None or held[0].time_s <= position.time_s:
                    out.vessels[mmsi] = (position, detector.identity(mmsi))
        out.late_positions += detector.stats.late - late_before
        # Histories of the vessels this partition is home for in this batch, from its own
        # registry (a take holds many batches: each looks only at its own vessels).
        registry = detector.anomalies.registry
        for mmsi in homes:
            changes = registry.changes_of(mmsi)
            if changes:
                out.identity_histories[mmsi] = [change_json(c) for c in changes]
        ended = self.input_ended(partition, batch.source_partition, batch.final)
        if batch.watermark_s is not None:
            if ended:
                events.extend(detector.finish(batch.watermark_s))
            else:
                events.extend(detector.advance(batch.watermark_s))
        for event in events:
            document = alert_to_json(event)
            out.alert_documents.append(document)
            snapshot_ = event.event.encounter
            out.alerts.append(
                Outgoing(
                    pair_key(snapshot_.mmsi_a, snapshot_.mmsi_b).encode(),
                    json.dumps(document).encode(),
                )
            )
        return out


def time_order(statics: list[StaticReport], positions: list[Position]) -> Iterable[tuple[int, int]]:
    """(kind, index) of a batch's records in event-time order: kind 0 a static report, 1 a
    position; static reports first at equal times, then input order.

    A batch of positions alone already in time order (nearly every batch of a live feed)
    is returned as it is, without building and sorting a key per record.
    """
    if not statics:
        previous_s = -math.inf
        for position in positions:
            time_s = position.time_s
            if time_s < previous_s:
                break
            previous_s = time_s
        else:
            return zip([1] * len(positions), range(len(positions)), strict=True)
    keyed = sorted(
        [(r.time_s, 0, i) for i, r in enumerate(statics)]
        + [(p.time_s, 1, i) for i, p in enumerate(positions)]
    )
    return [(kind, index) for _, kind, index in keyed]


def save_partition(detector: EncounterDetector, partition: int, table: StateTable) -> int:
    """Write what changed in `detector`'s tracks and pairs since the last save into `table`;
    return the count. The clock goes separately (`save_clock`), after them."""
    writes = 0
    for mmsi in detector.changed_vessels:
        track = detector.tracks.get(mmsi)
        if track is not None:
            table[_state_key(partition, "v", str(mmsi))] = snapshot.track_to_state(track)
            writes += 1
    for mmsi in detector.forgotten_vessels:
        key = _state_key(partition, "v", str(mmsi))
        if key in table:
            del table[key]
            writes += 1
    tracker = detector.tracker
    for pair in tracker.changed_pairs:
        encounter = tracker.pairs.get(pair)
        if encounter is not None:
            table[_state_key(partition, "e", f"{pair[0]}-{pair[1]}")] = snapshot.pair_to_state(
                encounter
            )
            writes += 1
    for pair in tracker.forgotten_pairs:
        key = _state_key(partition, "e", f"{pair[0]}-{pair[1]}")
        if key in table:
            del table[key]
            writes += 1
    detector.changed_vessels.clear()
    detector.forgotten_vessels.clear()
    tracker.changed_pairs.clear()
    tracker.forgotten_pairs.clear()
    return writes


def save_clock(detector: EncounterDetector, partition: int, table: StateTable) -> None:
    """Write `detector`'s clock (its watermark and counters) into `table`."""
    table[_state_key(partition, "c", "clock")] = snapshot.clock_to_state(detector)


def _partition_items(table: StateTable, partition: int) -> Iterator[tuple[str, str, Any]]:
    prefix = f"{partition}:"
    for key, value in list(table.items()):
        if isinstance(key, str) and key.startswith(prefix) and value is not None:
            _, kind, _ = key.split(":", 2)
            yield key, kind, value


def restore_partition(
    detector: EncounterDetector, partition: int, table: StateTable
) -> dict[int, bool]:
    """Load a partition's saved state into a fresh detector; return which of its inputs had
    ended (`ShardStage.inputs`)."""
    inputs: dict[int, bool] = {}
    for key, kind, value in _partition_items(table, partition):
        try:
            if kind == "c":
                snapshot.restore_clock(detector, value)
            elif kind == "v":
                snapshot.restore_track(detector, value)
            elif kind == "e":
                snapshot.restore_pair(detector, value)
            elif kind == "i":
                inputs = {int(source): bool(end) for source, end in value.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            # One unreadable entry costs that vessel's or pair's history, not the worker.
            log.error("dropping unreadable state %s: %s", key, err)
    return inputs


def partition_of_key(key: object) -> int:
    """The partition a state-table key belongs to (the number before the first colon)."""
    return int(str(key).split(":", 1)[0])
