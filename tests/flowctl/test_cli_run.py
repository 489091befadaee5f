"""``flowctl run``: typed input options, waiting, --no-wait, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from flowctl.cli.runs import parse_input

from tests.flowctl.conftest import WORKFLOW, Cli
from tests.flowctl.fake_server import FakeFlowdapt


@pytest.fixture
def workflow(cli: Cli, tmp_path: Path) -> str:
    path = tmp_path / "w.yaml"
    path.write_text(WORKFLOW.format(name="build"))
    assert cli("apply", "-p", str(path)).exit_code == 0
    return "build"


def test_parse_input_types_values() -> None:
    args = ["--n_vals", "5", "--ratio=0.5", "--city", "Paris", "--dry", "--tags", '["a","b"]']
    assert parse_input([*args, "--delta", "-3", "--obj", '{"k": null}', "--flag"]) == {
        "n_vals": 5,
        "ratio": 0.5,
        "city": "Paris",
        "dry": True,
        "tags": ["a", "b"],
        "delta": -3,
        "obj": {"k": None},
        "flag": True,
    }
    assert parse_input([]) == {}
    with pytest.raises(typer.BadParameter):
        parse_input(["stray"])


def test_run_sends_typed_options_and_prints_result(
    cli: Cli, fake: FakeFlowdapt, workflow: str
) -> None:
    fake.requests.clear()
    result = cli("run", workflow, "--n_vals", "5", "--city", "Paris", "--namespace", "ns")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"input": {"n_vals": 5, "city": "Paris"}}
    assert "run run-1 finished in" in result.stderr
    uid = fake.store["workflow"]["build"]["metadata"]["uid"]
    assert fake.calls() == [
        "GET /workflows/build",
        f"POST /workflows/{uid}/run?wait=True&namespace=ns",
    ]
    assert json.loads(fake.requests[-1].body) == {"n_vals": 5, "city": "Paris"}


def test_run_without_options_sends_no_body(cli: Cli, fake: FakeFlowdapt, workflow: str) -> None:
    result = cli("run", workflow, "-o", "json")
    assert result.exit_code == 0
    run = json.loads(result.stdout)
    assert run["state"] == "finished"
    assert run["result"] == {"input": {}}
    assert fake.requests[-1].body == b""


def test_run_no_wait(cli: Cli, fake: FakeFlowdapt, workflow: str) -> None:
    result = cli("run", workflow, "--no-wait", "--x", "1")
    assert result.exit_code == 0
    assert result.stdout.strip() == "run-1"
    assert "started (pending)" in result.stderr
    assert fake.requests[-1].query == {"wait": "False"}
    as_json = json.loads(cli("run", workflow, "--no-wait", "--format", "json").stdout)
    assert as_json["state"] == "pending"
    assert as_json["result"] is None


def test_failed_run_exits_1(cli: Cli, workflow: str) -> None:
    result = cli("run", workflow, "--fail", "true")
    assert result.exit_code == 1
    assert "run run-1 failed" in result.stderr
    assert "ValueError: boom" in result.stderr
    as_json = cli("run", workflow, "--fail", "1", "-o", "json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["result"] == ["ValueError", "boom"]


def test_run_of_missing_workflow(cli: Cli, fake: FakeFlowdapt) -> None:
    result = cli("run", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: workflow nope not found (HTTP 404)"
    assert fake.calls() == ["GET /workflows/nope"]


def test_run_stray_argument_is_usage_error(cli: Cli, workflow: str) -> None:
    assert cli("run", workflow, "oops").exit_code == 2
