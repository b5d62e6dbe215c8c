"""stswatch settings: defaults, a TOML file on top, command-line flags on top of that.

Nothing here reads the environment: every value comes from `config/defaults.toml`, the file
the user names with `--config`, or an explicit flag. Unknown keys and bad values stop the
program at start-up with one line that names the setting (`SettingsError`).

Secrets (passwords, tokens) are held as `Secret` so that printing the settings never shows
them; `describe()` is what processes log at start.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from detectors.anomalies.params import AnomalyParams, RiskParams
from detectors.errors import StswatchError
from detectors.params import DetectionParams


class SettingsError(StswatchError, ValueError):
    """A setting is unknown, missing or out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that never appears in logs or reprs."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('***')" if self.value else "Secret('')"

    def __str__(self) -> str:
        return "***" if self.value else ""

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Boundary and port files. Empty paths mean: not used."""

    eez_path: str = ""
    ports_path: str = ""


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: Secret = field(default_factory=lambda: Secret(""))
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    topic_prefix: str = ""
    partitions: int = 4
    replication_factor: int = 1

    def __post_init__(self) -> None:
        if self.partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {self.partitions}")
        if self.replication_factor < 1:
            raise ValueError(
                f"replication_factor must be at least 1, got {self.replication_factor}"
            )


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str = "redis://127.0.0.1:6379/0"
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    ssl_ca_certs: str = ""
    key_prefix: str = "stswatch"
    vessel_ttl_s: int = 2 * 24 * 3600
    encounter_ttl_s: int = 7 * 24 * 3600
    # Recent track per vessel (for the API and the map): at most this many points, one per
    # track_interval_s of event time at most.
    track_points: int = 120
    track_interval_s: float = 120.0
    # Alert events kept per encounter (its history).
    alert_history: int = 100
    # The shard agent writes vessel status at most this often (seconds of wall time): a
    # vessel reporting several times in between is written once, with its newest position.
    status_flush_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.status_flush_interval_s >= 0:
            raise ValueError(
                f"status_flush_interval_s must be 0 or more, got {self.status_flush_interval_s!r}"
            )


@dataclass(frozen=True, slots=True)
class StreamSettings:
    app_id: str = "stswatch"
    # Coarse H3 resolution of the spatial shards (res 2: cells about 160 km across).
    shard_resolution: int = 2
    # Positions this close to a shard's edge are also sent to the neighbouring shard.
    shard_margin_m: float = 30_000.0
    raw_batch_max_lines: int = 500
    # Publish every decoded record on ais.positions.v1 (one message each, key MMSI).
    publish_records: bool = True
    broker_session_timeout_s: float = 30.0
    broker_heartbeat_interval_s: float = 3.0
    broker_max_poll_interval_s: float = 1000.0
    table_snapshot_interval_s: float = 5.0
    # How long a worker's fetch may wait at the broker for records (Faust's own: 1,500 ms).
    # tansu answers a waiting fetch of several partitions only when the wait is over. It also
    # stops reading stored records then: on S3-backed tansu use 1,500 (docs/reliability.md).
    consumer_fetch_max_wait_ms: int = 100
    state_dir: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.shard_resolution <= 15:
            raise ValueError(f"shard_resolution must be 0-15, got {self.shard_resolution}")
        positive = {
            "shard_margin_m": self.shard_margin_m,
            "raw_batch_max_lines": self.raw_batch_max_lines,
            "broker_session_timeout_s": self.broker_session_timeout_s,
            "broker_heartbeat_interval_s": self.broker_heartbeat_interval_s,
            "broker_max_poll_interval_s": self.broker_max_poll_interval_s,
            "table_snapshot_interval_s": self.table_snapshot_interval_s,
            "consumer_fetch_max_wait_ms": self.consumer_fetch_max_wait_ms,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.broker_heartbeat_interval_s >= self.broker_session_timeout_s:
            raise ValueError("broker_heartbeat_interval_s must be below broker_session_timeout_s")


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """`stswatch api`: the status API and the live map."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Empty: no authentication (fine on 127.0.0.1; set one before listening elsewhere).
    bearer_token: Secret = field(default_factory=lambda: Secret(""))
    # Browser origins allowed to call the API from other sites; empty: none (CORS closed).
    cors_origins: tuple[str, ...] = ()
    # Map background tiles ({z}/{x}/{y}); empty: no tiles, outlines and tracks only.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "(c) OpenStreetMap contributors"
    map_refresh_s: float = 5.0
    # Consumer group whose lag /healthz checks; empty: stream.app_id (the workers' group).
    worker_group_id: str = ""
    max_worker_lag_messages: int = 10000
    kafka_timeout_s: float = 3.0
    # Douglas-Peucker tolerance for the EEZ outlines served to the map, in degrees.
    eez_simplify_deg: float = 0.01
    max_results: int = 1000


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """`stswatch alerts webhook`: POST every alert to a URL, commit only after a 2xx."""

    url: str = ""
    group_id: str = "stswatch-webhook"
    # Sent as `Authorization: Bearer ...` when set.
    bearer_token: Secret = field(default_factory=lambda: Secret(""))
    # When set, each request carries `X-Stswatch-Signature: sha256=<HMAC of the body>`.
    signing_secret: Secret = field(default_factory=lambda: Secret(""))
    timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Prometheus exporters of the workers (the API serves /metrics itself)."""

    host: str = "127.0.0.1"
    # 0: no exporter. Give each worker on one machine its own port.
    worker_port: int = 0


@dataclass(frozen=True, slots=True)
class WatchlistSettings:
    """Lists of vessels of interest (CSV or JSON files); a hit raises an alert's risk."""

    paths: tuple[str, ...] = ()
    # How often a running worker or `stswatch detect` looks at the files' modification times.
    check_interval_s: float = 10.0
    # Names match when their similarity (0-1, after normalisation) reaches this.
    name_similarity: float = 0.9


