"""The numbers that define an encounter, as plain values.

Defaults follow Global Fishing Watch's published encounter rule: two vessels within 500 m of
each other for at least 2 hours while both travel at a median speed below 2 knots, pieces
less than 4 hours apart merged, positions interpolated across gaps shorter than an hour, and
encounters within 10 km of a port or anchorage left out. `config.settings` builds this from
the user's settings file; the detectors never read settings themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from detectors.anomalies.params import AnomalyParams, RiskParams

# AIS ship types whose meetings with other ships are routine work, not transfers:
# 31/32 towing, 50 pilot, 51 search and rescue, 52 tug, 53 port tender, 55 law enforcement.
SERVICE_SHIP_TYPES: frozenset[int] = frozenset({31, 32, 50, 51, 52, 53, 55})


@dataclass(frozen=True, slots=True)
class DetectionParams:
    """Every threshold of the encounter detector, with units in the names."""

    max_encounter_dist_m: float = 500.0
    max_median_speed_kn: float = 2.0
    min_encounter_duration_s: float = 2 * 3600.0
    max_merge_gap_s: float = 4 * 3600.0
    max_interpolation_gap_s: float = 3600.0
    # Tracks are resampled on a fixed grid of event times (multiples of tick_s since the
    # epoch), the same grid in every process, so that the stream and the offline command
    # compare the same instants.
    tick_s: float = 300.0
    # How late (in event time) a message may arrive and still be used.
    allowed_lateness_s: float = 600.0
    # A position may stand for a tick it precedes by at most this much when no later
    # position is known (and follow it by as much when it is a track's first).
    max_hold_s: float = 300.0
    update_interval_s: float = 1800.0
    # Vessels silent this long are forgotten (their state is dropped).
    forget_after_s: float = 24 * 3600.0
    port_exclusion_radius_m: float = 10_000.0
    nearest_port_search_radius_m: float = 100_000.0
    excluded_ship_types: frozenset[int] = field(default=SERVICE_SHIP_TYPES)
    # Zones to alert in: an empty tuple means every EEZ. Entries are ISO 3166 alpha-3 codes
    # of the sovereign (or territory) or Marine Regions MRGIDs as strings.
    alert_zones: tuple[str, ...] = ()
    alert_high_seas: bool = False
    # Dark transfers, identity conflicts, jumps, identity changes, gaps and the risk score;
    # filled from the [anomalies] and [risk] settings sections (not part of [detection]).
    anomalies: AnomalyParams = field(default_factory=AnomalyParams)
    risk: RiskParams = field(default_factory=RiskParams)

    def __post_init__(self) -> None:
        positive = {
            "max_encounter_dist_m": self.max_encounter_dist_m,
            "max_median_speed_kn": self.max_median_speed_kn,
            "tick_s": self.tick_s,
            "max_interpolation_gap_s": self.max_interpolation_gap_s,
            "update_interval_s": self.update_interval_s,
            "forget_after_s": self.forget_after_s,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        non_negative = {
            "min_encounter_duration_s": self.min_encounter_duration_s,
            "max_merge_gap_s": self.max_merge_gap_s,
            "allowed_lateness_s": self.allowed_lateness_s,
            "max_hold_s": self.max_hold_s,
            "port_exclusion_radius_m": self.port_exclusion_radius_m,
            "nearest_port_search_radius_m": self.nearest_port_search_radius_m,
        }
        for name, value in non_negative.items():
            if not value >= 0:
                raise ValueError(f"{name} must be zero or positive, got {value!r}")
        if self.max_hold_s > self.tick_s:
            raise ValueError("max_hold_s must not exceed tick_s")
        if self.forget_after_s < self.max_merge_gap_s:
            raise ValueError("forget_after_s must be at least max_merge_gap_s")
