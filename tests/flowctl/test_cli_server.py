"""``status``, ``metrics``, named servers (``config``), unreachable servers, ``--version``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from flowctl.cli import app
from typer.testing import CliRunner

from flowctl import __version__
from tests.flowctl.conftest import Cli
from tests.flowctl.fake_server import FakeFlowdapt
from tests.flowctl.test_client import free_port

FLOWCTL = str(Path(sys.executable).with_name("flowctl"))


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_status(cli: Cli, fake: FakeFlowdapt) -> None:
    result = cli("status")
    assert result.exit_code == 0, result.output
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:])
    assert rows["server"] == fake.url
    assert rows["version"] == "0.1.52"
    assert rows["services"] == "compute: OK"
    assert rows["memory"] == "50 MiB"
    data = json.loads(cli("status", "-o", "json").stdout)
    assert data["ping"]["app"] == "flowdapt"
    assert data["status"]["hostname"] == "here"
    assert fake.calls()[:2] == ["GET /", "GET /status"]


def test_metrics(cli: Cli, fake: FakeFlowdapt) -> None:
    rows = [line.split() for line in cli("metrics").stdout.splitlines()]
    assert rows[0] == ["METRIC", "LATEST", "POINTS", "AT", "(UTC)"]
    assert rows[1][:2] == ["latency", "count=2"]
    assert rows[2][:3] == ["runs_total", "7", "1"]
    assert set(json.loads(cli("metrics", "-o", "json").stdout)) == {"latency", "runs_total"}
    cli("metrics", "--name", "runs_total")
    assert fake.calls()[-1] == "GET /metrics?name=runs_total"


def test_named_servers(config_file: Path, fake: FakeFlowdapt) -> None:
    assert invoke("config", "current")[:2] == (0, "default http://127.0.0.1:8080\n")
    code, _, err = invoke("config", "add", "fake", fake.url)
    assert code == 0
    assert "fake" in err
    assert invoke("config", "add", "prod", "flowdapt.example.com:9000")[0] == 0
    assert invoke("config", "use", "fake")[0] == 0
    assert invoke("config", "current")[1] == f"fake {fake.url}\n"
    assert yaml.safe_load(config_file.read_text()) == {
        "current": "fake",
        "servers": {
            "default": "http://127.0.0.1:8080",
            "fake": fake.url,
            "prod": "http://flowdapt.example.com:9000",
        },
    }
    shown = invoke("config", "show")[1].splitlines()
    assert shown[0].split() == ["CURRENT", "NAME", "URL"]
    assert ["*", "fake", fake.url] in [line.split() for line in shown]
    assert json.loads(invoke("config", "show", "-o", "json")[1])["current"] == "fake"
    # The current named server is used without --server; --server NAME picks another.
    assert invoke("status")[0] == 0
    assert invoke("--server", "fake", "get", "workflows")[0] == 0
    code, _, err = invoke("config", "use", "nowhere")
    assert code == 1
    assert "unknown server 'nowhere'" in err
    assert invoke("config", "add", "bad", "ftp://x")[0] == 1
    assert invoke("config", "remove", "fake")[0] == 0
    assert invoke("config", "current")[1] == "default http://127.0.0.1:8080\n"


def test_server_from_environment(
    config_file: Path, fake: FakeFlowdapt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDAPT_SERVER", fake.url)
    assert invoke("status", "-o", "json")[0] == 0
    assert fake.calls()[0] == "GET /"


def test_broken_config_file_is_reported(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("servers: [oops\n")
    code, _, err = invoke("config", "show")
    assert code == 1
    assert str(config_file) in err


def _flowctl(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWCTL_CONFIG": str(config)}
    env.pop("FLOWDAPT_SERVER", None)
    return subprocess.run(
        [FLOWCTL, *args], capture_output=True, text=True, env=env, timeout=30, check=False
    )


def test_unreachable_server_exit_code_3(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = _flowctl("--server", url, "get", "workflows", config=tmp_path / "c.yaml")
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot reach the Flowdapt server at {url}")
    assert "Traceback" not in done.stderr


def test_usage_error_exit_code_2(tmp_path: Path) -> None:
    assert _flowctl("get", config=tmp_path / "c.yaml").returncode == 2
    assert _flowctl("frobnicate", config=tmp_path / "c.yaml").returncode == 2


def test_version(tmp_path: Path) -> None:
    done = _flowctl("--version", config=tmp_path / "c.yaml")
    assert done.returncode == 0
    assert done.stdout == f"flowctl {__version__}\n"
