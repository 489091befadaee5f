"""Storage: repositories per resource kind and for runs, with SQL, TinyDB and memory backends."""

from flowdapt.storage.base import (
    ResourceRepository,
    RunRepository,
    Storage,
    StorageUnavailableError,
)
from flowdapt.storage.memory import MemoryStorage
from flowdapt.storage.sql import SQLStorage
from flowdapt.storage.targets import storage_from_target
from flowdapt.storage.tinydb import TinyDBStorage

__all__ = [
    "MemoryStorage",
    "ResourceRepository",
    "RunRepository",
    "SQLStorage",
    "Storage",
    "StorageUnavailableError",
    "TinyDBStorage",
    "storage_from_target",
]
