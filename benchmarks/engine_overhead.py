"""Engine overhead against the raw engines it drives, measured in one process, one run.

    make bench        (or: uv run python benchmarks/engine_overhead.py [--quick])

Prints each figure, the raw baseline measured alongside it, their ratio, and the goal of the
workflow-engine issue. Medians of several repetitions; the machines are small and shared.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import workloads
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.executors.local import LocalExecutor, available_cpus


def workflow(*stages: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "bench"}, "spec": {"stages": list(stages)}}


def median_time(repeat: int, action: Callable[[], Any]) -> float:
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def median_time_async(repeat: int, action: Callable[[], Awaitable[Any]]) -> float:
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(name: str, value: str, raw: str, ratio: float | None, goal: str, met: bool) -> None:
    ratio_text = "" if ratio is None else f"{ratio:.3f}x raw"
    print(
        f"{name:<44} {value:>12} {raw:>14} {ratio_text:>12}  goal {goal:<14} "
        f"{'MET' if met else 'NOT MET'}"
    )


async def fan_out(executor: LocalExecutor, repeat: int) -> None:
    definition = workflow(
        {"name": "inc", "target": workloads.add_one, "type": "parameterized", "map_on": "x"}
    )
    with ThreadPoolExecutor(executor.threads) as raw_pool:
        for n in (10_000, 100_000):
            items = list(range(n))

            def raw(items: list[int] = items) -> None:
                list(raw_pool.map(workloads.add_one, items))

            raw_time = median_time(repeat, raw)

            async def engine(items: list[int] = items) -> None:
                result = await execute_workflow(
                    definition, {"x": items}, executor=executor, return_result=True
                )
                assert len(result) == len(items)
                assert result[-1] == items[-1] + 1

            engine_time = await median_time_async(repeat, engine)
            ratio = engine_time / raw_time
            report(
                f"fan-out {n:,} trivial items (threads)",
                f"{engine_time * 1e3:.1f} ms",
                f"raw {raw_time * 1e3:.1f} ms",
                ratio,
                "<= 1.0x at 100k",
                ratio <= 1.0,
            )

    items = list(range(100_000))
    gc.collect()
    tracemalloc.start()
    await execute_workflow(definition, {"x": items}, executor=executor, return_result=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report(
        "fan-out 100,000: peak memory growth",
        f"{peak / 1e6:.1f} MB",
        "",
        None,
        "< 200 MB",
        peak < 200e6,
    )


async def raw_async_chain(pool: ThreadPoolExecutor, length: int) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(length):
        await loop.run_in_executor(pool, workloads.chain_step)


async def paired_rounds(
    rounds: int, raw: Callable[[], Awaitable[Any]], engine: Callable[[], Awaitable[Any]]
) -> tuple[float, float]:
    """Median raw and engine times, measured alternately so that drift hits both alike."""
    raw_times, engine_times = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        await raw()
        raw_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        await engine()
        engine_times.append(time.perf_counter() - start)
    return statistics.median(raw_times), statistics.median(engine_times)


async def chain(executor: LocalExecutor, rounds: int) -> None:
    stages = [{"name": "s0", "target": workloads.chain_step}]
    stages += [
        {"name": f"s{i}", "target": workloads.chain_step, "depends_on": [f"s{i - 1}"]}
        for i in range(1, 20)
    ]
    twenty = workflow(*stages)
    # The raw engine: the same 20 dependent calls awaited one after another on a thread pool of
    # the same size, as any asyncio program would dispatch them.
    with ThreadPoolExecutor(executor.threads) as raw_pool:
        raw, engine = await paired_rounds(
            rounds,
            lambda: raw_async_chain(raw_pool, 20),
            lambda: execute_workflow(twenty, executor=executor, return_result=True),
        )
    overhead = (engine - raw) / 20
    report(
        "20-stage chain: time per stage",
        f"{engine / 20 * 1e6:.0f} us",
        f"raw {raw / 20 * 1e6:.0f} us",
        engine / raw,
        "(no goal)",
        True,
    )
    report(
        "20-stage chain: overhead per stage over raw",
        f"{overhead * 1e6:.0f} us",
        "",
        None,
        "<= 200 us",
        overhead <= 200e-6,
    )


async def single_stage(executor: LocalExecutor, rounds: int) -> None:
    definition = workflow({"name": "only", "target": workloads.noop})
    with ThreadPoolExecutor(executor.threads) as raw_pool:
        raw, started = await paired_rounds(
            rounds,
            lambda: raw_async_chain(raw_pool, 1),
            lambda: execute_workflow(definition, executor=executor, return_result=True),
        )
    report(
        "1-stage workflow end to end (dict in, result out)",
        f"{started * 1e3:.3f} ms",
        f"raw {raw * 1e3:.3f} ms",
        started / raw,
        "<= 1 ms",
        started <= 1e-3,
    )
    own = await median_time_async(
        rounds // 2, lambda: execute_workflow(definition, return_result=True)
    )
    report(
        "  same, starting an executor per call", f"{own * 1e3:.3f} ms", "", None, "(no goal)", True
    )


def calibrate_cpu_item() -> int:
    loops = workloads.CPU_LOOPS
    for _ in range(3):
        took = median_time(5, lambda n=loops: workloads.burn(n))
        loops = int(loops * 0.010 / took)
    return loops


async def process_efficiency(rounds: int) -> None:
    """Efficiency = serial time / (workers x parallel time), serial and parallel measured
    back to back in each round (the CPU speed of a shared machine drifts); median of rounds."""
    loops = calibrate_cpu_item()
    items = [loops] * 200
    workers = min(2, available_cpus())
    definition = workflow(
        {"name": "burn", "target": workloads.burn, "type": "parameterized", "map_on": "x"}
    )
    context = multiprocessing.get_context("forkserver")
    raw_eff, engine_eff, serials = [], [], []
    with ProcessPoolExecutor(workers, mp_context=context) as raw_pool:
        list(raw_pool.map(workloads.burn, [1] * workers))  # start the workers
        async with LocalExecutor(use_processes=True, cpus=workers) as executor:
            for _ in range(rounds):
                serial = median_time(1, lambda: [workloads.burn(n) for n in items])
                raw = median_time(1, lambda: list(raw_pool.map(workloads.burn, items)))

                async def engine() -> None:
                    await execute_workflow(
                        definition, {"x": items}, executor=executor, return_result=True
                    )

                ours = await median_time_async(1, engine)
                serials.append(serial)
                raw_eff.append(serial / (workers * raw))
                engine_eff.append(serial / (workers * ours))
    raw_median, engine_median = statistics.median(raw_eff), statistics.median(engine_eff)
    print(
        f"{'':<44} (200 x {statistics.median(serials) / 200 * 1e3:.1f} ms items, "
        f"{workers} workers, median of {rounds} rounds)"
    )
    report(
        "process pool: parallel efficiency",
        f"{engine_median * 100:.0f} %",
        f"raw {raw_median * 100:.0f} %",
        engine_median / raw_median,
        ">= 85 %",
        engine_median >= 0.85,
    )


async def main(quick: bool) -> None:
    repeat = 3 if quick else 7
    print(
        f"flowdapt engine benchmark - {datetime.now(UTC):%Y-%m-%d %H:%M} UTC - "
        f"{platform.python_implementation()} {platform.python_version()} - "
        f"{os.cpu_count()} CPUs ({available_cpus()} usable) - {platform.machine()}"
    )
    print(f"{'figure':<44} {'flowdapt':>12} {'raw engine':>14} {'ratio':>12}")
    async with LocalExecutor(use_processes=False) as executor:
        await fan_out(executor, repeat)
        await chain(executor, repeat * 30)
        await single_stage(executor, repeat * 100)
    await process_efficiency(5 if quick else 9)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    asyncio.run(main(parser.parse_args().quick))
