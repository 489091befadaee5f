"""What runs inside a worker: one stage call, or one batch of a parameterized stage's items.

A task is a small picklable object; every executor just calls it (in a thread, a process, a Dask
or Ray worker) and hands back its :class:`TaskOutcome`. Nothing user code raises escapes a task —
not even ``SystemExit`` or a stray ``CancelledError``: it comes back as data, with type, message
and traceback, so the server and the run survive whatever a stage does.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowdapt.domain.runs import ErrorInfo
from flowdapt.domain.workflow_rules import DEFAULT_ASYNC_CONCURRENCY
from flowdapt.engine.calling import CallPlan
from flowdapt.engine.context import WorkflowRunContext, stage_context
from flowdapt.engine.log_capture import CapturedLine, capturing, set_position


@dataclass(slots=True)
class ItemFailure:
    """A failed call: ``position`` within the task's items (0 for a single call).

    ``by_engine``: the call did not fail by itself — it timed out, was not run, or its executor
    lost it — so the stage fails even where failed items may be dropped.
    """

    position: int
    error: ErrorInfo
    exception: BaseException | None = None
    by_engine: bool = False

    @classmethod
    def capture(cls, position: int, exc: BaseException, *, by_engine: bool = False) -> ItemFailure:
        error = ErrorInfo(
            type=type(exc).__name__,
            message=str(exc),
            traceback="".join(traceback.format_exception(exc)),
        )
        return cls(position, error, exc, by_engine)


@dataclass(slots=True)
class TaskOutcome:
    """Values in item order (``None`` where an item failed) and the failures.

    ``values`` is shorter than the task's items when the task was stopped part-way.
    """

    values: list[Any]
    failures: list[ItemFailure] = field(default_factory=list)
    logs: list[CapturedLine] = field(default_factory=list)  # what the task logged and printed
    logs_dropped: int = 0  # lines past the task's capture caps


@dataclass(slots=True)
class StageTask:
    """Call a stage once (``items is None``) or once per item of this batch.

    ``stop`` is the attempt's stop flag in this process: set on cancellation, fail-fast or
    timeout, it ends a fan-out between items and shows as ``get_run_context().cancelled``. It is
    not pickled; worker processes are terminated instead.
    """

    stage: str
    plan: CallPlan
    context: WorkflowRunContext
    items: Sequence[Any] | None = None
    concurrency: int = DEFAULT_ASYNC_CONCURRENCY
    stop: threading.Event | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.stage, self.plan, self.context, self.items, self.concurrency)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.stage, self.plan, self.context, self.items, self.concurrency = state
        self.stop = None

    def __call__(self) -> TaskOutcome:
        with stage_context(self.context, self.stage, self.stop), capturing() as log:
            if self.items is None:
                outcome = self._call_once()
            elif self.plan.is_async:
                outcome = asyncio.run(self._map_async(self.items))
            else:
                outcome = self._map(self.items)
        outcome.logs, outcome.logs_dropped = log.lines, log.dropped
        return outcome

    def _call_once(self) -> TaskOutcome:
        try:
            return TaskOutcome([_resolved(self.plan.call())])
        except BaseException as exc:  # user code: even SystemExit must not end the worker
            return TaskOutcome([None], [ItemFailure.capture(0, exc)])

    def _map(self, items: Sequence[Any]) -> TaskOutcome:
        call_with, stop = self.plan.call_with, self.stop
        values: list[Any] = []
        failures: list[ItemFailure] = []
        append = values.append
        for position, item in enumerate(items):
            if stop is not None and stop.is_set():
                break
            set_position(position)
            try:
                value = call_with(item)
                append(_resolved(value) if inspect.isawaitable(value) else value)
            except BaseException as exc:  # user code: even SystemExit must not end the worker
                append(None)
                failures.append(ItemFailure.capture(position, exc))
        return TaskOutcome(values, failures)

    async def _map_async(self, items: Sequence[Any]) -> TaskOutcome:
        limit = asyncio.Semaphore(self.concurrency)
        stop = self.stop

        async def one(position: int, item: Any) -> Any:
            async with limit:
                if stop is not None and stop.is_set():
                    raise _Stopped
                set_position(position)  # this item's task has a context of its own
                return await self.plan.call_with(item)

        results = await asyncio.gather(
            *(one(position, item) for position, item in enumerate(items)), return_exceptions=True
        )
        values: list[Any] = []
        failures: list[ItemFailure] = []
        for position, result in enumerate(results):
            if isinstance(result, _Stopped):
                break
            if isinstance(result, BaseException):
                values.append(None)
                failures.append(ItemFailure.capture(position, result))
            else:
                values.append(result)
        return TaskOutcome(values, failures)


class _Stopped(Exception):
    """An item not started because the attempt was stopped."""


def _resolved(value: Any) -> Any:
    """The value, awaited first if the stage returned an awaitable (e.g. ``lambda x: fetch(x)``)."""
    if not inspect.isawaitable(value):
        return value

    async def wait() -> Any:
        return await value

    return asyncio.run(wait())
