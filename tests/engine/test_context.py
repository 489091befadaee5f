"""get_run_context() in stages and what they call, on every executor configuration."""

from __future__ import annotations

import os

import pytest

from flowdapt.compute.resources.workflow.context import get_run_context
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.engine.context import ConfigData
from tests.conftest import workflow

S = "tests.resources.stages"


def test_outside_a_stage_there_is_no_context():
    with pytest.raises(RuntimeError, match="No active WorkflowRunContext"):
        get_run_context()


async def test_context_reports_the_run_in_every_worker(executor):
    definition = workflow(
        {"name": "root", "target": f"{S}.context_snapshot"},
        {
            "name": "mapped",
            "target": f"{S}.context_snapshot",
            "type": "parameterized",
            "map_on": "items",
        },
        name="ctx_flow",
    )
    run = await execute_workflow(
        definition,
        {"items": [1, 2], "city": "Oslo"},
        executor=executor,
        namespace="weather",
        config={"api": {"key": "k"}},
    )
    root, mapped = run.result["root"], run.result["mapped"]
    for seen in [root, *mapped]:
        assert seen["input"] == {"items": [1, 2], "city": "Oslo"}
        assert seen["namespace"] == "weather"
        assert seen["executor"] == executor.kind
        assert seen["workflow"] == "ctx_flow"
        assert seen["run"] == run.name
        assert seen["config"] == {"api": {"key": "k"}}
    assert root["stage"] == "root" and mapped[0]["stage"] == "mapped"
    # Only LocalExecutor threads run the stage in this very process.
    elsewhere = executor.kind != "local" or executor.use_processes
    assert (root["pid"] != os.getpid()) is elsewhere


async def test_context_reaches_helpers_the_stage_calls(executor):
    definition = workflow({"name": "helper", "target": f"{S}.calls_a_helper"})
    result = await execute_workflow(
        definition, executor=executor, namespace="deep", return_result=True
    )
    assert result == "deep"


def test_context_is_set_for_the_task_and_gone_after_it():
    from flowdapt.domain.resources import WorkflowResource
    from flowdapt.domain.runs import WorkflowRun
    from flowdapt.engine.calling import plan_call
    from flowdapt.engine.context import WorkflowRunContext
    from flowdapt.engine.task import StageTask

    resource = WorkflowResource.model_validate(workflow({"name": "s", "target": "m.f"}))
    context = WorkflowRunContext(
        executor="local", run=WorkflowRun(workflow="w"), definition=resource, namespace="inner"
    )
    seen = []
    task = StageTask(
        "s", plan_call(lambda: seen.append(get_run_context().stage), stage="s"), context
    )
    outcome = task()  # in this very thread
    assert outcome.failures == [] and seen == ["s"]
    with pytest.raises(RuntimeError):
        get_run_context()


def test_config_allows_dict_and_attribute_access():
    config = ConfigData({"input": {"a": 1}, "study": "x"})
    assert config["study"] == "x" and config.study == "x"
    assert config.input == {"a": 1}
    with pytest.raises(AttributeError):
        _ = config.missing
