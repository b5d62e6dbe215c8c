"""Benchmark inputs, built with the project's simulator into a cache folder and reused.

Each input lives in its own sub-folder with a `manifest.json` written last: a folder without
one (an interrupted build) is rebuilt. Delete the cache folder (or pass `--rebuild`) after a
change to the simulator.

- `traffic_input`: the shipped `large` scenario (12 h, about 2.4 million lines); `--quick` cuts
  it to its first hour.
- `worker_input`: a stretch of that traffic, split into one file per raw-topic partition so
  that several workers can share the decoding (see `split_sources`).
- `latency_input`: a scenario of our own (written next to its output) with many planted STS
  transfers that open one after another, over the `large` scenario's background traffic.
- `base_tracks`: noise-free tracks (`plan_world` + `build_track`) of the `large` scenario's
  vessels over 40 minutes, sampled every 10 s, for the state and proximity measurements.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from kafka.partitioner.default import murmur2

from stswatch.simulator import (
    load_scenario,
    plan_world,
    simulate,
    with_overrides,
)
from stswatch.simulator.traffic import build_track

MANIFEST = "manifest.json"
SEED = 7  # the large scenario's own seed
# Noise-free base tracks: this long after the scenario start, every STEP_S.
BASE_SPAN_S = 2400.0
BASE_STEP_S = 10.0


def _cached(folder: Path, build: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    manifest = folder / MANIFEST
    if manifest.is_file():
        return dict(json.loads(manifest.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info = build(folder)
    info["build_s"] = round(time.perf_counter() - started, 1)
    manifest.write_text(json.dumps(info, indent=1) + "\n")
    return info


def _simulate_into(scenario_ref: str, hours: float | None) -> Callable[[Path], dict[str, Any]]:
    def build(folder: Path) -> dict[str, Any]:
        scenario = load_scenario(scenario_ref)
        if hours is not None:
            scenario = with_overrides(scenario, hours=hours)
        result = simulate(scenario, folder, seed=SEED)
        print(f"  built: {result.summary()}", flush=True)
        return {
            "scenario": scenario.name,
            "hours": scenario.hours,
            "seed": result.seed,
            "vessels": result.vessels,
            "lines": result.lines,
            "position_reports": result.position_reports,
            "planted_events": result.events,
        }

    return build


@dataclass(frozen=True, slots=True)
class SimulatedInput:
    folder: Path
    info: dict[str, Any]

    @property
    def traffic(self) -> Path:
        return self.folder / "traffic.nmea"

    @property
    def zones(self) -> Path:
        return self.folder / "zones.geojson"

    @property
    def ports(self) -> Path:
        return self.folder / "ports.csv"


def traffic_input(cache: Path, quick: bool) -> SimulatedInput:
    """The `large` scenario (12 h), or its first hour with `quick`."""
    hours = 1.0 if quick else None
    folder = cache / ("large-1h" if quick else "large")
    return SimulatedInput(folder, _cached(folder, _simulate_into("large", hours)))


# ------------------------------------------------------------------ worker input


def source_names(partitions: int, prefix: str = "bench-source") -> list[str]:
    """One source name per raw-topic partition: raw messages are keyed by source name, and
    kafka-python's default partitioner (murmur2 of the key) must spread them evenly."""
    names: dict[int, str] = {}
    index = 0
    while len(names) < partitions:
        name = f"{prefix}-{index}"
        partition = (murmur2(name.encode()) & 0x7FFFFFFF) % partitions
        names.setdefault(partition, name)
        index += 1
    return [names[p] for p in range(partitions)]


def _starts_message(line: bytes) -> bool:
    """True unless the line is a later fragment of a multi-sentence message."""
    body = line[line.rfind(b"\\") + 1 :] if line.startswith(b"\\") else line
    fields = body.split(b",", 3)
    return len(fields) < 3 or fields[2] in (b"1", b"")


def split_sources(lines: list[bytes], parts: int, block_lines: int) -> list[list[bytes]]:
    """Deal blocks of about `block_lines` consecutive lines to `parts` sources in turn.

    Every source covers the whole time span at a quarter of the rate, as receivers of one
    area do; a block never ends inside a multi-sentence message, so no source gets half of
    one.
    """
    out: list[list[bytes]] = [[] for _ in range(parts)]
    start = 0
    turn = 0
    while start < len(lines):
        end = min(len(lines), start + block_lines)
        while end < len(lines) and not _starts_message(lines[end]):
            end += 1
        out[turn % parts].extend(lines[start:end])
        start = end
        turn += 1
    return out


