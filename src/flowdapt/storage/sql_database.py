"""The SQL engine behind `SQLStorage`: dialect setup, transactions, and "database down" errors.

Every database operation is written once, as a synchronous function of a SQLAlchemy
`Connection` (Core statements), and handed to `read()` or `write()`, which run it in one
transaction and return what it returns:

    async def count(self) -> int:
        return await self._db.read(count_rows, table)

How an operation reaches the database depends on the dialect, and is what keeps a call cheap:

- SQLite: a synchronous engine on the standard library's ``sqlite3`` driver, with one connection
  kept open and used only by one dedicated thread. Each operation is submitted to that thread as
  a whole, so a call costs one hop between the event loop and the thread, whatever it executes
  (the event loop never blocks on the file). The single thread also serialises the storage's
  operations, writes included, as SQLite wants; each is short (indexed statements), and other
  processes on the same file still read while one writes (WAL).
- PostgreSQL: asyncpg through the async engine; the same function runs in
  `AsyncConnection.run_sync`.

Two things hold for every operation: a lost or refused connection surfaces as
`StorageUnavailableError` (the API answers 503), and the engine recovers by itself once the
database is back (on PostgreSQL, `pool_pre_ping` replaces dead connections at checkout).

SQLite specifics, set on the connection when it is opened:

- WAL journal with ``synchronous=NORMAL``: a committed transaction is in the WAL file before
  ``COMMIT`` returns, so killing the process (even ``kill -9``) loses nothing acknowledged and
  cannot corrupt the file; only an operating-system crash or power loss may drop the last
  commits (never corrupt).
- ``foreign_keys=ON`` and a busy timeout, so a writer in another process (a second server,
  ``flowdapt db upgrade``) is waited for instead of failing at once.
- Write transactions start with ``BEGIN IMMEDIATE``: they take the write lock up front, where the
  busy timeout applies, instead of failing with "database is locked" when a read transaction
  tries to upgrade to a write.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:  # the async layer (it pulls in the ORM) is loaded for PostgreSQL only
    from sqlalchemy.ext.asyncio import AsyncEngine

from flowdapt.storage.base import StorageUnavailableError

T = TypeVar("T")
P = ParamSpec("P")

_WRITE = "flowdapt_write"
_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+asyncpg"}


def normalise_url(url: str) -> URL:
    """The URL with the driver Flowdapt uses, and for SQLite an absolute, user-expanded path.

    SQLite URLs may name any driver (``sqlite+aiosqlite://`` in older configuration files):
    the standard library's ``sqlite3`` is used. PostgreSQL always goes through asyncpg.
    """
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect not in _DRIVERS:
        raise ValueError(f"unsupported database {url!r}: use sqlite:// or postgresql://")
    parsed = parsed.set(drivername=_DRIVERS[dialect])
    if dialect == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("SQLite storage needs a file path (sqlite:///path/to.db)")
        parsed = parsed.set(database=str(Path(parsed.database).expanduser().absolute()))
    return parsed


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached (as opposed to a bad query)."""
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, exc.OperationalError | exc.InterfaceError
        )
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, OSError | TimeoutError):  # refused, reset, unreachable, timed out
        return True
    # asyncpg is only imported when a PostgreSQL URL is used; if it isn't loaded, this isn't one.
    asyncpg: Any = sys.modules.get("asyncpg")
    return asyncpg is not None and isinstance(
        error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError
    )


def _in_transaction(connection: Connection, write: bool, operation: Callable[[Connection], T]) -> T:
    """`operation` in one transaction: committed if it is a write and returns, else rolled back
    (a read's transaction gives every statement of the operation the same snapshot)."""
    connection.execution_options(**{_WRITE: write})
    with connection.begin() as transaction:
        result = operation(connection)
        if not write:
            transaction.rollback()
    return result


