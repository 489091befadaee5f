"""On Dask and Ray, a stage value that only feeds later stages stays on the cluster: it goes from
worker to worker and never through the driver (the server's process)."""

from __future__ import annotations

import os
from pathlib import Path

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState
from flowdapt.engine.graph import WorkflowGraph
from tests.conftest import on, workflow

T = "tests.resources.travel_stages"


def _unpickled_in(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


@on("dask", "ray")
async def test_a_value_passed_on_never_comes_through_the_driver(executor, tmp_path):
    log = tmp_path / "unpickled"
    definition = workflow(
        {"name": "make", "target": f"{T}.make_traveller"},
        {"name": "measure", "target": f"{T}.measure", "depends_on": ["make"]},
    )
    size = await execute_workflow(
        definition, {"log": str(log)}, executor=executor, return_result=True
    )
    assert size == 100_000
    assert os.getpid() not in _unpickled_in(log)


@on("dask", "ray")
async def test_a_kept_value_reaches_every_item_of_a_fan_out_and_two_stages(executor, tmp_path):
    log = tmp_path / "unpickled"
    definition = workflow(
        {"name": "make", "target": f"{T}.make_traveller"},
        {"name": "spread", "target": f"{T}.add_size", "type": "parameterized", "map_on": "x",
         "depends_on": ["make"]},
        {"name": "measure", "target": f"{T}.measure", "depends_on": ["make"]},
        {"name": "sum", "target": f"{T}.both", "depends_on": ["make", "make2"]},
        {"name": "make2", "target": f"{T}.make_traveller"},
    )  # fmt: skip
    result = await execute_workflow(
        definition, {"log": str(log), "x": [1, 2, 3]}, executor=executor, return_result=True
    )
    assert result == {
        "spread": [100_001, 100_002, 100_003],
        "measure": 100_000,
        "sum": 200_000,
    }
    assert os.getpid() not in _unpickled_in(log)


@on("dask", "ray")
async def test_the_runs_result_still_comes_back_to_the_driver(executor, tmp_path):
    """The control: a sink's value is unpickled here, so the tests above would see a leak."""
    log = tmp_path / "unpickled"
    definition = workflow({"name": "make", "target": f"{T}.make_traveller"})
    value = await execute_workflow(
        definition, {"log": str(log), "size": 10}, executor=executor, return_result=True
    )
    assert value.payload == b"x" * 10
    assert os.getpid() in _unpickled_in(log)


@on("dask", "ray")
async def test_a_kept_value_that_cannot_be_sent_fails_its_stage_clearly(executor):
    definition = workflow(
        {"name": "lock", "target": f"{T}.a_lock"},
        {"name": "use", "target": f"{T}.unlocked", "depends_on": ["lock"]},
    )
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert run.error.stage == "lock"
    assert "returned a lock that cannot be sent back" in run.error.message


def test_only_values_that_are_call_arguments_stay_on_the_cluster():
    definition = workflow(
        {"name": "items", "target": "builtins.list"},
        {"name": "fan", "target": "builtins.str", "type": "parameterized", "depends_on": ["items"]},
        {"name": "model", "target": "builtins.dict"},
        {"name": "use", "target": "builtins.str", "type": "parameterized", "map_on": "x",
         "depends_on": ["model"]},
        {"name": "fan_result", "target": "builtins.len", "depends_on": ["fan"]},
    )  # fmt: skip
    graph = WorkflowGraph.build(WorkflowResource.model_validate(definition))
    # items: a fan-out maps over it; fan: a fan-out's items come back one by one; sinks: the
    # run's result. Only the model, an argument of every item of `use`, stays.
    assert graph.passed_on == frozenset({"model"})
