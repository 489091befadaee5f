"""Failing user code fails the run with a clear record; nothing crashes, nothing is dropped."""

from __future__ import annotations

import pytest

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.runs import RunState, StageState
from tests.conftest import on, workflow

S = "tests.resources.stages"


async def test_failing_branch_fails_the_run_naming_the_stage(executor):
    definition = workflow(
        {"name": "good", "target": f"{S}.make_list"},
        {"name": "bad", "target": f"{S}.fail"},
        {"name": "join", "target": f"{S}.pair", "depends_on": ["good", "bad"]},
    )
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert run.result == ("ValueError", "boom from stage")
    assert run.error is not None and run.error.stage == "bad"
    assert "raise ValueError" in run.error.traceback and "stages.py" in run.error.traceback
    assert run.stage("bad").state is StageState.FAILED
    assert run.stage("join").state is StageState.SKIPPED


async def test_return_result_raises_the_stages_own_exception(executor):
    definition = workflow({"name": "bad", "target": f"{S}.fail"})
    with pytest.raises(ValueError, match="boom from stage"):
        await execute_workflow(definition, executor=executor, return_result=True)


async def test_failed_item_fails_the_stage_naming_the_item(executor):
    definition = workflow(
        {"name": "make", "target": f"{S}.make_list"},
        {
            "name": "picky",
            "target": f"{S}.fail_on_three",
            "type": "parameterized",
            "depends_on": ["make"],
            "options": {"allow_partial_failure": False},
        },
    )
    run = await execute_workflow(definition, {"n": 6}, executor=executor)
    assert run.state is RunState.FAILED
    assert run.error.stage == "picky" and run.error.item == 3
    assert run.result == ("ValueError", "cannot handle 3")
    assert run.stage("picky").items_failed == 1


async def test_allow_partial_failure_drops_failed_items_and_counts_them(executor, caplog):
    definition = workflow(
        {
            "name": "picky",
            "target": f"{S}.fail_on_three",
            "type": "parameterized",
            "map_on": "x",
            "options": {"allow_partial_failure": True},
        },
    )
    run = await execute_workflow(definition, {"x": [1, 3, 5, 3]}, executor=executor)
    assert run.state is RunState.FINISHED
    assert run.result == [1, 5]
    assert run.stage("picky").items_failed == 2
    assert "dropped 2 of 4 items" in caplog.text


# Thread stages hand their results over in memory: only the others have anything to send back.
@on("processes", "dask", "ray")
async def test_a_result_that_cannot_be_sent_back_fails_the_stage(executor):
    lock = workflow({"name": "lock", "target": f"{S}.return_lock"})
    run = await execute_workflow(lock, executor=executor)
    assert run.state is RunState.FAILED
    assert run.result[0] == "TypeError"
    assert "cannot be sent back" in run.result[1]


async def test_unimportable_target_fails_the_run_not_validation(executor):
    definition = workflow({"name": "ghost", "target": "tests.resources.nowhere.stage"})
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert run.error.type == "ModuleNotFoundError"
    assert "tests.resources.nowhere.stage" in run.error.message


async def test_module_raising_on_import_fails_the_run_clearly(executor):
    definition = workflow({"name": "broken", "target": "tests.resources.broken_import.stage"})
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert "broken on purpose" in run.error.message


async def test_missing_required_argument_is_a_clear_stage_error(executor):
    definition = workflow({"name": "needs_x", "target": f"{S}.add_one"})
    run = await execute_workflow(definition, {"y": 1}, executor=executor)
    assert run.state is RunState.FAILED
    assert run.error.type == "StageCallError"
    assert "Invalid arguments provided" in run.error.message
    assert "needs_x" in run.error.message and "'x'" in run.error.message


async def test_map_on_key_missing_from_input(executor):
    definition = workflow(
        {"name": "inc", "target": f"{S}.add_one", "type": "parameterized", "map_on": "cities"}
    )
    run = await execute_workflow(definition, {"towns": [1]}, executor=executor)
    assert run.state is RunState.FAILED
    assert "cities" in run.error.message and "towns" in run.error.message


async def test_mapping_over_a_non_iterable(executor):
    definition = workflow(
        {"name": "one", "target": f"{S}.async_root"},
        {"name": "inc", "target": f"{S}.add_one", "type": "parameterized", "depends_on": ["one"]},
    )
    run = await execute_workflow(definition, executor=executor)
    assert run.state is RunState.FAILED
    assert "not an iterable" in run.error.message and "'one'" in run.error.message


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (
            [
                {"name": "a", "target": "m.f", "depends_on": ["b"]},
                {"name": "b", "target": "m.f", "depends_on": ["a"]},
            ],
            "cycle",
        ),
        ([{"name": "a", "target": "m.f", "depends_on": ["nope"]}], "unknown stage 'nope'"),
        ([{"name": "a", "target": "m.f", "type": "fancy"}], "unknown stage type 'fancy'"),
    ],
    ids=["cycle", "unknown-dependency", "unknown-type"],
)
async def test_invalid_definitions_raise_before_anything_runs(thread_executor, stages, expected):
    with pytest.raises(InvalidResourceError, match=expected):
        await execute_workflow(workflow(*stages), executor=thread_executor)
    with pytest.raises(InvalidResourceError, match=expected):
        await execute_workflow(workflow(*stages), executor=thread_executor, return_result=True)
