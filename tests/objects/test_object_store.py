"""The object store (PLUGIN-API §5), alone and between the stages of a workflow."""

from __future__ import annotations

import logging

import pytest

from flowdapt.compute import object_store
from flowdapt.compute.artifacts import get_artifact, list_artifacts
from flowdapt.compute.object_store import ObjectNotFoundError, Strategy
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.objects.cluster_memory import get_cluster_memory_backend
from tests.conftest import workflow

S = "tests.objects.stages"


def put_then_get(**put_options):
    return workflow(
        {"name": "stage1", "target": f"{S}.put_value"},
        {"name": "stage2", "target": f"{S}.get_value", "depends_on": ["stage1"], **put_options},
    )


async def test_a_value_put_in_one_stage_is_got_in_the_next(storage, thread_executor):
    result = await execute_workflow(
        put_then_get(),
        {"value": {"a": 1}},
        executor=thread_executor,
        namespace="testing",
        return_result=True,
    )
    assert result == {"a": 1}
    memory = get_cluster_memory_backend("local")
    assert memory.get("test", namespace="testing") == {"a": 1}  # the run's namespace
    assert not memory.exists("test", namespace="default")
    assert not storage.exists("testing")  # fallback with cluster memory: nothing on storage


async def test_with_cluster_memory_failing_one_artifact_carries_the_value(
    storage, thread_executor, monkeypatch
):
    def broken(*args, **kwargs):
        raise ConnectionError("no cluster memory")

    monkeypatch.setattr(object_store, "put_in_cluster_memory", broken)
    monkeypatch.setattr(object_store, "get_from_cluster_memory", broken)
    definition = put_then_get()
    definition["spec"]["stages"].append(
        {"name": "count", "target": f"{S}.count_artifacts", "depends_on": ["stage2"]}
    )
    result = await execute_workflow(
        definition, executor=thread_executor, namespace="testing", return_result=True
    )
    assert result == 1
    assert storage.exists("testing", "test", "object")
    assert storage.read("testing", "test", ".artifact.json") == b'{"value_type":"object"}'


async def test_a_missing_key_is_caught_as_key_error_or_file_not_found(storage, thread_executor):
    definition = workflow(
        {"name": "stage1", "target": f"{S}.put_value"},
        {"name": "stage2", "target": f"{S}.get_missing", "depends_on": ["stage1"]},
    )
    result = await execute_workflow(
        definition, executor=thread_executor, namespace="ns", return_result=True
    )
    assert result == "no object 'never_put' in namespace 'ns'"


async def test_cluster_memory_in_a_stage_defaults_to_the_runs_namespace(thread_executor):
    definition = workflow(
        {"name": "remember", "target": f"{S}.remember"},
        {"name": "recall", "target": f"{S}.recall", "depends_on": ["remember"]},
    )
    result = await execute_workflow(
        definition,
        {"note": "hi"},
        executor=thread_executor,
        namespace="notes",
        return_result=True,
    )
    assert result == ("hi", False)
    assert get_cluster_memory_backend("local").get("note", namespace="notes") == "hi"


@pytest.mark.slow
async def test_worker_processes_share_the_executors_cluster_memory(tmp_path, process_executor):
    params = {"protocol": "file", "base_path": str(tmp_path)}
    result = await execute_workflow(
        put_then_get(),
        {"value": [1, 2], "artifact_params": params},
        executor=process_executor,
        namespace="procs",
        return_result=True,
    )
    assert result == [1, 2]
    # Through the executor's socket: in its memory, nothing written to storage.
    assert get_cluster_memory_backend("local").get("test", namespace="procs") == [1, 2]
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize("strategy", [None, "fallback", "artifact", Strategy.ARTIFACT])
def test_missing_everywhere_is_both_file_not_found_and_key_error(storage, strategy):
    with pytest.raises(FileNotFoundError) as caught:
        object_store.get("nope", namespace="ns", strategy=strategy, executor="local")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ObjectNotFoundError)
    assert caught.value.key == "nope" and caught.value.namespace == "ns"
    assert str(caught.value) == "no object 'nope' in namespace 'ns'"


def test_the_not_found_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(ObjectNotFoundError("k", "ns")))
    assert (error.key, error.namespace, str(error)) == (
        "k",
        "ns",
        "no object 'k' in namespace 'ns'",
    )


def test_missing_in_cluster_memory_is_a_key_error_there(storage):
    with pytest.raises(KeyError, match="nope"):
        object_store.get("nope", strategy="cluster_memory", executor="local")
    assert not storage.exists()


def test_cluster_memory_strategy_raises_what_the_backend_raises(storage):
    with pytest.raises(RuntimeError, match="No active WorkflowRunContext"):
        object_store.put("k", 1, strategy="cluster_memory")


