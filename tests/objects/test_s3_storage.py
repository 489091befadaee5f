"""Artifacts and the object store on S3 (moto in server mode): what only S3 can get wrong.

The behaviour common to every filesystem runs on S3 through the `storage` fixture's ``s3``
parameter; here: parameters from the environment, other writers' changes despite s3fs's
listing cache, and storage that cannot be used (unreachable endpoint, missing bucket).
"""

from __future__ import annotations

import json

import pytest

from flowdapt.compute import object_store
from flowdapt.compute.artifacts import (
    check_if_artifact_exists,
    get_artifact,
    list_artifacts,
    new_artifact,
)
from flowdapt.objects.artifact import StorageError
from flowdapt.objects.config import storage_settings, typed_parameter
from tests.objects.conftest import isolate_aws
from tests.s3_server import S3Server, free_port

on_s3 = pytest.mark.parametrize("storage", ["s3"], indirect=True)

# What a user should set so that an unreachable endpoint fails in seconds, not minutes: one
# attempt, short timeouts (botocore waits 60 s to connect and retries 5 times by default).
FAIL_FAST = {"connect_timeout": 1, "read_timeout": 2, "retries": {"max_attempts": 1}}


@on_s3
def test_the_configured_parameters_alone_reach_the_server(storage, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")  # the fixture's safety net: not needed here
    artifact = new_artifact("a", "ns")
    artifact.new_file("f", "x")
    assert storage.read("ns", "a", "f") == b"x" and artifact.uri.startswith("s3://")


@on_s3
def test_parameters_as_nested_environment_variables(storage, s3_server, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.delenv("FLOWDAPT__STORAGE__PARAMETERS")
    prefix = "FLOWDAPT__STORAGE__PARAMETERS__"
    monkeypatch.setenv(prefix + "ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv(prefix + "KEY", "testing")
    monkeypatch.setenv(prefix + "SECRET", "testing")
    monkeypatch.setenv(prefix + "CONFIG_KWARGS__CONNECT_TIMEOUT", "5")
    monkeypatch.setenv(prefix + "CONFIG_KWARGS__RETRIES", '{"max_attempts": 2}')
    assert storage_settings().parameters == {
        "endpoint_url": s3_server.endpoint_url,
        "key": "testing",
        "secret": "testing",
        "config_kwargs": {"connect_timeout": 5, "retries": {"max_attempts": 2}},
    }
    object_store.put("k", [1, 2], strategy="artifact")
    assert object_store.get("k", strategy="artifact") == [1, 2]
    assert storage.exists("default", "k", "object")


def test_parameters_are_typed_at_every_depth_but_credentials_stay_text():
    assert typed_parameter(
        {
            "key": "0123",
            "secret": "true",
            "anon": "false",
            "config_kwargs": {"connect_timeout": "5", "retries": '{"max_attempts": "2"}'},
            "client_kwargs": "{region_name: eu-west-1, aws_session_token: 42}",
            "endpoint_url": "http://127.0.0.1:9000",
            "acl": "[not yaml",
        }
    ) == {
        "key": "0123",
        "secret": "true",
        "anon": False,
        # JSON text is typed as JSON types it: "2" was written as text on purpose.
        "config_kwargs": {"connect_timeout": 5, "retries": {"max_attempts": "2"}},
        "client_kwargs": {"region_name": "eu-west-1", "aws_session_token": 42},
        "endpoint_url": "http://127.0.0.1:9000",
        "acl": "[not yaml",
    }


# -- other writers: s3fs caches listings per instance, one instance per parameters ----------------


@on_s3
def test_artifacts_another_writer_creates_are_seen(storage):
    assert list_artifacts("ns") == [] and not check_if_artifact_exists("late", "ns")
    new_artifact("early", "ns")
    assert [a.name for a in list_artifacts("ns")] == ["early"]  # the listing is cached now
    storage.write(b"{}", "ns", "late", ".artifact.json")  # another process, another instance
    assert check_if_artifact_exists("late", "ns")
    assert [a.name for a in list_artifacts("ns")] == ["early", "late"]
    assert get_artifact("late", "ns").metadata == {}


@on_s3
def test_changes_another_writer_makes_are_seen(storage):
    artifact = new_artifact("a")
    artifact.new_file("f", "short")
    assert [f.name for f in artifact] == ["f"] and artifact.get_file("f").read() == b"short"
    storage.write(b"much longer than before", "default", "a", "f")
    storage.write(b"{}", "default", "a", "g")
    storage.write(b'{"by":"other"}', "default", "a", ".artifact.json")
    assert artifact.get_file("f").read() == b"much longer than before"
    assert [f.name for f in artifact] == ["f", "g"] and artifact["by"] == "other"
    storage.fs.rm(storage.path("default", "a"), recursive=True)
    assert not artifact.exists and not check_if_artifact_exists("a")
    with pytest.raises(FileNotFoundError):
        get_artifact("a")


@on_s3
def test_an_artifact_is_its_keys_and_nothing_else(storage):
    artifact = new_artifact("a", "ns")
    assert storage.fs.find(storage.path()) == [storage.path("ns", "a", ".artifact.json")]
    artifact.new_file("f", "x")
    artifact.clear()  # files gone, the metadata key keeps the artifact
    assert artifact.exists and artifact.is_empty and check_if_artifact_exists("a", "ns")
    artifact.delete()
    assert storage.fs.find(storage.path()) == [] and list_artifacts("ns") == []


# -- storage that cannot be used -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_endpoint() -> str:
    """A 127.0.0.1 URL nothing listens on; one per module, so that the tests share the
    filesystem instance (and its botocore client) fsspec caches for the same parameters."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def unreachable(s3_server: S3Server, dead_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """S3 configured at an endpoint that refuses connections; the base path it names."""
    isolate_aws(monkeypatch)
    base_path = f"{s3_server.bucket}/unreachable"
    parameters = {
        "endpoint_url": dead_endpoint,
        "key": "testing",
        "secret": "testing",
        "config_kwargs": FAIL_FAST,
    }
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOL", "s3")
    monkeypatch.setenv("FLOWDAPT__STORAGE__BASE_PATH", base_path)
    monkeypatch.setenv("FLOWDAPT__STORAGE__PARAMETERS", json.dumps(parameters))
    return base_path


@pytest.mark.parametrize(
    "call",
    [
        lambda: get_artifact("a"),
        lambda: get_artifact("a", create=True),
        lambda: new_artifact("a"),
        lambda: check_if_artifact_exists("a"),
        lambda: list_artifacts(),
        lambda: object_store.get("a", strategy="artifact"),
        lambda: object_store.put("a", 1, strategy="artifact"),
        lambda: object_store.exists("a"),
    ],
    ids=["get", "get-create", "new", "exists", "list", "os-get", "os-put", "os-exists"],
)
def test_an_unreachable_endpoint_is_a_storage_error_naming_it(unreachable, call):
    with pytest.raises(StorageError, match="cannot be used: EndpointConnectionError") as caught:
        call()
    message = str(caught.value)
    assert "protocol 's3'" in message and f"base path '{unreachable}'" in message
    assert "connect_timeout" in message  # the message says how to fail fast
    assert not isinstance(caught.value, FileNotFoundError)  # never "no such artifact"


@on_s3
def test_a_missing_bucket_is_a_storage_error_and_is_not_created(storage, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__STORAGE__BASE_PATH", "no-such-bucket/models")
    expected = r"base path 'no-such-bucket/models'\) cannot be used: the bucket 'no-such-bucket'"
    for call in (
        lambda: get_artifact("a"),
        lambda: get_artifact("a", create=True),
        lambda: check_if_artifact_exists("a"),
        lambda: list_artifacts(),
        lambda: object_store.get("a"),  # not ObjectNotFoundError: the storage is wrong
        lambda: object_store.put("a", 1),
    ):
        with pytest.raises(StorageError, match=expected):
            call()
    assert not storage.fs.exists("no-such-bucket")  # makedirs would have created it


@on_s3
def test_s3_without_a_base_path_names_the_bucket_it_would_need(storage, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__STORAGE__BASE_PATH", "")
    with pytest.raises(StorageError, match="the bucket 'artifacts' does not exist"):
        new_artifact("a")
