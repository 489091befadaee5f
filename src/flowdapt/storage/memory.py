"""`MemoryStorage`: the storage contract kept in process memory, for tests and throwaway servers.

It shares its semantics with the TinyDB backend (`flowdapt.storage.documents`), so what a test
observes here is what a real deployment observes: documents go through JSON on the way in and
out, names and uids are unique, and so on. Nothing survives the process.

    storage = MemoryStorage()
    await storage.start()
    await storage.workflows.create(workflow)
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from flowdapt.domain.resources import ConfigResource, TriggerRuleResource, WorkflowResource
from flowdapt.storage.base import (
    FiringRepository,
    ResourceRepository,
    RunLogRepository,
    RunRepository,
)
from flowdapt.storage.documents import (
    DocumentFiringRepository,
    DocumentResourceRepository,
    DocumentRunLogRepository,
    DocumentRunRepository,
    Record,
)

T = TypeVar("T")


class MemoryTable:
    """Records by uid, with an index by name (the two fields repositories look up)."""

    def __init__(self) -> None:
        self._by_uid: dict[str, Record] = {}
        self._uid_by_name: dict[str, str] = {}

    def find(self, field: str, value: str) -> Record | None:
        uid = value if field == "uid" else self._uid_by_name.get(value)
        return None if uid is None else self._by_uid.get(uid)

    def records(self) -> list[Record]:
        return list(self._by_uid.values())

    def insert(self, record: Record) -> None:
        self._by_uid[record["uid"]] = record
        self._uid_by_name[record["name"]] = record["uid"]

    def replace(self, records: Collection[Record]) -> None:
        for record in records:
            self.remove([record["uid"]])
            self.insert(record)

    def remove(self, uids: Collection[str]) -> None:
        for uid in uids:
            record = self._by_uid.pop(uid, None)
            if record is not None:
                del self._uid_by_name[record["name"]]


async def _inline(operation: Callable[[], T]) -> T:
    # No await inside an operation, so nothing can interleave with it on the event loop.
    return operation()


class MemoryStorage:
    """In-process storage with the same semantics as the persistent backends."""

    kind = "memory"

    def __init__(self) -> None:
        self.workflows: ResourceRepository[WorkflowResource] = DocumentResourceRepository(
            WorkflowResource, MemoryTable(), _inline
        )
        self.configs: ResourceRepository[ConfigResource] = DocumentResourceRepository(
            ConfigResource, MemoryTable(), _inline
        )
        self.triggers: ResourceRepository[TriggerRuleResource] = DocumentResourceRepository(
            TriggerRuleResource, MemoryTable(), _inline
        )
        runs = MemoryTable()
        self.runs: RunRepository = DocumentRunRepository(runs, _inline)
        self.firings: FiringRepository = DocumentFiringRepository(MemoryTable(), _inline)
        self.logs: RunLogRepository = DocumentRunLogRepository(MemoryTable(), _inline, runs)

    async def start(self) -> None:
        """Nothing to connect to; present for the `Storage` lifecycle."""

    async def close(self) -> None:
        """Nothing to release; the data lives as long as this object."""

    async def ping(self) -> bool:
        return True
