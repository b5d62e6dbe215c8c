"""Fuzzing run of the decoders: hostile input for a fixed time, counting the inputs tried.

    python benchmarks/fuzz_decoder.py [--seconds-per-target 60] [--target NAME ...]

Runs the property checks of `tests/unit/test_fuzz_decoders.py` (the NMEA line decoder one
hostile line at a time and on damaged traffic, `line_time_s`, the MarineCadastre CSV reader,
the worker's decode stage on raw Kafka messages) with hypothesis generating fresh inputs
until the time is up, then prints per target the inputs tried, the lines inside them, and the
rate. A failing input stops the run with hypothesis's minimal example and exit status 1.

The unit tests run the same checks with 200 inputs each on every CI run; this is the longer
run whose numbers go into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_fuzz_decoders import FUZZ_TARGETS

# Examples per hypothesis run; runs repeat (with fresh random seeds) until the time is up.
_EXAMPLES_PER_RUN = 500


def _lines_in(args: tuple[Any, ...]) -> int:
    """Input lines (or raw messages) in one generated input: list lengths, else 1."""
    first = args[0]
    return len(first) if isinstance(first, list) else 1


def fuzz(
    check: Callable[..., None], strategies: tuple[Any, ...], seconds: float
) -> tuple[int, int]:
    """Run `check` on generated inputs for `seconds`; return (inputs, lines) tried."""
    counts = [0, 0]

    def counted(args: tuple[Any, ...]) -> None:
        counts[0] += 1
        counts[1] += _lines_in(args)
        check(*args)

    run = settings(
        max_examples=_EXAMPLES_PER_RUN,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )(given(st.tuples(*strategies))(counted))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run()
    return counts[0], counts[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-per-target", type=float, default=60.0)
    parser.add_argument("--target", action="append", choices=sorted(FUZZ_TARGETS))
    args = parser.parse_args(argv)
    names = args.target or list(FUZZ_TARGETS)
    total_inputs = 0
    print(f"{'target':<24} {'inputs':>9} {'lines':>10} {'seconds':>8} {'inputs/s':>9}")
    for name in names:
        check, strategies = FUZZ_TARGETS[name]
        started = time.monotonic()
        try:
            inputs, lines = fuzz(check, strategies, args.seconds_per_target)
        except Exception as err:  # the check failed: hypothesis printed the minimal input
            print(f"{name}: FAILED: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
        elapsed = time.monotonic() - started
        total_inputs += inputs
        print(f"{name:<24} {inputs:>9,} {lines:>10,} {elapsed:>8.0f} {inputs / elapsed:>9,.0f}")
    print(f"total inputs tried: {total_inputs:,}, no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
