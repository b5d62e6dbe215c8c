"""Readable scenario builders for detector tests: a voyage is a few chained legs.

    tanker = Voyage(636012345, "2024-05-01T00:00Z", 30.5, 123.0, ship_type=80)
    tanker.sail(bearing_deg=90, speed_kn=12, hours=1).drift(hours=4).sail(90, 12, hours=1)
    feeder = Voyage(413000001, ...).follow(tanker, hours=4, offset_m=80)

Legs move the vessel along great circles at constant speed; `report=False` makes a leg a
reception gap (the vessel moves, nothing is received). Positions are produced every
`report_every_s` of event time, so tests state physics, not fixture files.

What the transponder says can differ from the physics: `static_every_s` sends static reports
(name, call sign, IMO, type) all along the voyage, `identity_from(time, name=...)` changes
what they say from then on, and `spoof(start, end, bearing_deg, distance_m)` displaces the
reported positions in a time window (a false position; a second `Voyage` with the same MMSI
is a second transmitter).
"""

from __future__ import annotations

import bisect
import math

from detectors.geodesy import (
    METRES_PER_NAUTICAL_MILE,
    destination,
    haversine_m,
    interpolate,
    wrap_lon,
)
from detectors.records import Position, StaticReport
from detectors.timefmt import parse_iso_utc


def at(iso: str) -> float:
    return parse_iso_utc(iso)


