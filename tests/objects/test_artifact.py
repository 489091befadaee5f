"""Artifact and ArtifactFile (PLUGIN-API §2.0 to 2.2) on the file and memory filesystems."""

from __future__ import annotations

import pytest

from flowdapt.compute.artifacts import Artifact, ArtifactFile
from flowdapt.objects.errors import ArtifactMetadataError, InvalidArtifactNameError


def new(storage, name="test_artifact", namespace="default"):
    return Artifact.new_artifact(
        name, namespace, protocol=storage.protocol, base_path=storage.base_path
    )


def test_memory_uri_is_the_originals():
    artifact = Artifact.new_artifact("test_artifact", protocol="memory", base_path="test")
    assert artifact.uri == "memory://test/artifacts/default/test_artifact"
    artifact.delete()


def test_file_uri_uses_the_first_protocol_name(tmp_path):
    artifact = Artifact.new_artifact("a", "ns", protocol="file", base_path=str(tmp_path))
    assert artifact.uri == f"file://{tmp_path}/artifacts/ns/a"


def test_layout_on_storage(storage):
    artifact = new(storage, "Los20Angeles_raw", "full_uscities")
    artifact.new_file("partition-0.parquet", b"data")
    artifact["value_type"] = "pandas.core.frame.DataFrame"
    assert artifact.path == storage.path("full_uscities", "Los20Angeles_raw")
    assert storage.read("full_uscities", "Los20Angeles_raw", "partition-0.parquet") == b"data"
    assert (
        storage.read("full_uscities", "Los20Angeles_raw", ".artifact.json")
        == b'{"value_type":"pandas.core.frame.DataFrame"}'
    )


def test_a_new_artifact_exists_is_empty_and_falsy(storage):
    artifact = new(storage)
    assert artifact.exists and artifact.is_empty and not artifact
    assert artifact.metadata == {} and storage.read("default", "test_artifact", ".artifact.json")
    artifact.new_file("f", "x")
    assert artifact and "f" in artifact and ".artifact.json" in artifact


def test_creating_twice_is_file_exists_error(storage):
    new(storage)
    with pytest.raises(FileExistsError, match="already exists in namespace `default`"):
        new(storage)


def test_opening_a_missing_artifact_is_file_not_found(storage):
    with pytest.raises(FileNotFoundError, match="No Artifact existing in namespace `default`"):
        Artifact.get_artifact("nope", protocol=storage.protocol, base_path=storage.base_path)


def test_metadata_round_trip_and_item_access(storage):
    artifact = new(storage)
    artifact["value_type"] = "json"
    artifact.set_meta("shape", [2, 3])
    again = Artifact.get_artifact("test_artifact", "", storage.protocol, storage.base_path)
    assert again["value_type"] == "json" and again.get_meta("shape") == [2, 3]
    assert again["missing"] is None and again.get_meta("missing", 7) == 7
    del again["shape"]
    assert artifact.get_meta("shape") is None
    with pytest.raises(KeyError):
        del again["shape"]


def test_set_meta_keeps_keys_other_instances_wrote(storage):
    first, second = new(storage), Artifact("test_artifact", "", storage.protocol, storage.base_path)
    first["a"] = 1
    second["b"] = 2  # second read {} before first wrote: the original lost "a" here
    assert first.get_meta("a") == 1 and first.get_meta("b") == 2


def test_a_value_that_is_not_json_changes_nothing(storage):
    artifact = new(storage)
    with pytest.raises(TypeError):
        artifact["bad"] = {1, 2}
    assert artifact.metadata == {} and artifact.get_meta("bad") is None


def test_corrupt_metadata_names_the_artifact(storage):
    new(storage, "broken", "ns")
    storage.write(b"{not json", "ns", "broken", ".artifact.json")
    with pytest.raises(ArtifactMetadataError, match="artifact `broken` in namespace `ns`"):
        Artifact("broken", "ns", storage.protocol, storage.base_path)
    storage.write(b"[1, 2]", "ns", "broken", ".artifact.json")
    with pytest.raises(ValueError, match="is not a JSON object"):
        Artifact("broken", "ns", storage.protocol, storage.base_path)


def test_missing_metadata_is_recreated_on_open(storage):
    artifact = new(storage)
    storage.fs.rm(storage.path("default", "test_artifact", ".artifact.json"))
    assert Artifact("test_artifact", "", storage.protocol, storage.base_path).metadata == {}
    assert artifact.has_file(".artifact.json")


