"""A real `flowdapt run` process with a generated plugin installed beside broken and conflicting
ones: the server starts, lists them all, and `flowctl apply --plugin` deploys the good one."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.plugins.conftest import (
    BROKEN_WITH_FILES,
    DUPLICATE,
    GENERATED,
    MISSING,
    PluginServer,
)

pytestmark = pytest.mark.slow


def test_the_server_lists_every_plugin_with_its_status(plugin_server: PluginServer) -> None:
    listing = httpx.get(plugin_server.url + "/plugin/", timeout=10).json()
    status = {(item["name"], item["distribution"]): item["status"] for item in listing}
    assert status[(GENERATED, "tooling-gen")] == "ok"
    assert status[(MISSING, "tooling-missing")] == "broken"
    assert status[(BROKEN_WITH_FILES, "tooling-syntax")] == "broken"
    assert status[(DUPLICATE, "tooling-dup-one")] == "conflict"
    assert status[(DUPLICATE, "tooling-dup-two")] == "conflict"
    ambiguous = httpx.get(f"{plugin_server.url}/plugin/{DUPLICATE}", timeout=10)
    assert ambiguous.status_code == 409 and ambiguous.json()["status_code"] == 409
    files = httpx.get(f"{plugin_server.url}/plugin/{GENERATED}/files", timeout=10).json()
    assert files == {"files": ["resources/workflows.yaml"]}


def test_apply_by_plugin_deploys_its_resources_and_the_workflow_runs(
    plugin_server: PluginServer,
) -> None:
    applied = plugin_server.flowctl("apply", "--plugin", GENERATED)
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines() == [
        f"workflow/{GENERATED} created",
        f"config/{GENERATED}_config created",
    ]
    assert f"plugin {GENERATED}: 2 resources from resources/workflows.yaml" in applied.stderr

    # The bundled config reaches the run: the plugin's stages ran in the server.
    ran = plugin_server.flowctl("run", GENERATED, "--format", "json")
    assert ran.exit_code == 0, ran.output + plugin_server.log()
    run = json.loads(ran.stdout)
    assert run["state"] == "finished", run
    assert run["result"]["lengths"] == {"alpha": 5, "beta": 4, "gamma": 5}

    again = plugin_server.flowctl("apply", "--plugin", GENERATED, "--format", "json")
    assert json.loads(again.stdout) == [
        {"kind": "workflow", "name": GENERATED, "action": "unchanged"},
        {"kind": "config", "name": f"{GENERATED}_config", "action": "unchanged"},
    ]


def test_apply_by_plugin_refuses_unknown_and_ambiguous_names(plugin_server: PluginServer) -> None:
    unknown = plugin_server.flowctl("apply", "--plugin", "tooling_nowhere")
    assert unknown.exit_code == 1
    assert "unknown plugin 'tooling_nowhere'" in unknown.stderr
    assert GENERATED in unknown.stderr  # the server says which plugins it has
    assert unknown.stdout == ""

    ambiguous = plugin_server.flowctl("apply", "--plugin", DUPLICATE)
    assert ambiguous.exit_code == 1
    assert "ambiguous" in ambiguous.stderr and "HTTP 409" in ambiguous.stderr

    empty = plugin_server.flowctl("apply", "--plugin", MISSING)
    assert empty.exit_code == 1
    assert "bundles no resource files" in empty.stderr
    assert "Traceback" not in empty.output


def test_a_broken_plugins_resources_apply_with_a_warning(plugin_server: PluginServer) -> None:
    applied = plugin_server.flowctl("apply", "--plugin", BROKEN_WITH_FILES)
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines() == [f"workflow/{BROKEN_WITH_FILES} created"]
    assert f"warning: plugin '{BROKEN_WITH_FILES}' is broken: " in applied.stderr
    assert "SyntaxError" in applied.stderr
    assert f"plugin {BROKEN_WITH_FILES}: skipped resources/settings.json (not a resource file)" in (
        applied.stderr
    )
    assert "cities.csv" not in applied.stderr  # not YAML or JSON: not even considered
