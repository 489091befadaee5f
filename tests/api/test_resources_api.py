"""Resource CRUD over HTTP, on the original's wire format (WIRE-NOTES)."""

from __future__ import annotations

import re
import uuid

import pytest

import flowdapt
from tests.api.conftest import workflow_doc

NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


async def test_ping_answers_app_version_and_api_version(api):
    response = await api.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "app": "flowdapt",
        "version": flowdapt.__version__,
        "api_version": "v1alpha1",
    }


async def test_workflow_lifecycle(api):
    sent = workflow_doc()
    sent["metadata"].update(uid=str(uuid.uuid4()), created_at="2001-01-01T00:00:00")
    created = await api.post("/workflows/", json=sent)
    assert created.status_code == 200
    body = created.json()
    assert body["kind"] == "workflow" and body["metadata"]["name"] == "hello"
    assert body["metadata"]["uid"] != sent["metadata"]["uid"]  # the client's uid is not trusted
    assert not body["metadata"]["created_at"].startswith("2001")
    assert NAIVE_TIMESTAMP.match(body["metadata"]["created_at"])
    uid = body["metadata"]["uid"]

    by_name, by_uid = await api.get("/workflows/hello"), await api.get(f"/workflows/{uid}")
    assert by_name.json() == by_uid.json() == body
    assert [w["metadata"]["name"] for w in (await api.get("/workflows/")).json()] == ["hello"]

    changed = workflow_doc(annotations={"group": "demo"})
    updated = (await api.put("/workflows/hello", json=changed)).json()
    assert updated["metadata"]["uid"] == uid
    assert updated["metadata"]["created_at"] == body["metadata"]["created_at"]
    assert updated["metadata"]["annotations"] == {"group": "demo"}

    deleted = await api.delete("/workflows/hello")
    assert deleted.status_code == 200 and deleted.json()["metadata"]["uid"] == uid
    gone = await api.get("/workflows/hello")
    assert gone.status_code == 404
    assert gone.json() == {"detail": gone.json()["detail"], "status_code": 404}


async def test_configs_and_triggers_share_the_same_routes(api):
    config = {
        "kind": "config",
        "metadata": {"name": "c"},
        "spec": {"selector": {"type": "name", "value": "hello"}, "data": {"k": 1}},
    }
    trigger = {
        "kind": "trigger_rule",
        "metadata": {"name": "t"},
        "spec": {
            "type": "schedule",
            "rule": ["*/5 * * * *"],
            "action": {"target": "run_workflow", "parameters": {"workflow": "w"}},
        },
    }
    assert (await api.post("/configs/", json=config)).json()["kind"] == "config"
    assert (await api.post("/triggers/", json=trigger)).json()["spec"]["type"] == "schedule"
    assert len((await api.get("/configs/")).json()) == 1
    assert (await api.delete("/triggers/t")).json()["metadata"]["name"] == "t"


async def test_listing_is_paginated(api):
    for index in range(5):
        await api.post("/workflows/", json=workflow_doc(f"w{index}"))
    page = await api.get("/workflows/", params={"limit": 2, "offset": 1})
    assert [w["metadata"]["name"] for w in page.json()] == ["w1", "w2"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"kind": "bogus", "metadata": {"name": "x"}, "spec": {}}', "bogus"),
        (b'{"kind": "workflow", "metadata": {}, "spec": {"stages": []}}', "metadata.name"),
        (
            b'{"metadata": {"name": "c"}, "spec": {"stages": [{"name": "a", "target": "m.f", '
            b'"depends_on": ["b"]}, {"name": "b", "target": "m.f", "depends_on": ["a"]}]}}',
            "cycle",
        ),
        (b"[1, 2]", "JSON object"),
        (
            b'{"metadata": {"name": "' + b"n" * 256 + b'"}, "spec": {"stages": [{"name": "a", '
            b'"target": "m.f"}]}}',
            "at most 255",
        ),
    ],
    ids=[
        "malformed-json",
        "unknown-kind",
        "missing-name",
        "cycle",
        "not-an-object",
        "name-too-long",
    ],
)
async def test_bad_documents_get_422_naming_the_problem(api, body, fragment):
    response = await api.post(
        "/workflows/", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["status_code"] == 422
    assert fragment in response.json()["detail"]
    assert (await api.get("/workflows/")).json() == []  # nothing stored


async def test_duplicate_create_is_409(api):
    assert (await api.post("/workflows/", json=workflow_doc())).status_code == 200
    again = await api.post("/workflows/", json=workflow_doc())
    assert again.status_code == 409
    assert again.json()["status_code"] == 409 and "hello" in again.json()["detail"]


async def test_update_of_a_missing_resource_is_404(api):
    response = await api.put("/workflows/ghost", json=workflow_doc("ghost"))
    assert response.status_code == 404


async def test_wrong_api_version_header_is_refused(api):
    ok = await api.get("/workflows/", headers={"X-API-Version": "workflow.v1alpha1"})
    wrong = await api.get("/workflows/", headers={"X-API-Version": "config.v1alpha1"})
    assert ok.status_code == 200
    assert wrong.status_code == 400 and wrong.json()["status_code"] == 400


async def test_oversized_body_is_413(api):
    huge = {
        "kind": "workflow",
        "metadata": {"name": "big", "annotations": {"x": "y" * 70_000}},
        "spec": {"stages": [{"name": "a", "target": "m.f"}]},
    }
    response = await api.post("/workflows/", json=huge)
    assert response.status_code == 413
    assert response.json()["status_code"] == 413


async def test_status_and_plugins(api):
    status = (await api.get("/status")).json()
    for key in ("version", "name", "system", "os", "python", "hostname", "services", "database"):
        assert key in status
    assert status["services"]["compute"]["executor"] == "local"
    assert status["database"].startswith("memory")
    assert isinstance((await api.get("/plugin/")).json(), list)
    missing = await api.get("/plugin/nope")
    assert missing.status_code == 404 and missing.json()["status_code"] == 404


async def test_openapi_document_is_served(api):
    document = (await api.get("/openapi.json")).json()
    for path in (
        "/workflows/",
        "/workflows/{identifier}/run",
        "/workflows/run/{identifier}",
        "/configs/{identifier}",
        "/triggers/",
        "/status",
        "/metrics",
        "/plugin/",
    ):
        assert path in document["paths"]
