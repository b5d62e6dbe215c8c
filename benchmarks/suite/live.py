"""Measurements 2 and 4: stream workers on an embedded tansu broker and Redis.

Throughput (2). The input lines are put on the raw topic first (`ingest_files`, no
compression), one source per raw partition, then the workers (`stswatch worker` processes)
are started and the benchmark polls the consumer group's committed offsets every 0.25 s. The
run is done when the group has committed the true end of every partition of the raw topic
and then of the shards topic. Processing starts when the decode agent produces its first
shard message (the earliest Kafka timestamp on the shards topic): start-up before it (imports,
Faust, joining the group) is reported apart. Processing ends when the workers have taken
every raw and every shard message, counted by their own Prometheus counters
(`stswatch_messages_in_total`, scraped at every poll; a take is counted once its alerts are
published). Commits come later, when Faust next commits (every 2.8 s, after the shard
state is saved), so the committed end is reported too but not used for rates: it came
2.5-3.5 s after processing in the runs compared, by a different amount in each run, which
moved the two-worker ratio by 10-15 %. Rate = every line /
(processed - start); CPU seconds of each worker process (/proc/PID/stat, all threads) are
sampled at every poll and interpolated at the start and the end.

tansu answers ListOffsets with "the start of the last record batch plus one", not the end of
the partition, so true end offsets are read here: the raw topic's by reading back every
message ingest sent, the shards topic's by fetching its last batch (`true_end_offsets`).

Latency (4). One worker runs; the latency scenario is fed at half the one-worker rate measured
in (2), by event time, in two ways: a paced TCP feed read by `ingest_tcp` (raw messages of up
to 500 lines or 0.5 s, as a live receiver gives them) and a paced file replay by
`ingest_files(speed=...)` (which sends what it has before every pause, so its raw messages
are small). An alert is decided at the tick T it names (`event_time`): the detector decides T
once event time reaches T + max_hold_s + allowed_lateness_s, and in the stream a shard's
event time moves with the newest record time of each raw message (`DecodeStage`). So the raw
message that completes an alert is the first raw message whose running newest record time
(decoded exactly as the worker decodes it) reaches that bound; the latency is the alert
record's Kafka timestamp minus that raw message's Kafka timestamp (both producer
create-times on this machine's clock). Alerts decided only by the end of the input are not
samples.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import logging
import math
import socket
import statistics
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from config.settings import Settings
from detectors.records import Position, StaticReport
from detectors.timefmt import parse_iso_utc
from streams.ingest import IngestCounts, Pacer, file_source_name, ingest_files, ingest_tcp
from streams.kafka_clients import admin_kwargs, connect, consumer_kwargs
from streams.raw import RawBatch, decode_raw
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port
from streams.topics import ensure_topics, topic_names
from stswatch.decoding.checks import MAX_TIME_S, MIN_TIME_S
from stswatch.decoding.nmea import NmeaDecoder, line_time_s
from tests.integration.pipeline import Worker

from .common import Row, Section, fmt_rate, process_cpu_s, rate
from .decode import Timing, settings_for
from .inputs import SimulatedInput, WorkerInput
from .profiling import Recording

PARTITIONS = 4
ONE_WORKER_TARGET = 0.50
TWO_WORKER_TARGET = 1.7
LATENCY_TARGET_S = 2.0
POLL_S = 0.25


# ------------------------------------------------------------------ services and settings


@contextmanager
def services(workdir: Path) -> Iterator[tuple[EmbeddedBroker, EmbeddedRedis]]:
    """A fresh tansu broker (in memory) and Redis server for one run."""
    broker = EmbeddedBroker(workdir / "tansu")
    redis_server = EmbeddedRedis(workdir / "redis")
    broker.start()
    try:
        redis_server.start()
        try:
            yield broker, redis_server
        finally:
            redis_server.stop()
    finally:
        broker.stop()


def _pid_of(service: EmbeddedBroker | EmbeddedRedis) -> int | None:
    process = getattr(getattr(service, "_process", None), "process", None)
    return None if process is None else int(process.pid)


def run_settings(
    traffic: SimulatedInput, broker: EmbeddedBroker, redis_server: EmbeddedRedis, name: str
) -> Settings:
    """Defaults pointed at the services, with names of their own and the simulated area.

    The group timings are shorter than the defaults (10 s session, 1 s heartbeat) so that
    a second worker joins in a second or two, but long enough that a busy worker is never
    taken for dead.
    """
    token = f"{name}-{uuid.uuid4().hex[:6]}"
    base = settings_for(traffic)
    kafka = dataclasses.replace(
        broker.kafka_settings(base.kafka), topic_prefix=f"bench-{token}.", partitions=PARTITIONS
    )
    stream = dataclasses.replace(
        base.stream,
        app_id=f"bench-{token}",
        broker_session_timeout_s=10.0,
        broker_heartbeat_interval_s=1.0,
    )
    redis_settings = dataclasses.replace(
        redis_server.redis_settings(base.redis), key_prefix=f"bench:{token}"
    )
    return dataclasses.replace(base, kafka=kafka, stream=stream, redis=redis_settings)


# ------------------------------------------------------------------ offsets


class Offsets:
    """Committed offsets of the workers' group and true end offsets, read from the broker."""

    def __init__(self, settings: Settings) -> None:
        kafka = settings.kafka
        self.group = settings.stream.app_id
        self.names = topic_names(kafka)
        self.admin = connect(
            kafka, KafkaAdminClient, **admin_kwargs(kafka, client_id="bench-offsets")
        )
        self.consumer = connect(
            kafka,
            KafkaConsumer,
            **consumer_kwargs(kafka, group_id=None, client_id="bench-tail"),
        )

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()

    def committed(self) -> dict[tuple[str, int], int]:
        found: Any = self.admin.list_group_offsets({self.group: None}).get(self.group, {})
        return {
            (tp.topic, tp.partition): int(meta.offset)
            for tp, meta in found.items()
            if meta.offset is not None and meta.offset >= 0
        }

    def true_end_offsets(self, topic: str, partitions: int, timeout_s: float = 10.0) -> list[int]:
        """One past the last record of each partition: the reported end (the start of the
        last batch plus one, on tansu) may fall short; the last batch is fetched to see."""
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        reported = self.consumer.end_offsets(tps)
        ends = [0] * partitions
        self.consumer.assign(tps)
        waiting: set[int] = set()
        for tp in tps:
            end = int(reported[tp])
            ends[tp.partition] = end
            if end > 0:
                self.consumer.seek(tp, end - 1)
                waiting.add(tp.partition)
            else:
                self.consumer.pause(tp)
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            for tp, records in self.consumer.poll(timeout_ms=200).items():
                if records:
                    ends[tp.partition] = max(ends[tp.partition], records[-1].offset + 1)
                    waiting.discard(tp.partition)
                    self.consumer.pause(tp)
        if waiting:
            raise RuntimeError(f"could not read the last batch of {topic} {sorted(waiting)}")
        self.consumer.unsubscribe()
        return ends


