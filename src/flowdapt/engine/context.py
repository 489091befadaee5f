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

from pydantic import BaseModel, ConfigDict, field_validator

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
    """The current run as a stage sees it: input, namespace, executor, definition, run, config,
    and the triggering event for runs a trigger started."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    input: dict[str, Any] = {}
    namespace: str = "default"
    executor: str
    run: WorkflowRun
    definition: WorkflowResource
    config: dict[str, Any] = {}
    # The event that made a trigger start this run (as a plain mapping: type, data, …), if any.
    event: dict[str, Any] | None = None
    # The server's settings that stage-side modules read (``storage``, ``services.compute``'s
    # object-store options), as plain data; empty outside a server, where the environment says.
    settings: dict[str, Any] = {}

    @field_validator("config", mode="after")
    @classmethod
    def _dict_with_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        return value if isinstance(value, ConfigData) else ConfigData(value)

    @property
    def cancelled(self) -> bool:
        """True once this stage's attempt was stopped (run cancelled, failed elsewhere, or timed
        out); a long-running stage in a thread may check it and return early."""
        stop = _current_stop.get()
        return stop is not None and stop.is_set()

    @property
    def stage(self) -> str | None:
        """The name of the stage being executed (None outside a stage's call)."""
        return _current_stage.get()


_current: ContextVar[WorkflowRunContext | None] = ContextVar("flowdapt_run_context", default=None)
# The stage name lives beside the run's context so that one context serves every stage of a run.
_current_stage: ContextVar[str | None] = ContextVar("flowdapt_stage", default=None)
_current_stop: ContextVar[threading.Event | None] = ContextVar("flowdapt_stop", default=None)
# The run the driver's code is working for (the runner and the callbacks it registers), so that
# the server's own log lines about a run can say which one; stages have the full context above.
_driving: ContextVar[tuple[str, str, str] | None] = ContextVar("flowdapt_driving", default=None)


def run_identity() -> dict[str, str]:
    """``run_id``, ``run``, ``workflow`` and ``stage`` of the run this code works for, those
    that are known: in a stage's call, or in the runner driving a run; {} elsewhere."""
    context = _current.get()
    if context is not None:
        run = context.run
        identity = {"run_id": str(run.uid), "run": run.name, "workflow": run.workflow}
        stage = _current_stage.get()
        return identity if stage is None else {**identity, "stage": stage}
    driving = _driving.get()
    if driving is None:
        return {}
    return {"run_id": driving[0], "run": driving[1], "workflow": driving[2]}


@contextmanager
def driving(uid: str, name: str, workflow: str) -> Iterator[None]:
    """Mark the code in this block (and the callbacks it registers) as working for a run."""
    token = _driving.set((uid, name, workflow))
    try:
        yield
    finally:
        _driving.reset(token)


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
def stage_context(
    context: WorkflowRunContext, stage: str, stop: threading.Event | None = None
) -> Iterator[None]:
    """Make `context` current for `stage` (with its attempt's stop flag) within the block."""
    tokens = (_current.set(context), _current_stage.set(stage), _current_stop.set(stop))
    try:
        yield
    finally:
        _current_stop.reset(tokens[2])
        _current_stage.reset(tokens[1])
        _current.reset(tokens[0])
