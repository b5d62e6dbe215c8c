"""From a vessel's true track to the NMEA lines a shore network receives.

1. The transponder's schedule (ITU-R M.1371 reporting intervals): class A every 10 s up to
   14 kn, 6 s up to 23 kn, 2 s above, 3 1/3 s and 2 s while turning, and every 3 minutes at
   anchor or moored or below 3 kn (as this project's issue specifies: M.1371 itself keeps
   10 s for ships under way however slow); a type 3 (ITDMA) report when the rate changes.
   Class B "CS": every 30 s above 2 kn, every 3 minutes below. Static data every 6 minutes:
   type 5 (two sentences) for class A, type 24 parts A and B for class B.
2. What the transponder says: the true position plus GPS noise (about 5 m each way),
   speed and course with sensor noise (course is noisy when nearly stopped), heading from
   the gyro when the ship has one, rate of turn when it has an indicator.
3. Who hears it: each vessel's home station hears most of its messages, a second station
   duplicates some with its own clock; reception gaps silence a vessel; some lines reach
   the collector late (up to `late_max_s`), and station backlogs release minutes of lines at
   once. Each line carries its station and receive time in an NMEA 4.0 tag block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .geo import METRES_PER_DEG_LAT, FloatArray, unwrap_deg
from .motion import STATUS_AT_ANCHOR, STATUS_MOORED, Track
from .nmea import (
    StaticMessages,
    class_a_payloads,
    class_b_payloads,
    rows_to_lines,
    sentence_rows,
    tag_rows,
    transmitted_tenths,
)
from .scenario import Reception
from .traffic import VesselPlan, vessel_rng

STATIC_INTERVAL_S = 360.0
GPS_SIGMA_M = 5.0


class CsvRow(NamedTuple):
    """One MarineCadastre row's vessel-specific values (identity columns come later)."""

    time_s: int
    mmsi: int
    lat: float
    lon: float
    speed_tenths: int
    course_tenths: int
    heading: int
    status: int


@dataclass(slots=True)
class VesselOutput:
    """The lines one vessel contributes, with the time each reached the collector."""

    arrival_s: FloatArray
    lines: list[str]
    positions_sent: int = 0
    csv_rows: list[CsvRow] = field(default_factory=list)


def class_a_interval_s(
    sog_kn: FloatArray, turning: NDArray[np.bool_], status: NDArray[np.int8]
) -> FloatArray:
    """Reporting interval of a class A transponder for each track sample."""
    interval = np.full(len(sog_kn), 10.0)
    interval[turning & (sog_kn <= 14.0)] = 10.0 / 3.0
    fast = sog_kn > 14.0
    interval[fast] = np.where(turning[fast], 2.0, 6.0)
    interval[sog_kn > 23.0] = 2.0
    anchored = (status == STATUS_AT_ANCHOR) | (status == STATUS_MOORED)
    interval[(sog_kn < 3.0) | (anchored & (sog_kn <= 3.0))] = 180.0
    return interval


def class_b_interval_s(sog_kn: FloatArray) -> FloatArray:
    return np.where(sog_kn > 2.0, 30.0, 180.0)


