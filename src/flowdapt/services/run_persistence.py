"""Writing a run's progress to storage without a write per stage event."""

from __future__ import annotations

import asyncio
import logging

from flowdapt.domain.errors import NotFoundError
from flowdapt.domain.runs import StageRun, WorkflowRun
from flowdapt.engine.log_capture import CapturedLine
from flowdapt.services.run_logs import RunLogWriter
from flowdapt.storage.base import RunRepository, StorageUnavailableError

logger = logging.getLogger(__name__)

FINAL_WRITE_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # retries of the last write while the db is away


class RunPersister:
    """A run observer: writes the run at most every `interval` seconds while it runs (so progress
    is visible), and once more, in full, when it ends. A run shorter than `interval` costs one
    insert and one update. The run's log goes to `logs`, when given."""

    def __init__(
        self, runs: RunRepository, interval: float = 0.25, logs: RunLogWriter | None = None
    ) -> None:
        self._runs = runs
        self._logs = logs
        self._interval = interval
        self._timer: asyncio.TimerHandle | None = None
        self._write: asyncio.Task[None] | None = None
        self._closed = False

    def run_changed(self, run: WorkflowRun) -> None:
        self._schedule(run)

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None:
        self._schedule(run)

    def stage_logs(
        self, run: WorkflowRun, stage: StageRun, lines: list[CapturedLine], dropped: int
    ) -> None:
        if self._logs is not None:
            self._logs.add(stage, lines, dropped)

    def _schedule(self, run: WorkflowRun) -> None:
        if self._closed or self._timer is not None:
            return
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._start_write, run)

    def _start_write(self, run: WorkflowRun) -> None:
        self._timer = None
        if run.state.is_final:
            # Only flush_final records the end, after the log: readers that see a run ended
            # (a log stream, say) can rely on its log being complete.
            return
        if self._write is not None and not self._write.done():
            self._schedule(run)  # the previous write is still going: try again later
            return
        self._write = asyncio.ensure_future(self._save(run.model_copy(deep=True)))

    async def _save(self, snapshot: WorkflowRun) -> None:
        try:
            await self._runs.update(snapshot)
        except Exception:  # progress is best effort; the final write retries
            logger.warning("could not record the progress of run %s", snapshot.name, exc_info=True)

    async def flush_final(self, run: WorkflowRun) -> None:
        """Write the final state; retried for a while if the database is unavailable."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._write is not None:
            await asyncio.gather(self._write, return_exceptions=True)
        if self._logs is not None:
            await self._logs.close()  # the log is complete before the run is seen as ended
        for delay in (*FINAL_WRITE_DELAYS, None):
            try:
                await self._runs.update(run)
                return
            except NotFoundError:  # the run was deleted meanwhile: nothing to record
                return
            except StorageUnavailableError:
                if delay is None:
                    logger.error("run %s ended %s but could not be recorded", run.name, run.state)
                    return
                await asyncio.sleep(delay)
            except Exception:  # a loop boundary: the run's caller must still get its answer
                logger.exception("run %s ended %s but could not be recorded", run.name, run.state)
                return
