"""The Dask, Ray and Local executors against their raw engines doing the same work, in one run.

    make bench        (or: uv run python benchmarks/executors.py [--quick] [--repeat N])

Figures (the Dask/Ray issue's "Must show"):

1. fan-out of 10k trivial items (x + 1) on DaskExecutor (LocalCluster, 2 workers x 1 thread,
   processes) and RayExecutor (local, 2 CPUs), against the hand-written per-item version
   (``client.map`` + ``client.gather``; ``ray.get([f.remote(x) ...])``) and a hand-written
   batched one (8 chunks) on the same cluster;
2. 200 items of 10 ms CPU work: parallel efficiency = serial time in-process / (2 x wall), for
   ours and the raw engine (the LocalExecutor's process pool for reference);
3. server start-up with each executor: until ``GET /`` answers and until ``/status`` reports the
   executor running; the server's RSS alone and with its process tree after 2 s idle;
4. object store: a 100 MB float64 array put in one stage and got in the next, against raw
   ``ray.put`` + ``ray.get`` in the driver (Ray), and where the value was held; the same on Dask;
5. an artifact round trip of 100 MB on ``file`` against ``open().write/read`` in the same place;
6. a 100 MB array returned by one stage and summed by the next (the value stays on the cluster),
   against the raw engine chaining the same two tasks (``f.remote(g.remote())``;
   ``client.submit(f, client.submit(g))``).

Each engine runs in a subprocess of this script (Ray allows one ``ray.init`` per process): it
starts the executor once and measures the raw engine on that same cluster, alternating raw and
ours in each repeat. Medians are printed, with the minimum and the spread (max - min) / median.
``--quick`` is a smoke run: 1k items, 20 MB, 2 repeats, one server start per executor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402
from flowdapt.compute.resources.workflow.execute import execute_workflow  # noqa: E402

FLOWDAPT = str(Path(sys.executable).with_name("flowdapt"))
ROW = "@@row "  # marks the result lines a part prints for the parent
WORKERS = 2
CHUNKS = 8  # the hand-written batched version: four chunks per worker
NAMESPACE = "bench"


# -- samples and rows ----------------------------------------------------------------------------


@dataclass
class Samples:
    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repeats disagreed."""
        return (max(self.values) - min(self.values)) / self.median if self.median else 0.0


def seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} us"


def spread_text(ours: Samples, raw: Samples | None = None, unit: Callable[[float], str] = seconds):
    """``min a / b, spread x% / y%`` over the repeats (ours first)."""
    if raw is None:
        return f"min {unit(ours.min)}, spread {ours.spread:.0%} (n={len(ours.values)})"
    return (
        f"min {unit(ours.min)} / {unit(raw.min)}, spread {ours.spread:.0%} / {raw.spread:.0%} "
        f"(n={len(ours.values)})"
    )


def emit(kind: str, **fields: Any) -> None:
    """One row for the parent: a section, a figure, a note or an error."""
    print(ROW + json.dumps({"kind": kind, **fields}), flush=True)


def figure(
    name: str,
    value: str,
    raw: str = "",
    ratio: float | None = None,
    goal: str = "(no goal)",
    met: bool | None = None,
    spread: str = "",
) -> None:
    emit("figure", name=name, value=value, raw=raw, ratio=ratio, goal=goal, met=met, spread=spread)


def print_row(row: dict[str, Any]) -> bool:
    """Print a row; False for an error row."""
    kind = row["kind"]
    if kind == "section":
        print(f"\n-- {row['title']}")
    elif kind == "note":
        print(f"{'':<4}{row['text']}")
    elif kind == "error":
        print(f"{row['name']:<50} ERROR {row['text']}")
        return False
    else:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.3f}x"
        verdict = "" if row["met"] is None else ("MET" if row["met"] else "NOT MET")
        print(
            f"{row['name']:<50} {row['value']:>11} {row['raw']:>17} {ratio:>8}  "
            f"goal {row['goal']:<15} {verdict:<7}  {row['spread']}".rstrip()
        )
    return True


