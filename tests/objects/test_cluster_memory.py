"""Cluster memory, local backend (PLUGIN-API §3)."""

from __future__ import annotations

import concurrent.futures
import multiprocessing

import pytest

from flowdapt.compute.cluster_memory import (
    ClusterMemory,
    check_for_key_in_cluster_memory,
    delete_from_cluster_memory,
    get_cluster_memory,
    get_cluster_memory_backend,
    get_from_cluster_memory,
    put_in_cluster_memory,
)
from flowdapt.compute.executor.local import LocalClusterMemory
from flowdapt.objects.errors import ClusterMemoryUnavailableError
from flowdapt.objects.local_memory_server import RemoteStore, serve_local_memory


@pytest.fixture
def memory() -> ClusterMemory:
    return get_cluster_memory_backend("local")


def test_local_backend_answers_as_the_original(memory):
    assert isinstance(memory, LocalClusterMemory)
    assert memory.put("k", 1) == "OK"
    assert memory.get("k") == 1 and memory.exists("k")
    assert memory.delete("k") == "OK"
    assert memory.delete("k") is None  # a missing key is not an error
    assert not memory.exists("k")
    with pytest.raises(KeyError) as caught:
        memory.get("k")
    assert str(caught.value) == "'k'"


def test_keys_are_scoped_by_namespace(memory):
    memory.put("k", "a", namespace="one")
    memory.put("k", "b", namespace="two")
    assert memory.get("k", namespace="one") == "a" and memory.get("k", namespace="two") == "b"
    assert not memory.exists("k")  # outside a stage the namespace is "default"
    with pytest.raises(KeyError):
        memory.get("k", namespace="three")
    assert memory.clear() == "OK"
    assert not memory.exists("k", namespace="one") and not memory.exists("k", namespace="two")


def test_values_are_copies(memory):
    value = {"items": [1]}
    memory.put("k", value)
    value["items"].append(2)
    got = memory.get("k")
    got["items"].append(3)
    assert memory.get("k") == {"items": [1]}


def test_unpicklable_values_fail_on_put(memory):
    import threading

    with pytest.raises(TypeError):
        memory.put("lock", threading.Lock())
    assert not memory.exists("lock")


def test_one_instance_per_backend_and_options(memory):
    assert get_cluster_memory_backend("local") is memory
    assert get_cluster_memory("local") is memory


def test_every_executor_has_a_backend_and_other_names_are_unknown():
    from flowdapt.objects.dask_memory import DaskClusterMemory
    from flowdapt.objects.ray_memory import RayClusterMemory

    assert isinstance(get_cluster_memory_backend("dask"), DaskClusterMemory)
    assert isinstance(get_cluster_memory_backend("ray"), RayClusterMemory)
    with pytest.raises(KeyError):
        get_cluster_memory_backend("nope")


def _use_local_memory() -> str:
    try:
        get_cluster_memory_backend("local").put("k", 1)
    except ClusterMemoryUnavailableError as exc:
        return str(exc)
    return "stored"


def test_a_process_that_is_no_executor_worker_is_refused_not_given_a_private_store():
    # Its values would be seen by no other process: the object store falls back to artifacts.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        answer = pool.submit(_use_local_memory).result(timeout=60)
    assert "reachable from its threads and its worker processes only" in answer


def test_a_worker_process_reaches_the_executors_memory_through_its_socket():
    address, authkey = serve_local_memory()
    assert serve_local_memory() == (address, authkey)  # one server per process
    remote = RemoteStore(address, authkey)
    assert remote.call("put", "ns", "k", b"data") == "OK"
    assert get_cluster_memory_backend("local")._call("get", "ns", "k") == b"data"
    with pytest.raises(KeyError):
        remote.call("get", "ns", "missing")
    with pytest.raises(ValueError, match="Invalid operation: drop"):
        remote.call("drop")
    wrong_key = RemoteStore(address, b"not the key")
    with pytest.raises(ClusterMemoryUnavailableError, match="cannot be reached"):
        wrong_key.call("get", "ns", "k")
    assert remote.call("get", "ns", "k") == b"data"  # still serving after the refusal


def test_outside_a_stage_a_backend_must_be_named():
    with pytest.raises(RuntimeError, match="No active WorkflowRunContext"):
        get_cluster_memory()
    with pytest.raises(RuntimeError):
        put_in_cluster_memory("k", 1)


def test_module_functions_with_an_explicit_backend():
    assert put_in_cluster_memory("k", 1, namespace="ns", backend="local") == "OK"
    assert get_from_cluster_memory("k", namespace="ns", backend="local") == 1
    assert check_for_key_in_cluster_memory("k", namespace="ns", backend="local")
    assert delete_from_cluster_memory("k", namespace="ns", backend="local") == "OK"
    assert not check_for_key_in_cluster_memory("k", namespace="ns", backend="local")
