"""The dashboard's page, assets and JSON endpoints, with the app called in-process."""

from __future__ import annotations

import asyncio

import httpx

from flowdapt.api.dashboard.assets import STATIC


async def wait_for_state(api: httpx.AsyncClient, name: str, states: set[str]) -> dict:
    for _ in range(400):
        run = (await api.get(f"/workflows/run/{name}")).json()
        if run["state"] in states:
            return run
        await asyncio.sleep(0.025)
    raise AssertionError(f"run {name} never reached {states}")


async def test_the_page_and_every_client_route_serve_the_app(api: httpx.AsyncClient) -> None:
    assert (await api.get("/")).json()["app"] == "flowdapt"  # the API's ping stays at /
    for path in ("/dashboard", "/dashboard/", "/dashboard/runs/some-run", "/dashboard/system"):
        response = await api.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/dashboard/static/js/app.js">' in response.text


async def test_assets_ship_in_the_package_and_nothing_else_is_served(
    api: httpx.AsyncClient,
) -> None:
    index = (STATIC / "index.html").read_text()
    assets = [
        line.split('href="')[1].split('"')[0]
        for line in index.splitlines()
        if 'href="/dashboard/static/' in line
    ]
    assert len(assets) > 10
    for asset in assets:
        response = await api.get(asset)
        assert response.status_code == 200, asset
        assert "cdn" not in response.text.lower() and "https://" not in response.text
    module = await api.get("/dashboard/static/js/app.js")
    assert module.headers["content-type"].startswith("text/javascript")  # module scripts need it
    assert (await api.get("/dashboard/static/js/nope.js")).status_code == 404
    escape = await api.get("/dashboard/static/%2E%2E/assets.py")
    assert escape.status_code == 404
    unknown = await api.get("/dashboard/api/nope")
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 404


