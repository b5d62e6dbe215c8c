"""Decoding speed: stswatch's NMEA decoder against bare pyais, in lines per second.

    python benchmarks/decode_speed.py [--repeat N] [FILE ...]

Without FILE it reads the satellite and Kystverket recordings of ../shared/data/nmea (and
skips cleanly, exit status 0, when that folder is absent). For each file it prints:

- `pyais decode`: `pyais.decode(line, error_if_checksum_invalid=True)` per line, errors caught;
- `pyais produce`: `NMEASentenceFactory.produce(line).decode()` per line, errors caught;
- `stswatch`: `NmeaDecoder.decode_lines` over chunks of 1,000 lines (checksums, times,
  reassembly, validation, records), and its speed relative to `pyais decode`.

pyais reads the checksum from the last comma-separated field, so for it the epoch appended
after the checksum (satellite files) is cut off beforehand, outside the timing; stswatch gets
the lines exactly as stored. Every run is repeated and the best time is kept, because the
machine may be shared.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pyais import decode
from pyais.messages import NMEASentenceFactory

from stswatch.decoding.nmea import NmeaDecoder

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nmea"
DEFAULT_FILES = (
    "amsa_exactearth_sat_2012-02-02.nmea",
    "amsa_exactearth_sat_2012-01-31.nmea",
    "kystverket_tagblock_2019-08-07_1000lines.nm4",
)
CHUNK_LINES = 1000


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.splitlines(keepends=True)


def without_appended_epoch(line: bytes) -> bytes:
    """`!AIVDM,...,0*22,1328133720087` -> `!AIVDM,...,0*22` (pyais cannot read the former)."""
    stripped = line.strip()
    star = stripped.rfind(b"*")
    comma = stripped.find(b",", star) if star >= 0 else -1
    return stripped[:comma] if comma >= 0 else stripped


def best_seconds(runs: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Best time of each run; the runs take turns so that a busy spell hurts all alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for index, run in enumerate(runs):
            start = time.process_time()
            run()
            best[index] = min(best[index], time.process_time() - start)
    return best


def pyais_decode(lines: Sequence[bytes]) -> int:
    decoded = 0
    for line in lines:
        try:
            decode(line, error_if_checksum_invalid=True)
            decoded += 1
        except Exception:  # counting failures is the point
            continue
    return decoded


def pyais_produce(lines: Sequence[bytes]) -> int:
    decoded = 0
    for line in lines:
        try:
            NMEASentenceFactory.produce(line).decode()
            decoded += 1
        except Exception:  # as above
            continue
    return decoded


def stswatch_decode(lines: Sequence[bytes]) -> int:
    decoder = NmeaDecoder()
    produced = 0
    for start in range(0, len(lines), CHUNK_LINES):
        produced += len(decoder.decode_lines(lines[start : start + CHUNK_LINES], "bench"))
    return produced + len(decoder.flush())


def bench_file(path: Path, repeat: int) -> None:
    lines = read_lines(path)
    cleaned = [without_appended_epoch(line) for line in lines]
    count = len(lines)
    pyais_s, produce_s, ours_s = best_seconds(
        [
            lambda: pyais_decode(cleaned),
            lambda: pyais_produce(cleaned),
            lambda: stswatch_decode(lines),
        ],
        repeat,
    )
    print(f"{path.name} ({count:,} lines)")
    print(f"  pyais decode   {count / pyais_s:>10,.0f} lines/s")
    print(f"  pyais produce  {count / produce_s:>10,.0f} lines/s")
    ratio = pyais_s / ours_s
    print(f"  stswatch       {count / ours_s:>10,.0f} lines/s  ({ratio:.2f}x pyais decode)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    paths: list[Path] = list(args.files)
    if not paths:
        if not DATA_DIR.is_dir():
            print(f"skipped: no data folder at {DATA_DIR}")
            return 0
        paths = [DATA_DIR / name for name in DEFAULT_FILES if (DATA_DIR / name).is_file()]
    for path in paths:
        bench_file(path, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
