"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The structure is read with PyYAML and checked against what the services need: one image
built from the project's Dockerfile for every stswatch service, health checks everywhere,
ports published on 127.0.0.1 only, secrets from files (never in the compose file, the
environment or a command line), and stswatch command lines that the real argument parser
accepts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from stswatch.cli import build_parser

yaml = pytest.importorskip("yaml")

PROJECT = Path(__file__).resolve().parents[2]
STSWATCH_SERVICES = ("worker", "ingest", "api")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    return document


def test_the_services_are_kafka_redis_workers_ingest_and_api(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"kafka", "redis", *STSWATCH_SERVICES}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "KRaft" in (PROJECT / "docker-compose.yml").read_text()
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert services["redis"]["image"].startswith("redis:")


def test_stswatch_services_share_one_image_built_from_the_dockerfile(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    builds = {name: services[name].get("build") for name in STSWATCH_SERVICES}
    images = {services[name].get("image") for name in STSWATCH_SERVICES}
    assert set(builds.values()) == {"."}
    assert len(images) == 1
    for name in STSWATCH_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def _published(port: Any) -> tuple[str, str]:
    """`(host_ip, rest)` of a port mapping in short or long syntax."""
    if isinstance(port, dict):
        return str(port.get("host_ip", "")), str(port.get("published", ""))
    text = str(port)
    parts = text.split(":")
    if len(parts) == 3:
        return parts[0], ":".join(parts[1:])
    return "", text  # "8000:8000" or "8000": every interface


def test_published_ports_listen_on_localhost_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip, _ = _published(port)
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond localhost"
    # Redis is not published at all, Kafka only its localhost listener.
    assert "ports" not in compose["services"]["redis"]
    kafka_ports = compose["services"]["kafka"]["ports"]
    assert [_published(p)[0] for p in kafka_ports] == ["127.0.0.1"]
    advertised = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert "HOST://127.0.0.1:" in advertised


def test_the_port_check_catches_a_public_binding() -> None:
    assert _published("6379:6379")[0] == ""
    assert _published("0.0.0.0:9092:9092")[0] == "0.0.0.0"
    assert _published({"published": 8000, "target": 8000})[0] == ""


SECRET_WORDS = re.compile(r"(password|passwd|secret|token|requirepass)", re.IGNORECASE)


def test_secrets_come_from_files_not_from_the_compose_file(compose: dict[str, Any]) -> None:
    assert set(compose["secrets"]) == {"redis_conf", "stswatch_toml"}
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            assert not SECRET_WORDS.search(key), f"{name}: secret-like variable {key}"
            assert not SECRET_WORDS.search(str(value)), f"{name}: {key}"
        command = service.get("command") or []
        words = command if isinstance(command, list) else command.split()
        # Paths of mounted secret files are fine; a secret's value is not.
        values = [str(word) for word in words if not str(word).startswith("/run/secrets/")]
        assert not any(SECRET_WORDS.search(word) for word in values), name
        for word in words:
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", str(word)), (
                f"{name}: credentials in {word}"
            )
    assert compose["services"]["redis"]["command"] == ["redis-server", "/run/secrets/redis.conf"]
    for name in STSWATCH_SERVICES:
        targets = [s["target"] for s in compose["services"][name]["secrets"]]
        assert targets == ["stswatch.toml"]
        assert "/run/secrets/stswatch.toml" in compose["services"][name]["command"]


@pytest.mark.parametrize("name", STSWATCH_SERVICES)
def test_stswatch_command_lines_parse_with_the_real_cli(compose: dict[str, Any], name: str) -> None:
    command = [str(word) for word in compose["services"][name]["command"]]
    args = build_parser().parse_args(command)
    assert args.command == name
    assert callable(args.func)


def test_services_reach_kafka_and_redis_by_their_compose_names(compose: dict[str, Any]) -> None:
    advertised = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert "INTERNAL://kafka:9092" in advertised
    for name in STSWATCH_SERVICES:
        command = compose["services"][name]["command"]
        assert "kafka:9092" in command
    assert "redis://redis:6379/0" in compose["services"]["worker"]["command"]


def test_dockerfile_installs_every_package_and_runs_as_a_user() -> None:
    text = (PROJECT / "Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert lines[0].startswith("FROM python:3.11")
    packages = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    for top in {package.split(".")[0] for package in packages}:
        assert top in copied, f"package {top} is not copied into the image"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["stswatch"]' in lines
    assert any(line.startswith("RUN pip install .") for line in lines)
