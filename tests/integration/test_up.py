"""`stswatch up`, the README's main command, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.pipeline import PROJECT

pytestmark = pytest.mark.integration


def test_stswatch_up_replays_the_demo_and_prints_its_sts_alert(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stswatch.cli",
            "up",
            "--workdir",
            str(tmp_path),
            "--speed",
            "0",
            "--exit-when-done",
            "--idle",
            "12",
            "--api-port",
            "0",
        ],
        cwd=PROJECT,
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    alerts = [line for line in done.stdout.splitlines() if line.startswith("ALERT ")]
    # The demo plants one true STS transfer (and four decoys that must stay silent).
    assert any("[opened]" in line for line in alerts), done.stdout + done.stderr[-2000:]
    assert len({line.rsplit("(", 1)[-1] for line in alerts}) == 1
    assert "replay done" in done.stderr
    # It stopped its broker, Redis and worker on the way out.
    assert (tmp_path / "logs" / "tansu.log").exists()
