"""The RayExecutor on a cluster started with ``ray start --head`` as its own process, then on one
local Ray (2 CPUs) started once for the session by ``ray.init``.

Ray allows one ``ray.init`` per process, so the existing-cluster test comes first in this module
(before the session's local Ray starts) and leaves no connection behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import ray

from flowdapt.bootstrap import build_executor
from flowdapt.compute.executor.ray import RayExecutor as RayExecutorAtOriginalPath
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import ExecutorError, RunCancelledError
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, StageState, WorkflowRun
from flowdapt.domain.workflow_rules import StageOptions, StageResources
from flowdapt.engine.executor import Placement
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import WorkflowRunner
from flowdapt.executors.ray import RayExecutor
from flowdapt.settings import ExecutorSettings
from tests.conftest import workflow

S = "tests.resources.stages"
ROOT = Path(__file__).resolve().parents[2]
RAY_CLI = str(Path(sys.executable).with_name("ray"))

# Nothing is reported to Ray's usage statistics from the tests.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen]]:
    """A one-CPU Ray head node, its own process tree, as on a real cluster."""
    port = _free_port()
    # The workers import tests.resources.stages. Token authentication is off for this head:
    # a Ray 2.60 driver presents the token only with RAY_AUTH_MODE=token, and that setting, once
    # read, would also apply to the local Ray this process starts next.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    # --block keeps `ray start` as the parent of the node's processes: ending it ends exactly
    # this cluster (`ray stop` would stop every Ray on the machine).
    head = subprocess.Popen(
        [RAY_CLI, "start", "--head", "--block", f"--port={port}", "--num-cpus=1",
         "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={tmp_path_factory.mktemp('ray')}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield f"127.0.0.1:{port}", head
    finally:
        head.terminate()  # `ray start --block` stops its node's processes on SIGTERM
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        with contextlib.suppress(ProcessLookupError):  # whatever of the node outlived it
            os.killpg(head.pid, signal.SIGKILL)


@pytest.mark.slow
async def test_a_workflow_runs_on_an_existing_cluster(ray_head):
    address, head = ray_head
    assert not ray.is_initialized(), "this test must run before the session's local Ray"
    executor = RayExecutor(cluster_address=address, connect_timeout=30)
    await _until_started(executor, 30)
    try:
        definition = workflow(
            {"name": "make", "target": f"{S}.make_list"},
            {"name": "sq", "target": f"{S}.square", "type": "parameterized",
             "depends_on": ["make"]},
            {"name": "ctx", "target": f"{S}.context_snapshot", "depends_on": ["sq"]},
        )  # fmt: skip
        snapshot = await execute_workflow(
            definition, {"n": 4}, executor=executor, return_result=True
        )
        assert snapshot["executor"] == "ray" and snapshot["stage"] == "ctx"
        assert executor.batch_size(100, _placement()) == 25  # 1 CPU, 4 tasks
        # Closing while a stage runs fails it instead of leaving it hanging.
        sleeper = workflow({"name": "s", "target": f"{S}.sleep_for"})
        running = asyncio.ensure_future(
            execute_workflow(sleeper, {"seconds": 5.0}, executor=executor)
        )
        await asyncio.sleep(0.5)
    finally:
        await executor.close()
    run = await asyncio.wait_for(running, timeout=5)
    assert run.state is RunState.FAILED
    assert run.error.message == "stage 's': its Ray task was lost: the executor was closed"
    # Closing only disconnects: the cluster it did not start keeps running.
    assert not ray.is_initialized() and head.poll() is None


@pytest.fixture(scope="session")
async def ray_executor() -> AsyncIterator[RayExecutor]:
    executor = RayExecutor(
        cpus=2,
        resources={"label": 2},
        object_store_memory=200 * 1024**2,
        runtime_env={"env_vars": {"FLOWDAPT_RAY_TEST": "from runtime_env"}},
        log_to_driver=False,
    )
    await executor.start()
    try:
        yield executor
    finally:
        await executor.close()


def test_the_server_config_builds_it_from_the_originals_path():
    assert RayExecutorAtOriginalPath is RayExecutor
    settings = ExecutorSettings.model_validate(
        {
            "target": "flowdapt.compute.executor.ray.RayExecutor",
            "cpus": "3",  # as an environment variable gives it
            "gpus": "auto",
            "resources": {"my_label": 1},
            "runtime_env": {"env_vars": {"A": "1"}},
            "log_to_driver": False,
        }
    )
    executor = build_executor(settings)
    assert isinstance(executor, RayExecutor)
    assert (executor.cpus, executor.gpus, executor.log_to_driver) == (3, None, False)
    assert executor.resources == {"my_label": 1} and executor.kind == "ray"
    assert executor.runtime_env == {"env_vars": {"A": "1"}}


async def test_a_chain_runs_on_the_workers(ray_executor):
    definition = workflow(
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "sum", "target": f"{S}.total", "depends_on": ["make"]},
        {"name": "inc", "target": f"{S}.add_one", "depends_on": ["sum"]},
    )
    result = await execute_workflow(definition, {"n": 5}, executor=ray_executor, return_result=True)
    assert result == 11


async def test_a_fan_out_of_1000_items_keeps_order(ray_executor):
    definition = workflow(
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "sq", "target": f"{S}.square", "type": "parameterized", "depends_on": ["make"]},
    )
    run = await execute_workflow(definition, {"n": 1000}, executor=ray_executor)
    assert run.state is RunState.FINISHED
    assert run.result == [i * i for i in range(1000)]
    assert run.stage("sq").items_done == 1000
    assert ray_executor.batch_size(1000, _placement()) == 125  # 2 CPUs, 4 tasks each


async def test_the_run_context_reaches_the_ray_worker(ray_executor):
    definition = workflow({"name": "ctx", "target": f"{S}.context_snapshot"}, name="ctx_flow")
    snapshot = await execute_workflow(
        definition,
        {"city": "Oslo"},
        executor=ray_executor,
        namespace="nowcast",
        config={"model": "small"},
        return_result=True,
    )
    assert snapshot["executor"] == "ray"
    assert snapshot["namespace"] == "nowcast"
    assert snapshot["input"] == {"city": "Oslo"}
    assert snapshot["config"]["model"] == "small"
    assert (snapshot["workflow"], snapshot["stage"]) == ("ctx_flow", "ctx")
    assert snapshot["pid"] != os.getpid()  # it really ran in a worker process


async def test_the_runtime_env_reaches_the_workers(ray_executor):
    definition = workflow({"name": "env", "target": lambda: os.environ.get("FLOWDAPT_RAY_TEST")})
    result = await execute_workflow(definition, executor=ray_executor, return_result=True)
    assert result == "from runtime_env"


async def test_a_raising_stage_fails_the_run_with_its_own_error(ray_executor):
    definition = workflow({"name": "bad", "target": f"{S}.fail"})
    run = await execute_workflow(definition, executor=ray_executor)
    assert run.state is RunState.FAILED
    assert run.result == ("ValueError", "boom from stage")  # not 'cancelled', as the original
    assert "fail" in run.error.traceback
    with pytest.raises(ValueError, match="boom from stage"):
        await execute_workflow(definition, executor=ray_executor, return_result=True)


async def test_a_failing_item_fails_the_fan_out_with_its_error(ray_executor):
    definition = workflow(
        {"name": "map", "target": f"{S}.fail_on_three", "type": "parameterized", "map_on": "x"}
    )
    run = await execute_workflow(definition, {"x": [1, 2, 3, 4]}, executor=ray_executor)
    assert run.result == ("ValueError", "cannot handle 3")
    assert run.error.item == 2


async def test_stages_sharing_a_name_run_their_own_functions(ray_executor):
    squares = workflow(
        {"name": "step", "target": f"{S}.square", "type": "parameterized", "map_on": "x"},
        name="squares",
    )
    increments = workflow(
        {"name": "step", "target": f"{S}.add_one", "type": "parameterized", "map_on": "x"},
        name="increments",
    )
    first, second = await asyncio.gather(
        execute_workflow(squares, {"x": [2, 3]}, executor=ray_executor, return_result=True),
        execute_workflow(increments, {"x": [2, 3]}, executor=ray_executor, return_result=True),
    )
    assert (first, second) == ([4, 9], [3, 4])


async def test_closures_and_unsendable_results(ray_executor):
    offset = 10
    closure = workflow(
        {"name": "add", "target": lambda x: x + offset, "type": "parameterized", "map_on": "x"}
    )
    assert await execute_workflow(
        closure, {"x": [1, 2]}, executor=ray_executor, return_result=True
    ) == [11, 12]
    lock = workflow({"name": "lock", "target": f"{S}.return_lock"})
    run = await execute_workflow(lock, executor=ray_executor)
    assert run.result[0] == "TypeError"
    assert "cannot be sent back" in run.result[1]


async def test_resources_map_to_what_the_nodes_declare(ray_executor):
    known = workflow(
        {
            "name": "a",
            "target": f"{S}.pid",
            "resources": {"cpus": 1, "memory": "1MB", "label": 1, "unknown": 5},
        }
    )
    assert await execute_workflow(known, executor=ray_executor, return_result=True) != os.getpid()
    too_much = workflow({"name": "big", "target": f"{S}.pid", "resources": {"cpus": 4}})
    run = await asyncio.wait_for(execute_workflow(too_much, executor=ray_executor), timeout=5)
    assert run.result == (
        "ExecutorError",
        "stage 'big' asks for CPU=4, but no Ray node has that much (largest: 2)",
    )


async def test_a_stage_timeout_fails_the_run_without_waiting(ray_executor):
    definition = workflow({"name": "hang", "target": f"{S}.sleep_for", "options": {"timeout": 0.2}})
    started = time.monotonic()
    run = await execute_workflow(definition, {"seconds": 1.0}, executor=ray_executor)
    assert time.monotonic() - started < 0.9
    assert run.state is RunState.FAILED
    assert run.error.type == "StageTimeoutError"


@pytest.mark.slow
async def test_cancelling_a_long_run_stops_its_ray_tasks(ray_executor):
    definition = workflow(
        {"name": "slow", "target": f"{S}.sleep_for", "type": "parameterized", "map_on": "s"},
        {"name": "after", "target": f"{S}.total", "depends_on": ["slow"]},
    )
    resource = WorkflowResource.model_validate(definition)
    runner = WorkflowRunner(
        WorkflowGraph.build(resource),
        ray_executor,
        WorkflowRun(workflow=resource.name),
        input={"s": [5.0] * 4},
    )
    task = asyncio.ensure_future(runner.run())
    await _until(lambda: runner.run_record.stages and runner.run_record.stage("slow").attempts)
    await asyncio.sleep(0.3)
    started = time.monotonic()
    runner.cancel()
    run = await asyncio.wait_for(task, timeout=5)
    assert time.monotonic() - started < 0.5
    assert run.state is RunState.CANCELLED
    assert run.stage("after").state is StageState.SKIPPED
    assert isinstance(runner.exception, RunCancelledError)
    # The killed workers' CPUs are free again long before the 5 s calls would have ended.
    again = workflow({"name": "pid", "target": f"{S}.pid"})
    started = time.monotonic()
    assert await execute_workflow(again, executor=ray_executor, return_result=True) != os.getpid()
    assert time.monotonic() - started < 4


@pytest.mark.slow
async def test_a_worker_that_dies_fails_the_stage_instead_of_hanging(ray_executor):
    definition = workflow({"name": "crash", "target": f"{S}.crash_process"})
    run = await asyncio.wait_for(execute_workflow(definition, executor=ray_executor), timeout=30)
    assert run.state is RunState.FAILED
    assert run.error.type == "ExecutorError"
    assert "its Ray worker died" in run.error.message
    again = workflow({"name": "pid", "target": f"{S}.pid"})
    assert await execute_workflow(again, executor=ray_executor, return_result=True) != os.getpid()


async def test_an_unreachable_cluster_is_an_executor_error_not_a_hang():
    executor = RayExecutor(cluster_address=f"127.0.0.1:{_free_port()}", connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ExecutorError, match="cannot reach the Ray cluster"):
        await executor.start()
    assert time.monotonic() - started < 3
    assert not executor.running


async def test_a_second_executor_in_the_same_process_is_refused(ray_executor):
    with pytest.raises(ExecutorError, match="already initialised"):
        await RayExecutor(cpus=1).start()
    assert ray_executor.running


def test_submit_before_start_is_an_executor_error():
    with pytest.raises(ExecutorError, match="not started"):
        RayExecutor().submit(None, _placement())  # type: ignore[arg-type]


def _placement() -> Placement:
    return Placement(StageResources(), StageOptions())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until_started(executor: RayExecutor, timeout: float) -> None:
    """Start `executor` once the head node listens (``ray start`` takes a few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await executor.start()
            return
        except ExecutorError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)
