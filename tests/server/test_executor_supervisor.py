"""The executor starts in the background: the API answers meanwhile, runs wait for the first start,
a cluster that cannot be reached fails runs at once with its error, and the start is retried."""

from __future__ import annotations

import asyncio
import socket

import httpx

from flowdapt.api import create_app
from flowdapt.bootstrap import build_services
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState
from flowdapt.executors.dask import DaskExecutor
from flowdapt.executors.local import LocalExecutor
from flowdapt.services.compute import ComputeService
from flowdapt.services.executor_supervisor import ExecutorState, ExecutorSupervisor
from flowdapt.settings import Settings
from flowdapt.storage.memory import MemoryStorage
from tests.conftest import workflow

S = "tests.resources.stages"


class GatedExecutor(LocalExecutor):
    """A thread executor whose start waits for the test and fails while `failures` remain —
    the timing of a cluster start, made controllable."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__(use_processes=False)
        self.gate = asyncio.Event()
        self.failures = failures

    async def start(self) -> None:
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise ConnectionError("scheduler at tcp://10.9.9.9:8786 refused the connection")
        await super().start()


def _definition() -> WorkflowResource:
    return WorkflowResource.model_validate(
        workflow({"name": "add", "target": f"{S}.add_one"}, name="w")
    )


async def _service(executor: LocalExecutor | DaskExecutor) -> tuple[ComputeService, MemoryStorage]:
    storage = MemoryStorage()
    await storage.start()
    await storage.workflows.create(_definition())
    service = ComputeService(storage, executor)
    await service.start()
    return service, storage


async def test_start_returns_at_once_and_a_run_waits_for_the_executor():
    executor = GatedExecutor()
    service, _ = await _service(executor)
    try:
        supervisor = service.executor_supervisor
        assert supervisor.status() == {"kind": "local", "status": "starting"}
        waiting = asyncio.ensure_future(service.run_workflow("w", {"x": 1}))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # pending on the start, not failed
        executor.gate.set()
        run = await asyncio.wait_for(waiting, 10)
        assert run.state is RunState.FINISHED and run.result == 2
        status = supervisor.status()
        assert status["status"] == "running" and status["started_in_s"] >= 0
    finally:
        await service.stop(grace=1)
    assert service.executor_supervisor.state is ExecutorState.STOPPED
    assert not executor.running


async def test_a_failed_start_fails_runs_at_once_and_is_retried_until_it_works():
    executor = GatedExecutor(failures=2)
    executor.gate.set()
    storage = MemoryStorage()
    await storage.start()
    await storage.workflows.create(_definition())
    service = ComputeService(storage, executor)
    # Short pauses between attempts so that the retry is seen within the test.
    service.executor_supervisor = ExecutorSupervisor(
        executor, first_retry_delay=0.2, max_retry_delay=0.4
    )
    await service.start()
    try:
        supervisor = service.executor_supervisor
        await supervisor.wait_started()
        status = supervisor.status()
        assert status["status"] == "failed" and "refused the connection" in status["error"]
        run = await asyncio.wait_for(service.run_workflow("w", {"x": 1}), 5)
        assert run.state is RunState.FAILED
        assert run.error is not None and run.error.type == "ExecutorError"
        assert "the local executor is not available" in run.error.message
        assert "refused the connection" in run.error.message
        for _ in range(100):
            if supervisor.running:
                break
            await asyncio.sleep(0.05)
        assert supervisor.status()["start_attempts"] == 3
        run = await service.run_workflow("w", {"x": 41})
        assert run.state is RunState.FINISHED and run.result == 42
    finally:
        await service.stop(grace=1)


async def test_closing_while_the_start_waits_stops_the_attempt():
    executor = GatedExecutor()
    supervisor = ExecutorSupervisor(executor)
    await supervisor.start()
    await supervisor.close()
    assert supervisor.state is ExecutorState.STOPPED and not executor.running
    await supervisor.wait_started()  # settled: nobody waits forever on a closed supervisor


async def test_an_unreachable_scheduler_shows_in_status_and_the_api_still_answers(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executor = {
        "target": "flowdapt.compute.executor.dask.DaskExecutor",
        "cluster_address": f"tcp://127.0.0.1:{port}",
        "connect_timeout": 1,
    }
    settings = Settings(
        app_dir=tmp_path,
        database={"target": "flowdapt.storage.memory.MemoryStorage"},
        services={"compute": {"executor": executor}, "triggers": {"enabled": False}},
    )
    services = build_services(settings)
    assert services.compute is not None
    await services.storage.start()
    await services.compute.start()
    transport = httpx.ASGITransport(app=create_app(services, version="test"))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://flowdapt") as client:
            assert (await client.get("/")).status_code == 200
            await services.compute.executor_supervisor.wait_started()
            compute = (await client.get("/status")).json()["services"]["compute"]
            assert compute["status"] == "degraded" and compute["executor"] == "dask"
            assert compute["executor_status"]["status"] == "failed"
            assert "cannot reach the Dask scheduler" in compute["executor_status"]["error"]
            await services.storage.workflows.create(_definition())
            answer = await client.post("/workflows/w/run", json={"x": 1})
            assert answer.status_code == 200
            assert answer.json()["state"] == "failed"
            assert "cannot reach the Dask scheduler" in str(answer.json()["result"])
    finally:
        await services.compute.stop(grace=1)
        await services.storage.close()
