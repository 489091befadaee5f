"""Fixtures: a fake Flowdapt server in a thread, and a runner for the flowctl CLI against it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flowctl.cli import app
from flowctl.client import FlowdaptClient
from typer.testing import CliRunner, Result

from tests.flowctl.fake_server import FakeFlowdapt, serve


@pytest.fixture
def fake() -> Iterator[FakeFlowdapt]:
    """A running fake server; every test also checks the headers flowctl sent."""
    state = FakeFlowdapt()
    server, thread = serve(state)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert state.header_errors == []


@pytest.fixture
def client(fake: FakeFlowdapt) -> Iterator[FlowdaptClient]:
    with FlowdaptClient(fake.url) as sdk:
        yield sdk


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated flowctl config file (named servers), not the user's."""
    path = tmp_path / "flowctl" / "config.yaml"
    monkeypatch.setenv("FLOWCTL_CONFIG", str(path))
    monkeypatch.delenv("FLOWDAPT_SERVER", raising=False)
    return path


@dataclass
class Cli:
    """Invoke flowctl in-process against the fake server."""

    server: str

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["--server", self.server, *args])


@pytest.fixture
def cli(fake: FakeFlowdapt, config_file: Path) -> Cli:
    return Cli(server=fake.url)


WORKFLOW = """\
kind: workflow
metadata:
  name: {name}
  annotations: {{group: nowcast}}
spec:
  stages:
    - name: first
      target: my_plugin.stages.first
    - name: second
      target: my_plugin.stages.second
      type: parameterized
      depends_on: [first]
"""

CONFIG = """\
kind: config
metadata:
  name: {name}
spec:
  selector: {{type: annotation, value: {{group: nowcast}}}}
  data: {{cities: [Paris, Oslo]}}
"""

TRIGGER = """\
kind: trigger_rule
metadata:
  name: {name}
spec:
  type: schedule
  rule: ["*/5 * * * *"]
  action: {{target: run_workflow, parameters: {{workflow: build}}}}
"""


def resources_yaml(workflow: str = "build", config: str = "cfg", trigger: str = "every5") -> str:
    """A three-document YAML file: a workflow, a config and a trigger rule."""
    return "---\n".join(
        [WORKFLOW.format(name=workflow), CONFIG.format(name=config), TRIGGER.format(name=trigger)]
    )
