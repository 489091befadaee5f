"""Starts the server's executor in the background and keeps it available: the API answers at once
while a Dask cluster or a Ray starts (seconds), and a cluster that cannot be reached is retried
instead of stopping the server.

    supervisor = ExecutorSupervisor(DaskExecutor(cluster_address="tcp://10.0.0.5:8786"))
    await supervisor.start()         # returns at once; the executor starts in the background
    supervisor.status()              # {"kind": "dask", "status": "starting", ...}
    supervisor.submit(task, placement)   # waits for the first start, then runs on the executor

The supervisor is itself an :class:`~flowdapt.engine.executor.Executor`, so the runner needs no
knowledge of it. A task submitted while the first start is under way waits for it; once a start
has failed, tasks fail at once with ``ExecutorError`` naming the start's error (a run never waits
for a cluster that may never come), and the start is retried with a growing pause until it works.
"""

from __future__ import annotations

import asyncio
import logging
import time
from enum import StrEnum
from typing import Any

from flowdapt.domain.errors import ExecutorError
from flowdapt.engine.executor import Executor, Placement
from flowdapt.engine.task import StageTask, TaskOutcome

logger = logging.getLogger(__name__)

# Pauses between start attempts after a failure: 1 s, doubling up to a minute.
FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0


class ExecutorState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"  # the last start failed; another attempt follows
    STOPPED = "stopped"


class ExecutorSupervisor:
    """Wraps an executor: background start with retries, readiness for submitted tasks, status."""

    def __init__(
        self,
        executor: Executor,
        *,
        first_retry_delay: float = FIRST_RETRY_DELAY,
        max_retry_delay: float = MAX_RETRY_DELAY,
    ) -> None:
        self.executor = executor
        self.kind = executor.kind
        self._first_retry_delay = first_retry_delay
        self._max_retry_delay = max_retry_delay
        self._state = ExecutorState.STOPPED
        self._error: str | None = None
        self._attempts = 0
        self._started_in: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[None] | None = None

    @property
    def running(self) -> bool:
        return self._state is ExecutorState.RUNNING and self.executor.running

    @property
    def state(self) -> ExecutorState:
        return self._state

    async def start(self) -> None:
        """Begin starting the executor in the background; idempotent."""
        if self._task is not None:
            return
        self._state = ExecutorState.STARTING
        self._first_attempt = asyncio.get_running_loop().create_future()
        self._task = asyncio.ensure_future(self._keep_started())

    async def wait_started(self) -> None:
        """Until the first start attempt has ended (successfully or not)."""
        if self._first_attempt is not None:
            await asyncio.shield(self._first_attempt)

    async def close(self) -> None:
        """Stop trying to start, and close the executor if it is running."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._settle_first_attempt()
        was_running = self._state is ExecutorState.RUNNING
        self._state = ExecutorState.STOPPED
        if was_running or self.executor.running:
            await self.executor.close()

    def status(self) -> dict[str, Any]:
        """What ``/status`` shows: kind, state, the last start error, the start duration."""
        status: dict[str, Any] = {"kind": self.kind, "status": self._state.value}
        if self._error is not None and self._state is not ExecutorState.RUNNING:
            status["error"] = self._error
        if self._attempts > 1:
            status["start_attempts"] = self._attempts
        if self._started_in is not None:
            status["started_in_s"] = round(self._started_in, 3)
        return status

    def batch_size(self, item_count: int, placement: Placement) -> int:
        return self.executor.batch_size(item_count, placement)

    def submit(self, task: StageTask, placement: Placement) -> asyncio.Future[TaskOutcome]:
        if self.running:  # the usual case: no extra hop
            return self.executor.submit(task, placement)
        return asyncio.ensure_future(self._submit_when_started(task, placement))

    async def _submit_when_started(self, task: StageTask, placement: Placement) -> TaskOutcome:
        if self._state is ExecutorState.STARTING and self._attempts <= 1:
            await self.wait_started()
        if not self.running:
            reason = f": {self._error}" if self._error else ""
            raise ExecutorError(
                f"stage {task.stage!r}: the {self.kind} executor is not available "
                f"({self._state.value}{reason})"
            )
        return await self.executor.submit(task, placement)

    async def _keep_started(self) -> None:
        delay = self._first_retry_delay
        while True:
            self._attempts += 1
            began = time.monotonic()
            try:
                await self.executor.start()
            except Exception as exc:  # a loop boundary: report, wait, try again
                self._state, self._error = ExecutorState.FAILED, str(exc)
                logger.error(
                    "the %s executor did not start (attempt %d, next in %gs): %s",
                    self.kind,
                    self._attempts,
                    delay,
                    exc,
                )
                self._settle_first_attempt()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_delay)
                self._state = ExecutorState.STARTING
                continue
            self._started_in = time.monotonic() - began
            self._state, self._error = ExecutorState.RUNNING, None
            logger.info("the %s executor started in %.2fs", self.kind, self._started_in)
            self._settle_first_attempt()
            return

    def _settle_first_attempt(self) -> None:
        if self._first_attempt is not None and not self._first_attempt.done():
            self._first_attempt.set_result(None)