def read_topic(settings: Settings, topic: str, expected: int | None, timeout_s: float) -> list[Any]:
    """Every record of `topic`; stops at `expected` records, or after 2 s without news."""
    consumer = connect(
        settings.kafka,
        KafkaConsumer,
        **consumer_kwargs(settings.kafka, group_id=None, client_id="bench-read"),
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        last_news = time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200, max_records=5000)
            fresh = [record for part in batch.values() for record in part]
            if fresh:
                records.extend(fresh)
                last_news = time.monotonic()
            if expected is not None and len(records) >= expected:
                break
            if expected is None and time.monotonic() - last_news > 2.0:
                break
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


@dataclass(slots=True)
class RawIndex:
    """Lines per raw message: `cumulative[p][o]` lines are in partition p before offset o."""

    cumulative: dict[int, list[int]]
    ends: dict[int, int]
    lines: int

    def lines_before(self, committed: dict[tuple[str, int], int], topic: str) -> int:
        total = 0
        for partition, cumulative in self.cumulative.items():
            offset = committed.get((topic, partition), 0)
            total += cumulative[min(offset, len(cumulative) - 1)]
        return total


def raw_index(settings: Settings, counts: IngestCounts) -> RawIndex:
    raw_topic = topic_names(settings.kafka).raw
    records = read_topic(settings, raw_topic, counts.messages, timeout_s=120.0)
    if len(records) != counts.messages:
        raise RuntimeError(f"read {len(records)} raw messages back, ingest sent {counts.messages}")
    cumulative: dict[int, list[int]] = {p: [0] for p in range(settings.kafka.partitions)}
    for record in records:
        batch = decode_raw(record.value)
        lines = len(batch.lines) if isinstance(batch, RawBatch) else 0
        series = cumulative[record.partition]
        if record.offset != len(series) - 1:
            raise RuntimeError(f"raw offsets are not contiguous at {record.offset}")
        series.append(series[-1] + lines)
    ends = {p: len(series) - 1 for p, series in cumulative.items()}
    return RawIndex(cumulative, ends, sum(series[-1] for series in cumulative.values()))


