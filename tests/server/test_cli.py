"""The `flowdapt` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

import flowdapt

FLOWDAPT = str(Path(sys.executable).with_name("flowdapt"))


def flowdapt_cli(app_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOWDAPT, "--app-dir", str(app_dir), *args], capture_output=True, text=True, timeout=60
    )


def test_version():
    result = subprocess.run([FLOWDAPT, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and flowdapt.__version__ in result.stdout


def test_config_get_set_unset(tmp_path):
    assert flowdapt_cli(tmp_path, "config", "get", "rpc.api.port").stdout.strip() == "8080"
    assert flowdapt_cli(tmp_path, "config", "set", "rpc.api.port", "9090").returncode == 0
    assert yaml.safe_load((tmp_path / "flowdapt.yaml").read_text())["rpc"]["api"]["port"] == 9090
    overridden = flowdapt_cli(tmp_path, "-o", "rpc.api.port=7070", "config", "get", "rpc.api.port")
    assert overridden.stdout.strip() == "7070"
    assert flowdapt_cli(tmp_path, "config", "unset", "rpc.api.port").returncode == 0
    assert flowdapt_cli(tmp_path, "config", "get", "rpc.api.port").stdout.strip() == "8080"
    shown = json.loads(flowdapt_cli(tmp_path, "config", "show", "--format", "json").stdout)
    assert shown["database"]["target"] == "flowdapt.storage.sql.SQLStorage"


def test_invalid_configuration_is_a_message_not_a_traceback(tmp_path):
    (tmp_path / "flowdapt.yaml").write_text("rpc: {api: {port: nope}}")
    result = flowdapt_cli(tmp_path, "run")
    assert result.returncode == 2
    assert "rpc.api.port" in result.stderr and "Traceback" not in result.stderr
    refused = flowdapt_cli(tmp_path, "config", "set", "logging.level", "loud")
    assert refused.returncode == 2 and "logging.level" in refused.stderr


def test_db_commands_and_openapi_spec(tmp_path):
    assert flowdapt_cli(tmp_path, "db", "current").stdout.strip().startswith("empty")
    upgraded = flowdapt_cli(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0 and "0004" in upgraded.stdout
    assert flowdapt_cli(tmp_path, "db", "current").stdout.strip() == "0004"
    spec = flowdapt_cli(tmp_path, "dev", "spec", "-O", str(tmp_path / "openapi.json"))
    assert spec.returncode == 0
    document = json.loads((tmp_path / "openapi.json").read_text())
    assert "/workflows/{identifier}/run" in document["paths"]