_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class _Worker:
    """One thread running the calls submitted to it, one after the other, for the event loop.

    What `loop.run_in_executor` does with a one-thread pool, for half its overhead per call
    (no `concurrent.futures` future chained to the asyncio one): a call costs one hop there and
    one back. A call whose caller was cancelled still runs to its end (a transaction is never
    left half-done); its result is then dropped.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def run(self, function: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, function))
        return await future

    async def stop(self) -> None:
        """Let the calls already submitted finish, then end the thread."""
        self._calls.put(None)
        await asyncio.to_thread(self._thread.join)

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            loop, future, function = call
            try:
                outcome: tuple[bool, Any] = (True, function())
            except BaseException as error:  # the caller gets it; this thread must go on
                outcome = (False, error)
            with contextlib.suppress(RuntimeError):  # the event loop is closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future[Any], succeeded: bool, outcome: Any) -> None:
    if future.done():  # the caller was cancelled
        return
    if succeeded:
        future.set_result(outcome)
    else:
        future.set_exception(outcome)


class SQLDatabase:
    """An engine configured for its dialect, running operations in translated transactions."""

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        self.url = normalise_url(url)
        self.dialect = self.url.get_backend_name()
        self._async_engine: AsyncEngine | None = None
        self._worker: _Worker | None = None  # SQLite's thread, started on first use
        self._connection: Connection | None = None  # SQLite's, only used on that thread
        if self.dialect == "sqlite":
            # One connection (StaticPool), only ever used by the storage's one thread; it is
            # opened there, hence check_same_thread=False for closing it from elsewhere.
            self.sync_engine = create_engine(
                self.url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            self._configure_sqlite(self.sync_engine, busy_timeout_ms=int(connect_timeout * 1000))
        else:
            from sqlalchemy.ext.asyncio import create_async_engine

            self._async_engine = create_async_engine(
                self.url,
                pool_pre_ping=True,
                pool_timeout=connect_timeout,
                # A server that stops answering mid-query must not hang requests forever.
                connect_args={"timeout": connect_timeout, "command_timeout": 60},
            )
            self.sync_engine = self._async_engine.sync_engine

    @property
    def engine(self) -> Engine | AsyncEngine:
        """The async engine on PostgreSQL; on SQLite the synchronous one (whose connection
        belongs to the storage's thread: run statements through `read` and `write`)."""
        return self.sync_engine if self._async_engine is None else self._async_engine

    @staticmethod
    def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
        @event.listens_for(engine, "connect")
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

        @event.listens_for(engine, "begin")
        def on_begin(connection: Connection) -> None:
            write = connection.get_execution_options().get(_WRITE, False)
            statement = "BEGIN IMMEDIATE" if write else "BEGIN"
            # Straight to the driver, not through `exec_driver_sql`: that would cost a sixth of
            # a whole read. Errors are wrapped as SQLAlchemy wraps them.
            cursor = connection.connection.cursor()
            try:
                cursor.execute(statement)
            except sqlite3.Error as error:
                raise exc.DBAPIError.instance(statement, (), error, sqlite3.Error) from error
            finally:
                cursor.close()

    def _prepare_path(self) -> None:
        if self.url.database:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)

    async def prepare(self) -> None:
        """Create the SQLite file's directory if needed (nothing to do on PostgreSQL)."""
        if self.dialect == "sqlite":
            await self._translated(self._on_sqlite_thread(self._prepare_path))

    async def read(
        self, operation: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`operation(connection, *args, **kwargs)` in a transaction that is rolled back."""
        return await self._run(False, lambda connection: operation(connection, *args, **kwargs))

    async def write(
        self, operation: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`operation(connection, *args, **kwargs)` in a write transaction, committed when it
        returns (rolled back when it raises)."""
        return await self._run(True, lambda connection: operation(connection, *args, **kwargs))

    async def _run(self, write: bool, operation: Callable[[Connection], T]) -> T:
        if self._async_engine is None:
            return await self._translated(
                self._on_sqlite_thread(lambda: self._sqlite(write, operation))
            )
        return await self._translated(self._postgresql(self._async_engine, write, operation))

    def _sqlite(self, write: bool, operation: Callable[[Connection], T]) -> T:
        """On the SQLite thread: the whole operation, on the connection kept open there."""
        connection = self._connection
        if connection is None:
            connection = self._connection = self.sync_engine.connect()
        try:
            return _in_transaction(connection, write, operation)
        except BaseException:
            # Whatever state an error left the connection in, the next operation gets a clean
            # one: the pool resets it (or, if the error invalidated it, opens a new one).
            self._connection = None
            connection.close()
            raise

    def _close_sqlite(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        self.sync_engine.dispose()

    @staticmethod
    async def _postgresql(
        engine: AsyncEngine, write: bool, operation: Callable[[Connection], T]
    ) -> T:
        async with engine.connect() as connection:
            return await connection.run_sync(_in_transaction, write, operation)

    def _on_sqlite_thread(self, function: Callable[[], T]) -> Awaitable[T]:
        if self._worker is None:
            self._worker = _Worker("flowdapt-sqlite")
        return self._worker.run(function)

    async def _translated(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailableError(
                    f"{self.dialect} database unavailable: {error}"
                ) from error
            raise

    async def dispose(self) -> None:
        """Close the connections; on SQLite also stop the thread (a later call starts another)."""
        if self._async_engine is not None:
            await self._async_engine.dispose()
            return
        worker, self._worker = self._worker, None
        if worker is not None:
            try:
                await worker.run(self._close_sqlite)
            finally:
                await worker.stop()
