"""The example plugin end to end on a real server, on each executor: its resources installed from
what the server serves at /plugin/weather/files, training over HTTP, and the forecasts of the
prediction run that the plugin's trigger rule starts."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flowctl.client import FlowdaptClient
from flowctl.documents import read_file

from tests.e2e.conftest import Server, wait_until

EXECUTOR = "services.compute.executor"
EXECUTORS = {
    "local": (),
    "dask": (
        f"{EXECUTOR}.target=flowdapt.compute.executor.dask.DaskExecutor",
        f"{EXECUTOR}.cpus=2",
    ),
    "ray": (
        f"{EXECUTOR}.target=flowdapt.compute.executor.ray.RayExecutor",
        f"{EXECUTOR}.cpus=2",
        f"{EXECUTOR}.log_to_driver=false",
    ),
}
CITIES = ["Oslo", "Lima", "Perth"]


def _install(client: FlowdaptClient) -> list[str]:
    applied = []
    with tempfile.TemporaryDirectory() as folder:
        for name in client.plugin_files("weather"):
            if name.endswith(".yaml"):
                path = Path(folder) / Path(name).name
                path.write_bytes(client.plugin_file("weather", name))
                for document in read_file(path):
                    client.apply(document.body)
                    applied.append(f"{document.kind}/{document.name}")
    return sorted(applied)


def _finished(client: FlowdaptClient, name: str) -> dict[str, Any]:
    run: dict[str, Any] = wait_until(
        lambda: (r := client.get_run(name))["state"] in {"finished", "failed", "cancelled"} and r,
        120,
        f"run {name} to end",
        0.2,
    )
    assert run["state"] == "finished", run["result"]
    return run


@pytest.mark.slow
@pytest.mark.timeout(240)  # a local Ray starts in seconds on 2 idle cores, far slower when busy
@pytest.mark.parametrize("kind", list(EXECUTORS))
def test_the_weather_plugin_trains_and_forecasts_on_a_server(
    kind: str, servers: Callable[..., Server]
) -> None:
    server = servers(options=EXECUTORS[kind])
    server.start()
    with FlowdaptClient(server.url) as client:
        plugin = client.get_plugin("weather")
        assert plugin["metadata"]["version"] == "0.1.0"
        assert _install(client) == [
            "config/weather",
            "trigger_rule/weather-predict-after-training",
            "trigger_rule/weather-refresh-features",
            "workflow/weather-features",
            "workflow/weather-predict",
            "workflow/weather-train",
        ]
        wait_until(
            lambda: (
                client.status()["services"]["compute"]["executor_status"]["status"] == "running"
            ),
            120,
            f"the {kind} executor to start",
            0.2,
        )
        before = time.time()
        train = client.run_workflow("weather-train", {"cities": CITIES}, wait=False)
        report = _finished(client, train["name"])["result"]
        assert report["cities"] == CITIES and report["models"] == 3
        assert 0 < report["mean_mae"] < 1.5
        predict = wait_until(
            lambda: next(iter(client.list_runs("weather-predict", limit=1)), None),
            60,
            "the trigger to start weather-predict",
            0.2,
        )
        assert predict["source"] == "trigger:weather-predict-after-training"
        forecasts = _finished(client, predict["name"])["result"]
    assert sorted(forecasts) == sorted(CITIES)  # the cities trained, from the training's event
    for forecast in forecasts.values():
        assert abs(forecast["temperature"] - forecast["now"]) < 5
        hour = forecast["time"]
        assert hour.endswith(":00:00+00:00") and hour >= time.strftime(
            "%Y-%m-%dT%H", time.gmtime(before)
        )
    assert server.stop() == 0, server.log()