def test_strategies_decide_where_the_value_goes(storage):
    object_store.put("cm", 1, executor="local", strategy="cluster_memory", namespace="ns")
    object_store.put("art", 2, executor="local", strategy="artifact", namespace="ns")
    assert get_cluster_memory_backend("local").get("cm", namespace="ns") == 1
    assert not storage.exists("ns", "cm") and storage.exists("ns", "art", "object")
    assert object_store.get("art", namespace="ns", executor="local") == 2  # fallback finds it
    with pytest.raises(KeyError):
        object_store.get("art", namespace="ns", executor="local", strategy="cluster_memory")
    with pytest.raises(FileNotFoundError):
        object_store.get("cm", namespace="ns", strategy="artifact")


def test_artifact_only_overrides_the_strategy_and_logs(storage, caplog):
    with caplog.at_level(logging.WARNING, logger="flowdapt.objects.object_store"):
        object_store.put("k", 1, artifact_only=True, strategy="cluster_memory", executor="local")
    assert "DeprecationWarning" in caplog.text
    assert storage.exists("default", "k", "object")
    assert not get_cluster_memory_backend("local").exists("k")
    assert object_store.get("k", artifact_only=True) == 1


def test_the_default_strategy_comes_from_the_environment(storage, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__SERVICES__COMPUTE__DEFAULT_OS_STRATEGY", "artifact")
    object_store.put("k", 1, executor="local")
    assert storage.exists("default", "k", "object")


def test_an_unknown_strategy_is_fallback(storage):
    object_store.put("k", 1, executor="local", strategy="whatever")
    assert get_cluster_memory_backend("local").get("k") == 1


def test_outside_a_stage_fallback_goes_to_artifacts_in_default(storage):
    object_store.put("k", {"v": 1})
    assert storage.exists("default", "k", "object")
    assert object_store.get("k") == {"v": 1}


def test_custom_hooks_are_used(storage):
    from flowdapt.compute.artifacts.misc import json_from_artifact, json_to_artifact

    object_store.put("j", {"a": 1}, strategy="artifact", save_artifact_hook=json_to_artifact())
    assert storage.read("default", "j", "file.json") == b'{\n    "a": 1\n}'
    assert object_store.get("j", strategy="artifact", load_artifact_hook=json_from_artifact()) == {
        "a": 1
    }


def test_artifact_params_win_over_the_environment(storage, tmp_path):
    params = {"protocol": "file", "base_path": str(tmp_path / "other")}
    object_store.put("k", 1, strategy="artifact", artifact_params=params)
    assert (tmp_path / "other" / "artifacts" / "default" / "k" / "object").is_file()
    assert not storage.exists("default", "k")


@pytest.mark.parametrize("key", ["../evil", "a/b", "a.b"])
def test_keys_that_are_no_artifact_name_are_refused_on_the_artifact_path(storage, key):
    with pytest.raises(ValueError, match="invalid artifact name"):
        object_store.put(key, 1, strategy="artifact")
    assert not storage.exists()
    object_store.put(key, 1, executor="local")  # cluster memory takes any string
    assert object_store.get(key, executor="local") == 1


def test_delete_under_fallback_removes_both_copies(storage):
    object_store.put("k", "old", strategy="artifact")
    object_store.put("k", "new", executor="local")
    object_store.delete("k", executor="local")
    assert not object_store.exists("k", executor="local")
    assert not storage.exists("default", "k")
    object_store.delete("k", executor="local")  # missing everywhere: no error
    object_store.delete("k", strategy="artifact")
    object_store.delete("k", strategy="cluster_memory", executor="local")


def test_delete_by_strategy_touches_only_its_place(storage):
    object_store.put("k", 1, strategy="artifact")
    object_store.put("k", 2, executor="local")
    object_store.delete("k", strategy="cluster_memory", executor="local")
    assert storage.exists("default", "k") and not get_cluster_memory_backend("local").exists("k")
    object_store.put("k", 2, executor="local")
    object_store.delete("k", strategy="artifact")
    assert not storage.exists("default", "k") and get_cluster_memory_backend("local").exists("k")


def test_exists(storage):
    assert not object_store.exists("k", executor="local")
    object_store.put("k", 1, executor="local")
    assert object_store.exists("k", executor="local")
    assert not object_store.exists("k", strategy="artifact")
    get_artifact("a", create=True)
    assert object_store.exists("a", executor="dask")  # unreachable cluster memory holds nothing
    assert object_store.exists("a")  # outside a stage: no executor, the artifact answers
    assert [a.name for a in list_artifacts()] == ["a"]
