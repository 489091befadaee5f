"""One stage of a running run: its attempts, batches, timeout and retries.

Completion is driven by callbacks on the executor's futures rather than by a task per stage: a
finished task lets the next stage start within the same turn of the event loop, which keeps the
per-stage cost of a long chain close to the cost of the thread hop itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from flowdapt.domain.errors import StageFailedError, StageTimeoutError
from flowdapt.domain.runs import ErrorInfo, StageRun
from flowdapt.engine.calling import CallPlan
from flowdapt.engine.context import WorkflowRunContext
from flowdapt.engine.executor import Executor, Placement
from flowdapt.engine.graph import StageNode
from flowdapt.engine.log_capture import CapturedLine
from flowdapt.engine.task import ItemFailure, PickledOnce, StageTask, TaskOutcome

logger = logging.getLogger(__name__)


class StageFailure(Exception):
    """A stage ended in failure; carries the error record and the original exception."""

    def __init__(self, error: ErrorInfo, exception: BaseException | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.exception = exception

    @classmethod
    def of(cls, stage: str, failure: ItemFailure, *, item: int | None = None) -> StageFailure:
        error = failure.error.model_copy(update={"stage": stage, "item": item})
        return cls(error, failure.exception)

    @classmethod
    def from_exception(cls, stage: str, exc: BaseException) -> StageFailure:
        if isinstance(exc, StageFailure):
            return exc
        return cls.of(stage, ItemFailure.capture(0, exc))


class StageExecution:
    """Runs one stage's calls on the executor until it succeeds, fails for good, or is stopped.

    ``items is None`` means one call; otherwise one call per item, cut into batches. Exactly one of
    ``on_success(value)`` / ``on_failure(StageFailure)`` is called, unless ``stop()`` comes first.
    Every item index ends each attempt either in the results or among the failures.
    """

    def __init__(
        self,
        node: StageNode,
        plan: CallPlan,
        items: list[Any] | None,
        *,
        record: StageRun,
        executor: Executor,
        context: WorkflowRunContext,
        on_success: Callable[[StageExecution, Any], None],
        on_failure: Callable[[StageExecution, StageFailure], None],
        on_progress: Callable[[StageRun], None],
        sleep: Callable[[float], Awaitable[None]],
        keep_result: bool = False,
        on_logs: Callable[[StageRun, list[CapturedLine], int], None] | None = None,
    ) -> None:
        self.node, self.plan, self.items, self.record = node, plan, items, record
        self._executor, self._context = executor, context
        self._placement = Placement(node.resources, node.options, keep_result and items is None)
        self._on_success, self._on_failure, self._on_progress = on_success, on_failure, on_progress
        self._on_logs = on_logs
        self._sleep = sleep
        self._results: list[Any] = [None] * (1 if items is None else len(items))
        self._failed: dict[int, ItemFailure] = {}
        self._outstanding: dict[asyncio.Future[TaskOutcome], Sequence[int]] = {}
        self._stop_flag = threading.Event()  # the current attempt's; thread tasks watch it
        self._timeout: asyncio.TimerHandle | None = None
        self._retry: asyncio.Task[None] | None = None
        self._stopped = False
        self.leftovers: list[
            asyncio.Future[Any]
        ] = []  # cancelled work the runner awaits at the end
        if items is not None:
            record.items_total = len(items)

    def start(self) -> None:
        self._attempt(range(len(self._results)))

    def stop(self) -> None:
        """Abandon the stage: cancel its tasks (terminating processes where possible)."""
        self._stopped = True
        self._cancel_outstanding()
        if self._retry is not None:
            self._retry.cancel()
            self.leftovers.append(self._retry)

    def _attempt(self, pending: Sequence[int]) -> None:
        self.record.attempts += 1
        self._failed = {}
        self._stop_flag = threading.Event()
        try:
            self._submit(pending)
        except Exception as exc:  # the executor refused the work (e.g. it is not running)
            self._finish_failed(StageFailure.from_exception(self.node.name, exc))
            return
        loop = asyncio.get_running_loop()
        if not self._outstanding:  # an empty fan-out: complete on the next turn, not recursively
            loop.call_soon(self._end_attempt)
            return
        timeout = self.node.options.timeout
        if timeout is not None:
            self._timeout = loop.call_later(timeout, self._timed_out, self.record.attempts)

    def _submit(self, pending: Sequence[int]) -> None:
        name, plan, context, items = self.node.name, self.plan, self._context, self.items
        stop = self._stop_flag
        if items is None:
            task = StageTask(name, plan, context, stop=stop)
            self._track(self._executor.submit(task, self._placement), pending)
            return
        options = self.node.options
        size = options.batch_size or self._executor.batch_size(len(pending), self._placement)
        shared = PickledOnce(context)  # pickled at most once, and only if an executor pickles
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            batch = (
                items[chunk.start : chunk.stop]
                if isinstance(chunk, range)
                else [items[index] for index in chunk]
            )
            task = StageTask(name, plan, context, batch, options.max_concurrency, stop, shared)
            self._track(self._executor.submit(task, self._placement), chunk)

    def _track(self, future: asyncio.Future[TaskOutcome], indices: Sequence[int]) -> None:
        self._outstanding[future] = indices
        future.add_done_callback(self._task_done)

    def _task_done(self, future: asyncio.Future[TaskOutcome]) -> None:
        if self._stopped or future not in self._outstanding:
            return  # cancelled by stop() or a timeout: already accounted for
        indices = self._outstanding.pop(future)
        self._collect(future, indices)
        if self.items is not None:
            self._on_progress(self.record)
        stop_early = self._failed and self._is_last_attempt and not self._allow_partial
        if stop_early or not self._outstanding:
            self._end_attempt()

    def _collect(self, future: asyncio.Future[TaskOutcome], indices: Sequence[int]) -> None:
        """Put every index of the task either into the results or among the failures."""
        outcome = _outcome_of(future, self.node.name)
        results, failed = self._results, self._failed
        if isinstance(outcome, ItemFailure):
            for index in indices:
                failed[index] = outcome
            return
        if (outcome.logs or outcome.logs_dropped) and self._on_logs is not None:
            lines = self._with_item_indices(outcome.logs, indices)
            self._on_logs(self.record, lines, outcome.logs_dropped)
        failures = {failure.position: failure for failure in outcome.failures}
        values = outcome.values
        if not failures and isinstance(indices, range) and indices.step == 1:
            results[indices.start : indices.start + len(values)] = values  # the common case
        else:
            for position, value in enumerate(values):
                failure = failures.get(position)
                if failure is None:
                    results[indices[position]] = value
                else:
                    failed[indices[position]] = failure
        done = len(outcome.values) - len(failures)
        if len(outcome.values) < len(indices):  # stopped part-way: the rest never ran
            missing = ItemFailure.capture(
                0,
                StageFailedError(
                    f"stage {self.node.name!r}: not run, the attempt was stopped",
                    stage=self.node.name,
                ),
                by_engine=True,
            )
            for index in indices[len(outcome.values) :]:
                failed[index] = missing
        self.record.items_done += done

    def _with_item_indices(
        self, lines: list[CapturedLine], indices: Sequence[int]
    ) -> list[CapturedLine]:
        """The task's lines with the item's index in the fan-out instead of its batch position."""
        if self.items is None:
            return lines
        for line in lines:
            if line.position is not None and line.position < len(indices):
                line.position = indices[line.position]
        return lines

    def _timed_out(self, attempt: int) -> None:
        if self._stopped or attempt != self.record.attempts or not self._outstanding:
            return
        timeout = ItemFailure.capture(
            0,
            StageTimeoutError(
                f"stage {self.node.name!r} did not finish within its timeout of "
                f"{self.node.options.timeout}s",
                stage=self.node.name,
            ),
            by_engine=True,
        )
        for indices in self._outstanding.values():
            for index in indices:
                self._failed[index] = timeout
        self._end_attempt()

    @property
    def _is_last_attempt(self) -> bool:
        return self.record.attempts > self.node.options.retries

    @property
    def _allow_partial(self) -> bool:
        return self.node.options.allow_partial_failure

    def _end_attempt(self) -> None:
        if self._stopped:
            return
        self._cancel_outstanding()
        if not self._failed:
            self._finish(self._results[0] if self.items is None else self._results)
        elif not self._is_last_attempt:
            self._retry = asyncio.ensure_future(self._retry_failed())
        else:
            self._give_up()

    async def _retry_failed(self) -> None:
        options, attempt, failed = self.node.options, self.record.attempts, self._failed
        delay = options.retry_delay * options.retry_backoff ** (attempt - 1)
        first = failed[min(failed)]
        logger.warning(
            "stage %r attempt %d failed (%s: %s); retrying %d call(s) in %.3gs",
            self.node.name,
            attempt,
            first.error.type,
            first.error.message,
            len(failed),
            delay,
        )
        await self._sleep(delay)
        self._retry = None
        if not self._stopped:
            self._attempt(sorted(failed))

    def _give_up(self) -> None:
        failed, name = self._failed, self.node.name
        self.record.items_failed = len(failed)
        first = min(failed)
        by_engine = [index for index, failure in failed.items() if failure.by_engine]
        if self.items is None:
            self._finish_failed(StageFailure.of(name, failed[first]))
        elif not self._allow_partial or by_engine:  # only an item's own error may be dropped
            first = min(by_engine) if self._allow_partial else first
            self._finish_failed(StageFailure.of(name, failed[first], item=first))
        else:
            shown = sorted(failed)[:10]
            logger.warning(
                "stage %r dropped %d of %d items that failed (allow_partial_failure); "
                "first: item %d %s: %s; items %s%s",
                name,
                len(failed),
                len(self._results),
                first,
                failed[first].error.type,
                failed[first].error.message,
                shown,
                "…" if len(failed) > len(shown) else "",
            )
            self._finish([v for i, v in enumerate(self._results) if i not in failed])

    def _finish(self, value: Any) -> None:
        self._stopped = True
        self._on_success(self, value)

    def _finish_failed(self, failure: StageFailure) -> None:
        self._stopped = True
        self._cancel_outstanding()
        self._on_failure(self, failure)

    def _cancel_outstanding(self) -> None:
        self._stop_flag.set()  # thread tasks of this attempt stop between items
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None
        for future in self._outstanding:
            future.cancel()
            self.leftovers.append(future)
        self._outstanding.clear()


def _outcome_of(future: asyncio.Future[TaskOutcome], stage: str) -> TaskOutcome | ItemFailure:
    """The task's outcome, or the one failure of all its items when the executor could not run
    it (refused, lost its worker, or was closed under it)."""
    if future.cancelled():
        error: BaseException = StageFailedError(
            f"stage {stage!r}: its task was cancelled by the executor (closed while running?)",
            stage=stage,
        )
    else:
        exc = future.exception()
        if exc is None:
            return future.result()
        error = exc
    return ItemFailure.capture(0, error, by_engine=True)
