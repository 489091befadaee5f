"""PostgreSQL going away under a running server: resource and run endpoints answer 503 with the
error body in bounded time (never 500, never a hang), `GET /` keeps answering; when the database
comes back the same requests succeed again without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, ThreadedRelay, wait_until

pytestmark = pytest.mark.slow

BOUND = 12.0  # seconds any single request may take while the database is away
CACHE_TTL = 2.0  # the server caches workflow/config reads this long (storage/cache.py)
WORKFLOW = {
    "kind": "workflow",
    "metadata": {"name": "outage"},
    "spec": {"stages": [{"name": "only", "target": "tests.e2e.stages.echo"}]},
}


def timed(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    began = time.monotonic()
    response = client.request(method, path, **kwargs)
    took = time.monotonic() - began
    assert took < BOUND, f"{method} {path} took {took:.1f}s"
    return response


def unavailable(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The 503 the request gets once the server's read cache (CACHE_TTL) no longer answers it."""
    deadline = time.monotonic() + CACHE_TTL + 1
    while True:
        response = timed(client, method, path, **kwargs)
        if response.status_code == 503 or time.monotonic() > deadline:
            return response
        assert method == "GET" and response.status_code == 200, f"{method} {path}: {response.text}"
        time.sleep(0.1)


def requests_of(run_uid: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The resource and run requests the test makes during and after the outage."""
    other = {**WORKFLOW, "metadata": {"name": "outage_other"}}
    return [
        ("GET", "/workflows/", {}),
        ("GET", "/workflows/", {"params": {"limit": 10}}),
        ("GET", "/workflows/outage", {}),
        ("GET", "/configs/", {}),
        ("GET", "/triggers/", {}),
        ("POST", "/workflows/", {"json": other}),
        ("DELETE", "/workflows/outage_other", {}),
        ("POST", "/workflows/outage/run", {"json": {"value": 1}}),
        ("GET", "/workflows/outage/run", {}),
        ("GET", "/workflows/run/", {}),
        ("GET", f"/workflows/run/{run_uid}", {}),
    ]


def test_postgresql_outage_and_recovery(
    fresh_postgres_url: str, pg_relay: ThreadedRelay, servers: Callable[..., Server]
) -> None:
    # Fixture order matters for teardown: the server stops first, then the relay, then the
    # database is dropped.
    server = servers(fresh_postgres_url.replace(":5432/", f":{pg_relay.port}/"))
    server.start()
    with httpx.Client(base_url=server.url, timeout=BOUND + 5) as client:
        assert client.post("/workflows/", json=WORKFLOW).status_code == 200
        first = client.post("/workflows/outage/run", json={"value": "before"})
        assert first.status_code == 200 and first.json()["state"] == "finished", first.text
        run_uid = first.json()["uid"]

        pg_relay.down()
        for method, path, kwargs in requests_of(run_uid):
            response = unavailable(client, method, path, **kwargs)
            assert response.status_code == 503, f"{method} {path}: {response.text}"
            body = response.json()
            assert set(body) == {"detail", "status_code"} and body["status_code"] == 503
            assert isinstance(body["detail"], str) and body["detail"], body
        ping = timed(client, "GET", "/")
        assert ping.status_code == 200 and ping.json()["app"] == "flowdapt"
        status = timed(client, "GET", "/status")
        assert status.status_code == 200 and "unavailable" in status.json()["database"]

        pg_relay.up()
        wait_until(
            lambda: timed(client, "GET", "/workflows/run/").status_code == 200,
            15,
            "the server to reach the database again",
        )
        for method, path, kwargs in requests_of(run_uid):
            response = timed(client, method, path, **kwargs)
            assert response.status_code == 200, f"{method} {path}: {response.text}"
        again = client.post("/workflows/outage/run", json={"value": "after"})
        assert again.status_code == 200 and again.json()["result"] == "after", again.text
        assert "up" in client.get("/status").json()["database"]
        assert server.process is not None and server.process.poll() is None  # never restarted
