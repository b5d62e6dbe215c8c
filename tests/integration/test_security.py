"""Security settings reach every client, and secrets reach no log.

- Redis: a real redis-server that speaks TLS only, with an ACL user limited to the stswatch
  key prefix. The status writer (async, the workers), the status reader (sync: `stswatch
  status`, the API) and the API application all connect as that user over TLS with the CA
  from settings; clients without the password, with a wrong one, or without TLS are refused,
  and the worker's start-up check says so in one line.
- Kafka: SASL and TLS settings reach faust (the worker's app) and through it the aiokafka
  client options. tansu 0.6 cannot complete a SASL exchange (PLAIN is not offered; SCRAM
  users cannot be stored) and its TLS flags cannot be combined (`--cert` excludes `--key`), so
  SASL/TLS against a live broker is not exercised here; `tests/unit/test_streams_kafka_clients.py`
  covers the kafka-python and aiokafka options built from the same settings.
- Logs: a worker run with passwords in its Redis URL and settings prints neither, at debug
  level, and its effective-settings line shows `***`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config import settings as settings_module
from config.settings import RedisSettings, Secret, Settings, describe, mask_url
from detectors.records import Position
from streams.ingest import ingest_lines
from streams.services import free_port, redis_binary
from streams.status import StatusReader, StatusWriter, async_client, sync_client
from streams.topics import ensure_topics
from stswatch.commands.worker import check_redis

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-Secr3t-never-logged"
USER_PASSWORD = "user-Secr3t-never-logged"
PREFIX = "sec-test"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA) and its key."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "redis.crt", folder / "redis.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclasses.dataclass(frozen=True)
class SecureRedis:
    port: int
    ca_path: Path

    def settings(self, **changes: object) -> RedisSettings:
        base = RedisSettings(
            url=f"rediss://127.0.0.1:{self.port}/0",
            username="stswatch",
            password=Secret(USER_PASSWORD),
            ssl_ca_certs=str(self.ca_path),
            key_prefix=PREFIX,
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def secure_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRedis]:
    """redis-server on TLS only (no plain port), default user locked by a password, and an
    ACL user `stswatch` that may touch keys under its prefix only."""
    folder = tmp_path_factory.mktemp("secure-redis")
    cert, key = make_certificate(folder)
    port = free_port()
    binary, _ = redis_binary()
    config = folder / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "port 0",
                f"tls-port {port}",
                "bind 127.0.0.1",
                f"tls-cert-file {cert}",
                f"tls-key-file {key}",
                f"tls-ca-cert-file {cert}",
                "tls-auth-clients no",
                'save ""',
                "appendonly no",
                f'dir "{folder}"',
                f"user default on >{ADMIN_PASSWORD} ~* &* +@all",
                f"user stswatch on >{USER_PASSWORD} ~{PREFIX}:* resetchannels +@all -@dangerous",
            ]
        )
        + "\n"
    )
    config.chmod(0o600)
    log = (folder / "redis.log").open("wb")
    process = subprocess.Popen([binary, str(config)], stdout=log, stderr=subprocess.STDOUT)
    admin = redis.Redis.from_url(
        f"rediss://127.0.0.1:{port}/0",
        password=ADMIN_PASSWORD,
        ssl_ca_certs=str(cert),
        socket_connect_timeout=0.5,
    )
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            pytest.skip(f"this redis-server cannot run TLS: {(folder / 'redis.log').read_text()}")
        try:
            admin.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail((folder / "redis.log").read_text())
            time.sleep(0.1)
    try:
        yield SecureRedis(port, cert)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def a_position(mmsi: int = 244_000_001) -> Position:
    return Position(mmsi, 1_714_521_600.0, 52.0, 4.0, 0.4, 90.0, None, 0, 1)


def test_writer_reader_api_and_start_check_use_the_acl_user_over_tls(
    secure_redis: SecureRedis,
) -> None:
    redis_settings = secure_redis.settings()

    async def write() -> tuple[bool, int]:
        client = async_client(redis_settings)
        writer = StatusWriter(client, redis_settings)
        writer.note_vessel(a_position(), None)
        written = await writer.flush()
        await client.aclose()
        return written, writer.failures

    assert asyncio.run(write()) == (True, 0)

    reader = StatusReader(sync_client(redis_settings), redis_settings)
    vessel = reader.vessel(244_000_001)
    assert vessel is not None and vessel["lat"] == "52.0"
    connection = reader.client.connection_pool.get_connection()
    try:
        assert type(connection).__name__ == "SSLConnection"  # TLS, not plain TCP
    finally:
        reader.client.connection_pool.release(connection)

    from fastapi.testclient import TestClient

    from stswatch.api.app import create_app

    settings = dataclasses.replace(settings_module.load(), redis=redis_settings)
    with TestClient(create_app(settings, check_kafka=False)) as http:
        answer = http.get("/vessels/244000001")
    assert answer.status_code == 200, answer.text
    assert answer.json()["mmsi"] == 244_000_001

    check_redis(redis_settings)  # the worker's start-up check passes too


def test_the_acl_user_cannot_touch_keys_outside_its_prefix(secure_redis: SecureRedis) -> None:
    client = sync_client(secure_redis.settings())
    client.set(f"{PREFIX}:probe", "ok", ex=60)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.set("other-app:probe", "no")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.flushall()


@pytest.mark.parametrize(
    ("change", "error", "names"),
    [
        ({"password": Secret("")}, redis.AuthenticationError, "redis.username / redis.password"),
        (
            {"password": Secret("wrong-password")},
            redis.AuthenticationError,
            "redis.username / redis.password",
        ),
        ({"username": ""}, redis.AuthenticationError, "redis.username / redis.password"),
    ],
    ids=["no password", "wrong password", "password without the ACL user"],
)
def test_clients_without_the_right_credentials_are_refused(
    secure_redis: SecureRedis, change: dict[str, object], error: type[Exception], names: str
) -> None:
    bad = secure_redis.settings(**change)
    with pytest.raises((error, redis.ResponseError)):
        sync_client(bad).ping()
    with pytest.raises(settings_module.SettingsError) as caught:
        check_redis(bad, timeout_s=3)
    message = str(caught.value)
    assert names in message and "\n" not in message
    assert USER_PASSWORD not in message and "wrong-password" not in message


def test_a_client_without_tls_is_refused(secure_redis: SecureRedis) -> None:
    plain = secure_redis.settings(url=f"redis://127.0.0.1:{secure_redis.port}/0", ssl_ca_certs="")
    with pytest.raises(settings_module.SettingsError) as caught:
        check_redis(plain, timeout_s=3)
    assert "redis.url" in str(caught.value)
    # A CA file with a redis:// URL is a settings error, not a TypeError at first use.
    with pytest.raises(settings_module.SettingsError, match=r"redis\.ssl_ca_certs"):
        sync_client(secure_redis.settings(url=plain.url))


def test_a_server_certificate_the_ca_did_not_sign_is_refused(
    secure_redis: SecureRedis, tmp_path: Path
) -> None:
    other_ca, _ = make_certificate(tmp_path)
    with pytest.raises(settings_module.SettingsError, match=r"redis\.url"):
        check_redis(secure_redis.settings(ssl_ca_certs=str(other_ca)), timeout_s=3)


# --- Kafka -----------------------------------------------------------------------------------


def test_sasl_and_tls_settings_reach_faust_and_its_aiokafka_clients(tmp_path: Path) -> None:
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    from streams.app import StreamPipeline

    ca, _ = make_certificate(tmp_path)
    base = settings_module.load()
    kafka = dataclasses.replace(
        base.kafka,
        bootstrap_servers="k1:9093,k2:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="stswatch-worker",
        sasl_password=Secret(USER_PASSWORD),
        ssl_cafile=str(ca),
    )
    pipeline = StreamPipeline(dataclasses.replace(base, kafka=kafka))
    conf = pipeline.app.conf
    assert [str(url) for url in conf.broker] == ["kafka://k1:9093", "kafka://k2:9093"]
    auth = credentials_to_aiokafka_auth(conf.broker_credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-256"
    assert auth["sasl_plain_username"] == "stswatch-worker"
    assert auth["sasl_plain_password"] == USER_PASSWORD
    assert auth["ssl_context"] is not None
    assert USER_PASSWORD not in repr(conf.broker_credentials)


# --- logs ---------------------------------------------------------------------------------------


def test_describe_masks_every_secret_and_passwords_inside_urls() -> None:
    settings = settings_module.apply(
        settings_module.load(),
        {
            "redis": {"url": f"redis://ops:{USER_PASSWORD}@h:6379/0", "password": USER_PASSWORD},
            "kafka": {"sasl_password": USER_PASSWORD},
            "api": {"bearer_token": USER_PASSWORD},
            "webhook": {
                "url": f"https://hooks.example/x?token={USER_PASSWORD}&team=ops",
                "bearer_token": USER_PASSWORD,
                "signing_secret": USER_PASSWORD,
            },
        },
    )
    shown = repr(describe(settings))
    assert USER_PASSWORD not in shown
    assert describe(settings)["redis"]["url"] == "redis://ops:***@h:6379/0"
    assert describe(settings)["webhook"]["url"] == "https://hooks.example/x?token=***&team=ops"
    assert mask_url("redis://h:6379/0") == "redis://h:6379/0"  # nothing to hide: unchanged


def test_a_running_worker_logs_no_secret_even_at_debug_level(
    settings: Settings, tmp_path: Path, redis_server: object
) -> None:
    """A worker with a password-protected Redis (password in the URL and as a setting) and
    SASL credentials in its settings runs and processes input; its whole output, at debug
    level, holds neither password."""
    from streams.services import EmbeddedRedis

    with EmbeddedRedis(tmp_path / "redis", password=ADMIN_PASSWORD) as protected:
        redis_settings = dataclasses.replace(
            settings.redis,
            url=f"redis://:{ADMIN_PASSWORD}@127.0.0.1:{protected.port}/0",
            password=Secret(ADMIN_PASSWORD),
        )
        kafka = dataclasses.replace(settings.kafka, sasl_password=Secret(USER_PASSWORD))
        run_settings = dataclasses.replace(settings, redis=redis_settings, kafka=kafka)
        ensure_topics(run_settings)
        config = tmp_path / "worker.toml"
        config.write_text(settings_module.to_toml(run_settings))
        config.chmod(0o600)
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "stswatch.cli",
                    "worker",
                    "--config",
                    str(config),
                    "--loglevel",
                    "debug",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT,
            )
            try:
                line = "\\c:1714521600*5A\\!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24"
                ingest_lines(run_settings, "secrets-test", [line], compression_type=None)
                status = StatusReader(sync_client(redis_settings), redis_settings)
                deadline = time.monotonic() + 60
                while status.vessel(265547250) is None and time.monotonic() < deadline:
                    assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                    time.sleep(0.5)
                assert status.vessel(265547250) is not None, "the worker never wrote status"
            finally:
                worker.terminate()
                worker.wait(30)
    output = (tmp_path / "worker.log").read_text(errors="replace")
    assert "effective settings" in output and "***" in output
    assert ADMIN_PASSWORD not in output
    assert USER_PASSWORD not in output