# ------------------------------------------------------------------ one worker run


@dataclass(slots=True)
class WorkerRun:
    workers: int
    lines: int
    ingest_s: float
    first_commit_s: float  # from the start of the worker processes
    start_s: float  # the first shard message produced, from the start of the processes
    raw_done_s: float  # the raw topic committed to its end
    window_s: float  # from the start to the last message taken
    window_lines: int
    window_cpu_s: list[float]  # per worker
    total_s: float  # from the start of the processes to everything committed
    committed_window_s: float  # from the start to everything committed
    # False when the exporters never showed every message taken: the window then ends at
    # the commit instead.
    processing_end_seen: bool
    total_cpu_s: list[float]
    broker_window_cpu_s: float
    redis_window_cpu_s: float
    alert_events: int
    distinct_events: int
    late_positions: int  # dropped by the detectors as later than the allowed lateness
    progress: list[tuple[float, int]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return rate(self.window_lines, self.window_s)

    @property
    def cpu_rate(self) -> float:
        return rate(self.window_lines, sum(self.window_cpu_s))

    def as_json(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "lines": self.lines,
            "ingest_s": round(self.ingest_s, 2),
            "first_commit_s": round(self.first_commit_s, 2),
            "processing_start_s": round(self.start_s, 2),
            "raw_done_s": round(self.raw_done_s, 2),
            "window_s": round(self.window_s, 2),
            "committed_window_s": round(self.committed_window_s, 2),
            "processing_end_seen": self.processing_end_seen,
            "window_lines": self.window_lines,
            "lines_per_s": round(self.rate),
            "window_cpu_s_per_worker": [round(c, 2) for c in self.window_cpu_s],
            "lines_per_cpu_s": round(self.cpu_rate),
            "total_s": round(self.total_s, 2),
            "total_cpu_s_per_worker": [round(c, 2) for c in self.total_cpu_s],
            "broker_window_cpu_s": round(self.broker_window_cpu_s, 2),
            "redis_window_cpu_s": round(self.redis_window_cpu_s, 2),
            "alert_events": self.alert_events,
            "distinct_alert_events": self.distinct_events,
            "late_positions": self.late_positions,
        }


def _cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        return process_cpu_s(pid)
    except OSError:
        return 0.0


@dataclass(slots=True)
class Completion:
    done_at: float  # monotonic: the group has committed the end of raw and shards
    raw_done_at: float  # monotonic: ... of the raw topic
    progress: list[tuple[float, int]]  # (monotonic time, lines committed)
    shard_messages: int  # on the shards topic at the end


def with_metrics_port(settings: Settings, port: int) -> Settings:
    """`settings` with the worker's Prometheus exporter on `port`."""
    return dataclasses.replace(
        settings, metrics=dataclasses.replace(settings.metrics, worker_port=port)
    )


def messages_taken(ports: Sequence[int], topics: Sequence[str]) -> list[int]:
    """Messages of each topic the workers on `ports` have taken, from their exporters (a
    worker not answering yet counts 0)."""
    return exporter_totals(
        ports, [f'stswatch_messages_in_total{{topic="{topic}"}}' for topic in topics]
    )


def exporter_totals(ports: Sequence[int], series: Sequence[str]) -> list[int]:
    """Each series (a metric name with its labels, as the exporter writes it) summed over the
    workers' exporters on `ports` (a worker not answering counts 0)."""
    wanted = {name: i for i, name in enumerate(series)}
    totals = [0] * len(series)
    for port in ports:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=0.5) as page:
                text = page.read().decode("utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            index = wanted.get(name)
            if index is not None:
                totals[index] += int(float(value))
    return totals


def wait_until_done(
    settings: Settings,
    index: RawIndex,
    started: Sequence[Worker],
    timeout_s: float,
    on_progress: Any = None,
    on_started: Any = None,
) -> Completion:
    """Poll the group until it committed the true end of the raw topic, then of the shards
    topic (read again until it stops moving). `on_started(now)` is called once the first
    shard message exists, `on_progress(now, lines)` at every poll."""
    names = topic_names(settings.kafka)
    partitions = settings.kafka.partitions
    offsets = Offsets(settings)
    progress: list[tuple[float, int]] = []
    deadline = time.monotonic() + timeout_s
    shard_ends: list[int] | None = None
    raw_done_at: float | None = None
    shard_tps = [TopicPartition(names.shards, p) for p in range(partitions)]
    started_seen = on_started is None
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if not started_seen and any(offsets.consumer.end_offsets(shard_tps).values()):
                started_seen = True
                on_started(now)
            committed = offsets.committed()
            done_lines = index.lines_before(committed, names.raw)
            progress.append((now, done_lines))
            if on_progress is not None:
                on_progress(now, done_lines)
            for worker in started:
                if worker.process.poll() is not None:
                    raise RuntimeError(f"a worker died:\n{worker.log_tail()}")
            raw_done = all(committed.get((names.raw, p), 0) >= end for p, end in index.ends.items())
            if raw_done:
                raw_done_at = raw_done_at or now
                shard_ends = offsets.true_end_offsets(names.shards, partitions)
                if all(
                    committed.get((names.shards, p), 0) >= end for p, end in enumerate(shard_ends)
                ):
                    # The decode agent may still have had shard messages in flight: the ends
                    # must not move any more.
                    time.sleep(0.5)
                    if offsets.true_end_offsets(names.shards, partitions) == shard_ends:
                        return Completion(now, raw_done_at, progress, sum(shard_ends))
            time.sleep(POLL_S)
    finally:
        offsets.close()
    raise RuntimeError(
        f"not done after {timeout_s:.0f} s: progress {progress[-1] if progress else None}, "
        f"raw ends {index.ends}, shard ends {shard_ends}"
    )


def alert_events(settings: Settings) -> tuple[int, int]:
    records = read_topic(settings, topic_names(settings.kafka).alerts, None, timeout_s=60.0)
    ids = {json.loads(record.value)["event_id"] for record in records}
    return len(records), len(ids)


def first_record_time_s(settings: Settings, topic: str) -> float:
    """The earliest Kafka timestamp (epoch seconds) of the first record of any partition."""
    consumer = connect(
        settings.kafka,
        KafkaConsumer,
        **consumer_kwargs(settings.kafka, group_id=None, client_id="bench-first"),
    )
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.kafka.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        first: dict[int, float] = {}
        deadline = time.monotonic() + 20.0
        while len(first) < len(tps) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200, max_records=50).items():
                if records and tp.partition not in first:
                    first[tp.partition] = min(r.timestamp for r in records) / 1000.0
                    consumer.pause(tp)
        if not first:
            raise RuntimeError(f"no record on {topic}")
        return min(first.values())
    finally:
        consumer.close()


