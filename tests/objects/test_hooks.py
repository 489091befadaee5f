"""The JSON and pickle hooks (PLUGIN-API §2.4) and the object store's defaults (§5.5)."""

from __future__ import annotations

import logging
import math

import pytest

from flowdapt.compute.artifacts import new_artifact
from flowdapt.compute.artifacts.misc import (
    json_from_artifact,
    json_to_artifact,
    pickle_from_artifact,
    pickle_to_artifact,
)
from flowdapt.compute.object_store import default_load_hook, default_save_hook


def test_json_round_trip_writes_pretty_json(storage):
    artifact = new_artifact("a")
    json_to_artifact()(artifact, {"key": "value"})
    assert storage.read("default", "a", "file.json") == b'{\n    "key": "value"\n}'
    assert storage.read("default", "a", ".artifact.json") == b'{"value_type":"json"}'
    assert json_from_artifact()(artifact) == {"key": "value"}


def test_json_hook_keeps_other_files_and_takes_a_name(storage):
    artifact = new_artifact("a")
    artifact.new_file("other", "x")
    json_to_artifact("cities")(artifact, [1, (2, 3)])
    assert json_from_artifact("cities")(artifact) == [1, [2, 3]]
    assert "other" in artifact


def test_json_nan_and_infinity_are_bare_tokens(storage):
    artifact = new_artifact("a")
    json_to_artifact()(artifact, [math.nan, math.inf])
    assert storage.read("default", "a", "file.json") == b"[\n    NaN,\n    Infinity\n]"
    loaded = json_from_artifact()(artifact)
    assert math.isnan(loaded[0]) and loaded[1] == math.inf


@pytest.mark.parametrize("value", [{1: "a"}, {"s": {1, 2}}, [{"nested": {2: 3}}]])
def test_json_refuses_what_it_cannot_write_faithfully(storage, value):
    with pytest.raises(TypeError):
        json_to_artifact()(new_artifact("a"), value)


def test_json_is_read_leniently(storage):
    artifact = new_artifact("a")
    artifact["value_type"] = "json"
    artifact.new_file("file.json", '{"a": [1, 2,], // note\n "b": "x,]//", /* c */ "n": NaN,}')
    loaded = json_from_artifact()(artifact)
    assert loaded["a"] == [1, 2] and loaded["b"] == "x,]//" and math.isnan(loaded["n"])


def test_json_load_of_another_value_type_is_an_assertion(storage):
    artifact = new_artifact("a")
    json_to_artifact()(artifact, {"k": 1})
    artifact["value_type"] = "object"
    with pytest.raises(AssertionError, match=r"Artifact is not a JSON object\."):
        json_from_artifact()(artifact)


def test_json_load_without_the_file_is_file_not_found(storage):
    artifact = new_artifact("a")
    artifact["value_type"] = "json"
    with pytest.raises(FileNotFoundError):
        json_from_artifact()(artifact)


def test_pickle_round_trip_with_a_lambda(storage):
    artifact = new_artifact("a")
    pickle_to_artifact()(artifact, lambda x: x + 1)
    assert artifact["value_type"] == "pickle" and "file.pkl" in artifact
    assert pickle_from_artifact()(artifact)(1) == 2
    artifact["value_type"] = "json"
    with pytest.raises(AssertionError):
        pickle_from_artifact()(artifact)


def test_default_hooks_round_trip_through_the_object_file(storage):
    artifact = new_artifact("a")
    default_save_hook()(artifact, {"x": [1, 2]})
    assert artifact["value_type"] == "object" and "object" in artifact
    default_save_hook()(artifact, "second")  # overwritten, not appended
    assert default_load_hook()(artifact) == "second"


def test_default_load_warns_on_another_value_type_and_carries_on(storage, caplog):
    artifact = new_artifact("a")
    default_save_hook()(artifact, 5)
    artifact["value_type"] = "json"
    with caplog.at_level(logging.WARNING, logger="flowdapt.objects.hooks"):
        assert default_load_hook()(artifact) == 5
    assert "ArtifactHookMismatchWarning" in caplog.text


def test_default_load_without_the_object_file_says_why(storage):
    artifact = new_artifact("a")
    artifact["value_type"] = "pandas.core.frame.DataFrame"
    artifact.new_file("partition-0.parquet", b"")
    with pytest.raises(FileNotFoundError, match="not saved with the default save hook"):
        default_load_hook()(artifact)
