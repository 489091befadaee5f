"""flowdapt.compute.resources.workflow (§6): the run context model, execute_workflow's
validation and run record, and the calling convention plugins rely on — what tests/engine does
not pin yet."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from flowdapt.compute.resources.workflow.context import (
    WorkflowRunContext,
    get_run_context,
    reset_run_context,
    set_run_context,
)
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, WorkflowRun
from tests.conftest import workflow


def resource() -> WorkflowResource:
    return WorkflowResource.model_validate(workflow({"name": "s", "target": "m.f"}, name="wf"))


# -- §6.1 the context --------------------------------------------------------------------------


def test_context_defaults_and_required_fields():
    context = WorkflowRunContext(
        executor="local", run=WorkflowRun(workflow="wf"), definition=resource()
    )
    assert (context.input, context.namespace, context.config) == ({}, "default", {})
    assert context.definition.metadata.name == "wf"
    for missing in ("executor", "run", "definition"):
        fields: dict[str, Any] = {
            "executor": "local",
            "run": WorkflowRun(workflow="wf"),
            "definition": resource(),
        }
        del fields[missing]
        with pytest.raises(ValidationError, match=missing):
            WorkflowRunContext(**fields)


def test_reset_restores_the_previous_context():
    outer = WorkflowRunContext(
        executor="local", run=WorkflowRun(workflow="wf"), definition=resource()
    )
    inner = outer.model_copy(update={"namespace": "inner"})
    first = set_run_context(outer)
    second = set_run_context(inner)
    assert get_run_context() is inner
    reset_run_context(second)
    assert get_run_context() is outer
    reset_run_context(first)
    with pytest.raises(RuntimeError, match="No active WorkflowRunContext"):
        get_run_context()


def context_seen() -> dict[str, Any]:
    context = get_run_context()
    seen = {
        "state": context.run.state,
        "result": context.run.result,
        "uid": context.run.uid,
        "input": context.input,
        "study": context.config["study_identifier"],
    }
    context.run.source = "changed by the stage"  # a copy: the run record keeps its own
    return seen


async def test_in_a_stage_the_run_is_a_copy_as_it_was_at_the_start(thread_executor):
    definition = workflow({"name": "seen", "target": context_seen})
    run = await execute_workflow(
        definition,
        {"city": "Oslo"},
        executor=thread_executor,
        config={"study_identifier": "abc"},
    )
    assert run.state is RunState.FINISHED
    assert run.result == {
        "state": RunState.RUNNING,
        "result": None,
        "uid": run.uid,
        "input": {"city": "Oslo"},
        "study": "abc",
    }
    assert run.source == "manual"


def touch_definition() -> None:
    get_run_context().definition.metadata.annotations["touched"] = "by the stage"


async def test_the_definition_a_stage_sees_is_a_copy(thread_executor):
    definition = WorkflowResource.model_validate(
        {**workflow({"name": "touch", "target": touch_definition}), "kind": "workflow"}
    )
    await execute_workflow(definition, executor=thread_executor, return_result=True)
    assert definition.metadata.annotations == {}


# -- §6.2 execute_workflow ---------------------------------------------------------------------


def first_stage() -> int:
    return 22


async def test_the_run_record_of_a_manual_run(thread_executor):
    run = await execute_workflow(
        workflow({"name": "s", "target": first_stage}, name="plain"), executor=thread_executor
    )
    assert isinstance(run.uid, uuid.UUID) and run.uid.version == 4
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+-[0-9a-f]{8}", run.name), run.name
    assert (run.workflow, run.source, run.state, run.result) == ("plain", "manual", "finished", 22)
    assert run.finished_at is not None and run.started_at <= run.finished_at


INVALID = {
    "no-metadata-name": (
        {"metadata": {}, "spec": {"stages": [{"name": "s", "target": "m.f"}]}},
        r"metadata\.name: Field required",
    ),
    "bad-name": (workflow({"name": "s", "target": "m.f"}, name="bad name!"), "'bad name!'"),
    "no-stages": ({"metadata": {"name": "w"}, "spec": {"stages": []}}, "at least 1 item"),
    "no-spec": ({"metadata": {"name": "w"}}, "spec: Field required"),
    "stage-without-target": (workflow({"name": "s"}), r"stages\[0\]\.target: Field required"),
    "unknown-type": (
        workflow({"name": "s", "target": "m.f", "type": "fancy"}),
        "unknown stage type 'fancy'",
    ),
}


@pytest.mark.parametrize("return_result", [False, True])
@pytest.mark.parametrize(("definition", "problem"), INVALID.values(), ids=INVALID.keys())
async def test_invalid_definitions_raise_whatever_return_result_is(
    thread_executor, definition, problem, return_result
):
    # pydantic's ValidationError in the original; both are ValueErrors.
    with pytest.raises(ValueError, match=problem):
        await execute_workflow(definition, executor=thread_executor, return_result=return_result)


async def test_a_stage_without_a_name_is_named_after_its_function(thread_executor):
    run = await execute_workflow(workflow({"target": first_stage}), executor=thread_executor)
    assert [stage.name for stage in run.stages] == ["first_stage"]
    assert run.result == 22


# -- §6.3 the calling convention ---------------------------------------------------------------


def city_list(city: str = "none given") -> list[str]:
    return [city]


def dependent(cities: list[str], city: str = "not from the input") -> tuple[list[str], str]:
    return cities, city


def get_unique_city_iterable(*args: Any) -> list[Any]:
    return list(args)  # N's stage: *args, because it depends on a previous stage


async def test_a_dependent_stage_gets_results_positionally_and_no_input(thread_executor):
    definition = workflow(
        {"name": "cities", "target": city_list},
        {"name": "dependent", "target": dependent, "depends_on": ["cities"]},
        {"name": "unique", "target": get_unique_city_iterable,
         "depends_on": ["dependent", "cities"]},
    )  # fmt: skip
    result = await execute_workflow(
        definition, {"city": "Oslo"}, executor=thread_executor, return_result=True
    )
    assert result == [(["Oslo"], "not from the input"), ["Oslo"]]


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"cannot handle {x}")
    return x


async def test_a_parameterized_stage_drops_failing_items_by_default(thread_executor, caplog):
    definition = workflow(
        {"name": "picky", "target": fail_on_three, "type": "parameterized",
         "options": {"map_on": "x"}},
    )  # fmt: skip
    run = await execute_workflow(definition, {"x": [1, 3, 5]}, executor=thread_executor)
    assert run.state is RunState.FINISHED and run.result == [1, 5]
    assert run.stage("picky").items_failed == 1  # dropped, but not silently (§6.2's fix):
    assert "dropped 1 of 3 items" in caplog.text and "cannot handle 3" in caplog.text
