"""The raw-line topic's message format (`ais.raw.v1`), a versioned contract.

One Kafka message carries a batch of raw input lines of one source, in input order:

- key: the source name, UTF-8 (so every line of a source lands on one partition, in order);
- value: UTF-8 JSON object

  ```json
  {"v": 1, "source": "kystverket.nm4", "lines": ["\\\\c:1565218798*53\\\\!BSVDM,...", "..."],
   "final": false}
  ```

  - `v` (int, required): format version, 1. A reader rejects any other version.
  - `source` (str, required, non-empty): the same name as the key.
  - `lines` (list of str, required, may be empty): raw lines without line terminators, as
    received (NMEA sentences with optional tag blocks, `$PGHP` lines, appended epochs, junk).
    Blank lines are not sent.
  - `final` (bool, required): true on the last message of a finite input (a file replay): the
    source's input has ended, so the pipeline may close every open time window of it. Live
    sources (TCP, UDP) never send `final: true`.

  Readers ignore keys they do not know, so optional keys can be added within version 1.

Decoding never raises: a malformed message becomes a `RawError` value with a stable reason
code, which the worker sends to the dead-letter topic.

This module also holds `with_receive_time`, which stamps lines from live sockets that carry no
time of their own.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from stswatch.decoding.nmea import line_time_s

RAW_FORMAT_VERSION = 1


class RawBatch(NamedTuple):
    """A decoded raw message: lines of one source, and whether the source has ended."""

    source: str
    lines: tuple[str, ...]
    final: bool = False


class RawError(NamedTuple):
    """A raw message that could not be read; `reason` is a stable code, `detail` for people.

    Reasons: `not_utf8`, `not_json`, `not_object`, `bad_version`, `bad_source`, `bad_lines`,
    `bad_final`.
    """

    reason: str
    detail: str


def encode_raw(source: str, lines: list[str] | tuple[str, ...], final: bool = False) -> bytes:
    """The message value for `lines` of `source` (see the module docstring)."""
    if not source:
        raise ValueError("a raw message needs a non-empty source name")
    document = {"v": RAW_FORMAT_VERSION, "source": source, "lines": list(lines), "final": final}
    # ensure_ascii=False keeps the payload small for non-ASCII junk; the result is UTF-8.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_raw(value: bytes | None) -> RawBatch | RawError:
    """Read a raw message value; a malformed one is returned as `RawError`, never raised."""
    if value is None:
        return RawError("not_json", "empty message value (tombstone)")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as err:
        return RawError("not_utf8", str(err))
    try:
        document: Any = json.loads(text)
    except ValueError as err:
        return RawError("not_json", str(err))
    if not isinstance(document, dict):
        return RawError("not_object", f"expected a JSON object, got {type(document).__name__}")
    version = document.get("v")
    if type(version) is not int or version != RAW_FORMAT_VERSION:
        return RawError("bad_version", f"expected v={RAW_FORMAT_VERSION}, got {version!r}")
    source = document.get("source")
    if not isinstance(source, str) or not source:
        return RawError("bad_source", f"expected a non-empty string source, got {source!r}")
    lines = document.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        return RawError("bad_lines", "expected lines to be a list of strings")
    final = document.get("final")
    if not isinstance(final, bool):
        return RawError("bad_final", f"expected final to be true or false, got {final!r}")
    return RawBatch(source, tuple(lines), final)


# --- Event time of a raw line --------------------------------------------------------------
# `line_time_s` (stswatch.decoding.nmea) reads the time a line carries itself: a tag block
# `c:`, an epoch appended after the checksum, or a `$PGHP` line's time. Ingest paces file
# replays with it and decides with it which live lines need a receive time.

_TAG_BLOCK = re.compile(r"^\\([^\\*]*)\*([0-9A-Fa-f]{2})\\")
_TAG_TIME = re.compile(r"(?:^|,)c:")


def nmea_checksum(text: str) -> str:
    """The two-digit NMEA checksum (XOR of the characters) of `text`, upper-case hex."""
    value = 0
    for char in text.encode("ascii", errors="replace"):
        value ^= char
    return f"{value:02X}"


def with_receive_time(line: str, receive_time_s: float) -> str:
    """`line` with an NMEA 4.0 tag block time `c:UNIXSECONDS` when it has no time of its own.

    Ingest calls this for lines from live sockets, with the wall-clock time of receipt: it is
    the one place in stswatch where the clock gives an event time. A line that already has a
    tag block without `c:` gets `c:` added to that block (with a new checksum), since a
    sentence has at most one tag block; a tag block whose checksum is wrong is left as it is
    (re-signing it would hide the corruption from the decoder).
    """
    if line_time_s(line) is not None:
        return line
    seconds = f"c:{int(receive_time_s)}"
    tag = _TAG_BLOCK.match(line)
    if tag:
        if nmea_checksum(tag.group(1)) != tag.group(2).upper() or _TAG_TIME.search(tag.group(1)):
            # Corrupt, or a time the decoder cannot read: the decoder should see it as it is.
            return line
        body = f"{seconds},{tag.group(1)}" if tag.group(1) else seconds
        return f"\\{body}*{nmea_checksum(body)}\\{line[tag.end() :]}"
    return f"\\{seconds}*{nmea_checksum(seconds)}\\{line}"
