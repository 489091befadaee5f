"""What runs inside a worker: one stage call, or one batch of a parameterized stage's items.

A task is a small picklable object; every executor just calls it (in a thread, a process, a Dask
or Ray worker) and hands back its :class:`TaskOutcome`. Errors in user code never escape a task:
they come back as data, with type, message and traceback.
"""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from flowdapt.domain.runs import ErrorInfo
from flowdapt.engine.calling import CallPlan
from flowdapt.engine.context import WorkflowRunContext, stage_context

# How many items of an async parameterized stage one task awaits at once.
DEFAULT_ASYNC_CONCURRENCY = 100


@dataclass(slots=True)
class ItemFailure:
    """A failed call: ``position`` within the task's items (0 for a single call)."""

    position: int
    error: ErrorInfo
    exception: BaseException | None = None

    @classmethod
    def capture(cls, position: int, exc: BaseException) -> ItemFailure:
        error = ErrorInfo(
            type=type(exc).__name__,
            message=str(exc),
            traceback="".join(traceback.format_exception(exc)),
        )
        return cls(position, error, exc)


@dataclass(slots=True)
class TaskOutcome:
    """Values in item order (``None`` where an item failed) and the failures."""

    values: list[Any]
    failures: list[ItemFailure] = field(default_factory=list)


@dataclass(slots=True)
class StageTask:
    """Call a stage once (``items is None``) or once per item of this batch."""

    stage: str
    plan: CallPlan
    context: WorkflowRunContext
    items: Sequence[Any] | None = None
    concurrency: int = DEFAULT_ASYNC_CONCURRENCY

    def __call__(self) -> TaskOutcome:
        with stage_context(self.context, self.stage):
            if self.items is None:
                return self._call_once()
            if self.plan.is_async:
                return asyncio.run(self._map_async(self.items))
            return self._map(self.items)

    def _call_once(self) -> TaskOutcome:
        try:
            value = self.plan.call()
            if inspect.isawaitable(value):
                value = _await(value)
        except Exception as exc:
            return TaskOutcome([None], [ItemFailure.capture(0, exc)])
        return TaskOutcome([value])

    def _map(self, items: Sequence[Any]) -> TaskOutcome:
        call_with = self.plan.call_with
        cancel = self.context.cancel_event  # read once: model attribute access costs microseconds
        values: list[Any] = []
        failures: list[ItemFailure] = []
        append = values.append
        for position, item in enumerate(items):
            if cancel is not None and cancel.is_set():
                break
            try:
                append(call_with(item))
            except Exception as exc:
                append(None)
                failures.append(ItemFailure.capture(position, exc))
        return TaskOutcome(values, failures)

    async def _map_async(self, items: Sequence[Any]) -> TaskOutcome:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(item: Any) -> Any:
            async with limit:
                return await self.plan.call_with(item)

        results = await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
        values: list[Any] = []
        failures: list[ItemFailure] = []
        for position, result in enumerate(results):
            if isinstance(result, Exception):
                values.append(None)
                failures.append(ItemFailure.capture(position, result))
            elif isinstance(result, BaseException):
                raise result
            else:
                values.append(result)
        return TaskOutcome(values, failures)


def _await(awaitable: Any) -> Any:
    async def wrapper() -> Any:
        return await awaitable

    return asyncio.run(wrapper())


def run_pickled(payload: bytes) -> bytes:
    """Entry point in a worker process: unpickle a task, run it, pickle its outcome.

    A value or error that cannot be pickled becomes a clear failure of that item instead of a hang
    or a broken pool.
    """
    task: StageTask = cloudpickle.loads(payload)
    outcome = task()
    try:
        return cloudpickle.dumps(outcome)  # type: ignore[no-any-return]
    except Exception:
        return cloudpickle.dumps(_picklable(task.stage, outcome))  # type: ignore[no-any-return]


def _picklable(stage: str, outcome: TaskOutcome) -> TaskOutcome:
    failures = {failure.position: failure for failure in outcome.failures}
    for failure in failures.values():
        if not _can_pickle(failure.exception):
            failure.exception = None
    values: list[Any] = []
    for position, value in enumerate(outcome.values):
        if position in failures or _can_pickle(value):
            values.append(value)
            continue
        values.append(None)
        try:
            cloudpickle.dumps(value)
        except Exception as exc:
            problem = TypeError(
                f"stage {stage!r} returned a {type(value).__name__} that cannot be sent back "
                f"from the worker process: {type(exc).__name__}: {exc}"
            )
            failures[position] = ItemFailure.capture(position, problem)
    return TaskOutcome(values, sorted(failures.values(), key=lambda f: f.position))


def _can_pickle(value: Any) -> bool:
    try:
        cloudpickle.dumps(value)
    except Exception:
        return False
    return True
