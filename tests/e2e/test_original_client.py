"""The ORIGINAL PyPI client, `flowctl==0.1.4`, driven against our real server process.

The original client (with the original's SDK, `flowdapt_sdk`) is installed once per session into
its own virtual environment under a pytest tmp dir, and run exactly as a user runs it: its own
`flowctl` executable, `--server URL` to pick the server and `--app-dir` pointing at a tmp dir so
it keeps its `flowctl.yaml` there instead of in the user's home.

Two behaviours of that client shape the assertions:
- Its command decorator swallows `typer.Exit`, so "not found" from `get`/`inspect` exits 0 with
  empty output (a client quirk). Empty output is still a precise check: any error body without
  `status_code: 404` would make it print `Error: ...` and exit 1 instead.
- Its `status` colours a service green only when the service's status is exactly "OK"; anything
  else is shown in red as unhealthy (so our server reports "OK").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, free_port

ORIGINAL_CLIENT = "flowctl==0.1.4"
VENV_TIMEOUT = 120
PIP_TIMEOUT = 900

# The first test also pays for the client's virtual environment (fixture setup counts).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(PIP_TIMEOUT + VENV_TIMEOUT + 120)]


def _isolated_env(**extra: str) -> dict[str, str]:
    """Our environment minus anything that would leak our packages or settings into the client."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "NO_COLOR", "FORCE_COLOR"}
        and not key.startswith("FLOWCTL")
    }
    env["COLUMNS"] = "200"  # no wrapped table cells
    return {**env, **extra}


@dataclass(frozen=True)
class OriginalClient:
    """The original `flowctl` executable and the directory it keeps its configuration in."""

    executable: Path
    app_dir: Path

    def __call__(
        self, server: Server, *args: str | Path, color: bool = False, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        extra = {"FORCE_COLOR": "1"} if color else {"NO_COLOR": "1"}
        return subprocess.run(
            [
                str(self.executable),
                "--app-dir",
                str(self.app_dir),
                "--server",
                server.url,
                *map(str, args),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.app_dir,
            env=_isolated_env(**extra),
        )


def _setup_step(args: list[str], cwd: Path, timeout: float) -> None:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=_isolated_env()
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-3000:]}"
        )


