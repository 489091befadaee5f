"""``flowctl get`` and ``flowctl inspect`` in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from flowctl.client import FlowdaptClient

from tests.flowctl.conftest import Cli, resources_yaml
from tests.flowctl.fake_server import FakeFlowdapt


@pytest.fixture
def applied(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(resources_yaml())
    assert cli("apply", "-p", str(path)).exit_code == 0
    return path


@pytest.mark.usefixtures("applied")
def test_get_table_is_plain_when_piped(cli: Cli) -> None:
    result = cli("get", "workflows")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "STAGES", "ANNOTATIONS", "AGE"]
    assert row.split()[:3] == ["build", "2", "group=nowcast"]
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal
    configs = cli("get", "config").stdout.splitlines()
    assert configs[1].split()[:3] == ["cfg", "annotation:group=nowcast", "1"]
    triggers = cli("get", "triggers").stdout.splitlines()
    assert triggers[0].split() == [
        "NAME",
        "TYPE",
        "RULE",
        "ACTION",
        "LAST",
        "FIRED",
        "NEXT",
        "FIRE",
    ]
    assert triggers[1].split() == [
        "every5",
        "schedule",
        "*/5",
        "*",
        "*",
        "*",
        "*",
        "run_workflow(build)",
        "-",
        "-",
    ]


@pytest.mark.usefixtures("applied")
@pytest.mark.parametrize("kind", ["workflows", "workflow", "configs", "triggers", "trigger_rules"])
def test_get_json_parses_back(cli: Cli, fake: FakeFlowdapt, kind: str) -> None:
    result = cli("get", kind, "--format", "json")
    assert result.exit_code == 0
    items = json.loads(result.stdout)
    assert isinstance(items, list)
    assert len(items) == 1
    assert items[0]["kind"] in ("workflow", "config", "trigger_rule")
    stored = fake.store[items[0]["kind"]][items[0]["metadata"]["name"]]
    assert items[0] == stored


@pytest.mark.usefixtures("applied")
def test_get_one_by_name_in_each_format(cli: Cli, fake: FakeFlowdapt) -> None:
    stored = fake.store["workflow"]["build"]
    assert json.loads(cli("get", "workflow", "build", "-o", "json").stdout) == stored
    assert yaml.safe_load(cli("get", "workflow", "build", "-o", "yaml").stdout) == stored
    raw = cli("get", "workflow", "build", "--format", "raw").stdout
    assert raw.count("\n") == 1
    assert json.loads(raw) == stored
    table = cli("get", "workflow", "build").stdout.splitlines()
    assert len(table) == 2
    by_uid = cli("get", "workflow", stored["metadata"]["uid"], "-o", "json")
    assert json.loads(by_uid.stdout) == stored


@pytest.mark.usefixtures("applied")
def test_get_yaml_listing_can_be_applied_back(cli: Cli, tmp_path: Path) -> None:
    exported = tmp_path / "export.yaml"
    exported.write_text(cli("get", "configs", "-o", "yaml").stdout)
    result = cli("apply", "-p", str(exported))
    assert result.stdout.strip() == "config/cfg unchanged"


@pytest.mark.usefixtures("applied")
def test_inspect_prints_full_yaml(cli: Cli, fake: FakeFlowdapt) -> None:
    result = cli("inspect", "trigger", "every5")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout) == fake.store["trigger_rule"]["every5"]
    missing = cli("inspect", "workflow", "nope")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: workflow nope not found (HTTP 404)"


def test_get_unknown_kind_is_a_usage_error(cli: Cli) -> None:
    result = cli("get", "gizmos")
    assert result.exit_code == 2
    assert "unknown kind" in result.output


@pytest.mark.usefixtures("applied")
def test_get_runs(cli: Cli, client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    first = client.run_workflow("build", {"x": 1})
    client.run_workflow("build", {"fail": True})
    listing = cli("get", "runs", "build").stdout.splitlines()
    assert listing[0].split() == ["NAME", "WORKFLOW", "STATE", "SOURCE", "STARTED", "DURATION"]
    assert [line.split()[:4] for line in listing[1:]] == [
        ["run-1", "build", "finished", "api"],
        ["run-2", "build", "failed", "api"],
    ]
    everything = json.loads(cli("get", "runs", "-o", "json").stdout)
    assert [run["name"] for run in everything] == ["run-1", "run-2"]
    newest = json.loads(cli("get", "runs", "build", "--limit", "1", "-o", "json").stdout)
    assert len(newest) == 1
    one = json.loads(cli("get", "run", first["uid"], "-o", "json").stdout)
    assert one == first
    assert cli("get", "run", "missing").exit_code == 1
    deleted = cli("delete", "run", first["name"])
    assert deleted.stdout.strip() == "run/run-1 deleted"
    assert first["uid"] not in fake.runs


def test_get_plugins(cli: Cli) -> None:
    listing = cli("get", "plugins").stdout.splitlines()
    assert listing[1].split()[:3] == ["demo", "1.0", "demo_plugin"]
    assert json.loads(cli("get", "plugin", "demo", "-o", "json").stdout)["name"] == "demo"


@pytest.mark.usefixtures("applied")
def test_terminal_output_uses_rich(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowctl.output.stdout_is_terminal", lambda: True)
    monkeypatch.setattr("flowctl.cli.resources.stdout_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    table = cli("get", "workflows")
    assert table.exit_code == 0, table.output
    assert "build" in table.stdout
    assert "\x1b[" in table.stdout  # styled header
    reapplied = cli("get", "configs", "-o", "json")
    assert json.loads(reapplied.stdout)[0]["metadata"]["name"] == "cfg"  # json stays plain