class Voyage:
    def __init__(
        self,
        mmsi: int,
        start: str | float,
        lat: float,
        lon: float,
        *,
        ship_type: int | None = None,
        name: str | None = None,
        report_every_s: float = 60.0,
        imo: int | None = None,
        call_sign: str | None = None,
        static_every_s: float | None = None,
    ) -> None:
        self.mmsi = mmsi
        self.ship_type = ship_type
        self.name = name
        self.report_every_s = report_every_s
        self.static_every_s = static_every_s
        # (from time_s, name, call_sign, imo, destination): what static reports say
        self.identities: list[tuple[float, str | None, str | None, int | None, str | None]] = []
        # (start_s, end_s, bearing_deg, distance_m): reported positions displaced
        self.spoofs: list[tuple[float, float, float, float]] = []
        start_s = at(start) if isinstance(start, str) else start
        # Waypoints: (time_s, lat, lon, reported_until_next, speed_kn of the leg that ends here)
        self.times: list[float] = [start_s]
        self.points: list[tuple[float, float]] = [(lat, wrap_lon(lon))]
        self.reported: list[bool] = []
        self.speeds_kn: list[float] = []
        self.identities.append((start_s, name, call_sign, imo, None))

    @property
    def end_s(self) -> float:
        return self.times[-1]

    def _leg(
        self, lat: float, lon: float, duration_s: float, speed_kn: float, report: bool
    ) -> None:
        self.times.append(self.end_s + duration_s)
        self.points.append((lat, lon))
        self.reported.append(report)
        self.speeds_kn.append(speed_kn)

    def sail(
        self,
        bearing_deg: float,
        speed_kn: float,
        hours: float = 0.0,
        minutes: float = 0.0,
        report: bool = True,
    ) -> Voyage:
        duration_s = hours * 3600.0 + minutes * 60.0
        distance_m = speed_kn * METRES_PER_NAUTICAL_MILE / 3600.0 * duration_s
        lat, lon = destination(*self.points[-1], bearing_deg, distance_m)
        self._leg(lat, lon, duration_s, speed_kn, report)
        return self

    def drift(
        self,
        hours: float = 0.0,
        minutes: float = 0.0,
        speed_kn: float = 0.4,
        bearing_deg: float = 45.0,
        report: bool = True,
    ) -> Voyage:
        return self.sail(bearing_deg, speed_kn, hours=hours, minutes=minutes, report=report)

    def wait(self, hours: float = 0.0, minutes: float = 0.0, report: bool = True) -> Voyage:
        return self.sail(0.0, 0.0, hours=hours, minutes=minutes, report=report)

    def go_to(self, lat: float, lon: float, at_time: str | float, report: bool = True) -> Voyage:
        """Arrive at (lat, lon) at `at_time`, at whatever constant speed that takes."""
        end_s = at(at_time) if isinstance(at_time, str) else at_time
        duration_s = end_s - self.end_s
        if duration_s <= 0:
            raise ValueError("go_to must move forward in time")
        distance_m = haversine_m(*self.points[-1], lat, lon)
        speed_kn = distance_m / duration_s * 3600.0 / METRES_PER_NAUTICAL_MILE
        self._leg(lat, lon, duration_s, speed_kn, report)
        return self

    def follow(
        self,
        leader: Voyage,
        hours: float = 0.0,
        minutes: float = 0.0,
        offset_m: float = 80.0,
        offset_bearing_deg: float = 90.0,
        report: bool = True,
    ) -> Voyage:
        """Keep station `offset_m` from `leader` (towards `offset_bearing_deg`) for a while.

        The voyage must already be at the leader's time; it jumps to the station at once,
        so approach with `go_to(*leader.station(...))` first for a realistic meeting.
        """
        duration_s = hours * 3600.0 + minutes * 60.0
        steps = max(1, math.ceil(duration_s / 60.0))
        for _ in range(steps):
            time_s = self.end_s + duration_s / steps
            lat, lon = leader.station(time_s, offset_m, offset_bearing_deg)
            speed_kn = leader.speed_at(time_s)
            self._leg(lat, lon, duration_s / steps, speed_kn, report)
        return self

    def identity_from(
        self,
        time_s: float | str,
        name: str | None = None,
        call_sign: str | None = None,
        imo: int | None = None,
        destination: str | None = None,
    ) -> Voyage:
        """From `time_s` on, static reports say this (fields left None keep their value)."""
        start_s = at(time_s) if isinstance(time_s, str) else time_s
        _, old_name, old_call, old_imo, old_dest = self.identities[-1]
        self.identities.append(
            (
                start_s,
                name if name is not None else old_name,
                call_sign if call_sign is not None else old_call,
                imo if imo is not None else old_imo,
                destination if destination is not None else old_dest,
            )
        )
        return self

    def spoof(
        self,
        start: float | str,
        end: float | str | None,
        bearing_deg: float,
        distance_m: float,
    ) -> Voyage:
        """Report positions `distance_m` towards `bearing_deg` of the truth in a window
        (`end` None: until the voyage ends)."""
        start_s = at(start) if isinstance(start, str) else start
        end_s = float("inf") if end is None else (at(end) if isinstance(end, str) else end)
        self.spoofs.append((start_s, end_s, bearing_deg, distance_m))
        return self

    def station(
        self, time_s: float | str, offset_m: float, bearing_deg: float
    ) -> tuple[float, float]:
        lat, lon = self.position_at(at(time_s) if isinstance(time_s, str) else time_s)
        return destination(lat, lon, bearing_deg, offset_m)

    def position_at(self, time_s: float) -> tuple[float, float]:
        if time_s <= self.times[0]:
            return self.points[0]
        if time_s >= self.times[-1]:
            return self.points[-1]
        i = bisect.bisect_right(self.times, time_s) - 1
        span = self.times[i + 1] - self.times[i]
        fraction = (time_s - self.times[i]) / span if span > 0 else 0.0
        return interpolate(*self.points[i], *self.points[i + 1], fraction)

    def speed_at(self, time_s: float) -> float:
        i = min(max(bisect.bisect_right(self.times, time_s) - 1, 0), len(self.speeds_kn) - 1)
        return self.speeds_kn[i] if self.speeds_kn else 0.0

    def positions(self) -> list[Position]:
        out: list[Position] = []
        time_s = self.times[0]
        while time_s <= self.end_s:
            i = min(bisect.bisect_right(self.times, time_s) - 1, len(self.reported) - 1)
            if not self.reported or self.reported[max(i, 0)]:
                lat, lon = self.position_at(time_s)
                for start_s, end_s, bearing_deg, distance_m in self.spoofs:
                    if start_s <= time_s < end_s:
                        lat, lon = destination(lat, lon, bearing_deg, distance_m)
                out.append(
                    Position(
                        mmsi=self.mmsi,
                        time_s=time_s,
                        lat=lat,
                        lon=lon,
                        sog_kn=round(self.speed_at(time_s), 1),
                        msg_type=1,
                    )
                )
            time_s += self.report_every_s
        return out

    def statics(self) -> list[StaticReport]:
        """The static reports: one at the start, then every `static_every_s` (while the
        vessel is heard), each saying what `identity_from` set for its time."""
        if self.static_every_s is None:
            if self.ship_type is None and self.name is None:
                return []
            times = [self.times[0]]
        else:
            times = []
            time_s = self.times[0]
            while time_s <= self.end_s:
                i = min(bisect.bisect_right(self.times, time_s) - 1, len(self.reported) - 1)
                if not self.reported or self.reported[max(i, 0)]:
                    times.append(time_s)
                time_s += self.static_every_s
        out = []
        starts = [s for s, *_ in self.identities]
        for time_s in times:
            _, name, call_sign, imo, destination_ = self.identities[
                max(0, bisect.bisect_right(starts, time_s) - 1)
            ]
            out.append(
                StaticReport(
                    mmsi=self.mmsi,
                    time_s=time_s,
                    msg_type=5,
                    name=name,
                    call_sign=call_sign,
                    imo=imo,
                    ship_type=self.ship_type,
                    destination=destination_,
                )
            )
        return out

    def records(self) -> list[Position | StaticReport]:
        records: list[Position | StaticReport] = []
        records.extend(self.statics())
        records.extend(self.positions())
        return records


def merged(*voyages: Voyage) -> list[Position | StaticReport]:
    """All voyages' records in event-time order (statics first at equal times)."""
    records = [r for v in voyages for r in v.records()]
    records.sort(key=lambda r: (r.time_s, 0 if isinstance(r, StaticReport) else 1, r.mmsi))
    return records
