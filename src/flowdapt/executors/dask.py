"""DaskExecutor: runs stages on a Dask cluster — a LocalCluster it starts, or an existing one.

    async with DaskExecutor(cpus=4) as executor:                      # a LocalCluster here
        run = await execute_workflow(workflow, executor=executor)
    DaskExecutor(cluster_address="tcp://scheduler:8786")               # an existing cluster

Options (``cluster_address``, ``cpus``, ``gpus``, ``memory`` and ``resources`` are the original's
names):

- ``cluster_address``: a scheduler address to connect to; without one a ``LocalCluster`` is
  started (and closed again by ``close()``; a cluster only connected to is left running).
- ``cpus``: workers of the LocalCluster, ``"auto"`` for every CPU this process may use.
- ``threads_per_worker``: threads per LocalCluster worker (default 1).
- ``memory_limit``: per LocalCluster worker, e.g. ``"4GB"``; ``"auto"`` shares the machine's memory.
  ``memory`` is accepted as the original's name for it.
- ``gpus``: GPUs each LocalCluster worker declares (as the Dask resource ``GPU``); ``"auto"``
  (accepted from the original's configs) declares none, as GPUs are not detected.
- ``resources``: further Dask worker resources each LocalCluster worker declares, e.g.
  ``{"my_custom_label": 2}``.
- ``processes``: LocalCluster workers in processes (default) or threads of this process.
- ``dashboard``: serve the scheduler's dashboard on ``:8787`` (off by default). Without it the
  LocalCluster's workers run without Dask's statistical profiler, which only that dashboard
  shows (it samples every thread every 10 ms).
- ``connect_timeout``: seconds to reach a scheduler before ``start()`` raises ``ExecutorError``.
- ``forward_logging``: what stages log on the workers (at the level the workers' loggers handle,
  warnings and errors by default) is re-emitted in this process's log (default true).

Other options are ignored with a logged warning, so that an original's config still loads.

Stage resources map to Dask worker resources: ``cpus`` → ``CPU`` (every LocalCluster worker
declares ``CPU = threads_per_worker``), ``gpus`` → ``GPU``, ``memory`` → ``MEMORY`` (bytes),
custom labels keep their names. Dask runs a task that asks for a resource only on a worker that
declares it, and waits forever when none does; so a resource that no worker of the cluster
declares is dropped (logged once — the stage runs as on the LocalExecutor), and a stage that asks
for more of a resource than any worker has fails at once with ``ExecutorError``. Workers'
resources are asked from the scheduler at most every 2 s, and only for stages that declare any.
A fan-out is cut into about four tasks per worker thread the scheduler reports.

Tasks travel as cloudpickle bytes (lambdas and closures work) with ``pure=False``, so every call
is its own Dask task even when two workflows share stage names. The workers must be able to import
the stage functions' modules (install the plugin on them). What a stage returns that cannot be
sent back becomes a failure of that item, as on the LocalExecutor's worker processes. A stage
whose value only feeds later stages' calls (not the run's result, not the items of a fan-out)
leaves it on the worker that made it, as a future: the next tasks get it from there, worker to
worker, and it is released when the run no longer holds it (Dask recomputes it, running the stage
again, should that worker die while a later task still needs it).

Honest limits:

- Cancelling (a cancelled run, a stage timeout, fail-fast of a fan-out) releases the Dask tasks:
  queued ones never start, but Dask cannot stop a function that is running — it runs to its end in
  its worker thread, which stays busy meanwhile, and its result is discarded. The run's cancel flag
  does not reach Dask workers, so ``get_run_context().cancelled`` stays false there.
- A worker that dies mid-task makes Dask retry the task on another worker (the scheduler's
  ``distributed.scheduler.allowed-failures``, 3 by default); after that the stage fails with
  ``ExecutorError`` ("its Dask worker died").

Cluster memory (``get_cluster_memory``) scatters each value to the workers and publishes it on the
scheduler by name (objects.dask_memory): every worker reaches it, the scheduler holds only the
reference. It lasts as long as the cluster — a LocalCluster this executor started goes with it;
``close()`` clears what it put on a cluster it only connected to.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
import operator
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import cloudpickle
import dask
from distributed import Client, Future, LocalCluster
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from flowdapt.domain.errors import ExecutorError
from flowdapt.engine.executor import Placement
from flowdapt.engine.task import StageTask, TaskOutcome
from flowdapt.executors.cluster_resources import fit_to_cluster, resource_needs
from flowdapt.executors.local import TASKS_PER_WORKER, available_cpus
from flowdapt.executors.process_worker import run_pickled, run_pickled_keeping
from flowdapt.executors.remote_values import lift
from flowdapt.objects.dask_memory import clear_published

logger = logging.getLogger(__name__)

# How long the workers' declared resources are reused before the scheduler is asked again.
WORKER_INFO_TTL = 2.0


@dataclass(frozen=True, slots=True)
class DaskValue:
    """A stage's value left on the Dask worker that made it (released with this handle)."""

    future: Future[Any]


