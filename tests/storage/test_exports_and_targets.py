"""The storage package's public surface, the original's import path, and target selection."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import flowdapt.storage
from flowdapt.storage import MemoryStorage, SQLStorage, TinyDBStorage, storage_from_target


def test_storage_surface_is_pinned_and_sorted() -> None:
    assert flowdapt.storage.__all__ == [
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
    for name in flowdapt.storage.__all__:
        assert hasattr(flowdapt.storage, name)


def test_originals_tinydb_path_is_a_thin_re_export() -> None:
    module = importlib.import_module("flowdapt.lib.database.storage.tdb")

    assert module.TinyDBStorage is TinyDBStorage
    assert TinyDBStorage.__module__ == "flowdapt.storage.tinydb"


def test_default_target_is_sqlite_in_the_app_dir(tmp_path: Path) -> None:
    storage = storage_from_target("flowdapt.storage.sql.SQLStorage", {}, tmp_path)

    assert isinstance(storage, SQLStorage)
    assert storage.kind == "sqlite"
    assert storage.engine.url.database == str(tmp_path / "flowdapt.db")


def test_sql_target_takes_a_url_option(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    storage = storage_from_target("flowdapt.storage.sql.SQLStorage", {"url": url}, tmp_path)

    assert isinstance(storage, SQLStorage)
    assert storage.kind == "postgresql"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("postgresql://postgres@127.0.0.1/x", "postgresql"),  # the async driver is implied
        ("sqlite:///~/flowdapt-never-created/x.db", "sqlite"),
    ],
)
def test_a_url_target_is_sql_storage(url: str, kind: str, tmp_path: Path) -> None:
    storage = storage_from_target(url, {}, tmp_path)

    assert isinstance(storage, SQLStorage)
    assert storage.kind == kind
    assert storage.engine.url.drivername in {"postgresql+asyncpg", "sqlite+pysqlite"}
    assert "~" not in str(storage.engine.url.database)


@pytest.mark.parametrize(
    "target",
    ["flowdapt.lib.database.storage.tdb.TinyDBStorage", "flowdapt.storage.tinydb.TinyDBStorage"],
)
def test_tinydb_targets(target: str, tmp_path: Path) -> None:
    default = storage_from_target(target, {}, tmp_path)
    chosen = storage_from_target(target, {"path": str(tmp_path / "x.json")}, tmp_path)

    assert isinstance(default, TinyDBStorage) and isinstance(chosen, TinyDBStorage)
    assert default.path == tmp_path / "db.json"
    assert chosen.path == tmp_path / "x.json"
    assert default.kind == "tinydb"


def test_memory_target(tmp_path: Path) -> None:
    storage = storage_from_target("flowdapt.storage.memory.MemoryStorage", {}, tmp_path)

    assert isinstance(storage, MemoryStorage)
    assert storage.kind == "memory"


def test_unknown_target_names_itself_and_the_accepted_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape("storage.mongo.MongoStorage")) as error:
        storage_from_target("flowdapt.lib.database.storage.mongo.MongoStorage", {}, tmp_path)

    assert "flowdapt.storage.sql.SQLStorage" in str(error.value)
    assert "flowdapt.lib.database.storage.tdb.TinyDBStorage" in str(error.value)


def test_unsupported_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mysql"):
        storage_from_target("mysql://db/flowdapt", {}, tmp_path)
    with pytest.raises(ValueError, match="file path"):
        storage_from_target("sqlite+aiosqlite://", {}, tmp_path)
