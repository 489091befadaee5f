"""The README's main job: server on embedded defaults, the example plugin installed, trained and
its forecasts shown (the prediction started by the plugin's trigger rule)."""

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
    out = result.stdout
    for document in ("workflow weather-train", "config weather", "trigger_rule weather-"):
        assert f"{document}" in out
    assert "train_model        finished (6/6 items)" in out
    assert "started by trigger:weather-predict-after-training" in out
    table = out.split("next-hour temperatures (°C):", 1)[1].splitlines()
    rows = {line.split()[0]: line.split() for line in table[2:] if line.strip()}
    assert sorted(rows) == sorted(["Oslo", "Lisbon", "Nairobi", "Denver", "Osaka", "Santiago"])
    for row in rows.values():
        now, forecast, mae = (float(value) for value in row[1:4])
        assert abs(forecast - now) < 5 and 0 < mae < 2  # a forecast, not a placeholder