def _at(samples: list[tuple[float, list[float]]], when: float) -> list[float]:
    """Values sampled over time, linearly interpolated at `when`."""
    times = [t for t, _ in samples]
    right = bisect.bisect_left(times, when)
    if right <= 0:
        return list(samples[0][1])
    if right >= len(samples):
        return list(samples[-1][1])
    (t0, v0), (t1, v1) = samples[right - 1], samples[right]
    share = (when - t0) / (t1 - t0) if t1 > t0 else 0.0
    return [a + (b - a) * share for a, b in zip(v0, v1, strict=True)]


def run_workers(
    traffic: SimulatedInput,
    inp: WorkerInput,
    count: int,
    workdir: Path,
    profile_out: Path | None = None,
    profile_s: int = 3600,
    timeout_s: float = 900.0,
) -> WorkerRun:
    workdir.mkdir(parents=True, exist_ok=True)
    with services(workdir) as (broker, redis_server):
        settings = run_settings(traffic, broker, redis_server, f"w{count}")
        ingest_started = time.monotonic()
        counts = ingest_files(
            settings, list(inp.source_paths), sources=list(inp.sources), compression_type=None
        )
        ingest_s = time.monotonic() - ingest_started
        index = raw_index(settings, counts)
        service_pids = [_pid_of(broker), _pid_of(redis_server)]

        names = topic_names(settings.kafka)
        ports = [free_port() for _ in range(count)]
        started = [
            Worker(with_metrics_port(settings, port), workdir, f"worker{i}")
            for i, port in enumerate(ports)
        ]
        t0 = time.monotonic()
        wall_minus_monotonic = time.time() - time.monotonic()
        pids = [worker.process.pid for worker in started]
        cpu_samples: list[tuple[float, list[float]]] = []
        first_commit: list[float] = []
        recording: list[Recording] = []

        # (monotonic time, [raw messages, shard messages] the workers have taken)
        taken: list[tuple[float, list[int]]] = []

        def on_progress(now: float, done_lines: int) -> None:
            cpu_samples.append((now, [_cpu(pid) for pid in [*pids, *service_pids]]))
            taken.append((now, messages_taken(ports, [names.raw, names.shards])))
            if not first_commit and done_lines > 0:
                first_commit.append(now)

        def on_started(now: float) -> None:
            if profile_out is not None:
                recording.append(Recording(pids[0], profile_out, profile_s))

        try:
            completion = wait_until_done(
                settings, index, started, timeout_s, on_progress, on_started
            )
            cpu_samples.append((time.monotonic(), [_cpu(pid) for pid in [*pids, *service_pids]]))
            for rec in recording:
                rec.stop()
            # Processing began when the decode agent produced its first shard message.
            began = first_record_time_s(settings, topic_names(settings.kafka).shards)
            events, distinct = alert_events(settings)
            (late,) = exporter_totals(ports, ["stswatch_late_positions_total"])
        finally:
            for worker in started:
                worker.stop()
    start = began - wall_minus_monotonic
    committed = completion.done_at
    everything = [sum(index.ends.values()), completion.shard_messages]
    processed = next(
        (now for now, counts in taken if counts[0] >= everything[0] and counts[1] >= everything[1]),
        None,
    )
    done = committed if processed is None else processed
    cpu_start = _at(cpu_samples, start)
    cpu_end = _at(cpu_samples, done)
    window_cpu = [b - a for a, b in zip(cpu_start, cpu_end, strict=True)]
    return WorkerRun(
        workers=count,
        lines=index.lines,
        ingest_s=ingest_s,
        first_commit_s=(first_commit[0] if first_commit else done) - t0,
        start_s=start - t0,
        raw_done_s=completion.raw_done_at - t0,
        window_s=done - start,
        committed_window_s=committed - start,
        processing_end_seen=processed is not None,
        window_lines=index.lines,
        window_cpu_s=window_cpu[:count],
        total_s=committed - t0,
        total_cpu_s=cpu_end[:count],
        broker_window_cpu_s=window_cpu[count],
        redis_window_cpu_s=window_cpu[count + 1],
        alert_events=events,
        distinct_events=distinct,
        late_positions=late,
        progress=[(round(t - t0, 2), n) for t, n in completion.progress],
    )


