"""RayExecutor: runs stages as Ray tasks — on a local Ray it starts, or on an existing cluster.

    async with RayExecutor(cpus=4) as executor:                       # a local Ray here
        run = await execute_workflow(workflow, executor=executor)
    RayExecutor(cluster_address="10.0.0.5:6379")                       # an existing cluster

Options (the original's names):

- ``cluster_address``: the address of a running cluster (``host:port`` of its GCS, ``auto``, or
  ``ray://host:10001`` for Ray Client); without one a local Ray is started with ``ray.init``
  (and shut down again by ``close()``; a cluster only connected to is left running).
- ``cpus``, ``gpus``: what the local Ray declares (``"auto"``: Ray detects them).
- ``object_store_memory``: bytes of the local Ray's object store (default: Ray's choice).
- ``resources``: custom resources the local Ray declares, e.g. ``{"my_custom_label": 2}``.
- ``runtime_env``: passed to ``ray.init`` as it is (``env_vars``, ``pip``, …). A ``pip`` entry
  makes Ray install packages, which downloads them; nothing else is downloaded.
- ``log_to_driver``: print the workers' output in this process (default true).
- ``connect_timeout``: seconds to reach a cluster before ``start()`` raises ``ExecutorError``.
- ``cluster_memory_actor``: the cluster memory's actor, ``{"name", "namespace", "options"}``
  (see below).

Other options (``dashboard_host``, …) are ignored with a logged
warning, so that an original's config still loads. The dashboard is never started, and Ray's
usage statistics are off unless ``RAY_USAGE_STATS_ENABLED`` says otherwise.

Stage resources map to Ray task options: ``cpus`` → ``num_cpus``, ``gpus`` → ``num_gpus``,
``memory`` → ``memory`` (bytes), custom labels → ``resources``. A task that asks for no CPUs
takes Ray's default of one. Ray keeps a task it cannot place waiting forever, so a resource that
no node of the cluster declares is dropped (logged once — the stage runs as on the
LocalExecutor), and a stage that asks for more of a resource than any node has fails at once with
``ExecutorError``. The nodes' resources are asked from Ray at ``start()`` and then at most every
2 s, when tasks are submitted. A fan-out is cut into about four tasks per CPU of the cluster.

Tasks travel as cloudpickle bytes (lambdas and closures work), every call its own Ray task, so
two workflows that share stage names run their own functions. The workers must be able to import
the stage functions' modules (install the plugin on the nodes, or use ``runtime_env``). What a
stage returns that cannot be sent back becomes a failure of that item. A stage whose value only
feeds later stages' calls (not the run's result, not the items of a fan-out) leaves it in Ray's
object store, owned by the server's driver: the next tasks get it from there, worker to worker,
and it is freed when the run no longer holds it.

Honest limits:

- Ray allows one connection per process: one RayExecutor may be started at a time, and not in a
  process where something else already called ``ray.init``.
- An unreachable ``host:port`` fails within ``connect_timeout`` (a TCP probe before
  ``ray.init``). A cluster that accepts the connection but never completes the handshake fails
  after ``connect_timeout + 10`` s; the ``ray.init`` thread cannot be stopped and is left to end
  on its own.
- Token authentication (Ray 2.60's default for clusters it starts; the local Ray writes
  ``~/.ray/auth_token``): to connect to such a cluster the server needs the cluster's token and
  ``RAY_AUTH_MODE=token`` in its environment — Ray's driver does not present the token otherwise.
- Cancelling (a cancelled run, a stage timeout, fail-fast of a fan-out) cancels the Ray task;
  one that is running has its worker process killed (``ray.cancel(force=True)``), so it stops at
  once and Ray starts a fresh worker for the next task. The run's cancel flag does not reach Ray
  workers, so ``get_run_context().cancelled`` stays false there.
- Ray does not retry a task whose worker died (``max_retries=0``): the stage fails with
  ``ExecutorError`` ("its Ray worker died"); a stage's own ``retries`` option still applies.

Cluster memory (``get_cluster_memory``) is a named, detached actor holding an object ref per key
(``cluster_memory_actor``: ``name``, Ray ``namespace`` and actor ``options``; by default
``flowdapt-cluster-memory`` in ``flowdapt``, no CPUs), created on first use and killed by
``close()``, on a local Ray and on a cluster alike (objects.ray_memory).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Literal

import cloudpickle
import ray
import ray.exceptions
from ray._private import ray_constants

from flowdapt.domain.errors import ExecutorError
from flowdapt.engine.executor import Placement
from flowdapt.engine.task import StageTask, TaskOutcome
from flowdapt.executors.cluster_resources import fit_to_cluster, resource_needs
from flowdapt.executors.local import TASKS_PER_WORKER, available_cpus
from flowdapt.executors.process_worker import run_pickled, run_pickled_keeping
from flowdapt.executors.remote_values import lift
from flowdapt.objects.ray_memory import ACTOR_ENV, actor_settings, kill_cluster_memory_actor

logger = logging.getLogger(__name__)

# How long the nodes' declared resources are reused before Ray is asked again.
NODE_INFO_TTL = 2.0

# Bounds ray.init of a local Ray.
LOCAL_START_TIMEOUT = 120.0

# How long a cancelled task may take to be settled by Ray before the executor moves on.
CANCEL_SETTLE_TIMEOUT = 10.0

# One remote function for every task. A worker that dies is not retried by Ray (see above).
_remote_run = ray.remote(max_retries=0)(run_pickled)
# The same, returning the stage's value as a second object, which stays in the object store.
_remote_run_keeping = ray.remote(max_retries=0, num_returns=2)(run_pickled_keeping)


@dataclass(frozen=True, slots=True)
class RayValue:
    """A stage's value left in Ray's object store (owned by the driver, freed with this handle)."""

    ref: ray.ObjectRef[Any]


class RayExecutor:
    """Runs each task as a Ray task on a local Ray it starts or on an existing cluster.

    executor = RayExecutor(cpus=2, resources={"my_custom_label": 1})
    await executor.start()
    try:
        result = await execute_workflow(workflow, executor=executor, return_result=True)
    finally:
        await executor.close()
    """

    kind = "ray"

    def __init__(
        self,
        cluster_address: str | None = None,
        cpus: int | Literal["auto"] = "auto",
        gpus: float | Literal["auto"] = "auto",
        resources: dict[str, float] | None = None,
        object_store_memory: int | None = None,
        runtime_env: dict[str, Any] | None = None,
        log_to_driver: bool = True,
        connect_timeout: float = 10.0,
        cluster_memory_actor: dict[str, Any] | None = None,
        **ignored: Any,
    ) -> None:
        if ignored:
            logger.warning("RayExecutor ignores unknown options: %s", ", ".join(sorted(ignored)))
        self.cluster_address = cluster_address
        self.cpus = None if cpus == "auto" else max(1, int(cpus))
        self.gpus = None if gpus == "auto" else float(gpus)
        self.resources = dict(resources or {})
        self.object_store_memory = None if object_store_memory is None else int(object_store_memory)
        self.runtime_env = dict(runtime_env) if runtime_env else None
        self.log_to_driver = log_to_driver
        self.connect_timeout = connect_timeout
        self.cluster_memory_actor = actor_settings(cluster_memory_actor)
        self._running = False
        self._node_info: tuple[float, list[dict[str, float]]] | None = None
        self._node_refresh: asyncio.Future[list[dict[str, float]]] | None = None  # in flight
        self._dropped: set[str] = set()
        self._inflight: dict[ray.ObjectRef[bytes], asyncio.Future[bytes]] = {}

    @property
    def running(self) -> bool:
        return self._running

    @property
    def connected(self) -> bool:  # the original's attribute
        return self._running

    async def start(self) -> None:
        """Start a local Ray, or connect to ``cluster_address``; idempotent."""
        if self._running:
            return
        if self.cluster_address is not None:
            await _probe(self.cluster_address, self.connect_timeout)
        if ray.is_initialized():
            raise ExecutorError(
                "RayExecutor: Ray is already initialised in this process (one connection per "
                "process; close the other RayExecutor first)"
            )
        _without_uv_run_hook()
        # A local start takes seconds; a reachable cluster answers within the connect timeout.
        bound = LOCAL_START_TIMEOUT if self.cluster_address is None else self.connect_timeout + 10
        try:
            await asyncio.wait_for(asyncio.to_thread(ray.init, **self._init_options()), bound)
        except Exception as exc:
            where = self.cluster_address or "a local Ray"
            raise ExecutorError(f"RayExecutor: cannot start or reach {where}: {exc}") from exc
        self._running = True
        # This process's own cluster-memory calls find the actor as the workers do.
        os.environ[ACTOR_ENV] = json.dumps(self.cluster_memory_actor)
        await self._nodes_resources()  # the cluster's CPUs size the first fan-outs

    async def close(self) -> None:
        """Shut down the local Ray, or only disconnect from a cluster this executor did not start.

        Tasks still running fail with ``ExecutorError`` ("the executor was closed").
        """
        if not self._running:
            return
        self._running, self._node_info = False, None
        inflight, self._inflight = self._inflight, {}
        for ref, future in inflight.items():
            _cancel(ref)
            if not future.done():
                future.set_exception(_ExecutorClosed())
        # The cluster memory is the executor's: its values go with it, on a cluster too.
        try:
            await asyncio.to_thread(kill_cluster_memory_actor, self.cluster_memory_actor)
        except Exception as exc:  # a cluster that went away took the actor with it
            logger.warning("RayExecutor: the cluster memory actor was not ended: %s", exc)
        os.environ.pop(ACTOR_ENV, None)
        # ray.shutdown() disconnects a driver from a cluster and stops a Ray it started itself.
        await asyncio.to_thread(ray.shutdown)

    async def __aenter__(self) -> RayExecutor:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def environment_info(self) -> dict[str, Any]:
        self._require_running()
        return {
            "address": self.cluster_address or "local",
            "nodes": len(await self._nodes_resources()),
            "resources": await asyncio.to_thread(ray.cluster_resources),
        }

    def batch_size(self, item_count: int, placement: Placement) -> int:
        cpus = self._total_cpus()
        return max(1, math.ceil(item_count / (cpus * TASKS_PER_WORKER)))

    def submit(self, task: StageTask, placement: Placement) -> asyncio.Future[TaskOutcome]:
        self._require_running()
        return asyncio.ensure_future(self._run(task, placement))

    def _require_running(self) -> None:
        if not self._running:
            raise ExecutorError("RayExecutor was not started (await executor.start() first)")

    def _init_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": self.log_to_driver,
            "runtime_env": self._runtime_env(),
        }
        if self.cluster_address is not None:
            options["address"] = self.cluster_address
            return options
        # Nothing leaves this machine unless the user asks for it.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        options.update(
            # "local" starts a Ray of our own even where RAY_ADDRESS or a cluster started on
            # this machine by `ray start` would make ray.init connect to that instead.
            address="local",
            num_cpus=self.cpus,
            num_gpus=self.gpus,
            object_store_memory=self.object_store_memory,
            resources=self.resources or None,
        )
        return options

    def _runtime_env(self) -> dict[str, Any]:
        # The workers learn where the cluster memory actor is from the job's environment.
        runtime_env = dict(self.runtime_env or {})
        env_vars = dict(runtime_env.get("env_vars") or {})
        env_vars[ACTOR_ENV] = json.dumps(self.cluster_memory_actor)
        runtime_env["env_vars"] = env_vars
        return runtime_env

    def _total_cpus(self) -> int:
        if self._node_info is not None:
            cpus = sum(node.get("CPU", 0.0) for node in self._node_info[1])
            if cpus >= 1:
                return int(cpus)
        return self.cpus or available_cpus()

    async def _run(self, task: StageTask, placement: Placement) -> TaskOutcome:
        # Nodes come and go (batch_size reads them): a stale reading is refreshed in the
        # background, so the tasks of a fan-out do not each wait for ray.nodes().
        if self._node_info is None:
            await self._nodes_resources()
        elif time.monotonic() - self._node_info[0] >= NODE_INFO_TTL:
            self._refresh_nodes()
        options = await self._ray_options(task.stage, placement)
        task, handles = lift(task, RayValue)
        try:
            payload = cloudpickle.dumps(task)
        except Exception as exc:
            raise ExecutorError(
                f"stage {task.stage!r}: its function or arguments cannot be sent to a Ray "
                f"worker: {type(exc).__name__}: {exc}"
            ) from exc
        self._require_running()
        arguments = [handle.ref for handle in handles]  # Ray hands the values to the task
        kept: ray.ObjectRef[Any] | None = None
        remote = _remote_with(task.stage, placement.keep_result, options)
        if placement.keep_result:
            ref, kept = remote.remote(payload, *arguments)
        else:
            ref = remote.remote(payload, *arguments)
        future = self._watch(ref)
        try:
            data = await future
        except asyncio.CancelledError:
            _cancel(ref)
            await _settle_cancelled(future, options)
            raise
        except (_ExecutorClosed, ray.exceptions.RayError) as exc:
            raise _executor_error(task.stage, exc) from exc
        finally:
            self._inflight.pop(ref, None)
        outcome: TaskOutcome = cloudpickle.loads(data)
        if kept is not None and not outcome.failures:
            outcome.values = [RayValue(kept)]
        return outcome

    def _watch(self, ref: ray.ObjectRef[bytes]) -> asyncio.Future[bytes]:
        """An asyncio future for `ref` that ``close()`` can fail (Ray's would never resolve)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._inflight[ref] = future

        def settle(done: concurrent.futures.Future[bytes]) -> None:
            if future.done():
                return
            if done.cancelled():  # not by us: _run cancels the ref, never this future
                future.set_exception(ray.exceptions.TaskCancelledError())
                return
            exc = done.exception()
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(done.result())

        def from_ray_thread(done: concurrent.futures.Future[bytes]) -> None:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(settle, done)

        ref.future().add_done_callback(from_ray_thread)
        return future

    async def _ray_options(self, stage: str, placement: Placement) -> dict[str, Any]:
        """The stage's resources as Ray task options, keeping only those some node declares."""
        needs = resource_needs(placement, memory_name="memory")
        if not needs:
            return {}
        nodes = await self._nodes_resources()
        wanted = fit_to_cluster(stage, needs, nodes, self._dropped, "Ray node")
        options: dict[str, Any] = {}
        if "CPU" in wanted:
            options["num_cpus"] = wanted.pop("CPU")
        if "GPU" in wanted:
            options["num_gpus"] = wanted.pop("GPU")
        if "memory" in wanted:
            options["memory"] = int(wanted.pop("memory"))
        if wanted:
            options["resources"] = wanted
        return options

    async def _nodes_resources(self) -> list[dict[str, float]]:
        """The resources of the live nodes, read at most every NODE_INFO_TTL seconds."""
        if self._node_info is not None and time.monotonic() - self._node_info[0] < NODE_INFO_TTL:
            return self._node_info[1]
        return await asyncio.shield(self._refresh_nodes())

    def _refresh_nodes(self) -> asyncio.Future[list[dict[str, float]]]:
        """One ray.nodes() call at a time, however many tasks find the reading stale."""
        if self._node_refresh is None or self._node_refresh.done():
            self._node_refresh = asyncio.ensure_future(self._read_nodes())
            # Read by whoever awaits it; a background refresh nobody awaits must not warn.
            self._node_refresh.add_done_callback(_retrieve)
        return self._node_refresh

    async def _read_nodes(self) -> list[dict[str, float]]:
        nodes = await asyncio.to_thread(ray.nodes)
        resources = [dict(node.get("Resources") or {}) for node in nodes if node.get("Alive")]
        if self._running:
            self._node_info = (time.monotonic(), resources)
        return resources


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class _ExecutorClosed(Exception):
    """Set on the futures of tasks still running when ``close()`` is called."""


def _executor_error(stage: str, exc: Exception) -> ExecutorError:
    """What Ray (or close()) did to a task, said in the stage's terms."""
    if isinstance(exc, _ExecutorClosed):
        return ExecutorError(f"stage {stage!r}: its Ray task was lost: the executor was closed")
    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return ExecutorError(f"stage {stage!r}: its Ray worker died while running it ({exc})")
    if isinstance(exc, ray.exceptions.TaskCancelledError):
        return ExecutorError(f"stage {stage!r}: its Ray task was cancelled by the cluster ({exc})")
    if isinstance(exc, ray.exceptions.RayTaskError):  # the worker could not load the task
        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
        return ExecutorError(
            f"stage {stage!r}: the Ray worker could not run its task: "
            f"{type(cause).__name__}: {cause}"
        )
    return ExecutorError(f"stage {stage!r}: Ray failed its task: {type(exc).__name__}: {exc}")


def _without_uv_run_hook() -> None:
    """Turn off Ray's `uv run` hook unless ``RAY_ENABLE_UV_RUN_RUNTIME_ENV=1`` asks for it.

    Left on, a server started with ``uv run`` (as ``make run`` and ``make test`` do) makes every
    Ray worker run ``uv run`` in a copy of the server's working directory, shipped to the cluster
    as the job's runtime_env: on a cluster that is not this checkout the workers die while
    starting, and the run waits for them. Ray reads the variable once, when it is first imported
    (by whichever module comes first), so its constant is set here, just before ``ray.init``.
    """
    wanted = os.environ.get("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0").lower() in ("1", "true")
    ray_constants.RAY_ENABLE_UV_RUN_RUNTIME_ENV = wanted


@functools.lru_cache(maxsize=256)
def _remote_for(stage: str, keeping: bool, options: str) -> Any:
    remote = _remote_run_keeping if keeping else _remote_run
    return remote.options(name=stage, **json.loads(options))


def _remote_with(stage: str, keeping: bool, options: dict[str, Any]) -> Any:
    """The remote function with a stage's name and options, made once per stage shape: Ray's
    ``.options()`` builds a new wrapper class each call, a cost every task of a fan-out paid."""
    return _remote_for(stage, keeping, json.dumps(options, sort_keys=True))


def _cancel(ref: ray.ObjectRef[bytes]) -> None:
    """Cancel `ref`'s task, killing its worker if it runs (a sync stage cannot be interrupted)."""
    try:
        ray.cancel(ref, force=True)
    except Exception as exc:  # already finished, or Ray is gone: nothing left to stop
        logger.debug("ray.cancel failed: %s", exc)


async def _settle_cancelled(future: asyncio.Future[bytes], options: dict[str, Any]) -> None:
    """Wait (bounded) until Ray has settled a cancelled task and its killed worker is gone.

    ``ray.cancel(force=True)`` returns before the worker is dead, and even once the cancelled
    ref has resolved, Ray may still see the dying worker as idle and lease it to the next task
    of the same shape, which would then fail with "worker died" without having run. So after
    the ref, an empty task of that shape runs until one succeeds: the empty payload runs no user
    code, so Ray may retry it (``max_retries``), and it takes the dying worker's lease in the
    next task's place.
    """
    with contextlib.suppress(BaseException):
        await asyncio.wait({future}, timeout=CANCEL_SETTLE_TIMEOUT)
    if not future.done():
        future.cancel()  # nobody reads it any more; its callback ignores a settled future
    elif not future.cancelled():
        future.exception()  # retrieved: no "exception was never retrieved" warning
    probe = _remote_run.options(**options, name="flowdapt-probe", max_retries=3).remote(b"")
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(asyncio.wrap_future(probe.future()), CANCEL_SETTLE_TIMEOUT)


async def _probe(address: str, seconds: float) -> None:
    """Fail fast when nothing listens at `address` (``ray.init`` would retry for a long time)."""
    target = address.removeprefix("ray://")
    if target == "auto" or ":" not in target:
        return
    host, _, port = target.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), seconds)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExecutorError(
            f"RayExecutor: cannot reach the Ray cluster at {address!r} within {seconds:g}s: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    writer.close()
    await writer.wait_closed()
