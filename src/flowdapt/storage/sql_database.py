"""The SQL engine behind `SQLStorage`: dialect setup, transactions, and "database down" errors.

Repositories only ever touch the database through `read()` and `write()`, so two things hold for
every query: a lost or refused connection surfaces as `StorageUnavailableError` (the API answers
503), and the pool recovers by itself once the database is back (`pool_pre_ping` replaces dead
connections at checkout).

SQLite specifics, set on every new connection:

- WAL journal with ``synchronous=NORMAL``: a committed transaction is in the WAL file before
  ``COMMIT`` returns, so killing the process (even ``kill -9``) loses nothing acknowledged and
  cannot corrupt the file; only an operating-system crash or power loss may drop the last
  commits (never corrupt). Readers and the writer do not block each other.
- ``foreign_keys=ON`` and a busy timeout, so a second writer waits instead of failing at once.
- Write transactions start with ``BEGIN IMMEDIATE``: they take the write lock up front, where the
  busy timeout applies, instead of failing with "database is locked" when a read transaction
  tries to upgrade to a write.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from flowdapt.storage.base import StorageUnavailableError

_WRITE = "flowdapt_write"
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def normalise_url(url: str) -> URL:
    """The URL with its async driver, and for SQLite an absolute, user-expanded file path."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect not in _DRIVERS:
        raise ValueError(f"unsupported database {url!r}: use sqlite+aiosqlite:// or postgresql://")
    parsed = parsed.set(drivername=_DRIVERS[dialect])
    if dialect == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("SQLite storage needs a file path (sqlite+aiosqlite:///path/to.db)")
        parsed = parsed.set(database=str(Path(parsed.database).expanduser().absolute()))
    return parsed


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached (as opposed to a bad query)."""
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, exc.OperationalError | exc.InterfaceError
        )
    if isinstance(error, OSError):  # refused, reset, unreachable, connect timeout
        return True
    # asyncpg is only imported when a PostgreSQL URL is used; if it isn't loaded, this isn't one.
    asyncpg: Any = sys.modules.get("asyncpg")
    return asyncpg is not None and isinstance(
        error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError
    )


class SQLDatabase:
    """An async engine configured for its dialect, handing out translated transactions."""

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        self.url = normalise_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = create_async_engine(self.url)
            self._configure_sqlite(self.engine, busy_timeout_ms=int(connect_timeout * 1000))
        else:
            self.engine = create_async_engine(
                self.url,
                pool_pre_ping=True,
                pool_timeout=connect_timeout,
                connect_args={"timeout": connect_timeout},
            )

    @staticmethod
    def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
        @event.listens_for(engine.sync_engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            # The driver must not open transactions itself: `on_begin` does, in the right mode.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
                f"PRAGMA busy_timeout={busy_timeout_ms}",
            ):
                cursor.execute(pragma)
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def on_begin(connection: Connection) -> None:
            write = connection.get_execution_options().get(_WRITE, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    def prepare_path(self) -> None:
        """Create the SQLite file's directory (blocking; call it from a thread)."""
        if self.dialect == "sqlite" and self.url.database:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries; whatever it did is rolled back at the end."""
        try:
            async with self.engine.connect() as connection:
                yield connection
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailableError(
                    f"{self.dialect} database unavailable: {error}"
                ) from error
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an exception."""
        try:
            async with self.engine.connect() as connection:
                await connection.execution_options(**{_WRITE: True})
                async with connection.begin():
                    yield connection
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailableError(
                    f"{self.dialect} database unavailable: {error}"
                ) from error
            raise

    async def dispose(self) -> None:
        await self.engine.dispose()
