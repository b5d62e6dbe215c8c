"""Kafka client configuration from `KafkaSettings`, in one place.

Every Kafka client stswatch makes (kafka-python producers, consumers and admin clients in the
command-line tools, aiokafka through faust in the worker) gets its connection and security
options from here, so that SASL and TLS are configured once and the same way everywhere.

Secrets stay out of logs: `masked()` replaces passwords before a configuration is printed, and
the faust credentials object prints only the user name.

Errors the user can fix (an unreachable broker, an incomplete security setting) are raised as
`StswatchError` subclasses whose one-line message names the setting to change.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from config.settings import KafkaSettings, SettingsError
from detectors.errors import StswatchError

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# How long a client waits for the first broker answer before we call the broker unreachable.
DEFAULT_BOOTSTRAP_TIMEOUT_S = 10.0

_SECRET_KEYS = frozenset({"sasl_plain_password", "ssl_password"})

T = TypeVar("T")


def _install_fast_crc32c() -> bool:
    """Let kafka-python compute record-batch CRC-32C in C instead of pure Python.

    kafka-python checksums every record batch it writes or reads with CRC-32C, in pure Python
    (about 1 MB/s, the bottleneck of ingest) unless the LGPL `crc32c` package is installed.
    google-crc32c (Apache-2.0) gives the same checksum in C; the record module looks the
    function up by name at each call, so replacing that name is enough. Same results, only
    faster; without google-crc32c nothing changes.
    """
    try:
        import google_crc32c  # optional speed-up
    except ImportError:
        return False
    if google_crc32c.implementation != "c":
        return False
    from kafka.record import default_records

    def crc32c(view: memoryview) -> int:
        # google-crc32c wants read-only bytes; the copy costs far less than the checksum.
        value: int = google_crc32c.value(bytes(view))
        return value

    default_records.calc_crc32c = crc32c
    return True


FAST_CRC32C = _install_fast_crc32c()


class BrokerUnreachableError(StswatchError):
    """No broker in `kafka.bootstrap_servers` answered."""


def bootstrap_list(kafka: KafkaSettings) -> list[str]:
    """`"a:9092, b:9092"` as `["a:9092", "b:9092"]`; an empty setting is an error."""
    servers = [part.strip() for part in kafka.bootstrap_servers.split(",") if part.strip()]
    if not servers:
        raise SettingsError("setting kafka.bootstrap_servers: empty (expected host:port[,...])")
    for server in servers:
        host, sep, port = server.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise SettingsError(f"setting kafka.bootstrap_servers: {server!r} is not host:port")
    return servers


def _check_security(kafka: KafkaSettings) -> None:
    """Stop early, naming the setting, when the security settings cannot work together."""
    protocol = kafka.security_protocol
    if protocol not in SECURITY_PROTOCOLS:
        raise SettingsError(
            f"setting kafka.security_protocol: {protocol!r} is not one of "
            f"{', '.join(SECURITY_PROTOCOLS)}"
        )
    if protocol.startswith("SASL_"):
        if kafka.sasl_mechanism not in SASL_MECHANISMS:
            raise SettingsError(
                f"setting kafka.sasl_mechanism: {kafka.sasl_mechanism!r} is not one of "
                f"{', '.join(SASL_MECHANISMS)} (needed with security_protocol {protocol})"
            )
        if not kafka.sasl_username:
            raise SettingsError(f"setting kafka.sasl_username: empty with {protocol}")
        if not kafka.sasl_password:
            raise SettingsError(f"setting kafka.sasl_password: empty with {protocol}")
    if bool(kafka.ssl_certfile) != bool(kafka.ssl_keyfile):
        raise SettingsError(
            "settings kafka.ssl_certfile and kafka.ssl_keyfile: give both or neither"
        )


def _uses_tls(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SSL", "SASL_SSL")


def client_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection and security options shared by kafka-python producer, consumer and admin."""
    _check_security(kafka)
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap_list(kafka),
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol.startswith("SASL_"):
        kwargs["sasl_mechanism"] = kafka.sasl_mechanism
        kwargs["sasl_plain_username"] = kafka.sasl_username
        kwargs["sasl_plain_password"] = kafka.sasl_password.value
    if _uses_tls(kafka):
        if kafka.ssl_cafile:
            kwargs["ssl_cafile"] = kafka.ssl_cafile
        if kafka.ssl_certfile:
            kwargs["ssl_certfile"] = kafka.ssl_certfile
            kwargs["ssl_keyfile"] = kafka.ssl_keyfile
    return kwargs


def _bootstrap_ms(timeout_s: float) -> int:
    return max(1, round(timeout_s * 1000))


def admin_kwargs(
    kafka: KafkaSettings,
    *,
    client_id: str = "stswatch-admin",
    bootstrap_timeout_s: float = DEFAULT_BOOTSTRAP_TIMEOUT_S,
) -> dict[str, Any]:
    """Options for `kafka.KafkaAdminClient`."""
    return {
        **client_kwargs(kafka),
        "client_id": client_id,
        "bootstrap_timeout_ms": _bootstrap_ms(bootstrap_timeout_s),
    }


