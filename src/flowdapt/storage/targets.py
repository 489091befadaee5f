"""Choosing a storage backend from the ``database.target`` setting.

The setting names a class, as in the original (whose TinyDB path keeps working), or is a
database URL outright:

    storage_from_target("flowdapt.storage.sql.SQLStorage", {}, app_dir)      # <app_dir>/flowdapt.db
    storage_from_target("postgresql+asyncpg://db/flowdapt", {}, app_dir)
    storage_from_target("flowdapt.lib.database.storage.tdb.TinyDBStorage", {"path": "db.json"}, d)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowdapt.storage.base import Storage

DEFAULT_TARGET = "flowdapt.storage.sql.SQLStorage"


# Each factory imports its backend: only the configured one is loaded.


def _sql(options: Mapping[str, Any], app_dir: Path) -> Storage:
    from flowdapt.storage.sql import SQLStorage

    return SQLStorage(str(options.get("url") or f"sqlite:///{app_dir}/flowdapt.db"))


def _tinydb(options: Mapping[str, Any], app_dir: Path) -> Storage:
    from flowdapt.storage.tinydb import TinyDBStorage

    return TinyDBStorage(str(options.get("path") or app_dir / "db.json"))


def _memory(options: Mapping[str, Any], app_dir: Path) -> Storage:
    from flowdapt.storage.memory import MemoryStorage

    return MemoryStorage()


_FACTORIES: dict[str, Callable[[Mapping[str, Any], Path], Storage]] = {
    DEFAULT_TARGET: _sql,
    "flowdapt.storage.memory.MemoryStorage": _memory,
    "flowdapt.storage.tinydb.TinyDBStorage": _tinydb,
    "flowdapt.lib.database.storage.tdb.TinyDBStorage": _tinydb,  # the original's target
}


def storage_from_target(target: str, options: Mapping[str, Any], app_dir: Path) -> Storage:
    """The storage `target` names, built with `options`; files default to `app_dir`.

    Raises `ValueError` naming the accepted targets for anything else.
    """
    if "://" in target:
        return _sql({"url": target}, app_dir)
    factory = _FACTORIES.get(target)
    if factory is None:
        accepted = ", ".join([*_FACTORIES, "a database URL such as postgresql+asyncpg://..."])
        raise ValueError(f"unknown database target {target!r}; accepted: {accepted}")
    return factory(options, app_dir)
