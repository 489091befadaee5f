"""The driver of one run: asks the scheduler what is ready, starts it on the executor, feeds the
results back, and finishes the run as finished, failed (fail-fast) or cancelled.

    runner = WorkflowRunner(WorkflowGraph.build(workflow), executor, WorkflowRun(workflow="w"))
    run = await runner.run()   # finished / failed / cancelled; user errors never raise here
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from flowdapt.domain.errors import RunCancelledError, StageFailedError
from flowdapt.domain.runs import ErrorInfo, RunState, StageRun, StageState, WorkflowRun
from flowdapt.domain.timestamps import utcnow
from flowdapt.engine.calling import CallPlan, plan_call
from flowdapt.engine.context import ConfigData, WorkflowRunContext, driving
from flowdapt.engine.executor import Executor
from flowdapt.engine.graph import StageNode, WorkflowGraph
from flowdapt.engine.log_capture import CapturedLine
from flowdapt.engine.scheduler import ReadyStage, Scheduler
from flowdapt.engine.stage_execution import StageExecution, StageFailure
from flowdapt.engine.targets import resolve_target

logger = logging.getLogger(__name__)


class RunObserver(Protocol):
    """Told about every change of the run and its stages (to persist or display progress).

    An observer may also define ``stage_logs(run, stage, lines, dropped)``: the lines a task of
    `stage` logged or printed (``line.position`` is the item index in a fan-out), and how many
    more it dropped past the capture caps; it is called as each task ends.
    """

    def run_changed(self, run: WorkflowRun) -> None: ...

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None: ...


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
        event: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.graph = graph
        self.executor = executor
        self.run_record = run
        self.input = dict(input or {})
        self.namespace = namespace
        self.config = dict(config or {})
        self.event = None if event is None else dict(event)
        self.settings = dict(settings or {})
        self.exception: BaseException | None = None  # the failing stage's own exception
        self._observer = observer
        self._sleep = sleep
        self._clock = clock
        self._cancelled = False
        self._cancel_reason: str | None = None
        self._scheduler = Scheduler(graph)
        self._active: dict[str, StageExecution] = {}
        self._records: dict[str, StageRun] = {}
        self._leftovers: list[asyncio.Future[Any]] = []
        self._failure: StageFailure | None = None
        self._over: asyncio.Future[None] | None = None
        self._context: WorkflowRunContext | None = None

    def cancel(self, reason: str | None = None) -> None:
        """Stop the run: running stages are stopped, nothing downstream starts.

        Call it from the event loop's thread. A run whose stages have all finished stays finished.
        """
        if self._over is not None and self._over.done():
            return
        self._cancelled = True
        self._cancel_reason = self._cancel_reason or reason
        if self._over is not None:
            self._stop_all()

    async def run(self) -> WorkflowRun:
        record = self.run_record
        with driving(str(record.uid), record.name, record.workflow):  # log lines name the run
            return await self._run()

    async def _run(self) -> WorkflowRun:
        run = self.run_record
        run.stages = [StageRun(name=name) for name in self.graph.nodes]
        self._records = {record.name: record for record in run.stages}
        run.state, run.started_at = RunState.RUNNING, self._clock()
        self._context = self._make_context()
        self._over = asyncio.get_running_loop().create_future()
        self._notify_run()
        try:
            if self._cancelled:
                self._stop_all()
            else:
                self._launch_ready()
            await self._over
        except asyncio.CancelledError as cancelled:
            self._cancelled = True
            if cancelled.args and self._cancel_reason is None:
                self._cancel_reason = str(cancelled.args[0])  # task.cancel("why")
            self._stop_all()
            raise
        finally:
            try:
                await self._settle()
            finally:  # even if cancelled again while settling: the record always ends final
                self._finalise()
        return run

    def _finalise(self) -> None:
        if self._failure is not None:
            self._finish_failed(self._failure)
        elif self._cancelled or not self._scheduler.done:
            self._finish_cancelled()
        else:
            self._finish(RunState.FINISHED, self._scheduler.result())

    def _make_context(self) -> WorkflowRunContext:
        # Stages see the run as it started (no stage records) and a copy of the validated
        # definition (PLUGIN-API §6.1): a thread stage that edits it changes neither the caller's
        # resource nor the frozen graph the engine reads.
        # Every value is validated already: construct without validating again.
        context = WorkflowRunContext.model_construct(
            input=self.input,
            namespace=self.namespace,
            executor=self.executor.kind,
            run=self.run_record.model_copy(update={"stages": []}),
            definition=self.graph.workflow.model_copy(deep=True),
            config=ConfigData(copy.deepcopy(self.config)),
            event=copy.deepcopy(self.event),
            settings=self.settings,
        )
        return context

    def _launch_ready(self) -> None:
        for ready in self._scheduler.take_ready():
            self._start_stage(ready)
            if self._over is not None and self._over.done():
                return  # a stage failed while starting: nothing more starts

    def _start_stage(self, ready: ReadyStage) -> None:
        assert self._context is not None
        node = self.graph.nodes[ready.name]
        record = self._records[node.name]
        record.state, record.started_at = StageState.RUNNING, self._clock()
        self._notify_stage(record)
        try:
            plan, items = self._prepare(node, ready.inputs)
        except Exception as exc:
            self._stage_failed_to_start(
                node.name, record, StageFailure.from_exception(node.name, exc)
            )
            return
        execution = StageExecution(
            node,
            plan,
            items,
            record=record,
            executor=self.executor,
            context=self._context,
            on_success=self._stage_succeeded,
            on_failure=self._stage_failed,
            on_progress=self._notify_stage,
            sleep=self._sleep,
            keep_result=node.name in self.graph.passed_on,
            on_logs=self._stage_logs,
        )
        self._active[node.name] = execution
        execution.start()

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

    def _stage_succeeded(self, execution: StageExecution, value: Any) -> None:
        name = execution.node.name
        self._retire(execution, StageState.FINISHED)
        self._scheduler.complete(name, value)
        try:
            self._launch_ready()
        except Exception as exc:  # a bug of ours must end the run, never leave it hanging
            logger.exception(
                "run %s: starting the stages after %r failed", self.run_record.name, name
            )
            self._fail(name, StageFailure.from_exception(name, exc))
        if self._scheduler.done and self._over is not None and not self._over.done():
            self._over.set_result(None)

    def _stage_failed(self, execution: StageExecution, failure: StageFailure) -> None:
        error = failure.error
        text = f"stage {execution.node.name!r} failed: {error.type}: {error.message}"
        if error.traceback:
            text += "\n" + error.traceback.rstrip()
        line = CapturedLine(time.time(), "ERROR", "log", text, error.item)
        self._stage_logs(execution.record, [line], 0)
        self._retire(execution, StageState.FAILED, failure.error)
        self._fail(execution.node.name, failure)

    def _stage_failed_to_start(self, name: str, record: StageRun, failure: StageFailure) -> None:
        self._close_record(record, StageState.FAILED, failure.error)
        self._fail(name, failure)

    def _fail(self, name: str, failure: StageFailure) -> None:
        self._scheduler.abandon(name)
        if self._failure is None:
            self._failure = failure
        self._stop_all()

    def _retire(
        self, execution: StageExecution, state: StageState, error: ErrorInfo | None = None
    ) -> None:
        self._active.pop(execution.node.name, None)
        self._leftovers.extend(execution.leftovers)
        self._close_record(execution.record, state, error)

    def _stop_all(self) -> None:
        """Fail fast / cancel: stop every running stage and release nothing more."""
        self._scheduler.stop()
        for execution in list(self._active.values()):
            execution.stop()
            self._retire(execution, StageState.CANCELLED)
        if self._over is not None and not self._over.done():
            self._over.set_result(None)

    async def _settle(self) -> None:
        """Wait until cancelled work has let go (process tasks terminate their workers)."""
        while self._leftovers:
            pending, self._leftovers = self._leftovers, []
            await asyncio.gather(*pending, return_exceptions=True)

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

    def _finish_failed(self, failure: StageFailure) -> None:
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
        reason = f": {self._cancel_reason}" if self._cancel_reason else ""
        self.exception = RunCancelledError(f"run {self.run_record.name!r} was cancelled{reason}")
        error = ErrorInfo(type="RunCancelledError", message=str(self.exception))
        self._finish(RunState.CANCELLED, error.as_result(), error)

    def _stage_logs(self, record: StageRun, lines: list[CapturedLine], dropped: int) -> None:
        notify = getattr(self._observer, "stage_logs", None)
        if notify is not None:
            try:
                notify(self.run_record, record, lines, dropped)
            except Exception:
                logger.exception("run observer failed")

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


def _iterable_items(node: StageNode, value: Any, source: str | None = None) -> list[Any]:
    """A snapshot of the items (retries must see the same items whatever others do to the list)."""
    where = source or f"the result of {node.depends_on[0]!r}"
    try:
        iterator = iter(value)
    except TypeError:
        raise TypeError(
            f"stage {node.name!r} is parameterized, but {where} is a {type(value).__name__}, "
            "not an iterable to map over"
        ) from None
    try:
        return list(iterator)
    except Exception as exc:
        raise RuntimeError(
            f"stage {node.name!r}: iterating {where} raised {type(exc).__name__}: {exc}"
        ) from exc
