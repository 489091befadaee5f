"""SIGTERM during runs: a short run is allowed to finish and the server exits cleanly; a long run
is stopped within bounded time and recorded final with a reason — never left `running`."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import Server, run_state, wait_until

pytestmark = pytest.mark.slow

GRACE = 10.0  # the compute service's stop grace (bootstrap.build_app's stop_grace)
NAP = {
    "kind": "workflow",
    "metadata": {"name": "nap"},
    "spec": {"stages": [{"name": "nap", "target": "tests.e2e.stages.nap"}]},
}


def start_with_nap(servers: Callable[..., Server]) -> Server:
    server = servers()
    server.start()
    created = httpx.post(f"{server.url}/workflows/", json=NAP, timeout=10)
    assert created.status_code == 200, created.text
    return server


def start_run(client: httpx.Client, seconds: float) -> str:
    started = client.post("/workflows/nap/run", params={"wait": False}, json={"seconds": seconds})
    assert started.status_code == 200, started.text
    uid = str(started.json()["uid"])
    wait_until(lambda: run_state(client, uid) == "running", 10, "the run to be running")
    return uid


def sigterm(server: Server, timeout: float) -> tuple[int | None, float]:
    """Send SIGTERM; the exit code (None if still alive at `timeout`) and the seconds it took."""
    assert server.process is not None
    began = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        code: int | None = server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        code = None
    return code, time.monotonic() - began


def test_sigterm_lets_a_short_run_finish(servers: Callable[..., Server]) -> None:
    server = start_with_nap(servers)
    with httpx.Client(base_url=server.url, timeout=10) as client, ThreadPoolExecutor(1) as pool:
        background = start_run(client, 1.0)
        # A client waiting on a run (wait=True) when the signal arrives gets its answer too.
        waiting = pool.submit(
            httpx.post, f"{server.url}/workflows/nap/run", json={"seconds": 1.0}, timeout=30
        )
        wait_until(
            lambda: len(client.get("/workflows/nap/run", params={"state": "running"}).json()) == 2,
            10,
            "both runs to be running",
        )
        code, took = sigterm(server, GRACE + 5)
        assert code is not None, f"still alive {took:.1f}s after SIGTERM"
        assert took < GRACE, f"exit took {took:.1f}s"
        answer = waiting.result(5)
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "finished" and answer.json()["result"] == 1.0
        waited = str(answer.json()["uid"])

    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for uid in (background, waited):
            run = client.get(f"/workflows/run/{uid}").json()
            assert run["state"] == "finished", run
            assert run["result"] == 1.0 and run["error"] is None
            assert run["finished_at"] is not None
            assert [stage["state"] for stage in run["stages"]] == ["finished"]
            assert run["stages"][0]["finished_at"] is not None
    assert "settled" not in server.log()  # nothing was left for the start-up to settle


def test_sigterm_exit_code_is_zero(servers: Callable[..., Server]) -> None:
    server = start_with_nap(servers)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        start_run(client, 1.0)
    code, took = sigterm(server, GRACE + 5)
    assert code == 0, f"exit code {code} after {took:.1f}s"


def test_sigterm_during_a_long_run(servers: Callable[..., Server]) -> None:
    server = start_with_nap(servers)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        uid = start_run(client, 60.0)
    code, took = sigterm(server, 25)
    assert code is not None, f"still alive {took:.1f}s after SIGTERM"
    assert took < 20, f"exit took {took:.1f}s"

    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        run = client.get(f"/workflows/run/{uid}").json()
        # Recorded by the shutdown itself, not settled by the next start-up.
        assert run["state"] == "cancelled", run
        assert "shut down" in run["error"]["message"], run
        assert "settled" not in server.log()
        assert run["finished_at"] is not None
        assert run["error"] is not None and run["error"]["message"], run
        assert run["result"] == [run["error"]["type"], run["error"]["message"]]
        assert all(stage["state"] not in {"pending", "running"} for stage in run["stages"])
