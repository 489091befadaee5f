"""The server over HTTP on embedded defaults (SQLite), measured end to end in one run.

    make bench-server     (or: uv run python benchmarks/server.py [--quick])

Starts real `flowdapt run` processes, and prints each figure next to the goal of the server issue
and, where one exists, the raw engine measured in the same run (the same trivial workflow run
in-process with `execute_workflow`, no HTTP and no database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from flowdapt.domain.resources import WorkflowResource
from flowdapt.storage import SQLStorage, sql_schema
from flowdapt.storage.codec import dump_resource

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import build_request, load
from reference import TRIVIAL, raw_engine_latency
from server_process import ServerProcess


def report(name: str, value: str, goal: str, met: bool | None, raw: str = "") -> None:
    verdict = "" if met is None else ("MET" if met else "NOT MET")
    print(f"{name:<46} {value:>14} {raw:>22}  goal {goal:<14} {verdict}")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def startup_and_memory(workdir: Path, restarts: int) -> None:
    """The first start creates the database (migrations); restarts find it at the head."""
    times, memory = [], []
    for index in range(restarts + 1):
        server = ServerProcess(workdir / "start", 18700 + index)
        try:
            times.append(server.start())
            time.sleep(1.0)
            memory.append(server.rss() / 1e6)
        finally:
            server.stop()
    warm, idle = statistics.median(times[1:]), statistics.median(memory[1:])
    report(
        "start-up until GET / answers (first start)", f"{times[0]:.2f} s", "<= 1 s", times[0] <= 1
    )
    report("start-up until GET / answers (restart)", f"{warm:.2f} s", "<= 1 s", warm <= 1)
    report("idle server RSS (first start)", f"{memory[0]:.0f} MB", "<= 80 MB", memory[0] <= 80)
    report("idle server RSS (restart)", f"{idle:.0f} MB", "<= 80 MB", idle <= 80)


def run_latency(server: ServerProcess, seconds: float) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.post("/workflows/", json=TRIVIAL)
        uid = client.get("/workflows/trivial").json()["metadata"]["uid"]
        for _ in range(20):  # warm up connections, imports, caches
            run = client.post(f"/workflows/{uid}/run", params={"wait": "True"}).json()
            assert run["state"] == "finished", run
    request = build_request("POST", f"/workflows/{uid}/run?wait=True", "127.0.0.1")
    _, _, durations = asyncio.run(load("127.0.0.1", server.port, request, 1, seconds))
    raw = asyncio.run(raw_engine_latency(len(durations)))
    p50, p95 = statistics.median(durations), percentile(durations, 95)
    report(
        "trivial run over HTTP, wait: p50",
        f"{p50 * 1e3:.2f} ms",
        "<= 5 ms",
        p50 <= 0.005,
        f"raw engine {raw * 1e3:.2f} ms",
    )
    report("trivial run over HTTP, wait: p95", f"{p95 * 1e3:.2f} ms", "(no goal)", None)


def throughput(server: ServerProcess, clients: int, seconds: float) -> None:
    request = build_request("POST", "/workflows/trivial/run?wait=True", "127.0.0.1")
    done, elapsed, latencies = asyncio.run(
        load("127.0.0.1", server.port, request, clients, seconds)
    )
    rate = done / elapsed
    report(
        f"throughput, {clients} concurrent clients",
        f"{rate:.0f} runs/s",
        ">= 300 runs/s",
        rate >= 300,
        f"p50 {statistics.median(latencies) * 1e3:.1f} ms",
    )


async def fill(app_dir: Path, workflows: int, runs: int) -> None:
    """Rows straight into the server's database (10k creates over HTTP would measure HTTP)."""
    storage = SQLStorage(f"sqlite+aiosqlite:///{app_dir}/flowdapt.db")
    await storage.start()
    document = dump_resource(WorkflowResource.model_validate(TRIVIAL))
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "uid": uuid.uuid4(),
            "name": f"w{n:05}",
            "created_at": epoch,
            "updated_at": epoch,
            "document": {**document, "metadata": {**document["metadata"], "name": f"w{n:05}"}},
        }
        for n in range(workflows)
    ]
    run_rows = [
        {
            "uid": uuid.uuid4(),
            "name": f"r{n}",
            "workflow": f"w{n % workflows:05}",
            "source": "api",
            "state": "finished",
            "started_at": epoch + timedelta(seconds=n),
            "finished_at": epoch + timedelta(seconds=n + 1),
            "result": n,
            "error": None,
            "stages": [],
        }
        for n in range(runs)
    ]

    def insert(connection: sa.Connection) -> None:
        connection.execute(sa.insert(sql_schema.workflows), rows)
        connection.execute(sa.insert(sql_schema.runs), run_rows)

    await storage.write(insert)
    await storage.close()


def listings(workdir: Path, samples: int) -> None:
    app_dir = workdir / "big"
    asyncio.run(fill(app_dir, 10_000, 100_000))
    server = ServerProcess(app_dir, 18790)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            cases = {
                "GET /workflows/ (first page)": "/workflows/",
                "GET /workflows/?offset=9000&limit=100": "/workflows/?offset=9000&limit=100",
                "GET /workflows/w00042/run (its runs)": "/workflows/w00042/run",
                "GET /workflows/run/?limit=100 (all runs)": "/workflows/run/?limit=100",
            }
            for label, path in cases.items():
                durations = []
                for _ in range(samples):
                    began = time.perf_counter()
                    response = client.get(path)
                    durations.append(time.perf_counter() - began)
                    assert response.status_code == 200, response.text
                p95 = percentile(durations, 95)
                report(
                    f"{label}: p95",
                    f"{p95 * 1e3:.1f} ms",
                    "<= 50 ms",
                    p95 <= 0.05,
                    f"{len(response.json())} items",
                )
    finally:
        server.stop()


def main(quick: bool) -> None:
    print(
        f"flowdapt server benchmark - {datetime.now(UTC):%Y-%m-%d %H:%M} UTC - "
        f"{platform.python_implementation()} {platform.python_version()} - "
        f"{os.cpu_count()} CPUs - {platform.machine()} - embedded defaults (SQLite)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        startup_and_memory(workdir, 2 if quick else 4)
        server = ServerProcess(workdir / "runs", 18780)
        server.start()
        try:
            run_latency(server, 5 if quick else 10)
            throughput(server, 50, 5 if quick else 10)
        finally:
            server.stop()
        listings(workdir, 20 if quick else 50)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    main(parser.parse_args().quick)
