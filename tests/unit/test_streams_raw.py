"""The raw-topic message format, the ingest time helpers, batching and pacing (no broker)."""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.ingest import (
    IngestCounts,
    IngestError,
    Pacer,
    SourceBatcher,
    replay_files,
    replay_lines,
)
from streams.raw import (
    RawBatch,
    RawError,
    decode_raw,
    encode_raw,
    nmea_checksum,
    with_receive_time,
)
from stswatch.decoding.nmea import line_time_s


@given(
    source=st.text(min_size=1),
    lines=st.lists(st.text()),
    final=st.booleans(),
)
def test_encoded_batches_decode_to_the_same_lines(source: str, lines: list[str], final: bool):
    assert decode_raw(encode_raw(source, lines, final)) == RawBatch(source, tuple(lines), final)


def test_the_documented_example_decodes():
    value = b'{"v": 1, "source": "a.nm4", "lines": ["!AIVDM,x"], "final": false, "new": 1}'
    assert decode_raw(value) == RawBatch("a.nm4", ("!AIVDM,x",), False)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "not_json"),
        (b"\xff\xfe", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'{"source": "s", "lines": [], "final": false}', "bad_version"),
        (b'{"v": 2, "source": "s", "lines": [], "final": false}', "bad_version"),
        (b'{"v": true, "source": "s", "lines": [], "final": false}', "bad_version"),
        (b'{"v": 1, "source": "", "lines": [], "final": false}', "bad_source"),
        (b'{"v": 1, "source": "s", "lines": "one", "final": false}', "bad_lines"),
        (b'{"v": 1, "source": "s", "lines": [1], "final": false}', "bad_lines"),
        (b'{"v": 1, "source": "s", "lines": []}', "bad_final"),
        (b'{"v": 1, "source": "s", "lines": [], "final": 1}', "bad_final"),
    ],
)
def test_malformed_messages_are_error_values(value: bytes | None, reason: str):
    result = decode_raw(value)
    assert isinstance(result, RawError)
    assert result.reason == reason


def test_checksum_matches_a_real_tag_block():
    # From the Kystverket recording: \c:1565218798*53\
    assert nmea_checksum("c:1565218798") == "53"


def test_receive_time_is_added_only_to_lines_without_time():
    plain = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"
    stamped = with_receive_time(plain, 1_700_000_000.9)
    assert stamped == "\\c:1700000000*" + nmea_checksum("c:1700000000") + "\\" + plain
    assert line_time_s(stamped) == 1_700_000_000.0
    timed = "\\c:1565218798*53\\" + plain
    assert with_receive_time(timed, 1_700_000_000.0) == timed


def test_receive_time_leaves_a_corrupt_tag_block_alone():
    line = "\\s:base1*00\\!AIVDM,1,1,,A,x,0*00"
    assert with_receive_time(line, 1_700_000_000.0) == line


def test_receive_time_leaves_an_unreadable_tag_time_alone():
    body = "c:yesterday,s:base1"
    line = f"\\{body}*{nmea_checksum(body)}\\!AIVDM,1,1,,A,x,0*00"
    assert with_receive_time(line, 1_700_000_000.0) == line


def test_receive_time_joins_an_existing_tag_block():
    line = "\\s:base1*" + nmea_checksum("s:base1") + "\\!AIVDM,1,1,,A,x,0*00"
    stamped = with_receive_time(line, 1_700_000_000.0)
    body = "c:1700000000,s:base1"
    assert stamped == f"\\{body}*{nmea_checksum(body)}\\!AIVDM,1,1,,A,x,0*00"


class ListSink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def send(self, source: str, value: bytes) -> None:
        self.sent.append((source, json.loads(value)))


def test_batcher_respects_line_and_byte_limits():
    sink = ListSink()
    counts = IngestCounts()
    batcher = SourceBatcher("s", sink, counts, max_lines=3, max_bytes=100)
    for index in range(7):
        batcher.add(f"line-{index}")
    batcher.add("x" * 90)  # would push the pending batch past 100 bytes
    batcher.flush(final=True)
    batches = [doc["lines"] for _, doc in sink.sent]
    assert batches == [
        ["line-0", "line-1", "line-2"],
        ["line-3", "line-4", "line-5"],
        ["line-6"],
        ["x" * 90],
    ]
    assert [doc["final"] for _, doc in sink.sent] == [False, False, False, True]
    assert counts.lines == 8 and counts.messages == 4


def test_live_batch_is_sent_once_its_first_line_is_old_enough():
    now = [0.0]
    sink = ListSink()
    batcher = SourceBatcher("s", sink, IngestCounts(), max_lines=100, clock=lambda: now[0])
    batcher.add("a")
    now[0] = 0.3
    batcher.add("b")
    batcher.flush_if_older_than(0.5)
    assert sink.sent == []
    now[0] = 0.5
    batcher.flush_if_older_than(0.5)
    assert [doc["lines"] for _, doc in sink.sent] == [["a", "b"]]


