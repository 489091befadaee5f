"""The DaskExecutor's cluster memory: values on the workers, published on the scheduler.

``put`` scatters the value's cloudpickle bytes to the cluster and publishes the future as the
dataset ``flowdapt/{namespace}/{key}``: the data stays in a worker's memory, the scheduler holds
only the reference, and every worker (and the server) can fetch it by name. The values last as
long as the cluster: a LocalCluster the executor started goes with it; on a cluster the server
only connected to they stay until deleted or cleared.

    memory = get_cluster_memory("dask")     # inside a stage on Dask: the run's executor's
    memory.put("model", model)
    memory.get("model")                      # a copy, from whichever worker holds it
"""

from __future__ import annotations

from typing import Any

import cloudpickle

from flowdapt.objects.cluster_memory import ClusterMemory
from flowdapt.objects.errors import ClusterMemoryUnavailableError

PREFIX = "flowdapt/"


def _name(namespace: str, key: str) -> str:
    return f"{PREFIX}{namespace}/{key}"


class DaskClusterMemory(ClusterMemory):
    """Cluster memory on the Dask cluster of the current worker (or of this process's client).

    Answers as the local backend: ``put`` → ``"OK"``, ``get`` of a missing key →
    ``KeyError(key)``, ``delete`` → ``"OK"`` or None, ``clear`` → ``"OK"``.
    """

    def _client(self) -> Any:
        from distributed import default_client, get_client, get_worker

        try:
            get_worker()
        except ValueError:  # not in a task: the process's own client, if it has one
            try:
                return default_client()  # type: ignore[no-untyped-call]
            except ValueError as exc:
                raise ClusterMemoryUnavailableError(
                    "the Dask cluster memory is reachable from Dask workers and from a process "
                    "with a Dask client only"
                ) from exc
        return get_client()

    def _get(self, key: str, namespace: str) -> Any:
        client = self._client()
        try:
            future = client.get_dataset(_name(namespace, key))
        except KeyError:
            raise KeyError(key) from None
        return cloudpickle.loads(future.result())

    def _put(self, key: str, value: Any, namespace: str) -> str:
        data = cloudpickle.dumps(value)  # unpicklable values fail here, before anything changes
        self._check_size(key, len(data))
        client = self._client()
        future = client.scatter(data, hash=False)
        client.publish_dataset(future, name=_name(namespace, key), override=True)
        return "OK"

    def _delete(self, key: str, namespace: str) -> str | None:
        try:
            self._client().unpublish_dataset(_name(namespace, key))
        except KeyError:
            return None
        return "OK"

    def _exists(self, key: str, namespace: str) -> bool:
        return _name(namespace, key) in self._client().list_datasets()

    def clear(self) -> str:
        client = self._client()
        for name in client.list_datasets():
            if isinstance(name, str) and name.startswith(PREFIX):
                client.unpublish_dataset(name)
        return "OK"


async def clear_published(client: Any) -> None:
    """Unpublish every value of the cluster memory, through an asynchronous client (the
    executor's, at close)."""
    for name in await client.list_datasets():
        if isinstance(name, str) and name.startswith(PREFIX):
            await client.unpublish_dataset(name)
