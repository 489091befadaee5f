"""The README's main job: server on embedded defaults, example applied and run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT, free_port


def test_demo_starts_the_server_applies_and_runs_the_example(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "scripts/demo.py",
            "--app-dir",
            str(tmp_path / "app"),
            "--port",
            str(free_port()),
            "--no-serve",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "workflow nowcast: created" in result.stdout
    assert ": finished" in result.stdout
    for city in ("Oslo", "Lisbon", "Nairobi", "Denver", "Osaka", "Santiago"):
        assert city in result.stdout
