"""Storage: repositories per resource kind and for runs, with SQL, TinyDB and memory backends."""

from flowdapt.storage.base import (
    ResourceRepository,
    RunRepository,
    Storage,
    StorageUnavailableError,
)

__all__ = ["ResourceRepository", "RunRepository", "Storage", "StorageUnavailableError"]
