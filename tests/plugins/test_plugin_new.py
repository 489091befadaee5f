"""`flowdapt plugin new`: the project it writes works as written, and bad requests write
nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from flowdapt.plugin_template import PluginTemplateError, create_plugin, plugin_names, render
from flowdapt.services.plugins import find_plugin
from tests.plugins.conftest import install_generated

PYTHON = sys.executable  # this repository's .venv/bin/python
BIN = Path(PYTHON).parent


def run_in(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "FLOWDAPT__"))  # the outer run's settings stay out
    }
    # Only the generated package is added to the path: nothing is installed.
    env.update(PYTHONPATH=str(project / "src"), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        args, cwd=project, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_the_generated_tests_pass_as_generated(tmp_path: Path) -> None:
    created = create_plugin("tooling_fresh", tmp_path / "tooling-fresh")
    result = run_in(
        created.root, PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "-v"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line.split()[0] for line in result.stdout.splitlines() if " PASSED" in line]
    assert passed == [  # the stage unit tests, and two runs of the bundled workflow
        "tests/test_stages.py::test_list_items_prefers_the_run_input",
        "tests/test_stages.py::test_measure_item",
        "tests/test_workflows.py::test_the_workflow_processes_the_configured_items",
        "tests/test_workflows.py::test_the_run_input_replaces_the_configured_items",
    ]


def test_the_generated_code_passes_ruff(tmp_path: Path) -> None:
    created = create_plugin("tooling_linted", tmp_path / "linted")
    check = run_in(created.root, str(BIN / "ruff"), "check", "--no-cache", ".")
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = run_in(created.root, str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_pyproject_declares_the_entry_point_the_server_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = create_plugin("Tooling-Declared", tmp_path / "declared")
    pyproject = tomllib.loads((created.root / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == "tooling-declared"
    assert project["entry-points"]["flowdapt.plugins"] == {"tooling_declared": "tooling_declared"}
    assert pyproject["build-system"]["build-backend"] == "hatchling.build"
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/tooling_declared"
    ]
    # What pip would record from that pyproject is what discovery reads.
    monkeypatch.syspath_prepend(str(install_generated(created)))
    plugin = find_plugin("tooling_declared")
    assert (plugin.status, plugin.module, plugin.distribution) == (
        "ok",
        "tooling_declared",
        "tooling-declared",
    )
    assert plugin.files() == ["resources/workflows.yaml"]


def test_the_bundled_workflow_names_the_generated_stages(tmp_path: Path) -> None:
    import yaml

    files = render("tooling_wired")
    workflow, config = yaml.safe_load_all(files["src/tooling_wired/resources/workflows.yaml"])
    assert workflow["kind"] == "workflow" and workflow["metadata"]["name"] == "tooling_wired"
    stages = files["src/tooling_wired/stages.py"]
    for stage in workflow["spec"]["stages"]:
        module, _, function = stage["target"].rpartition(".")
        assert module == "tooling_wired.stages"
        assert f"\ndef {function}(" in stages
    assert "from flowdapt.compute.resources.workflow.context import get_run_context" in stages
    assert config["spec"]["selector"]["value"] == workflow["metadata"]["annotations"]
    assert not any("{{" in text or "__package__" in path for path, text in files.items())


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1plugin", "starting with a letter"),
        ("my plugin", "use letters, digits"),
        ("", "use letters, digits"),
        ("class", "would shadow"),
        ("json", "would shadow"),
        ("flowdapt", "would shadow"),
        ("numpy", "already importable"),
    ],
)
def test_a_bad_name_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, reason: str
) -> None:
    with pytest.raises(PluginTemplateError, match=reason):
        create_plugin(name, tmp_path / "target")
    assert list(tmp_path.iterdir()) == []


def test_names_are_normalised() -> None:
    assert plugin_names("Tooling-Names") == {
        "plugin": "tooling_names",
        "package": "tooling_names",
        "distribution": "tooling-names",
    }


def test_a_non_empty_target_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(PluginTemplateError, match="not empty"):
        create_plugin("tooling_taken", target)
    assert [path.name for path in target.iterdir()] == ["notes.txt"]
    (tmp_path / "a_file").write_text("")
    with pytest.raises(PluginTemplateError, match="not a directory"):
        create_plugin("tooling_taken", tmp_path / "a_file")


def test_an_empty_target_and_missing_parents_are_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert (create_plugin("tooling_empty", tmp_path / "empty").root / "pyproject.toml").is_file()
    nested = create_plugin("tooling_nested", tmp_path / "a" / "b" / "nested")
    assert (nested.root / "src" / "tooling_nested" / "stages.py").is_file()


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = Path.write_text
    written: list[Path] = []

    def write_then_fail(path: Path, *args: object, **kwargs: object) -> int:
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(path)
        return real_write(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", write_then_fail)
    with pytest.raises(OSError, match="No space left"):
        create_plugin("tooling_full", tmp_path / "full")
    assert len(written) == 3  # it failed part-way through
    assert list(tmp_path.iterdir()) == []  # neither the target nor the staging folder


@pytest.mark.slow
def test_the_command_line(tmp_path: Path) -> None:
    flowdapt = str(BIN / "flowdapt")
    target = tmp_path / "cli-made"
    made = subprocess.run(
        [flowdapt, "plugin", "new", "tooling_cli", "--dir", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert f"created plugin 'tooling_cli' in {target}" in made.stdout
    assert "flowctl apply --plugin tooling_cli" in made.stdout
    assert (target / "src" / "tooling_cli" / "resources" / "workflows.yaml").is_file()

    again = subprocess.run(
        [flowdapt, "plugin", "new", "tooling_cli", "--dir", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2
    assert "not empty" in again.stderr and "Traceback" not in again.stderr

    default_dir = subprocess.run(
        [flowdapt, "plugin", "new", "tooling_here"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert default_dir.returncode == 0, default_dir.stderr
    assert (tmp_path / "tooling_here" / "pyproject.toml").is_file()
