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

from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .geo import METRES_PER_DEG_LAT, FloatArray, unwrap_deg
from .motion import STATUS_AT_ANCHOR, STATUS_MOORED, Track
from .nmea import StaticMessages, class_a_sentences, class_b_sentences, tag_blocks
from .scenario import Reception
from .traffic import VesselPlan, vessel_rng

STATIC_INTERVAL_S = 360.0
GPS_SIGMA_M = 5.0


@dataclass(slots=True)
class VesselOutput:
    """The lines one vessel contributes, with the time each reached the collector."""

    arrival_s: FloatArray
    lines: list[str]
    positions_sent: int = 0
    csv_rows: list[tuple[object, ...]] = field(default_factory=list)


def class_a_interval_s(sog_kn: FloatArray, turning: NDArray[np.bool_], status: NDArray[np.int8]) -> FloatArray:
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

    When the required interval shortens (the ship speeds up or starts turning), the next
    report does not wait out the old, longer interval: it goes out at the change.
    """
    n = len(time_s)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    t_list = time_s.tolist()
    iv = interval_s.tolist()
    # for each sample, the first later sample whose interval is shorter than its own
    # ("next smaller element"), vectorised over the few distinct intervals
    positions = np.arange(n)
    next_shorter_arr = np.full(n, n, dtype=np.int64)
    for value in np.unique(interval_s):
        idx = np.where(interval_s < value, positions, n)
        following = np.minimum.accumulate(idx[::-1])[::-1]
        later = np.concatenate((following[1:], [n]))
        sel = interval_s == value
        next_shorter_arr[sel] = later[sel]
    next_shorter = next_shorter_arr.tolist()
    t0 = t_list[0]
    t_end = t_list[-1]
    jitter = rng.uniform(-0.03, 0.03, size=int((t_end - t0) / 2.0) + 10).tolist()
    out: list[float] = []
    changed: list[bool] = []
    t = t0 + float(rng.uniform(0.0, min(iv[0], 30.0)))
    j = 0
    is_change = False
    while t <= t_end:
        out.append(t)
        changed.append(is_change)
        k = bisect_right(t_list, t) - 1
        nominal = t + iv[k]
        is_change = False
        s = next_shorter[k]
        if s < n and t_list[s] < nominal:
            nominal = max(t + 1.0, t_list[s] + 1.0)
            is_change = True
        t = nominal + jitter[j % len(jitter)]
        j += 1
    return np.asarray(out), np.asarray(changed, dtype=bool)


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

    speed_tenths = np.minimum(1022, np.rint(sog_rep * 10.0)).astype(np.int64).tolist()
    course_tenths = (np.rint(cog_rep * 10.0).astype(np.int64) % 3600).tolist()
    headings = (np.rint(hdg_rep).astype(np.int64) % 360).tolist() if plan.heading_sensor else [511] * n
    if plan.rot_sensor and ident.ais_class == "A":
        rot_vals = np.clip(np.rint(rot_r), -708, 708).tolist()
    else:
        rot_vals = [-128.0] * n
    seconds = (times.astype(np.int64) % 60).tolist()
    lat_l = np.round(lat, 6).tolist()
    lon_l = np.round(lon, 6).tolist()
    status_l = status_r.tolist()
    channels = np.where(rng.random(n) < 0.5, "A", "B").tolist()
    msg_types = np.where(changed, 3, 1).tolist()

    if ident.ais_class == "A":
        position_sentences = class_a_sentences(
            ident.mmsi, plan.accuracy, msg_types, status_l, rot_vals, speed_tenths, lon_l,
            lat_l, course_tenths, headings, seconds, channels,
        )
    else:
        position_sentences = class_b_sentences(
            ident.mmsi, plan.accuracy, speed_tenths, lon_l, lat_l, course_tenths, headings,
            seconds, channels,
        )

    # transmissions: (time, sentences); positions first, then static reports
    tx_time: list[float] = times.tolist()
    tx_sentences: list[list[str]] = [[s] for s in position_sentences]
    is_position = [True] * n
    statics = StaticMessages(ident, _eta(rng))
    t_static = track.start_s + float(rng.uniform(0.0, STATIC_INTERVAL_S))
    seq = int(rng.integers(0, 10))
    while t_static <= track.end_s:
        channel = "A" if rng.random() < 0.5 else "B"
        for part in range(statics.parts):
            tx_time.append(t_static + 1.5 * part)
            tx_sentences.append(statics.sentences(part, channel, seq))
            is_position.append(False)
        seq = (seq + 1) % 10
        t_static += STATIC_INTERVAL_S + float(rng.uniform(-3.0, 3.0))

    return _receive(plan, ctx, rng, np.asarray(tx_time), tx_sentences, is_position,
                    _csv_rows(plan, ctx, times, lat_l, lon_l, speed_tenths, course_tenths,
                              headings, status_l))


def _eta(rng: np.random.Generator) -> tuple[int, int, int, int]:
    return (int(rng.integers(1, 13)), int(rng.integers(1, 29)), int(rng.integers(0, 24)),
            int(rng.choice((0, 30))))


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
) -> list[tuple[object, ...]]:
    """MarineCadastre-style rows: the first report of each minute (as their files are)."""
    if not ctx.write_csv:
        return []
    minute = (times // 60.0).astype(np.int64)
    first = np.concatenate(([True], minute[1:] != minute[:-1]))
    rows: list[tuple[object, ...]] = []
    silent = _in_gaps(times, plan.gaps)
    for i in np.nonzero(first & ~silent)[0].tolist():
        rows.append((int(times[i]), plan.identity.mmsi, lat[i], lon[i], speed_tenths[i],
                     course_tenths[i], headings[i], status[i]))
    return rows


def _receive(
    plan: VesselPlan,
    ctx: ReceptionContext,
    rng: np.random.Generator,
    tx_time: FloatArray,
    tx_sentences: list[list[str]],
    is_position: list[bool],
    csv_rows: list[tuple[object, ...]],
) -> VesselOutput:
    rec = ctx.reception
    m = len(tx_time)
    n_stations = len(rec.stations)
    home = plan.index % n_stations
    other = (home + 1 + int(rng.integers(0, max(1, n_stations - 1)))) % n_stations
    silent = _in_gaps(tx_time, plan.gaps)
    heard_home = (rng.random(m) >= rec.message_loss) & ~silent
    heard_other = (rng.random(m) < rec.duplicate_share) & ~silent
    if n_stations == 1:
        heard_other[:] = False

    arrival_list: list[float] = []
    lines: list[str] = []
    for station, heard in ((home, heard_home), (other, heard_other)):
        idx = np.nonzero(heard)[0]
        if len(idx) == 0:
            continue
        receive = tx_time[idx] + ctx.clock_offset_s[station] + rng.uniform(0.0, 0.3, len(idx))
        latency = rng.exponential(0.4, len(idx))
        late = rng.random(len(idx)) < rec.late_share
        latency[late] += rng.uniform(20.0, max(20.0, rec.late_max_s), int(late.sum()))
        arrival = receive + latency
        for start, end in ctx.backlogs[station]:
            held = (receive >= start) & (receive < end)
            # a backlog is flushed in order right after the link comes back
            arrival[held] = end + (receive[held] - start) * 1e-3 + latency[held] * 1e-3
        tags = tag_blocks(rec.stations[station], np.floor(receive).astype(np.int64))
        for j, tag, arr in zip(idx.tolist(), tags, arrival.tolist(), strict=True):
            sentences = tx_sentences[j]
            for part, sentence in enumerate(sentences):
                lines.append(tag + sentence)
                # the parts of one message travel together, in order
                arrival_list.append(arr + part * 1e-6)
    arrival_s = np.asarray(arrival_list, dtype=np.float64)
    return VesselOutput(arrival_s, lines, int(sum(is_position)), csv_rows)
