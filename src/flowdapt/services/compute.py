"""The compute service: runs workflows on the executor, many at once, and keeps their records.

compute = ComputeService(storage, executor)
await compute.start()                         # settles runs a crash left running here
run = await compute.run_workflow("nowcast", {"cities": ["Oslo"]}, wait=True)
await compute.stop()                          # lets running runs finish, then cancels them
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flowdapt.bus.base import EventBus
from flowdapt.domain.errors import FlowdaptError
from flowdapt.domain.events import WORKFLOW_FINISHED, WORKFLOW_STARTED, Event
from flowdapt.domain.run_logs import LogLine, LogPage
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.domain.timestamps import utcnow
from flowdapt.engine.config_selection import resolve_config
from flowdapt.engine.executor import Executor
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import WorkflowRunner
from flowdapt.services.executor_supervisor import ExecutorSupervisor
from flowdapt.services.metrics import Metrics
from flowdapt.services.run_logs import DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, RunLogWriter
from flowdapt.services.run_persistence import RunPersister
from flowdapt.services.run_updates import RunUpdates
from flowdapt.services.tracing import Tracing
from flowdapt.storage.base import Storage

logger = logging.getLogger(__name__)

INTERRUPTED = "the server stopped while this run was in progress"
SHUTDOWN = "the server shut down before the run finished"


class ServiceDrainingError(FlowdaptError):
    """The server is shutting down and accepts no new runs (HTTP 503)."""


@dataclass
class _ActiveRun:
    runner: WorkflowRunner
    task: asyncio.Task[WorkflowRun]


class ComputeService:
    """Starts runs, tracks the active ones, persists every state change, applies retention."""

    def __init__(
        self,
        storage: Storage,
        executor: Executor,
        *,
        default_namespace: str = "default",
        retention: timedelta | None = None,
        persist_interval: float = 0.25,
        metrics: Metrics | None = None,
        bus: EventBus | None = None,
        name: str = "flowdapt",
        stage_settings: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] = utcnow,
        run_updates: RunUpdates | None = None,
        log_max_lines: int = DEFAULT_MAX_LINES,
        log_max_bytes: int = DEFAULT_MAX_BYTES,
        tracing: Tracing | None = None,
    ) -> None:
        self.storage = storage
        self.executor = executor
        # Runs go through the supervisor: it starts the executor in the background (the API
        # answers meanwhile) and keeps retrying a cluster that cannot be reached.
        self.executor_supervisor = ExecutorSupervisor(executor)
        self.default_namespace = default_namespace
        # What stage code reads of the server's config (storage, object store), carried to the
        # workers in each run's context: a Dask or Ray worker has no server config of its own.
        self.stage_settings = dict(stage_settings or {})
        self.retention = retention
        self._persist_interval = persist_interval
        self._log_caps = {"max_lines": log_max_lines, "max_bytes": log_max_bytes}
        self._metrics = metrics or Metrics()
        self._bus = bus
        self._name = name  # owner of the runs this server executes
        self._source = f"{name}.compute"
        self._clock = clock
        self._active: dict[str, _ActiveRun] = {}
        self._draining = False
        self._grace_timer: asyncio.TimerHandle | None = None
        self._retention_task: asyncio.Task[None] | None = None
        # Live progress for the dashboard: told of every change next to the persister, it
        # coalesces them itself (see flowdapt.services.run_updates).
        self.run_updates = run_updates or RunUpdates()
        self._tracing = tracing  # OpenTelemetry spans of runs (telemetry.enabled)

    @property
    def active_runs(self) -> int:
        return len(self._active)

    async def start(self) -> None:
        await self.executor_supervisor.start()
        # Only this server's runs (and ownerless ones from older versions): other servers
        # sharing the database may be running theirs right now.
        settled = await self.storage.runs.fail_unfinished(
            INTERRUPTED, self._clock(), server=self._name
        )
        if settled:
            logger.warning(
                "settled %d run(s) left unfinished by an earlier stop of server %r as failed",
                settled,
                self._name,
            )
        if self.retention is not None:
            self._retention_task = asyncio.ensure_future(self._apply_retention())

    def begin_stop(self, grace: float = 10.0) -> None:
        """Accept no new runs; running ones get `grace` seconds, then are cancelled and recorded.

        Called as soon as a stop signal arrives, so that clients waiting on a run get their
        answer before the web server gives up on open connections. Idempotent.
        """
        if self._draining:
            return
        self._draining = True
        self.run_updates.close()  # open dashboard streams must not hold up the stop
        if self._active:
            logger.info("waiting up to %ss for %d running run(s)", grace, len(self._active))
        self._grace_timer = asyncio.get_running_loop().call_later(grace, self._cancel_active)

    def _cancel_active(self) -> None:
        for active in self._active.values():
            active.task.cancel(SHUTDOWN)

    async def stop(self, grace: float = 10.0) -> None:
        """`begin_stop`, then wait until every run has ended and been recorded."""
        self.begin_stop(grace)
        if self._retention_task is not None:
            self._retention_task.cancel()
            await asyncio.gather(self._retention_task, return_exceptions=True)
        while self._active:  # bounded: the grace timer cancels whatever still runs
            await asyncio.gather(
                *(active.task for active in self._active.values()), return_exceptions=True
            )
        if self._grace_timer is not None:
            self._grace_timer.cancel()
        if self._tracing is not None:  # every run span has ended: export what is batched
            await asyncio.to_thread(self._tracing.shutdown)
        await self.executor_supervisor.close()

    async def run_workflow(
        self,
        identifier: str,
        input: Mapping[str, Any] | None = None,
        *,
        namespace: str | None = None,
        wait: bool = True,
        source: str = "api",
        cause: Event | None = None,
    ) -> WorkflowRun:
        """Start a run of the workflow named (or with uid) `identifier`.

        With ``wait`` the finished run is returned (a client that goes away does not stop it);
        otherwise the run as created, still ``pending``. `cause` is the event that made a
        trigger start the run: stages see it as ``get_run_context().event``, and the run's own
        events carry its correlation (so the trigger service can stop loops).
        """
        if self._draining:
            raise ServiceDrainingError("the server is shutting down; no new runs are accepted")
        workflow = await self.storage.workflows.get(identifier)
        config = resolve_config(workflow, await self.storage.configs.list())
        run = WorkflowRun(
            workflow=workflow.name, source=source, server=self._name, state=RunState.PENDING
        )
        log = RunLogWriter(
            self.storage.logs, run.uid, interval=self._persist_interval, **self._log_caps
        )
        persister = RunPersister(self.storage.runs, self._persist_interval, log)
        observer = self.run_updates.relay(persister)
        if self._tracing is not None:
            run_namespace = namespace or self.default_namespace
            observer = self._tracing.observe(observer, namespace=run_namespace)
        runner = WorkflowRunner(  # built before anything is stored: no orphan pending rows
            WorkflowGraph.build(workflow),
            self.executor_supervisor,
            run,
            input=input,
            namespace=namespace or self.default_namespace,
            config=config,
            observer=observer,
            event=None if cause is None else cause.model_dump(mode="json"),
            settings=self.stage_settings,
        )
        await self.storage.runs.create(run)
        created = None if wait else run.model_copy(deep=True)  # before the runner changes it
        if self._draining:  # stop() began while the run was being stored
            runner.cancel(SHUTDOWN)
        self._metrics.count("flowdapt.runs.started", workflow=workflow.name, source=source)
        task = asyncio.ensure_future(self._execute(runner, persister, cause))
        self._active[str(run.uid)] = _ActiveRun(runner, task)
        if created is not None:
            return created
        return await asyncio.shield(task)

    async def _execute(
        self, runner: WorkflowRunner, persister: RunPersister, cause: Event | None
    ) -> WorkflowRun:
        run = runner.run_record
        running = run.model_copy(update={"state": RunState.RUNNING})
        await self._publish(WORKFLOW_STARTED, running, cause)
        try:
            await runner.run()
        finally:
            self._record_metrics(run)
            try:
                await persister.flush_final(run)
            finally:
                # Registered until the final write is done: stop() and delete_run() wait for it.
                self._active.pop(str(run.uid), None)
                self.run_updates.run_stored(run)
        await self._publish(WORKFLOW_FINISHED, run, cause)
        return run

    async def _publish(self, event_type: str, run: WorkflowRun, cause: Event | None) -> None:
        """Tell the bus; data is shaped like the run record (without stage records)."""
        if self._bus is None:
            return
        data = run.model_dump(mode="json", exclude={"stages"}, fallback=repr)
        fields: dict[str, Any] = {"type": event_type, "source": self._source, "data": data}
        event = Event(**fields) if cause is None else cause.follow_up(**fields)
        try:
            await self._bus.publish(event)
        except Exception:  # a bus problem must not fail the run
            logger.warning("could not publish %s for run %s", event_type, run.name, exc_info=True)

    def _record_metrics(self, run: WorkflowRun) -> None:
        metrics, workflow = self._metrics, run.workflow
        metrics.count("flowdapt.runs.ended", workflow=workflow, state=run.state.value)
        if run.finished_at is not None:
            duration = (run.finished_at - run.started_at).total_seconds()
            metrics.observe("flowdapt.runs.duration", duration, workflow=workflow)
        for stage in run.stages:
            if stage.started_at is not None and stage.finished_at is not None:
                took = (stage.finished_at - stage.started_at).total_seconds()
                metrics.observe(
                    "flowdapt.stages.duration",
                    took,
                    workflow=workflow,
                    stage=stage.name,
                    state=stage.state.value,
                )
            if stage.items_total is not None:
                done, failed = stage.items_done, stage.items_failed
                if done:
                    metrics.count("flowdapt.stages.items", done, workflow=workflow, outcome="done")
                if failed:
                    metrics.count(
                        "flowdapt.stages.items", failed, workflow=workflow, outcome="failed"
                    )

    def cancel_run(self, uid: str) -> bool:
        """Cancel an active run; False if it is not running here."""
        active = self._active.get(uid)
        if active is None:
            return False
        active.runner.cancel()
        return True

    async def get_run(self, identifier: str) -> WorkflowRun:
        return await self.storage.runs.get(identifier)

    async def list_runs(
        self,
        workflow: str | None = None,
        *,
        state: RunState | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[WorkflowRun]:
        name = None if workflow is None else (await self.storage.workflows.get(workflow)).name
        return await self.storage.runs.list(workflow=name, state=state, limit=limit, offset=offset)

    async def delete_run(self, identifier: str) -> WorkflowRun:
        run = await self.storage.runs.get(identifier)
        active = self._active.get(str(run.uid))
        if active is not None:  # deleting a running run stops it first
            active.runner.cancel()
            await asyncio.gather(active.task, return_exceptions=True)
        deleted = await self.storage.runs.delete(str(run.uid))
        await self._sweep_logs()
        return deleted

    async def _sweep_logs(self) -> None:
        try:
            await self.storage.logs.delete_orphans()
        except Exception:  # the lines stay until the next sweep
            logger.warning("could not remove the logs of deleted runs", exc_info=True)

    async def run_log(
        self, identifier: str, *, stage: str | None = None, offset: int = 0, limit: int = 500
    ) -> LogPage:
        """A page of the run's log (by run uid or name); ``truncated`` when the log was capped."""
        run = await self.storage.runs.get(identifier)
        logs = self.storage.logs
        total, lines = await logs.page(run.uid, stage=stage, offset=offset, limit=limit)
        everything, _ = await logs.page(run.uid, limit=0) if stage else (total, [])
        last = await logs.after(run.uid, everything - 2, limit=1) if everything else []
        truncated = bool(last) and last[0].source == "truncated"
        return LogPage(
            run=str(run.uid), total=total, offset=offset, lines=lines, truncated=truncated
        )

    async def run_log_after(
        self, identifier: str, seq: int, *, stage: str | None = None, limit: int = 500
    ) -> tuple[WorkflowRun, list[LogLine]]:
        """The run as stored now, and its log lines after `seq` (to follow a live log)."""
        run = await self.storage.runs.get(identifier)
        return run, await self.storage.logs.after(run.uid, seq, stage=stage, limit=limit)

    async def _apply_retention(self) -> None:
        assert self.retention is not None
        period = max(1.0, min(self.retention.total_seconds() / 10, 3600.0))
        while True:
            try:
                removed = await self.storage.runs.delete_finished_before(
                    self._clock() - self.retention
                )
                if removed:
                    logger.info("retention removed %d finished run(s)", removed)
                    await self._sweep_logs()
            except Exception:  # a loop boundary: log and try again next period
                logger.exception("run retention failed")
            await asyncio.sleep(period)
