"""A run context to step into, as stage code runs in one; storage and cluster memory that each
test starts with empty."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import fsspec
import pytest

from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import WorkflowRun
from flowdapt.engine.context import WorkflowRunContext, reset_run_context, set_run_context
from flowdapt.objects.cluster_memory import get_cluster_memory_backend
from tests.conftest import workflow
from tests.objects.conftest import Storage

InRun = Callable[..., AbstractContextManager[WorkflowRunContext]]


@pytest.fixture
def in_run() -> InRun:
    """``with in_run(settings={...}) as context:`` runs the block as a stage of a run would
    (on the ``local`` executor unless ``executor=`` says otherwise)."""

    @contextmanager
    def enter(**fields: Any) -> Iterator[WorkflowRunContext]:
        resource = WorkflowResource.model_validate(workflow({"name": "s", "target": "m.f"}))
        context = WorkflowRunContext(
            **{"executor": "local", "run": WorkflowRun(workflow="w"), "definition": resource}
            | fields
        )
        token = set_run_context(context)
        try:
            yield context
        finally:
            reset_run_context(token)

    return enter


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No FLOWDAPT__ variable from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("FLOWDAPT__"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture(params=["file", "memory"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, clean_environment: pytest.MonkeyPatch
) -> Iterator[Storage]:
    """The `file` (under tmp_path) and `memory` filesystems, configured through the
    environment as the plugins' tests do."""
    protocol = request.param
    # The memory filesystem lives as long as the process: a base path of the test's own.
    base_path = str(tmp_path / "store") if protocol == "file" else f"plugin-{uuid.uuid4().hex}"
    fs = fsspec.filesystem(protocol)
    clean_environment.setenv("FLOWDAPT__STORAGE__PROTOCOL", protocol)
    clean_environment.setenv("FLOWDAPT__STORAGE__BASE_PATH", base_path)
    yield Storage(protocol, base_path, fs)
    if protocol == "memory" and fs.exists(f"/{base_path}"):
        fs.rm(f"/{base_path}", recursive=True)


@pytest.fixture
def empty_cluster_memory() -> Iterator[None]:
    """The local cluster memory is the process's: empty before and after the test."""
    get_cluster_memory_backend("local").clear()
    yield
    get_cluster_memory_backend("local").clear()
