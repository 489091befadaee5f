"""flowctl stays a light client: no server dependencies imported, fast start, pinned surface."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import time
from pathlib import Path

import flowctl

HEAVY = ["fastapi", "sqlalchemy", "pydantic", "ray", "dask", "flowdapt", "starlette", "uvicorn"]
FLOWCTL = str(Path(sys.executable).with_name("flowctl"))


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    return set(json.loads(done.stdout))


def test_cli_imports_no_server_dependencies() -> None:
    loaded = _modules_after("import flowctl.cli")
    heavy = {name for name in loaded if name.split(".")[0] in HEAVY}
    assert heavy == set()
    # Imported lazily, by the commands that need them.
    assert {"httpx", "yaml", "rich"}.isdisjoint(loaded)


def test_sdk_imports_no_server_dependencies() -> None:
    loaded = _modules_after("import flowctl.client, flowctl.cli.resources")
    assert {name for name in loaded if name.split(".")[0] in HEAVY} == set()


def test_version_answers_fast() -> None:
    subprocess.run([FLOWCTL, "--version"], capture_output=True, timeout=30, check=True)
    started = time.perf_counter()
    subprocess.run([FLOWCTL, "--version"], capture_output=True, timeout=30, check=True)
    assert time.perf_counter() - started < 1.0


def test_version_matches_distribution() -> None:
    assert flowctl.__version__ == importlib.metadata.version("flowctl")


def test_exported_surface() -> None:
    assert flowctl.__all__ == sorted(flowctl.__all__)
    assert flowctl.__all__ == [
        "ApiError",
        "Conflict",
        "DocumentError",
        "FlowctlError",
        "FlowdaptClient",
        "Invalid",
        "NotFound",
        "ServerUnreachable",
        "__version__",
    ]
    for name in flowctl.__all__:
        assert hasattr(flowctl, name), name