def report_times(
    time_s: FloatArray, interval_s: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Transmission times following the interval in force, and which follow a rate change.

    The track is cut into runs of constant interval. Within a run, reports follow each other
    at that interval. When the required interval shortens (the ship speeds up or starts
    turning), the next report does not wait out the old, longer interval: it goes out a
    second after the change, as an ITDMA report (message type 3).
    """
    n = len(time_s)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    change = np.nonzero(np.diff(interval_s))[0] + 1
    starts = np.concatenate(([0], change)).tolist()
    ends = np.concatenate((change, [n])).tolist()
    ivs = interval_s[starts].tolist()
    t_end = float(time_s[-1])
    boundary_t = time_s.tolist()
    parts: list[FloatArray] = []
    flags: list[NDArray[np.bool_]] = []
    t_next = float(time_s[0]) + float(rng.uniform(0.0, min(ivs[0], 30.0)))
    iv_force = ivs[0]
    last = -np.inf
    flag_next = False
    for r, (a, b) in enumerate(zip(starts, ends, strict=True)):
        iv = ivs[r]
        if a > 0 and iv < iv_force and boundary_t[a] + 1.0 < t_next:
            t_next = max(boundary_t[a] + 1.0, last + 1.0)
            flag_next = True
        run_end = boundary_t[b] if b < n else t_end + 1e-9
        if t_next < run_end:
            count = math.ceil((run_end - t_next) / iv) if iv > 0 else 1
            ts = t_next + iv * np.arange(count)
            ts = ts[ts < run_end]
            if len(ts):
                f = np.zeros(len(ts), dtype=bool)
                f[0] = flag_next
                parts.append(ts)
                flags.append(f)
                last = float(ts[-1])
                t_next = last + iv
                iv_force = iv
                flag_next = False
    if not parts:
        return np.zeros(0), np.zeros(0, dtype=bool)
    times = np.concatenate(parts)
    # slot timing of the radio: a few hundredths of a second either way
    times = times + rng.uniform(-0.03, 0.03, len(times))
    return times, np.concatenate(flags)


def _in_gaps(times: FloatArray, gaps: tuple[tuple[float, float], ...]) -> NDArray[np.bool_]:
    silent = np.zeros(len(times), dtype=bool)
    for start, end in gaps:
        silent |= (times >= start) & (times < end)
    return silent


@dataclass(frozen=True, slots=True)
class ReceptionContext:
    reception: Reception
    # per station: (start_s, end_s) windows during which its lines are held back
    backlogs: tuple[tuple[tuple[float, float], ...], ...]
    # per station: constant clock offset in seconds
    clock_offset_s: tuple[float, ...]
    write_csv: bool = False


def emit_vessel(plan: VesselPlan, track: Track, ctx: ReceptionContext) -> VesselOutput:
    """Every line the network receives from one vessel (unsorted; with arrival times)."""
    ident = plan.identity
    rng = vessel_rng(plan.seed, plan.index, 2)
    if len(track) < 2:
        return VesselOutput(np.zeros(0), [])
    sog, cog = track.speed_course()
    heading_true = track.heading_deg
    rot = np.gradient(unwrap_deg(heading_true), track.time_s) * 60.0  # degrees per minute

    if ident.ais_class == "A":
        turning = (np.abs(rot) >= 5.0) & (sog >= 3.0)
        interval = class_a_interval_s(sog, turning, track.status)
    else:
        interval = class_b_interval_s(sog)
    times, changed = report_times(track.time_s, interval, rng)
    n = len(times)

    # true values at the report times, then what the sensors make of them
    lat = np.interp(times, track.time_s, track.lat)
    lon = np.interp(times, track.time_s, track.lon)
    sog_r = np.interp(times, track.time_s, sog)
    cog_r = np.interp(times, track.time_s, unwrap_deg(cog)) % 360.0
    hdg_r = np.interp(times, track.time_s, unwrap_deg(heading_true)) % 360.0
    rot_r = np.interp(times, track.time_s, rot)
    k_idx = np.minimum(len(track) - 1, np.searchsorted(track.time_s, times, side="right") - 1)
    status_r = track.status[np.maximum(k_idx, 0)]

    gps_sigma = GPS_SIGMA_M * (1.6 if ident.ais_class == "B" else 1.0)
    lat = lat + rng.normal(0.0, gps_sigma, n) / METRES_PER_DEG_LAT
    lon = lon + rng.normal(0.0, gps_sigma, n) / (METRES_PER_DEG_LAT * np.cos(np.radians(lat)))
    sog_rep = np.abs(sog_r + rng.normal(0.0, 0.08, n))
    cog_sigma = np.clip(2.0 / np.maximum(sog_r, 0.05), 0.5, 120.0)
    cog_rep = (cog_r + rng.normal(0.0, 1.0, n) * cog_sigma) % 360.0
    hdg_rep = (hdg_r + rng.normal(0.0, 0.6, n)) % 360.0

    speed_t = np.minimum(1022, np.rint(sog_rep * 10.0)).astype(np.int64)
    course_t = np.rint(cog_rep * 10.0).astype(np.int64) % 3600
    speed_tenths = speed_t.tolist()
    course_tenths = course_t.tolist()
    speed_kn = transmitted_tenths(speed_t)
    course_deg = transmitted_tenths(course_t)
    if plan.heading_sensor:
        headings = (np.rint(hdg_rep).astype(np.int64) % 360).tolist()
    else:
        headings = [511] * n
    if plan.rot_sensor and ident.ais_class == "A":
        rot_vals = np.clip(np.rint(rot_r), -708, 708).tolist()
    else:
        rot_vals = [-128.0] * n
    seconds = (times.astype(np.int64) % 60).tolist()
    lat_l = np.round(lat, 6).tolist()
    lon_l = np.round(lon, 6).tolist()
    status_l = status_r.tolist()
    channel_b = rng.random(n) < 0.5
    msg_types = np.where(changed, 3, 1).tolist()

    if ident.ais_class == "A":
        payloads = class_a_payloads(
            ident.mmsi,
            plan.accuracy,
            msg_types,
            status_l,
            rot_vals,
            speed_kn,
            lon_l,
            lat_l,
            course_deg,
            headings,
            seconds,
        )
    else:
        payloads = class_b_payloads(
            ident.mmsi, plan.accuracy, speed_kn, lon_l, lat_l, course_deg, headings, seconds
        )
    position_rows = sentence_rows(payloads, channel_b)

    # static reports: each transmission is a group of sentences (type 5 takes two)
    static_sentences: list[str] = []
    static_time: list[float] = []
    group_of: list[int] = []
    part_of: list[int] = []
    statics = StaticMessages(ident, _eta(rng))
    t_static = track.start_s + float(rng.uniform(0.0, STATIC_INTERVAL_S))
    seq = int(rng.integers(0, 10))
    while t_static <= track.end_s:
        channel = "A" if rng.random() < 0.5 else "B"
        for part in range(statics.parts):
            group = len(static_time)
            static_time.append(t_static + 1.5 * part)
            for k, sentence in enumerate(statics.sentences(part, channel, seq)):
                static_sentences.append(sentence)
                group_of.append(group)
                part_of.append(k)
        seq = (seq + 1) % 10
        t_static += STATIC_INTERVAL_S + float(rng.uniform(-3.0, 3.0))

    csv_rows = _csv_rows(
        plan, ctx, times, lat_l, lon_l, speed_tenths, course_tenths, headings, status_l
    )
    arrival, lines = _receive(
        plan,
        ctx,
        rng,
        times,
        position_rows,
        np.asarray(static_time),
        static_sentences,
        np.asarray(group_of, dtype=np.int64),
        np.asarray(part_of, dtype=np.float64),
    )
    return VesselOutput(arrival, lines, n, csv_rows)


def _eta(rng: np.random.Generator) -> tuple[int, int, int, int]:
    return (
        int(rng.integers(1, 13)),
        int(rng.integers(1, 29)),
        int(rng.integers(0, 24)),
        int(rng.choice((0, 30))),
    )


def _csv_rows(
    plan: VesselPlan,
    ctx: ReceptionContext,
    times: FloatArray,
    lat: list[float],
    lon: list[float],
    speed_tenths: list[int],
    course_tenths: list[int],
    headings: list[int],
    status: list[int],
) -> list[CsvRow]:
    """MarineCadastre-style rows: the first report of each minute (as their files are)."""
    if not ctx.write_csv:
        return []
    minute = (times // 60.0).astype(np.int64)
    first = np.concatenate(([True], minute[1:] != minute[:-1]))
    rows: list[CsvRow] = []
    silent = _in_gaps(times, plan.gaps)
    for i in np.nonzero(first & ~silent)[0].tolist():
        rows.append(
            CsvRow(
                int(times[i]),
                plan.identity.mmsi,
                lat[i],
                lon[i],
                speed_tenths[i],
                course_tenths[i],
                headings[i],
                status[i],
            )
        )
    return rows


def _receive(
    plan: VesselPlan,
    ctx: ReceptionContext,
    rng: np.random.Generator,
    position_time: FloatArray,
    position_rows: NDArray[np.uint8],
    static_time: FloatArray,
    static_sentences: list[str],
    static_group: NDArray[np.int64],
    static_part: FloatArray,
) -> tuple[FloatArray, list[str]]:
    """The lines the stations receive, with the time each reaches the collector.

    Transmissions are the position reports (one sentence each) followed by the static
    reports (groups of sentences that travel together, in order).
    """
    rec = ctx.reception
    n_pos = len(position_time)
    group_time = np.concatenate([position_time, static_time])
    m = len(group_time)
    n_stations = len(rec.stations)
    home = plan.index % n_stations
    other = (home + 1 + int(rng.integers(0, max(1, n_stations - 1)))) % n_stations
    silent = _in_gaps(group_time, plan.gaps)
    heard_home = (rng.random(m) >= rec.message_loss) & ~silent
    heard_other = (rng.random(m) < rec.duplicate_share) & ~silent
    if n_stations == 1:
        heard_other[:] = False

    arrivals: list[FloatArray] = []
    lines: list[str] = []
    for station, heard in ((home, heard_home), (other, heard_other)):
        idx = np.nonzero(heard)[0]
        if len(idx) == 0:
            continue
        receive = group_time[idx] + ctx.clock_offset_s[station] + rng.uniform(0.0, 0.3, len(idx))
        latency = rng.exponential(0.4, len(idx))
        late = rng.random(len(idx)) < rec.late_share
        latency[late] += rng.uniform(20.0, max(20.0, rec.late_max_s), int(late.sum()))
        arrival = receive + latency
        for start, end in ctx.backlogs[station]:
            held = (receive >= start) & (receive < end)
            # a backlog is flushed in order right after the link comes back
            arrival[held] = end + (receive[held] - start) * 1e-3 + latency[held] * 1e-3
        tags = tag_rows(rec.stations[station], np.floor(receive).astype(np.int64))

        # position reports: whole rows of tag block + sentence, joined in numpy
        is_pos = idx < n_pos
        if is_pos.any():
            rows = np.hstack([tags[is_pos], position_rows[idx[is_pos]]])
            lines.extend(rows_to_lines(rows))
            arrivals.append(arrival[is_pos])
        # static reports: every sentence of each heard transmission
        static_idx = idx[~is_pos] - n_pos
        if len(static_idx):
            static_tags = rows_to_lines(tags[~is_pos])
            slot = np.full(len(static_time), -1, dtype=np.int64)
            slot[static_idx] = np.arange(len(static_idx))
            chosen = np.nonzero(slot[static_group] >= 0)[0]
            chosen_slot = slot[static_group[chosen]]
            static_arrival = arrival[~is_pos]
            arrivals.append(static_arrival[chosen_slot] + static_part[chosen] * 1e-6)
            lines.extend(
                static_tags[g] + static_sentences[i]
                for g, i in zip(chosen_slot.tolist(), chosen.tolist(), strict=True)
            )
    arrival_s = np.concatenate(arrivals) if arrivals else np.zeros(0)
    return arrival_s, lines
