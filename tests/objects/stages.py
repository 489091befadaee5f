"""Stage functions for the object-layer tests: plain Python, as plugin stages are written."""

from __future__ import annotations

from typing import Any

from flowdapt.compute import object_store
from flowdapt.compute.artifacts import list_artifacts
from flowdapt.compute.cluster_memory import get_cluster_memory
from flowdapt.compute.resources.workflow.context import get_run_context


def put_value(key: str = "test", value: Any = 1, artifact_params: dict[str, Any] | None = None):
    object_store.put(key, value, artifact_params=artifact_params)
    return get_run_context().namespace


def get_value(_namespace: str) -> Any:
    ctx = get_run_context()
    return object_store.get(
        ctx.input.get("key", "test"), artifact_params=ctx.input.get("artifact_params")
    )


def get_missing(_namespace: str) -> str:
    try:
        object_store.get("never_put")
    except (KeyError, FileNotFoundError) as exc:  # what N's train_pipeline catches
        return str(exc)
    return "found"


def count_artifacts(_value: Any) -> int:
    return len(list_artifacts())


def remember(note: str = "hello") -> None:
    get_cluster_memory().put("note", note)


def recall(_: None) -> tuple[str, bool]:
    memory = get_cluster_memory()
    return memory.get("note"), memory.exists("note", namespace="default")
