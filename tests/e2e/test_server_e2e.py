"""The real server process driven by our flowctl and over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.conftest import Server, flowctl

RESOURCES = Path(__file__).with_name("resources.yaml")


def test_apply_get_run_delete_with_flowctl(server: Server):
    applied = flowctl(server, "apply", "-p", str(RESOURCES))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("created") + applied.stdout.count("unchanged") >= 3
    again = flowctl(server, "apply", "-p", str(RESOURCES))
    assert again.returncode == 0 and "created" not in again.stdout

    listed = flowctl(server, "get", "workflows", "--format", "json")
    names = {item["metadata"]["name"] for item in json.loads(listed.stdout)}
    assert {"e2e_hello", "e2e_fanout"} <= names

    run = flowctl(server, "run", "e2e_fanout", "--n", "4", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert "14" in run.stdout  # 0 + 1 + 4 + 9

    hello = flowctl(server, "run", "e2e_hello", "--who", "Lima")
    assert hello.returncode == 0 and "hello Lima" in hello.stdout

    runs = flowctl(server, "get", "runs", "e2e_fanout", "--format", "json")
    assert runs.returncode == 0 and json.loads(runs.stdout)[0]["state"] == "finished"

    status = flowctl(server, "status")
    assert status.returncode == 0

    deleted = flowctl(server, "delete", "workflow", "e2e_hello")
    assert deleted.returncode == 0 and "e2e_hello" in deleted.stdout
    missing = flowctl(server, "get", "workflow", "e2e_hello")
    assert missing.returncode == 1


def test_http_run_persists_across_requests(server: Server):
    workflow = {
        "kind": "workflow",
        "metadata": {"name": "e2e_http"},
        "spec": {"stages": [{"name": "greet", "target": "tests.api.stages.greet"}]},
    }
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.delete("/workflows/e2e_http")
        assert client.post("/workflows/", json=workflow).status_code == 200
        run = client.post(
            "/workflows/e2e_http/run", params={"wait": "True"}, json={"who": "Quito"}
        ).json()
        assert run["state"] == "finished" and run["result"] == "hello Quito"
        stored = client.get(f"/workflows/run/{run['uid']}").json()
        assert stored["state"] == "finished" and stored["result"] == "hello Quito"
        assert stored["stages"][0]["state"] == "finished"
        assert client.get("/workflows/e2e_http/run").json()[0]["uid"] == run["uid"]
        bad = client.post("/workflows/e2e_http/run?wait=maybe")
        assert bad.status_code == 422


def test_unreachable_server_exit_code(tmp_path):
    result = flowctl(Server(tmp_path, 1, None), "status")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
