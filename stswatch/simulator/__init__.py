"""Simulated AIS traffic with known answers (`stswatch simulate`).

Public API:
- `load_scenario(name_or_path) -> Scenario`, `shipped_scenarios() -> list[str]`
- `with_overrides(scenario, hours=None, vessels=None) -> (Scenario, notes)`
- `simulate(scenario, out_dir, seed=None, write_csv=False, jobs=None) -> SimulationResult`
- `plan_world(scenario, seed) -> World` and `build_track(plan) -> Track`: the ground truth
  itself, for tests that check the output against it.
- `read_truth(path) -> list[TruthEvent]`
"""

from .run import SimulationResult, simulate
from .scenario import (
    CATEGORY_EXPECT_ALERT,
    Scenario,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
    with_overrides,
)
from .traffic import VesselPlan, build_track
from .truth import TruthEvent, TruthFileError, read_truth
from .world import World, plan_world

__all__ = [
    "CATEGORY_EXPECT_ALERT",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "TruthEvent",
    "TruthFileError",
    "VesselPlan",
    "World",
    "build_track",
    "load_scenario",
    "plan_world",
    "read_truth",
    "shipped_scenarios",
    "simulate",
    "with_overrides",
]