@dataclass(frozen=True, slots=True)
class WorkerInput:
    slice_path: Path  # the lines, in the original order (for the bare-decode baseline)
    source_paths: tuple[Path, ...]
    sources: tuple[str, ...]
    first_line: int  # of the traffic file, from 0
    lines: int

    @property
    def part(self) -> tuple[int, int]:
        return self.first_line, self.first_line + self.lines


def worker_input(
    traffic: SimulatedInput, first_line: int, lines: int, partitions: int
) -> WorkerInput:
    """`lines` lines of the traffic from line `first_line` on, and the same lines split into
    per-partition sources."""
    folder = traffic.folder / f"worker-{first_line}-{lines}-{partitions}"
    names = source_names(partitions)

    def build(out: Path) -> dict[str, Any]:
        with traffic.traffic.open("rb") as handle:
            for _ in zip(range(first_line), handle, strict=False):
                pass
            taken = [line for _, line in zip(range(lines), handle, strict=False)]
        (out / "slice.nmea").write_bytes(b"".join(taken))
        stripped = [line.rstrip(b"\r\n") for line in taken]
        for index, part in enumerate(split_sources(stripped, partitions, 500)):
            (out / f"{names[index]}.nmea").write_bytes(b"\n".join(part) + b"\n")
        return {"lines": len(taken), "sources": names}

    info = _cached(folder, build)
    return WorkerInput(
        slice_path=folder / "slice.nmea",
        source_paths=tuple(folder / f"{name}.nmea" for name in names),
        sources=tuple(names),
        first_line=first_line,
        lines=int(info["lines"]),
    )


# ------------------------------------------------------------------ latency input


@dataclass(frozen=True, slots=True)
class LatencyPlan:
    pairs: int
    hours: float
    background_scale: float
    first_start_h: float = 0.1
    start_step_h: float = 0.02
    duration_h: float = 2.2


def latency_plan(quick: bool) -> LatencyPlan:
    if quick:
        return LatencyPlan(pairs=12, hours=2.6, background_scale=0.25, duration_h=2.05)
    return LatencyPlan(pairs=48, hours=3.5, background_scale=1.0)


def latency_toml(plan: LatencyPlan) -> str:
    """A scenario over the `large` background with `plan.pairs` planted STS transfers.

    The pairs sit on a grid of open water in China's EEZ, 20-30 km apart and more than 50 km
    from any port, and start a little over a minute apart, so their alerts open at many
    different ticks.
    """
    out = [
        "# Written by benchmarks/run.py: alert latency over many planted STS transfers.",
        'extends = "large"',
        "",
        "[scenario]",
        'name = "bench-latency"',
        'title = "Benchmark: alert latency"',
        f"hours = {plan.hours}",
        f"background_scale = {plan.background_scale}",
    ]
    for index in range(plan.pairs):
        row, column = divmod(index, 6)
        lat = 28.9 + 0.3 * (row % 12)
        lon = 122.95 + 0.22 * column
        out += [
            "",
            "[[situations]]",
            f'id = "bench-sts-{index:02d}"',
            'category = "sts"',
            f"position_latlon = [{lat:.3f}, {lon:.3f}]",
            f"start_h = {plan.first_start_h + plan.start_step_h * index:.3f}",
            f"duration_h = {plan.duration_h}",
            f"heading_deg = {(index * 37) % 360}.0",
            "separation_m = 60.0",
            "ship_types = [80, 81]",
            "flags = [636, 412]",
            "speed_kn = 11.0",
        ]
    return "\n".join(out) + "\n"


def latency_input(cache: Path, quick: bool) -> SimulatedInput:
    plan = latency_plan(quick)
    folder = cache / ("latency-quick" if quick else "latency")

    def build(out: Path) -> dict[str, Any]:
        toml_path = out / "scenario.toml"
        toml_path.write_text(latency_toml(plan))
        info = _simulate_into(str(toml_path), None)(out)
        info["pairs"] = plan.pairs
        return info

    return SimulatedInput(folder, _cached(folder, build))


# ------------------------------------------------------------------ noise-free tracks


