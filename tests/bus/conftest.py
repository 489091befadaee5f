"""The real RabbitMQ on this machine, a relay in front of it that can be cut, and helpers.

Every test gets its own exchange (``flowdapt.test.<hex>``); the exchange and the group queue are
deleted afterwards, so the broker is left as it was found.

aiormq 6.9 leaks the socket of a connection the peer cut (its writer's ``write_eof`` fails on
the dead socket and the ``close`` after it is skipped); Python frees it at the next garbage
collection with a ResourceWarning. The `broker` fixture collects at its end, so that warning
lands in the test that cut a connection (whose module ignores it), not in a later one.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

import aio_pika
import pytest

from flowdapt.bus.rabbitmq import RabbitMQEventBus
from flowdapt.domain.events import Event
from tests.storage.test_unavailable import Proxy

AMQP_PORT = 5672
AMQP = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/"
GROUP = "triggers"  # the one group name the tests use; its queue is deleted afterwards
FAST = {"reconnect_delay": 0.02, "max_reconnect_delay": 0.1}  # recover within a blink


class Broker:
    """Makes buses on one test's exchange; closes them all at the end."""

    def __init__(self) -> None:
        self.exchange = f"flowdapt.test.{uuid4().hex}"
        self.buses: list[RabbitMQEventBus] = []

    def bus(self, url: str = AMQP, **options: Any) -> RabbitMQEventBus:
        bus = RabbitMQEventBus(url, exchange=self.exchange, **{**FAST, **options})
        self.buses.append(bus)
        return bus

    async def started(self, url: str = AMQP, **options: Any) -> RabbitMQEventBus:
        bus = self.bus(url, **options)
        await bus.start()
        await wait_until(lambda: bus.health().up, "the bus to connect")
        return bus

    async def clean_up(self) -> None:
        for bus in self.buses:
            await bus.close()
        connection = await aio_pika.connect(AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(f"{self.exchange}.{GROUP}")
            await channel.exchange_delete(self.exchange)
        gc.collect()  # see the module docstring


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    made = Broker()
    yield made
    await made.clean_up()


class Relay:
    """`Proxy` (from the storage tests) in front of RabbitMQ, remembering whether it is up."""

    def __init__(self) -> None:
        self.proxy = Proxy(AMQP_PORT)
        self.is_up = False

    def url(self, password: str = "guest") -> str:
        return f"amqp://guest:{password}@127.0.0.1:{self.proxy.port}/"

    async def up(self) -> None:
        await self.proxy.up()
        self.is_up = True

    async def down(self) -> None:
        await self.proxy.down()  # cuts the live connections too
        self.is_up = False


@pytest.fixture
async def relay(broker: Broker) -> AsyncIterator[Relay]:
    """A relay that is down, with its port already chosen (torn down before `broker`)."""
    made = Relay()
    await made.up()
    await made.down()
    yield made
    if made.is_up:
        await made.down()


async def wait_until(check: Callable[[], object], what: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.005)


async def take(events: AsyncIterator[Event], count: int, timeout: float = 5) -> list[Event]:
    return [await asyncio.wait_for(anext(events), timeout) for _ in range(count)]


async def drain(events: AsyncIterator[Event], quiet: float = 0.3) -> list[Event]:
    """Everything that arrives until nothing has for `quiet` seconds."""
    taken: list[Event] = []
    while True:
        try:
            taken.append(await asyncio.wait_for(anext(events), quiet))
        except TimeoutError:
            return taken


async def nothing_more(events: AsyncIterator[Event], quiet: float = 0.2) -> bool:
    return not await drain(events, quiet)
