"""`TinyDBStorage`: the original's TinyDB target, made durable. Single process only.

The original kept TinyDB writes in memory until a graceful shutdown, so `kill -9` lost them. Here
every write replaces the JSON file atomically (temporary file, fsync, `os.replace`, fsync of the
directory) before the call returns: after a crash the file holds either the previous or the new
state, never half of one, and every acknowledged write is in it. Reads are served from the copy
in memory, which is valid because this process is the file's only writer — a second process is
refused by an exclusive lock taken in `start()`.

Each write rewrites the whole file, so this backend suits small deployments; use SQLite (the
default) or PostgreSQL for anything larger.

    storage = TinyDBStorage("~/.flowdapt/db.json")
    await storage.start()
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO, Any, TypeVar

from tinydb import TinyDB, where
from tinydb.storages import Storage as TinyDBFileStorage
from tinydb.table import Table

from flowdapt.domain.resources import ConfigResource, TriggerRuleResource, WorkflowResource
from flowdapt.storage.base import (
    FiringRepository,
    ResourceRepository,
    RunLogRepository,
    RunRepository,
    StorageUnavailableError,
)
from flowdapt.storage.documents import (
    DocumentFiringRepository,
    DocumentResourceRepository,
    DocumentRunLogRepository,
    DocumentRunRepository,
    Record,
)

T = TypeVar("T")
Tables = dict[str, dict[str, Any]]


def write_atomically(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` so that a crash at any moment leaves old or new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # makes the rename itself durable
    finally:
        os.close(directory)


class AtomicJSONStorage(TinyDBFileStorage):
    """TinyDB storage: reads from memory after the first load, writes the file atomically."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._data: Tables | None = None
        self._loaded = False

    def read(self) -> Tables | None:
        if not self._loaded:
            text = self._path.read_text("utf-8") if self._path.exists() else ""
            self._data = json.loads(text) if text.strip() else None
            self._loaded = True
        return self._data

    def write(self, data: Tables) -> None:
        try:
            write_atomically(self._path, json.dumps(data, separators=(",", ":")).encode())
        except Exception:
            # TinyDB changed the cached tables in place before calling us: forget them, so the
            # next read reloads what the file really holds.
            self._loaded = False
            raise
        self._data = data

    def close(self) -> None:
        """Nothing is open between writes."""


class TinyDBTable:
    """A `DocumentTable` on one TinyDB table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def find(self, field: str, value: str) -> Record | None:
        document = self._table.get(where(field) == value)
        return None if document is None else dict(document)

    def records(self) -> list[Record]:
        return list(self._table.all())

    def insert(self, record: Record) -> None:
        self._table.insert(record)

    def replace(self, records: Collection[Record]) -> None:
        self._table.update_multiple([(record, where("uid") == record["uid"]) for record in records])

    def remove(self, uids: Collection[str]) -> None:
        self._table.remove(where("uid").one_of(list(uids)))


class TinyDBStorage:
    """Durable single-process storage in one TinyDB JSON file (tables per kind, runs and
    firings)."""

    kind = "tinydb"

    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        self._db = TinyDB(str(self.path), storage=AtomicJSONStorage)
        # The asyncio lock queues operations on the event loop; the thread lock keeps them apart
        # even when an awaiting task is cancelled while its operation still runs in a thread.
        self._lock = asyncio.Lock()
        self._thread_lock = threading.Lock()
        self._lock_file: IO[bytes] | None = None
        self.workflows: ResourceRepository[WorkflowResource] = DocumentResourceRepository(
            WorkflowResource, TinyDBTable(self._db.table("workflows")), self._atomic
        )
        self.configs: ResourceRepository[ConfigResource] = DocumentResourceRepository(
            ConfigResource, TinyDBTable(self._db.table("configs")), self._atomic
        )
        self.triggers: ResourceRepository[TriggerRuleResource] = DocumentResourceRepository(
            TriggerRuleResource, TinyDBTable(self._db.table("triggers")), self._atomic
        )
        runs = TinyDBTable(self._db.table("runs"))
        self.runs: RunRepository = DocumentRunRepository(runs, self._atomic)
        self.firings: FiringRepository = DocumentFiringRepository(
            TinyDBTable(self._db.table("firings")), self._atomic
        )
        self.logs: RunLogRepository = DocumentRunLogRepository(
            TinyDBTable(self._db.table("run_logs")), self._atomic, runs
        )

    async def _atomic(self, operation: Callable[[], T]) -> T:
        def locked() -> T:
            with self._thread_lock:
                return operation()

        async with self._lock:
            try:
                return await asyncio.to_thread(locked)
            except OSError as exc:
                raise StorageUnavailableError(f"cannot use {self.path}: {exc}") from exc

    async def start(self) -> None:
        """Take the file's exclusive lock and load it (a corrupt file fails here, loudly)."""
        self._lock_file = await asyncio.to_thread(self._take_lock)
        await self._atomic(self._db.storage.read)

    def _take_lock(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path.with_name(f"{self.path.name}.lock"), "ab")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StorageUnavailableError(
                f"{self.path} is in use by another process (TinyDB storage is single-process)"
            ) from None
        return handle

    async def close(self) -> None:
        async with self._lock:
            if self._lock_file is not None:
                self._lock_file.close()  # releases the flock
                self._lock_file = None

    async def ping(self) -> bool:
        return await asyncio.to_thread(os.access, self.path.parent, os.W_OK)
