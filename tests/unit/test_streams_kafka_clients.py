"""Kafka client options from settings: security, masking, faust credentials (no broker)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import KafkaSettings, Secret, SettingsError
from streams import kafka_clients
from streams.kafka_clients import (
    aiokafka_kwargs,
    bootstrap_list,
    consumer_kwargs,
    faust_broker_credentials,
    faust_broker_url,
    masked,
    producer_kwargs,
)
from streams.topics import topic_names

SCRAM = KafkaSettings(
    bootstrap_servers="k1:9093, k2:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="ingest",
    sasl_password=Secret("hunter2"),
)


def test_plaintext_needs_no_security_options():
    kwargs = producer_kwargs(KafkaSettings(bootstrap_servers="127.0.0.1:9092"))
    assert kwargs["bootstrap_servers"] == ["127.0.0.1:9092"]
    assert kwargs["security_protocol"] == "PLAINTEXT"
    assert kwargs["acks"] == "all"
    assert not any(key.startswith(("sasl", "ssl")) for key in kwargs)


def test_sasl_scram_over_tls_reaches_every_client_and_never_the_log():
    kwargs = consumer_kwargs(SCRAM, group_id="g")
    assert kwargs["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "ingest"
    assert kwargs["sasl_plain_password"] == "hunter2"
    assert "hunter2" not in repr(masked(kwargs))
    assert aiokafka_kwargs(SCRAM)["sasl_plain_password"] == "hunter2"
    assert aiokafka_kwargs(SCRAM)["ssl_context"] is not None


def test_faust_gets_sasl_ssl_credentials_that_print_no_password():
    credentials = faust_broker_credentials(SCRAM)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.password == "hunter2"
    assert "hunter2" not in repr(credentials)
    assert faust_broker_url(SCRAM) == "kafka://k1:9093;k2:9093"
    assert faust_broker_credentials(KafkaSettings()) is None


def test_sasl_plain_without_tls_gives_sasl_plaintext_to_faust():
    plain = dataclasses.replace(SCRAM, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN")
    assert faust_broker_credentials(plain).protocol.value == "SASL_PLAINTEXT"
    assert "ssl_cafile" not in producer_kwargs(plain)


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"security_protocol": "TLS"}, "kafka.security_protocol"),
        ({"sasl_mechanism": "GSSAPI"}, "kafka.sasl_mechanism"),
        ({"sasl_password": Secret("")}, "kafka.sasl_password"),
        ({"sasl_username": ""}, "kafka.sasl_username"),
        ({"ssl_certfile": "client.pem"}, "kafka.ssl_keyfile"),
        ({"bootstrap_servers": " , "}, "kafka.bootstrap_servers"),
        ({"bootstrap_servers": "k1"}, "kafka.bootstrap_servers"),
    ],
)
def test_unusable_security_settings_name_the_setting(change: dict, setting: str):
    with pytest.raises(SettingsError, match=setting.replace(".", r"\.")):
        producer_kwargs(dataclasses.replace(SCRAM, **change))


def test_bootstrap_list_strips_spaces():
    assert bootstrap_list(KafkaSettings(bootstrap_servers=" a:1 ,b:2,")) == ["a:1", "b:2"]


def test_topic_prefix_gets_a_separator_and_is_checked():
    assert topic_names(KafkaSettings(topic_prefix="site1")).raw == "site1.ais.raw.v1"
    assert topic_names(KafkaSettings(topic_prefix="site1-")).alerts == "site1-sts.alerts.v1"
    assert topic_names(KafkaSettings()).dead_letter == "ais.dead-letter.v1"
    with pytest.raises(SettingsError, match=r"kafka\.topic_prefix"):
        topic_names(KafkaSettings(topic_prefix="bad prefix"))


@given(st.binary(max_size=3000))
def test_fast_crc32c_agrees_with_kafka_pythons_own(data: bytes):
    from kafka.record import _crc32c, default_records

    assert kafka_clients.FAST_CRC32C, "google-crc32c (a dependency) should be installed"
    view = memoryview(bytearray(data))
    assert default_records.calc_crc32c(view) == _crc32c.crc(view)


def test_fast_crc32c_matches_the_standard_check_value():
    from kafka.record import default_records

    # CRC-32C of "123456789" is 0xE3069283 (RFC 3720, appendix B.4).
    assert default_records.calc_crc32c(memoryview(bytearray(b"123456789"))) == 0xE3069283
