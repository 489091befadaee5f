"""Stage code that misbehaves in ways that used to escape: the run settles, the caller lives."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from flowdapt.compute.executor.local import LocalExecutor
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.runs import RunState, StageState, WorkflowRun
from tests.conftest import workflow

S = "tests.resources.stages"


def exits():
    sys.exit(3)


def interrupts():
    raise KeyboardInterrupt


def raises_cancelled():
    raise asyncio.CancelledError


@pytest.mark.parametrize(
    ("target", "error_type"),
    [
        (exits, "SystemExit"),
        (interrupts, "KeyboardInterrupt"),
        (raises_cancelled, "CancelledError"),
    ],
    ids=["sys.exit", "KeyboardInterrupt", "CancelledError"],
)
async def test_base_exceptions_from_stages_fail_the_run_only(executor, target, error_type):
    run = await asyncio.wait_for(
        execute_workflow(workflow({"name": "bad", "target": target}), executor=executor), 30
    )
    assert run.state is RunState.FAILED
    assert run.error.type == error_type and run.error.stage == "bad"


async def test_cancelled_error_inside_an_async_fan_out_fails_the_item(thread_executor):
    async def item(x):
        if x == 2:
            raise asyncio.CancelledError
        return x

    definition = workflow(
        {"name": "m", "target": item, "type": "parameterized", "map_on": "x",
         "options": {"allow_partial_failure": False}}
    )  # fmt: skip
    run = await asyncio.wait_for(
        execute_workflow(definition, {"x": [1, 2, 3]}, executor=thread_executor), 10
    )
    assert run.state is RunState.FAILED
    assert run.error.item == 1


async def test_closing_the_executor_mid_run_fails_the_run_instead_of_dropping_items():
    executor = LocalExecutor(use_processes=False, threads=1)
    await executor.start()

    def slow(x):
        time.sleep(0.2)
        return x * 10

    definition = workflow(
        {
            "name": "m",
            "target": slow,
            "type": "parameterized",
            "map_on": "x",
            "options": {"batch_size": 1},
        }
    )
    task = asyncio.ensure_future(
        execute_workflow(definition, {"x": [1, 2, 3, 4]}, executor=executor)
    )
    await asyncio.sleep(0.05)
    await executor.close()
    run = await asyncio.wait_for(task, 10)
    assert run.state is RunState.FAILED
    assert "cancelled by the executor" in run.error.message


class NeedsTwoArgs(Exception):
    def __init__(self, code, city):
        super().__init__(f"{code} for {city}")


def fails_with_unrebuildable(x):
    if x == 3:
        raise NeedsTwoArgs(500, "Oslo")
    return x * 10


async def test_an_exception_that_cannot_be_rebuilt_keeps_the_batchs_other_results(
    process_executor,
):
    definition = workflow(
        {
            "name": "m",
            "target": fails_with_unrebuildable,
            "type": "parameterized",
            "map_on": "x",
            "options": {"allow_partial_failure": True, "batch_size": 8},
        },
    )
    run = await execute_workflow(definition, {"x": list(range(8))}, executor=process_executor)
    assert run.state is RunState.FINISHED
    assert run.result == [0, 10, 20, 40, 50, 60, 70]
    assert run.stage("m").items_failed == 1
    strict = workflow(
        {
            "name": "m",
            "target": fails_with_unrebuildable,
            "type": "parameterized",
            "map_on": "x",
            "options": {"batch_size": 8, "allow_partial_failure": False},
        }
    )
    run = await execute_workflow(strict, {"x": list(range(8))}, executor=process_executor)
    assert run.error.type == "NeedsTwoArgs" and run.error.item == 3
    assert "500 for Oslo" in run.error.message


async def test_a_timeout_stops_the_attempts_thread_work(thread_executor):
    calls = []

    def slow(x):
        calls.append(x)
        time.sleep(0.1)
        return x

    definition = workflow(
        {
            "name": "m",
            "target": slow,
            "type": "parameterized",
            "map_on": "x",
            "options": {"batch_size": 20, "timeout": 0.3},
        }
    )
    run = await execute_workflow(definition, {"x": list(range(20))}, executor=thread_executor)
    assert run.state is RunState.FAILED and run.error.type == "StageTimeoutError"
    await asyncio.sleep(0.5)
    assert len(calls) < 8  # the batch stopped between items instead of running all 20


async def test_timeout_then_retry_succeeds(thread_executor):
    attempts = []

    def sometimes_slow():
        attempts.append(1)
        if len(attempts) == 1:
            time.sleep(1.0)
        return "done"

    definition = workflow(
        {
            "name": "s",
            "target": sometimes_slow,
            "options": {"timeout": 0.2, "retries": 1, "retry_delay": 0},
        }
    )
    run = await execute_workflow(definition, executor=thread_executor)
    assert run.state is RunState.FINISHED and run.result == "done"
    assert run.stage("s").attempts == 2


async def test_partial_failure_with_retries_counts_each_item_once(thread_executor):
    seen: dict[int, int] = {}

    def flaky(x):
        seen[x] = seen.get(x, 0) + 1
        if x % 4 == 0 or (x % 4 == 1 and seen[x] == 1):
            raise ValueError(x)  # multiples of 4 always fail; x % 4 == 1 fail once
        return x

    definition = workflow(
        {
            "name": "m",
            "target": flaky,
            "type": "parameterized",
            "map_on": "x",
            "options": {"retries": 2, "retry_delay": 0, "allow_partial_failure": True},
        }
    )
    run = await execute_workflow(definition, {"x": list(range(12))}, executor=thread_executor)
    record = run.stage("m")
    assert run.result == [x for x in range(12) if x % 4]
    assert (record.items_total, record.items_done, record.items_failed) == (12, 9, 3)
    assert record.attempts == 3


async def test_double_cancellation_still_settles_the_record(thread_executor):
    record = WorkflowRun(workflow="test_workflow")
    definition = workflow({"name": "w", "target": f"{S}.wait_until_cancelled"})
    task = asyncio.ensure_future(execute_workflow(definition, executor=thread_executor, run=record))
    for _ in range(1000):
        if record.stages and record.stage("w").state is StageState.RUNNING:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert record.state is RunState.CANCELLED
    assert record.finished_at is not None


async def test_long_chain_of_empty_fan_outs_does_not_recurse(thread_executor):
    stages = [{"name": "s0", "target": lambda: []}]
    stages += [
        {
            "name": f"s{i}",
            "target": lambda x: x,
            "type": "parameterized",
            "depends_on": [f"s{i - 1}"],
        }
        for i in range(1, 300)
    ]
    run = await execute_workflow(workflow(*stages), executor=thread_executor)
    assert run.state is RunState.FINISHED and run.result == []
    assert all(record.state is StageState.FINISHED for record in run.stages)


async def test_per_item_callables_returning_coroutines_are_awaited(thread_executor):
    async def fetch(x):
        await asyncio.sleep(0)
        return x + 1

    definition = workflow(
        {"name": "m", "target": lambda x: fetch(x), "type": "parameterized", "map_on": "x"}
    )
    result = await execute_workflow(
        definition, {"x": [1, 2]}, executor=thread_executor, return_result=True
    )
    assert result == [2, 3]


async def test_cancel_after_the_run_finished_keeps_it_finished(thread_executor):
    from flowdapt.domain.resources import WorkflowResource
    from flowdapt.engine.graph import WorkflowGraph
    from flowdapt.engine.runner import WorkflowRunner

    resource = WorkflowResource.model_validate(workflow({"name": "s", "target": lambda: 1}))
    runner = WorkflowRunner(
        WorkflowGraph.build(resource), thread_executor, WorkflowRun(workflow=resource.name)
    )
    run = await runner.run()
    runner.cancel()
    assert run.state is RunState.FINISHED and run.result == 1
