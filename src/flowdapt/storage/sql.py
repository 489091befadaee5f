"""`SQLStorage`: the embedded default (SQLite) and PostgreSQL, one implementation.

    storage = SQLStorage("sqlite+aiosqlite:///~/.flowdapt/flowdapt.db")
    await storage.start()          # creates the file's directory, migrates to the latest schema
    await storage.workflows.create(workflow)

    storage = SQLStorage("postgresql+asyncpg://user:secret@db:5432/flowdapt")

The ``flowdapt db upgrade|downgrade|current`` commands call `upgrade`, `downgrade` and
`current_revision`. How the connection is set up (WAL, busy timeout, reconnects, what counts as
"database down") is explained in `flowdapt.storage.sql_database`.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from flowdapt.domain.resources import ConfigResource, TriggerRuleResource, WorkflowResource
from flowdapt.storage import sql_migrations, sql_schema
from flowdapt.storage.base import ResourceRepository, RunRepository, StorageUnavailableError
from flowdapt.storage.sql_database import SQLDatabase
from flowdapt.storage.sql_repositories import SQLResourceRepository, SQLRunRepository


class SQLStorage:
    """Storage in SQLite (``sqlite+aiosqlite:///path``) or PostgreSQL (``postgresql+asyncpg://``).

    `connect_timeout` bounds how long a call waits for a connection (and, on SQLite, for the
    write lock) before it fails with `StorageUnavailableError`.
    """

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        self._db = SQLDatabase(url, connect_timeout=connect_timeout)
        self.kind: str = self._db.dialect
        self.workflows: ResourceRepository[WorkflowResource] = SQLResourceRepository(
            self._db, sql_schema.workflows, WorkflowResource
        )
        self.configs: ResourceRepository[ConfigResource] = SQLResourceRepository(
            self._db, sql_schema.configs, ConfigResource
        )
        self.triggers: ResourceRepository[TriggerRuleResource] = SQLResourceRepository(
            self._db, sql_schema.triggers, TriggerRuleResource
        )
        self.runs: RunRepository = SQLRunRepository(self._db)

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (for maintenance and tests; repositories are the API)."""
        return self._db.engine

    def __repr__(self) -> str:
        return f"SQLStorage({self._db.url.render_as_string(hide_password=True)!r})"

    async def start(self) -> None:
        """Create the SQLite file's directory if needed and migrate the schema to the latest."""
        await self.upgrade("head")

    async def close(self) -> None:
        await self._db.dispose()

    async def ping(self) -> bool:
        try:
            async with self._db.read() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except StorageUnavailableError:
            return False
        return True

    async def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to `revision`, keeping the data."""
        await asyncio.to_thread(self._db.prepare_path)
        async with self._db.write() as connection:
            await connection.run_sync(sql_migrations.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        """Revert migrations down to `revision` ("base" removes every table)."""
        await asyncio.to_thread(self._db.prepare_path)
        async with self._db.write() as connection:
            await connection.run_sync(sql_migrations.downgrade, revision)

    async def current_revision(self) -> str | None:
        """The schema's revision, or None for a database never migrated."""
        await asyncio.to_thread(self._db.prepare_path)
        async with self._db.read() as connection:
            return await connection.run_sync(sql_migrations.current_revision)
