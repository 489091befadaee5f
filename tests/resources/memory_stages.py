"""Stages that use the cluster memory and the object store, importable by every executor's
workers (Dask and Ray workers import them by name, as they would a plugin's)."""

from __future__ import annotations

import os
from typing import Any

from flowdapt.compute import object_store
from flowdapt.compute.artifacts import check_if_artifact_exists
from flowdapt.compute.cluster_memory import get_cluster_memory
from flowdapt.compute.resources.workflow.context import get_run_context


def put_weights(key: str, weights: list[int]) -> int:
    get_cluster_memory().put(key, {"weights": weights, "pid": os.getpid()})
    return os.getpid()


def weights_for_items(key: str, weights: list[int]) -> list[int]:
    return list(range(len(weights)))


def read_weight(item: int) -> tuple[int, int]:
    """The item's weight, read from cluster memory by a worker that may not be the writer."""
    key = get_run_context().input["key"]
    return get_cluster_memory().get(key)["weights"][item], os.getpid()


def read_all(key: str) -> Any:
    return get_cluster_memory().get(key)


def exists(key: str) -> bool:
    return get_cluster_memory().exists(key)


def delete(key: str) -> Any:
    return get_cluster_memory().delete(key)


def store_values(small: str, big: str, size: int) -> str:
    """One value under the size limit, one over it, both through the object store (fallback)."""
    object_store.put(small, b"s" * 10)
    object_store.put(big, b"b" * size)
    return "stored"


def where_they_are(stored: str) -> dict[str, Any]:
    small, big = get_run_context().input["small"], get_run_context().input["big"]
    memory = get_cluster_memory()
    return {
        "small_in_memory": memory.exists(small),
        "big_in_memory": memory.exists(big),
        "big_in_artifacts": check_if_artifact_exists(big),
        "big_read": len(object_store.get(big)),
        "small_read": len(object_store.get(small)),
    }


def too_big_for_cluster_memory_only(size: int) -> None:
    object_store.put("too_big", b"x" * size, strategy="cluster_memory")


def storage_seen() -> dict[str, Any]:
    from flowdapt.objects.config import storage_settings

    settings = storage_settings()
    return {"protocol": settings.protocol, "base_path": settings.base_path}


def put_array(key: str) -> str:
    import numpy as np

    return get_cluster_memory().put(key, np.tile(np.arange(10.0), 250_000))


def read_array(put: str) -> dict[str, Any]:
    array = get_cluster_memory().get(get_run_context().input["key"])
    return {
        "shape": list(array.shape),
        "sum": float(array.sum()),
        "writeable": bool(array.flags.writeable),
    }


def log_a_warning(text: str) -> str:
    import logging

    logging.getLogger("tests.stage_code").warning("stage says: %s", text)
    return text


def put_then_die(key: str) -> None:
    """Put a value, wait until the Ray cluster memory actor owns its copy, then end the worker."""
    import ray

    from flowdapt.objects.ray_memory import actor_settings

    get_cluster_memory().put(key, {"weights": [4, 5, 6]})
    settings = actor_settings()
    actor = ray.get_actor(settings["name"], namespace=settings["namespace"])
    ray.get(actor.get_owned.remote(get_run_context().namespace, key))
    os._exit(3)
