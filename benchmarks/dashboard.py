"""The dashboard, measured in headless Chromium against a real server on embedded defaults.

    uv run python benchmarks/dashboard.py [--repeat 5] [--clients 10]

1. First load of the dashboard (HTML + every asset, cold cache: a new browser context each
   time) until the page is usable (the workflows table drawn from the API).
2. The run page of a finished run with a 10k-item fan-out, until usable (graph, stage table,
   timeline and result drawn): once with a small result, once with the 10k-item list as the
   result.
3. The live stream while a 10k-item fan-out runs: bytes and updates per second per connected
   client (the run page's stream and the lists' all-runs stream, read by plain HTTP clients: the
   same bytes a browser receives), and the server's CPU with 0 and with N clients connected
   (psutil), hence the CPU each client adds.

Goal (issue 6): each of 1 and 2 at most 1 s. Chromium is Debian's (`make browser`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from playwright.sync_api import Browser, sync_playwright

from server_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "tests" / "dashboard" / "resources.yaml"
COLLECTIONS = {"workflow": "/workflows/", "config": "/configs/", "trigger_rule": "/triggers/"}
GOAL_SECONDS = 1.0
ITEMS = 10_000


def report(name: str, value: str, goal: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("MET" if met else "NOT MET")
    print(f"{name:<66} {value:>20}  {goal:<6} {verdict}")


# The fan-out as the sink: the run's result is the 10k-item list itself.
ITEMS_RESULT = {
    "kind": "workflow",
    "metadata": {"name": "dash-fanout-items"},
    "spec": {
        "stages": [
            {"name": "make_items", "target": "tests.resources.dashboard_stages.make_items"},
            {
                "name": "square",
                "target": "tests.resources.dashboard_stages.square_slowly",
                "type": "parameterized",
                "depends_on": ["make_items"],
            },
        ]
    },
}


def apply_resources(client: httpx.Client) -> None:
    from flowdapt.domain.documents import load_documents

    for document in [*load_documents(RESOURCES.read_text()), ITEMS_RESULT]:
        client.post(COLLECTIONS[document["kind"]], json=document).raise_for_status()


# --- 1 and 2: time to usable in Chromium ---------------------------------------------------------

READY = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const bytes = performance.getEntriesByType("resource")
    .reduce((n, r) => n + r.transferSize, nav.transferSize);
  const ready = performance.getEntriesByName("dashboard:ready").at(-1);
  return {usable: ready.startTime, requests: performance.getEntriesByType("resource").length + 1,
          bytes};
}"""


def time_to_usable(browser: Browser, url: str, ready: str, repeat: int) -> list[dict[str, Any]]:
    """Per repetition, in a new context (cold cache): wall seconds from goto to `ready`, and the
    page's own figures (ms since navigation start, requests, bytes transferred)."""
    samples = []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        began = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(ready, timeout=30_000)
        wall = time.perf_counter() - began
        figures = page.evaluate(READY)
        samples.append({"wall": wall, **figures})
        context.close()
    return samples


def report_load(name: str, samples: list[dict[str, Any]]) -> None:
    usable = [s["usable"] / 1000 for s in samples]
    median, worst = statistics.median(usable), max(usable)
    report(
        f"{name}: to usable (median / worst of {len(samples)})",
        f"{median * 1000:.0f} / {worst * 1000:.0f} ms",
        f"≤ {GOAL_SECONDS:.0f} s",
        worst <= GOAL_SECONDS,
    )
    wall = statistics.median(s["wall"] for s in samples)
    report(f"{name}: wall clock from goto (median)", f"{wall * 1000:.0f} ms")
    report(
        f"{name}: requests, bytes transferred",
        f"{samples[0]['requests']}, {samples[0]['bytes'] / 1024:.0f} KB",
    )


# --- 3: live stream cost -------------------------------------------------------------------------


@dataclass
class StreamTally:
    bytes: int = 0
    updates: int = 0


def follow(url: str, until_run: str | None, tally: StreamTally, opened: threading.Event) -> None:
    """Read an SSE stream, counting bytes and `run` events; one run's stream ends by itself, the
    all-runs stream when `until_run` is reported stored."""
    with (
        httpx.Client(timeout=120) as client,
        client.stream("GET", url) as response,
    ):
        opened.set()
        event = None
        for line in response.iter_lines():
            tally.bytes += len(line.encode()) + 1
            if line.startswith("event: "):
                event = line[7:]
                if event == "end":
                    return
            elif line.startswith("data: ") and event == "run":
                tally.updates += 1
                if until_run and f'"name":"{until_run}"' in line and '"stored":true' in line:
                    return