def measure_workers(
    traffic: SimulatedInput,
    inp: WorkerInput,
    baseline: Timing,
    workdir: Path,
    profile_dir: Path | None,
    turns: int = 1,
) -> tuple[Section, WorkerRun]:
    """One worker and two take turns `turns` times; each count keeps its fastest run (wall
    clock). Single runs one after the other moved by 10-20 % on this shared machine, and a
    slow spell on one side alone moved the two-worker ratio by as much."""
    section = Section("live workers vs bare pyais")
    runs: dict[int, list[WorkerRun]] = {1: [], 2: []}
    for turn in range(turns):
        for count in (1, 2):
            # py-spy records the first one-worker run only.
            first_single = count == 1 and turn == 0
            profile_out = (
                profile_dir / "worker.raw" if profile_dir is not None and first_single else None
            )
            runs[count].append(
                run_workers(traffic, inp, count, workdir / f"{count}-{turn}", profile_out)
            )
    one = max(runs[1], key=lambda run: run.rate)
    two = max(runs[2], key=lambda run: run.rate)
    bare_cpu = baseline.cpu_rate
    bare_wall = baseline.wall_rate
    note = f"{one.lines:,} lines in {PARTITIONS} sources"
    section.rows += [
        Row(
            "2. one worker, CPU time",
            fmt_rate(one.cpu_rate, "lines/CPU-s"),
            f"pyais {fmt_rate(bare_cpu, 'lines/CPU-s')}",
            one.cpu_rate / bare_cpu,
            f">= {ONE_WORKER_TARGET:.2f}",
            one.cpu_rate / bare_cpu >= ONE_WORKER_TARGET,
            note,
        ),
        Row(
            "2. one worker, wall clock",
            fmt_rate(one.rate),
            f"pyais {fmt_rate(bare_wall)}",
            one.rate / bare_wall,
            f">= {ONE_WORKER_TARGET:.2f}",
            one.rate / bare_wall >= ONE_WORKER_TARGET,
        ),
        Row(
            "2. two workers / one, wall clock",
            fmt_rate(two.rate),
            f"one worker {fmt_rate(one.rate)}",
            two.rate / one.rate,
            f">= {TWO_WORKER_TARGET:.1f}",
            two.rate / one.rate >= TWO_WORKER_TARGET,
        ),
        Row(
            "2. two workers / one, lines per CPU-s",
            fmt_rate(two.cpu_rate, "lines/CPU-s"),
            f"one worker {fmt_rate(one.cpu_rate, 'lines/CPU-s')}",
            two.cpu_rate / one.cpu_rate,
            "-",
            None,
            "efficiency: 1.0 = no cost of sharing",
        ),
    ]
    section.details = {
        "input": [str(p) for p in inp.source_paths],
        "pyais_on_same_lines": baseline.as_json(),
        "one_worker": one.as_json(),
        "two_workers": two.as_json(),
        "turns": {str(count): [run.as_json() for run in found] for count, found in runs.items()},
        "one_worker_progress": one.progress,
        "two_workers_progress": two.progress,
    }
    for run in (one, two):
        end = "every message taken" if run.processing_end_seen else "exporters not read"
        cpu = ", ".join(f"{c:.1f}" for c in run.window_cpu_s)
        section.notes.append(
            f"{run.workers} worker(s): processing from {run.start_s:.1f} s after start (first "
            f"shard message; first commit seen at {run.first_commit_s:.1f} s) to "
            f"{run.start_s + run.window_s:.1f} s ({end}), everything committed at "
            f"{run.total_s:.1f} s (the raw topic at {run.raw_done_s:.1f} s); worker CPU in "
            f"that window {cpu} s, tansu {run.broker_window_cpu_s:.1f} s, redis "
            f"{run.redis_window_cpu_s:.1f} s; {run.alert_events:,} alert records "
            f"({run.distinct_events:,} distinct events), {run.late_positions:,} positions "
            f"dropped as late; ingest beforehand took "
            f"{run.ingest_s:.1f} s"
        )
    if turns > 1:
        for count, label in ((1, "one worker"), (2, "two workers")):
            rates = ", ".join(
                f"{run.rate:,.0f} lines/s ({run.cpu_rate:,.0f} lines/CPU-s)" for run in runs[count]
            )
            section.notes.append(f"{label}, each turn: {rates}; the fastest is in the table")
    if one.distinct_events != two.distinct_events:
        section.notes.append(
            "one and two workers published different alert events "
            f"({one.distinct_events:,} and {two.distinct_events:,}); their detectors dropped "
            f"{one.late_positions:,} and {two.late_positions:,} positions as late. The sources "
            "are replayed far faster than real time, and a decoder that falls behind another "
            "by more than the allowed lateness has its positions dropped as late"
        )
    return section, one


