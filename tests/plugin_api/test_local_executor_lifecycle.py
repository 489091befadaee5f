"""flowdapt.compute.executor.local.LocalExecutor (§4) as the plugins' test suites use it:
built in an async fixture, started once, handed to every ``execute_workflow`` call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from flowdapt.compute import object_store
from flowdapt.compute.executor.local import LocalExecutor
from flowdapt.compute.resources.workflow.context import get_run_context
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.objects.cluster_memory import get_cluster_memory_backend
from tests.conftest import workflow


@pytest.fixture(autouse=True)
def _empty_cluster_memory(empty_cluster_memory):
    return empty_cluster_memory


@pytest.fixture(scope="module")
async def plugin_executor() -> AsyncIterator[LocalExecutor]:
    """The N, C and T fixture: one started thread executor for all the tests of a module."""
    executor = LocalExecutor(use_processes=False)
    await executor.start()
    yield executor
    await executor.close()


async def test_start_and_close_are_idempotent():
    executor = LocalExecutor(use_processes=False)
    assert executor.kind == "local"
    assert (executor.running, executor.connected) == (False, False)
    await executor.start()
    await executor.start()
    assert (executor.running, executor.connected) == (True, True)
    await executor.close()
    await executor.close()
    assert (executor.running, executor.connected) == (False, False)


async def test_async_with_starts_and_closes():
    async with LocalExecutor(use_processes=False) as executor:
        assert executor.running and executor.connected
    assert not executor.running and not executor.connected


async def test_the_originals_options_are_accepted(tmp_path):
    executor = LocalExecutor(
        use_processes=False, cpus=1, cluster_memory_socket_path=str(tmp_path / "memory.sock")
    )
    info = await executor.environment_info()
    assert (info["processes"], info["cpus"]) == (False, 1)
    auto = await LocalExecutor(use_processes=False).environment_info()
    assert isinstance(auto["cpus"], int) and 1 <= auto["cpus"] <= len(os.sched_getaffinity(0))


async def test_environment_info_describes_the_cluster_memory():
    info = await LocalExecutor(use_processes=False).environment_info()
    assert set(info["cluster_memory"]) == {"path", "serializer", "store_size"}


def remember(note: str) -> int:
    object_store.put("note", note, strategy="cluster_memory")
    return os.getpid()


def recall(_pid: int) -> tuple[str, int]:
    return object_store.get("note", strategy="cluster_memory"), os.getpid()


def remember_then_recall() -> dict[str, Any]:
    return workflow(
        {"name": "remember", "target": remember},
        {"name": "recall", "target": recall, "depends_on": ["remember"]},
    )


async def test_cluster_memory_works_with_any_socket_path(tmp_path):
    # The original's clients ignored the executor's path: every call failed with a custom one.
    path = str(tmp_path / "custom.sock")
    async with LocalExecutor(use_processes=False, cluster_memory_socket_path=path) as executor:
        result = await execute_workflow(
            remember_then_recall(), {"note": "hi"}, executor=executor, return_result=True
        )
    assert result == ("hi", os.getpid())


@pytest.mark.slow
async def test_worker_processes_reach_the_cluster_memory_with_any_socket_path(tmp_path):
    path = str(tmp_path / "custom.sock")
    executor = LocalExecutor(use_processes=True, cpus=1, cluster_memory_socket_path=path)
    async with executor:
        note, pid = await execute_workflow(
            remember_then_recall(), {"note": "hi"}, executor=executor, return_result=True
        )
    assert note == "hi" and pid != os.getpid()


def put_study(study: str) -> str:
    object_store.put("study", {"id": study, "config": get_run_context().config["data_config"]})
    return get_run_context().namespace


def get_study() -> Any:
    return object_store.get("study")


async def test_runs_on_the_fixtures_executor_share_cluster_memory(plugin_executor, storage):
    # §11.7: several execute_workflow calls with the same started executor and namespace.
    config = {"data_config": {"n_cities": 3}}
    first = workflow({"name": "put", "target": put_study}, name="put_study")
    second = workflow({"name": "get", "target": get_study}, name="get_study")
    namespace = await execute_workflow(
        first,
        {"study": "s1"},
        executor=plugin_executor,
        namespace="testing",
        config=config,
        return_result=True,
    )
    assert namespace == "testing" and plugin_executor.running
    value = await execute_workflow(
        second, executor=plugin_executor, namespace="testing", config=config, return_result=True
    )
    assert value == {"id": "s1", "config": {"n_cities": 3}}
    assert plugin_executor.running
    assert not storage.exists()  # in cluster memory only: nothing on storage


def where() -> int:
    return os.getpid()


async def test_without_an_executor_the_params_build_a_thread_executor():
    definition = workflow({"name": "where", "target": where})
    assert await execute_workflow(definition, return_result=True) == os.getpid()
    assert await execute_workflow(definition, cpus=1, return_result=True) == os.getpid()


@pytest.mark.slow
async def test_without_an_executor_use_processes_is_passed_on():
    definition = workflow({"name": "where", "target": where})
    assert await execute_workflow(definition, use_processes=True, cpus=1, return_result=True) != (
        os.getpid()
    )


async def test_with_an_executor_the_params_are_ignored(plugin_executor):
    definition = workflow({"name": "where", "target": where})
    result = await execute_workflow(
        definition, executor=plugin_executor, use_processes=True, bogus=1, return_result=True
    )
    assert result == os.getpid()


# The store is one per process, shared by the LocalExecutors running in it: the last one to
# close clears it. This module's own executor is running, so the check runs in a fresh process.
_CLOSED_WITH_ITS_MEMORY = """
import asyncio
from flowdapt.compute.executor.local import LocalExecutor
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.objects.cluster_memory import get_cluster_memory_backend
from tests.conftest import workflow
from tests.plugin_api.test_local_executor_lifecycle import remember_then_recall

async def main():
    memory = get_cluster_memory_backend("local")
    async with LocalExecutor(use_processes=False) as executor:
        await execute_workflow(remember_then_recall(), {"note": "kept"}, executor=executor)
        assert memory.get("note") == "kept"  # a running executor keeps what its stages put
    assert not memory.exists("note"), "closing the executor clears its cluster memory"
    note = await execute_workflow(remember_then_recall(), {"note": "hi"}, return_result=True)
    assert note[0] == "hi", note  # the second stage read what the first one put
    print(memory.exists("note"))

asyncio.run(main())
"""


def test_an_executor_execute_workflow_started_is_closed_with_its_cluster_memory():
    done = subprocess.run(
        [sys.executable, "-c", _CLOSED_WITH_ITS_MEMORY],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


async def test_executors_side_by_side_share_the_store_until_the_last_closes(plugin_executor):
    other = LocalExecutor(use_processes=False)
    await other.start()
    await execute_workflow(remember_then_recall(), {"note": "kept"}, executor=other)
    await other.close()  # plugin_executor still runs: the store stays
    assert get_cluster_memory_backend("local").get("note") == "kept"
    info = await plugin_executor.environment_info()
    assert info["cluster_memory"]["store_size"] >= 1