@dataclass(frozen=True, slots=True)
class Settings:
    detection: DetectionParams = field(default_factory=DetectionParams)
    reference: ReferenceData = field(default_factory=ReferenceData)
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    stream: StreamSettings = field(default_factory=StreamSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    anomalies: AnomalyParams = field(default_factory=AnomalyParams)
    risk: RiskParams = field(default_factory=RiskParams)
    watchlists: WatchlistSettings = field(default_factory=WatchlistSettings)

    def __post_init__(self) -> None:
        # The [anomalies] and [risk] sections are the source of truth; the detector, handed
        # `detection` alone, reads them from there. (Frozen: set through object.__setattr__.)
        risk = _resolved_risk(self.risk)
        object.__setattr__(self, "risk", risk)
        detection = self.detection
        if detection.anomalies != self.anomalies or detection.risk != risk:
            detection = dataclasses.replace(detection, anomalies=self.anomalies, risk=risk)
            object.__setattr__(self, "detection", detection)


_SECTIONS: dict[str, type[Any]] = {
    "detection": DetectionParams,
    "reference": ReferenceData,
    "kafka": KafkaSettings,
    "redis": RedisSettings,
    "stream": StreamSettings,
    "api": ApiSettings,
    "webhook": WebhookSettings,
    "metrics": MetricsSettings,
    "anomalies": AnomalyParams,
    "risk": RiskParams,
    "watchlists": WatchlistSettings,
}

# Sections the detector also needs: copied into DetectionParams fields of the same name,
# because the detector is handed `settings.detection` alone (by the offline command and by
# every stream shard). They are not settings of [detection] itself.
_LINKED_INTO_DETECTION = ("anomalies", "risk")


def _own_fields(section: str, cls: type[Any]) -> list[dataclasses.Field[Any]]:
    fields = dataclasses.fields(cls)
    if section == "detection":
        return [f for f in fields if f.name not in _LINKED_INTO_DETECTION]
    return list(fields)


def _coerce(section: str, name: str, declared: Any, value: Any) -> Any:
    """Turn a TOML value into the declared field type, or say which setting is wrong."""
    where = f"{section}.{name}"
    kind = str(declared)
    try:
        if "frozenset" in kind:
            return frozenset(int(v) for v in value)
        if "tuple" in kind:
            if isinstance(value, str):
                raise TypeError("expected a list")
            return tuple(str(v) for v in value)
        if "Secret" in kind:
            return Secret(str(value))
        if kind in ("float", "<class 'float'>"):
            if isinstance(value, bool):
                raise TypeError("expected a number")
            return float(value)
        if kind in ("int", "<class 'int'>"):
            if isinstance(value, bool) or int(value) != value:
                raise TypeError("expected an integer")
            return int(value)
        if kind in ("bool", "<class 'bool'>"):
            if not isinstance(value, bool):
                raise TypeError("expected true or false")
            return value
        if kind in ("str", "<class 'str'>"):
            if not isinstance(value, str):
                raise TypeError("expected a string")
            return value
    except (TypeError, ValueError) as err:
        raise SettingsError(f"setting {where}: {err} (got {value!r})") from None
    return value


def _build_section(section: str, cls: type[Any], values: dict[str, Any], base: Any) -> Any:
    known = {f.name: f for f in _own_fields(section, cls)}
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            raise SettingsError(
                f"unknown setting {section}.{name} (known: {', '.join(sorted(known))})"
            )
        changes[name] = _coerce(section, name, known[name].type, value)
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as err:
        raise SettingsError(f"setting {section}: {err}") from None


def apply(settings: Settings, overrides: dict[str, dict[str, Any]]) -> Settings:
    """Return `settings` with `{section: {name: value}}` applied, validated."""
    changes: dict[str, Any] = {}
    for section, values in overrides.items():
        if section not in _SECTIONS:
            raise SettingsError(
                f"unknown settings section [{section}] (known: {', '.join(sorted(_SECTIONS))})"
            )
        if not isinstance(values, dict):
            raise SettingsError(f"settings section [{section}] must be a table")
        base = getattr(settings, section)
        changes[section] = _build_section(section, _SECTIONS[section], values, base)
    return dataclasses.replace(settings, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"settings file {path} is not valid TOML: {err}") from None


def defaults_text() -> str:
    """The shipped defaults file, as documentation of every setting."""
    return resources.files("config").joinpath("defaults.toml").read_text(encoding="utf-8")


def load(path: str | Path | None = None) -> Settings:
    """Defaults, then the shipped defaults file, then the user's file when one is given."""
    settings = apply(Settings(), tomllib.loads(defaults_text()))
    if path:
        settings = apply(settings, _read_toml(Path(path)))
    return settings


@functools.lru_cache(maxsize=16)
def _resolved_risk(risk: RiskParams) -> RiskParams:
    """Risk settings with the flag-of-convenience file read into the list of codes.

    A bare file name is looked up among the shipped tables (`config/data/`); anything else
    is a path. The file's codes are added to those listed in the settings, so resolving
    twice changes nothing (and `to_toml` output loads back to the same settings)."""
    codes = set(risk.flags_of_convenience)
    name = risk.flags_of_convenience_file
    if name:
        if "/" not in name and "\\" not in name:
            shipped = resources.files("config").joinpath("data", name)
            text = shipped.read_text(encoding="utf-8") if shipped.is_file() else None
        else:
            text = None
        if text is None:
            try:
                text = Path(name).read_text(encoding="utf-8")
            except OSError as err:
                raise SettingsError(
                    f"setting risk.flags_of_convenience_file: cannot read {name}: "
                    f"{err.strerror or err}"
                ) from None
        codes.update(flag_codes_from_csv(text, name))
    return dataclasses.replace(risk, flags_of_convenience=tuple(sorted(codes)))


def flag_codes_from_csv(text: str, where: str) -> list[str]:
    """ISO alpha-3 codes from the first column of a CSV with an `iso3` header (lines
    starting with # are comments)."""
    rows = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows or rows[0].split(",")[0].strip().lower() != "iso3":
        raise SettingsError(f"{where}: expected a CSV whose first column is 'iso3'")
    codes = []
    for number, row in enumerate(rows[1:], start=2):
        code = row.split(",")[0].strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise SettingsError(f"{where}: row {number}: {code!r} is not an ISO alpha-3 code")
        codes.append(code)
    return codes


_SECRET_QUERY_KEYS = ("password", "passwd", "pass", "token", "secret", "key", "signature")


def mask_url(url: str) -> str:
    """`url` safe to print: a password in it (`redis://user:pass@host`, `?password=...`)
    shown as `***`. Every setting that holds a URL goes through here in `describe()`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if colon and password else netloc
    query = "&".join(
        f"{name}=***" if sep and name.lower() in _SECRET_QUERY_KEYS and value else item
        for item in parts.query.split("&")
        for name, sep, value in [item.partition("=")]
    )
    if netloc == parts.netloc and query == parts.query:
        return url
    # Written out by hand: urlunsplit drops the "//" of an empty host (unix:///path).
    masked = f"{parts.scheme}://{netloc}{parts.path}"
    masked += f"?{query}" if query else ""
    return masked + (f"#{parts.fragment}" if parts.fragment else "")


def describe(settings: Settings) -> dict[str, dict[str, Any]]:
    """The effective settings as plain data with secrets masked, for start-up logs."""
    out: dict[str, dict[str, Any]] = {}
    for section, cls in _SECTIONS.items():
        values: dict[str, Any] = {}
        for f in _own_fields(section, cls):
            value = getattr(getattr(settings, section), f.name)
            if isinstance(value, Secret):
                value = str(value)
            elif isinstance(value, str) and "://" in value:
                value = mask_url(value)
            elif isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, tuple):
                value = list(value)
            values[f.name] = value
        out[section] = values
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, frozenset | tuple | list):
        items = sorted(value) if isinstance(value, frozenset) else list(value)
        return "[" + ", ".join(_toml_value(v) for v in items) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(settings: Settings) -> str:
    """The settings as a TOML file that `load` reads back to the same values.

    Secrets are written in clear (this is how a parent process hands settings to a worker it
    starts): write the result only to files readable by the owner.
    """
    lines: list[str] = []
    for section, cls in _SECTIONS.items():
        lines.append(f"[{section}]")
        values = getattr(settings, section)
        for f in _own_fields(section, cls):
            lines.append(f"{f.name} = {_toml_value(getattr(values, f.name))}")
        lines.append("")
    return "\n".join(lines)
