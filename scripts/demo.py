"""The main job of `make run`: start the server on embedded defaults, install the example
plugin's resources (plugins/weather), train a model per city, let the trigger run the forecasts
and show them; then keep serving until Ctrl-C.

    python scripts/demo.py [--app-dir .flowdapt-demo] [--port 8080] [--no-serve]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flowctl.client import FlowdaptClient
from flowctl.documents import read_file
from flowctl.errors import FlowctlError

FLOWDAPT = str(Path(sys.executable).with_name("flowdapt"))


def start_server(app_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [FLOWDAPT, "--app-dir", str(app_dir), "-o", f"rpc.api.port={port}", "run"]
    print(f"$ {' '.join(command)}")
    return subprocess.Popen(command)


def wait_until_ready(client: FlowdaptClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            client.ping()
            return
        except FlowctlError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer within 60 s")


PLUGIN = "weather"
FINAL = {"finished", "failed", "cancelled"}


def install_plugin(client: FlowdaptClient, name: str) -> None:
    """Apply every resource the plugin bundles, fetched from the server as flowctl does."""
    with tempfile.TemporaryDirectory() as folder:
        for file in client.plugin_files(name):
            if not file.endswith((".yaml", ".yml")):
                continue
            path = Path(folder) / Path(file).name
            path.write_bytes(client.plugin_file(name, file))
            for document in read_file(path):
                print(f"  {document.kind} {document.name}: {client.apply(document.body)}")


def follow(client: FlowdaptClient, name: str) -> dict[str, Any]:
    """Print each stage's progress as it changes until the run ends; return the final record."""
    shown: dict[str, str] = {}
    while True:
        run = client.get_run(name)
        for stage in run.get("stages") or []:
            line = stage["state"]
            if stage.get("items_total") is not None:
                line += f" ({stage['items_done']}/{stage['items_total']} items)"
            if shown.get(stage["name"]) != line:
                shown[stage["name"]] = line
                print(f"    {stage['name']:<18} {line}")
        if run["state"] in FINAL:
            print(f"  run {name}: {run['state']}")
            if run["state"] != "finished":
                raise SystemExit(f"the run {name} did not finish: {run['result']}")
            return run
        time.sleep(0.2)


def triggered_run(client: FlowdaptClient, workflow: str, known: set[str]) -> str:
    """The name of the first run of `workflow` not in `known` (a trigger starts it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for run in client.list_runs(workflow, limit=5):
            if run["name"] not in known:
                print(f"  started by {run.get('source')}: run {run['name']}")
                return str(run["name"])
        time.sleep(0.2)
    raise SystemExit(f"no run of {workflow} was triggered within 60 s")


def demo(client: FlowdaptClient) -> None:
    print(f"installing the {PLUGIN} plugin's resources (GET /plugin/{PLUGIN}/files) …")
    install_plugin(client, PLUGIN)
    earlier = {run["name"] for run in client.list_runs("weather-predict")}
    print("training one model per city (workflow weather-train) …")
    train = client.run_workflow("weather-train", wait=False)
    report = follow(client, str(train["name"]))["result"]
    print(
        f"  {report['models']} models, mean absolute error {report['mean_mae']} °C on held-out "
        f"hours (worst: {report['worst']['city']}, {report['worst']['mae']} °C)"
    )
    print("the trigger weather-predict-after-training runs the forecasts …")
    forecasts = follow(client, triggered_run(client, "weather-predict", earlier))["result"]
    print("\nnext-hour temperatures (°C):")
    print(f"  {'city':<10} {'now':>6} {'forecast':>9} {'model MAE':>10}  hour (UTC)")
    for city, forecast in forecasts.items():
        print(
            f"  {city:<10} {forecast['now']:6.2f} {forecast['temperature']:9.2f} "
            f"{forecast['model_mae']:10.2f}  {forecast['time']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app-dir", type=Path, default=Path(".flowdapt-demo"))
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-serve", action="store_true", help="stop after the example run")
    options = parser.parse_args()
    server = start_server(options.app_dir, options.port)
    url = f"http://127.0.0.1:{options.port}"
    try:
        with FlowdaptClient(url) as client:
            wait_until_ready(client, server)
            demo(client)
        if not options.no_serve:
            print(f"\nThe server keeps running at {url} (API docs: {url}/docs). Try:")
            print(f"  .venv/bin/flowctl --server {url} get workflows")
            print(f"  .venv/bin/flowctl --server {url} run weather-train --cities '[\"Oslo\"]'")
            print("Ctrl-C stops it.")
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)


if __name__ == "__main__":
    main()
