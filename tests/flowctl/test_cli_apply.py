"""``flowctl apply`` and ``flowctl delete`` against the fake server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.flowctl.conftest import CONFIG, WORKFLOW, Cli, resources_yaml
from tests.flowctl.fake_server import FakeFlowdapt


def test_apply_multi_document_file(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    path = tmp_path / "all.yaml"
    path.write_text(resources_yaml())
    result = cli("apply", "-p", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "workflow/build created",
        "config/cfg created",
        "trigger_rule/every5 created",
    ]
    assert set(fake.store["workflow"]) == {"build"}
    assert set(fake.store["trigger_rule"]) == {"every5"}

    again = cli("apply", "-p", str(path))
    assert again.exit_code == 0
    assert [line.split()[-1] for line in again.stdout.splitlines()] == ["unchanged"] * 3

    path.write_text(resources_yaml().replace("Oslo", "Bergen"))
    changed = cli("apply", "-p", str(path), "--format", "json")
    assert json.loads(changed.stdout) == [
        {"kind": "workflow", "name": "build", "action": "unchanged"},
        {"kind": "config", "name": "cfg", "action": "updated"},
        {"kind": "trigger_rule", "name": "every5", "action": "unchanged"},
    ]
    assert fake.store["config"]["cfg"]["spec"]["data"] == {"cities": ["Paris", "Bergen"]}


def test_apply_directory_recursively(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.yml").write_text(WORKFLOW.format(name="one"))
    (tmp_path / "sub" / "b.yaml").write_text(WORKFLOW.format(name="two"))
    doc = {"kind": "config", "metadata": {"name": "j"}, "spec": {"data": {"k": 1}}}
    (tmp_path / "sub" / "deeper" / "c.json").write_text(json.dumps([doc]))
    (tmp_path / "notes.txt").write_text("not a resource: {")
    result = cli("apply", "-p", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "workflow/one created",
        "workflow/two created",
        "config/j created",
    ]


def test_malformed_file_applies_nothing(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    good = tmp_path / "a_good.yaml"
    good.write_text(WORKFLOW.format(name="fine"))
    bad = tmp_path / "b_bad.yaml"
    bad.write_text(WORKFLOW.format(name="first") + "---\nkind: workflow\nmetadata: [unclosed\n")
    result = cli("apply", "-p", str(tmp_path))
    assert result.exit_code == 1
    assert str(bad) in result.stderr
    assert "invalid YAML" in result.stderr
    assert "Traceback" not in result.output
    assert fake.requests == []  # every file is checked before anything is sent


def test_document_errors_name_the_problem(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    cases = {
        "kind.yaml": ("kind: pipeline\nmetadata: {name: x}\nspec: {}\n", "unknown kind 'pipeline'"),
        "name.yaml": ("kind: workflow\nmetadata: {}\nspec: {}\n", "has no metadata.name"),
        "spec.yaml": ("kind: config\nmetadata: {name: c}\n", "has no spec mapping"),
        "list.yaml": ("- 1\n- 2\n", "is not a mapping"),
        "bad.json": ('{"kind": "workflow",', "invalid JSON"),
    }
    for filename, (text, message) in cases.items():
        path = tmp_path / filename
        path.write_text(text)
        result = cli("apply", "-p", str(path))
        assert result.exit_code == 1, filename
        assert message in result.stderr, (filename, result.stderr)
        assert filename in result.stderr
    assert fake.requests == []


def test_apply_reports_server_rejection(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    broken = "kind: workflow\nmetadata: {name: broken}\nspec: {stages: [{name: s}]}\n"
    path.write_text(broken + "---\n" + CONFIG.format(name="cfg"))
    result = cli("apply", "-p", str(path))
    assert result.exit_code == 1
    assert "workflow/broken" in result.stderr
    assert "HTTP 422" in result.stderr
    assert result.stdout.splitlines() == ["workflow/broken failed", "config/cfg created"]


def test_apply_missing_path_fails_and_no_path_is_usage(cli: Cli, tmp_path: Path) -> None:
    result = cli("apply", "-p", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "no such file" in result.stderr
    assert cli("apply").exit_code == 2


def test_delete_by_name(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(resources_yaml())
    assert cli("apply", "-p", str(tmp_path)).exit_code == 0
    result = cli("delete", "workflow", "build")
    assert result.exit_code == 0
    assert result.stdout.strip() == "workflow/build deleted"
    assert fake.store["workflow"] == {}
    assert cli("delete", "triggers", "every5").stdout.strip() == "trigger_rule/every5 deleted"
    missing = cli("delete", "workflow", "build")
    assert missing.exit_code == 1
    assert "not found" in missing.stderr
    assert cli("delete", "workflow", "build", "--ignore-not-found").exit_code == 0
    assert cli("delete", "gizmo", "x").exit_code == 2
    assert cli("delete", "workflow").exit_code == 2


def test_delete_by_path(cli: Cli, fake: FakeFlowdapt, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(resources_yaml())
    assert cli("apply", "-p", str(path)).exit_code == 0
    result = cli("delete", "-p", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "trigger_rule/every5 deleted",
        "config/cfg deleted",
        "workflow/build deleted",
    ]
    assert all(not stored for stored in fake.store.values())
    again = cli("delete", "-p", str(path))
    assert again.exit_code == 1
    assert "workflow/build not found" in again.stderr
    assert cli("delete", "-p", str(path), "--ignore-not-found").exit_code == 0
    assert cli("delete", "workflow", "x", "-p", str(path)).exit_code == 2
