"""The Kafka topics of stswatch: versioned names, keys, partition counts, and their creation.

| topic                | key                          | value                                  |
|----------------------|------------------------------|----------------------------------------|
| `ais.raw.v1`         | source name                  | batch of raw lines (`streams.raw`)     |
| `ais.positions.v1`   | MMSI                         | decoded position or static report      |
| `ais.shards.v1`      | coarse H3 cell (shard)       | position routed to a spatial shard     |
| `sts.alerts.v1`      | sorted vessel pair `A-B`     | alert (see the alert schema)           |
| `ais.dead-letter.v1` | source name                  | original bytes, reason, source, offset |

The version in each name changes when the value format changes incompatibly, so that old and
new producers never share a topic. `kafka.topic_prefix` is put in front of every name (a `.` is
added when the prefix does not already end with `.`, `-` or `_`), so that several deployments
or test runs can share one cluster.

Every topic gets `kafka.partitions` partitions and `kafka.replication_factor` replicas. An
existing topic is never changed: partition counts cannot be lowered, raising them would move
keys to other partitions (and tansu has no CreatePartitions), so a mismatch is reported, not
fixed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from config.settings import KafkaSettings, Settings, SettingsError
from detectors.errors import StswatchError
from streams.kafka_clients import DEFAULT_BOOTSTRAP_TIMEOUT_S, admin_kwargs, connect

log = logging.getLogger(__name__)

RAW_V1 = "ais.raw.v1"
POSITIONS_V1 = "ais.positions.v1"
SHARDS_V1 = "ais.shards.v1"
ALERTS_V1 = "sts.alerts.v1"
DEAD_LETTER_V1 = "ais.dead-letter.v1"

# Kafka's own limits on topic names.
_LEGAL_NAME = re.compile(r"[A-Za-z0-9._-]+")
_MAX_NAME_LENGTH = 249


class TopicError(StswatchError):
    """A topic could not be created or inspected."""


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The full (prefixed) name of each stswatch topic."""

    raw: str
    positions: str
    shards: str
    alerts: str
    dead_letter: str

    def all(self) -> tuple[str, ...]:
        return (self.raw, self.positions, self.shards, self.alerts, self.dead_letter)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as stswatch wants it; `key` and `value` say what its messages hold."""

    name: str
    partitions: int
    replication_factor: int
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class TopicsReport:
    """What `ensure_topics` found and did."""

    created: tuple[str, ...]
    existing: tuple[str, ...]
    # Existing topics whose partition count differs from the setting: name -> actual count.
    partition_mismatch: dict[str, int]


def _prefix(kafka: KafkaSettings) -> str:
    prefix = kafka.topic_prefix
    if prefix and not prefix.endswith((".", "-", "_")):
        prefix += "."
    if prefix and not _LEGAL_NAME.fullmatch(prefix):
        raise SettingsError(
            f"setting kafka.topic_prefix: {kafka.topic_prefix!r} may hold only letters, "
            "digits, '.', '_' and '-'"
        )
    if len(prefix) + len(DEAD_LETTER_V1) > _MAX_NAME_LENGTH:
        raise SettingsError("setting kafka.topic_prefix: too long for Kafka topic names")
    return prefix


def topic_names(kafka: KafkaSettings) -> TopicNames:
    """The topic names with `kafka.topic_prefix` applied."""
    prefix = _prefix(kafka)
    return TopicNames(
        raw=prefix + RAW_V1,
        positions=prefix + POSITIONS_V1,
        shards=prefix + SHARDS_V1,
        alerts=prefix + ALERTS_V1,
        dead_letter=prefix + DEAD_LETTER_V1,
    )


def topic_specs(kafka: KafkaSettings) -> tuple[TopicSpec, ...]:
    """Every stswatch topic with its partition count, replication and message layout."""
    names = topic_names(kafka)

    def spec(name: str, key: str, value: str) -> TopicSpec:
        return TopicSpec(name, kafka.partitions, kafka.replication_factor, key, value)

    return (
        spec(names.raw, "source name", "batch of raw lines, streams.raw format v1"),
        spec(names.positions, "MMSI", "decoded position or static report"),
        spec(names.shards, "coarse H3 cell", "position routed to a spatial shard"),
        spec(names.alerts, "sorted vessel pair mmsiA-mmsiB", "alert JSON"),
        spec(names.dead_letter, "source name", "original bytes with reason, source, offset"),
    )


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for description in admin.describe_topics(names):
        counts[str(description["name"])] = len(description["partitions"])
    return counts


def ensure_topics(
    settings: Settings, *, bootstrap_timeout_s: float = DEFAULT_BOOTSTRAP_TIMEOUT_S
) -> TopicsReport:
    """Create the stswatch topics that do not exist yet; leave existing ones alone.

    Idempotent: calling it again (or from several processes at once) creates nothing more.
    Raises `BrokerUnreachableError` (naming `kafka.bootstrap_servers`) when no broker answers
    and `TopicError` when the broker refuses to create a topic.
    """
    kafka = settings.kafka
    specs = topic_specs(kafka)
    admin = connect(
        kafka, KafkaAdminClient, **admin_kwargs(kafka, bootstrap_timeout_s=bootstrap_timeout_s)
    )
    try:
        present = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in present]
        created: list[str] = []
        for spec in missing:
            try:
                admin.create_topics([NewTopic(spec.name, spec.partitions, spec.replication_factor)])
                created.append(spec.name)
                log.info("created topic %s (%d partitions)", spec.name, spec.partitions)
            except TopicAlreadyExistsError:
                # Another process created it between our listing and our request.
                pass
            except KafkaError as err:
                raise TopicError(f"cannot create topic {spec.name}: {err}") from None
        existing = [spec.name for spec in specs if spec.name not in created]
        mismatch: dict[str, int] = {}
        if existing:
            counts = _partition_counts(admin, existing)
            for spec in specs:
                actual = counts.get(spec.name)
                if actual is not None and actual != spec.partitions:
                    mismatch[spec.name] = actual
                    log.warning(
                        "topic %s has %d partitions, kafka.partitions says %d; left as is",
                        spec.name,
                        actual,
                        spec.partitions,
                    )
        return TopicsReport(tuple(created), tuple(existing), mismatch)
    except KafkaError as err:
        raise TopicError(f"cannot inspect topics: {err}") from None
    finally:
        admin.close()
