"""Open any input file and merge several into one event-time ordered stream of records.

Formats are sniffed from the content, not the name: gzip and zip (first member) by their magic
bytes, then the first non-blank line: `{` starts JSON Lines, a header naming MMSI and
BaseDateTime a MarineCadastre CSV, anything else is NMEA (the NMEA decoder rejects lines it
cannot read one by one, so a wrong guess shows up as rejects, never as a crash).

Ordering: each file is assumed roughly time ordered with bounded disorder. Its records pass
through a reorder buffer that holds each record until a later record of the same file is at
least `reorder_window_s` newer, then files are merged with `heapq.merge`. Disorder beyond the
window cannot be repaired without reading whole files: such records pass through late (out
of order), are counted in `DecodeStats.out_of_order`, and the detector decides what lateness
it tolerates. The buffer's clock is the median time of the file's latest `CLOCK_RECORDS`
records, not the newest time seen: MarineCadastre files, for one, scatter single rows from the
end of the day among those of its first minutes, and such a row must not flush the buffer.

Rejects carry no event time; they are passed on as soon as they are read.
"""

from __future__ import annotations

import gzip
import heapq
import itertools
import math
import operator
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import IO

from detectors.errors import StswatchError
from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.jsonl import iter_json_lines
from stswatch.decoding.marinecadastre import is_marinecadastre_header, iter_marinecadastre
from stswatch.decoding.nmea import NmeaDecoder
from stswatch.decoding.stats import DecodeStats

DecodedItem = Position | StaticReport | Reject

# Lines handed to the NMEA decoder per call: large enough to amortise the call, small
# enough to keep memory flat.
NMEA_CHUNK_LINES = 2000
# How far into a file the format sniffer looks for its first non-blank line.
_SNIFF_BYTES = 64 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


class InputError(StswatchError):
    """An input file cannot be opened or read."""


class InputFormat(Enum):
    NMEA = "nmea"
    MARINECADASTRE = "marinecadastre"
    JSONL = "jsonl"


def _open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip or zip (sniffed by magic bytes)."""
    try:
        raw = path.open("rb")
    except OSError as err:
        raise InputError(f"cannot open {path}: {err.strerror or err}") from err
    magic = raw.read(4)
    raw.seek(0)
    if magic[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if magic == _ZIP_MAGIC:
        try:
            archive = zipfile.ZipFile(raw)
            members = [info for info in archive.infolist() if not info.is_dir()]
            if not members:
                raise InputError(f"{path}: zip archive is empty")
            return archive.open(members[0])
        except zipfile.BadZipFile as err:
            raise InputError(f"{path}: bad zip archive: {err}") from err
    return raw


def sniff_format(head: bytes) -> InputFormat:
    """The format of a file from its first bytes (already decompressed)."""
    for line in head.splitlines():
        text = line.strip().lstrip(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        if not text:
            continue
        if text[:1] == b"{":
            return InputFormat.JSONL
        if is_marinecadastre_header(text.decode("utf-8", "replace")):
            return InputFormat.MARINECADASTRE
        return InputFormat.NMEA
    return InputFormat.NMEA


_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile)
_BLOCK_BYTES = 1 << 20


def _read_some(stream: IO[bytes], size: int) -> bytes:
    # read1 returns what is there (at least one byte before the end): with it, a truncated
    # gzip file yields every byte before the damage instead of losing the last block.
    read1 = getattr(stream, "read1", None)
    return read1(size) if read1 is not None else stream.read(size)


def _read_head(stream: IO[bytes], errors: list[str]) -> bytes:
    """Up to _SNIFF_BYTES from the start; a read error is noted in `errors`."""
    parts: list[bytes] = []
    size = 0
    while size < _SNIFF_BYTES:
        try:
            block = _read_some(stream, _SNIFF_BYTES - size)
        except _READ_ERRORS as err:
            errors.append(f"{type(err).__name__}: {err}")
            break
        if not block:
            break
        parts.append(block)
        size += len(block)
    return b"".join(parts)


def detect_format(path: Path) -> InputFormat:
    """Sniff an input file's format (opens and reads its beginning)."""
    with _open_binary(path) as stream:
        return sniff_format(_read_head(stream, []))


