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
import types
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from flowdapt.domain.runs import ErrorInfo
from flowdapt.domain.workflow_rules import DEFAULT_ASYNC_CONCURRENCY
from flowdapt.engine.calling import CallPlan
from flowdapt.engine.context import WorkflowRunContext, stage_context
from flowdapt.engine.log_capture import CapturedLine, TaskLog, capturing, set_position


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


class PickledOnce:
    """A value that every task of a stage carries, pickled for the first task that is sent and
    reused for the others: a run's context holds the run's whole input, which would otherwise be
    pickled again for each batch of a fan-out."""

    __slots__ = ("_data", "_lock", "token", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.token = uuid.uuid4().hex  # names the value in the workers' cache of the last few
        self._data: bytes | None = None
        self._lock = threading.Lock()

    def data(self) -> bytes:
        with self._lock:  # executors pickle tasks from several threads
            if self._data is None:
                self._data = cloudpickle.dumps(self.value)
            return self._data


@dataclass(slots=True)
class StageTask:
    """Call a stage once (``items is None``) or once per item of this batch.

    ``stop`` is the attempt's stop flag in this process: set on cancellation, fail-fast or
    timeout, it ends a fan-out between items and shows as ``get_run_context().cancelled``. It is
    not pickled; worker processes are terminated instead. ``shared_context``, when given, holds
    ``context`` pickled once for all the tasks of the stage.
    """

    stage: str
    plan: CallPlan
    context: WorkflowRunContext
    items: Sequence[Any] | None = None
    concurrency: int = DEFAULT_ASYNC_CONCURRENCY
    stop: threading.Event | None = None
    shared_context: PickledOnce | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        shared = self.shared_context
        context: WorkflowRunContext | _SharedState = self.context
        if shared is not None and shared.value is self.context:
            context = _SharedState(shared.token, shared.data())
        return (self.stage, self.plan, context, self.items, self.concurrency)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.stage, self.plan, context, self.items, self.concurrency = state
        if isinstance(context, _SharedState):
            context = _unpickled_shared(context)
        self.context = context
        self.stop, self.shared_context = None, None

    def __call__(self) -> TaskOutcome:
        with stage_context(self.context, self.stage, self.stop), capturing() as log:
            if self.items is None:
                outcome = self._call_once()
            elif self.plan.is_async:
                outcome = asyncio.run(self._map_async(self.items))
            else:
                outcome = self._map(self.items, log)
        outcome.logs, outcome.logs_dropped = log.lines, log.dropped
        return outcome

    def _call_once(self) -> TaskOutcome:
        try:
            return TaskOutcome([_resolved(self.plan.call())])
        except BaseException as exc:  # user code: even SystemExit must not end the worker
            return TaskOutcome([None], [ItemFailure.capture(0, exc)])

    def _map(self, items: Sequence[Any], log: TaskLog) -> TaskOutcome:
        # The per-item loop of every fan-out: kept to what each item needs, since trivial items
        # are common and this loop is most of what a batch of them costs.
        function, args, kwargs = self.plan.function, self.plan.args, self.plan.kwargs
        call = function if not args and not kwargs else self.plan.call_with
        known_awaitable = _AWAITABLE_BY_TYPE.get
        stop = self.stop
        values: list[Any] = []
        failures: list[ItemFailure] = []
        append = values.append
        for position, item in enumerate(items):
            if stop is not None and stop.is_set():
                break
            log.position = position
            try:
                value = call(item)
                awaitable = known_awaitable(type(value))
                if awaitable is None:
                    awaitable = _is_awaitable(value)
                append(_resolved(value) if awaitable else value)
            except BaseException as exc:  # user code: even SystemExit must not end the worker
                append(None)
                failures.append(ItemFailure.capture(position, exc))
        log.position = None
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


@dataclass(frozen=True, slots=True)
class _SharedState:
    token: str
    data: bytes


# The contexts a worker unpickled last, by token: the batches of a fan-out that reach the same
# worker share one instead of each unpickling the run's input again. Two, since a worker serves
# one fan-out at a time or two overlapping; more would keep old runs' inputs alive.
_UNPICKLED: OrderedDict[str, Any] = OrderedDict()
_UNPICKLED_SIZE = 2
_unpickled_lock = threading.Lock()


def _unpickled_shared(shared: _SharedState) -> Any:
    with _unpickled_lock:
        if shared.token in _UNPICKLED:
            _UNPICKLED.move_to_end(shared.token)
            return _UNPICKLED[shared.token]
    value = cloudpickle.loads(shared.data)
    with _unpickled_lock:
        _UNPICKLED[shared.token] = value
        while len(_UNPICKLED) > _UNPICKLED_SIZE:
            _UNPICKLED.popitem(last=False)
    return value


class _Stopped(Exception):
    """An item not started because the attempt was stopped."""


_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def _is_awaitable(value: Any) -> bool:
    """inspect.isawaitable, remembered per type (its ABC check would cost a fan-out's trivial
    items more than their call); a generator's answer depends on the object, so it is asked."""
    kind = type(value)
    known = _AWAITABLE_BY_TYPE.get(kind)
    if known is None:
        known = inspect.isawaitable(value)
        if kind is not types.GeneratorType and len(_AWAITABLE_BY_TYPE) < 1024:
            _AWAITABLE_BY_TYPE[kind] = known
    return known


def _resolved(value: Any) -> Any:
    """The value, awaited first if the stage returned an awaitable (e.g. ``lambda x: fetch(x)``)."""
    if not _is_awaitable(value):
        return value

    async def wait() -> Any:
        return await value

    return asyncio.run(wait())
