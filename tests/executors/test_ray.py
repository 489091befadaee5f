"""What is particular to the RayExecutor, on the session's local Ray (2 CPUs, started once by
``ray.init``, see tests/conftest.py). The run semantics it shares with every executor are tested
in tests/engine/, parametrised over all of them.

Ray allows one ``ray.init`` per process, so the test process never connects to another cluster:
a server process on a cluster started with ``ray start --head`` is tested in
tests/e2e/test_existing_clusters.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest

from flowdapt.bootstrap import build_executor
from flowdapt.compute.executor.ray import RayExecutor as RayExecutorAtOriginalPath
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import ExecutorError
from flowdapt.domain.runs import RunState
from flowdapt.domain.workflow_rules import StageOptions, StageResources
from flowdapt.engine.executor import Placement
from flowdapt.executors.ray import RayExecutor
from flowdapt.settings import ExecutorSettings
from tests.conftest import workflow

S = "tests.resources.stages"


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


async def test_a_fan_out_is_cut_into_four_tasks_per_cpu(ray_executor):
    assert ray_executor.batch_size(1000, _placement()) == 125  # 2 CPUs, 4 tasks each


async def test_the_runtime_env_reaches_the_workers(ray_executor):
    definition = workflow({"name": "env", "target": lambda: os.environ.get("FLOWDAPT_RAY_TEST")})
    result = await execute_workflow(definition, executor=ray_executor, return_result=True)
    assert result == "from runtime_env"


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


async def test_a_value_in_cluster_memory_outlives_the_worker_that_put_it(ray_executor):
    key = f"key_{os.getpid()}_{time.monotonic_ns()}"
    put = workflow({"name": "put", "target": "tests.resources.memory_stages.put_then_die"})
    run = await asyncio.wait_for(execute_workflow(put, {"key": key}, executor=ray_executor), 60)
    assert run.state is RunState.FAILED  # the worker ended itself after the put
    read = workflow({"name": "read", "target": "tests.resources.memory_stages.read_all"})
    value = await execute_workflow(read, {"key": key}, executor=ray_executor, return_result=True)
    assert value == {"weights": [4, 5, 6]}
