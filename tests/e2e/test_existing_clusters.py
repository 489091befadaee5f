"""A real server process (`flowdapt run`) on a cluster that was running before it and keeps running
after it: a Ray head started with ``ray start --head``, a Dask scheduler and worker started with
the ``dask`` CLI, each in processes of their own, as on a real cluster.

Ray allows one ``ray.init`` per process, and the test process has its own local Ray (the
session's, tests/conftest.py), so only the server connects to the head.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ROOT, Server, free_port, stop_process, wait_until

S = "tests.resources.stages"
RAY_CLI = str(Path(sys.executable).with_name("ray"))
DASK_CLI = str(Path(sys.executable).with_name("dask"))
EXECUTOR = "services.compute.executor"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def ray_head(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A one-CPU Ray head node, its own process group, listening when the test starts."""
    port = free_port()
    # A short --temp-dir: Ray's socket paths under it must stay within the 107 bytes of a unix
    # socket address, which a test's own tmp_path (named after the test) exceeds.
    temp_dir = tmp_path_factory.mktemp("ray")
    # Its workers import tests.resources.stages. Token authentication is off for this head: a
    # Ray 2.60 driver presents the token only with RAY_AUTH_MODE=token in its environment.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    # --block keeps `ray start` as the parent of the node's processes: ending it ends exactly
    # this cluster (`ray stop` would stop every Ray on the machine).
    with (temp_dir / "ray-start.log").open("ab") as log:  # the child keeps its own handle
        head = subprocess.Popen(
            [RAY_CLI, "start", "--head", "--block", f"--port={port}", "--num-cpus=1",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(
            lambda: _listening(port) or _exited(head, temp_dir / "ray-start.log"),
            90,
            "the Ray head's port",
        )
        yield port, head
    finally:
        stop_process(head, group=True)  # `ray start --block` stops its node's processes on SIGTERM


def _exited(process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"exited with {process.returncode}: {log.read_text()[-3000:]}")
    return False


@pytest.fixture
def dask_cluster() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A Dask scheduler and one worker, each its own process, the scheduler listening."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the worker imports tests.resources.stages
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen(
        [DASK_CLI, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
         "--dashboard-address", "127.0.0.1:0"],
        **quiet,
    )  # fmt: skip
    worker = subprocess.Popen(
        [DASK_CLI, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--nworkers", "1",
         "--no-dashboard", "--host", "127.0.0.1"],
        **quiet,
    )  # fmt: skip
    try:
        wait_until(lambda: _listening(port), 60, "the Dask scheduler's port")
        yield port, scheduler
    finally:
        stop_process(worker)  # the worker first, so that it does not reconnect
        stop_process(scheduler)


def _run_fan_out(server: Server, kind: str) -> None:
    """Wait for the server's executor to connect, then run a fan-out and a stage that reports
    the executor, over HTTP."""
    definition = {
        "kind": "workflow",
        "metadata": {"name": f"on_{kind}"},
        "spec": {
            "stages": [
                {"name": "make", "target": f"{S}.make_list"},
                {"name": "sq", "target": f"{S}.square", "type": "parameterized",
                 "depends_on": ["make"]},
                {"name": "sum", "target": f"{S}.total", "depends_on": ["sq"]},
                {"name": "kind", "target": f"{S}.executor_kind"},
            ]
        },
    }  # fmt: skip
    with httpx.Client(base_url=server.url, timeout=90) as client:

        def executor_status() -> dict[str, Any] | None:
            status = client.get("/status").json()["services"]["compute"]["executor_status"]
            return status if status["status"] == "running" else None

        wait_until(executor_status, 90, f"the server's {kind} executor to connect", 0.2)
        assert client.post("/workflows/", json=definition).status_code == 200
        response = client.post(f"/workflows/on_{kind}/run", params={"wait": "True"}, json={"n": 20})
        run = response.json()
        assert run["state"] == "finished", (run, server.log())
        assert run["result"] == {"sum": sum(i * i for i in range(20)), "kind": kind}


def _options(target: str, address: str) -> tuple[str, ...]:
    return (f"{EXECUTOR}.target={target}", f"{EXECUTOR}.cluster_address={address}")


@pytest.mark.slow
# A Ray head takes several seconds to start on 2 cores shared with other test runs, and the
# server's driver as many to connect: more than the suite's 60 s may pass on a loaded machine.
@pytest.mark.timeout(180)
def test_a_server_runs_workflows_on_an_existing_ray_cluster(
    ray_head: tuple[int, subprocess.Popen[bytes]], servers: Callable[..., Server]
) -> None:
    port, head = ray_head
    server = servers(
        options=(
            *_options("flowdapt.compute.executor.ray.RayExecutor", f"127.0.0.1:{port}"),
            f"{EXECUTOR}.connect_timeout=60",
            f"{EXECUTOR}.log_to_driver=false",
        )
    )
    server.start()
    _run_fan_out(server, "ray")
    assert server.stop() == 0, server.log()  # a clean exit, the executor closed
    # The server only connected to the cluster: stopping it leaves the head running.
    assert head.poll() is None and _listening(port)


@pytest.mark.slow
# A scheduler, a worker and a server all start on 2 shared cores before anything runs.
@pytest.mark.timeout(120)
def test_a_server_runs_workflows_on_an_existing_dask_cluster(
    dask_cluster: tuple[int, subprocess.Popen[bytes]], servers: Callable[..., Server]
) -> None:
    port, scheduler = dask_cluster
    address = f"tcp://127.0.0.1:{port}"
    server = servers(
        options=(
            *_options("flowdapt.compute.executor.dask.DaskExecutor", address),
            f"{EXECUTOR}.connect_timeout=30",
        )
    )
    server.start()
    _run_fan_out(server, "dask")
    assert server.stop() == 0, server.log()  # a clean exit, the executor closed
    # Closing only disconnected: the scheduler it did not start keeps running.
    assert scheduler.poll() is None and _listening(port)
