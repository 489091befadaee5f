"""LocalExecutor: runs stages on this machine, in threads or in worker processes.

Threads suit I/O-bound stages and share memory with the server; worker processes (``use_processes``
or a stage's ``options.pool: process``) run CPU-bound Python in parallel. Functions and values cross
the process boundary with cloudpickle, so lambdas and closures work.

    async with LocalExecutor(use_processes=False) as executor:
        run = await execute_workflow(workflow, executor=executor)

The cluster memory (``get_cluster_memory``) lives in the executor's process; its threads use it
directly and its worker processes through a private Unix socket (objects.local_memory_server).
It is one store per process: when the last running LocalExecutor of the process closes, it is
cleared (so two executors running side by side share it until both have closed).

Cancelling a task in a worker process terminates that process (a fresh one replaces it); a thread
cannot be stopped from outside, so a thread task finishes its current item and then sees
``get_run_context().cancelled``.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import cloudpickle
from pebble import ProcessExpired, ProcessPool

from flowdapt.domain.errors import ExecutorError
from flowdapt.engine.executor import Placement
from flowdapt.engine.task import StageTask, TaskOutcome
from flowdapt.executors.process_worker import ready, run_pickled
from flowdapt.objects.local_memory_server import (
    STORE,
    connect_to_local_memory,
    hold_local_memory,
    local_memory_address,
    release_local_memory,
    serve_local_memory,
)

# A fan-out is cut into about this many tasks per worker: enough to balance uneven items,
# few enough that per-task overhead vanishes next to the work.
TASKS_PER_WORKER = 4


def available_cpus() -> int:
    """CPUs this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """Threads for I/O-bound stages, an optional process pool for CPU-bound ones.

    - ``use_processes``: run stages in worker processes by default (a stage's ``options.pool``
      chooses per stage either way; the process pool starts on first use if not at start).
    - ``cpus``: worker processes, ``"auto"`` for every CPU this process may use.
    - ``threads``: worker threads (default ``min(32, usable CPUs + 4)``, whatever ``cpus`` says).
    - ``mp_context``: how worker processes start. ``forkserver`` (default) is safe in a threaded
      server and replaces a stopped worker quickly. As with any Python multiprocessing, a script
      that uses worker processes needs the ``if __name__ == "__main__":`` guard.
    """

    kind = "local"

    def __init__(
        self,
        use_processes: bool = True,
        cpus: int | Literal["auto"] = "auto",
        threads: int | None = None,
        mp_context: Literal["forkserver", "spawn", "fork"] = "forkserver",
        **_ignored: Any,  # the original's other options, e.g. cluster_memory_socket_path
    ) -> None:
        self.use_processes = use_processes
        self.cpus = available_cpus() if cpus == "auto" else max(1, int(cpus))
        self.threads = threads or min(32, available_cpus() + 4)
        self.mp_context = mp_context
        self._thread_pool: ThreadPoolExecutor | None = None
        self._process_pool: ProcessPool | None = None
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    @property
    def connected(self) -> bool:  # the original's attribute; a local executor is its own cluster
        return self._running

    async def start(self) -> None:
        """Start the thread pool (and the process pool if ``use_processes``); idempotent."""
        if self._running:
            return
        self._thread_pool = ThreadPoolExecutor(self.threads, thread_name_prefix="flowdapt-stage")
        self._running = True
        hold_local_memory()
        if self.use_processes:
            await self._ensure_process_pool()

    async def close(self) -> None:
        """Stop all workers: running process tasks are terminated, threads are not waited for."""
        if not self._running:
            return
        self._running = False
        release_local_memory()  # the last LocalExecutor of the process to close clears it
        thread_pool, process_pool = self._thread_pool, self._process_pool
        self._thread_pool = self._process_pool = None
        if thread_pool is not None:
            thread_pool.shutdown(wait=False, cancel_futures=True)
        if process_pool is not None:
            process_pool.stop()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(process_pool.join)

    async def __aenter__(self) -> LocalExecutor:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def environment_info(self) -> dict[str, Any]:
        return {
            "processes": self.use_processes,
            "cpus": self.cpus,
            "threads": self.threads,
            "cluster_memory": {
                "path": local_memory_address(),  # None until a process pool has needed it
                "serializer": "cloudpickle",
                "store_size": STORE.size(),
            },
        }

    def batch_size(self, item_count: int, placement: Placement) -> int:
        workers = self.cpus if self._pool_for(placement) == "process" else self.threads
        return max(1, math.ceil(item_count / (workers * TASKS_PER_WORKER)))

    def submit(self, task: StageTask, placement: Placement) -> asyncio.Future[TaskOutcome]:
        if not self._running or self._thread_pool is None:
            raise ExecutorError("LocalExecutor was not started (await executor.start() first)")
        if self._pool_for(placement) == "process":
            return asyncio.ensure_future(self._run_in_process(task))
        return asyncio.get_running_loop().run_in_executor(self._thread_pool, task)

    def _pool_for(self, placement: Placement) -> str:
        return placement.options.pool or ("process" if self.use_processes else "thread")

    async def _ensure_process_pool(self) -> ProcessPool:
        if self._process_pool is None:
            context = multiprocessing.get_context(self.mp_context)
            if self.mp_context == "forkserver":
                # Workers fork from a server that has already imported the task runner.
                context.set_forkserver_preload(["flowdapt.executors.process_worker"])
            # Each worker reaches this process's cluster memory through its private socket.
            address, authkey = serve_local_memory()
            pool = ProcessPool(
                max_workers=self.cpus,
                context=context,
                initializer=connect_to_local_memory,
                initargs=(address, authkey),
            )
            self._process_pool = pool
            # Start every worker now, off the event loop, so the first stage does not pay for it.
            warmups = [pool.schedule(ready) for _ in range(self.cpus)]
            await asyncio.gather(*(asyncio.wrap_future(f) for f in warmups))
        return self._process_pool

    async def _run_in_process(self, task: StageTask) -> TaskOutcome:
        pool = await self._ensure_process_pool()
        try:
            payload = cloudpickle.dumps(task)
        except Exception as exc:
            raise ExecutorError(
                f"stage {task.stage!r}: its function or arguments cannot be sent to a worker "
                f"process: {type(exc).__name__}: {exc}"
            ) from exc
        future = pool.schedule(run_pickled, args=(payload,))
        try:
            data = await asyncio.wrap_future(future)
        except ProcessExpired as exc:
            raise ExecutorError(
                f"stage {task.stage!r}: its worker process died (exit code {exc.exitcode})"
            ) from exc
        outcome: TaskOutcome = cloudpickle.loads(data)
        return outcome
