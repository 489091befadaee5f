"""flowdapt.compute.object_store (§5): what tests/objects/test_object_store.py and test_hooks.py
do not pin yet, on `file` and `memory`."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import flowdapt.compute.object_store as store_module
from flowdapt.compute import object_store
from flowdapt.compute.artifacts import get_artifact
from flowdapt.compute.artifacts.dataset.dataframes import dataframe_to_artifact
from flowdapt.compute.artifacts.misc import json_from_artifact
from flowdapt.compute.object_store import (
    ObjectNotFoundError,
    Strategy,
    default_load_hook,
    default_save_hook,
)
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.errors import FlowdaptError
from flowdapt.lib.errors import APIError, ResourceNotFoundError
from flowdapt.objects.cluster_memory import get_cluster_memory_backend
from tests.conftest import workflow

LOGGER = "flowdapt.objects.object_store"


@pytest.fixture(autouse=True)
def _empty_cluster_memory(empty_cluster_memory):
    return empty_cluster_memory


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def lines(self) -> list[tuple[int, str]]:
        return [(record.levelno, record.getMessage()) for record in self.records]


@pytest.fixture
def logged() -> Iterator[_Records]:
    """The object store's log records at every level, on its own logger: whatever the root
    handlers filter (see conftest._caplog_sees_every_level)."""
    logger = logging.getLogger(LOGGER)
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def broken(*args: Any, **kwargs: Any) -> Any:
    raise ConnectionError("no cluster memory")


def test_strategy_values_and_plain_strings():
    assert [s.value for s in Strategy] == ["fallback", "artifact", "cluster_memory"]
    assert Strategy.CLUSTER_MEMORY == "cluster_memory" and Strategy("artifact") is Strategy.ARTIFACT


def test_put_returns_none_wherever_the_value_goes(storage):
    assert object_store.put("cm", 1, executor="local") is None
    assert object_store.put("art", 1, strategy="artifact") is None


# -- §5.2: what a missing key raises, and how the plugins catch it -----------------------------


@pytest.mark.parametrize("strategy", ["fallback", "artifact", "cluster_memory"])
def test_a_missing_key_is_also_the_resource_not_found_error_plugins_catch(storage, strategy):
    with pytest.raises(ResourceNotFoundError) as caught:
        object_store.get("nope", namespace="ns", strategy=strategy, executor="local")
    error = caught.value
    assert isinstance(error, ObjectNotFoundError) and isinstance(error, APIError)
    assert isinstance(error, FileNotFoundError) and isinstance(error, KeyError)
    assert isinstance(error, FlowdaptError)
    assert (error.status_code, error.detail) == (404, "no object 'nope' in namespace 'ns'")
    assert str(error) == "no object 'nope' in namespace 'ns'"


def neighbour_frame(city: str) -> Any:
    from flowdapt.lib.errors import ResourceNotFoundError

    try:  # N's construct_dataframes: a missing neighbour is skipped
        return object_store.get(f"{city}_raw")
    except ResourceNotFoundError:
        return None


def put_one_city() -> list[str]:
    object_store.put("Oslo_raw", {"temp": [1.5]})
    return ["Oslo", "Bergen"]


async def test_the_nowcast_plugins_except_clause_skips_a_missing_neighbour(thread_executor):
    definition = workflow(
        {"name": "cities", "target": put_one_city},
        {"name": "frames", "target": neighbour_frame, "type": "parameterized",
         "depends_on": ["cities"]},
    )  # fmt: skip
    result = await execute_workflow(
        definition, executor=thread_executor, namespace="testing", return_result=True
    )
    assert result == [{"temp": [1.5]}, None]


def test_the_default_load_hook_on_a_dataframe_artifact_is_file_not_found(storage):
    frame = pd.DataFrame({"a": [1]})
    object_store.put(
        "frame", frame, strategy="artifact", save_artifact_hook=dataframe_to_artifact()
    )
    with pytest.raises(FileNotFoundError, match="not saved with the default save hook") as caught:
        object_store.get("frame", strategy="artifact")
    assert not isinstance(caught.value, ObjectNotFoundError)  # the artifact exists


def test_the_json_hook_on_an_object_artifact_is_an_assertion_error(storage):
    object_store.put("k", {"a": 1}, strategy="artifact")
    with pytest.raises(AssertionError, match=r"Artifact is not a JSON object\."):
        object_store.get("k", strategy="artifact", load_artifact_hook=json_from_artifact())


# -- §5.1/§5.2: fallback, and what it logs -----------------------------------------------------


def test_a_failing_put_is_logged_at_debug_and_falls_back(storage, monkeypatch, logged):
    monkeypatch.setattr(store_module, "put_in_cluster_memory", broken)
    object_store.put("k", 1, executor="local")
    [(level, message)] = logged.lines
    assert level == logging.DEBUG and message.startswith("ClusterMemoryObjectPutFailed")
    assert "no cluster memory" in message
    assert storage.exists("default", "k", "object")


def test_a_missing_key_in_cluster_memory_is_not_logged(storage, logged):
    object_store.put("k", 1, strategy="artifact")
    assert object_store.get("k", executor="local") == 1
    assert logged.lines == []


def test_fallback_may_read_a_stale_artifact(storage, monkeypatch, logged):
    # Documented: any cluster-memory error falls back to what an artifact_only put left there.
    object_store.put("k", "old", strategy="artifact")
    object_store.put("k", "new", executor="local")
    monkeypatch.setattr(store_module, "get_from_cluster_memory", broken)
    assert object_store.get("k", executor="local") == "old"
    [(level, message)] = logged.lines
    assert level == logging.DEBUG and message.startswith("ClusterMemoryObjectGetFailed")
    with pytest.raises(ConnectionError):  # only there: the failure is raised
        object_store.get("k", executor="local", strategy="cluster_memory")


def test_cluster_memory_params_reach_the_backend(storage, monkeypatch):
    calls = []

    def recording(key, value, **kwargs):
        calls.append((key, value, kwargs))

    monkeypatch.setattr(store_module, "put_in_cluster_memory", recording)
    object_store.put("k", 1, namespace="ns", executor="local", cluster_memory_params={"x": 1})
    assert calls == [("k", 1, {"namespace": "ns", "backend": "local", "x": 1})]


@pytest.mark.parametrize("function", ["put", "get", "delete", "exists"])
def test_every_use_of_artifact_only_logs_and_never_warns(storage, function, logged):
    arguments = ("k", 1) if function == "put" else ("k",)
    object_store.put("k", 1, strategy="artifact")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(object_store, function)(*arguments, artifact_only=True)
    assert caught == []  # a log line: plugin suites may run with warnings as errors
    [(level, message)] = logged.lines
    assert level == logging.WARNING and message.startswith("DeprecationWarning: ")


def test_artifact_only_with_the_cluster_memory_strategy_still_reads_the_artifact(storage):
    object_store.put("k", "stored", artifact_only=True, executor="local")
    assert not get_cluster_memory_backend("local").exists("k")
    assert object_store.get("k", artifact_only=True, strategy="cluster_memory") == "stored"
    assert object_store.exists("k", artifact_only=True, strategy="cluster_memory")
    object_store.delete("k", artifact_only=True, strategy="cluster_memory")
    assert not storage.exists("default", "k")


# -- §5.5 default hooks ------------------------------------------------------------------------


class JsonSerializer:
    @staticmethod
    def dumps(value: Any) -> bytes:
        return json.dumps(value).encode()

    @staticmethod
    def loads(data: bytes) -> Any:
        return json.loads(data)


def test_default_hooks_take_a_serializer_and_leave_other_files(storage):
    artifact = get_artifact("a", create=True)
    artifact.new_file("notes.txt", "kept")
    default_save_hook(JsonSerializer)(artifact, {"a": [1, 2]})
    assert storage.read("default", "a", "object") == b'{"a": [1, 2]}'
    assert storage.read("default", "a", "notes.txt") == b"kept"
    assert default_load_hook(JsonSerializer)(artifact) == {"a": [1, 2]}
