"""Storage: repositories per resource kind, for runs and for trigger firings, with SQL, TinyDB
and memory backends.

Backends are imported on first use, so a server that uses one does not load the others
(SQLAlchemy and Alembic are not small).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flowdapt.storage.base import (
    FiringRepository,
    ResourceRepository,
    RunRepository,
    Storage,
    StorageUnavailableError,
)

if TYPE_CHECKING:
    from flowdapt.storage.memory import MemoryStorage
    from flowdapt.storage.sql import SQLStorage
    from flowdapt.storage.targets import storage_from_target
    from flowdapt.storage.tinydb import TinyDBStorage

_LAZY = {
    "MemoryStorage": "flowdapt.storage.memory",
    "SQLStorage": "flowdapt.storage.sql",
    "TinyDBStorage": "flowdapt.storage.tinydb",
    "storage_from_target": "flowdapt.storage.targets",
}

__all__ = [
    "FiringRepository",
    "MemoryStorage",
    "ResourceRepository",
    "RunRepository",
    "SQLStorage",
    "Storage",
    "StorageUnavailableError",
    "TinyDBStorage",
    "storage_from_target",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
