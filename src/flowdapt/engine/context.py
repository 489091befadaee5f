"""The run context: what a stage can learn about the run it belongs to, from anywhere it runs.

The runner sets it around every task, in the worker (thread, process, Dask or Ray), from a small
picklable snapshot, so ``get_run_context()`` works in the stage and in everything it calls.

    from flowdapt.compute.resources.workflow.context import get_run_context

    def fetch(city):
        ctx = get_run_context()
        return download(city, api_key=ctx.config["api_key"], ns=ctx.namespace)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator

from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import WorkflowRun


class ConfigData(dict[str, Any]):
    """The merged config data: a dict that also answers attribute access (``config.input``)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class WorkflowRunContext(BaseModel):
    """The current run as a stage sees it: input, namespace, executor, definition, run, config."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    input: dict[str, Any] = {}
    namespace: str = "default"
    executor: str
    run: WorkflowRun
    definition: WorkflowResource
    config: dict[str, Any] = {}

    # Set by the runner when the run is cancelled; workers in this process (threads) see it.
    # It does not cross a process boundary: processes are stopped for real instead.
    _cancel: threading.Event | None = PrivateAttr(default=None)

    @field_validator("config", mode="after")
    @classmethod
    def _dict_with_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        return value if isinstance(value, ConfigData) else ConfigData(value)

    @property
    def cancelled(self) -> bool:
        """True once the run was cancelled; long-running thread stages may check it and return."""
        return self._cancel is not None and self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event | None:
        """The run's cancel flag in this process (None in worker processes)."""
        return self._cancel

    @property
    def stage(self) -> str | None:
        """The name of the stage being executed (None outside a stage's call)."""
        return _current_stage.get()

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__pydantic_private__"] = {"_cancel": None}
        return state


_current: ContextVar[WorkflowRunContext | None] = ContextVar("flowdapt_run_context", default=None)
# The stage name lives beside the run's context so that one context serves every stage of a run.
_current_stage: ContextVar[str | None] = ContextVar("flowdapt_stage", default=None)


def get_run_context() -> WorkflowRunContext:
    """The context of the stage currently executing; RuntimeError outside a stage."""
    context = _current.get()
    if context is None:
        raise RuntimeError("No active WorkflowRunContext")
    return context


def set_run_context(context: WorkflowRunContext) -> Token[WorkflowRunContext | None]:
    return _current.set(context)


def reset_run_context(token: Token[WorkflowRunContext | None]) -> None:
    _current.reset(token)


@contextmanager
def stage_context(context: WorkflowRunContext, stage: str) -> Iterator[None]:
    """Make `context` current, naming `stage`, for the duration of the block (in a worker)."""
    run_token, stage_token = _current.set(context), _current_stage.set(stage)
    try:
        yield
    finally:
        _current_stage.reset(stage_token)
        _current.reset(run_token)