def test_pacer_spaces_lines_by_event_time_over_speed():
    now = [100.0]
    pacer = Pacer(speed=10.0, clock=lambda: now[0])
    assert pacer.delay_s(5000.0) == 0.0  # the first timed line anchors the replay
    assert pacer.delay_s(5020.0) == pytest.approx(2.0)
    now[0] = 101.5
    assert pacer.delay_s(5020.0) == pytest.approx(0.5)
    assert pacer.delay_s(4000.0) == 0.0  # earlier than due: at once, never reordered
    now[0] = 200.0
    assert pacer.delay_s(5030.0) == 0.0  # behind schedule: no waiting


def test_pacer_refuses_non_positive_speed():
    with pytest.raises(IngestError, match="speed"):
        Pacer(speed=0.0)


def test_stopped_replay_sends_what_it_read_without_final():
    stop = threading.Event()
    sink = ListSink()
    batcher = SourceBatcher("s", sink, IngestCounts(), max_lines=100)

    def lines():
        yield "a"
        yield ""
        yield "b"
        stop.set()
        yield "c"

    assert replay_lines(lines(), batcher, stop=stop) is False
    assert [(doc["lines"], doc["final"]) for _, doc in sink.sent] == [(["a", "b"], False)]


def test_finished_replay_marks_the_last_message_final():
    sink = ListSink()
    batcher = SourceBatcher("s", sink, IngestCounts(), max_lines=2)
    assert replay_lines([" a \r\n", "b\n", "\n", "c"], batcher) is True
    assert [(doc["lines"], doc["final"]) for _, doc in sink.sent] == [
        (["a", "b"], False),
        (["c"], True),
    ]


def test_a_replayed_batch_spans_at_most_max_span_s_of_event_time():
    sink = ListSink()
    batcher = SourceBatcher("s", sink, IngestCounts(), max_lines=500, max_span_s=60.0)
    t0 = 1_714_521_600.0
    # A quiet station: a line a minute would make a 500-line batch span eight hours.
    for i, offset in enumerate([0, 30, 60, 61, 115, 100, 200]):
        batcher.add(f"line{i}", t0 + offset)
    batcher.add("untimed")  # a line without a time never cuts a batch
    batcher.flush(final=True)
    assert [doc["lines"] for _, doc in sink.sent] == [
        ["line0", "line1", "line2"],
        ["line3", "line4", "line5"],  # the batch's span runs from its first line, 61 s
        ["line6", "untimed"],
    ]


def timed(time_s: int, text: str) -> str:
    """A sentence named `text` (its payload field) with an epoch appended after the checksum,
    as `line_time_s` reads it; the checksum is not checked here."""
    return f"!AIVDM,1,1,,A,{text},0*00,{time_s}"


def test_files_replayed_together_are_merged_by_event_time(tmp_path) -> None:
    # Two stations' recordings of the same hour: one after the other, a worker would have
    # passed the first file's hour before the second began.
    t0 = 1_714_521_600
    first = [timed(t0 + 10 * i, f"A{i}") for i in range(360)]
    second = [timed(t0 + 5 + 60 * i, f"B{i}") for i in range(60)]  # a quieter station
    # A line without a time keeps its place in its file; a corrupt time (far in the future,
    # but valid) does not send the rest of its file to the end.
    second.insert(11, "!AIVDM,1,1,,A,B-untimed,0*00")
    second.insert(21, timed(t0 + 86_400 * 300, "B-corrupt"))
    paths = []
    for name, lines in (("a.nmea", first), ("b.nmea", second)):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    sink = ListSink()
    counts = replay_files(paths, sink, max_lines=1, sources=["A", "B"])

    sent = [(source, doc["lines"], doc["final"]) for source, doc in sink.sent]
    order = [lines[0] for _, lines, _ in sent if lines]
    # Every line goes out after every line of the other file more than 60 s older.
    newest_s = {"A": float(t0), "B": float(t0)}
    for line in order:
        name = line.split(",")[5]
        time_s = line_time_s(line)
        if time_s is None or name == "B-corrupt":
            continue
        other = "B" if name.startswith("A") else "A"
        assert time_s >= newest_s[other] - 60.0, (name, order.index(line))
        newest_s[name[0]] = max(newest_s[name[0]], time_s)
    # Each file keeps its order and ends with its own final message.
    for name, lines in (("A", first), ("B", second)):
        own = [sent_lines for source, sent_lines, _ in sent if source == name]
        assert [line for batch in own for line in batch] == lines
        assert [final for source, _, final in sent if source == name][-1] is True
    # The quiet station's last line is older than the busy one's: its file ends first.
    assert counts.finished_sources == ["B", "A"]
    assert counts.lines == len(first) + len(second)
