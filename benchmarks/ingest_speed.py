"""How fast `stswatch ingest` moves a large NMEA file into the raw topic.

    python benchmarks/ingest_speed.py [--lines 500000] [--batch-lines 100 500 2000]
                                      [--compression gzip none] [--bootstrap-servers HOST:PORT]

Builds a file by repeating the real NMEA lines in ../shared/data/nmea (tag blocks, appended
epochs, $PGHP lines, junk: what ingest really sees), starts an embedded tansu broker unless
`--bootstrap-servers` is given, and replays the file as fast as possible once per batch size
and codec, each run into fresh topics. Also times reading and batching without Kafka, to show
what the broker round-trip costs. Prints one line per run.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from config import settings as settings_module  # noqa: E402
from config.settings import Settings  # noqa: E402
from streams.ingest import IngestCounts, ingest_files, replay_files  # noqa: E402
from streams.services import EmbeddedBroker  # noqa: E402

NMEA_DIR = PROJECT.parent / "shared" / "data" / "nmea"


def sample_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(NMEA_DIR.iterdir()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            lines.extend(line.strip() for line in handle if line.strip())
    if not lines:
        raise SystemExit(f"no NMEA lines found in {NMEA_DIR}")
    return lines


def write_big_file(path: Path, count: int) -> int:
    source = sample_lines()
    with path.open("w", encoding="utf-8") as out:
        for line in itertools.islice(itertools.cycle(source), count):
            out.write(line + "\n")
    return path.stat().st_size


class NullSink:
    """Counts messages without sending: the cost of reading and batching alone."""

    def send(self, source: str, value: bytes) -> None:
        pass


def fresh_settings(base: Settings, bootstrap: str, batch_lines: int) -> Settings:
    kafka = dataclasses.replace(
        base.kafka, bootstrap_servers=bootstrap, topic_prefix=f"bench-{uuid.uuid4().hex[:8]}."
    )
    stream = dataclasses.replace(base.stream, raw_batch_max_lines=batch_lines)
    return dataclasses.replace(base, kafka=kafka, stream=stream)


def report(label: str, counts: IngestCounts, wall_s: float, size_bytes: int) -> None:
    print(
        f"{label:<32} {counts.lines:>9} lines {counts.messages:>6} msgs "
        f"{wall_s:7.2f} s  {counts.lines / wall_s:>9.0f} lines/s  "
        f"{size_bytes / wall_s / 1e6:6.1f} MB/s in",
        flush=True,
    )


def run(args: argparse.Namespace, bootstrap: str, path: Path, size_bytes: int) -> None:
    base = settings_module.load()
    for batch_lines in args.batch_lines:
        started = time.monotonic()
        counts = replay_files([path], NullSink(), max_lines=batch_lines)
        report(f"no Kafka, batch {batch_lines}", counts, time.monotonic() - started, size_bytes)
    for compression in args.compression:
        for batch_lines in args.batch_lines:
            settings = fresh_settings(base, bootstrap, batch_lines)
            codec = None if compression == "none" else compression
            started = time.monotonic()
            # The wall time includes topic creation, connecting and the final flush (acks=all).
            counts = ingest_files(settings, [path], compression_type=codec)
            wall_s = time.monotonic() - started
            report(f"tansu, {compression}, batch {batch_lines}", counts, wall_s, size_bytes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--batch-lines", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--compression", nargs="+", default=["gzip", "none"])
    parser.add_argument("--bootstrap-servers", help="use this broker instead of embedded tansu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as folder:
        path = Path(folder) / "big.nmea"
        size_bytes = write_big_file(path, args.lines)
        print(f"input: {args.lines} lines, {size_bytes / 1e6:.1f} MB, from {NMEA_DIR}")
        if args.bootstrap_servers:
            run(args, args.bootstrap_servers, path, size_bytes)
        else:
            with EmbeddedBroker(Path(folder) / "logs") as broker:
                print(f"broker: embedded tansu at {broker.bootstrap_servers}")
                run(args, broker.bootstrap_servers, path, size_bytes)


if __name__ == "__main__":
    main()
