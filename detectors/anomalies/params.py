"""The numbers behind the anomaly detections and the risk score, as plain values.

`config.settings` builds these from the `[anomalies]` and `[risk]` sections and hands them to
the detector inside `DetectionParams` (fields `anomalies` and `risk`), so that every process
that runs an `EncounterDetector` (the offline command, each stream shard) uses the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

# Alert types (the `type` field of the alert contract).
ALERT_STS = "sts"
ALERT_DARK_STS = "dark_sts"
ALERT_IDENTITY_CONFLICT = "identity_conflict"
ALERT_POSITION_JUMP = "position_jump"
ALERT_IDENTITY_CHANGE = "identity_change"
ALERT_AIS_GAP = "ais_gap"
ALERT_TYPES: tuple[str, ...] = (
    ALERT_STS,
    ALERT_DARK_STS,
    ALERT_IDENTITY_CONFLICT,
    ALERT_POSITION_JUMP,
    ALERT_IDENTITY_CHANGE,
    ALERT_AIS_GAP,
)


@dataclass(frozen=True, slots=True)
class AnomalyParams:
    """Thresholds of dark transfers, identity conflicts, jumps, identity changes, gaps."""

    enabled: bool = True
    # --- segments: an MMSI's positions split into tracks a ship could sail ---------------
    # A position joins a segment it can reach from that segment's last position at this
    # speed (Global Fishing Watch's segmenter uses the same idea), plus a fixed allowance
    # for GPS noise and positions a few seconds apart.
    max_segment_speed_kn: float = 50.0
    position_slack_m: float = 1000.0
    # Side segments (positions the main track cannot reach) kept per MMSI, and how long one
    # is kept without a new position.
    max_side_segments: int = 3
    side_segment_expiry_s: float = 7200.0
    # --- identity_conflict: the MMSI is heard from two places at once, again and again ----
    conflict_min_positions: int = 3
    conflict_min_duration_s: float = 600.0
    # The conflict is closed once no position came from a second place for this long.
    conflict_close_after_s: float = 7200.0
    # --- position_jump: the track leaps and carries on from the new place -----------------
    jump_min_distance_m: float = 2000.0
    jump_confirm_positions: int = 3
    jump_confirm_s: float = 600.0
    # --- ais_gap: silences this long are recorded (and alerted when they end) ------------
    gap_min_s: float = 6 * 3600.0
    # Gaps are kept this long per vessel for the risk score of later alerts.
    gap_memory_s: float = 7 * 86400.0
    # --- dark_sts: one vessel goes silent next to a slow vessel ---------------------------
    dark_min_silence_s: float = 3600.0
    # The partner must stay within this distance of where the silent vessel vanished (and
    # slow) for the whole silence, or the silent vessel must reappear this close to it.
    dark_loiter_radius_m: float = 5000.0
    dark_reappear_distance_m: float = 1500.0
    # A silence longer than this closes the dark transfer (the vessel is gone).
    dark_max_silence_s: float = 86400.0
    # --- identity_change -------------------------------------------------------------------
    # A new name, call sign, IMO (or a new MMSI for an IMO) counts once this many reports in
    # a row carry it: two transmitters sharing an MMSI then do not flip-flop the history.
    identity_confirm_reports: int = 2
    identity_memory_s: float = 90 * 86400.0
    # Per-vessel alerts (identity_change) are raised only when the vessel's last position is
    # at most this old, and by the shard that owns that position.
    vessel_position_max_age_s: float = 1800.0
    # Alert types that are not raised near a port or anchorage (within the detection's
    # port_exclusion_radius_m): switching AIS off at a berth is routine.
    port_suppressed_types: tuple[str, ...] = (ALERT_DARK_STS, ALERT_AIS_GAP)

    def __post_init__(self) -> None:
        positive = {
            "max_segment_speed_kn": self.max_segment_speed_kn,
            "side_segment_expiry_s": self.side_segment_expiry_s,
            "conflict_close_after_s": self.conflict_close_after_s,
            "gap_min_s": self.gap_min_s,
            "dark_min_silence_s": self.dark_min_silence_s,
            "dark_loiter_radius_m": self.dark_loiter_radius_m,
            "dark_reappear_distance_m": self.dark_reappear_distance_m,
            "identity_memory_s": self.identity_memory_s,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        at_least_one = {
            "max_side_segments": self.max_side_segments,
            "conflict_min_positions": self.conflict_min_positions,
            "jump_confirm_positions": self.jump_confirm_positions,
            "identity_confirm_reports": self.identity_confirm_reports,
        }
        for name, count in at_least_one.items():
            if count < 1:
                raise ValueError(f"{name} must be at least 1, got {count!r}")
        non_negative = {
            "position_slack_m": self.position_slack_m,
            "conflict_min_duration_s": self.conflict_min_duration_s,
            "jump_min_distance_m": self.jump_min_distance_m,
            "jump_confirm_s": self.jump_confirm_s,
            "gap_memory_s": self.gap_memory_s,
            "vessel_position_max_age_s": self.vessel_position_max_age_s,
        }
        for name, value in non_negative.items():
            if not value >= 0:
                raise ValueError(f"{name} must be zero or positive, got {value!r}")
        if self.dark_max_silence_s < self.dark_min_silence_s:
            raise ValueError("dark_max_silence_s must be at least dark_min_silence_s")
        unknown = set(self.port_suppressed_types) - set(ALERT_TYPES)
        if unknown:
            raise ValueError(f"port_suppressed_types: unknown alert types {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class RiskParams:
    """Weights of the risk score (see docs/risk.md). A score is the sum, capped at 100."""

    # Flags of convenience: ISO 3166 alpha-3 codes of the flag states. The settings loader
    # fills this from `flags_of_convenience_file` (plus any codes listed in the settings).
    flags_of_convenience_file: str = "flags_of_convenience.csv"
    flags_of_convenience: tuple[str, ...] = ()
    weight_flag_of_convenience: float = 10.0  # per vessel
    weight_tanker: float = 10.0  # per vessel of AIS type 80-89
    weight_unknown_type: float = 10.0  # per vessel with no (or type 0) ship type
    weight_identity_change: float = 10.0  # per change in the window, per vessel
    max_identity_change_weight: float = 25.0
    identity_change_window_s: float = 90 * 86400.0
    weight_ais_gap: float = 15.0  # a vessel silent gap_min_s or longer near the alert
    gap_window_s: float = 48 * 3600.0
    gap_radius_m: float = 50_000.0
    weight_night: float = 10.0  # times the share of the alert's interval in darkness
    # "Night": the sun's centre is below this elevation (-0.833: the upper limb touches the
    # horizon, with standard refraction, which is how sunrise and sunset are defined).
    night_sun_elevation_deg: float = -0.833
    weight_duration_per_hour: float = 2.0  # per hour of a pair alert's duration
    max_duration_weight: float = 15.0
    # High-risk zones: EEZ selectors (ISO alpha-3 code or MRGID) and boxes written
    # "NAME: LAT_MIN, LON_MIN, LAT_MAX, LON_MAX" (LON_MIN > LON_MAX crosses the antimeridian).
    high_risk_zones: tuple[str, ...] = ()
    high_risk_areas: tuple[str, ...] = ()
    weight_high_risk_zone: float = 20.0
    weight_watchlist: float = 40.0  # per watchlist with a hit
    # What each alert type is worth on its own.
    weight_type_sts: float = 10.0
    weight_type_dark_sts: float = 30.0
    weight_type_identity_conflict: float = 20.0
    weight_type_position_jump: float = 15.0
    weight_type_identity_change: float = 15.0
    weight_type_ais_gap: float = 10.0

    def __post_init__(self) -> None:
        for name in (
            "weight_flag_of_convenience",
            "weight_tanker",
            "weight_unknown_type",
            "weight_identity_change",
            "max_identity_change_weight",
            "weight_ais_gap",
            "weight_night",
            "weight_duration_per_hour",
            "max_duration_weight",
            "weight_high_risk_zone",
            "weight_watchlist",
            "weight_type_sts",
            "weight_type_dark_sts",
            "weight_type_identity_conflict",
            "weight_type_position_jump",
            "weight_type_identity_change",
            "weight_type_ais_gap",
            "identity_change_window_s",
            "gap_window_s",
            "gap_radius_m",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name} must be zero or positive, got {value!r}")
        self.areas()  # raises ValueError on a malformed box

    def type_weight(self, alert_type: str) -> float:
        return float(getattr(self, f"weight_type_{alert_type}", 0.0))

    def areas(self) -> tuple[tuple[str, float, float, float, float], ...]:
        """The high-risk boxes as (name, lat_min, lon_min, lat_max, lon_max)."""
        out = []
        for text in self.high_risk_areas:
            name, sep, numbers = text.rpartition(":")
            try:
                if not sep or not name.strip():
                    raise ValueError("expected NAME: LAT_MIN, LON_MIN, LAT_MAX, LON_MAX")
                values = [float(v) for v in numbers.split(",")]
                if len(values) != 4:
                    raise ValueError("expected four numbers")
            except ValueError as err:
                raise ValueError(f"high_risk_areas entry {text!r}: {err}") from None
            lat_min, lon_min, lat_max, lon_max = values
            if not (-90 <= lat_min <= lat_max <= 90 and -180 <= lon_min <= 180):
                raise ValueError(f"high_risk_areas entry {text!r}: box out of range")
            if not -180 <= lon_max <= 180:
                raise ValueError(f"high_risk_areas entry {text!r}: box out of range")
            out.append((name.strip(), lat_min, lon_min, lat_max, lon_max))
        return tuple(out)