@pytest.mark.parametrize("name", ["../escape", "a/b", "a.b", "..", "", "a\\b", "spaced name"])
def test_bad_names_are_rejected_before_anything_is_written(storage, name):
    with pytest.raises((InvalidArtifactNameError, AssertionError)):
        new(storage, name)
    assert not storage.fs.exists(storage.path())  # not even an orphan directory


@pytest.mark.parametrize("namespace", ["..", "a/b", "../../etc", "."])
def test_bad_namespaces_are_rejected(storage, namespace):
    with pytest.raises(ValueError, match="invalid artifact namespace"):
        new(storage, "ok", namespace)
    assert not storage.fs.exists(storage.path())


def test_files_new_read_write_remove(storage):
    artifact = new(storage)
    file = artifact.new_file("f", "hello")
    assert isinstance(file, ArtifactFile) and file.name == "f" and file.artifact is artifact
    assert repr(file) == f"ArtifactFile<{storage.path('default', 'test_artifact', 'f')}>"
    assert file.read() == b"hello" and file.read(mode="r") == "hello" and file.read(2) == b"he"
    file.write(b"bye")
    assert artifact.get_file("f").read() == b"bye"
    assert artifact.new_file("empty").read() == b""
    assert artifact.new_file("f", "ignored").read() == b"bye"  # exist_ok keeps the old bytes
    with pytest.raises(FileExistsError):
        artifact.new_file("f", "x", exist_ok=False)
    with pytest.raises(TypeError):
        artifact.new_file("d", {"a": 1})
    file.remove()
    assert "f" not in artifact
    with pytest.raises(FileNotFoundError, match="No file existing"):
        artifact.get_file("f")
    assert artifact.get_file("made", create=True).read() == b""
    artifact.delete_file("made")
    with pytest.raises(FileNotFoundError):
        artifact.delete_file("made")


def test_open_yields_the_filesystem_file(storage):
    file = new(storage).new_file("log.txt", "a")
    with file.open("a") as handle:
        handle.write("b")
    assert file.read(mode="r") == "ab"


def test_list_files_and_iteration(storage):
    artifact = new(storage)
    artifact.new_file("b", "1")
    artifact.new_file("a", "2")
    assert [f.name for f in artifact] == ["a", "b"]
    assert [f.name for f in artifact.list_files(include_meta=True)] == [".artifact.json", "a", "b"]


def test_delete_then_everything_is_file_not_found(storage):
    artifact = new(storage)
    artifact.new_file("f", "x")
    artifact.delete()
    assert not artifact.exists and artifact.is_empty and not storage.exists("default", "x")
    for call in (
        lambda: artifact.get_file("f"),
        artifact.list_files,
        lambda: artifact.new_file("g"),
        lambda: artifact.get_meta("k"),
        lambda: artifact.set_meta("k", 1),
    ):
        with pytest.raises(FileNotFoundError, match="No Artifact existing with the path"):
            call()


def test_clear_removes_files_and_stored_metadata(storage):
    artifact = new(storage)
    artifact["k"] = 1
    artifact.new_file("f", "x")
    artifact.clear()
    assert artifact.is_empty and artifact.get_meta("k") is None  # the original brought k back


def test_list_artifacts_sorted_skipping_invalid_entries(storage):
    for name in ("b", "a", "c"):
        new(storage, name, "ns")
    storage.fs.makedirs(storage.path("ns", "not.valid"), exist_ok=True)
    listed = Artifact.list_artifacts("ns", storage.protocol, storage.base_path)
    assert [a.name for a in listed] == ["a", "b", "c"]
    assert Artifact.list_artifacts("empty", storage.protocol, storage.base_path) == []


def test_does_exist(storage):
    new(storage, "here", "ns")
    assert Artifact.does_exist("here", "ns", storage.protocol, storage.base_path)
    assert not Artifact.does_exist("here", "", storage.protocol, storage.base_path)


def test_filesystem_or_protocol_with_parameters_not_both(storage):
    new(storage)
    with pytest.raises(ValueError, match="not both"):
        Artifact("test_artifact", "", "memory", storage.base_path, {"x": 1}, _fs=storage.fs)
    given = Artifact("test_artifact", "", "", storage.base_path, _fs=storage.fs)
    assert given.fs is storage.fs


def test_transaction_commits_on_exit_and_discards_on_error(storage):
    artifact = new(storage)
    artifact.new_file("f", "old")
    with artifact.transaction() as same:
        assert same is artifact
        artifact.get_file("f").write("new")
        assert artifact.get_file("f").read() == b"old"
    assert artifact.get_file("f").read() == b"new"

    def write_then_fail():
        with artifact.transaction():
            artifact.get_file("f").write("lost")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert artifact.get_file("f").read() == b"new"
