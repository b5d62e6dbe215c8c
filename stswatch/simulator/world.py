"""Planning a scenario: every vessel's plan and every planted event's truth, from one seed.

Random draws come from generators keyed by (seed, purpose) or (seed, vessel, purpose), never
from shared global state, so the same seed always gives the same world, and adding vessels
to one lane does not move the fishing boats of another ground.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .identity import IdentityFactory, VesselIdentity
from .landmask import LandMask
from .scenario import Scenario
from .situations import build_situation
from .traffic import (
    FixedPlan,
    Motion,
    VesselPlan,
    lane_route,
    plan_anchorage,
    plan_fishing,
    plan_lane,
)
from .truth import TruthEvent


@dataclass(frozen=True, slots=True)
class World:
    scenario: Scenario
    seed: int
    plans: tuple[VesselPlan, ...]
    events: tuple[TruthEvent, ...]
    land: LandMask


def plan_world(scenario: Scenario, seed: int) -> World:
    """All vessel plans (planted situations first, then lanes, fishing, anchorages)."""
    land = LandMask.from_files(scenario.coastlines, scenario.source_dir)
    ids = IdentityFactory(np.random.default_rng([seed, 0]))
    plans: list[VesselPlan] = []
    events: list[TruthEvent] = []
    sensor_rng = np.random.default_rng([seed, 5])
    gap_rng = np.random.default_rng([seed, 6])

    def add(
        identity: VesselIdentity, motion: Motion, gaps: tuple[tuple[float, float], ...], role: str
    ) -> None:
        plans.append(
            VesselPlan(
                index=len(plans),
                identity=identity,
                motion=motion,
                gaps=gaps,
                seed=seed,
                rot_sensor=bool(sensor_rng.random() < 0.6),
                heading_sensor=bool(
                    sensor_rng.random() < (0.95 if identity.ais_class == "A" else 0.4)
                ),
                accuracy=bool(sensor_rng.random() < 0.5),
                role=role,
            )
        )

    for i, sit in enumerate(scenario.situations):
        rng = np.random.default_rng([seed, 100 + i])
        vessels, event = build_situation(sit, scenario, ids, rng, land)
        events.append(event)
        for v in vessels:
            add(v.identity, FixedPlan(v.track), v.gaps, sit.id)

    rec = scenario.reception
    span_s = scenario.end_s - scenario.start_s

    def random_gaps() -> tuple[tuple[float, float], ...]:
        if gap_rng.random() >= rec.gap_vessel_share:
            return ()
        length = float(gap_rng.uniform(*rec.gap_minutes)) * 60.0
        start = scenario.start_s + float(gap_rng.uniform(0.0, max(1.0, span_s - length)))
        return ((start, start + length),)

    for i, lane in enumerate(scenario.lanes):
        route = lane_route(lane, land)
        rng = np.random.default_rng([seed, 1000 + i])
        for identity, lane_plan in plan_lane(lane, route, scenario, ids, rng):
            add(identity, lane_plan, random_gaps(), "lane")
    for i, ground in enumerate(scenario.fishing_grounds):
        rng = np.random.default_rng([seed, 2000 + i])
        for identity, fishing_plan in plan_fishing(ground, scenario, land, ids, rng):
            add(identity, fishing_plan, random_gaps(), "fishing")
    for i, anchorage in enumerate(scenario.anchorages):
        rng = np.random.default_rng([seed, 3000 + i])
        for identity, anchor_plan in plan_anchorage(anchorage, scenario, land, ids, rng):
            add(identity, anchor_plan, random_gaps(), "anchorage")
    return World(scenario, seed, tuple(plans), tuple(events), land)
