"""Plugin fixtures: fake installed distributions, plugins made by `flowdapt plugin new`, and a
real `flowdapt run` process that has them on its path.

A "fake distribution" is what pip would leave in site-packages: a ``NAME-VERSION.dist-info``
folder (METADATA + entry_points.txt) beside the package. Any folder on ``sys.path`` (or
``PYTHONPATH``) holding one is an installed distribution as far as ``importlib.metadata`` is
concerned, so nothing is installed into the virtual environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from flowdapt.plugin_template import NewPlugin, create_plugin
from tests.e2e.conftest import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def fake_distribution(
    site: Path,
    project: str,
    *,
    plugins: Mapping[str, str],
    version: str = "1.0",
    requires: Sequence[str] = (),
    files: Mapping[str, str] | None = None,
) -> Path:
    """Write a distribution `project` into `site`: its dist-info with `plugins` (entry-point
    name -> value) and `requires`, and `files` (relative path -> text) beside it."""
    info = site / f"{project.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {project}", f"Version: {version}"]
    lines += [f"Summary: {project} for tests", *(f"Requires-Dist: {req}" for req in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    entries = "".join(f"{name} = {value}\n" for name, value in plugins.items())
    (info / "entry_points.txt").write_text(f"[flowdapt.plugins]\n{entries}")
    for relative, text in (files or {}).items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return info


def install_generated(created: NewPlugin) -> Path:
    """'Install' a generated plugin the way pip would, from what its pyproject.toml declares:
    a dist-info beside the package in src/. Returns that src folder (the site to put on the
    path)."""
    project = tomllib.loads((created.root / "pyproject.toml").read_text())["project"]
    site = created.root / "src"
    fake_distribution(
        site,
        project["name"],
        plugins=project["entry-points"]["flowdapt.plugins"],
        version=project["version"],
        requires=project["dependencies"],
    )
    return site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder on sys.path for fake distributions (pytest takes it off afterwards)."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


# --- A real server with plugins installed -------------------------------------------------------

GENERATED = "tooling_gen"  # every name here is unique to these tests: `weather` is installed
BROKEN_WITH_FILES = "tooling_syntax"
MISSING = "tooling_missing"
DUPLICATE = "tooling_dup"

BROKEN_WORKFLOW = f"""\
kind: workflow
metadata:
  name: {BROKEN_WITH_FILES}
spec:
  stages:
    - name: only
      target: {BROKEN_WITH_FILES}.stages.only
"""


def broken_and_conflicting(site: Path) -> None:
    """Plugins that must not stop the server: one whose module is gone, one with a syntax
    error (that still bundles a workflow), and two packages claiming the same name."""
    fake_distribution(site, "tooling-missing", plugins={MISSING: MISSING})
    fake_distribution(
        site,
        "tooling-syntax",
        plugins={BROKEN_WITH_FILES: BROKEN_WITH_FILES},
        files={
            f"{BROKEN_WITH_FILES}/__init__.py": "def broken(:\n",
            f"{BROKEN_WITH_FILES}/resources/workflows.yaml": BROKEN_WORKFLOW,
            # Data a plugin may ship beside its resources: not applied.
            f"{BROKEN_WITH_FILES}/resources/settings.json": '{"threshold": 3}',
            f"{BROKEN_WITH_FILES}/resources/cities.csv": "city\nOslo\n",
        },
    )
    for project in ("tooling-dup-one", "tooling-dup-two"):
        package = project.replace("-", "_")
        fake_distribution(
            site, project, plugins={DUPLICATE: package}, files={f"{package}/__init__.py": ""}
        )


@dataclass
class PluginServer:
    """A `flowdapt run` process with the plugin sites on its PYTHONPATH."""

    url: str
    app_dir: Path
    generated: NewPlugin

    def flowctl(self, *args: str) -> Result:
        """Our flowctl, in-process, against this server."""
        env = {"FLOWCTL_CONFIG": str(self.app_dir / "flowctl.yaml"), "FLOWDAPT_SERVER": None}
        from flowctl.cli import app

        return CliRunner().invoke(app, ["--server", self.url, *args], env=env)

    def log(self) -> str:
        return (self.app_dir / "server.log").read_text(errors="replace")[-4000:]


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not answer within 30s: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def plugin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginServer]:
    """One server for the module, stopped at the end, with a generated plugin 'installed',
    broken ones beside it and two distributions using the same plugin name."""
    base = tmp_path_factory.mktemp("plugin-server")
    generated = create_plugin(GENERATED, base / "tooling-gen")
    others = base / "others"
    broken_and_conflicting(others)
    app_dir = base / "app"
    app_dir.mkdir()
    port = free_port()
    path = os.pathsep.join([str(install_generated(generated)), str(others), str(ROOT)])
    args = [str(BIN / "flowdapt"), "--app-dir", str(app_dir), "-o", f"rpc.api.port={port}"]
    args += ["-o", "database.target=flowdapt.storage.memory.MemoryStorage", "run"]
    log = app_dir / "server.log"
    with log.open("ab") as out:  # the child keeps its own handle
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": path}
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process, log)
        yield PluginServer(url=url, app_dir=app_dir, generated=generated)
    finally:
        stop_process(process)
