"""The async driver of one run: asks the scheduler what is ready, has the executor run it, feeds
the results back, and applies retries, timeouts, fail-fast and cancellation.

    runner = WorkflowRunner(WorkflowGraph.build(workflow), executor, WorkflowRun(workflow="w"))
    run = await runner.run()   # finished / failed / cancelled; user errors never raise here
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from flowdapt.domain.errors import RunCancelledError, StageFailedError, StageTimeoutError
from flowdapt.domain.resources import utcnow
from flowdapt.domain.runs import ErrorInfo, RunState, StageRun, StageState, WorkflowRun
from flowdapt.engine.calling import CallPlan, plan_call
from flowdapt.engine.context import WorkflowRunContext
from flowdapt.engine.executor import Executor, Placement
from flowdapt.engine.graph import StageNode, WorkflowGraph
from flowdapt.engine.scheduler import ReadyStage, Scheduler
from flowdapt.engine.targets import resolve_target
from flowdapt.engine.task import ItemFailure, StageTask, TaskOutcome

logger = logging.getLogger(__name__)


class RunObserver(Protocol):
    """Told about every change of the run and its stages (to persist or display progress)."""

    def run_changed(self, run: WorkflowRun) -> None: ...

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None: ...


class _StageFailure(Exception):
    """A stage ended in failure; carries the error record and the original exception."""

    def __init__(self, error: ErrorInfo, exception: BaseException | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.exception = exception

    @classmethod
    def of(cls, stage: str, failure: ItemFailure, *, item: int | None = None) -> _StageFailure:
        error = failure.error.model_copy(update={"stage": stage, "item": item})
        return cls(error, failure.exception)


class WorkflowRunner:
    """Runs one workflow run on an executor; `cancel()` stops it."""

    def __init__(
        self,
        graph: WorkflowGraph,
        executor: Executor,
        run: WorkflowRun,
        *,
        input: Mapping[str, Any] | None = None,
        namespace: str = "default",
        config: Mapping[str, Any] | None = None,
        observer: RunObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.graph = graph
        self.executor = executor
        self.run_record = run
        self.input = dict(input or {})
        self.namespace = namespace
        self.config = dict(config or {})
        self.exception: BaseException | None = None  # the failing stage's own exception
        self._observer = observer
        self._sleep = sleep
        self._clock = clock
        self._cancel_flag = threading.Event()
        self._cancel_requested = asyncio.Event()
        self._context: WorkflowRunContext | None = None

    def cancel(self) -> None:
        """Stop the run: running stages are stopped, nothing downstream starts."""
        self._cancel_flag.set()
        self._cancel_requested.set()

    async def run(self) -> WorkflowRun:
        run = self.run_record
        run.stages = [StageRun(name=name) for name in self.graph.nodes]
        run.state, run.started_at = RunState.RUNNING, self._clock()
        self._context = self._make_context()
        self._notify_run()
        scheduler = Scheduler(self.graph)
        stages: dict[asyncio.Future[Any], str] = {}
        cancel_wait = asyncio.ensure_future(self._cancel_requested.wait())
        try:
            failure = await self._drive(scheduler, stages, cancel_wait)
        except asyncio.CancelledError:
            await self._stop(scheduler, stages)
            self._finish_cancelled()
            raise
        finally:
            cancel_wait.cancel()
        if self._cancel_requested.is_set():
            self._finish_cancelled()
        elif failure is not None:
            self._finish_failed(failure)
        else:
            self._finish(RunState.FINISHED, scheduler.result())
        return run

    def _make_context(self) -> WorkflowRunContext:
        context = WorkflowRunContext(
            input=self.input,
            namespace=self.namespace,
            executor=self.executor.kind,
            run=self.run_record.model_copy(deep=True),
            definition=copy.deepcopy(self.graph.workflow),
            config=copy.deepcopy(self.config),
        )
        context._cancel = self._cancel_flag
        return context

    async def _drive(
        self,
        scheduler: Scheduler,
        stages: dict[asyncio.Future[Any], str],
        cancel_wait: asyncio.Future[Any],
    ) -> _StageFailure | None:
        self._launch(scheduler.take_ready(), stages)
        while stages:
            done, _ = await asyncio.wait(
                [*stages, cancel_wait], return_when=asyncio.FIRST_COMPLETED
            )
            if cancel_wait in done:
                await self._stop(scheduler, stages)
                return None
            for task in done:
                name = stages.pop(task)
                try:
                    scheduler.complete(name, task.result())
                except Exception as exc:
                    failure = _as_failure(name, exc)
                    scheduler.abandon(name)
                    await self._stop(scheduler, stages)
                    return failure
            self._launch(scheduler.take_ready(), stages)
        return None

    def _launch(self, ready: Sequence[ReadyStage], stages: dict[asyncio.Future[Any], str]) -> None:
        for stage in ready:
            node = self.graph.nodes[stage.name]
            stages[asyncio.ensure_future(self._run_stage(node, stage.inputs))] = stage.name

    async def _stop(self, scheduler: Scheduler, stages: dict[asyncio.Future[Any], str]) -> None:
        """Stop every running stage and wait until each has let go of its tasks."""
        scheduler.stop()
        self._cancel_flag.set()
        for task in stages:
            task.cancel()
        await asyncio.gather(*stages, return_exceptions=True)
        stages.clear()

    async def _run_stage(self, node: StageNode, inputs: tuple[Any, ...]) -> Any:
        record = self.run_record.stage(node.name)
        record.state, record.started_at = StageState.RUNNING, self._clock()
        self._notify_stage(record)
        try:
            try:
                plan, items = self._prepare(node, inputs)
            except Exception as exc:
                raise _StageFailure.of(node.name, ItemFailure.capture(0, exc)) from None
            if items is not None:
                record.items_total = len(items)
            value = await self._attempts(node, plan, items, record)
        except _StageFailure as failure:
            self._close_record(record, StageState.FAILED, failure.error)
            raise
        except asyncio.CancelledError:
            self._close_record(record, StageState.CANCELLED)
            raise
        self._close_record(record, StageState.FINISHED)
        return value

    def _prepare(
        self, node: StageNode, inputs: tuple[Any, ...]
    ) -> tuple[CallPlan, list[Any] | None]:
        """Resolve the target and decide the call; for a fan-out, also the list of items."""
        function = resolve_target(node.target)
        keywords = None if node.depends_on else dict(self.input)
        if not node.parameterized:
            return plan_call(function, stage=node.name, positional=inputs, keywords=keywords), None
        if node.options.map_on:
            items, rest = self._input_items(node, node.options.map_on), inputs
            if keywords is not None:
                keywords.pop(node.options.map_on, None)
        else:
            items, rest = _iterable_items(node, inputs[0]), inputs[1:]
        plan = plan_call(
            function, stage=node.name, positional=rest, keywords=keywords, per_item=True
        )
        return plan, items

    def _input_items(self, node: StageNode, key: str) -> list[Any]:
        if key not in self.input:
            raise KeyError(
                f"stage {node.name!r} maps over input key {key!r}, which the run input lacks "
                f"(input keys: {sorted(self.input)})"
            )
        return _iterable_items(node, self.input[key], source=f"input[{key!r}]")

    async def _attempts(
        self, node: StageNode, plan: CallPlan, items: list[Any] | None, record: StageRun
    ) -> Any:
        options = node.options
        size = 1 if items is None else len(items)
        results: list[Any] = [None] * size
        pending: Sequence[int] = range(size)
        attempt = 0
        while True:
            attempt += 1
            record.attempts = attempt
            last = attempt > options.retries
            failed = await self._attempt(
                node,
                plan,
                items,
                pending,
                results,
                record,
                stop_on_failure=last and not options.allow_partial_failure,
            )
            if not failed:
                break
            if last:
                return self._give_up(node, items, results, failed, record)
            delay = options.retry_delay * options.retry_backoff ** (attempt - 1)
            first = failed[min(failed)]
            logger.warning(
                "stage %r attempt %d failed (%s: %s); retrying %d call(s) in %.3gs",
                node.name,
                attempt,
                first.error.type,
                first.error.message,
                len(failed),
                delay,
            )
            await self._sleep(delay)
            pending = sorted(failed)
        record.items_failed = 0
        return results[0] if items is None else results

    def _give_up(
        self,
        node: StageNode,
        items: list[Any] | None,
        results: list[Any],
        failed: dict[int, ItemFailure],
        record: StageRun,
    ) -> list[Any]:
        record.items_failed = len(failed)
        first_index = min(failed)
        if items is None:
            raise _StageFailure.of(node.name, failed[first_index])
        if not node.options.allow_partial_failure:
            raise _StageFailure.of(node.name, failed[first_index], item=first_index)
        shown = sorted(failed)[:10]
        logger.warning(
            "stage %r dropped %d of %d items that failed (allow_partial_failure); first: item %d "
            "%s: %s; items %s%s",
            node.name,
            len(failed),
            len(items),
            first_index,
            failed[first_index].error.type,
            failed[first_index].error.message,
            shown,
            "…" if len(failed) > len(shown) else "",
        )
        return [value for index, value in enumerate(results) if index not in failed]

    async def _attempt(
        self,
        node: StageNode,
        plan: CallPlan,
        items: list[Any] | None,
        pending: Sequence[int],
        results: list[Any],
        record: StageRun,
        *,
        stop_on_failure: bool,
    ) -> dict[int, ItemFailure]:
        """Run the pending calls once; fill `results`; return the failures by item index."""
        outstanding = self._submit(node, plan, items, pending)
        failed: dict[int, ItemFailure] = {}
        try:
            async with asyncio.timeout(node.options.timeout):
                while outstanding:
                    done, _ = await asyncio.wait(outstanding, return_when=asyncio.FIRST_COMPLETED)
                    for future in done:
                        indices = outstanding.pop(future)
                        self._collect(future, indices, results, failed, record)
                    if failed and stop_on_failure:
                        break
        except TimeoutError:
            timeout = StageTimeoutError(
                f"stage {node.name!r} did not finish within its timeout of {node.options.timeout}s",
                stage=node.name,
            )
            for indices in outstanding.values():
                for index in indices:
                    failed[index] = ItemFailure.capture(index, timeout)
        finally:
            for future in outstanding:
                future.cancel()
            await asyncio.gather(*outstanding, return_exceptions=True)
        return failed

    def _submit(
        self, node: StageNode, plan: CallPlan, items: list[Any] | None, pending: Sequence[int]
    ) -> dict[asyncio.Future[TaskOutcome], Sequence[int]]:
        assert self._context is not None
        context = self._context.for_stage(node.name)
        placement = Placement(node.resources, node.options)
        concurrency = node.options.max_concurrency
        if items is None:
            task = StageTask(node.name, plan, context)
            return {self.executor.submit(task, placement): range(1)}
        size = node.options.batch_size or self.executor.batch_size(len(pending), placement)
        submitted: dict[asyncio.Future[TaskOutcome], Sequence[int]] = {}
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            if isinstance(chunk, range):
                batch = items[chunk.start : chunk.stop]
            else:
                batch = [items[index] for index in chunk]
            task = StageTask(node.name, plan, context, batch, concurrency)
            submitted[self.executor.submit(task, placement)] = chunk
        return submitted

    def _collect(
        self,
        future: asyncio.Future[TaskOutcome],
        indices: Sequence[int],
        results: list[Any],
        failed: dict[int, ItemFailure],
        record: StageRun,
    ) -> None:
        try:
            outcome = future.result()
        except Exception as exc:  # the executor could not run the task at all
            for index in indices:
                failed[index] = ItemFailure.capture(index, exc)
            return
        failures = {failure.position: failure for failure in outcome.failures}
        for position, value in enumerate(outcome.values):
            index = indices[position]
            failure = failures.get(position)
            if failure is None:
                results[index] = value
                failed.pop(index, None)
            else:
                failed[index] = failure
        record.items_done += len(outcome.values) - len(failures)
        if record.items_total is not None:
            self._notify_stage(record)

    def _close_record(
        self, record: StageRun, state: StageState, error: ErrorInfo | None = None
    ) -> None:
        record.state, record.finished_at, record.error = state, self._clock(), error
        self._notify_stage(record)

    def _finish(self, state: RunState, result: Any, error: ErrorInfo | None = None) -> None:
        run = self.run_record
        for record in run.stages:
            if record.state is StageState.PENDING:
                record.state = StageState.SKIPPED
        run.state, run.result, run.error, run.finished_at = state, result, error, self._clock()
        self._notify_run()

    def _finish_failed(self, failure: _StageFailure) -> None:
        error = failure.error
        where = f"stage {error.stage!r}" + ("" if error.item is None else f", item {error.item}")
        logger.error(
            "run %s of %r failed in %s: %s: %s",
            self.run_record.name,
            self.run_record.workflow,
            where,
            error.type,
            error.message,
        )
        self.exception = failure.exception or StageFailedError(
            f"{where}: {error.type}: {error.message}", stage=error.stage or "", item=error.item
        )
        self._finish(RunState.FAILED, error.as_result(), error)

    def _finish_cancelled(self) -> None:
        self.exception = RunCancelledError(f"run {self.run_record.name!r} was cancelled")
        error = ErrorInfo(type="RunCancelledError", message=str(self.exception))
        self._finish(RunState.CANCELLED, error.as_result(), error)

    def _notify_run(self) -> None:
        if self._observer is not None:
            try:
                self._observer.run_changed(self.run_record)
            except Exception:
                logger.exception("run observer failed")

    def _notify_stage(self, record: StageRun) -> None:
        if self._observer is not None:
            try:
                self._observer.stage_changed(self.run_record, record)
            except Exception:
                logger.exception("run observer failed")


def _as_failure(stage: str, exc: Exception) -> _StageFailure:
    if isinstance(exc, _StageFailure):
        return exc
    logger.error("stage %r ended with an unexpected error", stage, exc_info=exc)
    return _StageFailure.of(stage, ItemFailure.capture(0, exc))


def _iterable_items(node: StageNode, value: Any, source: str | None = None) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        return list(value)
    except TypeError:
        where = source or f"the result of {node.depends_on[0]!r}"
        raise TypeError(
            f"stage {node.name!r} is parameterized, but {where} is a {type(value).__name__}, "
            "not an iterable to map over"
        ) from None
