"""Per-stage retries with backoff, timeouts, and cancelling a run."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import RunCancelledError
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, StageState, WorkflowRun
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import WorkflowRunner
from tests.conftest import workflow
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


async def test_parameterized_retry_reruns_only_failed_items(thread_executor, tmp_path):
    calls: list[int] = []
    failed_once: set[int] = set()

    def sometimes(x: int) -> int:
        calls.append(x)
        if x % 3 == 0 and x not in failed_once:
            failed_once.add(x)
            raise ConnectionError(f"flaky on {x}")
        return x * 10

    definition = workflow(
        {
            "name": "map",
            "target": sometimes,
            "type": "parameterized",
            "map_on": "x",
            "options": {"retries": 1, "retry_delay": 0},
        },
    )
    run = await execute_workflow(definition, {"x": list(range(10))}, executor=thread_executor)
    assert run.state is RunState.FINISHED
    assert run.result == [x * 10 for x in range(10)]
    assert sorted(calls) == sorted([*range(10), 0, 3, 6, 9])
    assert run.stage("map").attempts == 2


async def test_timeout_fails_a_hanging_thread_stage(thread_executor):
    definition = workflow(
        {"name": "hang", "target": f"{S}.sleep_for", "options": {"timeout": 0.2}},
    )
    started = time.monotonic()
    run = await execute_workflow(definition, {"seconds": 1.5}, executor=thread_executor)
    assert time.monotonic() - started < 1.4
    assert run.state is RunState.FAILED
    assert run.error.type == "StageTimeoutError"
    assert "timeout of 0.2s" in run.error.message


async def test_timeout_terminates_a_hanging_process_stage(process_executor):
    definition = workflow(
        {"name": "hang", "target": f"{S}.sleep_then_pid", "options": {"timeout": 0.3}},
    )
    run = await execute_workflow(definition, {"seconds": 60}, executor=process_executor)
    assert run.state is RunState.FAILED and run.error.type == "StageTimeoutError"
    # The pool stays usable: a fresh worker replaces the terminated one.
    again = workflow({"name": "pid", "target": f"{S}.pid"})
    worker = await execute_workflow(again, executor=process_executor, return_result=True)
    assert worker != os.getpid()


async def test_cancel_stops_a_process_stage_for_real(process_executor):
    definition = workflow(
        {
            "name": "slow",
            "target": f"{S}.sleep_then_pid",
            "type": "parameterized",
            "map_on": "seconds",
        },
        {"name": "after", "target": f"{S}.total", "depends_on": ["slow"]},
    )
    runner = _runner(definition, process_executor, input={"seconds": [60, 60]})
    task = asyncio.ensure_future(runner.run())
    await _until(
        lambda: (
            runner.run_record.stages and runner.run_record.stage("slow").state is StageState.RUNNING
        )
    )
    await asyncio.sleep(0.3)  # let the workers pick the items up
    started = time.monotonic()
    runner.cancel()
    run = await asyncio.wait_for(task, timeout=10)
    assert time.monotonic() - started < 5
    assert run.state is RunState.CANCELLED
    assert run.stage("slow").state is StageState.CANCELLED
    assert run.stage("after").state is StageState.SKIPPED
    assert isinstance(runner.exception, RunCancelledError)
    # Both workers were busy sleeping 60 s; had they not been terminated, this would queue.
    follow_up = workflow(
        {"name": "pids", "target": f"{S}.pid", "type": "parameterized", "map_on": "x"}
    )
    pids = await asyncio.wait_for(
        execute_workflow(follow_up, {"x": [1, 2]}, executor=process_executor, return_result=True),
        timeout=10,
    )
    assert len(pids) == 2


async def test_cancel_stops_thread_stages_cooperatively(thread_executor):
    definition = workflow(
        {"name": "wait", "target": f"{S}.wait_until_cancelled"},
        {"name": "after", "target": f"{S}.pair", "depends_on": ["wait"]},
    )
    runner = _runner(definition, thread_executor)
    task = asyncio.ensure_future(runner.run())
    await _until(
        lambda: (
            runner.run_record.stages and runner.run_record.stage("wait").state is StageState.RUNNING
        )
    )
    stopped_before = len(stages.STOPPED)
    cancelled_at = time.monotonic()
    runner.cancel()
    run = await asyncio.wait_for(task, timeout=5)
    assert run.state is RunState.CANCELLED
    assert run.stage("after").state is StageState.SKIPPED
    assert run.result[0] == "RunCancelledError"
    await _until(lambda: len(stages.STOPPED) > stopped_before, timeout=5)
    assert stages.STOPPED[-1] - cancelled_at < 2  # the stage saw the flag and returned


async def test_cancelling_the_awaiting_task_marks_the_run_cancelled(thread_executor):
    definition = workflow({"name": "wait", "target": f"{S}.wait_until_cancelled"})
    record = WorkflowRun(workflow="test_workflow")
    task = asyncio.ensure_future(execute_workflow(definition, executor=thread_executor, run=record))
    await _until(lambda: record.stages and record.stage("wait").state is StageState.RUNNING)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert record.state is RunState.CANCELLED
    assert record.stage("wait").state is StageState.CANCELLED


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)
