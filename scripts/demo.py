"""The main job of `make run`: start the server on embedded defaults, apply the example
resources, run the example workflow and show its forecasts; then keep serving until Ctrl-C.

    python scripts/demo.py [--app-dir .flowdapt-demo] [--port 8080] [--no-serve]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

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


def demo(client: FlowdaptClient) -> None:
    example = Path(str(files("flowdapt.examples").joinpath("nowcast.yaml")))
    for document in read_file(example):
        print(f"  {document.kind} {document.name}: {client.apply(document.body)}")
    print("running workflow 'nowcast' …")
    run = client.run_workflow("nowcast")
    print(f"run {run['name']}: {run['state']}")
    if run["state"] != "finished":
        raise SystemExit(f"the example run failed: {run['result']}")
    print("next-hour temperatures (°C):")
    for city, value in run["result"].items():
        print(f"  {city:<10} {value:6.2f}")


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
            print(f"  .venv/bin/flowctl --server {url} run nowcast --cities '[\"Oslo\"]'")
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
