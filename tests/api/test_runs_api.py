"""Running workflows over HTTP: wait or not, failures, the API staying responsive."""

from __future__ import annotations

import asyncio
import re
import time

from tests.api.conftest import workflow_doc

S = "tests.api.stages"
NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


async def _create(api, *stages, name="hello"):
    response = await api.post("/workflows/", json=workflow_doc(name, *stages))
    assert response.status_code == 200, response.text
    return response.json()


async def test_run_and_wait_returns_the_finished_run(api):
    workflow = await _create(api)
    response = await api.post(
        f"/workflows/{workflow['metadata']['uid']}/run",
        params={"wait": "True"},
        json={"who": "Oslo"},
    )
    run = response.json()
    assert response.status_code == 200
    assert run["state"] == "finished" and run["result"] == "hello Oslo"
    assert run["source"] == "api" and run["workflow"] == "hello"
    assert NAIVE.match(run["started_at"]) and NAIVE.match(run["finished_at"])
    assert re.match(r"^[a-z]+-[a-z]+-[0-9a-f]{8}$", run["name"])


async def test_run_without_body_takes_no_input(api):
    await _create(api)
    response = await api.post(
        "/workflows/hello/run?wait=True", headers={"content-type": "application/json"}
    )
    assert response.json()["result"] == "hello world"


async def test_run_without_waiting_then_poll(api):
    await _create(api, {"name": "nap", "target": f"{S}.nap"})
    started = (
        await api.post("/workflows/hello/run", params={"wait": "False"}, json={"seconds": 0.2})
    ).json()
    assert started["state"] == "pending" and started["result"] is None
    for _ in range(100):
        run = (await api.get(f"/workflows/run/{started['uid']}")).json()
        if run["state"] == "finished":
            break
        await asyncio.sleep(0.05)
    assert run["state"] == "finished" and run["result"] == 0.2
    assert run["stages"][0]["name"] == "nap" and run["stages"][0]["state"] == "finished"
    by_name = (await api.get(f"/workflows/run/{started['name']}")).json()
    assert by_name["uid"] == started["uid"]


async def test_bad_wait_parameter_is_a_4xx_not_a_500(api):
    await _create(api)
    response = await api.post("/workflows/hello/run?wait=maybe")
    assert response.status_code == 422
    assert "wait" in response.json()["detail"]


async def test_run_of_a_missing_workflow_is_404(api):
    response = await api.post("/workflows/ghost/run")
    assert response.status_code == 404 and response.json()["status_code"] == 404


async def test_unimportable_target_fails_the_run_and_the_server_lives(api):
    await _create(api, {"name": "gone", "target": "not_a_module.anywhere"})
    run = (await api.post("/workflows/hello/run")).json()
    assert run["state"] == "failed"
    assert run["result"][0] == "ModuleNotFoundError"
    assert (await api.get("/")).status_code == 200


async def test_a_stage_calling_sys_exit_fails_only_its_run(api):
    await _create(api, {"name": "leave", "target": f"{S}.leave"})
    run = (await api.post("/workflows/hello/run")).json()
    assert run["state"] == "failed" and run["result"][0] == "SystemExit"
    assert (await api.get("/")).status_code == 200


async def test_a_result_json_cannot_express_is_sent_as_its_repr(api):
    await _create(api, {"name": "odd", "target": f"{S}.unjsonable"})
    run = (await api.post("/workflows/hello/run")).json()
    assert run["state"] == "finished" and run["result"].startswith("<object object")


async def test_configs_reach_the_run(api):
    await _create(api, {"name": "cfg", "target": f"{S}.show_config"})
    config = {
        "kind": "config",
        "metadata": {"name": "c"},
        "spec": {"selector": {"type": "name", "value": "hello"}, "data": {"city": "Oslo"}},
    }
    await api.post("/configs/", json=config)
    assert (await api.post("/workflows/hello/run")).json()["result"] == {"city": "Oslo"}
    config["spec"]["data"] = {"city": "Lima"}  # takes effect on the next run, no restart
    await api.put("/configs/c", json=config)
    assert (await api.post("/workflows/hello/run")).json()["result"] == {"city": "Lima"}


async def test_api_stays_responsive_while_blocking_stages_run(api):
    await _create(api, {"name": "nap", "target": f"{S}.nap"})
    uids = [
        (await api.post("/workflows/hello/run?wait=False", json={"seconds": 1.5})).json()["uid"]
        for _ in range(3)
    ]
    for _ in range(100):  # until all three stages block their threads
        runs = [(await api.get(f"/workflows/run/{uid}")).json() for uid in uids]
        if all(run["stages"] and run["stages"][0]["state"] == "running" for run in runs):
            break
        await asyncio.sleep(0.02)
    started = time.monotonic()
    for _ in range(5):
        assert (await api.get("/")).status_code == 200
        assert (await api.get("/workflows/")).status_code == 200
    assert time.monotonic() - started < 0.5  # while three stages sleep in their threads
    assert all(run["state"] == "running" for run in runs)


async def test_runs_are_listed_newest_first_and_deleted(api):
    await _create(api)
    names = [(await api.post("/workflows/hello/run")).json()["name"] for _ in range(3)]
    listed = (await api.get("/workflows/hello/run", params={"limit": 2})).json()
    assert [run["name"] for run in listed] == names[::-1][:2]
    assert "stages" not in listed[0]
    deleted = await api.delete(f"/workflows/run/{names[0]}")
    assert deleted.status_code == 200 and deleted.json()["name"] == names[0]
    assert (await api.get(f"/workflows/run/{names[0]}")).status_code == 404


async def test_deeply_nested_json_is_a_422_not_a_500(api):
    await _create(api)
    response = await api.post(
        "/workflows/hello/run", content=b"[" * 50_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["status_code"] == 422


async def test_metrics_count_runs(api):
    await _create(api)
    await api.post("/workflows/hello/run")
    metrics = (await api.get("/metrics")).json()
    started = metrics["flowdapt.runs.started"][0]
    assert started["value"] == 1 and started["attributes"]["workflow"] == "hello"
    assert metrics["flowdapt.runs.duration"][0]["count"] == 1
