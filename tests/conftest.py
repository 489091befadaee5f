"""Shared fixtures: every executor the engine runs on, each started once per test session.

The ``executor`` fixture gives each engine semantics test one executor configuration at a time:
LocalExecutor threads and processes, DaskExecutor (a LocalCluster of 2 worker processes) and
RayExecutor (a local Ray of 2 CPUs). The session's Dask and Ray are the same instances that
tests/executors/test_dask.py and test_ray.py use, started the first time a test asks for them
and stopped by their fixture at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from flowdapt.executors.local import LocalExecutor

if TYPE_CHECKING:  # imported when first used: most test modules need neither Dask nor Ray
    from flowdapt.executors.dask import DaskExecutor
    from flowdapt.executors.ray import RayExecutor

EXECUTORS = ["threads", "processes", "dask", "ray"]
FIXTURES = {
    "threads": "thread_executor",
    "processes": "process_executor",
    "dask": "dask_executor",
    "ray": "ray_executor",
}

# The documented limits (module docstrings of flowdapt.executors.*), quoted by the skips.
THREADS_CANNOT_BE_STOPPED = (
    'local.py: "a thread cannot be stopped from outside, so a thread task finishes its current '
    'item and then sees get_run_context().cancelled"'
)
DASK_CANNOT_STOP_RUNNING_CODE = (
    'dask.py: "Dask cannot stop a function that is running — it runs to its end in its worker '
    'thread, which stays busy meanwhile"'
)
DASK_NO_CANCEL_FLAG = (
    "dask.py: \"The run's cancel flag does not reach Dask workers, so "
    'get_run_context().cancelled stays false there."'
)
RAY_NO_CANCEL_FLAG = (
    "ray.py: \"The run's cancel flag does not reach Ray workers, so "
    'get_run_context().cancelled stays false there."'
)


def workflow(*stages: dict[str, Any], name: str = "test_workflow") -> dict[str, Any]:
    """A workflow definition dict as plugin tests write them."""
    return {"metadata": {"name": name}, "spec": {"stages": list(stages)}}


def on(*names: str, skip: dict[str, str] | None = None) -> pytest.MarkDecorator:
    """Run a test on the named executor configurations only (`executor` parametrised
    indirectly); those in `skip` are listed and skipped with the given reason."""
    skipped = skip or {}
    params = [
        pytest.param(name, marks=pytest.mark.skip(reason=skipped[name]))
        if name in skipped
        else name
        for name in names
    ]
    return pytest.mark.parametrize("executor", params, indirect=True)


@pytest.fixture(scope="session")
async def thread_executor() -> AsyncIterator[LocalExecutor]:
    async with LocalExecutor(use_processes=False) as executor:
        yield executor


@pytest.fixture(scope="session")
async def process_executor() -> AsyncIterator[LocalExecutor]:
    async with LocalExecutor(use_processes=True, cpus=2) as executor:
        yield executor


@pytest.fixture(scope="session")
async def dask_executor() -> AsyncIterator[DaskExecutor]:
    """A LocalCluster of 2 worker processes, 1 thread each (the workers are started by
    multiprocessing with this process's sys.path, so they import tests.resources.stages)."""
    from flowdapt.executors.dask import DaskExecutor

    executor = DaskExecutor(cpus=2, threads_per_worker=1, resources={"label": 2})
    await executor.start()
    try:
        yield executor
    finally:
        await executor.close()


@pytest.fixture(scope="session")
async def ray_executor() -> AsyncIterator[RayExecutor]:
    """A local Ray of 2 CPUs. Ray allows one ``ray.init`` per process, so this is the only Ray the
    test process ever connects to; tests of other clusters run servers in their own processes
    (tests/e2e/test_existing_clusters.py). The workers import tests.resources.stages as this
    process does: pytest runs from the repository root."""
    from flowdapt.executors.ray import RayExecutor

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing reported from the tests
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


@pytest.fixture(params=EXECUTORS)
def executor(request: pytest.FixtureRequest) -> Any:
    """Every engine semantics test runs on each executor configuration (`on(...)` narrows it)."""
    return request.getfixturevalue(FIXTURES[request.param])
