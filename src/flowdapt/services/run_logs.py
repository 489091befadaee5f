"""Keeping a run's log: lines numbered in arrival order, capped, written in batches.

The runner hands over what each task captured (engine.log_capture) as the task ends; the writer
numbers the lines, keeps at most `max_lines` lines and `max_bytes` bytes of messages per run,
and writes at most every `interval` seconds (one multi-row insert per batch). Past a cap, lines
are only counted, and the log ends with one ``truncated`` line saying how many were dropped —
lines the tasks dropped past their own capture caps included — so a stage that prints megabytes
costs the server a counter, not memory.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from uuid import UUID

from flowdapt.domain.run_logs import LogLine
from flowdapt.domain.runs import StageRun
from flowdapt.engine.log_capture import CapturedLine
from flowdapt.storage.base import RunLogRepository

logger = logging.getLogger(__name__)

DEFAULT_MAX_LINES = 10_000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


class RunLogWriter:
    """The log of one run; `add` from the event loop as tasks end, `close` when the run ends."""

    def __init__(
        self,
        logs: RunLogRepository,
        run: UUID,
        *,
        max_lines: int = DEFAULT_MAX_LINES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        interval: float = 0.25,
    ) -> None:
        self._logs, self._run = logs, run
        self._max_lines, self._max_bytes, self._interval = max_lines, max_bytes, interval
        self._seq = 0
        self._bytes = 0
        self._dropped = 0
        self._pending: list[LogLine] = []
        self._timer: asyncio.TimerHandle | None = None
        self._write: asyncio.Task[None] | None = None

    def add(self, stage: StageRun, lines: list[CapturedLine], dropped: int = 0) -> None:
        self._dropped += dropped
        for line in lines:
            size = len(line.message)
            if self._seq >= self._max_lines or self._bytes + size > self._max_bytes:
                self._dropped += 1
                continue
            self._bytes += size
            self._pending.append(
                LogLine(
                    seq=self._seq,
                    time=datetime.fromtimestamp(line.time, UTC),
                    level=line.level,
                    stage=stage.name,
                    item=line.position,
                    source=line.source,
                    message=line.message,
                )
            )
            self._seq += 1
        if self._pending and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._flush)

    def _flush(self) -> None:
        self._timer = None
        if self._write is not None and not self._write.done():
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._flush)
            return
        batch, self._pending = self._pending, []
        self._write = asyncio.ensure_future(self._save(batch))

    async def _save(self, batch: list[LogLine]) -> None:
        try:
            await self._logs.append(self._run, batch)
        except Exception:  # a log is best effort: the run itself must not suffer
            what = f"{len(batch)} log lines of run {self._run}"
            logger.warning("could not store %s", what, exc_info=True)

    async def close(self) -> None:
        """Write what is left, and the ``truncated`` line if anything was dropped."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._write is not None:
            await asyncio.gather(self._write, return_exceptions=True)
        if self._dropped:
            self._pending.append(
                LogLine(
                    seq=self._seq,
                    time=datetime.now(UTC),
                    level="WARNING",
                    source="truncated",
                    message=f"log truncated: {self._dropped} more line(s) were dropped (the "
                    f"run's log keeps {self._max_lines} lines and {self._max_bytes} bytes)",
                )
            )
            self._seq += 1
        batch, self._pending = self._pending, []
        if batch:
            await self._save(batch)
