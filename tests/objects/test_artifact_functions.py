"""The context-aware artifact functions (PLUGIN-API §2.3) and the environment (§7.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowdapt.compute.artifacts as artifacts
from flowdapt.compute.artifacts import (
    check_if_artifact_exists,
    get_artifact,
    list_artifacts,
    new_artifact,
)
from flowdapt.objects.config import StorageSettingsError, storage_settings


def test_outside_a_stage_the_namespace_is_default(storage):
    artifact = new_artifact("a")
    assert artifact.namespace == "default" and storage.exists("default", "a")
    assert check_if_artifact_exists("a") and not check_if_artifact_exists("b")
    assert [a.name for a in list_artifacts()] == ["a"]


def test_get_artifact_missing_is_file_not_found_unless_created(storage):
    with pytest.raises(FileNotFoundError):
        get_artifact("x", "ns")
    created = get_artifact("x", "ns", create=True)
    assert created.exists and get_artifact("x", "ns").path == created.path


def test_new_artifact_twice_is_file_exists_error(storage):
    new_artifact("a", "ns")
    with pytest.raises(FileExistsError):
        new_artifact("a", "ns")


def test_explicit_arguments_win_over_the_environment(storage, tmp_path):
    other = str(tmp_path / "elsewhere")
    artifact = new_artifact("a", "ns", protocol="file", base_path=other)
    assert artifact.path == f"{other}/artifacts/ns/a" and Path(artifact.path).is_dir()
    assert not storage.exists("ns", "a")


def test_environment_is_read_at_the_time_of_use(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOL", "file")
    monkeypatch.setenv("FLOWDAPT__STORAGE__BASE_PATH", str(tmp_path / "one"))
    assert new_artifact("a").path == f"{tmp_path}/one/artifacts/default/a"
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    monkeypatch.setenv("FLOWDAPT__STORAGE__BASE_PATH", "two")
    assert new_artifact("a").uri == "memory://two/artifacts/default/a"
    new_artifact("a", "x").fs.rm("two", recursive=True)


def test_storage_parameters_from_the_environment_are_typed(monkeypatch):
    monkeypatch.setenv("FLOWDAPT__STORAGE__PARAMETERS__ANON", "true")
    monkeypatch.setenv("FLOWDAPT__STORAGE__PARAMETERS__RETRIES", "4")
    assert storage_settings().parameters == {"anon": True, "retries": 4}


def test_an_unknown_storage_variable_is_named(monkeypatch):
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOLL", "memory")
    with pytest.raises(StorageSettingsError, match="FLOWDAPT__STORAGE__PROTOCOLL"):
        storage_settings()


def test_file_without_a_base_path_goes_to_the_app_dir_not_the_root(monkeypatch, tmp_path):
    monkeypatch.delenv("FLOWDAPT__STORAGE__PROTOCOL", raising=False)
    monkeypatch.delenv("FLOWDAPT__STORAGE__BASE_PATH", raising=False)
    monkeypatch.setenv("FLOWDAPT__APP_DIR", str(tmp_path / "app"))
    assert new_artifact("a").path == f"{tmp_path}/app/artifacts/default/a"


def test_patching_the_originals_resolver_reaches_the_functions(monkeypatch, tmp_path):
    calls = []

    def fake(namespace="", protocol="", base_path="", **params):
        calls.append(namespace)
        return "patched", "file", str(tmp_path), {}

    monkeypatch.setattr(artifacts, "_get_values_from_context", fake)
    assert new_artifact("a").path == f"{tmp_path}/artifacts/patched/a"
    assert calls == [""]
    monkeypatch.undo()
    assert artifacts._get_values_from_context is not fake
    from flowdapt.objects import artifacts as home

    assert home._get_values_from_context is artifacts._get_values_from_context
