"""Backends for the storage contract: memory, SQLite and TinyDB files, and the real PostgreSQL.

PostgreSQL tests use fresh databases (``flowdapt_test_<hex>``) created on the local server and
dropped when the session ends.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from flowdapt.storage import MemoryStorage, SQLStorage, Storage, TinyDBStorage

PG_SERVER = "postgres@127.0.0.1:5432"
BACKENDS = ["memory", "sqlite", "tinydb", "postgresql"]

CreateDatabase = Callable[[], Awaitable[str]]


@pytest.fixture(scope="session")
async def pg_databases() -> AsyncIterator[CreateDatabase]:
    """Creates fresh PostgreSQL databases on demand (returning their URLs); drops them all."""
    created: list[str] = []

    async def create() -> str:
        name = f"flowdapt_test_{secrets.token_hex(6)}"
        admin = await asyncpg.connect(f"postgresql://{PG_SERVER}/test")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        created.append(name)
        return f"postgresql+asyncpg://{PG_SERVER}/{name}"

    yield create
    admin = await asyncpg.connect(f"postgresql://{PG_SERVER}/test")
    try:
        for name in created:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def pg_storage(pg_databases: CreateDatabase) -> AsyncIterator[SQLStorage]:
    storage = SQLStorage(await pg_databases())
    await storage.start()
    yield storage
    await storage.close()


@pytest.fixture(params=BACKENDS)
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, pg_storage: SQLStorage
) -> AsyncIterator[Storage]:
    """A started, empty storage of each backend."""
    if request.param == "postgresql":
        await pg_storage.write(
            lambda connection: connection.execute(
                sa.text("TRUNCATE workflows, configs, triggers, runs, firings, run_logs")
            )
        )
        yield pg_storage
        return
    backends: dict[str, Callable[[], Storage]] = {
        "memory": MemoryStorage,
        "sqlite": lambda: SQLStorage(f"sqlite+aiosqlite:///{tmp_path}/flowdapt.db"),
        "tinydb": lambda: TinyDBStorage(str(tmp_path / "db.json")),
    }
    storage = backends[request.param]()
    await storage.start()
    yield storage
    await storage.close()