def read_file(
    path: str | Path,
    assume_time_s: float | None = None,
    stats: DecodeStats | None = None,
    decoder: NmeaDecoder | None = None,
    source: str | None = None,
) -> Iterator[DecodedItem]:
    """Records and rejects of one file, in file order.

    `assume_time_s` is the time of NMEA lines that carry none (None rejects them as
    `no_time`). `decoder` lets callers share one NMEA decoder (and its stats) across files;
    `source` names the file in rejects and keeps decoder state apart (default: the path).
    A file that cannot be read to its end (a truncated gzip) ends with an
    `unreadable_file` reject after the records read so far.
    """
    path = Path(path)
    stats = stats if stats is not None else DecodeStats()
    source = source if source is not None else str(path)
    stream = _open_binary(path)
    errors: list[str] = []
    with stream:
        head = _read_head(stream, errors)
        fmt = sniff_format(head)
        rest = _chunks(stream, errors) if not errors else iter(())
        body = itertools.chain([head], rest) if head else iter(())
        lines = _split_lines(body)
        yield from _decode_lines(fmt, lines, source, assume_time_s, stats, decoder)
    if errors:
        stats.rejected["unreadable_file"] += 1
        yield Reject("unreadable_file", "", source, f"stopped reading: {errors[0]}")


def _decode_lines(
    fmt: InputFormat,
    lines: Iterator[bytes],
    source: str,
    assume_time_s: float | None,
    stats: DecodeStats,
    decoder: NmeaDecoder | None,
) -> Iterator[DecodedItem]:
    if fmt is InputFormat.NMEA:
        nmea = decoder if decoder is not None else NmeaDecoder(stats)
        while True:
            chunk = list(itertools.islice(lines, NMEA_CHUNK_LINES))
            if not chunk:
                break
            yield from nmea.decode_lines(chunk, source, assume_time_s)
        yield from nmea.forget(source)
        return
    text_lines = (line.decode("utf-8", "replace") for line in lines)
    if fmt is InputFormat.MARINECADASTRE:
        yield from iter_marinecadastre(text_lines, source, stats)
    else:
        yield from iter_json_lines(text_lines, source, stats)


def _chunks(stream: IO[bytes], errors: list[str]) -> Iterator[bytes]:
    """Blocks of the stream; a read error ends it and is noted in `errors`."""
    while True:
        try:
            block = _read_some(stream, _BLOCK_BYTES)
        except _READ_ERRORS as err:
            errors.append(f"{type(err).__name__}: {err}")
            return
        if not block:
            return
        yield block