@pytest.fixture(scope="session")
def original_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalClient]:
    """`flowctl==0.1.4` from PyPI in a fresh venv; only that venv is removed afterwards."""
    base = tmp_path_factory.mktemp("original-flowctl")
    venv = base / "venv"
    app_dir = base / "app"
    app_dir.mkdir()
    python3 = shutil.which("python3") or sys.executable
    try:
        _setup_step([python3, "-m", "venv", str(venv)], base, VENV_TIMEOUT)
        _setup_step(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--disable-pip-version-check",
                "--no-input",
                ORIGINAL_CLIENT,
            ],
            base,
            PIP_TIMEOUT,
        )
        yield OriginalClient(venv / "bin" / "flowctl", app_dir)
    finally:
        shutil.rmtree(venv, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server on the default SQLite database, always stopped at the end."""
    instance = Server(tmp_path_factory.mktemp("app-original-client"), free_port(), None)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


def write_resources(
    directory: Path, name: str, *, target: str = "tests.api.stages.greet", revision: str = "1"
) -> tuple[Path, Path]:
    """One workflow and one config selecting it by annotation; the original applies one per file."""
    workflow = directory / f"{name}.workflow.yaml"
    workflow.write_text(
        f"kind: workflow\n"
        f"metadata:\n"
        f"  name: {name}\n"
        f"  annotations: {{group: {name}, revision: '{revision}'}}\n"
        f"spec:\n"
        f"  stages:\n"
        f"    - name: stage\n"
        f"      target: {target}\n"
    )
    config = directory / f"{name}.config.yaml"
    config.write_text(
        f"kind: config\n"
        f"metadata:\n"
        f"  name: {name}_config\n"
        f"spec:\n"
        f"  selector: {{type: annotation, value: {{group: {name}}}}}\n"
        f"  data: {{city: Oslo}}\n"
    )
    return workflow, config


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "Error" not in output, output


def apply_ok(client: OriginalClient, server: Server, *paths: Path) -> str:
    done = client(server, "apply", *[arg for path in paths for arg in ("-p", path)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert_clean(done)
    return done.stdout


def get_json(client: OriginalClient, server: Server, *args: str) -> Any:
    done = client(server, "get", *args, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_clean(done)
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_apply_creates_then_updates(
    original_client: OriginalClient, server: Server, tmp_path: Path
) -> None:
    workflow, config = write_resources(tmp_path, "orig_apply")
    created = apply_ok(original_client, server, workflow, config)
    assert "[workflow/orig_apply] created" in created
    assert "[config/orig_apply_config] created" in created
    before = get_json(original_client, server, "workflow", "orig_apply")
    assert isinstance(before, dict) and before["metadata"]["annotations"]["revision"] == "1"

    workflow, config = write_resources(tmp_path, "orig_apply", revision="2")
    updated = apply_ok(original_client, server, workflow, config)
    assert "[workflow/orig_apply] updated" in updated
    assert "[config/orig_apply_config] updated" in updated
    assert "created" not in updated
    after = get_json(original_client, server, "workflow", "orig_apply")
    assert isinstance(after, dict) and after["metadata"]["annotations"]["revision"] == "2"
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["created_at"] == before["metadata"]["created_at"]

    stored_config = get_json(original_client, server, "config", "orig_apply_config")
    assert isinstance(stored_config, dict) and stored_config["kind"] == "config"
    assert stored_config["spec"]["data"] == {"city": "Oslo"}


def test_get_and_inspect_workflow(
    original_client: OriginalClient, server: Server, tmp_path: Path
) -> None:
    workflow, _ = write_resources(tmp_path, "orig_get")
    apply_ok(original_client, server, workflow)
    uid = get_json(original_client, server, "workflow", "orig_get")["metadata"]["uid"]

    listed = original_client(server, "get", "workflows")
    assert listed.returncode == 0 and "orig_get" in listed.stdout and uid in listed.stdout
    assert "ago" in listed.stdout  # CREATED: naive UTC timestamps subtracted from utcnow()
    assert_clean(listed)
    names = {item["metadata"]["name"] for item in get_json(original_client, server, "workflows")}
    assert "orig_get" in names

    one = original_client(server, "get", "workflow", "orig_get")
    assert one.returncode == 0 and "orig_get" in one.stdout and uid in one.stdout
    assert_clean(one)
    by_uid = get_json(original_client, server, "workflow", uid)
    assert isinstance(by_uid, dict) and by_uid["metadata"]["name"] == "orig_get"

    inspected = original_client(server, "inspect", "workflow", "orig_get")
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    assert_clean(inspected)
    expected = ("kind: workflow", "name: orig_get", f"uid: {uid}", "target: tests.api.stages.greet")
    for line in expected:
        assert line in inspected.stdout


def test_run_waits_and_prints_result(
    original_client: OriginalClient, server: Server, tmp_path: Path
) -> None:
    workflow, _ = write_resources(tmp_path, "orig_run")
    apply_ok(original_client, server, workflow)

    ran = original_client(server, "run", "orig_run", "--who", "Oslo")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert_clean(ran)
    assert "[FINISHED]: hello Oslo" in ran.stdout

    runs = get_json(original_client, server, "runs", "orig_run")
    assert isinstance(runs, list) and len(runs) == 1
    assert runs[0]["state"] == "finished" and runs[0]["result"] == "hello Oslo"
    assert runs[0]["workflow"] == "orig_run" and runs[0]["source"] == "api"
    table = original_client(server, "get", "runs", "orig_run")
    assert table.returncode == 0 and runs[0]["uid"] in table.stdout and "finished" in table.stdout


def test_applied_config_reaches_the_stage(
    original_client: OriginalClient, server: Server, tmp_path: Path
) -> None:
    workflow, config = write_resources(
        tmp_path, "orig_config", target="tests.api.stages.show_config"
    )
    apply_ok(original_client, server, config, workflow)
    ran = original_client(server, "run", "orig_config", "--disable-progress")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "[FINISHED]: {'city': 'Oslo'}" in ran.stdout


def test_delete_workflow(original_client: OriginalClient, server: Server, tmp_path: Path) -> None:
    workflow, _ = write_resources(tmp_path, "orig_delete")
    apply_ok(original_client, server, workflow)

    deleted = original_client(server, "delete", "workflow", "orig_delete")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert_clean(deleted)
    assert "[workflow/orig_delete] deleted" in deleted.stdout

    assert get_json(original_client, server, "workflow", "orig_delete") is None
    remaining = get_json(original_client, server, "workflows") or []
    assert "orig_delete" not in {item["metadata"]["name"] for item in remaining}


def test_status(original_client: OriginalClient, server: Server) -> None:
    status = original_client(server, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert_clean(status)
    for text in ("Version:", "API Version: v1alpha1", "Name: flowdapt", "System Metrics", "CPU:"):
        assert text in status.stdout
    for text in ("Operating System", "Services", "compute", "triggers"):
        assert text in status.stdout


def test_status_shows_healthy_services_as_ok(
    original_client: OriginalClient, server: Server
) -> None:
    status = original_client(server, "status", color=True)
    assert status.returncode == 0, status.stdout + status.stderr
    services = status.stdout[status.stdout.index("Services") :]
    assert "\x1b[31m" not in services, services  # red
    assert "\x1b[32mOK" in services, services  # green OK


def test_missing_workflow(original_client: OriginalClient, server: Server) -> None:
    for args in (("get", "workflow", "missing"), ("inspect", "workflow", "missing")):
        done = original_client(server, *args)
        assert done.returncode == 0, done.stdout + done.stderr  # the client swallows its Exit(1)
        assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stdout + done.stderr

    ran = original_client(server, "run", "missing")
    assert ran.returncode == 0 and "[workflow/missing] not found" in ran.stdout
    assert_clean(ran)
