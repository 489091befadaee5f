"""``flowctl apply --plugin`` against the fake server, which, like the original, describes its one
plugin (``demo``) without a status and bundles a ``workflows.yaml`` that is not a valid resource.
The real-server side (a working plugin deployed and run) is tests/plugins/test_plugin_server.py."""

from __future__ import annotations

from pathlib import Path

from tests.flowctl.conftest import WORKFLOW, Cli
from tests.flowctl.fake_server import FakeFlowdapt


def writes(fake: FakeFlowdapt) -> list[str]:
    return [call for call in fake.calls() if not call.startswith("GET ")]


def test_a_malformed_bundled_file_is_named_and_nothing_is_applied(
    cli: Cli, fake: FakeFlowdapt
) -> None:
    result = cli("apply", "--plugin", "demo")
    assert result.exit_code == 1
    assert "plugin demo/workflows.yaml: document 1 (workflow) has no metadata.name" in (
        result.stderr
    )
    assert result.stdout == ""
    assert fake.calls() == [
        "GET /plugin/demo",
        "GET /plugin/demo/files",
        "GET /plugin/demo/files/workflows.yaml",
    ]


def test_an_unknown_plugin_is_a_clear_error(cli: Cli, fake: FakeFlowdapt) -> None:
    result = cli("apply", "--plugin", "weather")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: unknown plugin 'weather': plugin weather not found (HTTP 404)"
    )
    assert "Traceback" not in result.output


def test_files_and_plugins_are_all_checked_before_anything_is_sent(
    cli: Cli, fake: FakeFlowdapt, tmp_path: Path
) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(WORKFLOW.format(name="fine"))
    result = cli("apply", "-p", str(path), "--plugin", "missing")
    assert result.exit_code == 1
    assert writes(fake) == []  # the good file was not applied either
    assert fake.store["workflow"] == {}


def test_apply_needs_a_path_or_a_plugin(cli: Cli, fake: FakeFlowdapt) -> None:
    result = cli("apply")
    assert result.exit_code == 2
    assert "--path FILE|DIR or --plugin NAME" in result.output
    assert fake.requests == []
