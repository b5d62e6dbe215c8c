"""Ingest: raw AIS lines from files, a TCP feed or UDP datagrams into the raw topic.

Lines are batched per source into raw messages (`streams.raw`, at most
`stream.raw_batch_max_lines` lines each) and sent with a kafka-python producer (acks=all,
idempotent, gzip, linger): the message key is the source name, so all lines of a source stay
on one partition, in input order.

Sources:
- files (NMEA text; gzip or zip or plain), replayed as fast as possible, or at N x real time
  by event time (`speed`): a line's event time comes from an injected `time_of_line` function
  (by default `stswatch.decoding.nmea.line_time_s`: tag block, appended epoch, `$PGHP`);
  lines without a time are sent right after the lines before them. The last message of each
  file has `final: true`. Several files are replayed together, merged by event time (each
  stays its own source, its lines in their own order), as `stswatch detect` merges them and
  as live receivers would have sent them: one after another, a worker would have moved past
  the first file's hours before the second began, and dropped all of it as late. Decoded
  files (MarineCadastre CSV, JSON Lines, sniffed from the content as `stswatch detect` does)
  are refused with a clear message: the raw topic carries raw lines only, and decoding them
  twice would gain nothing; `stswatch detect` reads them.
- a TCP NMEA feed (this is the client; it reconnects with exponential backoff and drops only
  the incomplete line the connection broke in);
- UDP datagrams (one or more lines each), the way local receivers such as AIS-catcher forward.

Event time: lines from TCP and UDP that carry no time of their own get an NMEA 4.0 tag block
`\\c:UNIXSECONDS*hh\\` with the receive time (`streams.raw.with_receive_time`). That is the only
place stswatch reads the wall clock for an event time; file lines are never stamped.

Every source stops when `stop` is set (the command sets it on Ctrl-C and SIGTERM): pending
lines are sent, the producer is flushed, and the counts are returned.
"""

from __future__ import annotations

import gzip
import heapq
import io
import itertools
import logging
import math
import operator
import os
import socket
import threading
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from config.settings import Settings
from detectors.errors import StswatchError
from streams.kafka_clients import connect, producer_kwargs
from streams.raw import encode_raw, with_receive_time
from streams.topics import ensure_topics, topic_names
from stswatch.decoding.checks import MAX_TIME_S, MIN_TIME_S
from stswatch.decoding.inputs import InputError, InputFormat, detect_format
from stswatch.decoding.nmea import line_time_s

log = logging.getLogger(__name__)

TimeOfLine = Callable[[str], float | None]

# Kafka's default max.message.bytes is 1 MiB; stay well below it whatever the line count.
DEFAULT_MAX_BATCH_BYTES = 512 * 1024
# A live batch is sent at the latest this long after its first line arrived.
DEFAULT_FLUSH_INTERVAL_S = 0.5
# A replayed batch spans at most this much event time: 500 lines of a quiet station span
# hours, and the worker reads a whole batch of one file before the next of another, so a
# batch wider than the allowed lateness would make the other files' positions late.
DEFAULT_MAX_BATCH_SPAN_S = 60.0
# Paced replay sleeps only when it is this far ahead: shorter waits cost more than they pace.
_MIN_PACING_SLEEP_S = 0.02
# A TCP line longer than this without a newline is junk; it is dropped.
_MAX_LINE_BYTES = 64 * 1024
# How often blocking socket reads come back to check `stop` and flush.
_POLL_S = 0.1
# Files replayed together are merged by event time, each line keyed by the median time of
# the lines around it (this many before and after): one corrupt time does not send the rest
# of a file to the end, and a file's clock does not lag (a lag in lines is hours of a quiet
# station's time, and its lines would go out that far ahead of the other files').
_CLOCK_REACH = 4


class IngestError(StswatchError):
    """An input cannot be ingested, or messages could not be delivered."""


@dataclass
class IngestCounts:
    """What an ingest run sent."""

    lines: int = 0
    messages: int = 0
    bytes: int = 0  # raw message values, before Kafka compression
    elapsed_s: float = 0.0
    # Sources whose final message was sent.
    finished_sources: list[str] = field(default_factory=list)

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.lines} lines in {self.messages} messages, {self.bytes} bytes, "
            f"{self.elapsed_s:.1f} s, {self.lines_per_s:.0f} lines/s"
        )