def fan_out(
    server: ServerProcess, client: httpx.Client, clients: int, delay: float
) -> tuple[float, float, list[StreamTally], list[StreamTally]]:
    """Run a 10k fan-out with `clients` run-page streams and `clients` all-runs streams open;
    return its duration, the server's CPU seconds meanwhile, and the tallies."""
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    run_tallies = [StreamTally() for _ in range(clients)]
    list_tallies = [StreamTally() for _ in range(clients)]
    threads = []
    before = process.cpu_times()
    began = time.perf_counter()
    run = client.post(
        "/workflows/dash-fanout/run", params={"wait": "False"}, json={"n": ITEMS, "delay": delay}
    ).json()
    for tallies, path, until in (
        (run_tallies, f"/dashboard/api/stream?run={run['name']}", None),
        (list_tallies, "/dashboard/api/stream", run["name"]),
    ):
        for tally in tallies:
            opened = threading.Event()
            thread = threading.Thread(
                target=follow, args=(server.url + path, until, tally, opened), daemon=True
            )
            thread.start()
            threads.append(thread)
            opened.wait(10)
    while client.get(f"/workflows/run/{run['name']}").json()["state"] not in (
        "finished",
        "failed",
        "cancelled",
    ):
        time.sleep(0.05)
    duration = time.perf_counter() - began
    for thread in threads:
        thread.join(30)
    after = process.cpu_times()
    cpu = (after.user + after.system) - (before.user + before.system)
    return duration, cpu, run_tallies, list_tallies


def report_stream(server: ServerProcess, client: httpx.Client, clients: int) -> None:
    delay = 0.002  # per item: a fan-out lasting a few seconds on this machine
    idle_duration, idle_cpu, _, _ = fan_out(server, client, 0, delay)
    duration, cpu, runs, lists = fan_out(server, client, clients, delay)
    report(
        f"10k fan-out duration (0 / {clients} clients)", f"{idle_duration:.1f} / {duration:.1f} s"
    )
    per_run = statistics.mean(t.bytes for t in runs) / duration
    per_list = statistics.mean(t.bytes for t in lists) / duration
    updates = statistics.mean(t.updates for t in runs)
    report("run-page stream per client", f"{per_run / 1024:.1f} KB/s")
    report("run-page stream updates per client", f"{updates:.0f} ({updates / duration:.1f}/s)")
    report("all-runs stream per client", f"{per_list / 1024:.2f} KB/s")
    report(
        f"server CPU during the fan-out (0 / {clients} clients)",
        f"{idle_cpu / idle_duration * 100:.0f} / {cpu / duration * 100:.0f} % of a core",
    )
    added = (cpu / duration - idle_cpu / idle_duration) / clients * 100
    report("server CPU added per client (both streams)", f"{added:.2f} % of a core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="page loads per measurement")
    parser.add_argument("--clients", type=int, default=10, help="clients following the stream")
    options = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed: run `make browser`")
    with tempfile.TemporaryDirectory() as app_dir:
        server = ServerProcess(Path(app_dir))
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                apply_resources(client)
                finished = client.post(
                    "/workflows/dash-fanout/run", json={"n": ITEMS, "delay": 0}
                ).json()
                assert finished["state"] == "finished", finished
                listed = client.post(
                    "/workflows/dash-fanout-items/run", json={"n": ITEMS, "delay": 0}
                ).json()
                assert listed["state"] == "finished", listed
                print(f"server {server.url}, Chromium {chromium}, {os.cpu_count()} CPUs")
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=chromium)
                    try:
                        first = time_to_usable(
                            browser,
                            f"{server.url}/dashboard/",
                            "#view[data-ready] tbody tr[data-workflow]",
                            options.repeat,
                        )
                        report_load("dashboard first load", first)
                        run_page = time_to_usable(
                            browser,
                            f"{server.url}/dashboard/runs/{finished['name']}",
                            "#view[data-ready] [data-testid=run-result]",
                            options.repeat,
                        )
                        report_load("run page, finished 10k fan-out", run_page)
                        items_page = time_to_usable(
                            browser,
                            f"{server.url}/dashboard/runs/{listed['name']}",
                            "#view[data-ready] [data-testid=run-result]",
                            options.repeat,
                        )
                        report_load("run page, 10k fan-out, 10k-item result", items_page)
                    finally:
                        browser.close()
                report_stream(server, client, options.clients)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
