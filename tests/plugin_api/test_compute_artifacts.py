"""flowdapt.compute.artifacts (§2): what tests/objects does not pin yet, on `file` and `memory`.

tests/objects/test_artifact.py, test_artifact_functions.py, test_hooks.py and test_datasets.py
pin the rest of §2; each test here is a behaviour or worked example they leave out.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import numpy as np
import pandas as pd
import pytest

import flowdapt.compute.artifacts as artifacts
from flowdapt.builtins.utils import artifact_name_from_dict
from flowdapt.compute import object_store
from flowdapt.compute.artifacts import (
    Artifact,
    ArtifactFile,
    check_if_artifact_exists,
    get_artifact,
    list_artifacts,
    new_artifact,
)
from flowdapt.compute.artifacts.dataset import (
    array_from_artifact,
    dataframe_to_artifact,
    register_handler,
)
from flowdapt.compute.artifacts.misc import json_from_artifact, json_to_artifact
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.objects import dataset_handlers
from tests.conftest import workflow

DF = "pandas.core.frame.DataFrame"


def new(storage, name="test_artifact", namespace="default"):
    return Artifact.new_artifact(
        name, namespace, protocol=storage.protocol, base_path=storage.base_path
    )


# -- §2.0 storage layout -----------------------------------------------------------------------


def test_an_empty_base_path_starts_the_path_at_the_root():
    # Plain string formatting, as the original (memory only: on `file` this is the disk's root).
    artifact = Artifact.new_artifact("a", "ns", protocol="memory", base_path="")
    try:
        assert artifact.path == "/artifacts/ns/a"
        assert artifact.uri == "memory:///artifacts/ns/a"
    finally:
        artifact.delete()


def test_metadata_is_compact_json_with_naive_datetimes_as_utc_and_numpy_values(storage):
    artifact = new(storage)
    artifact["when"] = datetime(2024, 1, 1, 12, 30)
    artifact["aware"] = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    artifact["count"] = np.int64(3)
    artifact["shape"] = np.array([2, 3])
    artifact["ratio"] = np.float64(0.5)
    artifact["id"] = UUID(int=1)
    assert storage.read("default", "test_artifact", ".artifact.json") == (
        b'{"when":"2024-01-01T12:30:00+00:00","aware":"2024-01-01T00:00:00+02:00",'
        b'"count":3,"shape":[2,3],"ratio":0.5,"id":"00000000-0000-0000-0000-000000000001"}'
    )
    assert artifact.get_meta("shape") == [2, 3]


def test_utc_datetimes_keep_their_utc_offset(storage):
    artifact = new(storage)
    artifact["at"] = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert artifact.get_meta("at") == "2024-05-06T07:08:09+00:00"


def nowcast_stage() -> str:
    # N's stage: per-city raw data as a DataFrame, the city list as JSON, in its own namespace.
    city = artifact_name_from_dict({"city": "Los Angeles"})
    frame = pd.DataFrame({"temp": [20.5, 21.0]})
    object_store.put(
        f"{city}_raw",
        frame,
        namespace="full_uscities",
        artifact_only=True,
        save_artifact_hook=dataframe_to_artifact(),
    )
    object_store.put(
        "unique_cities",
        ["Los Angeles"],
        namespace="full_uscities",
        artifact_only=True,
        save_artifact_hook=json_to_artifact(),
    )
    return city


async def test_the_nowcast_plugins_layout(storage, thread_executor):
    definition = workflow({"name": "store", "target": nowcast_stage}, name="nowcast")
    city = await execute_workflow(
        definition, executor=thread_executor, namespace="testing", return_result=True
    )
    assert city == "Los20Angeles"
    assert storage.exists("full_uscities", "Los20Angeles_raw", "partition-0.parquet")
    assert (
        storage.read("full_uscities", "Los20Angeles_raw", ".artifact.json")
        == b'{"value_type":"pandas.core.frame.DataFrame"}'
    )
    assert storage.read("full_uscities", "unique_cities", "file.json") == (
        b'[\n    "Los Angeles"\n]'
    )
    assert not storage.exists("testing")  # the stage named its namespace


# -- §2.1 Artifact -----------------------------------------------------------------------------


def test_new_artifact_without_a_name_is_an_assertion_error(storage):
    with pytest.raises(AssertionError):
        new(storage, "")


def test_metadata_is_the_cached_dict_until_get_meta_reads_again(storage):
    first = new(storage)
    second = Artifact("test_artifact", "", storage.protocol, storage.base_path)
    second["k"] = 1
    assert first.metadata == {}  # not re-read
    assert first.get_meta("k") == 1
    assert first.metadata == {"k": 1}


def test_get_meta_recreates_a_missing_metadata_file(storage):
    artifact = new(storage)
    storage.fs.rm(storage.path("default", "test_artifact", ".artifact.json"))
    assert artifact.get_meta("k") is None
    assert storage.read("default", "test_artifact", ".artifact.json") == b"{}"


def test_listing_writes_empty_metadata_for_an_artifact_without_it(storage):
    storage.fs.makedirs(storage.path("ns", "bare"), exist_ok=True)
    storage.fs.pipe(storage.path("ns", "bare", "data.bin"), b"x")
    listed = Artifact.list_artifacts("ns", storage.protocol, storage.base_path)
    assert [a.name for a in listed] == ["bare"]
    assert listed[0].namespace == "ns" and listed[0].metadata == {}
    assert storage.read("ns", "bare", ".artifact.json") == b"{}"


def test_does_exist_with_an_empty_namespace_looks_in_default(storage):
    new(storage, "here")
    assert Artifact.does_exist("here", "", storage.protocol, storage.base_path)
    assert not Artifact.does_exist("there", "", storage.protocol, storage.base_path)


def test_after_delete_the_remaining_operations_are_file_not_found_too(storage):
    artifact = new(storage)
    artifact["k"] = 1
    artifact.new_file("f", "x")
    artifact.delete()
    for call in (
        lambda: artifact.delete_file("f"),
        lambda: artifact.del_meta("k"),
        artifact.clear,
        artifact.delete,
        lambda: artifact.get_file("f", create=True),
    ):
        with pytest.raises(FileNotFoundError, match="No Artifact existing with the path"):
            call()
    assert not storage.exists("default", "test_artifact")


def test_in_a_transaction_reads_see_the_old_metadata_and_removals_happen_at_once(storage):
    artifact = new(storage)
    artifact["k"] = 1
    artifact.new_file("f", "x")
    with artifact.transaction():
        artifact["k"] = 2
        assert artifact.get_meta("k") == 1
        artifact.get_file("f").remove()
        assert "f" not in artifact
    assert artifact.get_meta("k") == 2


# -- §2.2 ArtifactFile -------------------------------------------------------------------------


def test_artifact_file_of_a_missing_file_is_file_not_found(storage):
    artifact = new(storage)
    with pytest.raises(FileNotFoundError, match="No file existing with the path"):
        ArtifactFile("missing", artifact)


def test_artifact_file_new_creates_once(storage):
    artifact = new(storage)
    assert ArtifactFile.new(artifact, "text", "hello").read() == b"hello"
    assert ArtifactFile.new(artifact, "empty").read() == b""
    assert ArtifactFile.new(artifact, "raw", b"\x00\x01").read() == b"\x00\x01"
    with pytest.raises(FileExistsError):  # whatever the content: new never reuses a file
        ArtifactFile.new(artifact, "text")
    assert ArtifactFile("text", artifact).read(mode="r") == "hello"


def test_write_truncates_text_too(storage):
    file = new(storage).new_file("notes.txt", "a longer first text")
    file.write("short")
    assert file.read(mode="r") == "short"
    assert file.path == storage.path("default", "test_artifact", "notes.txt")


# -- §2.3 module functions ---------------------------------------------------------------------


def test_get_artifact_calls_the_class_method_with_every_value_resolved(storage, monkeypatch):
    # The original's unit test: protocol from the config, base path "" for memory.
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    monkeypatch.delenv("FLOWDAPT__STORAGE__BASE_PATH")
    calls = []
    monkeypatch.setattr(Artifact, "get_artifact", lambda **kwargs: calls.append(kwargs))
    get_artifact("test_artifact")
    assert calls == [
        {"name": "test_artifact", "namespace": "default", "protocol": "memory", "base_path": ""}
    ]


def test_configured_parameters_are_merged_under_explicit_ones(storage, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__STORAGE__PARAMETERS__AUTO_MKDIR", "true")
    monkeypatch.setenv("FLOWDAPT__STORAGE__PARAMETERS__BLOCK_SIZE", "5")
    resolved = artifacts._get_values_from_context(block_size=7)
    assert resolved == (
        "default",
        storage.protocol,
        storage.base_path,
        {"auto_mkdir": True, "block_size": 7},
    )


def test_in_a_stage_the_namespace_is_the_runs_unless_given(storage, in_run):
    with in_run(namespace="ctx"):
        assert new_artifact("a").namespace == "ctx"
        assert new_artifact("b", "given").namespace == "given"
        assert [a.name for a in list_artifacts()] == ["a"]
        assert check_if_artifact_exists("b", "given") and not check_if_artifact_exists("b")
    assert storage.exists("ctx", "a") and storage.exists("given", "b")


def test_outside_a_stage_the_namespace_is_the_configured_default(storage, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__SERVICES__COMPUTE__DEFAULT_NAMESPACE", "research")
    assert new_artifact("a").namespace == "research"
    assert storage.exists("research", "a", ".artifact.json")


def test_a_creator_that_loses_the_race_gets_the_winners_artifact(storage, monkeypatch):
    winner = new(storage, "shared")
    winner.new_file("f", "first")
    real = Artifact.get_artifact.__func__
    misses = []

    def late_get(cls, *args, **kwargs):
        if not misses:  # the first look finds nothing: another creator is just writing it
            misses.append(kwargs["name"])
            raise FileNotFoundError("not yet")
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(Artifact, "get_artifact", classmethod(late_get))
    artifact = get_artifact("shared", create=True)
    assert misses == ["shared"] and artifact.get_file("f").read() == b"first"


# -- §2.4 JSON hooks ---------------------------------------------------------------------------


def test_json_refuses_datetimes_before_writing_anything(storage):
    artifact = new(storage)
    with pytest.raises(TypeError):
        json_to_artifact()(artifact, {"when": datetime(2024, 1, 1)})
    assert artifact["value_type"] is None and "file.json" not in artifact


def test_json_save_reuses_the_file_and_overwrites_it(storage):
    artifact = new(storage)
    json_to_artifact()(artifact, {"a": [1, 2, 3]})
    json_to_artifact()(artifact, {})
    assert storage.read("default", "test_artifact", "file.json") == b"{}"
    assert json_from_artifact()(artifact) == {}


# -- §2.5 dataset hooks ------------------------------------------------------------------------


@pytest.fixture
def registry():
    """The handler registry, restored after the test."""
    dataset_handlers._load_builtins("local")
    state = (dataset_handlers._handlers, dataset_handlers._aliases, dataset_handlers._loaded)
    saved = [container.copy() for container in state]
    yield
    for container, copy in zip(state, saved, strict=True):
        container.clear()
        container.update(copy)


def test_the_executor_is_resolved_when_the_factory_is_called(storage, in_run, registry):
    calls = []
    register_handler("local", DF, "to_artifact", lambda artifact, value, **kw: calls.append(kw))
    with in_run():  # executor "local"
        made_in_a_stage = dataframe_to_artifact()
    made_outside = dataframe_to_artifact()
    frame = pd.DataFrame({"a": [1]})
    made_in_a_stage(new(storage, "in_stage"), frame)  # run outside: still the local handler
    assert calls == [{"format": "parquet"}]
    with in_run():
        made_outside(new(storage, "outside"), frame)  # run in a stage: still the "*" handler
    assert calls == [{"format": "parquet"}]
    assert storage.exists("default", "outside", "partition-0.parquet")


def test_npz_and_pickle_partitions_are_readable(storage):
    npz = new(storage, "npz")
    npz["value_type"] = "numpy.ndarray"
    with npz.new_file("partition-0.npz").open("wb") as handle:
        np.savez(handle, first=np.array([1, 2]), second=np.array([3]))
    np.testing.assert_array_equal(array_from_artifact("npz")(npz), [1, 2, 3])
    pickled = new(storage, "pickled")
    pickled["value_type"] = "numpy.ndarray"
    pickled.new_file("partition-0.pickle", pickle.dumps(np.arange(3)))
    np.testing.assert_array_equal(array_from_artifact("pickle")(pickled), [0, 1, 2])
