"""Run semantics of SPEC §2, on every executor configuration: LocalExecutor threads and processes,
DaskExecutor and RayExecutor (the session's instances, see tests/conftest.py)."""

from __future__ import annotations

import pytest

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.runs import RunState, StageState
from tests.conftest import workflow
from tests.resources import stages

S = "tests.resources.stages"


async def test_input_goes_to_root_stages_filtered_by_signature(executor):
    definition = workflow({"name": "make", "target": f"{S}.make_list"})
    result = await execute_workflow(
        definition, {"n": 3, "unused": "dropped"}, executor=executor, return_result=True
    )
    assert result == [0, 1, 2]


async def test_dependency_results_arrive_positionally_in_depends_on_order(executor):
    definition = workflow(
        {"name": "three", "target": f"{S}.make_list", "options": {}},
        {"name": "five", "target": f"{S}.async_root"},
        {"name": "pair", "target": f"{S}.pair", "depends_on": ["five", "three"]},
    )
    result = await execute_workflow(
        definition, {"n": 3, "value": 5}, executor=executor, return_result=True
    )
    assert result == (5, [0, 1, 2])


async def test_parameterized_stage_maps_over_dependency_and_keeps_order(executor):
    definition = workflow(
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "sq", "target": f"{S}.square", "type": "parameterized", "depends_on": ["make"]},
        {"name": "sum", "target": f"{S}.total", "depends_on": ["sq"]},
    )
    run = await execute_workflow(definition, {"n": 1000}, executor=executor)
    assert run.state is RunState.FINISHED
    assert run.result == sum(i * i for i in range(1000))
    sq = run.stage("sq")
    assert (sq.items_total, sq.items_done, sq.items_failed) == (1000, 1000, 0)


async def test_map_on_takes_items_from_the_input(executor):
    definition = workflow(
        {"name": "inc", "target": f"{S}.add_one", "type": "parameterized", "map_on": "x"}
    )
    result = await execute_workflow(
        definition, {"x": [5, 1, 9]}, executor=executor, return_result=True
    )
    assert result == [6, 2, 10]


async def test_async_stages_are_awaited(executor):
    definition = workflow(
        {"name": "root", "target": f"{S}.async_root"},
        {"name": "make", "target": f"{S}.make_list"},
        {
            "name": "double",
            "target": f"{S}.async_double",
            "type": "parameterized",
            "depends_on": ["make"],
        },
        {"name": "both", "target": f"{S}.pair", "depends_on": ["root", "double"]},
    )
    result = await execute_workflow(
        definition, {"value": 7, "n": 4}, executor=executor, return_result=True
    )
    assert result == (7, [0, 2, 4, 6])


async def test_several_sinks_give_a_mapping_in_declaration_order(executor):
    definition = workflow(
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "sum", "target": f"{S}.total", "depends_on": ["make"]},
        {"name": "first_sink", "target": f"{S}.async_root"},
    )
    result = await execute_workflow(
        definition, {"n": 4, "value": 3}, executor=executor, return_result=True
    )
    assert result == {"sum": 6, "first_sink": 3}
    assert list(result) == ["sum", "first_sink"]


async def test_parallel_branches_overlap_in_time(executor):
    definition = workflow(
        {"name": "a", "target": f"{S}.record_time"},
        {"name": "b", "target": f"{S}.record_time"},
        {"name": "join", "target": f"{S}.pair", "depends_on": ["a", "b"]},
    )
    (a_start, a_end), (b_start, b_end) = await execute_workflow(
        definition, executor=executor, return_result=True
    )
    # Every configuration has two workers; monotonic clocks of one machine compare across them.
    assert a_start < b_end and b_start < a_end  # the two 0.2 s stages ran at the same time


async def test_run_and_stage_records_carry_states_and_times(executor):
    definition = workflow(
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "sum", "target": f"{S}.total", "depends_on": ["make"]},
    )
    run = await execute_workflow(definition, {"n": 3}, executor=executor)
    assert run.workflow == "test_workflow"
    assert run.source == "manual"
    assert run.finished_at is not None and run.finished_at >= run.started_at
    for record in run.stages:
        assert record.state is StageState.FINISHED
        assert record.attempts == 1
        assert record.duration is not None and record.duration >= 0
    assert run.stage("make").finished_at <= run.stage("sum").started_at


@pytest.mark.parametrize("n", [0, 1, 7])
async def test_fan_out_of_any_size(executor, n):
    definition = workflow(
        {"name": "inc", "target": f"{S}.add_one", "type": "parameterized", "map_on": "x"},
    )
    result = await execute_workflow(
        definition, {"x": list(range(n))}, executor=executor, return_result=True
    )
    assert result == [i + 1 for i in range(n)]


async def test_lambdas_and_closures_run_on_every_executor(executor):
    offset = 10
    definition = workflow(
        {"name": "make", "target": lambda: [1, 2, 3]},
        {
            "name": "shift",
            "target": lambda x: x + offset,
            "type": "parameterized",
            "depends_on": ["make"],
        },
    )
    assert await execute_workflow(definition, executor=executor, return_result=True) == [
        11,
        12,
        13,
    ]


async def test_user_batch_size_is_respected(executor):
    definition = workflow(
        {
            "name": "where",
            "target": stages.worker_identity,
            "type": "parameterized",
            "map_on": "x",
            "options": {"batch_size": 50},
        },
    )
    result = await execute_workflow(
        definition, {"x": list(range(100))}, executor=executor, return_result=True
    )
    assert len(result) == 100
    # The items of one batch run in one task: one process and one thread for each half.
    assert len(set(result[:50])) == 1
    assert len(set(result[50:])) == 1
    uneven = workflow(
        {
            "name": "where",
            "target": stages.worker_identity,
            "type": "parameterized",
            "map_on": "x",
            "options": {"batch_size": 1},
        },
    )
    spread = await execute_workflow(
        uneven, {"x": list(range(40))}, executor=executor, return_result=True
    )
    assert len(set(spread)) > 1  # one task per item does spread over workers
