"""The LocalExecutor's cluster memory, served to its worker processes.

The values live in the executor's process (its threads use them directly). Worker processes of its
process pool reach them through a private Unix socket that this module serves from a daemon
thread: one server per process, started the first time a process pool needs it, with a random
key that only the pool's workers receive (``multiprocessing.connection`` authenticates with it).

    address, authkey = serve_local_memory()              # in the executor's process
    connect_to_local_memory(address, authkey)             # in each worker (the pool initializer)
    remote_store()                                        # the worker's client, or None

A request is ``(operation, args)``, its reply ``(True, result)`` or ``(False, exception)``;
values cross as the cloudpickle bytes the caller made, so the server never unpickles user data.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from flowdapt.objects.errors import ClusterMemoryUnavailableError

logger = logging.getLogger(__name__)


class NamespacedStore:
    """Values by namespace and key, safe to use from many threads: what a cluster memory keeps
    (cloudpickle bytes here; object refs in the Ray actor).

    ``get`` of a missing key raises ``KeyError(key)``; ``put`` answers ``"OK"``; ``delete``
    answers ``"OK"`` for a key that existed and None otherwise (an emptied namespace is
    dropped); ``clear`` answers ``"OK"``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[str, Any]] = {}

    def get(self, namespace: str, key: str) -> Any:
        with self._lock:
            values = self._values.get(namespace, {})
            if key not in values:
                raise KeyError(key)
            return values[key]

    def put(self, namespace: str, key: str, value: Any) -> str:
        with self._lock:
            self._values.setdefault(namespace, {})[key] = value
        return "OK"

    def replace(self, namespace: str, key: str, old: Any, new: Any) -> bool:
        """Swap `key`'s value for `new` only if it is still `old` itself (not put or deleted
        since); ``new is None`` removes the key then."""
        with self._lock:
            values = self._values.get(namespace, {})
            if values.get(key) is not old:
                return False
            if new is not None:
                values[key] = new
                return True
        return self.delete(namespace, key) is not None

    def delete(self, namespace: str, key: str) -> str | None:
        with self._lock:
            values = self._values.get(namespace)
            if values is None or key not in values:
                return None
            del values[key]
            if not values:
                del self._values[namespace]
        return "OK"

    def exists(self, namespace: str, key: str) -> bool:
        with self._lock:
            return key in self._values.get(namespace, {})

    def clear(self) -> str:
        with self._lock:
            self._values.clear()
        return "OK"

    def size(self) -> int:
        """How many values are stored, in every namespace."""
        with self._lock:
            return sum(len(values) for values in self._values.values())


# The process's store: the local cluster memory of every LocalExecutor in this process.
STORE = NamespacedStore()
_OPERATIONS = {"get", "put", "delete", "exists", "clear"}


class _Server:
    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="flowdapt-memory-")
        self.authkey = secrets.token_bytes(32)
        path = os.path.join(self._dir, "socket")
        self._listener = Listener(path, "AF_UNIX", authkey=self.authkey)
        self.address = str(self._listener.address)
        threading.Thread(target=self._accept, name="flowdapt-memory", daemon=True).start()
        atexit.register(self.close)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _accept(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except OSError:  # closed at exit
                return
            except Exception as exc:  # a peer without the key: refuse it, keep serving
                logger.warning("cluster memory: refused a connection: %s", exc)
                continue
            threading.Thread(
                target=self._serve, args=(connection,), name="flowdapt-memory-peer", daemon=True
            ).start()

    def _serve(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    operation, args = connection.recv()
                except (EOFError, OSError):  # the worker went away
                    return
                connection.send(_answer(operation, args))


def _answer(operation: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
    if operation not in _OPERATIONS:
        return False, ValueError(f"Invalid operation: {operation}")
    try:
        return True, getattr(STORE, operation)(*args)
    except Exception as exc:  # sent back and raised in the worker
        return False, exc


_server: _Server | None = None
_server_lock = threading.Lock()
_holders = 0  # running LocalExecutors in this process


def hold_local_memory() -> None:
    """A LocalExecutor started: the store is in use."""
    global _holders
    with _server_lock:
        _holders += 1


def release_local_memory() -> None:
    """A LocalExecutor closed; the last one to close clears the store, as the original's
    executor cleared its own (the store is one per process, so it waits for every holder)."""
    global _holders
    with _server_lock:
        _holders = max(0, _holders - 1)
        if _holders == 0:
            STORE.clear()


def local_memory_address() -> str | None:
    """The address worker processes connect to, or None while no process pool has needed it."""
    with _server_lock:
        return None if _server is None else _server.address


def serve_local_memory() -> tuple[str, bytes]:
    """The address and key of this process's cluster-memory server, started on first call."""
    global _server
    with _server_lock:
        if _server is None:
            _server = _Server()
        return _server.address, _server.authkey


class RemoteStore:
    """A worker process's view of the executor's store: one connection per thread."""

    def __init__(self, address: str, authkey: bytes) -> None:
        self.address = address
        self._authkey = authkey
        self._local = threading.local()

    def call(self, operation: str, *args: Any) -> Any:
        connection = self._connection()
        try:
            connection.send((operation, args))
            ok, result = connection.recv()
        except (EOFError, OSError) as exc:
            self._local.connection = None
            raise ClusterMemoryUnavailableError(
                f"the LocalExecutor's cluster memory at {self.address} cannot be reached: {exc}"
            ) from exc
        if not ok:
            raise result
        return result

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = Client(self.address, "AF_UNIX", authkey=self._authkey)
            except (OSError, AuthenticationError) as exc:
                raise ClusterMemoryUnavailableError(
                    f"the LocalExecutor's cluster memory at {self.address} cannot be reached: {exc}"
                ) from exc
            self._local.connection = connection
        return connection


_remote: RemoteStore | None = None


def connect_to_local_memory(address: str, authkey: bytes) -> None:
    """Make this worker process use the executor's cluster memory (the pool's initializer)."""
    global _remote
    _remote = RemoteStore(address, authkey)


def remote_store() -> RemoteStore | None:
    """The executor's store as this worker process reaches it; None where none was connected."""
    return _remote
