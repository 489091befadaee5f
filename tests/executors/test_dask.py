"""What is particular to the DaskExecutor, on the session's LocalCluster (2 worker processes, 1
thread each, see tests/conftest.py) and on a scheduler and worker started as separate processes
with the ``dask`` CLI. The run semantics it shares with every executor are tested in tests/engine/,
parametrised over all of them; a server process on an existing cluster in
tests/e2e/test_existing_clusters.py."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowdapt.bootstrap import build_executor
from flowdapt.compute.executor.dask import DaskExecutor as DaskExecutorAtOriginalPath
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import ExecutorError
from flowdapt.domain.runs import RunState
from flowdapt.executors.dask import DaskExecutor
from flowdapt.settings import ExecutorSettings
from tests.conftest import workflow
from tests.e2e.conftest import stop_process

S = "tests.resources.stages"
ROOT = Path(__file__).resolve().parents[2]
DASK_CLI = str(Path(sys.executable).with_name("dask"))


def test_the_server_config_builds_it_from_the_originals_path():
    assert DaskExecutorAtOriginalPath is DaskExecutor
    settings = ExecutorSettings.model_validate(
        {
            "target": "flowdapt.compute.executor.dask.DaskExecutor",
            "cpus": "3",  # as an environment variable gives it
            "gpus": "auto",
            "memory": "2GB",
            "resources": {"my_label": 1},
        }
    )
    executor = build_executor(settings)
    assert isinstance(executor, DaskExecutor)
    assert (executor.cpus, executor.gpus, executor.memory_limit) == (3, 0.0, "2GB")
    assert executor.resources == {"my_label": 1} and executor.kind == "dask"


async def test_a_fan_out_is_cut_into_four_tasks_per_worker_thread(dask_executor):
    assert dask_executor.batch_size(1000, _placement()) == 125  # 2 threads, 4 tasks each


async def test_a_function_the_workers_cannot_import_fails_clearly(dask_executor):
    module = types.ModuleType("only_in_this_process")
    exec("def hello():\n    return 'hi'\n", module.__dict__)
    sys.modules[module.__name__] = module  # importable here, so pickled by reference
    try:
        definition = workflow({"name": "hello", "target": module.hello})
        run = await execute_workflow(definition, executor=dask_executor)
    finally:
        del sys.modules[module.__name__]
    assert run.error.type == "ExecutorError"
    assert "the Dask worker could not run its task: ModuleNotFoundError" in run.error.message


async def test_resources_map_to_what_the_workers_declare(dask_executor):
    known = workflow(
        {"name": "a", "target": f"{S}.pid", "resources": {"cpus": 1, "label": 1, "unknown": 5}}
    )
    assert await execute_workflow(known, executor=dask_executor, return_result=True) != os.getpid()
    too_much = workflow({"name": "big", "target": f"{S}.pid", "resources": {"cpus": 4}})
    run = await asyncio.wait_for(execute_workflow(too_much, executor=dask_executor), timeout=5)
    assert run.result == (
        "ExecutorError",
        "stage 'big' asks for CPU=4, but no Dask worker has that much (largest: 1)",
    )


async def test_an_unreachable_scheduler_is_an_executor_error_not_a_hang():
    executor = DaskExecutor(cluster_address=f"tcp://127.0.0.1:{_free_port()}", connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        await executor.start()
    assert time.monotonic() - started < 3
    assert not executor.running


async def test_closing_the_executor_fails_running_stages_instead_of_hanging():
    executor = DaskExecutor(cpus=1, processes=False)  # thread workers: in-process comms
    await executor.start()
    definition = workflow({"name": "s", "target": f"{S}.sleep_for"})
    running = asyncio.ensure_future(
        execute_workflow(definition, {"seconds": 0.5}, executor=executor)
    )
    await asyncio.sleep(0.2)
    await executor.close()
    assert not executor.running
    run = await asyncio.wait_for(running, timeout=5)
    assert run.state is RunState.FAILED
    assert run.error.type == "ExecutorError"
    assert "the executor was closed" in run.error.message


def test_submit_before_start_is_an_executor_error():
    with pytest.raises(ExecutorError, match="not started"):
        DaskExecutor().submit(None, _placement())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def external_scheduler() -> Iterator[str]:
    """A scheduler and one worker, each its own process, as on a real cluster."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the workers import tests.resources.stages
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen(
        [DASK_CLI, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
         "--dashboard-address", "127.0.0.1:0"],
        **quiet,
    )  # fmt: skip
    worker = subprocess.Popen(
        [DASK_CLI, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
         "--host", "127.0.0.1"],
        **quiet,
    )  # fmt: skip
    try:
        yield address
    finally:
        for process in (worker, scheduler):  # the worker first, so it does not reconnect
            stop_process(process)


@pytest.mark.slow
async def test_a_workflow_runs_on_an_existing_cluster(external_scheduler):
    executor = DaskExecutor(cluster_address=external_scheduler, connect_timeout=20)
    await executor.start()
    try:
        await _until(lambda: executor.client.scheduler_info().get("n_workers", 0) > 0, 20)
        definition = workflow(
            {"name": "make", "target": f"{S}.make_list"},
            {
                "name": "sq",
                "target": f"{S}.square",
                "type": "parameterized",
                "depends_on": ["make"],
            },
            {"name": "ctx", "target": f"{S}.context_snapshot", "depends_on": ["sq"]},
        )
        snapshot = await execute_workflow(
            definition, {"n": 4}, executor=executor, return_result=True
        )
        assert snapshot["executor"] == "dask" and snapshot["stage"] == "ctx"
    finally:
        await executor.close()
    # Closing only disconnects: the cluster it did not start keeps running.
    again = DaskExecutor(cluster_address=external_scheduler, connect_timeout=5)
    async with again:
        assert again.running


def _placement():
    from flowdapt.domain.workflow_rules import StageOptions, StageResources
    from flowdapt.engine.executor import Placement

    return Placement(StageResources(), StageOptions())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_a_worker_that_dies_fails_the_stage_instead_of_hanging(dask_executor):
    definition = workflow({"name": "crash", "target": f"{S}.crash_process"})
    run = await asyncio.wait_for(execute_workflow(definition, executor=dask_executor), timeout=40)
    assert run.state is RunState.FAILED
    assert run.error.type == "ExecutorError"
    assert "its Dask worker died" in run.error.message
    # The cluster replaced the dead workers and still runs work.
    again = workflow({"name": "pid", "target": f"{S}.pid"})
    assert await execute_workflow(again, executor=dask_executor, return_result=True) != os.getpid()


async def test_what_a_stage_logs_on_a_worker_reaches_the_servers_log(dask_executor, caplog):
    definition = workflow({"name": "log", "target": "tests.resources.memory_stages.log_a_warning"})
    run = await execute_workflow(definition, {"text": "from a worker"}, executor=dask_executor)
    assert run.state is RunState.FINISHED

    def forwarded() -> bool:
        return any(
            r.name == "tests.stage_code" and r.getMessage() == "stage says: from a worker"
            for r in caplog.records
        )

    for _ in range(50):  # the record arrives on the client's event stream, after the result
        if forwarded():
            break
        await asyncio.sleep(0.1)
    assert forwarded()


def _profiler_enabled() -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


async def test_the_workers_statistical_profiler_is_off_without_the_dashboard(dask_executor):
    # It samples every running thread every 10 ms for a dashboard nobody serves.
    enabled = await dask_executor.client.run(_profiler_enabled)
    assert enabled and not any(enabled.values())