async def test_the_dashboard_is_not_part_of_the_public_api(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/dashboard")]


async def test_workflows_with_their_last_run(api: httpx.AsyncClient) -> None:
    run = (await api.post("/workflows/dash-fanout/run", json={"n": 3})).json()
    listed = {w["name"]: w for w in (await api.get("/dashboard/api/workflows")).json()}
    assert listed["dash-diamond"]["stages"] == 5 and listed["dash-diamond"]["parameterized"] == 1
    assert listed["dash-diamond"]["last_run"] is None
    last = listed["dash-fanout"]["last_run"]
    assert last["uid"] == run["uid"] and last["state"] == "finished"
    assert "result" not in last  # rows never carry results (a fan-out's can be huge)


async def test_runs_across_workflows_filtered_and_paged(api: httpx.AsyncClient) -> None:
    for n in range(3):
        await api.post("/workflows/dash-fanout/run", json={"n": n})
    await api.post("/workflows/dash-diamond/run", json={"n": 1})
    everything = (await api.get("/dashboard/api/runs", params={"limit": 2})).json()
    assert everything["total"] == 4 and len(everything["runs"]) == 2
    assert everything["runs"][0]["workflow"] == "dash-diamond"  # newest first
    second = (await api.get("/dashboard/api/runs", params={"limit": 2, "offset": 2})).json()
    assert {r["uid"] for r in second["runs"]}.isdisjoint(r["uid"] for r in everything["runs"])
    fanouts = (await api.get("/dashboard/api/runs", params={"workflow": "dash-fanout"})).json()
    assert fanouts["total"] == 3 and {r["workflow"] for r in fanouts["runs"]} == {"dash-fanout"}
    failed = (await api.get("/dashboard/api/runs", params={"state": "failed"})).json()
    assert failed == {"total": 0, "limit": 50, "offset": 0, "runs": []}
    assert (await api.get("/dashboard/api/runs", params={"workflow": "nope"})).status_code == 404
    assert (await api.get("/dashboard/api/runs", params={"state": "bogus"})).status_code == 422


async def test_cancel_a_running_run(api: httpx.AsyncClient) -> None:
    run = (await api.post("/workflows/dash-long/run", params={"wait": "False"})).json()
    await wait_for_state(api, run["name"], {"running"})
    response = await api.post(f"/dashboard/api/runs/{run['name']}/cancel")
    assert response.status_code == 200 and response.json()["cancelling"] is True
    ended = await wait_for_state(api, run["name"], {"cancelled", "failed", "finished"})
    assert ended["state"] == "cancelled"
    again = await api.post(f"/dashboard/api/runs/{run['uid']}/cancel")
    assert again.status_code == 409 and "ended already" in again.json()["detail"]
    missing = await api.post("/dashboard/api/runs/no-such-run/cancel")
    assert missing.status_code == 404


async def test_a_resource_as_yaml_and_back(api: httpx.AsyncClient) -> None:
    document = (await api.get("/dashboard/api/resources/config/dash-config")).json()
    assert document["resource"]["spec"]["data"] == {"greeting": "hello"}
    assert "uid" not in document["yaml"] and "greeting: hello" in document["yaml"]
    edited = document["yaml"].replace("greeting: hello", "greeting: hej")
    applied = await api.put("/dashboard/api/resources/config/dash-config", content=edited)
    assert applied.status_code == 200, applied.text
    stored = (await api.get("/configs/dash-config")).json()
    assert stored["spec"]["data"] == {"greeting": "hej"}
    assert stored["metadata"]["uid"] == document["resource"]["metadata"]["uid"]
    workflow = (await api.get("/dashboard/api/resources/workflow/dash-diamond")).json()["yaml"]
    assert "description: ''" not in workflow and "type: parameterized" in workflow


async def test_invalid_yaml_is_located_and_nothing_is_stored(api: httpx.AsyncClient) -> None:
    before = (await api.get("/configs/dash-config")).json()
    broken = "kind: config\nmetadata:\n  name: dash-config\nspec:\n  data: {greeting: [unclosed\n"
    response = await api.put("/dashboard/api/resources/config/dash-config", content=broken)
    assert response.status_code == 422
    body = response.json()
    assert body["status_code"] == 422 and body["detail"].startswith("not valid YAML: line")
    assert body["line"] == 6 and body["column"] >= 1
    invalid = (
        "kind: config\nmetadata:\n  name: dash-config\n"
        "spec:\n  selector: {type: name, value: {a: b}}\n"
    )
    response = await api.put("/dashboard/api/resources/config/dash-config", content=invalid)
    assert response.status_code == 422
    assert any("selector" in problem for problem in response.json()["problems"])
    two = "kind: config\n---\nkind: config\n"
    assert (await api.post("/dashboard/api/resources/config", content=two)).status_code == 422
    assert (await api.get("/configs/dash-config")).json() == before


async def test_create_from_yaml(api: httpx.AsyncClient) -> None:
    text = "kind: config\nmetadata: {name: made-here}\nspec:\n  data: {a: 1}\n"
    created = await api.post("/dashboard/api/resources/config", content=text)
    assert (
        created.status_code == 200 and created.json()["resource"]["metadata"]["name"] == "made-here"
    )
    duplicate = await api.post("/dashboard/api/resources/config", content=text)
    assert duplicate.status_code == 409
    wrong_kind = await api.post("/dashboard/api/resources/workflow", content=text)
    assert wrong_kind.status_code == 422
    assert (await api.get("/dashboard/api/resources/nope/made-here")).status_code == 422
    assert (await api.get("/dashboard/api/resources/config/nope")).status_code == 404


async def test_live_status_and_an_unknown_run_stream(api: httpx.AsyncClient) -> None:
    assert (await api.get("/dashboard/api/live")).json()["subscribers"] == 0
    missing = await api.get("/dashboard/api/stream", params={"run": "no-such-run"})
    assert missing.status_code == 404 and missing.json()["status_code"] == 404
