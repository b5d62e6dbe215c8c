"""Running a scenario and writing its files.

Output folder:
- `traffic.nmea`: `\\s:STATION,c:EPOCH*hh\\!AIVDM,...` lines in the order the collector
  received them (so receive times are roughly, not strictly, increasing), with a small share
  of corrupt lines.
- `truth.json`: the planted events (see `truth.py`).
- `zones.geojson`: the scenario's exclusive economic zones, hand-drawn approximations with
  Marine Regions' attribute names (GEONAME, SOVEREIGN1, ISO_SOV1, TERRITORY1, ISO_TER1,
  MRGID, POL_TYPE) and `"approximate": true`.
- `ports.csv`: `name,lat,lon,country` of the scenario's ports and anchorages.
- `traffic.csv` (with `write_csv`): NOAA MarineCadastre columns, one row per vessel a minute.

Vessels are simulated independently (each from its own seeded generator), in worker
processes when `jobs > 1`; results are merged in vessel order and then sorted by arrival
time, so the bytes do not depend on the number of workers.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from .emit import CsvRow, ReceptionContext, emit_vessel
from .scenario import Scenario
from .traffic import VesselPlan, build_track
from .truth import truth_document
from .world import World, plan_world

MARINECADASTRE_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)
_ARMOUR_CHARS = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


@dataclass(frozen=True, slots=True)
class SimulationResult:
    scenario: str
    seed: int
    out_dir: Path
    vessels: int
    lines: int
    position_reports: int
    events: int
    corrupt_lines: int
    seconds: float
    notes: tuple[str, ...] = ()
    files: tuple[str, ...] = field(default=())
    # wall time of each phase, for benchmarks (never written to the output files)
    phase_seconds: tuple[tuple[str, float], ...] = ()

    def summary(self) -> str:
        rate = self.lines / self.seconds if self.seconds > 0 else 0.0
        return (
            f"scenario {self.scenario} (seed {self.seed}): {self.vessels:,} vessels, "
            f"{self.lines:,} lines, {self.events} planted events, {self.seconds:.1f} s "
            f"({rate:,.0f} lines/s) -> {self.out_dir}"
        )


@dataclass(slots=True)
class _ChunkResult:
    arrival_s: np.ndarray
    lines: list[str]
    positions: int
    csv_rows: list[CsvRow]


def _run_chunk(plans: Sequence[VesselPlan], ctx: ReceptionContext) -> _ChunkResult:
    arrivals: list[np.ndarray] = []
    lines: list[str] = []
    rows: list[CsvRow] = []
    positions = 0
    for plan in plans:
        out = emit_vessel(plan, build_track(plan), ctx)
        arrivals.append(out.arrival_s)
        lines.extend(out.lines)
        rows.extend(out.csv_rows)
        positions += out.positions_sent
    arrival = np.concatenate(arrivals) if arrivals else np.zeros(0)
    return _ChunkResult(arrival, lines, positions, rows)


def reception_context(scenario: Scenario, seed: int, write_csv: bool) -> ReceptionContext:
    """Station clock offsets and backlog windows, drawn once per run."""
    rng = np.random.default_rng([seed, 7])
    rec = scenario.reception
    span = scenario.end_s - scenario.start_s
    backlogs = []
    offsets = []
    for i in range(len(rec.stations)):
        offsets.append(0.0 if i == 0 else float(rng.choice((-1.0, 1.0)) * rng.uniform(0.2, 1.5)))
        count = int(rng.poisson(rec.backlogs_per_day * span / 86_400.0))
        windows = []
        for _ in range(count):
            start = scenario.start_s + float(rng.uniform(0.0, span))
            windows.append((start, start + float(rng.uniform(30.0, max(30.0, rec.backlog_max_s)))))
        backlogs.append(tuple(sorted(windows)))
    return ReceptionContext(rec, tuple(backlogs), tuple(offsets), write_csv)


def _corrupt(lines: list[str], share: float, rng: np.random.Generator) -> int:
    """Damage a share of lines the way radio links and serial ports do; returns how many."""
    n = len(lines)
    k = int(rng.binomial(n, share)) if n else 0
    if k == 0:
        return 0
    for i in np.sort(rng.choice(n, size=k, replace=False)).tolist():
        line = lines[i]
        body_at = line.find("!AIVDM")
        mode = int(rng.integers(0, 3))
        if mode == 0:
            # one payload character changed: the checksum no longer matches
            fields = line.split(",")
            payload_at = len(",".join(fields[:6])) + 1
            pos = payload_at + int(rng.integers(0, max(1, len(fields[6]))))
            old = line[pos]
            new = old
            while new == old:
                new = _ARMOUR_CHARS[int(rng.integers(0, 64))]
            lines[i] = line[:pos] + new + line[pos + 1 :]
        elif mode == 1:
            # cut off mid-sentence
            cut = int(rng.integers(body_at + 8, max(body_at + 9, len(line) - 4)))
            lines[i] = line[:cut]
        else:
            # a wrong checksum
            star = line.rfind("*")
            old_cs = line[star + 1 : star + 3]
            new_cs = old_cs
            while new_cs == old_cs:
                new_cs = f"{int(rng.integers(0, 256)):02X}"
            lines[i] = line[: star + 1] + new_cs + line[star + 3 :]
    return k


def _zones_geojson(scenario: Scenario) -> dict[str, Any]:
    features = []
    for zone in scenario.zones:
        ring = [[lon, lat] for lat, lon in zone.polygon_latlon]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "GEONAME": zone.geoname,
                    "SOVEREIGN1": zone.sovereign,
                    "ISO_SOV1": zone.iso_sov,
                    "TERRITORY1": zone.territory,
                    "ISO_TER1": zone.iso_ter,
                    "MRGID": zone.mrgid,
                    "POL_TYPE": zone.pol_type,
                    "approximate": True,
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {
        "type": "FeatureCollection",
        "name": f"{scenario.name} zones (approximate)",
        "description": (
            "Hand-drawn approximations of exclusive economic zones for the stswatch scenario "
            f"'{scenario.name}', with Marine Regions attribute names. Not the real boundaries: "
            "use the Marine Regions World EEZ file for real data."
        ),
        "features": features,
    }


def _write_ports(scenario: Scenario, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["name", "lat", "lon", "country"])
        for port in scenario.ports:
            writer.writerow([port.name, f"{port.lat:.5f}", f"{port.lon:.5f}", port.country])


def _write_csv(world: World, rows: list[CsvRow], path: Path) -> None:
    by_mmsi = {p.identity.mmsi: p.identity for p in world.plans}
    rows.sort(key=lambda r: (r.time_s, r.mmsi))
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(MARINECADASTRE_HEADER + "\n")
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            ident = by_mmsi[row.mmsi]
            stamp = datetime.fromtimestamp(row.time_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
            writer.writerow(
                [
                    row.mmsi,
                    stamp,
                    f"{row.lat:.5f}",
                    f"{row.lon:.5f}",
                    f"{row.speed_tenths / 10:.1f}",
                    f"{row.course_tenths / 10:.1f}",
                    row.heading,
                    ident.name,
                    f"IMO{ident.imo}" if ident.imo else "",
                    ident.call_sign,
                    ident.ship_type,
                    row.status,
                    ident.length_m,
                    ident.beam_m,
                    f"{ident.draught_m:.1f}",
                    "",
                    ident.ais_class,
                ]
            )


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def simulate(
    scenario: Scenario,
    out_dir: str | Path,
    seed: int | None = None,
    write_csv: bool = False,
    jobs: int | None = None,
) -> SimulationResult:
    """Simulate `scenario` into `out_dir`; the same seed gives byte-identical files."""
    started = time.perf_counter()
    run_seed = scenario.seed if seed is None else seed
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = plan_world(scenario, run_seed)
    planned = time.perf_counter()
    ctx = reception_context(scenario, run_seed, write_csv)

    jobs = default_jobs() if jobs is None else max(1, jobs)
    plans = list(world.plans)
    if jobs == 1 or len(plans) < 40:
        results = [_run_chunk(plans, ctx)]
    else:
        n_chunks = min(len(plans), jobs * 6)
        bounds = np.linspace(0, len(plans), n_chunks + 1).astype(int).tolist()
        chunks = [plans[a:b] for a, b in pairwise(bounds)]
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            results = list(pool.map(_run_chunk, chunks, [ctx] * len(chunks)))

    simulated = time.perf_counter()
    arrival = np.concatenate([r.arrival_s for r in results])
    lines: list[str] = []
    for r in results:
        lines.extend(r.lines)
    order = np.argsort(arrival, kind="stable")
    lines = [lines[i] for i in order.tolist()]
    corrupt = _corrupt(
        lines, scenario.reception.corrupt_share, np.random.default_rng([run_seed, 8])
    )

    (out / "traffic.nmea").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="ascii")
    truth = truth_document(
        scenario.name, run_seed, scenario.start_s, scenario.end_s, len(plans), list(world.events)
    )
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    (out / "zones.geojson").write_text(
        json.dumps(_zones_geojson(scenario), indent=1) + "\n", encoding="utf-8"
    )
    _write_ports(scenario, out / "ports.csv")
    files = ["traffic.nmea", "truth.json", "zones.geojson", "ports.csv"]
    if write_csv:
        rows: list[CsvRow] = []
        for r in results:
            rows.extend(r.csv_rows)
        _write_csv(world, rows, out / "traffic.csv")
        files.append("traffic.csv")
    return SimulationResult(
        scenario=scenario.name,
        seed=run_seed,
        out_dir=out,
        vessels=len(plans),
        lines=len(lines),
        position_reports=sum(r.positions for r in results),
        events=len(world.events),
        corrupt_lines=corrupt,
        seconds=time.perf_counter() - started,
        phase_seconds=(
            ("plan", planned - started),
            ("vessels", simulated - planned),
            ("merge and write", time.perf_counter() - simulated),
        ),
        notes=scenario.notes,
        files=tuple(files),
    )
