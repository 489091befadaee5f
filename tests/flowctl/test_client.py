"""The SDK against the fake server: CRUD, apply outcomes, runs, plugins, errors, headers."""

from __future__ import annotations

import socket

import pytest
from flowctl.client import FlowdaptClient
from flowctl.errors import ApiError, Conflict, FlowctlError, Invalid, NotFound, ServerUnreachable

from tests.flowctl.fake_server import FakeFlowdapt

WORKFLOW = {
    "kind": "workflow",
    "metadata": {"name": "w", "annotations": {"group": "a"}},
    "spec": {"stages": [{"name": "s", "target": "m.f"}]},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_crud_round_trip(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    created = client.create_resource(WORKFLOW)
    assert created["metadata"]["name"] == "w"
    assert client.get_resource("workflow", created["metadata"]["uid"])["metadata"]["name"] == "w"
    assert [wf["metadata"]["name"] for wf in client.list_resources("workflow")] == ["w"]
    updated = client.update_resource({**WORKFLOW, "spec": {"stages": []}})
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert client.delete_resource("workflow", "w")["metadata"]["name"] == "w"
    assert client.list_all("workflow") == []
    assert fake.calls() == [
        "POST /workflows/",
        f"GET /workflows/{created['metadata']['uid']}",
        "GET /workflows/",
        "PUT /workflows/w",
        "DELETE /workflows/w",
        "GET /workflows/?limit=500&offset=0",
    ]


def test_apply_reports_created_updated_unchanged(client: FlowdaptClient) -> None:
    assert client.apply(WORKFLOW) == "created"
    # The server filled defaults (type: simple, depends_on: []…): still unchanged.
    assert client.apply(WORKFLOW) == "unchanged"
    relabelled = {**WORKFLOW, "metadata": {"name": "w", "annotations": {"group": "b"}}}
    assert client.apply(relabelled) == "updated"
    stage = {"name": "s", "target": "m.f", "type": "parameterized"}
    assert client.apply({**relabelled, "spec": {"stages": [stage]}}) == "updated"
    assert client.apply({**relabelled, "spec": {"stages": [stage]}}) == "unchanged"
    # Dropping a non-default value is a change too.
    assert client.apply(relabelled) == "updated"


def test_errors_follow_the_body_status_code(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    with pytest.raises(NotFound) as missing:
        client.get_resource("config", "nope")
    assert missing.value.status_code == 404
    assert missing.value.detail == "config nope not found"
    client.create_resource(WORKFLOW)
    with pytest.raises(Conflict):
        client.create_resource(WORKFLOW)
    fake.duplicate_status = 400  # what the original answers
    with pytest.raises(Invalid):
        client.create_resource(WORKFLOW)
    with pytest.raises(Invalid):
        client.create_resource({"kind": "workflow", "metadata": {"name": "x"}, "spec": {}})
    with pytest.raises(FlowctlError, match="unknown resource kind"):
        client.create_resource({"kind": "pipeline", "metadata": {"name": "x"}, "spec": {}})
    assert issubclass(NotFound, ApiError)
    assert issubclass(ApiError, FlowctlError)


def test_run_waits_and_sends_capitalised_wait(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    client.create_resource(WORKFLOW)
    run = client.run_workflow("w", {"n_vals": 5}, namespace="ns1")
    assert run["state"] == "finished"
    assert run["result"] == {"input": {"n_vals": 5}}
    pending = client.run_workflow("w", wait=False)
    assert pending["state"] == "pending"
    assert pending["result"] is None
    posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/run")]
    assert [r.query for r in posts] == [{"wait": "True", "namespace": "ns1"}, {"wait": "False"}]
    assert posts[0].body == b'{"n_vals": 5}'
    assert posts[1].body == b""  # no options, no body (as the original client)
    assert posts[1].headers["content-type"] == "application/json"


def test_runs_list_get_delete(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    client.create_resource(WORKFLOW)
    first = client.run_workflow("w", {"a": 1})
    client.run_workflow("w", {"a": 2})
    assert len(client.list_runs("w")) == 2
    assert len(client.list_runs("w", limit=1)) == 1
    assert client.get_run(first["uid"])["name"] == first["name"]
    assert client.get_run(first["name"])["uid"] == first["uid"]
    assert client.delete_run(first["name"])["uid"] == first["uid"]
    with pytest.raises(NotFound):
        client.get_run(first["uid"])
    assert fake.calls()[-6:] == [
        "GET /workflows/w/run",
        "GET /workflows/w/run?limit=1",
        f"GET /workflows/run/{first['uid']}",
        f"GET /workflows/run/{first['name']}",
        f"DELETE /workflows/run/{first['name']}",
        f"GET /workflows/run/{first['uid']}",
    ]


def test_list_all_follows_pages(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    for index in range(5):
        client.create_resource({**WORKFLOW, "metadata": {"name": f"w{index}"}})
    fake.requests.clear()
    names = [wf["metadata"]["name"] for wf in client.list_all("workflow", page_size=2)]
    assert names == ["w0", "w1", "w2", "w3", "w4"]
    assert fake.calls() == [
        "GET /workflows/?limit=2&offset=0",
        "GET /workflows/?limit=2&offset=2",
        "GET /workflows/?limit=2&offset=4",
        "GET /workflows/?limit=2&offset=5",
    ]


def test_list_all_survives_a_capped_or_ignored_limit(
    client: FlowdaptClient, fake: FakeFlowdapt
) -> None:
    for index in range(3):
        client.create_resource({**WORKFLOW, "metadata": {"name": f"w{index}"}})
    fake.requests.clear()
    # The fake ignores nothing, but a page_size above the count looks like a capped server.
    assert len(client.list_all("workflow", page_size=1000)) == 3
    assert fake.calls() == [
        "GET /workflows/?limit=1000&offset=0",
        "GET /workflows/?limit=1000&offset=3",
    ]
    fake.ignore_paging = True  # as the original server: every page is the whole list
    assert len(client.list_all("workflow", page_size=2)) == 3


def test_server_info_and_plugins(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    assert client.ping()["app"] == "flowdapt"
    assert client.status()["services"] == {"compute": {"status": "OK"}}
    assert set(client.metrics()) == {"runs_total", "latency"}
    assert client.list_plugins()[0]["name"] == "demo"
    assert client.get_plugin("demo")["module"] == "demo_plugin"
    assert client.plugin_files("demo") == ["workflows.yaml"]
    assert client.plugin_file("demo", "workflows.yaml") == b"kind: workflow\n"
    with pytest.raises(NotFound):
        client.get_plugin("other")
    accepts = {r.path: r.headers.get("accept") for r in fake.requests}
    assert accepts["/"] == "application/json"
    assert accepts["/status"] == "application/vnd.flowdapt.ai.system.v1alpha1+json"
    assert accepts["/plugin/demo/files/workflows.yaml"] == "application/octet-stream"


def test_version_headers_per_kind(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    client.create_resource(WORKFLOW)
    client.create_resource(
        {"kind": "config", "metadata": {"name": "c"}, "spec": {"data": {"x": 1}}}
    )
    client.list_resources("trigger_rule")
    client.run_workflow("w")
    versions = [(r.method, r.path, r.headers["x-api-version"]) for r in fake.requests]
    assert versions == [
        ("POST", "/workflows/", "workflow.v1alpha1"),
        ("POST", "/configs/", "config.v1alpha1"),
        ("GET", "/triggers/", "trigger_rule.v1alpha1"),
        ("POST", "/workflows/w/run", "workflow_run.v1alpha1"),
    ]
    assert all(r.headers["user-agent"].startswith("flowctl/") for r in fake.requests)


def test_names_are_url_encoded(client: FlowdaptClient, fake: FakeFlowdapt) -> None:
    with pytest.raises(NotFound):
        client.get_resource("workflow", "a b/c")
    assert fake.requests[-1].path == "/workflows/a%20b%2Fc"


def test_unreachable_server() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with FlowdaptClient(url, timeout=2) as sdk, pytest.raises(ServerUnreachable) as caught:
        sdk.ping()
    assert url in str(caught.value)
