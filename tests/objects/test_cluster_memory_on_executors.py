"""Cluster memory on every executor: LocalExecutor threads and worker processes, Dask (values
published on the scheduler) and Ray (a named actor holding object refs), each on the session's
real engine; and the server's storage settings reaching the stages in the run's context."""

from __future__ import annotations

import uuid

import pytest

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import WorkflowRunner
from tests.conftest import workflow

M = "tests.resources.memory_stages"


def _key() -> str:
    return f"key_{uuid.uuid4().hex[:8]}"


async def test_a_value_put_in_one_stage_is_read_by_every_worker_of_the_next(executor):
    key, weights = _key(), [10, 20, 30, 40, 50, 60, 70, 80]
    definition = workflow(
        {"name": "put", "target": f"{M}.put_weights"},
        {"name": "items", "target": f"{M}.weights_for_items"},
        {"name": "read", "target": f"{M}.read_weight", "type": "parameterized",
         "depends_on": ["items", "put"]},
    )  # fmt: skip
    run = await execute_workflow(definition, {"key": key, "weights": weights}, executor=executor)
    assert run.state is RunState.FINISHED, run.result
    assert [weight for weight, _pid in run.result] == weights


async def test_values_outlive_the_run_and_are_scoped_by_namespace(executor):
    key = _key()
    put = workflow({"name": "put", "target": f"{M}.put_weights"}, name="put")
    read = workflow({"name": "read", "target": f"{M}.read_all"}, name="read")
    seen = workflow({"name": "seen", "target": f"{M}.exists"}, name="seen")
    inputs = {"key": key, "weights": [1, 2]}
    await execute_workflow(put, inputs, namespace="team_a", executor=executor)
    # A later run on the same executor reads it; a run in another namespace does not see it.
    value = await execute_workflow(
        read, {"key": key}, namespace="team_a", executor=executor, return_result=True
    )
    assert value["weights"] == [1, 2]
    assert not await execute_workflow(
        seen, {"key": key}, namespace="team_b", executor=executor, return_result=True
    )
    missing = await execute_workflow(read, {"key": key}, namespace="team_b", executor=executor)
    assert missing.state is RunState.FAILED
    assert missing.result == ("KeyError", repr(key))  # the key, as the original's KeyError
    delete = workflow({"name": "delete", "target": f"{M}.delete"}, name="delete")
    assert await execute_workflow(
        delete, {"key": key}, namespace="team_a", executor=executor, return_result=True
    ) == "OK"  # fmt: skip
    assert not await execute_workflow(
        seen, {"key": key}, namespace="team_a", executor=executor, return_result=True
    )


def _runner(definition, executor, settings, input):
    resource = WorkflowResource.model_validate({**definition, "kind": "workflow"})
    return WorkflowRunner(
        WorkflowGraph.build(resource),
        executor,
        WorkflowRun(workflow=resource.name),
        input=input,
        settings=settings,
    )


def _settings(base_path: str, max_size: int | None) -> dict:
    return {
        "storage": {"protocol": "file", "base_path": base_path, "parameters": {}},
        "services": {
            "compute": {"default_os_strategy": "fallback", "cluster_memory_max_size": max_size}
        },
    }


async def test_a_value_over_the_size_limit_goes_to_artifacts(executor, tmp_path):
    small, big = _key(), _key()
    inputs = {"small": small, "big": big, "size": 5000}
    definition = workflow(
        {"name": "store", "target": f"{M}.store_values"},
        {"name": "where", "target": f"{M}.where_they_are", "depends_on": ["store"]},
    )
    # The limit is the server's config, carried to the workers in the run's context.
    runner = _runner(definition, executor, _settings(str(tmp_path), 1000), inputs)
    await runner.run()
    run = runner.run_record
    assert run.state is RunState.FINISHED, run.result
    assert run.result == {
        "small_in_memory": True,
        "big_in_memory": False,
        "big_in_artifacts": True,
        "big_read": 5000,
        "small_read": 10,
    }
    assert (tmp_path / "artifacts" / "default" / big / ".artifact.json").exists()


async def test_over_the_limit_with_cluster_memory_only_is_a_clear_error(executor, tmp_path):
    definition = workflow({"name": "put", "target": f"{M}.too_big_for_cluster_memory_only"})
    runner = _runner(definition, executor, _settings(str(tmp_path), 1000), {"size": 5000})
    await runner.run()
    error_type, message = runner.run_record.result
    assert error_type == "ClusterMemoryValueTooLargeError"
    assert "'too_big'" in message and "cluster_memory_max_size: 1000 bytes" in message


async def test_the_servers_storage_settings_reach_the_stages(executor, tmp_path, monkeypatch):
    # Whatever the worker's environment says: on a server, its config is what counts.
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    definition = workflow({"name": "seen", "target": f"{M}.storage_seen"})
    runner = _runner(definition, executor, _settings(str(tmp_path), None), {})
    await runner.run()
    assert runner.run_record.result == {"protocol": "file", "base_path": str(tmp_path)}


@pytest.mark.parametrize("executor", ["ray"], indirect=True)
async def test_on_ray_a_large_array_stays_in_the_object_store(executor):
    """The value goes into Ray's object store owned by the actor, not through it: a 20 MB
    array put by one task is read by another, zero-copy and read-only as from ray.get."""
    definition = workflow(
        {"name": "put", "target": "tests.resources.memory_stages.put_array"},
        {"name": "get", "target": "tests.resources.memory_stages.read_array",
         "depends_on": ["put"]},
    )  # fmt: skip
    result = await execute_workflow(
        definition, {"key": _key()}, executor=executor, return_result=True
    )
    assert result == {"shape": [2_500_000], "sum": float(sum(range(10))) * 250_000,
                      "writeable": False}  # fmt: skip
