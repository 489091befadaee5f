"""Cluster memory: a key/value store shared by the workers of a running executor, by namespace.

    from flowdapt.compute.cluster_memory import get_cluster_memory

    def stage():
        memory = get_cluster_memory()          # the run's executor's backend
        memory.put("weights", [0.1, 0.2])      # in the run's namespace
        memory.get("weights")                  # a copy: values cross by cloudpickle

Backends, chosen by the run's executor:

- ``local`` (LocalExecutor): the values live in the executor's process; its threads use them
  directly and its worker processes through a private socket (objects.local_memory_server).
- ``dask`` (DaskExecutor): each value is scattered to the cluster's workers and published on the
  scheduler under ``flowdapt/{namespace}/{key}``; the scheduler keeps only the reference.
- ``ray`` (RayExecutor): a named actor holds an object ref per key; the value stays in Ray's
  object store, owned by the actor, so it outlives the task that put it.
"""

from __future__ import annotations

import multiprocessing
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import cloudpickle

from flowdapt.engine.context import get_run_context
from flowdapt.objects.config import cluster_memory_max_size, current_namespace
from flowdapt.objects.errors import ClusterMemoryUnavailableError, ClusterMemoryValueTooLargeError
from flowdapt.objects.local_memory_server import STORE, remote_store


class ClusterMemory(ABC):
    """The interface of every backend. A namespace left empty is the current run's namespace
    (``"default"`` outside a stage); the same key in two namespaces holds two values."""

    def get(self, key: str, *, namespace: str = "") -> Any:
        """The value of `key`; KeyError (the key) when there is none."""
        return self._get(key, current_namespace(namespace))

    def put(self, key: str, value: Any, *, namespace: str = "") -> Any:
        """Store `value` under `key`."""
        return self._put(key, value, current_namespace(namespace))

    def delete(self, key: str, *, namespace: str = "") -> Any:
        """Remove `key`; a missing key is not an error."""
        return self._delete(key, current_namespace(namespace))

    def exists(self, key: str, *, namespace: str = "") -> bool:
        """Whether `key` holds a value."""
        return self._exists(key, current_namespace(namespace))

    def _check_size(self, key: str, size: int) -> None:
        """ClusterMemoryValueTooLargeError when `size` bytes exceed the configured limit."""
        limit = cluster_memory_max_size()
        if limit is not None and size > limit:
            raise ClusterMemoryValueTooLargeError(key, size, limit)

    @abstractmethod
    def clear(self) -> Any:
        """Remove everything, in every namespace."""

    @abstractmethod
    def _get(self, key: str, namespace: str) -> Any: ...

    @abstractmethod
    def _put(self, key: str, value: Any, namespace: str) -> Any: ...

    @abstractmethod
    def _delete(self, key: str, namespace: str) -> Any: ...

    @abstractmethod
    def _exists(self, key: str, namespace: str) -> bool: ...


class LocalClusterMemory(ClusterMemory):
    """The ``LocalExecutor``'s cluster memory: in the executor's process, shared by its threads
    and, through the executor's private socket, by its worker processes.

    ``put`` answers ``"OK"``; ``get`` of a missing key raises ``KeyError(key)``; ``delete``
    answers ``"OK"`` for a key that existed and None otherwise; ``clear`` answers ``"OK"``.
    Values are stored as cloudpickle bytes, so ``get`` returns a copy.
    """

    def _call(self, operation: str, *args: Any) -> Any:
        remote = remote_store()
        if remote is not None:  # a worker process of a LocalExecutor's pool
            return remote.call(operation, *args)
        if multiprocessing.parent_process() is not None:
            # Some other child process: its store would be its own, which no other process
            # sees. Refuse, so that callers fall back to storage instead of losing values.
            raise ClusterMemoryUnavailableError(
                "the LocalExecutor's cluster memory is reachable from its threads and its "
                "worker processes only, not from this process"
            )
        return getattr(STORE, operation)(*args)

    def _get(self, key: str, namespace: str) -> Any:
        return cloudpickle.loads(self._call("get", namespace, key))

    def _put(self, key: str, value: Any, namespace: str) -> str:
        data = cloudpickle.dumps(value)  # unpicklable values fail here, before anything changes
        self._check_size(key, len(data))
        result: str = self._call("put", namespace, key, data)
        return result

    def _delete(self, key: str, namespace: str) -> str | None:
        result: str | None = self._call("delete", namespace, key)
        return result

    def _exists(self, key: str, namespace: str) -> bool:
        return bool(self._call("exists", namespace, key))

    def clear(self) -> str:
        result: str = self._call("clear")
        return result


def _dask_backend() -> type[ClusterMemory]:
    from flowdapt.objects.dask_memory import DaskClusterMemory

    return DaskClusterMemory


def _ray_backend() -> type[ClusterMemory]:
    from flowdapt.objects.ray_memory import RayClusterMemory

    return RayClusterMemory


# Dask and Ray are imported only when their backend is first asked for: the server and the
# LocalExecutor's workers never load them.
_BACKENDS: dict[str, Callable[[], type[ClusterMemory]]] = {
    "local": lambda: LocalClusterMemory,
    "dask": _dask_backend,
    "ray": _ray_backend,
}
_instances: dict[tuple[str, str], ClusterMemory] = {}
_instances_lock = threading.Lock()


def get_cluster_memory_backend(backend: str, **kwargs: Any) -> ClusterMemory:
    """The process's one instance of `backend` (``local``, ``dask``, ``ray``) for these options.

    An unknown name is a KeyError.
    """
    cls = _BACKENDS[backend]()
    cache_key = (backend, repr(sorted(kwargs.items())))
    with _instances_lock:
        if cache_key not in _instances:
            _instances[cache_key] = cls(**kwargs)
        return _instances[cache_key]


def get_cluster_memory(backend: str | None = None, **kwargs: Any) -> ClusterMemory:
    """The cluster memory of `backend`, or of the running stage's executor.

    Outside a stage without a backend: RuntimeError ("No active WorkflowRunContext").
    """
    return get_cluster_memory_backend(backend or get_run_context().executor, **kwargs)


def put_in_cluster_memory(
    key: str, value: Any, *, namespace: str = "", backend: str | None = None, **kwargs: Any
) -> Any:
    """Store `value` under `key` in the run's (or `backend`'s) cluster memory."""
    return get_cluster_memory(backend, **kwargs).put(key, value, namespace=namespace)


def get_from_cluster_memory(
    key: str, *, namespace: str = "", backend: str | None = None, **kwargs: Any
) -> Any:
    """The value under `key`; KeyError if there is none."""
    return get_cluster_memory(backend, **kwargs).get(key, namespace=namespace)


def delete_from_cluster_memory(
    key: str, *, namespace: str = "", backend: str | None = None, **kwargs: Any
) -> Any:
    """Remove `key` (no error if it is missing)."""
    return get_cluster_memory(backend, **kwargs).delete(key, namespace=namespace)


def check_for_key_in_cluster_memory(
    key: str, *, namespace: str = "", backend: str | None = None, **kwargs: Any
) -> bool:
    """Whether `key` holds a value."""
    return get_cluster_memory(backend, **kwargs).exists(key, namespace=namespace)