# ------------------------------------------------------------------ latency


@dataclass(slots=True)
class LatencySample:
    alert_id: str
    event: str
    tick_s: float
    latency_s: float


def completing_times(records: list[Any], source: str) -> tuple[list[float], list[float]]:
    """For each raw message in order: the running newest record time after it (as the
    decode stage computes it) and its Kafka timestamp in seconds."""
    decoder = NmeaDecoder()
    newest = -math.inf
    watermarks: list[float] = []
    stamps: list[float] = []
    for record in records:
        batch = decode_raw(record.value)
        if not isinstance(batch, RawBatch) or batch.source != source:
            continue
        stamp_s = record.timestamp / 1000.0
        items = decoder.decode_lines(batch.lines, batch.source, stamp_s)
        for item in items:
            if type(item) is Position or type(item) is StaticReport:
                newest = max(newest, item.time_s)
        watermarks.append(newest)
        stamps.append(stamp_s)
    return watermarks, stamps


def latency_samples(
    settings: Settings, raw_records: list[Any], alert_records: list[Any], source: str
) -> tuple[list[LatencySample], int]:
    watermarks, stamps = completing_times(raw_records, source)
    params = settings.detection
    delay_s = params.max_hold_s + params.allowed_lateness_s
    samples: list[LatencySample] = []
    undecided = 0
    for record in alert_records:
        alert = json.loads(record.value)
        if alert.get("type") != "sts":
            continue
        tick_s = parse_iso_utc(alert["event_time"])
        at = bisect.bisect_left(watermarks, tick_s + delay_s)
        if at >= len(watermarks):
            undecided += 1  # decided by the end of the input, not by a message
            continue
        samples.append(
            LatencySample(
                alert["alert_id"], alert["event"], tick_s, record.timestamp / 1000.0 - stamps[at]
            )
        )
    return samples, undecided


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class PacedTcpFeed(threading.Thread):
    """A TCP server on 127.0.0.1 that sends a file's lines at `speed` x real time by their
    event time, as an AIS feed would (`streams.ingest.Pacer` on `line_time_s`)."""

    def __init__(self, path: Path, speed: float) -> None:
        super().__init__(name="paced-tcp-feed", daemon=True)
        self.path = path
        self.speed = speed
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.lines = 0
        self.seconds = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            connection, _ = self.server.accept()
            with connection, self.path.open("rb") as handle:
                started = time.monotonic()
                pacer = Pacer(self.speed)
                pending: list[bytes] = []
                for raw in handle:
                    line = raw.strip()
                    if not line:
                        continue
                    event_s = line_time_s(line)
                    if event_s is not None and MIN_TIME_S <= event_s < MAX_TIME_S:
                        wait_s = pacer.delay_s(event_s)
                        if wait_s >= 0.02:
                            if pending:
                                connection.sendall(b"\n".join(pending) + b"\n")
                                pending = []
                            time.sleep(wait_s)
                    pending.append(line)
                    self.lines += 1
                    if len(pending) >= 200:
                        connection.sendall(b"\n".join(pending) + b"\n")
                        pending = []
                if pending:
                    connection.sendall(b"\n".join(pending) + b"\n")
                self.seconds = time.monotonic() - started
        except BaseException as err:  # reported by the caller
            self.error = err
        finally:
            self.server.close()


