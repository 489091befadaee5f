"""Per-stage retries with backoff, timeouts, and cancelling a run, on every executor configuration.

The stages that must outlast a timeout or a cancel wait for a file (``stages.wait_for_file``):
a run that returns while that stage's ``.ended`` marker is absent did not wait for the stage, and
creating the file afterwards lets a stage that cannot be stopped (a thread, a Dask task) end.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import RunCancelledError
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, StageState, WorkflowRun
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import WorkflowRunner
from tests.conftest import (
    DASK_CANNOT_STOP_RUNNING_CODE,
    DASK_NO_CANCEL_FLAG,
    RAY_NO_CANCEL_FLAG,
    THREADS_CANNOT_BE_STOPPED,
    on,
    workflow,
)
from tests.resources import stages

S = "tests.resources.stages"


def _runner(definition, executor, **kwargs):
    resource = WorkflowResource.model_validate(definition)
    return WorkflowRunner(
        WorkflowGraph.build(resource), executor, WorkflowRun(workflow=resource.name), **kwargs
    )


async def test_retries_until_success_with_backoff(executor, tmp_path):
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    flaky = stages.Flaky(str(tmp_path / "count"), failures=2)
    definition = workflow(
        {
            "name": "flaky",
            "target": flaky,
            "options": {"retries": 3, "retry_delay": 0.5, "retry_backoff": 3},
        },
    )
    run = await _runner(definition, executor, sleep=fake_sleep).run()
    assert run.state is RunState.FINISHED
    assert run.result == "ok after 3"
    assert run.stage("flaky").attempts == 3
    assert sleeps == [0.5, 1.5]


async def test_retries_exhausted_fail_with_the_last_error(executor, tmp_path):
    flaky = stages.Flaky(str(tmp_path / "count"), failures=5)
    definition = workflow(
        {"name": "flaky", "target": flaky, "options": {"retries": 1, "retry_delay": 0}},
    )
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert run.result == ("ConnectionError", "attempt 2 failed")
    assert run.stage("flaky").attempts == 2


async def test_parameterized_retry_reruns_only_failed_items(executor, tmp_path):
    log = tmp_path / "calls"
    definition = workflow(
        {
            "name": "map",
            "target": stages.FlakyItems(str(log)),
            "type": "parameterized",
            "map_on": "x",
            "options": {"retries": 1, "retry_delay": 0},
        },
    )
    run = await execute_workflow(definition, {"x": list(range(10))}, executor=executor)
    assert run.state is RunState.FINISHED
    assert run.result == [x * 10 for x in range(10)]
    calls = [int(line) for line in log.read_text().split()]
    assert sorted(calls) == sorted([*range(10), 0, 3, 6, 9])
    assert run.stage("map").attempts == 2


async def test_a_timeout_fails_the_run_without_waiting_for_the_stage(executor, tmp_path):
    release = tmp_path / "release"
    definition = workflow(
        {"name": "hang", "target": f"{S}.wait_for_file", "options": {"timeout": 0.2}},
    )
    try:
        run = await execute_workflow(definition, {"path": str(release)}, executor=executor)
        assert run.state is RunState.FAILED
        assert run.error.type == "StageTimeoutError"
        assert "timeout of 0.2s" in run.error.message
        assert not _ended(release)  # the stage had not ended
    finally:
        _release(release)  # what cannot be stopped (a thread, a Dask task) ends now
    # The executor stays usable: a process or Ray worker that was stopped has been replaced.
    again = workflow({"name": "pid", "target": f"{S}.pid"})
    worker = await execute_workflow(again, executor=executor, return_result=True)
    assert isinstance(worker, int)


async def test_cancel_ends_the_run_and_skips_what_follows(executor, tmp_path):
    """On every executor the run is cancelled at once, whether or not the running code stops."""
    paths = [str(tmp_path / "a"), str(tmp_path / "b")]
    definition = workflow(
        {"name": "slow", "target": f"{S}.wait_for_file", "type": "parameterized",
         "map_on": "path"},
        {"name": "after", "target": f"{S}.total", "depends_on": ["slow"]},
    )  # fmt: skip
    runner = _runner(definition, executor, input={"path": paths})
    task = asyncio.ensure_future(runner.run())
    try:
        await _until(
            lambda: (
                runner.run_record.stages
                and runner.run_record.stage("slow").state is StageState.RUNNING
            )
        )
        await asyncio.sleep(0.3)  # let the workers pick the items up
        runner.cancel()
        run = await asyncio.wait_for(task, timeout=10)
        assert run.state is RunState.CANCELLED
        assert run.stage("slow").state is StageState.CANCELLED
        assert run.stage("after").state is StageState.SKIPPED
        assert isinstance(runner.exception, RunCancelledError)
        assert not any(_ended(path) for path in paths)
    finally:
        _release(*paths)


@on(
    "threads",
    "processes",
    "dask",
    "ray",
    skip={"threads": THREADS_CANNOT_BE_STOPPED, "dask": DASK_CANNOT_STOP_RUNNING_CODE},
)
async def test_cancel_stops_running_stages_for_real(executor, tmp_path):
    paths = [str(tmp_path / "a"), str(tmp_path / "b")]
    definition = workflow(
        {"name": "slow", "target": f"{S}.wait_for_file", "type": "parameterized",
         "map_on": "path"},
        {"name": "after", "target": f"{S}.total", "depends_on": ["slow"]},
    )  # fmt: skip
    runner = _runner(definition, executor, input={"path": paths, "limit": 60})
    task = asyncio.ensure_future(runner.run())
    try:
        await _until(
            lambda: (
                runner.run_record.stages
                and runner.run_record.stage("slow").state is StageState.RUNNING
            )
        )
        await asyncio.sleep(0.3)  # let the workers pick the items up
        runner.cancel()
        run = await asyncio.wait_for(task, timeout=10)
        assert run.state is RunState.CANCELLED
        # Both workers were busy waiting up to 60 s; had they not been stopped, this would queue.
        follow_up = workflow(
            {"name": "pids", "target": f"{S}.pid", "type": "parameterized", "map_on": "x"}
        )
        pids = await asyncio.wait_for(
            execute_workflow(follow_up, {"x": [1, 2]}, executor=executor, return_result=True),
            timeout=20,
        )
        assert len(pids) == 2
        assert not any(_ended(path) for path in paths)  # killed, not ended
    finally:
        _release(*paths)  # should they still run, they end now


@on("threads", "dask", "ray", skip={"dask": DASK_NO_CANCEL_FLAG, "ray": RAY_NO_CANCEL_FLAG})
async def test_cancel_flag_reaches_running_stages(executor):
    definition = workflow(
        {"name": "wait", "target": f"{S}.wait_until_cancelled"},
        {"name": "after", "target": f"{S}.pair", "depends_on": ["wait"]},
    )
    runner = _runner(definition, executor)
    task = asyncio.ensure_future(runner.run())
    await _until(
        lambda: (
            runner.run_record.stages and runner.run_record.stage("wait").state is StageState.RUNNING
        )
    )
    stopped_before = len(stages.STOPPED)
    runner.cancel()
    run = await asyncio.wait_for(task, timeout=5)
    assert run.state is RunState.CANCELLED
    assert run.stage("after").state is StageState.SKIPPED
    assert run.result[0] == "RunCancelledError"
    # The stage records only when it saw the flag (it would otherwise give up after 30 s).
    await _until(lambda: len(stages.STOPPED) > stopped_before, timeout=5)


async def test_cancelling_the_awaiting_task_marks_the_run_cancelled(executor, tmp_path):
    release = tmp_path / "release"
    definition = workflow({"name": "wait", "target": f"{S}.wait_for_file"})
    record = WorkflowRun(workflow="test_workflow")
    task = asyncio.ensure_future(
        execute_workflow(definition, {"path": str(release)}, executor=executor, run=record)
    )
    try:
        await _until(lambda: record.stages and record.stage("wait").state is StageState.RUNNING)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert record.state is RunState.CANCELLED
        assert record.stage("wait").state is StageState.CANCELLED
    finally:
        _release(release)


def _ended(path: str | Path) -> bool:
    """Whether the wait_for_file stage waiting on `path` has ended (it leaves this marker)."""
    return Path(f"{path}.ended").exists()


def _release(*paths: str | Path) -> None:
    """Let the wait_for_file stages waiting on `paths` end."""
    for path in paths:
        Path(path).touch()


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)
