"""Running the live pipeline for integration tests: workers as real processes.

Workers are started the way an operator starts them (`python -m stswatch.cli worker
--config FILE`), so the tests cover the command, its settings file and Faust's own process
handling, and `kill -9` is a real kill.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from config import settings as config
from config.settings import ReferenceData, Settings
from streams.kafka_clients import consumer_kwargs
from streams.topics import topic_names
from stswatch.offline import run_detect

PROJECT = Path(__file__).resolve().parents[2]


def with_reference(settings: Settings, folder: Path) -> Settings:
    """`settings` using the EEZ and port files a simulation wrote into `folder`."""
    reference = ReferenceData(
        eez_path=str(folder / "zones.geojson"), ports_path=str(folder / "ports.csv")
    )
    return dataclasses.replace(settings, reference=reference)


def fast_group_settings(settings: Settings, app_id: str | None = None) -> Settings:
    """Consumer-group timings that let a test worker join in about a second."""
    stream = dataclasses.replace(
        settings.stream,
        broker_session_timeout_s=2.0,
        broker_heartbeat_interval_s=0.3,
        table_snapshot_interval_s=1.0,
        app_id=app_id or settings.stream.app_id,
    )
    return dataclasses.replace(settings, stream=stream)


class Worker:
    """One `stswatch worker` process."""

    def __init__(self, settings: Settings, workdir: Path, name: str) -> None:
        if not settings.stream.state_dir:
            # Faust's default is a directory in the working directory (the project).
            stream = dataclasses.replace(settings.stream, state_dir=str(workdir / f"{name}-state"))
            settings = dataclasses.replace(settings, stream=stream)
        self.config_path = workdir / f"{name}.toml"
        self.config_path.write_text(config.to_toml(settings))
        os.chmod(self.config_path, 0o600)
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stswatch.cli",
                "worker",
                "--config",
                str(self.config_path),
                "--loglevel",
                "warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT,
        )

    def kill(self) -> None:
        """kill -9: no shutdown, no commit, no flush."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, as a process manager would; SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return int(self.process.returncode)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@contextmanager
def workers(settings: Settings, workdir: Path, count: int = 1) -> Iterator[list[Worker]]:
    started = [Worker(settings, workdir, f"worker{i}") for i in range(count)]
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


def offline_alerts(paths: Sequence[Path], settings: Settings) -> list[dict[str, Any]]:
    """What `stswatch detect` writes for the same input and settings."""
    out = io.StringIO()
    run_detect([str(p) for p in paths], settings, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def read_all(settings: Settings, topic: str, timeout_s: float = 2.0) -> list[Any]:
    """Every record now on `topic` (all partitions, from offset 0), without a group.

    Reads past the end offsets the broker reports until a poll comes back empty: tansu 0.6
    reports a partition's end as the base offset of its last record batch + 1.
    """
    consumer = KafkaConsumer(**consumer_kwargs(settings.kafka, group_id=None))
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        ends = consumer.end_offsets(assigned)
        at_end = False
        while time.monotonic() < deadline:
            batches = consumer.poll(timeout_ms=300)
            for batch in batches.values():
                records.extend(batch)
            if at_end and not batches:
                break
            at_end = all(consumer.position(tp) >= ends[tp] for tp in assigned)
        return records
    finally:
        consumer.close()


def wait_for_alerts(
    settings: Settings,
    expected_event_ids: set[str],
    timeout_s: float = 90.0,
    workers_: Sequence[Worker] = (),
) -> list[dict[str, Any]]:
    """The alerts on the alert topic once every expected event is there (or the timeout)."""
    topic = topic_names(settings.kafka).alerts
    deadline = time.monotonic() + timeout_s
    alerts: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        alerts = [json.loads(r.value) for r in read_all(settings, topic)]
        if expected_event_ids <= {a["event_id"] for a in alerts}:
            # A moment more, to catch anything extra that should not be there.
            time.sleep(1.5)
            return [json.loads(r.value) for r in read_all(settings, topic)]
        for worker in workers_:
            if worker.process.poll() is not None:
                raise AssertionError(f"worker died:\n{worker.log_tail()}")
        time.sleep(0.5)
    return alerts


def unique_events(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Alerts by event id; a redelivered duplicate must be identical to the first copy."""
    found: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        held = found.setdefault(alert["event_id"], alert)
        assert held == alert, f"two different alerts share event id {alert['event_id']}"
    return found