def _feed_tcp(settings: Settings, path: Path, speed: float) -> tuple[IngestCounts, float, str]:
    """`ingest_tcp` reading a paced TCP feed of the file: (counts, seconds, source name)."""
    source = "bench-tcp-feed"
    feed = PacedTcpFeed(path, speed)
    stop = threading.Event()
    result: list[IngestCounts] = []
    failure: list[BaseException] = []

    def ingest() -> None:
        try:
            result.append(
                ingest_tcp(
                    settings,
                    "127.0.0.1",
                    feed.port,
                    stop=stop,
                    source=source,
                    compression_type=None,
                )
            )
        except BaseException as err:  # reported below
            failure.append(err)

    # ingest_tcp logs each reconnect attempt after the feed closes; they are expected here.
    logging.getLogger("streams.ingest").setLevel(logging.ERROR)
    feed.start()
    ingester = threading.Thread(target=ingest, name="ingest-tcp", daemon=True)
    ingester.start()
    feed.join()
    # The last lines wait up to the flush interval (0.5 s) in ingest's batch.
    time.sleep(1.5)
    stop.set()
    ingester.join(60)
    if feed.error is not None:
        raise RuntimeError(f"the TCP feed failed: {feed.error!r}")
    if failure or not result:
        raise RuntimeError(f"ingest_tcp failed: {failure!r}")
    return result[0], feed.seconds, source


@dataclass(slots=True)
class LatencyRun:
    feed: str
    counts: IngestCounts
    ingest_s: float
    speed: float
    samples: list[LatencySample]
    undecided: int