def _split_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines (with their end) of a stream of byte blocks."""
    rest = b""
    for block in blocks:
        data = rest + block
        lines = data.splitlines(keepends=True)
        # The last piece of a block may be the start of a line that continues in the next.
        rest = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        yield from lines
    if rest:
        yield rest


# The reorder buffer's clock is the median time of this many latest records of a file,
# recomputed every CLOCK_EVERY records (sorting a few dozen floats now and then is cheaper
# than keeping them sorted on every record).
CLOCK_RECORDS = 63
CLOCK_EVERY = 16


def _reordered(
    items: Iterator[DecodedItem], reorder_window_s: float, stats: DecodeStats
) -> Iterator[tuple[float, int, DecodedItem]]:
    """(time, sequence, item) of one file, in time order within the window (see above).

    Held entries wait in buckets of one second of event time, found by a dict; a heap holds
    the buckets' seconds. They leave in (time, sequence) order, exactly as from one heap
    holding everything: a bucket is sorted when it leaves (or when the release time falls
    inside its second), and the buckets leave in time order. The queue of in-order entries
    and heap of late ones this replaced cost 0.88-0.95 us a record on the simulated `large`
    traffic, where 29 % of the records arrive behind a newer one; the buckets cost 0.61-0.69.
    """
    buckets: dict[int, list[tuple[float, int, DecodedItem]]] = {}
    seconds: list[int] = []
    push = heapq.heappush
    pop = heapq.heappop
    recent: deque[float] = deque(maxlen=CLOCK_RECORDS)
    release_s = float("-inf")
    emitted_s = float("-inf")
    # The oldest bucket is sorted again only when it has grown since it was last sorted.
    sorted_second, sorted_length = -1, 0
    # A last (0, None) marks the end of the input, where everything held is due.
    ended: list[tuple[int, DecodedItem | None]] = [(0, None)]
    for sequence, item in itertools.chain(enumerate(items, 1), ended):
        if item is None:
            release_s = math.inf
        elif type(item) is Reject:
            # Rejects have no time and are passed on at once, keyed with the newest time
            # passed on so far (a file of nothing but rejects must not pile up here).
            yield (emitted_s, sequence, item)
            continue
        else:
            time_s: float = item.time_s  # type: ignore[union-attr]
            second = int(time_s)  # the floor: event times are positive (MIN_TIME_S)
            bucket = buckets.get(second)
            if bucket is None:
                buckets[second] = [(time_s, sequence, item)]
                push(seconds, second)
            else:
                bucket.append((time_s, sequence, item))
            recent.append(time_s)
            if sequence % CLOCK_EVERY == 0 or sequence < CLOCK_EVERY:
                release_s = sorted(recent)[(len(recent) - 1) // 2] - reorder_window_s
        while seconds and seconds[0] <= release_s:
            second = seconds[0]
            bucket = buckets[second]
            if second + 1 <= release_s:
                # The whole second is due.
                pop(seconds)
                del buckets[second]
                bucket.sort()
                leaving, bucket = bucket, []
                if second == sorted_second:
                    sorted_second = -1
            else:
                # The release time falls inside this second: only its first entries go.
                if second != sorted_second or len(bucket) != sorted_length:
                    bucket.sort()
                due = 0
                for entry in bucket:
                    if entry[0] > release_s:
                        break
                    due += 1
                leaving = bucket[:due]
                del bucket[:due]
                if bucket:
                    sorted_second, sorted_length = second, len(bucket)
                else:
                    pop(seconds)
                    del buckets[second]
                    sorted_second = -1
            for entry in leaving:
                if entry[0] < emitted_s:
                    stats.out_of_order += 1
                else:
                    emitted_s = entry[0]
                yield entry
            if bucket:
                break  # the rest of this second is not due yet


def read_inputs(
    paths: Sequence[str | Path],
    assume_time_s: float | None = None,
    reorder_window_s: float = 600.0,
    stats: DecodeStats | None = None,
) -> Iterator[DecodedItem]:
    """Records and rejects of several files of any formats, merged in event-time order.

    Every path is opened first, so a missing or unreadable file is an InputError before any
    record is produced. Counts go to `stats` (shared by all files).
    """
    stats = stats if stats is not None else DecodeStats()
    resolved = [Path(path) for path in paths]
    for path in resolved:
        detect_format(path)  # fail early, before a long run, on a missing or bad file
    decoder = NmeaDecoder(stats)
    sources = _unique_sources(resolved)
    streams = [
        _reordered(read_file(path, assume_time_s, stats, decoder, source), reorder_window_s, stats)
        for path, source in zip(resolved, sources, strict=True)
    ]
    if len(streams) == 1:
        for entry in streams[0]:
            yield entry[2]
        return
    # Sort by time only; ties keep the order of the files given.
    for entry in heapq.merge(*streams, key=operator.itemgetter(0)):
        yield entry[2]


def _unique_sources(paths: Sequence[Path]) -> list[str]:
    """Source names of the paths; a path given twice gets `#2`, `#3`, ... appended."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        name = str(path)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names


__all__ = [
    "DecodedItem",
    "InputError",
    "InputFormat",
    "detect_format",
    "read_file",
    "read_inputs",
    "sniff_format",
]
