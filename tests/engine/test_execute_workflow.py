"""execute_workflow keeps the original's call shape, as plugin test-suites use it."""

from __future__ import annotations

import pytest

from flowdapt.compute.executor.local import LocalExecutor
from flowdapt.compute.resources.workflow.context import get_run_context
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.runs import RunState, WorkflowRun
from tests.conftest import workflow


def first_stage() -> int:
    return 22


def second_stage(first_stage: int) -> str:
    return "Hello from second stage!"


async def test_the_plugin_template_workflow():
    definition = {
        "metadata": {"name": "test_workflow"},
        "spec": {
            "stages": [
                {"name": "first_stage", "target": first_stage},
                {"name": "second_stage", "target": second_stage, "depends_on": ["first_stage"]},
            ]
        },
    }
    assert await execute_workflow(definition, return_result=True) == "Hello from second stage!"


async def test_originals_lambda_examples():
    squares = workflow(
        {"name": "stage1", "target": lambda: list(range(10))},
        {
            "name": "stage2",
            "target": lambda x: x**2,
            "type": "parameterized",
            "depends_on": ["stage1"],
        },
    )
    assert await execute_workflow(squares, return_result=True) == [i**2 for i in range(10)]
    lengths = workflow({"name": "s", "target": lambda test: list(range(len(test)))})
    assert len(await execute_workflow(lengths, {"test": "value"}, return_result=True)) == 5
    mapped = workflow(
        {
            "name": "s",
            "target": lambda x: x * 2,
            "type": "parameterized",
            "options": {"map_on": "x"},
        }
    )
    assert await execute_workflow(mapped, {"x": [1, 2]}, return_result=True) == [2, 4]


async def test_failure_without_return_result_gives_the_failed_run():
    def bad():
        raise ValueError("msg")

    run = await execute_workflow(workflow({"name": "bad", "target": bad}))
    assert isinstance(run, WorkflowRun)
    assert run.state == "failed"
    assert run.result == ("ValueError", "msg")


async def test_session_executor_is_reused_and_left_running(thread_executor):
    def read_config():
        context = get_run_context()
        return context.config["study_identifier"], context.namespace, context.executor

    definition = workflow({"name": "s", "target": read_config})
    for _ in range(2):
        result = await execute_workflow(
            definition,
            executor=thread_executor,
            namespace="testing",
            config={"study_identifier": "abc"},
            return_result=True,
        )
        assert result == ("abc", "testing", "local")
        assert thread_executor.running


async def test_own_executor_is_started_and_closed_per_call():
    executor = LocalExecutor(use_processes=False)
    run = await execute_workflow(workflow({"name": "s", "target": first_stage}), executor=executor)
    assert run.state is RunState.FINISHED
    assert not executor.running


async def test_a_provided_run_record_is_filled_in():
    record = WorkflowRun(workflow="test_workflow", source="my_tests")
    returned = await execute_workflow(workflow({"name": "s", "target": first_stage}), run=record)
    assert returned is record
    assert record.state is RunState.FINISHED and record.result == 22
    assert record.source == "my_tests"


async def test_kind_is_optional_and_other_kinds_are_rejected():
    definition = workflow({"name": "s", "target": first_stage})
    assert await execute_workflow({**definition, "kind": "workflow"}, return_result=True) == 22
    with pytest.raises(ValueError, match="workflow"):
        await execute_workflow({**definition, "kind": "config"})


async def test_submitting_to_a_closed_executor_is_a_clear_error():
    from flowdapt.domain.errors import ExecutorError
    from flowdapt.domain.resources import WorkflowResource
    from flowdapt.domain.runs import WorkflowRun as Run
    from flowdapt.engine.calling import plan_call
    from flowdapt.engine.context import WorkflowRunContext
    from flowdapt.engine.executor import Placement
    from flowdapt.engine.graph import WorkflowGraph
    from flowdapt.engine.task import StageTask

    executor = LocalExecutor(use_processes=False)
    await executor.start()
    await executor.close()
    await executor.close()  # idempotent
    resource = WorkflowResource.model_validate(workflow({"name": "s", "target": first_stage}))
    node = WorkflowGraph.build(resource).nodes["s"]
    context = WorkflowRunContext(executor="local", run=Run(workflow="w"), definition=resource)
    task = StageTask("s", plan_call(first_stage, stage="s"), context)
    with pytest.raises(ExecutorError, match="not started"):
        executor.submit(task, Placement(node.resources, node.options))