class RawSink(Protocol):
    """Where encoded raw messages go: `send(source, value)`."""

    def send(self, source: str, value: bytes) -> None: ...


class KafkaRawSink:
    """Sends raw messages to the raw topic, keyed by source; remembers delivery failures."""

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self._producer = producer
        self.topic = topic
        self.failures = 0
        self.first_failure = ""
        self._lock = threading.Lock()

    def send(self, source: str, value: bytes) -> None:
        try:
            future = self._producer.send(self.topic, key=source.encode("utf-8"), value=value)
        except KafkaError as err:
            # The send buffer stayed full for max_block_ms: the broker is not taking messages.
            raise IngestError(f"cannot send to {self.topic}: {type(err).__name__}: {err}") from None
        future.add_errback(self._failed)

    def _failed(self, err: BaseException) -> None:
        with self._lock:
            self.failures += 1
            if not self.first_failure:
                self.first_failure = f"{type(err).__name__}: {err}"

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every message is acknowledged; raise `IngestError` if any was not."""
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as err:
            raise IngestError(f"messages still unsent after {timeout_s} s: {err}") from None
        if self.failures:
            raise IngestError(
                f"{self.failures} raw messages were not delivered to {self.topic} "
                f"(first: {self.first_failure})"
            )


@contextmanager
def raw_sink(
    settings: Settings,
    *,
    create_topics: bool = True,
    compression_type: str | None = "gzip",
    linger_ms: int = 20,
    close_timeout_s: float = 60.0,
) -> Iterator[KafkaRawSink]:
    """A producer on the raw topic; on exit every message is flushed and checked."""
    kafka = settings.kafka
    if create_topics:
        ensure_topics(settings)
    kwargs = producer_kwargs(
        kafka, client_id="stswatch-ingest", compression_type=compression_type, linger_ms=linger_ms
    )
    producer = connect(kafka, KafkaProducer, **kwargs)
    sink = KafkaRawSink(producer, topic_names(kafka).raw)
    try:
        yield sink
        sink.flush(close_timeout_s)
    finally:
        producer.close(timeout=close_timeout_s)


class SourceBatcher:
    """Collects the lines of one source into raw messages of bounded size."""

    def __init__(
        self,
        source: str,
        sink: RawSink,
        counts: IngestCounts,
        *,
        max_lines: int,
        max_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        max_span_s: float = DEFAULT_MAX_BATCH_SPAN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_lines < 1:
            raise IngestError(f"batch size must be at least 1 line (got {max_lines})")
        self.source = source
        self._sink = sink
        self._counts = counts
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self._clock = clock
        self._max_span_s = max_span_s
        self._lines: list[str] = []
        self._bytes = 0
        self._first_added = 0.0
        self._first_time_s: float | None = None

    @property
    def pending(self) -> int:
        return len(self._lines)

    def add(self, line: str, time_s: float | None = None) -> None:
        """Add a line; `time_s`, its event time when known (replays), keeps a batch within
        `max_span_s` of event time."""
        size = len(line) + 4  # quotes, comma and a little JSON escaping
        if self._lines and self._bytes + size > self._max_bytes:
            self.flush()
        if time_s is not None:
            first_s = self._first_time_s
            if first_s is None:
                self._first_time_s = time_s
            elif time_s - first_s > self._max_span_s:
                self.flush()
                self._first_time_s = time_s
        if not self._lines:
            self._first_added = self._clock()
        self._lines.append(line)
        self._bytes += size
        if len(self._lines) >= self._max_lines:
            self.flush()

    def flush_if_older_than(self, age_s: float) -> None:
        """Send the pending lines when the oldest has waited `age_s` (live sources)."""
        if self._lines and self._clock() - self._first_added >= age_s:
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        """Send the pending lines; with `final`, send a (possibly empty) final message."""
        if not self._lines and not final:
            return
        value = encode_raw(self.source, self._lines, final=final)
        self._sink.send(self.source, value)
        self._counts.lines += len(self._lines)
        self._counts.messages += 1
        self._counts.bytes += len(value)
        if final:
            self._counts.finished_sources.append(self.source)
        self._lines = []
        self._bytes = 0
        self._first_time_s = None


class Pacer:
    """Maps event times to wall-clock send times at `speed` x real time.

    The first line with a time anchors the replay; a later line with time t is due
    `(t - t0) / speed` seconds after the anchor. Lines whose time is earlier than due
    (out of order, or the replay fell behind) are sent at once: pacing never reorders.
    """

    def __init__(self, speed: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise IngestError(f"--speed must be positive (got {speed})")
        self.speed = speed
        self._clock = clock
        self._anchor: tuple[float, float] | None = None

    def delay_s(self, event_time_s: float) -> float:
        """Seconds to wait before sending a line with this event time (0 when due)."""
        now = self._clock()
        if self._anchor is None:
            self._anchor = (event_time_s, now)
            return 0.0
        event_0, wall_0 = self._anchor
        due = wall_0 + (event_time_s - event_0) / self.speed
        return max(0.0, due - now)


def replay_lines(
    lines: Iterable[str],
    batcher: SourceBatcher,
    *,
    speed: float | None = None,
    time_of_line: TimeOfLine = line_time_s,
    stop: threading.Event | None = None,
    final: bool = True,
) -> bool:
    """Send `lines` (blank ones skipped) through `batcher`, paced when `speed` is given.

    Returns True when the input was sent to its end (then, with `final`, the last message is
    marked final), False when `stop` interrupted it (pending lines are still sent).
    """
    items: Iterable[ReplayItem] = ((batcher, line, None) for line in lines)
    if final:
        items = itertools.chain(items, [(batcher, None, None)])
    return _replay(items, [batcher], speed=speed, time_of_line=time_of_line, stop=stop)


# What `_replay` sends: a line of a source (None: the source has ended) and its event time
# when the caller has read it (see `_replay`'s `times_given`).
ReplayItem = tuple[SourceBatcher, str | None, float | None]


def _replay(
    items: Iterable[ReplayItem],
    batchers: Sequence[SourceBatcher],
    *,
    speed: float | None,
    time_of_line: TimeOfLine,
    stop: threading.Event | None,
    times_given: bool = False,
) -> bool:
    """Send each line in order, paced when `speed` is given; a line None ends its batcher's
    source (a final message). Returns False when `stop` interrupted it.

    With `times_given`, the items carry their lines' event times (None: no valid time), and
    batches are kept within a span of event time (`SourceBatcher`); without, the times are
    read here only to pace."""
    pacer = Pacer(speed) if speed is not None else None
    stop = stop or threading.Event()
    for batcher, raw_line, given_time_s in items:
        if stop.is_set():
            for pending in batchers:
                pending.flush()
            return False
        if raw_line is None:
            batcher.flush(final=True)
            continue
        line = raw_line.strip()
        if not line:
            continue
        event_time_s = given_time_s
        if pacer is not None:
            if not times_given:
                event_time_s = _valid_time(time_of_line(line))
            if event_time_s is not None:
                wait_s = pacer.delay_s(event_time_s)
                if wait_s >= _MIN_PACING_SLEEP_S:
                    # Lines before this one are due now: send them before waiting.
                    for pending in batchers:
                        pending.flush()
                    if stop.wait(wait_s):
                        return False
        batcher.add(line, event_time_s if times_given else None)
    for pending in batchers:
        pending.flush()
    return True


def _valid_time(time_s: float | None) -> float | None:
    """A line's time, or None when corrupt (NaN, inf, year 3000: the decoder rejects the
    line): it must not pace a replay (it would stall it for years or crash the wait) nor
    cut or merge batches."""
    if time_s is not None and MIN_TIME_S <= time_s < MAX_TIME_S:
        return time_s
    return None


def _clocked_lines(
    handle: Iterable[str], batcher: SourceBatcher, time_of_line: TimeOfLine
) -> Iterator[tuple[float, ReplayItem]]:
    """(key, (batcher, line, time)) for each non-blank line of a file, then (key, (batcher,
    None, None)) at its end. The key is the median event time of the timed lines among the
    line and the `_CLOCK_REACH` lines on each side; near the start and end of the file, as
    many on each side as both sides have (at the start, no later than the median of all in
    reach: a corrupt first time must not hold the file back). The last key when none is
    timed."""
    reach = _CLOCK_REACH
    before: deque[float | None] = deque(maxlen=reach)
    lines_ahead: deque[str] = deque()
    times_ahead: deque[float | None] = deque()
    key_s = -math.inf

    def median(times: Iterable[float | None]) -> float | None:
        known = sorted(t for t in times if t is not None)
        return known[(len(known) - 1) // 2] if known else None

    def next_key() -> float:
        after = list(itertools.islice(times_ahead, 1, reach + 1))
        if len(before) == reach and len(after) == reach:
            window = [*before, times_ahead[0], *after]
            if None not in window:  # nearly always: a sort of nine numbers
                window.sort()
                return window[reach]  # type: ignore[return-value]
            found = median(window)
        else:
            side = min(len(before), len(after))
            found = median([*list(before)[len(before) - side :], times_ahead[0], *after[:side]])
            if len(before) < reach and found is not None:
                everything = median([*before, times_ahead[0], *after])
                found = found if everything is None else min(found, everything)
        return key_s if found is None else found

    for raw_line in handle:
        line = raw_line.strip()
        if not line:
            continue
        lines_ahead.append(line)
        times_ahead.append(_valid_time(time_of_line(line)))
        if len(lines_ahead) > reach:
            key_s = next_key()
            time_s = times_ahead.popleft()
            before.append(time_s)
            yield key_s, (batcher, lines_ahead.popleft(), time_s)
    while lines_ahead:
        key_s = next_key()
        time_s = times_ahead.popleft()
        before.append(time_s)
        yield key_s, (batcher, lines_ahead.popleft(), time_s)
    yield key_s, (batcher, None, None)


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    """The file as text: gzip and zip (first member) are recognised by their magic bytes."""
    with ExitStack() as stack:
        raw = stack.enter_context(path.open("rb"))
        magic = raw.read(4)
        raw.seek(0)
        binary: IO[bytes] = raw
        if magic[:2] == b"\x1f\x8b":
            binary = stack.enter_context(gzip.GzipFile(fileobj=raw))  # type: ignore[arg-type]
        elif magic == b"PK\x03\x04":
            archive = stack.enter_context(zipfile.ZipFile(raw))
            members = [info for info in archive.infolist() if not info.is_dir()]
            if not members:
                raise IngestError(f"{path}: zip archive is empty")
            binary = stack.enter_context(archive.open(members[0]))
        # errors="replace": a junk byte becomes U+FFFD, so the line still travels (and is
        # dead-lettered by the decoder) instead of stopping the replay.
        yield stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8", errors="replace"))


def _refuse_decoded(path: Path) -> None:
    """Decoded files (MarineCadastre CSV, JSON Lines) are not raw lines: say where they go.

    The format is sniffed from the content exactly as `stswatch detect` does, so the two
    commands agree on what a file is.
    """
    try:
        found = detect_format(path)
    except InputError as err:
        raise IngestError(str(err)) from None
    if found is not InputFormat.NMEA:
        raise IngestError(
            f"{path} is {found.value} (decoded records): ingest replays raw NMEA lines only; "
            "use `stswatch detect` for decoded files"
        )


def file_source_name(path: Path) -> str:
    """The default source name of a file: its name without directories."""
    return path.name


def check_inputs(paths: Sequence[Path], sources: Sequence[str] | None = None) -> list[str]:
    """The source name of each file, after checking the files exist and are raw lines."""
    names = list(sources) if sources is not None else [file_source_name(p) for p in paths]
    if len(names) != len(paths):
        raise IngestError("give one source name per file")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise IngestError(f"inputs share a source name: {', '.join(repeated)}; give each once")
    for path in paths:
        if not path.is_file():
            raise IngestError(f"input file not found: {path}")
        _refuse_decoded(path)
    return names


def replay_files(
    paths: Sequence[Path],
    sink: RawSink,
    *,
    max_lines: int,
    sources: Sequence[str] | None = None,
    speed: float | None = None,
    time_of_line: TimeOfLine = line_time_s,
    stop: threading.Event | None = None,
) -> IngestCounts:
    """Replay files together, each as its own source ending with a final message, merged by
    event time (see the module's docstring)."""
    names = check_inputs(paths, sources)
    counts = IngestCounts()
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            handles = [stack.enter_context(_open_text(path)) for path in paths]
            batchers = [
                SourceBatcher(source, sink, counts, max_lines=max_lines) for source in names
            ]
            items: Iterable[ReplayItem]
            if len(handles) == 1:
                # One file has nothing to merge with: no event times to read unless paced.
                (handle,), (batcher,) = handles, batchers
                items = itertools.chain(
                    ((batcher, line, None) for line in handle), [(batcher, None, None)]
                )
            else:
                merged = heapq.merge(
                    *(
                        _clocked_lines(handle, batcher, time_of_line)
                        for handle, batcher in zip(handles, batchers, strict=True)
                    ),
                    key=operator.itemgetter(0),
                )
                items = (item for _, item in merged)
            _replay(
                items,
                batchers,
                times_given=len(handles) > 1,
                speed=speed,
                time_of_line=time_of_line,
                stop=stop,
            )
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as err:
        raise IngestError(f"cannot read input: {err}") from None
    finally:
        counts.elapsed_s = time.monotonic() - started
    return counts


def parse_host_port(text: str, what: str) -> tuple[str, int]:
    """`"HOST:PORT"` (IPv6 as `[::1]:PORT`) as a pair; `what` names the option in errors."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise IngestError(f"{what}: expected HOST:PORT, got {text!r}")
    return host, int(port)


class _LineSplitter:
    """Bytes in, complete stripped non-blank lines out; keeps the unfinished tail."""

    def __init__(self) -> None:
        self._tail = b""
        self.dropped_bytes = 0

    def feed(self, data: bytes) -> list[str]:
        buffer = self._tail + data
        parts = buffer.split(b"\n")
        self._tail = parts.pop()
        if len(self._tail) > _MAX_LINE_BYTES:
            self.dropped_bytes += len(self._tail)
            self._tail = b""
        lines = []
        for part in parts:
            text = part.decode("utf-8", errors="replace").strip()
            if text:
                lines.append(text)
        return lines

    def reset(self) -> int:
        """Forget an unfinished line (its connection broke); returns its length."""
        lost = len(self._tail)
        self._tail = b""
        return lost


def stream_tcp(
    host: str,
    port: int,
    batcher: SourceBatcher,
    *,
    stop: threading.Event,
    wall_clock: Callable[[], float] = time.time,
    flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
    connect_timeout_s: float = 10.0,
    backoff_initial_s: float = 0.5,
    backoff_max_s: float = 30.0,
) -> None:
    """Read NMEA lines from a TCP server until `stop`, reconnecting with backoff.

    A connection that breaks loses only its unfinished last line. The backoff doubles after
    each failed attempt up to `backoff_max_s` and starts again after a connection that
    delivered lines.
    """
    backoff_s = backoff_initial_s
    splitter = _LineSplitter()
    while not stop.is_set():
        got_lines = False
        try:
            with socket.create_connection((host, port), timeout=connect_timeout_s) as sock:
                log.info("connected to %s:%d", host, port)
                sock.settimeout(_POLL_S)
                while not stop.is_set():
                    try:
                        data = sock.recv(65536)
                    except TimeoutError:
                        batcher.flush_if_older_than(flush_interval_s)
                        continue
                    if not data:
                        log.warning("%s:%d closed the connection", host, port)
                        break
                    received_s = wall_clock()
                    for line in splitter.feed(data):
                        batcher.add(with_receive_time(line, received_s))
                        got_lines = True
                    batcher.flush_if_older_than(flush_interval_s)
        except OSError as err:
            log.warning("TCP feed %s:%d: %s", host, port, err)
        lost = splitter.reset()
        if lost:
            log.warning("dropped an unfinished line of %d bytes after the disconnect", lost)
        batcher.flush()
        if got_lines:
            backoff_s = backoff_initial_s
        if stop.is_set():
            break
        log.info("reconnecting to %s:%d in %.1f s", host, port, backoff_s)
        if stop.wait(backoff_s):
            break
        backoff_s = min(backoff_max_s, backoff_s * 2)


def stream_udp(
    host: str,
    port: int,
    batcher: SourceBatcher,
    *,
    stop: threading.Event,
    wall_clock: Callable[[], float] = time.time,
    flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
    ready: threading.Event | None = None,
) -> None:
    """Receive NMEA datagrams on HOST:PORT until `stop`; each may hold several lines.

    `ready` is set once the socket is bound (tests and `stswatch up` wait for it).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # A receiver may send bursts: a large buffer avoids kernel drops while we batch.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        try:
            sock.bind((host, port))
        except OSError as err:
            raise IngestError(f"--udp {host}:{port}: cannot listen: {err}") from None
        sock.settimeout(_POLL_S)
        if ready is not None:
            ready.set()
        log.info("listening for UDP on %s:%d", host, port)
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                batcher.flush_if_older_than(flush_interval_s)
                continue
            received_s = wall_clock()
            # A datagram is complete: its last line needs no newline.
            for part in data.split(b"\n"):
                line = part.decode("utf-8", errors="replace").strip()
                if line:
                    batcher.add(with_receive_time(line, received_s))
            batcher.flush_if_older_than(flush_interval_s)
        batcher.flush()


def ingest_files(
    settings: Settings,
    paths: Sequence[str | os.PathLike[str]],
    *,
    sources: Sequence[str] | None = None,
    speed: float | None = None,
    time_of_line: TimeOfLine = line_time_s,
    stop: threading.Event | None = None,
    create_topics: bool = True,
    compression_type: str | None = "gzip",
) -> IngestCounts:
    """Replay files to the raw topic (see `replay_files`); returns the counts."""
    files = [Path(p) for p in paths]
    check_inputs(files, sources)  # before connecting: a typo should not wait for a broker
    with raw_sink(settings, create_topics=create_topics, compression_type=compression_type) as sink:
        counts = replay_files(
            files,
            sink,
            max_lines=settings.stream.raw_batch_max_lines,
            sources=sources,
            speed=speed,
            time_of_line=time_of_line,
            stop=stop,
        )
    return counts


def ingest_lines(
    settings: Settings,
    source: str,
    lines: Iterable[str],
    *,
    speed: float | None = None,
    time_of_line: TimeOfLine = line_time_s,
    stop: threading.Event | None = None,
    create_topics: bool = True,
    compression_type: str | None = "gzip",
) -> IngestCounts:
    """Send an in-memory finite input (a simulated scenario) as one source, ending final."""
    counts = IngestCounts()
    started = time.monotonic()
    with raw_sink(settings, create_topics=create_topics, compression_type=compression_type) as sink:
        batcher = SourceBatcher(source, sink, counts, max_lines=settings.stream.raw_batch_max_lines)
        replay_lines(lines, batcher, speed=speed, time_of_line=time_of_line, stop=stop)
    counts.elapsed_s = time.monotonic() - started
    return counts


def ingest_tcp(
    settings: Settings,
    host: str,
    port: int,
    *,
    stop: threading.Event,
    source: str | None = None,
    create_topics: bool = True,
    compression_type: str | None = "gzip",
    backoff_max_s: float = 30.0,
) -> IngestCounts:
    """Forward a TCP NMEA feed to the raw topic until `stop` is set."""
    counts = IngestCounts()
    started = time.monotonic()
    with raw_sink(settings, create_topics=create_topics, compression_type=compression_type) as sink:
        batcher = SourceBatcher(
            source or f"tcp:{host}:{port}",
            sink,
            counts,
            max_lines=settings.stream.raw_batch_max_lines,
        )
        stream_tcp(host, port, batcher, stop=stop, backoff_max_s=backoff_max_s)
    counts.elapsed_s = time.monotonic() - started
    return counts


def ingest_udp(
    settings: Settings,
    host: str,
    port: int,
    *,
    stop: threading.Event,
    source: str | None = None,
    create_topics: bool = True,
    compression_type: str | None = "gzip",
    ready: threading.Event | None = None,
) -> IngestCounts:
    """Forward NMEA datagrams received on HOST:PORT to the raw topic until `stop` is set."""
    counts = IngestCounts()
    started = time.monotonic()
    with raw_sink(settings, create_topics=create_topics, compression_type=compression_type) as sink:
        batcher = SourceBatcher(
            source or f"udp:{host}:{port}",
            sink,
            counts,
            max_lines=settings.stream.raw_batch_max_lines,
        )
        stream_udp(host, port, batcher, stop=stop, ready=ready)
    counts.elapsed_s = time.monotonic() - started
    return counts
