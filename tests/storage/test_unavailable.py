"""A database that is down gives `StorageUnavailableError` fast; recovery needs no restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

from flowdapt.domain.runs import WorkflowRun
from flowdapt.storage import SQLStorage, StorageUnavailableError
from tests.storage.samples import workflow


async def test_nothing_listening_is_unavailable_not_a_hang() -> None:
    storage = SQLStorage("postgresql+asyncpg://postgres@127.0.0.1:1/test", connect_timeout=2)
    began = time.monotonic()
    try:
        with pytest.raises(StorageUnavailableError, match="postgresql"):
            await storage.workflows.list()
        with pytest.raises(StorageUnavailableError):
            await storage.runs.create(WorkflowRun(workflow="w"))
        with pytest.raises(StorageUnavailableError):
            await storage.start()
        assert await storage.ping() is False
    finally:
        await storage.close()
    assert time.monotonic() - began < 10


class Proxy:
    """A TCP relay to PostgreSQL that can be taken down (cutting live connections) and back up."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()
        self._tasks.clear()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {client_w, server_w}
        pumps = [
            asyncio.create_task(self._pump(client_r, server_w)),
            asyncio.create_task(self._pump(server_r, client_w)),
        ]
        self._tasks.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


@pytest.fixture
async def proxy(pg_storage: SQLStorage) -> AsyncIterator[Proxy]:
    proxy = Proxy(make_url(pg_storage.engine.url).port or 5432)
    await proxy.up()
    yield proxy
    await proxy.down()


async def test_postgresql_going_away_and_coming_back(pg_storage: SQLStorage, proxy: Proxy) -> None:
    url = make_url(pg_storage.engine.url).set(port=proxy.port)
    storage = SQLStorage(url.render_as_string(hide_password=False), connect_timeout=2)
    try:
        await storage.start()
        await storage.workflows.create(workflow("before-outage"))

        await proxy.down()  # pooled connections die with it
        with pytest.raises(StorageUnavailableError):
            await storage.workflows.get("before-outage")
        assert await storage.ping() is False

        await proxy.up()
        assert await storage.ping() is True
        assert (await storage.workflows.get("before-outage")).metadata.name == "before-outage"
        await storage.workflows.delete("before-outage")
    finally:
        await storage.close()
