"""Inputs that went wrong on a cluster in the original, on every executor configuration: stage names
shared between workflows, a stage's own exception, a workflow changed between runs, and a missing
object-store key."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, StageState
from flowdapt.engine.executor import Placement
from flowdapt.engine.task import StageTask, TaskOutcome
from flowdapt.services.compute import ComputeService
from flowdapt.storage.memory import MemoryStorage
from tests.conftest import workflow
from tests.resources import stages

S = "tests.resources.stages"


async def test_stages_sharing_a_name_run_their_own_functions(executor):
    squares = workflow(
        {"name": "step", "target": f"{S}.square", "type": "parameterized", "map_on": "x"},
        name="squares",
    )
    increments = workflow(
        {"name": "step", "target": f"{S}.add_one", "type": "parameterized", "map_on": "x"},
        name="increments",
    )
    first, second = await asyncio.gather(  # at the same time, as two runs of a server
        execute_workflow(squares, {"x": [2, 3]}, executor=executor, return_result=True),
        execute_workflow(increments, {"x": [2, 3]}, executor=executor, return_result=True),
    )
    assert (first, second) == ([4, 9], [3, 4])
    # And one after the other, where a cache keyed by stage name would hand out the first.
    assert await execute_workflow(
        increments, {"x": [5]}, executor=executor, return_result=True
    ) == [6]
    assert await execute_workflow(squares, {"x": [5]}, executor=executor, return_result=True) == [
        25
    ]


async def test_a_raising_stage_reports_its_exception_not_cancelled(executor):
    definition = workflow({"name": "quota", "target": f"{S}.exceed_quota"})
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert run.result == ("QuotaExceededError", "quota of 3 calls exceeded for 'weather-api'")
    assert run.error.stage == "quota" and "exceed_quota" in run.error.traceback
    assert run.stage("quota").state is StageState.FAILED
    with pytest.raises(stages.QuotaExceededError, match="weather-api"):
        await execute_workflow(definition, executor=executor, return_result=True)


async def test_a_failing_item_reports_its_exception_while_its_siblings_are_cancelled(executor):
    """Fail-fast cancels the other items of the fan-out; the run still reports the item's error."""
    definition = workflow(
        {"name": "map", "target": f"{S}.fail_on_three", "type": "parameterized", "map_on": "x",
         "options": {"allow_partial_failure": False}},
        {"name": "after", "target": f"{S}.total", "depends_on": ["map"]},
    )  # fmt: skip
    run = await execute_workflow(definition, {"x": [1, 2, 3, 4, *range(5, 40)]}, executor=executor)
    assert run.state is RunState.FAILED
    assert run.result == ("ValueError", "cannot handle 3")
    assert run.error.stage == "map" and run.error.item == 2
    assert run.stage("map").state is StageState.FAILED
    assert run.stage("after").state is StageState.SKIPPED


class Borrowed:
    """The session's executor lent to a ComputeService, which starts and closes its own executor:
    here those are no-ops, so that the executor outlives the service."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.kind = executor.kind

    @property
    def running(self) -> bool:
        return bool(self.executor.running)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def batch_size(self, item_count: int, placement: Placement) -> int:
        return int(self.executor.batch_size(item_count, placement))

    def submit(self, task: StageTask, placement: Placement) -> asyncio.Future[TaskOutcome]:
        return self.executor.submit(task, placement)  # type: ignore[no-any-return]


async def test_a_workflow_edited_between_runs_runs_its_new_definition(executor):
    storage = MemoryStorage()
    await storage.start()
    before = workflow(
        {"name": "step", "target": f"{S}.add_one", "type": "parameterized", "map_on": "x"},
        name="edited",
    )
    after = workflow(  # same name and stage name; new target, and a stage more
        {"name": "step", "target": f"{S}.square", "type": "parameterized", "map_on": "x"},
        {"name": "sum", "target": f"{S}.total", "depends_on": ["step"]},
        name="edited",
    )
    await storage.workflows.create(WorkflowResource.model_validate(before))
    service = ComputeService(storage, Borrowed(executor))
    await service.start()
    try:
        first = await service.run_workflow("edited", {"x": [1, 2, 3]})
        assert first.state is RunState.FINISHED and first.result == [2, 3, 4]
        await storage.workflows.update(WorkflowResource.model_validate(after))
        second = await service.run_workflow("edited", {"x": [1, 2, 3]})
        assert second.state is RunState.FINISHED and second.result == 1 + 4 + 9
        assert [record.name for record in second.stages] == ["step", "sum"]
        # And back again: nothing of the second definition is left behind.
        await storage.workflows.update(WorkflowResource.model_validate(before))
        third = await service.run_workflow("edited", {"x": [1, 2, 3]})
        assert third.result == [2, 3, 4] and [r.name for r in third.stages] == ["step"]
    finally:
        await service.stop(grace=1)
        await storage.close()
    assert executor.running  # the session's executor was only lent


async def test_a_missing_object_store_key_names_the_key_and_the_namespace(executor):
    definition = workflow({"name": "load", "target": f"{S}.read_missing_object"})
    run = await execute_workflow(
        definition, {"key": "model_never_saved"}, executor=executor, namespace="bad_input_ns"
    )
    assert run.state is RunState.FAILED
    assert run.error.type == "ObjectNotFoundError"
    assert run.error.message == "no object 'model_never_saved' in namespace 'bad_input_ns'"
    with pytest.raises(KeyError, match="model_never_saved"):  # as the original's callers catch it
        await execute_workflow(
            definition,
            {"key": "model_never_saved"},
            executor=executor,
            namespace="bad_input_ns",
            return_result=True,
        )