class DaskExecutor:
    """Runs each task as a Dask task on a LocalCluster it starts or on an existing scheduler.

    executor = DaskExecutor(cpus=2, resources={"my_custom_label": 1})
    await executor.start()
    try:
        result = await execute_workflow(workflow, executor=executor, return_result=True)
    finally:
        await executor.close()
    """

    kind = "dask"

    def __init__(
        self,
        cluster_address: str | None = None,
        cpus: int | Literal["auto"] = "auto",
        threads_per_worker: int = 1,
        memory_limit: str | int | None = None,
        resources: dict[str, float] | None = None,
        gpus: float | Literal["auto"] = 0,
        processes: bool = True,
        dashboard: bool = False,
        connect_timeout: float = 10.0,
        forward_logging: bool = True,
        memory: str | int | None = None,  # the original's name for memory_limit
        **ignored: Any,
    ) -> None:
        if ignored:
            logger.warning("DaskExecutor ignores unknown options: %s", ", ".join(sorted(ignored)))
        self.cluster_address = cluster_address
        self.cpus = available_cpus() if cpus == "auto" else max(1, int(cpus))
        self.threads_per_worker = max(1, int(threads_per_worker))
        self.memory_limit = memory_limit if memory_limit is not None else (memory or "auto")
        self.resources = dict(resources or {})
        self.gpus = 0.0 if gpus == "auto" else float(gpus)
        self.processes = processes
        self.dashboard = dashboard
        self.connect_timeout = connect_timeout
        self.forward_logging = forward_logging
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._worker_info: tuple[float, list[dict[str, float]]] | None = None
        self._dropped: set[str] = set()

    @property
    def running(self) -> bool:
        return self._client is not None

    @property
    def connected(self) -> bool:  # the original's attribute
        return self._client is not None

    @property
    def client(self) -> Client:
        """The Dask client (asynchronous); ExecutorError before ``start()``."""
        if self._client is None:
            raise ExecutorError("DaskExecutor was not started (await executor.start() first)")
        return self._client

    async def start(self) -> None:
        """Start a LocalCluster, or connect to ``cluster_address``; idempotent."""
        if self._client is not None:
            return
        if self.cluster_address is None:
            self._cluster = await self._start_local_cluster()
            address = self._cluster.scheduler_address
        else:
            address = self.cluster_address
        try:
            self._client = await self._connect(address)
        finally:
            if self._client is None:  # not connected: do not leave a cluster of ours behind
                await self._close_cluster()

    async def close(self) -> None:
        """Close the client, and the LocalCluster if this executor started it."""
        client, self._client, self._worker_info = self._client, None, None
        if client is not None:
            if self._cluster is None:
                # A cluster only connected to keeps running, but the cluster memory is the
                # executor's: its values go with it, as with a LocalCluster.
                try:
                    await clear_published(client)
                except Exception as exc:  # a scheduler that went away took them with it
                    logger.warning("DaskExecutor: the cluster memory was not cleared: %s", exc)
            await client.close()  # type: ignore[no-untyped-call]
        await self._close_cluster()

    async def __aenter__(self) -> DaskExecutor:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def environment_info(self) -> dict[str, Any]:
        info = self.client.scheduler_info()
        return {
            "scheduler": info.get("address"),
            "workers": info.get("n_workers"),
            "threads": info.get("total_threads"),
        }

    def batch_size(self, item_count: int, placement: Placement) -> int:
        threads = self._total_threads()
        return max(1, math.ceil(item_count / (threads * TASKS_PER_WORKER)))

    def submit(self, task: StageTask, placement: Placement) -> asyncio.Future[TaskOutcome]:
        client = self.client
        return asyncio.ensure_future(self._run(client, task, placement))

    async def _start_local_cluster(self) -> LocalCluster:
        declared: dict[str, float] = {"CPU": float(self.threads_per_worker)}
        if self.gpus:
            declared["GPU"] = self.gpus
        declared.update(self.resources)
        # The scheduler always serves HTTP (health, metrics); without the dashboard it gets a
        # free port, so that a busy :8787 neither warns nor fails.
        dashboard_address = ":8787" if self.dashboard else None
        scheduler_kwargs = {} if self.dashboard else {"dashboard_address": ":0"}
        # Without the dashboard nobody reads the workers' statistical profiler, which samples
        # every running thread's stack every 10 ms and holds the GIL meanwhile: it is off.
        # Thread workers read the setting as they are made; a nanny hands its worker processes
        # (restarted ones too) the configuration it was given.
        profile = {"distributed.worker.profile.enabled": self.dashboard}
        try:
            with dask.config.set(profile):
                # A nanny's configuration is all its worker gets: the whole of this one.
                config = copy.deepcopy(dask.config.config)  # set() restores the live one
                worker_kwargs = {"config": config} if self.processes else {}
                cluster = await self._local_cluster(
                    declared, dashboard_address, scheduler_kwargs, worker_kwargs
                )
        except Exception as exc:
            raise ExecutorError(
                f"DaskExecutor: the local Dask cluster did not start: {exc}"
            ) from exc
        return cluster

    async def _local_cluster(
        self,
        declared: dict[str, float],
        dashboard_address: str | None,
        scheduler_kwargs: dict[str, Any],
        worker_kwargs: dict[str, Any],
    ) -> LocalCluster:
        cluster: LocalCluster = await LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=self.cpus,
            threads_per_worker=self.threads_per_worker,
            memory_limit=self.memory_limit,
            resources=declared,
            processes=self.processes,
            # Worker processes talk over local TCP; thread workers over in-process comms.
            host="127.0.0.1" if self.processes else None,
            dashboard_address=dashboard_address,
            scheduler_kwargs=scheduler_kwargs,
            asynchronous=True,
            **worker_kwargs,
        )
        return cluster

    async def _connect(self, address: str) -> Client:
        try:
            client: Client = await asyncio.wait_for(
                # Not the process's default client: dask.compute() elsewhere in this process
                # (synchronous code) must not find an asynchronous client of ours.
                Client(  # type: ignore[no-untyped-call]
                    address,
                    asynchronous=True,
                    timeout=self.connect_timeout,
                    set_as_default=False,
                ),
                timeout=self.connect_timeout + 5,
            )
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"DaskExecutor: cannot reach the Dask scheduler at {address!r} within "
                f"{self.connect_timeout:g}s: {exc}"
            ) from exc
        if self.forward_logging:
            try:  # what stages log on the workers appears in this process's log
                await client.forward_logging()  # type: ignore[no-untyped-call]
            except Exception as exc:  # e.g. a scheduler that refuses worker plugins
                logger.warning("DaskExecutor: worker logs are not forwarded: %s", exc)
        return client

    async def _close_cluster(self) -> None:
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            await cluster.close()  # type: ignore[misc]

    def _total_threads(self) -> int:
        if self._client is not None:
            threads = self._client.scheduler_info().get("total_threads")
            if isinstance(threads, int) and threads > 0:
                return threads
        return self.cpus * self.threads_per_worker

    async def _run(self, client: Client, task: StageTask, placement: Placement) -> TaskOutcome:
        wanted = await self._dask_resources(client, task.stage, placement)
        task, handles = lift(task, DaskValue)
        try:
            payload = cloudpickle.dumps(task)
        except Exception as exc:
            raise ExecutorError(
                f"stage {task.stage!r}: its function or arguments cannot be sent to a Dask "
                f"worker: {type(exc).__name__}: {exc}"
            ) from exc
        key = f"{task.stage}-{uuid.uuid4().hex}"
        arguments = [handle.future for handle in handles]  # Dask hands the values to the task
        run = run_pickled_keeping if placement.keep_result else run_pickled
        submitted: Future[Any] = client.submit(
            run, payload, *arguments, key=key, pure=False, resources=wanted or None
        )
        future, kept = submitted, None
        if placement.keep_result:  # the outcome comes here, the value stays where it was made
            future = client.submit(operator.getitem, submitted, 0, key=f"{key}-outcome")
            kept = client.submit(operator.getitem, submitted, 1, key=f"{key}-value")
        try:
            data = await future
        except asyncio.CancelledError:
            if client.status == "running":  # a closed client's tasks are gone already
                await client.cancel(  # type: ignore[no-untyped-call]
                    [f for f in (submitted, future, kept) if f is not None],
                    reason="cancelled by flowdapt",
                )
            raise
        except KilledWorker as exc:
            raise ExecutorError(
                f"stage {task.stage!r}: its Dask worker died while running it ({exc})"
            ) from exc
        except FutureCancelledError as exc:
            raise ExecutorError(
                f"stage {task.stage!r}: its Dask task was cancelled (the executor was closed or "
                f"the cluster cancelled it: {exc})"
            ) from exc
        except Exception as exc:  # the worker could not load the task (e.g. a missing module)
            raise ExecutorError(
                f"stage {task.stage!r}: the Dask worker could not run its task: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        outcome: TaskOutcome = cloudpickle.loads(data)
        if kept is not None and not outcome.failures:
            outcome.values = [DaskValue(kept)]
        return outcome

    async def _dask_resources(
        self, client: Client, stage: str, placement: Placement
    ) -> dict[str, float]:
        """The stage's resources as Dask resources, keeping only those some worker declares."""
        needs = resource_needs(placement, memory_name="MEMORY")
        if not needs:
            return {}
        workers = await self._workers_resources(client)
        return fit_to_cluster(stage, needs, workers, self._dropped, "Dask worker")

    async def _workers_resources(self, client: Client) -> list[dict[str, float]]:
        now = time.monotonic()
        if self._worker_info is not None and now - self._worker_info[0] < WORKER_INFO_TTL:
            return self._worker_info[1]
        scheduler = client.scheduler
        if scheduler is None:
            raise ExecutorError("DaskExecutor: the Dask client has no scheduler connection")
        identity = await scheduler.identity(n_workers=-1)
        workers = [dict(w.get("resources") or {}) for w in identity.get("workers", {}).values()]
        self._worker_info = (now, workers)
        return workers
