"""What can only go wrong across a process boundary fails clearly instead of hanging."""

from __future__ import annotations

import asyncio
import os
import threading

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.runs import RunState
from tests.conftest import workflow

S = "tests.resources.stages"


async def test_unpicklable_return_value_is_a_clear_error_not_a_hang(process_executor):
    definition = workflow({"name": "lock", "target": f"{S}.return_lock"})
    run = await asyncio.wait_for(execute_workflow(definition, executor=process_executor), 30)
    assert run.state is RunState.FAILED
    assert run.error.stage == "lock"
    assert "cannot be sent back from the worker process" in run.error.message
    assert "lock" in run.error.message


async def test_unpicklable_item_result_names_the_item(process_executor):
    definition = workflow(
        {
            "name": "locks",
            "target": lambda x: threading.Lock() if x == 2 else x,
            "type": "parameterized",
            "map_on": "x",
            "options": {"allow_partial_failure": False},
        },
    )
    run = await execute_workflow(definition, {"x": [0, 1, 2, 3]}, executor=process_executor)
    assert run.state is RunState.FAILED
    assert run.error.item == 2


async def test_unpicklable_argument_cannot_be_sent(process_executor):
    definition = workflow(
        {"name": "lock", "target": f"{S}.return_lock", "options": {"pool": "thread"}},
        {"name": "use", "target": f"{S}.pid", "depends_on": ["lock"]},
    )
    run = await execute_workflow(definition, executor=process_executor)
    assert run.state is RunState.FAILED
    assert run.error.stage == "use"
    assert "cannot be sent to a worker process" in run.error.message


async def test_a_worker_that_dies_fails_the_stage_and_the_pool_recovers(process_executor):
    run = await execute_workflow(
        workflow({"name": "crash", "target": f"{S}.crash_process"}), executor=process_executor
    )
    assert run.state is RunState.FAILED
    assert "worker process died" in run.error.message and "exit code 3" in run.error.message
    pid = await execute_workflow(
        workflow({"name": "pid", "target": f"{S}.pid"}),
        executor=process_executor,
        return_result=True,
    )
    assert pid != os.getpid()


async def test_stages_choose_their_pool(thread_executor):
    definition = workflow(
        {"name": "in_thread", "target": f"{S}.pid"},
        {"name": "in_process", "target": f"{S}.pid", "options": {"pool": "process"}},
        {"name": "both", "target": f"{S}.pair", "depends_on": ["in_thread", "in_process"]},
    )
    in_thread, in_process = await execute_workflow(
        definition, executor=thread_executor, return_result=True
    )
    assert in_thread == os.getpid()
    assert in_process != os.getpid()
