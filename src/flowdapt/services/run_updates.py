"""Live run progress for the dashboard: an in-process hub the compute service tells about every
run and stage change, and that hands coalesced snapshots to subscribers (the SSE stream).

    hub = RunUpdates(interval=0.25)
    runner = WorkflowRunner(..., observer=hub.relay(persister))   # compute service
    with hub.subscribe(run=uid) as subscription:                  # dashboard stream
        for update in await subscription.next(patience=15.0):
            send(update.detail)

Coalescing, so that a 10k-item fan-out cannot flood a browser: a change only marks its run
dirty; at most once per `interval` the hub takes one snapshot of each dirty run (state, times,
per-stage counts, never per item) and offers it to the subscribers, each of which keeps only the
newest snapshot per run until it reads. A run costs at most ``1 / interval`` updates a second
whatever its size, and a slow reader skips states instead of queueing them.

Everything runs on the event loop's thread (the runner notifies from there), so there are no
locks; with nobody subscribed a change costs a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from flowdapt.domain.runs import StageRun, WorkflowRun
from flowdapt.engine.runner import RunObserver


@dataclass(frozen=True)
class RunUpdate:
    """One snapshot of a run, encoded once for every subscriber.

    `summary` is the run's list entry (no stages, result or error); `detail` adds the stage
    records without tracebacks. `stored` is set once the run's final record is in the database:
    a reader fetches the run then for its result, error and traceback.
    """

    uid: str
    summary: str
    detail: str
    stored: bool = False


# What the dashboard shows live, dumped as the models dump themselves (naive ISO timestamps, as
# on the wire): a run's list entry without its result or error, and stages without tracebacks.
_SUMMARY = {"uid", "name", "workflow", "source", "state", "started_at", "finished_at"}
_STAGE: dict[str, Any] = {
    "name": True,
    "state": True,
    "started_at": True,
    "finished_at": True,
    "attempts": True,
    "items_total": True,
    "items_done": True,
    "items_failed": True,
    "error": {"type", "message"},
}


def snapshot(run: WorkflowRun, *, stored: bool = False) -> RunUpdate:
    """The run as the dashboard shows it live."""
    summary = {**run.model_dump(mode="json", include=_SUMMARY), "stored": stored}
    stages = [stage.model_dump(mode="json", include=_STAGE) for stage in run.stages]
    detail = {**summary, "stages": stages}
    return RunUpdate(
        str(run.uid),
        json.dumps(summary, separators=(",", ":")),
        json.dumps(detail, separators=(",", ":")),
        stored,
    )


class Subscription:
    """What one reader (a browser's stream) has not read yet: the newest update per run."""

    def __init__(self, run: str | None, on_close: Callable[[Subscription], None]) -> None:
        self.run = run  # a run's uid, or None for every run
        self._pending: dict[str, RunUpdate] = {}
        self._ready = asyncio.Event()
        self._on_close = on_close
        self.closed = False

    def offer(self, update: RunUpdate) -> None:
        if self.run is None or self.run == update.uid:
            self._pending[update.uid] = update  # newer replaces older: coalesced per reader
            self._ready.set()

    async def next(self, patience: float) -> list[RunUpdate]:
        """The updates since the last call (at most one per run); [] after `patience` seconds
        without any (time for a keep-alive) or once the subscription is closed."""
        if not self._pending and not self.closed:
            try:
                async with asyncio.timeout(patience):
                    await self._ready.wait()
            except TimeoutError:
                return []
        updates = list(self._pending.values())
        self._pending.clear()
        self._ready.clear()
        return updates

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._ready.set()  # wakes a reader waiting in next()
            self._on_close(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Relay:
    """The runner's observer: tells `inner` (the persister) first, then the hub."""

    def __init__(self, inner: RunObserver, hub: RunUpdates) -> None:
        self._inner, self._hub = inner, hub

    def run_changed(self, run: WorkflowRun) -> None:
        self._inner.run_changed(run)
        self._hub.run_changed(run)

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None:
        self._inner.stage_changed(run, stage)
        self._hub.run_changed(run)

    def stage_logs(self, run: WorkflowRun, stage: StageRun, lines: list[Any], dropped: int) -> None:
        forward = getattr(self._inner, "stage_logs", None)  # the run's log (services.run_logs)
        if forward is not None:
            forward(run, stage, lines, dropped)


class RunUpdates:
    """The hub: runs in progress, their pending changes and the subscribers."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._active: dict[str, WorkflowRun] = {}  # runs in progress, for late subscribers
        self._dirty: dict[str, WorkflowRun] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._subscribers: set[Subscription] = set()
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def relay(self, inner: RunObserver) -> RunObserver:
        """An observer for the runner that tells `inner` and this hub about every change."""
        return _Relay(inner, self)

    def run_changed(self, run: WorkflowRun) -> None:
        uid = str(run.uid)
        self._active[uid] = run  # the runner mutates this record in place
        if not self._subscribers:
            return
        self._dirty[uid] = run
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush)

    def run_stored(self, run: WorkflowRun) -> None:
        """The run's final record is written: tell subscribers now and forget the run."""
        uid = str(run.uid)
        self._active.pop(uid, None)
        self._dirty.pop(uid, None)
        if self._subscribers:
            self._offer(snapshot(run, stored=True))

    def subscribe(self, run: str | None = None) -> Subscription:
        """Updates of one run (by uid) or of every run; the runs in progress are offered at
        once so that a new reader starts from their current state. Close it when done (it is a
        context manager)."""
        subscription = Subscription(run, self._subscribers.discard)
        if self._closed:
            subscription.close()
            return subscription
        self._subscribers.add(subscription)
        for uid, active in self._active.items():
            if run is None or run == uid:
                subscription.offer(snapshot(active))
        return subscription

    def close(self) -> None:
        """End every subscription (the server is stopping: open streams must not hold it)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for subscription in list(self._subscribers):
            subscription.close()

    def _flush(self) -> None:
        self._timer = None
        dirty, self._dirty = self._dirty, {}
        for run in dirty.values():
            self._offer(snapshot(run))

    def _offer(self, update: RunUpdate) -> None:
        for subscription in self._subscribers:
            subscription.offer(update)
