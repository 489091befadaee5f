"""The example plugin's training workflow for 100 cities on Local, Dask and Ray (2 workers each),
against training the same models in a plain loop, in one run.

    uv run python benchmarks/weather.py [--cities 100] [--repeat 3]

Per city: 30 days of hourly synthetic readings, a feature frame (readings and their last 5 hours,
hour of day), a gradient-boosting model (60 trees, depth 3) scored on the last fifth and refitted
on everything. The plain loop calls the same functions (flowdapt_weather.data/features/model)
city after city in one process and keeps the models in a list; the workflow also stores each
frame in the object store and each model as an artifact on ``file``. Each executor runs in its
own subprocess (Ray allows one ``ray.init`` per process); the first run of each warms the workers
up and is not counted. Medians over the repeats, with the minimum and the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import yaml

ROW = "@@row "
WORKERS = 2
END = "2026-06-01T12:00:00+00:00"  # a fixed window: every run trains on the same data


def bundled(kind: str, name: str) -> dict[str, Any]:
    folder = files("flowdapt_weather").joinpath("resources")
    for path in folder.iterdir():
        if path.name.endswith(".yaml"):
            for document in yaml.safe_load_all(path.read_text()):
                if document and document["kind"] == kind and document["metadata"]["name"] == name:
                    return dict(document)
    raise LookupError(f"the weather plugin bundles no {kind} {name!r}")


def cities(count: int) -> list[str]:
    return [f"City-{index:03d}" for index in range(count)]


def plain_loop(count: int) -> float:
    from flowdapt_weather.data import fetch_history, parse_end
    from flowdapt_weather.features import feature_frame
    from flowdapt_weather.model import fit

    config = bundled("config", "weather")["spec"]["data"]
    began = time.perf_counter()
    models = []
    for city in cities(count):
        history = fetch_history(city, parse_end(END), int(config["history_hours"]))
        models.append(fit(feature_frame(history, int(config["lags"])), dict(config["model"])))
    took = time.perf_counter() - began
    assert len(models) == count
    return took


def make_executor(kind: str) -> Any:
    if kind == "local":
        from flowdapt.executors.local import LocalExecutor

        return LocalExecutor(use_processes=True, cpus=WORKERS)
    if kind == "dask":
        from flowdapt.executors.dask import DaskExecutor

        return DaskExecutor(cpus=WORKERS)
    from flowdapt.executors.ray import RayExecutor

    return RayExecutor(cpus=WORKERS, log_to_driver=False)


async def workflow_part(kind: str, count: int, repeat: int) -> list[float]:
    from flowdapt.compute.resources.workflow.execute import execute_workflow

    definition = bundled("workflow", "weather-train")
    config = bundled("config", "weather")["spec"]["data"]
    executor = make_executor(kind)
    await executor.start()
    times = []
    try:
        for index in range(repeat + 1):
            began = time.perf_counter()
            report = await execute_workflow(
                definition,
                {"count": count, "end": END},
                config=config,
                executor=executor,
                return_result=True,
            )
            took = time.perf_counter() - began
            assert report["models"] == count, report
            if index:
                times.append(took)
    finally:
        await executor.close()
    return times


def run_part(kind: str, args: argparse.Namespace, env: dict[str, str]) -> list[float]:
    command = [sys.executable, __file__, "--part", kind, "--cities", str(args.cities)]
    command += ["--repeat", str(args.repeat)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    rows = [line[len(ROW) :] for line in done.stdout.splitlines() if line.startswith(ROW)]
    if done.returncode != 0 or not rows:
        raise RuntimeError(f"{kind} part failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    times: list[float] = json.loads(rows[-1])
    return times


def describe(values: list[float]) -> str:
    spread = (max(values) - min(values)) / statistics.median(values)
    return f"min {min(values):.2f} s, spread {spread:.0%} (n={len(values)})"


def main(args: argparse.Namespace) -> int:
    print(
        f"flowdapt weather benchmark - {datetime.now(UTC):%Y-%m-%d %H:%M} UTC - "
        f"{platform.python_implementation()} {platform.python_version()} - "
        f"{os.cpu_count()} CPUs - {args.cities} cities - {args.repeat} repeats"
    )
    loop = [plain_loop(args.cities) for _ in range(args.repeat)]
    loop_median = statistics.median(loop)
    print(f"{'plain loop, one process':<34} {loop_median:8.2f} s   {'':<22} {describe(loop)}")
    with tempfile.TemporaryDirectory(prefix="flowdapt-weather-bench-") as storage:
        env = {
            **os.environ,
            "FLOWDAPT__STORAGE__PROTOCOL": "file",
            "FLOWDAPT__STORAGE__BASE_PATH": storage,
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        for kind in ("local", "dask", "ray"):
            times = run_part(kind, args, env)
            median = statistics.median(times)
            print(
                f"{'weather-train on ' + kind + f' ({WORKERS} workers)':<34} {median:8.2f} s   "
                f"{median / loop_median:5.2f}x the loop, "
                f"{loop_median / median:4.2f}x faster  {describe(times)}"
            )
    return 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--part", choices=["local", "dask", "ray"], help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_arguments()
    if arguments.part:
        result = asyncio.run(workflow_part(arguments.part, arguments.cities, arguments.repeat))
        print(ROW + json.dumps(result), flush=True)
        sys.exit(0)
    sys.exit(main(arguments))