def producer_kwargs(
    kafka: KafkaSettings,
    *,
    client_id: str = "stswatch-producer",
    compression_type: str | None = "gzip",
    linger_ms: int = 20,
    batch_size_bytes: int = 256 * 1024,
    bootstrap_timeout_s: float = DEFAULT_BOOTSTRAP_TIMEOUT_S,
) -> dict[str, Any]:
    """Options for `kafka.KafkaProducer`: every write acknowledged by all in-sync replicas.

    gzip is the default codec because it needs no native library beyond the standard one, and
    tansu 0.6, Apache Kafka and aiokafka all read it. Topics are never auto-created by a send:
    `streams.topics.ensure_topics` creates them with the intended partition counts.
    """
    return {
        **client_kwargs(kafka),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": compression_type,
        "linger_ms": linger_ms,
        "batch_size": batch_size_bytes,
        "allow_auto_create_topics": False,
        "bootstrap_timeout_ms": _bootstrap_ms(bootstrap_timeout_s),
    }


def consumer_kwargs(
    kafka: KafkaSettings,
    *,
    group_id: str | None,
    client_id: str = "stswatch-consumer",
    auto_offset_reset: str = "earliest",
    enable_auto_commit: bool = False,
    session_timeout_s: float | None = None,
    heartbeat_interval_s: float | None = None,
    bootstrap_timeout_s: float = DEFAULT_BOOTSTRAP_TIMEOUT_S,
) -> dict[str, Any]:
    """Options for `kafka.KafkaConsumer`; `group_id=None` reads without a consumer group."""
    kwargs: dict[str, Any] = {
        **client_kwargs(kafka),
        "client_id": client_id,
        "group_id": group_id,
        "auto_offset_reset": auto_offset_reset,
        "enable_auto_commit": enable_auto_commit,
        "allow_auto_create_topics": False,
        "bootstrap_timeout_ms": _bootstrap_ms(bootstrap_timeout_s),
    }
    if session_timeout_s is not None:
        kwargs["session_timeout_ms"] = round(session_timeout_s * 1000)
    if heartbeat_interval_s is not None:
        kwargs["heartbeat_interval_ms"] = round(heartbeat_interval_s * 1000)
    return kwargs


def masked(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of client options that is safe to log: passwords shown as `***`."""
    return {
        key: ("***" if key in _SECRET_KEYS and value else value) for key, value in kwargs.items()
    }


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context for aiokafka/faust, or None when the protocol uses no TLS."""
    _check_security(kafka)
    if not _uses_tls(kafka):
        return None
    context = ssl.create_default_context(
        purpose=ssl.Purpose.SERVER_AUTH, cafile=kafka.ssl_cafile or None
    )
    if kafka.ssl_certfile:
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile)
    return context


def faust_broker_url(kafka: KafkaSettings) -> str:
    """`kafka://a:9092;b:9092`, the broker URL form faust expects."""
    return "kafka://" + ";".join(bootstrap_list(kafka))


def faust_broker_credentials(kafka: KafkaSettings) -> Any:
    """The `broker_credentials` faust setting: SASL or SSL credentials, or None for PLAINTEXT.

    Typed `Any` because faust's credential classes carry no type information the worker needs;
    faust is imported here only when called, so the command-line tools never load it.
    """
    context = ssl_context(kafka)
    if kafka.security_protocol.startswith("SASL_"):
        from faust.auth import SASLCredentials  # faust is heavy: load on use

        # faust picks SASL_SSL when it gets a context and SASL_PLAINTEXT otherwise.
        return SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.value,
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    if context is not None:
        from faust.auth import SSLCredentials  # faust is heavy: load on use

        return SSLCredentials(context)
    return None


def aiokafka_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection and security options for aiokafka clients made outside faust."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap_list(kafka),
        "security_protocol": kafka.security_protocol,
    }
    context = ssl_context(kafka)
    if context is not None:
        kwargs["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL_"):
        kwargs["sasl_mechanism"] = kafka.sasl_mechanism
        kwargs["sasl_plain_username"] = kafka.sasl_username
        kwargs["sasl_plain_password"] = kafka.sasl_password.value
    return kwargs


def connect(kafka: KafkaSettings, factory: Callable[..., T], **kwargs: Any) -> T:
    """Make a kafka-python client, turning "no broker answered" into one clear error.

    `factory` is `KafkaProducer`, `KafkaConsumer` or `KafkaAdminClient`; `kwargs` come from the
    functions above. kafka-python 3 contacts the bootstrap servers in the constructor and
    raises `KafkaTimeoutError` when none answers in time.
    """
    try:
        return factory(**kwargs)
    except (KafkaTimeoutError, KafkaConnectionError) as err:
        servers = ",".join(bootstrap_list(kafka))
        raise BrokerUnreachableError(
            f"no Kafka broker answered at {servers} (setting kafka.bootstrap_servers; "
            f"{type(err).__name__})"
        ) from None
