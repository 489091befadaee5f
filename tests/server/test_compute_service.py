"""The compute service on its own: retention, crash settling, draining, cancelling."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from flowdapt.domain.errors import NotFoundError
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.domain.timestamps import utcnow
from flowdapt.executors.local import LocalExecutor
from flowdapt.services.compute import ComputeService, ServiceDrainingError
from flowdapt.storage.memory import MemoryStorage


def slow_stage(seconds: float = 5.0) -> str:
    import time

    time.sleep(seconds)
    return "slept"


WORKFLOW = WorkflowResource.model_validate(
    {
        "metadata": {"name": "w"},
        "spec": {
            "stages": [{"name": "s", "target": "tests.server.test_compute_service.slow_stage"}]
        },
    }
)


async def started_service(storage: MemoryStorage, **options) -> ComputeService:
    await storage.start()
    service = ComputeService(storage, LocalExecutor(use_processes=False), **options)
    await service.start()
    return service


async def test_retention_removes_old_finished_runs_only():
    storage = MemoryStorage()
    await storage.start()
    old = WorkflowRun(
        workflow="w",
        state=RunState.FINISHED,
        started_at=utcnow() - timedelta(days=3),
        finished_at=utcnow() - timedelta(days=3),
    )
    recent = WorkflowRun(workflow="w", state=RunState.FINISHED, finished_at=utcnow())
    for run in (old, recent):
        await storage.runs.create(run)
    service = await started_service(storage, retention=timedelta(days=1))
    try:
        for _ in range(100):
            if await storage.runs.count() == 1:
                break
            await asyncio.sleep(0.02)
        assert [run.uid for run in await storage.runs.list()] == [recent.uid]
    finally:
        await service.stop(grace=1)


async def test_runs_left_running_by_a_crash_are_settled_at_start():
    storage = MemoryStorage()
    await storage.start()
    zombie = WorkflowRun(workflow="w", state=RunState.RUNNING)
    await storage.runs.create(zombie)
    service = await started_service(storage)
    try:
        settled = await storage.runs.get(str(zombie.uid))
        assert settled.state is RunState.FAILED
        assert "stopped while this run was in progress" in str(settled.result)
    finally:
        await service.stop(grace=1)


async def test_stopping_cancels_long_runs_after_the_grace_and_refuses_new_ones():
    storage = MemoryStorage()
    service = await started_service(storage)
    await storage.workflows.create(WORKFLOW)
    run = await service.run_workflow("w", {"seconds": 3}, wait=False)
    await asyncio.sleep(0.1)
    await service.stop(grace=0.2)
    stored = await storage.runs.get(str(run.uid))
    assert stored.state is RunState.CANCELLED and stored.finished_at is not None
    with pytest.raises(ServiceDrainingError):
        await service.run_workflow("w")


async def test_cancel_and_delete_a_running_run():
    storage = MemoryStorage()
    service = await started_service(storage)
    await storage.workflows.create(WORKFLOW)
    try:
        run = await service.run_workflow("w", {"seconds": 0.3}, wait=False)
        assert service.cancel_run(str(run.uid))
        for _ in range(100):
            if (await storage.runs.get(str(run.uid))).state.is_final:
                break
            await asyncio.sleep(0.02)
        assert (await storage.runs.get(str(run.uid))).state is RunState.CANCELLED
        second = await service.run_workflow("w", {"seconds": 0.3}, wait=False)
        deleted = await service.delete_run(second.name)
        assert deleted.uid == second.uid
        with pytest.raises(NotFoundError):
            await service.get_run(str(second.uid))
    finally:
        await service.stop(grace=1)


async def test_starting_a_server_leaves_the_runs_of_another_server_sharing_the_database():
    storage = MemoryStorage()
    alpha = await started_service(storage, name="alpha")
    await storage.workflows.create(WORKFLOW)
    beta_zombie = await storage.runs.create(
        WorkflowRun(workflow="w", state=RunState.RUNNING, server="beta")
    )
    beta = None
    try:
        run = await alpha.run_workflow("w", {"seconds": 0.5}, wait=False)
        assert run.server == "alpha"
        for _ in range(100):
            if (await storage.runs.get(str(run.uid))).state is RunState.RUNNING:
                break
            await asyncio.sleep(0.02)

        beta = ComputeService(storage, LocalExecutor(use_processes=False), name="beta")
        await beta.start()

        assert (await storage.runs.get(str(run.uid))).state is RunState.RUNNING
        assert (await storage.runs.get(str(beta_zombie.uid))).state is RunState.FAILED
        for _ in range(200):
            if (await storage.runs.get(str(run.uid))).state.is_final:
                break
            await asyncio.sleep(0.02)
        assert (await storage.runs.get(str(run.uid))).state is RunState.FINISHED
    finally:
        await alpha.stop(grace=1)
        if beta is not None:
            await beta.stop(grace=1)
