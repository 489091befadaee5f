"""The live stream against a real server: coalesced while a 10k-item fan-out runs, ended once the
run is stored, and cleaned up when the client goes away."""

from __future__ import annotations

import json

import httpx

from tests.e2e.conftest import Server, wait_until


def subscribers(server: Server) -> int:
    return int(httpx.get(f"{server.url}/dashboard/api/live", timeout=10).json()["subscribers"])


def read_events(response: httpx.Response) -> list[tuple[str, str]]:
    events, event = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: ") and event is not None:
            events.append((event, line[len("data: ") :]))
            if event == "end":
                break
    return events


def test_a_ten_thousand_item_fan_out_streams_a_few_progress_updates(
    dashboard_server: Server,
) -> None:
    with httpx.Client(base_url=dashboard_server.url, timeout=30) as client:
        run = client.post(
            "/workflows/dash-fanout/run",
            params={"wait": "False"},
            json={"n": 10_000, "delay": 0.0005},
        ).json()
        with client.stream("GET", "/dashboard/api/stream", params={"run": run["name"]}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = read_events(stream)
    updates = [json.loads(data) for event, data in events if event == "run"]
    assert events[-1][0] == "end"
    # Bounded by the hub's interval (a few a second), never by the 10 000 items.
    assert 1 <= len(updates) < 200
    final = updates[-1]
    assert final["stored"] is True and final["state"] == "finished"
    square = next(stage for stage in final["stages"] if stage["name"] == "square")
    assert (square["items_done"], square["items_failed"], square["items_total"]) == (
        10_000,
        0,
        10_000,
    )
    progress = [u for u in updates if not u["stored"]]
    assert all(
        set(stage) >= {"items_done", "items_total"} for u in progress for stage in u["stages"]
    )


def test_a_client_that_goes_away_is_cleaned_up(dashboard_server: Server) -> None:
    wait_until(lambda: subscribers(dashboard_server) == 0, 10, "no streams open")
    with httpx.Client(base_url=dashboard_server.url, timeout=30) as client:
        for _ in range(3):
            with client.stream("GET", "/dashboard/api/stream") as stream:
                lines = stream.iter_lines()  # kept: a dropped iterator closes the stream at once
                assert next(lines).startswith("retry:")
                assert subscribers(dashboard_server) >= 1
            # Leaving the block closes the connection without reading further.
    wait_until(lambda: subscribers(dashboard_server) == 0, 10, "the server to drop the streams")