def guarded(name: str, action: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[bool]]:
    """Run one figure; a failure becomes an error row and the next figure still runs."""

    async def run() -> bool:
        try:
            await action()
            return True
        except Exception as exc:
            traceback.print_exc()  # to the part's log
            emit("error", name=name, text=f"{type(exc).__name__}: {exc}"[:300])
            return False

    return run


def workflow(name: str, *stages: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"stages": list(stages)}}


def fan_out_workflow(target: Callable[..., Any]) -> dict[str, Any]:
    return workflow(
        "fanout", {"name": "each", "target": target, "type": "parameterized", "map_on": "x"}
    )


def ew_burn_chunk() -> Callable[[list[int]], list[int]]:
    import executor_workloads as ew  # importable once the workers' PYTHONPATH is set

    return ew.burn_chunk


def chunks(items: list[int], count: int) -> list[list[int]]:
    size = math.ceil(len(items) / count)
    return [items[i : i + size] for i in range(0, len(items), size)]


async def timed(action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    gc.collect()
    began = time.perf_counter()
    result = await action()
    return time.perf_counter() - began, result


def calibrate_cpu_item() -> int:
    """Loops of workloads.burn that take about 10 ms in this process."""
    loops = workloads.CPU_LOOPS
    for _ in range(3):
        samples = []
        for _ in range(5):
            began = time.perf_counter()
            workloads.burn(loops)
            samples.append(time.perf_counter() - began)
        loops = int(loops * 0.010 / statistics.median(samples))
    return loops


# -- figures shared by the engines ---------------------------------------------------------------


@dataclass
class Engine:
    """What a figure needs of one engine: ours, the raw versions, in this process."""

    label: str
    executor: Any
    per_item: Callable[[Callable[[Any], Any], list[Any]], Awaitable[list[Any]]]
    # The hand-written batched version: one task per part, ``run_chunk`` unless said otherwise.
    batched: Callable[..., Awaitable[list[list[int]]]]


async def fan_out(engine: Engine, items: int, repeat: int) -> None:
    """Figure 1: ours against the per-item and the batched hand-written versions."""
    data = list(range(items))
    expected = [x + 1 for x in data]
    definition = fan_out_workflow(workloads.add_one)
    parts = chunks(data, CHUNKS)

    async def ours() -> list[int]:
        return await execute_workflow(  # type: ignore[no-any-return]
            definition,
            {"x": data},
            namespace=NAMESPACE,
            executor=engine.executor,
            return_result=True,
        )

    async def per_item() -> list[int]:
        return await engine.per_item(workloads.add_one, data)

    async def batched() -> list[int]:
        return [y for part in await engine.batched(parts) for y in part]

    # Warm-up (workers import the modules, Ray starts its worker processes): not counted.
    for action in (per_item, batched, ours):
        await action()
    times: dict[str, list[float]] = {"ours": [], "per_item": [], "batched": []}
    for _ in range(repeat):
        for key, action in (("per_item", per_item), ("batched", batched), ("ours", ours)):
            took, result = await timed(action)
            if result != expected:  # the correctness guard
                raise AssertionError(f"{key}: wrong result (first items {list(result)[:5]})")
            times[key].append(took)
    mine, raw, batch = Samples(times["ours"]), Samples(times["per_item"]), Samples(times["batched"])
    ratio = mine.median / raw.median
    figure(
        f"fan-out {items:,} trivial: ours vs per-item",
        seconds(mine.median),
        f"per-item {seconds(raw.median)}",
        ratio,
        "<= 0.25x",
        ratio <= 0.25,
        spread_text(mine, raw),
    )
    ratio = mine.median / batch.median
    figure(
        f"fan-out {items:,} trivial: ours vs {CHUNKS} chunks",
        seconds(mine.median),
        f"batched {seconds(batch.median)}",
        ratio,
        "<= 1.5x",
        ratio <= 1.5,
        spread_text(mine, batch),
    )


async def efficiency(
    label: str,
    ours: Callable[[list[int]], Awaitable[Any]],
    raw: Callable[[list[int]], Awaitable[Any]],
    raw_label: str,
    rounds: int,
    batched: Callable[[list[int]], Awaitable[Any]] | None = None,
) -> None:
    """Figure 2: 200 x 10 ms of CPU; serial in-process and the parallel runs in each round.

    `batched` (hand-written 8 chunks), when given, is measured too: on a shared machine this
    figure moves with the neighbours' load, and the chunks show what the engine itself reaches.
    """
    loops = calibrate_cpu_item()
    items = [loops] * 200
    await ours(items[:8])  # warm-up
    await raw(items[:8])
    serials, mine, theirs, chunked = [], [], [], []
    for _ in range(rounds):
        began = time.perf_counter()
        for n in items:
            workloads.burn(n)
        serial = time.perf_counter() - began
        raw_took, _ = await timed(lambda: raw(items))
        ours_took, _ = await timed(lambda: ours(items))
        serials.append(serial)
        theirs.append(serial / (WORKERS * raw_took))
        mine.append(serial / (WORKERS * ours_took))
        if batched is not None:
            batched_took, _ = await timed(lambda: batched(items))
            chunked.append(serial / (WORKERS * batched_took))
    emit(
        "note",
        text=f"(200 x {statistics.median(serials) / 200 * 1e3:.1f} ms items measured in-process, "
        f"{WORKERS} workers, {rounds} rounds)",
    )
    if chunked:
        emit(
            "note",
            text=f"(hand-written 8 chunks on the same cluster: {Samples(chunked).median:.0%} "
            f"efficiency, min {min(chunked):.0%})",
        )
    ours_s, raw_s = Samples(mine), Samples(theirs)
    figure(
        f"{label}: parallel efficiency",
        f"{ours_s.median:.0%}",
        f"{raw_label} {raw_s.median:.0%}",
        ours_s.median / raw_s.median,
        ">= 85 %",
        ours_s.median >= 0.85,
        spread_text(ours_s, raw_s, unit=lambda v: f"{v:.0%}"),
    )


async def handed_on(
    label: str, executor: Any, nbytes: int, repeat: int, raw: Callable[[int], float]
) -> None:
    """Figure 6: a value returned by one stage and read by the next, against the raw chain."""
    import executor_workloads as ew

    definition = workflow(
        "handed_on",
        {"name": "make", "target": ew.make_array},
        {"name": "sum", "target": ew.checksum, "depends_on": ["make"]},
    )
    expected = float(ew.make_array(nbytes).sum())
    ours_times, raw_times = [], []
    for index in range(repeat + 1):  # the first round warms up and is not counted
        took, total = await timed(
            lambda: execute_workflow(
                definition,
                {"nbytes": nbytes},
                namespace=NAMESPACE,
                executor=executor,
                return_result=True,
            )
        )
        if total != expected:
            raise AssertionError(f"the array came back changed: {total} != {expected}")
        gc.collect()
        raw_took = await asyncio.to_thread(raw, nbytes)
        if index:
            ours_times.append(took)
            raw_times.append(raw_took)
    ours, raw_s = Samples(ours_times), Samples(raw_times)
    ratio = ours.median / raw_s.median
    figure(
        f"{label}: {nbytes / 1e6:.0f} MB value handed to the next stage",
        seconds(ours.median),
        f"raw chain {seconds(raw_s.median)}",
        ratio,
        "(no goal)",
        None,
        spread_text(ours, raw_s),
    )


async def object_store_round_trip(
    executor: Any, nbytes: int, repeat: int, raw: Callable[[Any], float] | None
) -> None:
    """Figure 4: put in one stage, get in the next; raw put+get of the same array if given."""
    import executor_workloads as ew

    definition = workflow(
        "objects",
        {"name": "put", "target": ew.put_big},
        {"name": "get", "target": ew.get_big, "depends_on": ["put"]},
    )
    expected_checksum = float(ew.make_array(nbytes).sum())
    size = f"{nbytes / 1e6:.0f} MB"
    inside, whole, raw_times, places = [], [], [], set()
    for index in range(repeat + 1):  # the first round warms up and is not counted
        took, result = await timed(
            lambda: execute_workflow(
                definition,
                {"nbytes": nbytes},
                namespace=NAMESPACE,
                executor=executor,
                return_result=True,
            )
        )
        if result["checksum"] != expected_checksum or result["shape"] != [nbytes // 8]:
            raise AssertionError(f"the array came back changed: {result}")
        places.add(", ".join(result["held_in"]) or "nowhere found after put")
        raw_took = raw(ew.make_array(nbytes)) if raw is not None else None
        if index == 0:
            continue
        inside.append(result["put_s"] + result["get_s"])
        whole.append(took)
        if raw_took is not None:
            raw_times.append(raw_took)
    ours = Samples(inside)
    if raw is not None:
        raw_s = Samples(raw_times)
        ratio = ours.median / raw_s.median
        figure(
            f"object store {size}: put + get in the stages",
            seconds(ours.median),
            f"ray.put+get {seconds(raw_s.median)}",
            ratio,
            "<= 2x",
            ratio <= 2,
            spread_text(ours, raw_s),
        )
    else:
        figure(
            f"object store {size}: put + get in the stages",
            seconds(ours.median),
            spread=spread_text(ours),
        )
    whole_s = Samples(whole)
    figure(
        "  whole 2-stage workflow (array made in stage 1)",
        seconds(whole_s.median),
        spread=spread_text(whole_s),
    )
    emit("note", text=f"(the value was held in: {' / '.join(sorted(places))})")


# -- the parts, each in its own process ----------------------------------------------------------


async def dask_part(args: argparse.Namespace) -> bool:
    from distributed import Client

    from flowdapt.executors.dask import DaskExecutor

    emit("section", title=f"Dask: LocalCluster, {WORKERS} workers x 1 thread, processes")
    executor = DaskExecutor(cpus=WORKERS, threads_per_worker=1, processes=True)
    began = time.perf_counter()
    await executor.start()
    ok = True
    try:
        emit("note", text=f"(DaskExecutor started in {seconds(time.perf_counter() - began)})")
        address = (await executor.environment_info())["scheduler"]
        # The raw versions: a synchronous Client, as a user's script has, on the same cluster.
        client = await asyncio.to_thread(Client, address)
        try:

            def per_item_sync(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
                return list(client.gather(client.map(function, items, pure=False)))

            def batched_sync(parts: list[list[int]], chunk: Any = None) -> list[list[int]]:
                import executor_workloads as ew

                function = chunk or ew.run_chunk
                return list(client.gather(client.map(function, parts, pure=False)))

            def raw_chain(nbytes: int) -> float:
                import executor_workloads as ew

                began = time.perf_counter()
                made = client.submit(ew.make_array, nbytes, pure=False)
                client.submit(ew.checksum, made, pure=False).result()
                return time.perf_counter() - began

            engine = Engine(
                "dask",
                executor,
                lambda f, items: asyncio.to_thread(per_item_sync, f, items),
                lambda parts, chunk=None: asyncio.to_thread(batched_sync, parts, chunk),
            )
            burn = fan_out_workflow(workloads.burn)

            async def ours_burn(items: list[int]) -> Any:
                return await execute_workflow(
                    burn, {"x": items}, namespace=NAMESPACE, executor=executor, return_result=True
                )

            figures = [
                guarded("fan-out (dask)", lambda: fan_out(engine, args.items, args.repeat)),
                guarded(
                    "efficiency (dask)",
                    lambda: efficiency(
                        "dask, 200 x 10 ms CPU",
                        ours_burn,
                        lambda items: engine.per_item(workloads.burn, items),
                        "client.map",
                        args.repeat,
                        lambda items: engine.batched(chunks(items, 8), ew_burn_chunk()),
                    ),
                ),
                guarded(
                    "object store (dask)",
                    lambda: object_store_round_trip(executor, args.nbytes, args.repeat, None),
                ),
                guarded(
                    "handed on (dask)",
                    lambda: handed_on("dask", executor, args.nbytes, args.repeat, raw_chain),
                ),
            ]
            for run in figures:
                ok = await run() and ok
        finally:
            await asyncio.to_thread(client.close)
    finally:
        await executor.close()
    return ok


async def ray_part(args: argparse.Namespace) -> bool:
    import ray

    import executor_workloads as ew
    from flowdapt.executors.ray import RayExecutor

    emit("section", title=f"Ray: local, {WORKERS} CPUs")
    executor = RayExecutor(cpus=WORKERS)
    began = time.perf_counter()
    await executor.start()  # our ray.init; the raw versions use the same Ray
    ok = True
    try:
        emit("note", text=f"(RayExecutor started in {seconds(time.perf_counter() - began)})")
        remote_chunk = ray.remote(ew.run_chunk)
        remotes: dict[Callable[[Any], Any], Any] = {}

        def per_item_sync(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            remote = remotes.setdefault(function, ray.remote(function))
            return list(ray.get([remote.remote(x) for x in items]))

        def batched_sync(parts: list[list[int]], chunk: Any = None) -> list[list[int]]:
            remote = remote_chunk if chunk is None else remotes.setdefault(chunk, ray.remote(chunk))
            return list(ray.get([remote.remote(part) for part in parts]))

        remote_make, remote_checksum = ray.remote(ew.make_array), ray.remote(ew.checksum)

        def raw_chain(nbytes: int) -> float:
            began = time.perf_counter()
            ray.get(remote_checksum.remote(remote_make.remote(nbytes)))
            return time.perf_counter() - began

        def raw_put_get(array: Any) -> float:
            gc.collect()
            began = time.perf_counter()
            ref = ray.put(array)
            value = ray.get(ref)
            took = time.perf_counter() - began
            assert value.shape == array.shape
            del ref, value
            return took

        engine = Engine(
            "ray",
            executor,
            lambda f, items: asyncio.to_thread(per_item_sync, f, items),
            lambda parts, chunk=None: asyncio.to_thread(batched_sync, parts, chunk),
        )
        burn = fan_out_workflow(workloads.burn)

        async def ours_burn(items: list[int]) -> Any:
            return await execute_workflow(
                burn, {"x": items}, namespace=NAMESPACE, executor=executor, return_result=True
            )

        figures = [
            guarded("fan-out (ray)", lambda: fan_out(engine, args.items, args.repeat)),
            guarded(
                "efficiency (ray)",
                lambda: efficiency(
                    "ray, 200 x 10 ms CPU",
                    ours_burn,
                    lambda items: engine.per_item(workloads.burn, items),
                    "f.remote",
                    args.repeat,
                    lambda items: engine.batched(chunks(items, 8), ew.burn_chunk),
                ),
            ),
            guarded(
                "object store (ray)",
                lambda: object_store_round_trip(executor, args.nbytes, args.repeat, raw_put_get),
            ),
            guarded(
                "handed on (ray)",
                lambda: handed_on("ray", executor, args.nbytes, args.repeat, raw_chain),
            ),
        ]
        for run in figures:
            ok = await run() and ok
    finally:
        await executor.close()
    return ok


async def local_part(args: argparse.Namespace) -> bool:
    from flowdapt.executors.local import LocalExecutor

    emit("section", title=f"Local: LocalExecutor, {WORKERS} worker processes (reference)")
    ok = True
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        list(pool.map(workloads.burn, [1] * WORKERS))  # start the workers
        async with LocalExecutor(use_processes=True, cpus=WORKERS) as executor:
            burn = fan_out_workflow(workloads.burn)

            async def ours(items: list[int]) -> Any:
                return await execute_workflow(
                    burn, {"x": items}, namespace=NAMESPACE, executor=executor, return_result=True
                )

            async def raw(items: list[int]) -> Any:
                return await asyncio.to_thread(lambda: list(pool.map(workloads.burn, items)))

            run = guarded(
                "efficiency (local)",
                lambda: efficiency(
                    "local processes, 200 x 10 ms CPU", ours, raw, "pool.map", args.repeat
                ),
            )
            ok = await run() and ok
    emit("section", title="Artifacts on file (FLOWDAPT__STORAGE__PROTOCOL=file, a temp base path)")
    run = guarded(
        "artifact round trip",
        lambda: asyncio.to_thread(artifact_round_trip, args.nbytes, args.repeat),
    )
    return await run() and ok


def artifact_round_trip(nbytes: int, repeat: int) -> None:
    """Figure 5: new_artifact + new_file (write) and read, against open().write / read."""
    import numpy as np

    from flowdapt.objects import new_artifact

    payload = np.random.default_rng(0).bytes(nbytes)
    writes, reads, raw_writes, raw_reads = [], [], [], []
    for index in range(repeat + 1):  # the first round warms up and is not counted
        gc.collect()
        began = time.perf_counter()
        artifact = new_artifact("blob", namespace=NAMESPACE)
        artifact.new_file("data.bin", payload)
        wrote = time.perf_counter()
        data = artifact.get_file("data.bin").read()
        done = time.perf_counter()
        if data != payload:
            raise AssertionError("the artifact file came back changed")
        del data
        raw_path = Path(artifact.path).parent / "raw.bin"  # the same directory tree
        artifact.delete()
        gc.collect()
        raw_began = time.perf_counter()
        with open(raw_path, "wb") as handle:
            handle.write(payload)
        raw_wrote = time.perf_counter()
        with open(raw_path, "rb") as handle:
            data = handle.read()
        raw_done = time.perf_counter()
        if data != payload:
            raise AssertionError("the raw file came back changed")
        del data
        raw_path.unlink()
        if index == 0:
            continue
        writes.append(wrote - began)
        reads.append(done - wrote)
        raw_writes.append(raw_wrote - raw_began)
        raw_reads.append(raw_done - raw_wrote)
    megabytes = nbytes / 1e6

    def rate(value: float) -> str:
        return f"{megabytes / value:.0f} MB/s"

    size = f"{megabytes:.0f} MB"
    for label, ours, raw in (
        ("write (new_artifact + new_file)", writes, raw_writes),
        ("read (get_file().read())", reads, raw_reads),
        (
            "round trip",
            [w + r for w, r in zip(writes, reads, strict=True)],
            [w + r for w, r in zip(raw_writes, raw_reads, strict=True)],
        ),
    ):
        ours_s, raw_s = Samples(ours), Samples(raw)
        ratio = ours_s.median / raw_s.median
        figure(
            f"artifact {size} {label}",
            rate(ours_s.median),
            f"open() {rate(raw_s.median)}",
            ratio,
            "~raw (<=1.25x)",
            ratio <= 1.25,
            spread_text(ours_s, raw_s),
        )
    emit("note", text="(the ratio is time over time; both go through the page cache, no fsync)")


PARTS = {"dask": dask_part, "ray": ray_part, "local": local_part}


def run_part(args: argparse.Namespace) -> int:
    """In the part's own process: run its figures, printing rows for the parent."""
    return 0 if asyncio.run(PARTS[args.part](args)) else 1


# -- the server (figure 3), from the parent -----------------------------------------------------


EXECUTORS = {
    "local": {"target": "flowdapt.executors.local.LocalExecutor", "use_processes": False},
    "dask": {
        "target": "flowdapt.executors.dask.DaskExecutor",
        "cpus": WORKERS,
        "threads_per_worker": 1,
    },
    "ray": {"target": "flowdapt.executors.ray.RayExecutor", "cpus": WORKERS},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executor_state(status: dict[str, Any]) -> str | None:
    """``/status``'s executor state ("starting", "running", "failed" …); None if not reported."""
    compute = status.get("services", {}).get("compute", {})
    reported = compute.get("executor_status")
    if isinstance(reported, dict):
        return str(reported.get("status"))
    return None


def stop_tree(process: subprocess.Popen[bytes], known: list[Any]) -> None:
    """Stop `process` (SIGTERM, then SIGKILL) and every descendant it had, by pid."""
    import psutil

    with contextlib.suppress(psutil.Error):
        known = known + psutil.Process(process.pid).children(recursive=True)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    for child in known:
        with contextlib.suppress(psutil.Error):
            if child.is_running():
                child.kill()
    psutil.wait_procs([c for c in known if c.is_running()], timeout=10)


@dataclass
class Start:
    api: float
    ready: float | None  # None: not running within the timeout
    state: str | None  # the last executor state reported (None: not reported)
    rss: float
    tree_rss: float
    processes: int


def start_server(kind: str, app_dir: Path, env: dict[str, str], timeout: float) -> Start:
    import httpx
    import psutil
    import yaml

    app_dir.mkdir(parents=True, exist_ok=True)
    config = {"services": {"compute": {"executor": EXECUTORS[kind]}}}
    (app_dir / "flowdapt.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(app_dir / "server.log", "ab")  # noqa: SIM115 - closed in finally
    began = time.perf_counter()
    process = subprocess.Popen(
        [
            FLOWDAPT,
            "--app-dir",
            str(app_dir),
            "-o",
            f"rpc.api.port={port}",
            "-o",
            "logging.level=warning",
            "run",
        ],
        stdout=log,
        stderr=log,
        env=env,
    )
    known: list[Any] = []
    try:
        with httpx.Client(base_url=url, timeout=2) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/").status_code == 200:
                        api = time.perf_counter() - began
                        break
                if process.poll() is not None:
                    raise RuntimeError(f"the {kind} server exited during start-up (see {log.name})")
                if time.perf_counter() - began > timeout:
                    raise RuntimeError(f"the {kind} server did not answer within {timeout:g}s")
                time.sleep(0.01)
            ready: float | None = None
            state: str | None = None
            while time.perf_counter() - began < timeout:
                state = executor_state(client.get("/status").json())
                if state is None:  # not reported: the executor started before the API answered
                    ready = api
                    break
                if state == "running":
                    ready = time.perf_counter() - began
                    break
                time.sleep(0.05)
        time.sleep(2.0)  # idle
        server = psutil.Process(process.pid)
        known = server.children(recursive=True)
        rss = float(server.memory_info().rss)
        tree = rss
        for child in known:
            with contextlib.suppress(psutil.Error):
                tree += child.memory_info().rss
        return Start(api, ready, state, rss, tree, 1 + len(known))
    finally:
        stop_tree(process, known)
        log.close()


def show(name: str, value: str, **fields: Any) -> bool:
    """Print a figure row from the parent (the parts emit theirs)."""
    row = {"raw": "", "ratio": None, "goal": "(no goal)", "met": None, "spread": "", **fields}
    return print_row({"kind": "figure", "name": name, "value": value, **row})


def server_startup(workdir: Path, env: dict[str, str], starts: int) -> bool:
    print("\n-- Server start-up (a real `flowdapt run` per start; RSS after 2 s idle)")
    ok = True
    for kind in EXECUTORS:
        app_dir = workdir / f"server-{kind}"  # the first start creates the database
        try:
            results = [start_server(kind, app_dir, env, 120) for _ in range(starts)]
        except Exception as exc:
            print_row({"kind": "error", "name": f"server with {kind}", "text": str(exc)[:300]})
            ok = False
            continue
        api = Samples([r.api for r in results])
        show(
            f"{kind}: start-up until GET / answers",
            seconds(api.median),
            goal="<= 2 s",
            met=api.median <= 2,
            spread=spread_text(api),
        )
        states = {r.state for r in results}
        if any(r.ready is None for r in results):
            text = f"not running within 120 s (last state: {states})"
            print_row({"kind": "error", "name": f"{kind}: executor running", "text": text})
            ok = False
        else:
            ready = Samples([r.ready for r in results if r.ready is not None])
            note = "" if states != {None} else "  (no executor_status in /status: = GET /)"
            show(
                f"{kind}: start-up until /status: executor running",
                seconds(ready.median),
                spread=spread_text(ready) + note,
            )
        rss, tree = Samples([r.rss for r in results]), Samples([r.tree_rss for r in results])
        show(
            f"{kind}: idle RSS, server / its process tree",
            f"{rss.median / 1e6:.0f} MB",
            raw=f"tree {tree.median / 1e6:.0f} MB",
            spread=f"processes: {results[-1].processes} (the tree sums shared pages twice)",
        )
    return ok


# -- the parent --------------------------------------------------------------------------------


def part_environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["FLOWDAPT__STORAGE__PROTOCOL"] = "file"
    env["FLOWDAPT__STORAGE__BASE_PATH"] = str(workdir / "storage")
    return env


def run_in_subprocess(part: str, args: argparse.Namespace, env: dict[str, str], log: Path) -> bool:
    """Run a part in its own process, printing its rows as they come; its noise goes to `log`."""
    import psutil

    command = [
        sys.executable,
        __file__,
        "--part",
        part,
        "--repeat",
        str(args.repeat),
        "--items",
        str(args.items),
        "--nbytes",
        str(args.nbytes),
    ]
    ok = True
    with open(log, "wb") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        known: list[Any] = []
        # A part that hangs is stopped (with its tree) after the part timeout.
        watchdog = threading.Timer(args.part_timeout, lambda: stop_tree(process, known))
        watchdog.start()
        try:
            assert process.stdout is not None
            for raw_line in process.stdout:
                line = raw_line.decode(errors="replace")
                if line.startswith(ROW):
                    ok = print_row(json.loads(line[len(ROW) :])) and ok
                with contextlib.suppress(psutil.Error):
                    known = psutil.Process(process.pid).children(recursive=True) or known
            process.wait()
        finally:
            watchdog.cancel()
            stop_tree(process, known)
    if process.returncode != 0:
        ok = False
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        print(f"    (the {part} part exited with {process.returncode}; the end of {log}:)")
        for text in tail:
            print(f"    | {text}")
    return ok


@contextlib.contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    if keep:
        yield Path(tempfile.mkdtemp(prefix="flowdapt-bench-"))
        return
    with tempfile.TemporaryDirectory(prefix="flowdapt-bench-") as tmp:
        yield Path(tmp)


def main(args: argparse.Namespace) -> int:
    print(
        f"flowdapt executors benchmark - {datetime.now(UTC):%Y-%m-%d %H:%M} UTC - "
        f"{platform.python_implementation()} {platform.python_version()} - "
        f"{os.cpu_count()} CPUs - {platform.machine()}"
        f"{' - quick' if args.quick else ''} - {args.repeat} repeats"
    )
    print(
        f"{'figure':<50} {'flowdapt':>11} {'raw engine':>17} {'ratio':>8}  "
        f"{'goal':<20} {'':<7}  min ours / raw, spread over the repeats"
    )
    began = time.perf_counter()
    ok = True
    with work_directory(args.keep) as workdir:
        env = part_environment(workdir)
        for part in ("dask", "ray", "local"):
            ok = run_in_subprocess(part, args, env, workdir / f"{part}.log") and ok
        ok = server_startup(workdir, env, args.starts) and ok
        if args.keep:
            print(f"\n(logs and storage kept in {workdir})")
    print(f"\n(took {time.perf_counter() - began:.0f} s{'' if ok else '; some figures failed'})")
    return 0 if ok else 1


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k items, 20 MB, 2 repeats")
    parser.add_argument("--repeat", type=int, help="repeats of each figure (default 3; quick 2)")
    parser.add_argument("--items", type=int, help="fan-out items (default 10,000; quick 1,000)")
    parser.add_argument("--nbytes", type=int, help="array and file size (default 100 MB)")
    parser.add_argument("--starts", type=int, help="server starts per executor (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.repeat = args.repeat or (2 if args.quick else 3)
    args.items = args.items or (1_000 if args.quick else 10_000)
    args.nbytes = args.nbytes or (20 if args.quick else 100) * 1_000_000
    args.starts = args.starts or (1 if args.quick else 3)
    args.part_timeout = 900 if args.quick else 3600
    return args


if __name__ == "__main__":
    arguments = parse_arguments()
    sys.exit(run_part(arguments) if arguments.part else main(arguments))
