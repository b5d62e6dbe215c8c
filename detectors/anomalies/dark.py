"""Dark transfers: a vessel switches AIS off next to a slow vessel.

The STS rule needs both ships to report; a ship that wants to hide its transfer goes silent
alongside the other. At each tick, after the encounter state has moved on:

1. a *candidate* starts when a vessel of a close, slow pair (an encounter the tracker holds)
   has not been heard for more than two ticks, its last position was within the pair's
   close period, and the other vessel still reports: the silent vessel "vanished" there;
2. while the silent vessel stays silent, the partner is checked at every tick it is seen:
   still within `dark_loiter_radius_m` of the vanishing point, and slow;
3. the candidate becomes a `dark_sts` alert (`opened`) when the silence reaches
   `dark_min_silence_s` and the partner loitered there throughout, or when the silent vessel
   reappears after at least that long within `dark_reappear_distance_m` of the partner;
4. the alert is `closed` when the silent vessel is heard again (the silent interval is then
   known) or after `dark_max_silence_s`; a candidate that reappears sooner is dropped.

The alert's place is the vanishing point, so exactly one stream shard reports it (the one
owning that point), as for encounters.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from detectors.anomalies.events import anomaly_alert_id
from detectors.anomalies.params import ALERT_DARK_STS
from detectors.anomalies.segments import VesselAnomalies
from detectors.encounters import PairEncounter
from detectors.geodesy import haversine_m
from detectors.tracks import TickSample

# A vessel unheard for more than this many ticks next to its partner is watched.
_WATCH_AFTER_TICKS = 2


class DarkCandidate:
    """A vessel that went silent next to another, and what the other did meanwhile."""

    __slots__ = (
        "alert_id",
        "closed",
        "distances_m",
        "lat",
        "lon",
        "opened",
        "owned",
        "partner",
        "partner_left",
        "partner_speeds_kn",
        "silent",
        "silent_s",
        "suppressed",
    )

    def __init__(
        self, silent: int, partner: int, silent_s: float, lat: float, lon: float, owned: bool
    ) -> None:
        self.silent = silent
        self.partner = partner
        # The silent vessel's last position: when and where it vanished.
        self.silent_s = silent_s
        self.lat = lat
        self.lon = lon
        self.owned = owned
        self.alert_id = anomaly_alert_id(ALERT_DARK_STS, silent, partner, int(silent_s))
        self.opened = False
        self.closed = False
        self.partner_left = False
        self.suppressed: str | None = None
        self.partner_speeds_kn: list[float] = []
        self.distances_m: list[float] = []

    def to_state(self) -> list[Any]:
        return [
            self.silent,
            self.partner,
            self.silent_s,
            self.lat,
            self.lon,
            self.owned,
            self.opened,
            self.closed,
            self.partner_left,
            self.suppressed,
            self.partner_speeds_kn,
            self.distances_m,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> DarkCandidate:
        (
            silent,
            partner,
            silent_s,
            lat,
            lon,
            owned,
            opened,
            closed,
            partner_left,
            suppressed,
            speeds,
            distances,
        ) = state
        found = cls(int(silent), int(partner), float(silent_s), float(lat), float(lon), bool(owned))
        found.opened = bool(opened)
        found.closed = bool(closed)
        found.partner_left = bool(partner_left)
        found.suppressed = suppressed
        found.partner_speeds_kn = [float(v) for v in speeds]
        found.distances_m = [float(v) for v in distances]
        return found


# What a tick decided about one candidate: ("opened" | "closed", candidate, details).
DarkDecision = tuple[str, DarkCandidate, dict[str, Any]]


class DarkWatcher:
    """All dark-transfer candidates of one detector."""

    def __init__(
        self,
        min_silence_s: float,
        max_silence_s: float,
        loiter_radius_m: float,
        reappear_distance_m: float,
        max_median_speed_kn: float,
        tick_s: float,
        owns: Callable[[float, float], bool] | None,
    ) -> None:
        self.min_silence_s = min_silence_s
        self.max_silence_s = max_silence_s
        self.loiter_radius_m = loiter_radius_m
        self.reappear_distance_m = reappear_distance_m
        self.max_median_speed_kn = max_median_speed_kn
        self.watch_after_s = _WATCH_AFTER_TICKS * tick_s
        self.tick_s = tick_s
        self.owns = owns
        self.candidates: dict[tuple[int, int], DarkCandidate] = {}

    def step(
        self,
        time_s: float,
        pairs: dict[tuple[int, int], PairEncounter],
        vessel_state: Callable[[int], VesselAnomalies | None],
        tick_samples: list[TickSample],
        place: Callable[[DarkCandidate], str | None],
    ) -> list[DarkDecision]:
        """Advance to tick `time_s`; `place(candidate)` says why it must not alert there."""
        decisions: list[DarkDecision] = []
        self._watch_new(time_s, pairs, vessel_state, place)
        if not self.candidates:
            return decisions
        partners = {c.partner for c in self.candidates.values()}
        samples = {s.mmsi: s for s in tick_samples if s.mmsi in partners}
        for key in sorted(self.candidates):
            candidate = self.candidates[key]
            decisions.extend(self._advance(candidate, time_s, vessel_state, samples))
            if candidate.closed:
                del self.candidates[key]
        return decisions

    def _watch_new(
        self,
        time_s: float,
        pairs: dict[tuple[int, int], PairEncounter],
        vessel_state: Callable[[int], VesselAnomalies | None],
        place: Callable[[DarkCandidate], str | None],
    ) -> None:
        for (mmsi_a, mmsi_b), pair in pairs.items():
            if time_s - pair.last_close_s <= self.watch_after_s:
                continue  # both were seen together lately
            if (mmsi_a, mmsi_b) in self.candidates or (mmsi_b, mmsi_a) in self.candidates:
                continue
            state_a = vessel_state(mmsi_a)
            state_b = vessel_state(mmsi_b)
            if state_a is None or state_b is None or state_a.main is None or state_b.main is None:
                continue
            last_a = state_a.main.time_s
            last_b = state_b.main.time_s
            # The one heard last is the partner; the silent one must have vanished while
            # the pair was close (its last position within a tick of the last close tick).
            # (Both silent: the first to fall silent is watched; the other's last position
            # then stands for where it waited.)
            if last_a <= last_b:
                silent, partner, silent_state, silent_s = mmsi_a, mmsi_b, state_a, last_a
                speeds_silent, speeds_partner = pair.speeds_a_kn, pair.speeds_b_kn
            else:
                silent, partner, silent_state, silent_s = mmsi_b, mmsi_a, state_b, last_b
                speeds_silent, speeds_partner = pair.speeds_b_kn, pair.speeds_a_kn
            if time_s - silent_s <= self.watch_after_s:
                continue
            if abs(silent_s - pair.last_close_s) > self.tick_s:
                continue  # it was not close to the partner when it fell silent
            if not speeds_silent or not speeds_partner:
                continue
            if (
                statistics.median(speeds_silent) >= self.max_median_speed_kn
                or statistics.median(speeds_partner) >= self.max_median_speed_kn
            ):
                continue  # ships passing each other, not lying together
            main = silent_state.main
            assert main is not None
            owned = self.owns is None or self.owns(main.lat, main.lon)
            candidate = DarkCandidate(silent, partner, silent_s, main.lat, main.lon, owned)
            candidate.suppressed = place(candidate) if owned else None
            self.candidates[(silent, partner)] = candidate

    def _advance(
        self,
        candidate: DarkCandidate,
        time_s: float,
        vessel_state: Callable[[int], VesselAnomalies | None],
        samples: dict[int, TickSample],
    ) -> list[DarkDecision]:
        silent_state = vessel_state(candidate.silent)
        partner_state = vessel_state(candidate.partner)
        main = silent_state.main if silent_state is not None else None
        if main is None or silent_state is None:
            # The silent vessel was forgotten (silent for a day): the silence has no end.
            return self._close(candidate, time_s, None, partner_state)
        if main.time_s > candidate.silent_s:
            resumed = silent_state.resumed
            if resumed is None or resumed[0] != candidate.silent_s:
                # Heard again in between: the silence is not known, so nothing is claimed.
                return self._close(candidate, time_s, None, partner_state)
            silence_s = resumed[1] - candidate.silent_s
            near = self._near_partner(resumed[2], resumed[3], partner_state)
            if silence_s < self.min_silence_s:
                candidate.closed = True
                return []
            decisions: list[DarkDecision] = []
            if not candidate.opened and near:
                decisions.extend(self._open(candidate, time_s, resumed[1]))
            if candidate.opened:
                decisions.extend(self._close(candidate, time_s, resumed, partner_state))
            candidate.closed = True
            return decisions
        silence_s = time_s - candidate.silent_s
        partner = samples.get(candidate.partner)
        if partner is not None:
            distance_m = haversine_m(candidate.lat, candidate.lon, partner.lat, partner.lon)
            candidate.distances_m.append(distance_m)
            if partner.speed_kn is not None:
                candidate.partner_speeds_kn.append(partner.speed_kn)
            if distance_m > self.loiter_radius_m:
                candidate.partner_left = True
            if (
                not candidate.opened
                and not candidate.partner_left
                and silence_s >= self.min_silence_s
                and candidate.partner_speeds_kn
                and statistics.median(candidate.partner_speeds_kn) < self.max_median_speed_kn
            ):
                return self._open(candidate, time_s, time_s)
        if silence_s > self.max_silence_s:
            decisions = self._close(candidate, time_s, None, partner_state)
            candidate.closed = True
            return decisions
        return []

    def _near_partner(self, lat: float, lon: float, partner_state: VesselAnomalies | None) -> bool:
        if partner_state is None or partner_state.main is None:
            return False
        partner = partner_state.main
        return haversine_m(lat, lon, partner.lat, partner.lon) <= self.reappear_distance_m

    def _open(
        self, candidate: DarkCandidate, time_s: float, last_seen_s: float
    ) -> list[DarkDecision]:
        candidate.opened = True
        if not candidate.owned or candidate.suppressed is not None:
            return []
        return [("opened", candidate, {"last_seen_s": last_seen_s, "resumed": None})]

    def _close(
        self,
        candidate: DarkCandidate,
        time_s: float,
        resumed: tuple[float, float, float, float] | None,
        partner_state: VesselAnomalies | None,
    ) -> list[DarkDecision]:
        candidate.closed = True
        if not candidate.opened or not candidate.owned or candidate.suppressed is not None:
            return []
        near = None
        if resumed is not None:
            near = self._near_partner(resumed[2], resumed[3], partner_state)
        return [
            (
                "closed",
                candidate,
                {
                    "last_seen_s": resumed[1] if resumed is not None else time_s,
                    "resumed": resumed,
                    "reappeared_near_partner": near,
                },
            )
        ]

    def to_state(self) -> list[Any]:
        return [c.to_state() for _, c in sorted(self.candidates.items())]

    def restore(self, state: list[Any]) -> None:
        self.candidates = {}
        for item in state:
            candidate = DarkCandidate.from_state(item)
            self.candidates[(candidate.silent, candidate.partner)] = candidate
