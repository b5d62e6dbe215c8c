"""Settings: defaults, overrides, validation that names the setting, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import settings as config
from config.settings import Secret, SettingsError


def test_the_shipped_defaults_match_the_dataclass_defaults() -> None:
    assert config.load() == config.Settings()


def test_a_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[detection]\nmax_encounter_dist_m = 300\n[kafka]\npartitions = 8\n")
    loaded = config.load(path)
    assert loaded.detection.max_encounter_dist_m == 300.0
    assert loaded.kafka.partitions == 8
    assert loaded.detection.min_encounter_duration_s == 7200.0


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[detection]\nmax_encounter_dist_m = -5\n", "max_encounter_dist_m"),
        ("[detection]\nmax_encounter_dist = 5\n", "detection.max_encounter_dist"),
        ("[kafka]\npartitions = 'many'\n", "kafka.partitions"),
        ("[nonsense]\nx = 1\n", "[nonsense]"),
        ("[detection]\nalert_high_seas = 'yes'\n", "detection.alert_high_seas"),
    ],
)
def test_bad_settings_stop_with_one_line_that_names_the_setting(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        config.load(path)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_secrets_are_masked_in_descriptions_and_reprs() -> None:
    settings = config.apply(
        config.Settings(), {"redis": {"password": "hunter2"}, "kafka": {"sasl_password": "pw"}}
    )
    assert settings.redis.password == Secret("hunter2")
    described = str(config.describe(settings)) + repr(settings)
    assert "hunter2" not in described
    assert "pw'" not in described


def test_to_toml_round_trips(tmp_path: Path) -> None:
    settings = config.apply(
        config.Settings(),
        {
            "detection": {"alert_zones": ["CHN", "8486"], "excluded_ship_types": [52]},
            "redis": {"password": 'se"cret'},
            "kafka": {"topic_prefix": "x."},
        },
    )
    path = tmp_path / "round.toml"
    path.write_text(config.to_toml(settings))
    assert config.load(path) == settings


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[kafka]\npartitions = 0\n", "partitions"),
        ("[kafka]\nreplication_factor = 0\n", "replication_factor"),
        ("[stream]\ntable_snapshot_interval_s = 0\n", "table_snapshot_interval_s"),
        ("[stream]\nshard_resolution = 16\n", "shard_resolution"),
        ("[stream]\nbroker_heartbeat_interval_s = 40.0\n", "broker_heartbeat_interval_s"),
    ],
)
def test_stream_and_kafka_settings_are_checked_too(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=named):
        config.load(path)
