"""Run logs on a real server: paged and filtered over HTTP, followed with flowctl while the run
is live, capped without the server's memory growing, swept with their run."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from tests.e2e.conftest import BIN, Server

L = "tests.resources.log_stages"


def _workflow(name: str, *stages: dict) -> dict:
    return {"kind": "workflow", "metadata": {"name": name}, "spec": {"stages": list(stages)}}


LOGGING = _workflow(
    "logging",
    {"name": "greet", "target": f"{L}.greet"},
    {"name": "shout", "target": f"{L}.shout", "type": "parameterized", "map_on": "items",
     "depends_on": ["greet"], "options": {"batch_size": 1}},
)  # fmt: skip
SLOW = _workflow(
    "slow_logging",
    {"name": "tick", "target": f"{L}.tick", "type": "parameterized", "map_on": "items",
     "options": {"batch_size": 1}},
)  # fmt: skip
FLOOD = _workflow("flood", {"name": "flood", "target": f"{L}.flood"})
FAIL = _workflow("fail", {"name": "fail", "target": f"{L}.fail_loudly"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from tests.e2e.conftest import free_port

    app = tmp_path_factory.mktemp("logs-app")
    instance = Server(app, free_port(), None, options=("services.compute.log_max_lines=200",))
    instance.start()
    with httpx.Client(base_url=instance.url, timeout=60) as client:
        for definition in (LOGGING, SLOW, FLOOD, FAIL):
            assert client.post("/workflows/", json=definition).status_code == 200
    yield instance
    instance.stop()


def _run(client: httpx.Client, name: str, body: dict, wait: bool = True) -> dict:
    response = client.post(f"/workflows/{name}/run", params={"wait": str(wait)}, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _flowctl(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "flowctl"), "--server", server.url, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_runs_log_is_paged_and_filtered_by_stage(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        run = _run(client, "logging", {"name": "Oslo", "items": [0, 1, 2]})
        assert run["state"] == "finished"
        page = client.get(f"/workflows/run/{run['name']}/logs").json()
        assert page["total"] == 8 and page["truncated"] is False
        assert [line["seq"] for line in page["lines"]] == list(range(8))
        first = page["lines"][0]
        assert (first["stage"], first["source"]) == ("greet", "stdout")
        assert first["message"] == "hello Oslo"
        url = f"/workflows/run/{run['uid']}/logs"
        shout = client.get(url, params={"stage": "shout", "limit": 100}).json()["lines"]
        # A task's lines arrive together: each item's print, then its log record.
        pairs = [shout[index : index + 2] for index in range(0, 6, 2)]
        for printed, logged in pairs:
            assert printed["item"] == logged["item"]
            assert printed["source"] == ("stderr" if printed["item"] % 2 else "stdout")
            assert logged["message"] == f"warning from item {logged['item']}"
        assert sorted(pair[0]["item"] for pair in pairs) == [0, 1, 2]
        page = client.get(url, params={"stage": "shout", "offset": 2, "limit": 3}).json()
        assert page["total"] == 6 and page["lines"] == shout[2:5]
        assert client.get("/workflows/run/no-such-run/logs").status_code == 404
        assert client.get("/workflows/run/no-such-run/logs/stream").status_code == 404


def test_flowctl_logs_prints_and_follows_a_live_run(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        run = _run(client, "slow_logging", {"items": [0, 1, 2, 3], "seconds": 0.4}, wait=False)
        followed = _flowctl(server, "logs", run["name"], "--follow")
        assert followed.returncode == 0, followed.stderr
        ticks = [line.split("tick ")[1] for line in followed.stdout.splitlines() if "tick " in line]
        assert sorted(ticks) == ["0", "1", "2", "3"]  # each once, in the order they happened
        assert f"run {run['name']} finished" in followed.stderr
        only = _flowctl(server, "logs", run["name"], "--stage", "nothing")
        assert only.returncode == 0 and only.stdout == ""


def test_a_stage_that_prints_megabytes_is_capped_and_the_server_stays_small(
    server: Server,
) -> None:
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    with httpx.Client(base_url=server.url, timeout=120) as client:
        _run(client, "flood", {"megabytes": 1})  # warm up what a first run allocates
        before = process.memory_info().rss
        run = _run(client, "flood", {"megabytes": 40})
        grown = process.memory_info().rss - before
        assert run["state"] == "finished"
        page = client.get(f"/workflows/run/{run['name']}/logs", params={"limit": 5000}).json()
    assert page["total"] == 201 and page["truncated"] is True  # 200 lines, then the marker
    marker = page["lines"][-1]
    assert marker["source"] == "truncated"
    assert "40760 more line(s) were dropped" in marker["message"]  # 40 x 1024 printed, 200 kept
    assert grown < 30 * 1024 * 1024, f"the server grew by {grown / 1e6:.0f} MB"


def test_a_failed_runs_log_ends_with_the_error_and_goes_with_the_run(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        run = _run(client, "fail", {})
        assert run["state"] == "failed"
        lines = client.get(f"/workflows/run/{run['name']}/logs").json()["lines"]
        assert lines[0]["message"] == "about to fail"
        assert lines[-1]["level"] == "ERROR" and "RuntimeError: stage broke" in lines[-1]["message"]
        assert client.delete(f"/workflows/run/{run['name']}").status_code == 200
        assert client.get(f"/workflows/run/{run['name']}/logs").status_code == 404


def test_the_servers_json_log_names_the_run_and_stage_of_each_line(
    servers: Callable[..., Server],
) -> None:
    server = servers(options=("logging.format=json", "logging.level=info"))
    server.start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for definition in (LOGGING, FAIL):
            assert client.post("/workflows/", json=definition).status_code == 200
        ok = _run(client, "logging", {"name": "Lima", "items": [0]})
        failed = _run(client, "fail", {})
    assert server.stop() == 0
    records = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    greeted = next(r for r in records if r.get("event") == "greeted Lima")
    assert greeted["run_id"] == ok["uid"] and greeted["stage"] == "greet"
    assert greeted["workflow"] == "logging" and greeted["level"] == "info"
    # The server's own line about the failed run, written while driving it.
    report = next(r for r in records if "failed in stage 'fail'" in r.get("event", ""))
    assert report["run"] == failed["name"] and report["level"] == "error"
    startup = next(r for r in records if "run_id" not in r)
    assert startup["logger"]  # lines about no run carry no run fields
