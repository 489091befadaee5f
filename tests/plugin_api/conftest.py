"""A run context to step into, as stage code runs in one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import WorkflowRun
from flowdapt.engine.context import WorkflowRunContext, reset_run_context, set_run_context
from tests.conftest import workflow

InRun = Callable[..., AbstractContextManager[WorkflowRunContext]]


@pytest.fixture
def in_run() -> InRun:
    """``with in_run(settings={...}) as context:`` runs the block as a stage of a run would."""

    @contextmanager
    def enter(**fields: Any) -> Iterator[WorkflowRunContext]:
        resource = WorkflowResource.model_validate(workflow({"name": "s", "target": "m.f"}))
        context = WorkflowRunContext(
            executor="local", run=WorkflowRun(workflow="w"), definition=resource, **fields
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
