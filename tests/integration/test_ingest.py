"""`stswatch ingest` against a real tansu broker: files, TCP and UDP sources."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka.consumer.fetcher import ConsumerRecord

from config.settings import Settings
from streams.ingest import IngestCounts, IngestError, ingest_files, ingest_tcp, ingest_udp
from streams.raw import decode_raw, nmea_checksum
from streams.services import free_port
from streams.topics import ensure_topics, topic_names

pytestmark = pytest.mark.integration

TAG_TIME = re.compile(r"^\\c:(\d+)\*([0-9A-F]{2})\\")


def sentence(index: int) -> str:
    """A distinct, well-formed NMEA sentence (payload text only needs to be unique here)."""
    body = f"AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb{index:06d},0"
    return f"!{body}*{nmea_checksum(body)}"


def expected_lines(path: Path) -> list[str]:
    """The file's non-blank lines, stripped: what ingest promises to deliver."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return [line.strip() for line in handle if line.strip()]


def lines_by_source(records: list[ConsumerRecord]) -> dict[str, list[str]]:
    """Concatenate the lines of each source's messages in partition-offset order."""
    out: dict[str, list[str]] = defaultdict(list)
    for record in records:
        batch = decode_raw(record.value)
        assert not hasattr(batch, "reason"), f"undecodable raw message: {batch}"
        out[batch.source].extend(batch.lines)
    return dict(out)


def test_file_replay_delivers_every_line_once_in_order_keyed_by_source(
    settings: Settings, read_topic, shared_data: Path
) -> None:
    files = [
        shared_data / "nmea" / "kystverket_tagblock_2019-08-07_1000lines.nm4",
        shared_data / "nmea" / "amsa_risky_mixed_stream_2012-01-27.nmea.gz",
        shared_data / "nmea" / "dma_aislib_stream_pghp_2010-06-11.nmea",
    ]
    small = dataclasses.replace(
        settings, stream=dataclasses.replace(settings.stream, raw_batch_max_lines=137)
    )
    counts = ingest_files(small, files)

    expected = {path.name: expected_lines(path) for path in files}
    total = sum(len(lines) for lines in expected.values())
    assert counts.lines == total
    # Replayed together, merged by event time: the oldest recording (2010) ends first.
    assert counts.finished_sources == [files[2].name, files[1].name, files[0].name]

    records = read_topic(topic_names(settings.kafka).raw, min_messages=counts.messages)
    assert len(records) == counts.messages
    assert lines_by_source(records) == expected
    for source in expected:
        mine = [r for r in records if r.key == source.encode()]
        assert len({r.partition for r in mine}) == 1, "a source's lines must share a partition"
        batches = [decode_raw(r.value) for r in mine]
        assert all(len(b.lines) <= 137 for b in batches)
        assert [b.final for b in batches] == [False] * (len(batches) - 1) + [True]
        assert all(b.source == source for b in batches)


