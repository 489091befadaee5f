"""flowdapt.compute.cluster_memory (§3): what tests/objects/test_cluster_memory.py does not pin
yet — the documented ``get_cluster_memory`` example and the module functions inside a stage."""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def _empty_cluster_memory(empty_cluster_memory):
    return empty_cluster_memory


def test_the_documented_example_in_a_stage(in_run):
    # §3.3 / SPEC §9: cm = get_cluster_memory(); cm.put(k, v); cm.get(k); cm.delete(k); cm.clear()
    with in_run(namespace="docs"):
        cm = get_cluster_memory()
        assert isinstance(cm, LocalClusterMemory) and cm is get_cluster_memory_backend("local")
        cm.put("k", {"v": 1})
        assert cm.get("k") == {"v": 1}
        cm.delete("k")
        with pytest.raises(KeyError):
            cm.get("k")
        cm.put("a", 1)
        cm.put("b", 2, namespace="elsewhere")
        cm.clear()
        assert not cm.exists("a") and not cm.exists("b", namespace="elsewhere")


def test_the_methods_default_to_the_runs_namespace(in_run):
    with in_run(namespace="ctx"):
        get_cluster_memory().put("k", "in ctx")
    memory = get_cluster_memory_backend("local")
    assert memory.get("k", namespace="ctx") == "in ctx"
    assert not memory.exists("k")  # outside a stage: "default"


def test_the_module_functions_take_namespace_and_backend_from_the_run(in_run):
    with in_run(namespace="ctx"):
        assert put_in_cluster_memory("k", [1]) == "OK"
        assert get_from_cluster_memory("k") == [1]
        assert check_for_key_in_cluster_memory("k")
        assert not check_for_key_in_cluster_memory("k", namespace="other")
        assert get_cluster_memory_backend("local").get("k", namespace="ctx") == [1]
        assert delete_from_cluster_memory("k") == "OK"
        assert delete_from_cluster_memory("k") is None  # missing: no error
        with pytest.raises(KeyError):
            get_from_cluster_memory("k")


def test_a_named_backend_wins_over_the_runs_executor(in_run):
    with in_run(executor="ray"), pytest.raises(KeyError):
        get_cluster_memory("nope")
    with in_run(executor="ray"):
        assert get_cluster_memory("local") is get_cluster_memory_backend("local")


def test_cluster_memory_is_abstract():
    with pytest.raises(TypeError):
        ClusterMemory()  # type: ignore[abstract]