@dataclass(frozen=True, slots=True)
class BaseTracks:
    """Vessels of the `large` scenario on a common time grid (rows: vessels)."""

    start_s: float
    step_s: float
    lat: np.ndarray
    lon: np.ndarray
    sog_kn: np.ndarray
    cog_deg: np.ndarray
    heading_deg: np.ndarray
    ship_type: np.ndarray
    names: tuple[str, ...]
    call_signs: tuple[str, ...]
    destinations: tuple[str, ...]

    @property
    def vessels(self) -> int:
        return int(self.lat.shape[0])


def base_tracks(cache: Path) -> BaseTracks:
    """True tracks of every `large` vessel at sea for the whole of the first 40 minutes."""
    folder = cache / "base-tracks"
    path = folder / "tracks.npz"

    def build(out: Path) -> dict[str, Any]:
        scenario = with_overrides(load_scenario("large"), hours=1.0)
        world = plan_world(scenario, SEED)
        start_s = scenario.start_s
        grid_s = start_s + np.arange(0.0, BASE_SPAN_S + BASE_STEP_S, BASE_STEP_S)
        rows: dict[str, list[Any]] = {
            key: []
            for key in (
                "lat",
                "lon",
                "sog",
                "cog",
                "heading",
                "ship_type",
                "name",
                "call_sign",
                "dest",
            )
        }
        for plan in world.plans:
            track = build_track(plan)
            if len(track) < 2 or track.start_s > grid_s[0] or track.end_s < grid_s[-1]:
                continue
            speed, course = track.speed_course()
            rows["lat"].append(np.interp(grid_s, track.time_s, track.lat))
            rows["lon"].append(np.interp(grid_s, track.time_s, track.lon))
            rows["sog"].append(np.interp(grid_s, track.time_s, speed))
            rows["cog"].append(np.interp(grid_s, track.time_s, course))
            rows["heading"].append(np.interp(grid_s, track.time_s, track.heading_deg))
            identity = plan.identity
            rows["ship_type"].append(identity.ship_type)
            rows["name"].append(identity.name)
            rows["call_sign"].append(identity.call_sign)
            rows["dest"].append(identity.destination)
        np.savez(
            path,
            start_s=np.array([start_s]),
            lat=np.array(rows["lat"]),
            lon=np.array(rows["lon"]),
            sog=np.array(rows["sog"]),
            cog=np.array(rows["cog"]),
            heading=np.array(rows["heading"]),
            ship_type=np.array(rows["ship_type"]),
            names=np.array(rows["name"]),
            call_signs=np.array(rows["call_sign"]),
            destinations=np.array(rows["dest"]),
        )
        return {"vessels": len(rows["lat"]), "span_s": BASE_SPAN_S, "step_s": BASE_STEP_S}

    _cached(folder, build)
    data = np.load(path)
    return BaseTracks(
        start_s=float(data["start_s"][0]),
        step_s=BASE_STEP_S,
        lat=data["lat"],
        lon=data["lon"],
        sog_kn=data["sog"],
        cog_deg=data["cog"],
        heading_deg=data["heading"],
        ship_type=data["ship_type"],
        names=tuple(str(x) for x in data["names"]),
        call_signs=tuple(str(x) for x in data["call_signs"]),
        destinations=tuple(str(x) for x in data["destinations"]),
    )


@dataclass(frozen=True, slots=True)
class Fleet:
    """`count` vessels made of the base tracks, copied to other seas: vessel v follows base
    track `base[v]` shifted by (`dlat[v]`, `dlon[v]`) degrees."""

    tracks: BaseTracks
    count: int
    base: np.ndarray
    dlat: np.ndarray
    dlon: np.ndarray

    def positions(self, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latitudes and longitudes of every vessel at grid column `column[v]`."""
        lat = self.tracks.lat[self.base, column] + self.dlat
        lon = self.tracks.lon[self.base, column] + self.dlon
        return np.clip(lat, -89.0, 89.0), (lon + 180.0) % 360.0 - 180.0


def fleet(tracks: BaseTracks, count: int) -> Fleet:
    """Copies of the base area on a grid of seas: 6 latitude bands 17 degrees apart and
    longitude steps of 15 degrees, each wrap round the globe shifted by 5 degrees more, so the
    density stays near that of the simulated East China Sea whatever the count."""
    index = np.arange(count)
    copy, base = np.divmod(index, tracks.vessels)
    band = copy % 6
    step = copy // 6
    dlat = (band - 4) * 17.0
    dlon = (step * 15.0 + (step // 24) * 5.0) % 360.0
    return Fleet(tracks, count, base, dlat.astype(float), dlon.astype(float))
