"""A wrong setting stops a command at start-up with one line naming it, never a traceback.

Each case runs the real command (`python -m stswatch.cli ...`) the way an operator would, with
a settings file or a flag that is wrong in one way, and checks what the operator sees: exit
status 2, one error line that names the setting, no traceback, no secret. The worker prints
its effective settings first (secrets masked); that line is allowed and checked too.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.services import EmbeddedRedis, ServiceError, free_port

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "hunter2-do-not-print"


def run_cli(*args: str, cwd: Path, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stswatch.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=cwd,
        check=False,
    )


def error_line(done: subprocess.CompletedProcess[str], command: str) -> str:
    """The one error line of a failed command (after the worker's settings line)."""
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert SECRET not in output, output
    assert done.returncode == 2, output
    lines = [
        line
        for line in done.stderr.splitlines()
        if line and not line.startswith("stswatch worker: effective settings ")
    ]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"stswatch {command}: error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis, so that the worker gets past its Redis check to the Kafka one."""
    try:
        server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    except ServiceError as err:
        pytest.skip(f"no redis-server: {err}")
    try:
        yield server.url
    finally:
        server.stop()


def unused_address() -> str:
    return f"127.0.0.1:{free_port()}"


# (name, settings file text, the text the error line must contain)
WORKER_CASES = [
    (
        "negative distance threshold",
        "[detection]\nmax_encounter_dist_m = -5.0\n",
        "max_encounter_dist_m",
    ),
    (
        "threshold of the wrong type",
        '[detection]\nmin_encounter_duration_s = "two hours"\n',
        "detection.min_encounter_duration_s",
    ),
    ("zero tick", "[detection]\ntick_s = 0\n", "tick_s"),
    (
        "misspelt setting",
        "[detection]\nmax_encounter_distance_m = 500\n",
        "max_encounter_distance_m",
    ),
    ("unknown section", "[detecton]\ntick_s = 300\n", "[detecton]"),
    ("missing EEZ file", '[reference]\neez_path = "missing.geojson"\n', "reference.eez_path"),
    ("missing ports file", '[reference]\nports_path = "missing.csv"\n', "reference.ports_path"),
    (
        "unreachable Redis with a password in its URL",
        f'[redis]\nurl = "redis://:{SECRET}@{unused_address()}/0"\n',
        "redis.url",
    ),
    (
        "Redis password as a setting, server unreachable",
        f'[redis]\nurl = "redis://{unused_address()}/0"\npassword = "{SECRET}"\n',
        "redis.url",
    ),
    (
        "negative status flush interval",
        "[redis]\nstatus_flush_interval_s = -1.0\n",
        "status_flush_interval_s",
    ),
    (
        "zero fetch wait",
        "[stream]\nconsumer_fetch_max_wait_ms = 0\n",
        "consumer_fetch_max_wait_ms",
    ),
    ("Redis URL of another scheme", '[redis]\nurl = "http://127.0.0.1:6379/0"\n', "redis.url"),
    (
        "Redis TLS CA without a rediss:// URL",
        '[redis]\nssl_ca_certs = "ca.pem"\n',
        "redis.ssl_ca_certs",
    ),
]


@pytest.mark.parametrize(
    ("text", "names"), [case[1:] for case in WORKER_CASES], ids=[case[0] for case in WORKER_CASES]
)
def test_worker_stops_with_one_line_naming_the_setting(
    tmp_path: Path, text: str, names: str
) -> None:
    (tmp_path / "bad.toml").write_text(text)
    done = run_cli("worker", "--config", "bad.toml", cwd=tmp_path)
    assert names in error_line(done, "worker")


KAFKA_CASES = [
    ("unreachable broker", f'bootstrap_servers = "{unused_address()}"', "kafka.bootstrap_servers"),
    ("broker list not host:port", 'bootstrap_servers = "kafka"', "kafka.bootstrap_servers"),
    ("unknown security protocol", 'security_protocol = "TLS"', "kafka.security_protocol"),
    (
        "SASL without a mechanism",
        f'security_protocol = "SASL_SSL"\nsasl_username = "u"\nsasl_password = "{SECRET}"',
        "kafka.sasl_mechanism",
    ),
    (
        "SASL without a password",
        'security_protocol = "SASL_PLAINTEXT"\nsasl_mechanism = "PLAIN"\nsasl_username = "u"',
        "kafka.sasl_password",
    ),
    (
        "client certificate without its key",
        'security_protocol = "SSL"\nssl_certfile = "client.pem"',
        "kafka.ssl_keyfile",
    ),
]


@pytest.mark.parametrize(
    ("kafka", "names"), [case[1:] for case in KAFKA_CASES], ids=[case[0] for case in KAFKA_CASES]
)
def test_worker_with_bad_kafka_settings_stops_with_one_line(
    tmp_path: Path, redis_url: str, kafka: str, names: str
) -> None:
    (tmp_path / "bad.toml").write_text(f'[redis]\nurl = "{redis_url}"\n\n[kafka]\n{kafka}\n')
    done = run_cli("worker", "--config", "bad.toml", cwd=tmp_path)
    assert names in error_line(done, "worker")


def test_settings_file_that_is_missing_or_not_toml(tmp_path: Path) -> None:
    assert "not found" in error_line(
        run_cli("worker", "--config", "nope.toml", cwd=tmp_path), "worker"
    )
    (tmp_path / "broken.toml").write_text("[detection\ntick_s = 300\n")
    assert "not valid TOML" in error_line(
        run_cli("worker", "--config", "broken.toml", cwd=tmp_path), "worker"
    )


def test_effective_settings_line_masks_secrets(tmp_path: Path) -> None:
    """The worker logs its settings before checking them: secrets must be masked there."""
    (tmp_path / "bad.toml").write_text(
        f'[redis]\nurl = "redis://ops:{SECRET}@{unused_address()}/0"\npassword = "{SECRET}"\n'
        f'[kafka]\nsasl_password = "{SECRET}"\n[api]\nbearer_token = "{SECRET}"\n'
        f'[webhook]\nsigning_secret = "{SECRET}"\nurl = "https://h/x?token={SECRET}"\n'
    )
    done = run_cli("worker", "--config", "bad.toml", cwd=tmp_path)
    error_line(done, "worker")  # also asserts SECRET appears nowhere
    assert "effective settings" in done.stderr
    assert "redis://ops:***@" in done.stderr


@pytest.fixture
def nmea_file(tmp_path: Path) -> Path:
    path = tmp_path / "one.nmea"
    path.write_text("\\c:1714521600*5A\\!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n")
    return path


def test_detect_with_a_missing_eez_file(tmp_path: Path, nmea_file: Path) -> None:
    done = run_cli("detect", "--eez", "missing.geojson", str(nmea_file), cwd=tmp_path)
    assert "missing.geojson" in error_line(done, "detect")


def test_detect_with_a_missing_ports_file(tmp_path: Path, nmea_file: Path) -> None:
    done = run_cli("detect", "--ports", "missing.csv", str(nmea_file), cwd=tmp_path)
    assert "missing.csv" in error_line(done, "detect")


def test_detect_with_a_bad_threshold(tmp_path: Path, nmea_file: Path) -> None:
    (tmp_path / "bad.toml").write_text("[detection]\nmax_median_speed_kn = -1\n")
    done = run_cli("detect", "--config", "bad.toml", str(nmea_file), cwd=tmp_path)
    assert "max_median_speed_kn" in error_line(done, "detect")


def test_status_with_unreachable_redis(tmp_path: Path) -> None:
    url = f"redis://:{SECRET}@{unused_address()}/0"
    done = run_cli("status", "--redis", url, "vessel", "244000001", cwd=tmp_path)
    assert "redis.url" in error_line(done, "status")


def test_the_checks_pass_with_good_settings(tmp_path: Path, redis_url: str) -> None:
    """The same checks do not refuse a good configuration: they stop at the broker only."""
    from streams.services import EmbeddedBroker

    with EmbeddedBroker(tmp_path / "tansu") as broker:
        (tmp_path / "good.toml").write_text(
            f'[redis]\nurl = "{redis_url}"\n[kafka]\nbootstrap_servers = '
            f'"{broker.bootstrap_servers}"\ntopic_prefix = "cfg-ok."\n'
            '[stream]\napp_id = "cfg-ok"\n'
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "stswatch.cli", "worker", "--config", "good.toml"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(8)  # still running: it got past every check
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=30)
    assert "error:" not in output, output