def latency_run(
    latency_input: SimulatedInput,
    speed: float,
    workdir: Path,
    feed: str,
    profile_out: Path | None = None,
) -> LatencyRun:
    """One worker; the scenario fed at `speed` x real time by a paced file replay
    (`ingest_files(speed=...)`, ending with a final message) or a paced TCP feed
    (`ingest_tcp`); the alert latencies measured afterwards from the topics."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = latency_input.traffic
    with services(workdir) as (broker, redis_server):
        settings = run_settings(latency_input, broker, redis_server, f"latency-{feed}")
        ensure_topics(settings)
        started = [Worker(settings, workdir, "worker0")]
        recording: Recording | None = None
        try:
            # Let the worker start and join: the first alerts are two hours of event time
            # (a minute or so) away, and until then lines would only wait in the topic.
            time.sleep(6.0)
            if profile_out is not None:
                recording = Recording(started[0].process.pid, profile_out, 3600)
            if feed == "tcp":
                counts, ingest_s, source = _feed_tcp(settings, path, speed)
            else:
                ingest_started = time.monotonic()
                counts = ingest_files(settings, [path], speed=speed, compression_type=None)
                ingest_s = time.monotonic() - ingest_started
                source = file_source_name(path)
            index = raw_index(settings, counts)
            wait_until_done(settings, index, started, timeout_s=600.0)
            if recording is not None:
                recording.stop()
            names = topic_names(settings.kafka)
            raw_records = read_topic(settings, names.raw, counts.messages, timeout_s=120.0)
            alert_records = read_topic(settings, names.alerts, None, timeout_s=60.0)
        finally:
            for worker in started:
                worker.stop()
    samples, undecided = latency_samples(settings, raw_records, alert_records, source)
    return LatencyRun(feed, counts, ingest_s, speed, samples, undecided)


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50": _quantile(values, 0.5),
        "p90": _quantile(values, 0.9),
        "p99": _quantile(values, 0.99),
        "max": max(values),
        "min": min(values),
        "mean": statistics.fmean(values),
    }


FEED_LABELS = {"tcp": "TCP feed", "replay": "file replay"}


def measure_latency(
    latency_input: SimulatedInput,
    max_rate: float,
    workdir: Path,
    feeds: Sequence[str] = ("tcp", "replay"),
    profile_dir: Path | None = None,
) -> Section:
    section = Section("alert latency")
    info = latency_input.info
    span_s = float(info["hours"]) * 3600.0
    target_rate = max_rate / 2.0
    speed = target_rate / (int(info["lines"]) / span_s)
    section.details = {
        "input": str(latency_input.traffic),
        "input_info": info,
        "max_rate_lines_per_s": round(max_rate),
        "target_rate_lines_per_s": round(target_rate),
        "replay_speed_x_real_time": round(speed, 1),
    }
    for feed in feeds:
        run = latency_run(
            latency_input,
            speed,
            workdir / feed,
            feed,
            None if profile_dir is None else profile_dir / f"latency-worker-{feed}.raw",
        )
        label = FEED_LABELS[feed]
        achieved = rate(run.counts.lines, run.ingest_s)
        lines_per_message = run.counts.lines / max(1, run.counts.messages)
        by_tick = sorted(run.samples, key=lambda sample: sample.tick_s)
        third = max(1, len(by_tick) // 3)
        early = [sample.latency_s for sample in by_tick[:third]]
        late = [sample.latency_s for sample in by_tick[-third:]]
        for event, values in (
            ("opened", [x.latency_s for x in run.samples if x.event == "opened"]),
            ("every STS event", [x.latency_s for x in run.samples]),
        ):
            figures = _stats(values)
            if not values:
                section.rows.append(
                    Row(f"4. alert latency, {label} ({event})", "no samples", "-", None, "-", False)
                )
                continue
            section.rows.append(
                Row(
                    f"4. alert latency, {label} ({event}), p99",
                    f"{figures['p99']:.2f} s",
                    f"p50 {figures['p50']:.2f} s, p90 {figures['p90']:.2f} s, "
                    f"max {figures['max']:.2f} s",
                    None,
                    f"<= {LATENCY_TARGET_S:.0f} s",
                    figures["p99"] <= LATENCY_TARGET_S,
                    f"{len(values)} alerts at {fmt_rate(achieved)}",
                )
            )
            section.details[f"{feed}_{event.replace(' ', '_')}"] = figures
        section.details[feed] = {
            "lines": run.counts.lines,
            "raw_messages": run.counts.messages,
            "lines_per_raw_message": round(lines_per_message, 1),
            "ingest_s": round(run.ingest_s, 1),
            "achieved_lines_per_s": round(achieved),
            "p50_first_third_s": _quantile(early, 0.5),
            "p50_last_third_s": _quantile(late, 0.5),
            "decided_by_end_of_input": run.undecided,
            "samples": [dataclasses.asdict(sample) for sample in run.samples],
        }
        section.notes.append(
            f"{label}: {run.counts.lines:,} lines at {speed:.0f} x real time "
            f"({achieved:,.0f} lines/s, target {target_rate:,.0f} = half the one-worker rate) "
            f"in {run.counts.messages:,} raw messages ({lines_per_message:.0f} lines each); "
            f"{len(run.samples)} STS alert events measured ({run.undecided} decided only by the "
            f"end of the input); median latency {_quantile(early, 0.5):.2f} s over the first "
            f"third of them, {_quantile(late, 0.5):.2f} s over the last"
        )
        if run.samples and min(sample.latency_s for sample in run.samples) < 0:
            section.notes.append(f"{label}: a negative latency: the definition is wrong")
    return section
