"""Cluster memory: a key/value store shared by the workers of a running executor, by namespace.

    from flowdapt.compute.cluster_memory import get_cluster_memory

    def stage():
        memory = get_cluster_memory()          # the run's executor's backend
        memory.put("weights", [0.1, 0.2])      # in the run's namespace
        memory.get("weights")                  # a copy: values cross by cloudpickle

The local backend (``LocalExecutor``) keeps the values in the executor's process, which thread
workers share; a worker *process* cannot reach it and gets ClusterMemoryUnavailableError, so
the object store falls back to artifacts there. The Dask and Ray backends come with their
executors.
"""

from __future__ import annotations

import multiprocessing
import threading
from abc import ABC, abstractmethod
from typing import Any

import cloudpickle

from flowdapt.engine.context import get_run_context
from flowdapt.objects.config import current_namespace
from flowdapt.objects.errors import ClusterMemoryUnavailableError


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
    """The ``LocalExecutor``'s cluster memory: in the executor's process, shared by its threads.

    ``put`` answers ``"OK"``; ``get`` of a missing key raises ``KeyError(key)``; ``delete``
    answers ``"OK"`` for a key that existed and None otherwise; ``clear`` answers ``"OK"``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: dict[str, dict[str, bytes]] = {}

    def _reachable(self) -> None:
        # A worker process has a store of its own that no other worker sees: refuse, so that
        # callers fall back to storage instead of losing values between stages.
        if multiprocessing.parent_process() is not None:
            raise ClusterMemoryUnavailableError(
                "the LocalExecutor's cluster memory is reachable from its threads only, "
                "not from a worker process"
            )

    def _get(self, key: str, namespace: str) -> Any:
        self._reachable()
        with self._lock:
            data = self._store.get(namespace, {}).get(key)
        if data is None:
            raise KeyError(key)
        return cloudpickle.loads(data)

    def _put(self, key: str, value: Any, namespace: str) -> str:
        self._reachable()
        data = cloudpickle.dumps(value)  # unpicklable values fail here, before anything changes
        with self._lock:
            self._store.setdefault(namespace, {})[key] = data
        return "OK"

    def _delete(self, key: str, namespace: str) -> str | None:
        self._reachable()
        with self._lock:
            values = self._store.get(namespace)
            if values is None or key not in values:
                return None
            del values[key]
            if not values:
                del self._store[namespace]
        return "OK"

    def _exists(self, key: str, namespace: str) -> bool:
        self._reachable()
        with self._lock:
            return key in self._store.get(namespace, {})

    def clear(self) -> str:
        self._reachable()
        with self._lock:
            self._store.clear()
        return "OK"


_BACKENDS: dict[str, type[ClusterMemory]] = {"local": LocalClusterMemory}
_NOT_YET = {"dask": "DaskExecutor", "ray": "RayExecutor"}
_instances: dict[tuple[str, str], ClusterMemory] = {}
_instances_lock = threading.Lock()


def get_cluster_memory_backend(backend: str, **kwargs: Any) -> ClusterMemory:
    """The process's one instance of `backend` (``local``) for these options.

    An unknown name is a KeyError; ``dask`` and ``ray`` raise ClusterMemoryUnavailableError
    until their executors exist (the object store then falls back to artifacts).
    """
    if backend in _NOT_YET:
        raise ClusterMemoryUnavailableError(
            f"no {backend} cluster memory: it comes with the {_NOT_YET[backend]}"
        )
    cls = _BACKENDS[backend]
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
