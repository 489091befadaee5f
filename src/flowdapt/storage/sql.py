"""`SQLStorage`: the embedded default (SQLite) and PostgreSQL, one implementation.

    storage = SQLStorage("sqlite:///~/.flowdapt/flowdapt.db")   # sqlite+aiosqlite:// works too
    await storage.start()          # creates the file's directory, migrates to the latest schema
    await storage.workflows.create(workflow)

    storage = SQLStorage("postgresql+asyncpg://user:secret@db:5432/flowdapt")

The ``flowdapt db upgrade|downgrade|current`` commands call `upgrade`, `downgrade` and
`current_revision`. How operations reach the database (SQLite's own thread, asyncpg), how the
connection is set up (WAL, busy timeout, reconnects) and what counts as "database down" is
explained in `flowdapt.storage.sql_database`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

from flowdapt.domain.resources import ConfigResource, TriggerRuleResource, WorkflowResource
from flowdapt.storage import sql_migrations, sql_schema
from flowdapt.storage.base import (
    FiringRepository,
    ResourceRepository,
    RunLogRepository,
    RunRepository,
    StorageUnavailableError,
)
from flowdapt.storage.sql_database import SQLDatabase
from flowdapt.storage.sql_firings import SQLFiringRepository
from flowdapt.storage.sql_logs import SQLRunLogRepository
from flowdapt.storage.sql_repositories import SQLResourceRepository, SQLRunRepository

T = TypeVar("T")
P = ParamSpec("P")


def _select_one(connection: Connection) -> None:
    connection.execute(sa.text("SELECT 1"))


class SQLStorage:
    """Storage in SQLite (``sqlite:///path``) or PostgreSQL (``postgresql+asyncpg://``).

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
        self.firings: FiringRepository = SQLFiringRepository(self._db)
        self.logs: RunLogRepository = SQLRunLogRepository(self._db)

    @property
    def engine(self) -> Engine | AsyncEngine:
        """The SQLAlchemy engine, for maintenance and tests (repositories are the API): async on
        PostgreSQL; on SQLite synchronous, its one connection belonging to the storage's thread,
        so statements go through `read` and `write` rather than through the engine directly."""
        return self._db.engine

    def __repr__(self) -> str:
        return f"SQLStorage({self._db.url.render_as_string(hide_password=True)!r})"

    async def read(
        self, operation: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `operation(connection, *args, **kwargs)` in a transaction that is rolled back
        (maintenance and tests; on any dialect, without blocking the event loop)."""
        return await self._db.read(operation, *args, **kwargs)

    async def write(
        self, operation: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `operation(connection, *args, **kwargs)` in a write transaction, committed when it
        returns (maintenance and tests)."""
        return await self._db.write(operation, *args, **kwargs)

    async def start(self) -> None:
        """Create the SQLite file's directory if needed and migrate the schema to the latest.

        A database already at the packaged head is recognised with one query, and an empty one
        gets the current schema directly (stamped at the head), both without loading Alembic:
        start-up stays fast and light. Anything in between is migrated by Alembic.
        """
        await self._db.prepare()
        if await self._db.read(sql_migrations.is_at_head):
            return
        if await self._db.write(sql_migrations.create_if_empty, sql_schema.metadata):
            return
        await self.upgrade("head")

    async def close(self) -> None:
        """Close the connections (and stop SQLite's thread)."""
        await self._db.dispose()

    async def ping(self) -> bool:
        try:
            await self._db.read(_select_one)
        except StorageUnavailableError:
            return False
        return True

    async def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to `revision`, keeping the data."""
        await self._db.prepare()
        await self._db.write(sql_migrations.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        """Revert migrations down to `revision` ("base" removes every table)."""
        await self._db.prepare()
        await self._db.write(sql_migrations.downgrade, revision)

    async def current_revision(self) -> str | None:
        """The schema's revision, or None for a database never migrated."""
        await self._db.prepare()
        return await self._db.read(sql_migrations.current_revision)