def test_empty_file_still_sends_a_final_message(
    settings: Settings, read_topic, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.nmea"
    empty.write_text("\n\n", encoding="utf-8")
    counts = ingest_files(settings, [empty])
    records = read_topic(topic_names(settings.kafka).raw)
    assert counts.lines == 0
    assert [json.loads(r.value) for r in records] == [
        {"v": 1, "source": "empty.nmea", "lines": [], "final": True}
    ]


def test_decoded_csv_is_refused_before_anything_is_sent(
    settings: Settings, read_topic, tmp_path: Path
) -> None:
    csv = tmp_path / "positions.txt"
    csv.write_text("MMSI,BaseDateTime,LAT,LON\n1,2022-01-03T00:00:00,1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="stswatch detect"):
        ingest_files(settings, [csv])
    ensure_topics(settings)  # refused before connecting: make the topic to look inside
    assert read_topic(topic_names(settings.kafka).raw, min_messages=0, idle_s=0.5) == []


def test_paced_replay_spreads_sends_by_event_time(
    settings: Settings, read_topic, tmp_path: Path
) -> None:
    # Five lines 10 s apart in event time, replayed at 20x: about 2 s from first to last.
    start_s = 1_700_000_000
    lines = []
    for index in range(5):
        tag = f"c:{start_s + 10 * index}"
        lines.append(f"\\{tag}*{nmea_checksum(tag)}\\{sentence(index)}")
    path = tmp_path / "paced.nm4"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    began = time.monotonic()
    counts = ingest_files(settings, [path], speed=20.0)
    took_s = time.monotonic() - began

    assert counts.lines == 5
    assert took_s >= 1.9
    records = read_topic(topic_names(settings.kafka).raw, min_messages=1)
    assert lines_by_source(records) == {"paced.nm4": lines}
    # Each line waited for its turn, so each went out in its own message, 0.5 s apart.
    stamps_ms = [r.timestamp for r in records if decode_raw(r.value).lines]
    assert len(stamps_ms) == 5
    gaps_s = [(b - a) / 1000 for a, b in itertools.pairwise(stamps_ms)]
    assert all(0.4 <= gap <= 0.9 for gap in gaps_s), gaps_s


class FlakyFeed:
    """A TCP NMEA server: the first connection sends lines and a half line, then drops."""

    def __init__(self, first: list[str], second: list[str]) -> None:
        self.first = first
        self.second = second
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        self.connections += 1
        with conn:
            conn.sendall(("\r\n".join(self.first) + "\r\n").encode())
            conn.sendall(b"!AIVDM,1,1,,A,never-fin")  # the line the drop cuts off
            time.sleep(0.2)
        conn, _ = self.server.accept()
        self.connections += 1
        with conn:
            # Split one line across two sends: the client must join the pieces.
            payload = ("\n".join(self.second) + "\n").encode()
            conn.sendall(payload[:25])
            time.sleep(0.1)
            conn.sendall(payload[25:])
            self.done.wait(30)

    def close(self) -> None:
        self.done.set()
        self.server.close()


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def run_in_thread(target, **kwargs) -> tuple[threading.Thread, dict[str, object]]:
    result: dict[str, object] = {}

    def body() -> None:
        try:
            result["counts"] = target(**kwargs)
        except BaseException as err:  # handed to the test thread
            result["error"] = err

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, result


def strip_receive_time(line: str) -> tuple[str, int | None]:
    match = TAG_TIME.match(line)
    if not match:
        return line, None
    return line[match.end() :], int(match.group(1))


def test_tcp_feed_reconnects_and_loses_only_the_cut_line(
    settings: Settings, read_topic, stop: threading.Event
) -> None:
    own_time = "\\c:1565218798*53\\" + sentence(999)
    first = [sentence(i) for i in range(50)]
    second = [sentence(i) for i in range(50, 99)] + [own_time]
    feed = FlakyFeed(first, second)
    began_s = int(time.time())
    try:
        thread, result = run_in_thread(
            ingest_tcp,
            settings=settings,
            host="127.0.0.1",
            port=feed.port,
            stop=stop,
            backoff_max_s=1.0,
        )
        raw = topic_names(settings.kafka).raw
        deadline = time.monotonic() + 30
        got: list[str] = []
        while time.monotonic() < deadline and len(got) < 100:
            got = lines_by_source(read_topic(raw, min_messages=1, idle_s=0.3)).get(
                f"tcp:127.0.0.1:{feed.port}", []
            )
        stop.set()
        thread.join(10)
        assert "error" not in result, result.get("error")
    finally:
        feed.close()
    ended_s = int(time.time()) + 1

    assert feed.connections == 2
    assert len(got) == 100
    plain = []
    for line in got[:-1]:
        text, stamped_s = strip_receive_time(line)
        assert stamped_s is not None and began_s <= stamped_s <= ended_s, line
        plain.append(text)
    assert plain == first + second[:-1]
    assert got[-1] == own_time, "a line with its own time keeps it"
    counts = result["counts"]
    assert isinstance(counts, IngestCounts) and counts.lines == 100


def test_udp_datagrams_become_lines_in_order(
    settings: Settings, read_topic, stop: threading.Event
) -> None:
    port = free_port()
    ready = threading.Event()
    thread, result = run_in_thread(
        ingest_udp,
        settings=settings,
        host="127.0.0.1",
        port=port,
        stop=stop,
        ready=ready,
    )
    assert ready.wait(15), result.get("error")
    own_time = "\\c:1565218798*53\\" + sentence(9)
    datagrams = [
        sentence(1).encode(),  # AIS-catcher style: one line, no newline
        "\r\n".join([sentence(2), sentence(3), sentence(4)]).encode() + b"\r\n",
        own_time.encode() + b"\n",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, ("127.0.0.1", port))
            time.sleep(0.05)
    raw = topic_names(settings.kafka).raw
    deadline = time.monotonic() + 20
    got: list[str] = []
    while time.monotonic() < deadline and len(got) < 5:
        got = lines_by_source(read_topic(raw, min_messages=1, idle_s=0.3)).get(
            f"udp:127.0.0.1:{port}", []
        )
    stop.set()
    thread.join(10)
    assert "error" not in result, result.get("error")
    assert [strip_receive_time(line)[0] for line in got[:4]] == [sentence(i) for i in (1, 2, 3, 4)]
    assert all(strip_receive_time(line)[1] is not None for line in got[:4])
    assert got[4:] == [own_time]
