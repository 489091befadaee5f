"""The live-update hub: coalesced per run and per reader, late readers start from the current
state, closed readers leave nothing behind."""

from __future__ import annotations

import asyncio
import json

from flowdapt.domain.runs import RunState, StageRun, StageState, WorkflowRun
from flowdapt.services.run_updates import _STAGE, RunUpdates


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def run_changed(self, run: WorkflowRun) -> None:
        self.calls += 1

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None:
        self.calls += 1


def fan_out_run(total: int = 10_000) -> tuple[WorkflowRun, StageRun]:
    stage = StageRun(name="square", state=StageState.RUNNING, items_total=total)
    run = WorkflowRun(workflow="w", state=RunState.RUNNING, stages=[StageRun(name="a"), stage])
    return run, stage


async def test_ten_thousand_item_changes_become_one_update() -> None:
    hub = RunUpdates(interval=0.01)
    run, stage = fan_out_run()
    inner = Recorder()
    observer = hub.relay(inner)
    with hub.subscribe() as subscription:
        for done in range(1, 10_001):
            stage.items_done = done
            observer.stage_changed(run, stage)
        updates = await subscription.next(patience=5)
    assert inner.calls == 10_000  # the persister still hears every change
    assert len(updates) == 1
    detail = json.loads(updates[0].detail)
    assert detail["stages"][1]["items_done"] == 10_000
    assert detail["stages"][1]["items_total"] == 10_000
    assert set(detail["stages"][1]) == set(_STAGE)  # counts only, never the items
    assert hub.subscriber_count == 0


async def test_a_slow_reader_gets_the_newest_state_not_a_backlog() -> None:
    hub = RunUpdates(interval=0.001)
    run, stage = fan_out_run(100)
    with hub.subscribe(str(run.uid)) as subscription:
        for done in range(1, 101):
            stage.items_done = done
            hub.run_changed(run)
            await asyncio.sleep(0.002)  # several flushes while nobody reads
        updates = await subscription.next(patience=5)
    assert len(updates) == 1
    assert json.loads(updates[0].detail)["stages"][1]["items_done"] == 100


async def test_a_late_reader_starts_from_the_run_in_progress() -> None:
    hub = RunUpdates()
    run, stage = fan_out_run(10)
    stage.items_done = 7
    hub.run_changed(run)  # nobody listens yet: nothing is scheduled
    with hub.subscribe(str(run.uid)) as subscription:
        first = await subscription.next(patience=1)
    assert json.loads(first[0].detail)["stages"][1]["items_done"] == 7


async def test_a_stored_run_is_announced_once_and_forgotten() -> None:
    hub = RunUpdates(interval=0.01)
    run, _ = fan_out_run(1)
    hub.run_changed(run)
    with hub.subscribe() as everything, hub.subscribe("another-run") as other:
        await everything.next(patience=1)  # the run in progress
        run.state = RunState.FINISHED
        hub.run_changed(run)
        hub.run_stored(run)
        updates = await everything.next(patience=1)
        assert [(json.loads(u.summary)["state"], u.stored) for u in updates] == [("finished", True)]
        assert await other.next(patience=0.01) == []  # filtered by run
    with hub.subscribe() as late:
        assert await late.next(patience=0.01) == []  # a finished run is no longer offered


async def test_closing_the_hub_ends_every_subscription() -> None:
    hub = RunUpdates()
    subscription = hub.subscribe()
    waiting = asyncio.ensure_future(subscription.next(patience=30))
    await asyncio.sleep(0)
    hub.close()
    assert await asyncio.wait_for(waiting, 1) == []
    assert subscription.closed and hub.subscriber_count == 0
    assert hub.subscribe().closed  # a stopping server takes no new readers
