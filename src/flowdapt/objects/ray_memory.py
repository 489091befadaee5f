"""The RayExecutor's cluster memory: a named actor that holds one object ref per key.

``put`` puts the value in Ray's object store (``ray.put``, as a user would) and hands the actor
the ref, which the actor holds at once — a ``get`` right after finds it — and then, in a thread
of its own, copies into an object the actor owns: the value must outlive the putting worker
process (Ray frees an object with its owner), and Ray 2.56 removed ``ray.put(_owner=…)``, which
would have made the first copy the actor's. Until that copy is done (milliseconds per hundred MB)
the value depends on the putting worker; should that worker die first, the key is removed and
logged. Deleting the key frees the object. ``get`` asks the actor for the ref only and fetches
the value from the object store, not through the actor (numpy arrays come back zero-copy and
read-only, as from ``ray.get``).

    memory = get_cluster_memory("ray")      # inside a stage on Ray: the run's executor's
    memory.put("weights", array)
    memory.get("weights")

The actor is detached and created on first use, by name (``RayExecutor(cluster_memory_actor=
{"name": …, "namespace": …, "options": {…}})``; by default ``flowdapt-cluster-memory`` in the Ray
namespace ``flowdapt``, no CPUs). The executor hands these settings to its workers in the job's
environment (:data:`ACTOR_ENV`) and kills the actor when it closes.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import pickle
import threading
from typing import Any

import cloudpickle
import ray
import ray.exceptions

from flowdapt.objects.cluster_memory import ClusterMemory
from flowdapt.objects.config import cluster_memory_max_size
from flowdapt.objects.errors import ClusterMemoryUnavailableError
from flowdapt.objects.local_memory_server import NamespacedStore

logger = logging.getLogger(__name__)

# The JSON of the actor settings, set by the RayExecutor for its driver and its workers.
ACTOR_ENV = "FLOWDAPT_RAY_CLUSTER_MEMORY_ACTOR"
DEFAULT_ACTOR = {"name": "flowdapt-cluster-memory", "namespace": "flowdapt", "options": {}}


def actor_settings(configured: dict[str, Any] | None = None) -> dict[str, Any]:
    """Name, Ray namespace and actor options: `configured`, else the environment's, else the
    defaults (each key on its own)."""
    if configured is None:
        text = os.environ.get(ACTOR_ENV)
        configured = json.loads(text) if text else {}
    settings = {**DEFAULT_ACTOR, **configured}
    settings["options"] = dict(settings.get("options") or {})
    return settings


def serialized_size(value: Any) -> int:
    """Bytes of `value` pickled, counting large buffers (numpy, pandas, bytes) without copying
    them: pickle protocol 5 hands them out of band."""
    buffers: list[pickle.PickleBuffer] = []
    head = cloudpickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    return len(head) + sum(buffer.raw().nbytes for buffer in buffers)


class ClusterMemoryActor(NamespacedStore):
    """The actor's state: an object ref per namespace and key — the putter's until the actor's
    own copy replaces it (refs travel inside a list, so that Ray passes them on instead of
    resolving them)."""

    def __init__(self) -> None:
        super().__init__()
        # One thread: copies happen in put order, and a no-op task waits for all before it.
        self._copies = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="own-copy")

    def adopt(self, namespace: str, key: str, refs: list[Any]) -> str:
        borrowed = refs[0]
        result = super().put(namespace, key, borrowed)
        self._copies.submit(self._own, namespace, key, borrowed)
        return result

    def get(self, namespace: str, key: str) -> list[Any] | None:
        try:
            return [super().get(namespace, key)]
        except KeyError:
            return None

    def get_owned(self, namespace: str, key: str) -> list[Any] | None:
        """As get, once every copy begun so far is done (for a putter that has gone)."""
        self._copies.submit(lambda: None).result()
        return self.get(namespace, key)

    def _own(self, namespace: str, key: str, borrowed: Any) -> None:
        try:
            owned = ray.put(ray.get(borrowed))
        except Exception as exc:  # the putting worker died before the copy: the value is gone
            logger.warning(
                "cluster memory: %r in namespace %r was lost with the process that put it: %s",
                key,
                namespace,
                exc,
            )
            self.replace(namespace, key, borrowed, None)
            return
        self.replace(namespace, key, borrowed, owned)  # unless put again or deleted meanwhile


class RayClusterMemory(ClusterMemory):
    """Cluster memory in the named actor of the Ray this process is connected to.

    Answers as the local backend: ``put`` → ``"OK"``, ``get`` of a missing key →
    ``KeyError(key)``, ``delete`` → ``"OK"`` or None, ``clear`` → ``"OK"``.
    """

    def __init__(self, **actor: Any) -> None:
        self.settings = actor_settings(actor or None)
        self._lock = threading.Lock()
        self._handle: Any = None

    def _actor(self) -> Any:
        if not ray.is_initialized():
            raise ClusterMemoryUnavailableError(
                "the Ray cluster memory needs a connected Ray (it is reachable from the "
                "RayExecutor's tasks and its server)"
            )
        with self._lock:
            if self._handle is None:
                options = {"num_cpus": 0, **self.settings["options"]}
                self._handle = (
                    ray.remote(ClusterMemoryActor)
                    .options(
                        name=self.settings["name"],
                        namespace=self.settings["namespace"],
                        lifetime="detached",
                        get_if_exists=True,
                        **options,
                    )
                    .remote()
                )
            return self._handle

    def _ask(self, method: str, *args: Any) -> Any:
        try:
            return self._call(method, *args)
        except ray.exceptions.RayActorError:  # killed (an executor closed) or lost: once more,
            pass  # with an actor made afresh
        try:
            return self._call(method, *args)
        except ray.exceptions.RayActorError as exc:
            raise ClusterMemoryUnavailableError(
                f"the Ray cluster memory actor {self.settings['name']!r} is not available: {exc}"
            ) from exc

    def _call(self, method: str, *args: Any) -> Any:
        actor = self._actor()
        try:
            return ray.get(getattr(actor, method).remote(*args))
        except ray.exceptions.RayActorError:
            with self._lock:
                self._handle = None
            raise

    def _get(self, key: str, namespace: str) -> Any:
        refs = self._ask("get", namespace, key)
        if refs is None:
            raise KeyError(key)
        try:
            return ray.get(refs[0])
        except ray.exceptions.ObjectLostError:  # its putter went before the actor's copy was made
            refs = self._ask("get_owned", namespace, key)
            if refs is None:
                raise KeyError(key) from None
            return ray.get(refs[0])

    def _put(self, key: str, value: Any, namespace: str) -> str:
        if cluster_memory_max_size() is not None:
            self._check_size(key, serialized_size(value))
        result: str = self._ask("adopt", namespace, key, [ray.put(value)])
        return result

    def _delete(self, key: str, namespace: str) -> str | None:
        result: str | None = self._ask("delete", namespace, key)
        return result

    def _exists(self, key: str, namespace: str) -> bool:
        return bool(self._ask("exists", namespace, key))

    def clear(self) -> str:
        result: str = self._ask("clear")
        return result


def kill_cluster_memory_actor(configured: dict[str, Any] | None = None) -> None:
    """End the actor (and free every value it holds), if it exists; for the executor's close."""
    settings = actor_settings(configured)
    try:
        actor = ray.get_actor(settings["name"], namespace=settings["namespace"])
    except ValueError:  # never created
        return
    ray.kill(actor)
