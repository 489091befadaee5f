"""`kill -9` during a run: after a restart every resource is there, the interrupted run is settled
as failed with a reason, and new runs work — on the embedded default and on the TinyDB target.
Servers sharing a database settle only the runs of their own name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TINYDB, Server, kill_hard, run_state, wait_until

pytestmark = pytest.mark.slow

INTERRUPTED_ERROR_TYPE = "RunInterruptedError"


def workflow(name: str, target: str, **stage: Any) -> dict[str, Any]:
    return {
        "kind": "workflow",
        "metadata": {"name": name},
        "spec": {"stages": [{"name": "only", "target": target, **stage}]},
    }


@pytest.mark.parametrize("database", [None, TINYDB], ids=["sqlite", "tinydb"])
def test_kill_9_during_a_run(servers: Callable[..., Server], database: str | None) -> None:
    server = servers(database)
    server.start()
    names = [f"crash_{index:02d}" for index in range(20)]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for name in names:
            created = client.post("/workflows/", json=workflow(name, "tests.e2e.stages.echo"))
            assert created.status_code == 200, created.text
        created = client.post("/workflows/", json=workflow("crash_sleeper", "tests.e2e.stages.nap"))
        assert created.status_code == 200, created.text
        started = client.post(
            "/workflows/crash_sleeper/run", params={"wait": False}, json={"seconds": 120}
        )
        assert started.status_code == 200, started.text
        uid = started.json()["uid"]
        wait_until(lambda: run_state(client, uid) == "running", 10, "the run to be running")

    kill_hard(server)
    server.start()

    with httpx.Client(base_url=server.url, timeout=10) as client:
        listed = client.get("/workflows/", params={"limit": 1000})
        assert listed.status_code == 200, listed.text
        assert {item["metadata"]["name"] for item in listed.json()} == {*names, "crash_sleeper"}
        for name in names:
            fetched = client.get(f"/workflows/{name}")
            assert fetched.status_code == 200, fetched.text
            assert fetched.json()["spec"]["stages"][0]["target"] == "tests.e2e.stages.echo"

        run = client.get(f"/workflows/run/{uid}").json()
        assert run["state"] == "failed"
        assert run["finished_at"] is not None
        assert run["error"]["type"] == INTERRUPTED_ERROR_TYPE
        assert "server stopped" in run["error"]["message"]
        assert run["result"] == [INTERRUPTED_ERROR_TYPE, run["error"]["message"]]
        assert all(stage["state"] not in {"pending", "running"} for stage in run["stages"])
        assert client.get("/workflows/run/", params={"state": "running"}).json() == []

        again = client.post(f"/workflows/{names[0]}/run", json={"value": "after the crash"})
        assert again.status_code == 200, again.text
        assert again.json()["state"] == "finished"
        assert again.json()["result"] == "after the crash"
        sleeper = client.post("/workflows/crash_sleeper/run", json={"seconds": 0.01})
        assert sleeper.status_code == 200 and sleeper.json()["state"] == "finished", sleeper.text

    assert "settled 1 run(s)" in server.log()
    assert server.stop() is not None


def test_a_server_starting_on_a_shared_database_leaves_another_servers_runs(
    servers: Callable[..., Server], fresh_postgres_url: str
) -> None:
    alpha = servers(fresh_postgres_url, options=("name=alpha",))
    beta = servers(fresh_postgres_url, options=("name=beta",))
    alpha.start()
    with httpx.Client(base_url=alpha.url, timeout=10) as client:
        created = client.post("/workflows/", json=workflow("shared_nap", "tests.e2e.stages.nap"))
        assert created.status_code == 200, created.text
        uids = []
        for seconds in (4, 120):
            started = client.post(
                "/workflows/shared_nap/run", params={"wait": False}, json={"seconds": seconds}
            )
            assert started.status_code == 200, started.text
            assert started.json()["server"] == "alpha"
            uids.append(started.json()["uid"])
        short, long = uids
        for uid in uids:
            wait_until(lambda u=uid: run_state(client, u) == "running", 10, "the runs to run")

        beta.start()  # used to settle every unfinished run in the database, alpha's included

        with httpx.Client(base_url=beta.url, timeout=10) as other:
            assert run_state(other, long) == "running"
        wait_until(lambda: run_state(client, short) != "running", 30, "the short run to end")
        assert run_state(client, short) == "finished"
    assert "settled" not in beta.log()

    # alpha dies; nobody else touches its run, until a server of that name starts once
    kill_hard(alpha)
    with httpx.Client(base_url=beta.url, timeout=10) as other:
        assert run_state(other, long) == "running"
    alpha.start()
    with httpx.Client(base_url=alpha.url, timeout=10) as client:
        run = client.get(f"/workflows/run/{long}").json()
        assert run["state"] == "failed"
        assert run["error"]["type"] == INTERRUPTED_ERROR_TYPE
    assert "settled 1 run(s)" in alpha.log()
    assert beta.stop() is not None and alpha.stop() is not None
