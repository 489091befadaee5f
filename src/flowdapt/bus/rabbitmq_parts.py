"""The pieces of the RabbitMQ bus below its supervisor: one broker connection (`Session`), one
subscriber's queue and local buffer (`Subscription`), and keeping the URL's password out of
what is logged (`UrlMasker`). See `flowdapt.bus.rabbitmq` for the guarantees they add up to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from urllib.parse import unquote, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.abc import AbstractIncomingMessage as Delivery
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from pydantic import ValidationError

from flowdapt.domain.events import Event

logger = logging.getLogger("flowdapt.bus.rabbitmq")  # one logger for the whole bus

CONNECT_TIMEOUT = 5.0  # seconds for TCP + AMQP handshake; then it counts as a failed attempt
# What a broker call raises when the connection or channel went away under it.
BROKER_GONE = (AMQPError, ChannelInvalidStateError, ConnectionError, asyncio.TimeoutError)


class UrlMasker:
    """Keeps the URL's password out of everything the bus says."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        password = parts.password or ""
        # Longest first, so a password containing its own decoded form is masked whole.
        self._secrets = sorted({password, unquote(password)} - {""}, key=len, reverse=True)
        if parts.password is not None:
            userinfo, _, host = parts.netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            parts = parts._replace(netloc=f"{user}:******@{host}")
        self.url = urlunsplit(parts)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "******")
        return text

    def error(self, error: BaseException | None) -> str:
        if error is None:
            return "closed by the broker"
        text = str(error)
        return self.scrub(f"{type(error).__name__}: {text}" if text else type(error).__name__)


class OwnedConnection(aio_pika.Connection):
    """A connection whose lifetime the bus manages itself.

    aio-pika's `Connection.__del__` schedules `close()` for a connection that never reached the
    closed state — which is every connection that failed to connect, or whose close failed
    because the broker was already gone. Collected where no loop runs, that coroutine is never
    awaited and a RuntimeWarning surfaces at some unrelated place later. The bus closes every
    connection it opened (or finds it broken), so there is nothing left for `__del__` to do.
    """

    def __del__(self) -> None:
        return None


class Session:
    """One connection's life, and whether it is over."""

    def __init__(self, connection: AbstractConnection, wake: asyncio.Event) -> None:
        self.connection = connection
        self.exchange: AbstractExchange | None = None
        self.reason: BaseException | None = None
        self._lost = False
        self._wake = wake
        connection.close_callbacks.add(self.on_closed)

    @property
    def lost(self) -> bool:
        return self._lost

    def on_closed(self, _sender: object, reason: BaseException | None = None) -> None:
        self.lose(reason)

    def lose(self, reason: BaseException | None) -> None:
        if not self._lost:
            self._lost, self.reason = True, reason
            self._wake.set()  # the publisher is waiting on it and must notice

    async def end(self) -> None:
        self.lose(None)
        try:
            await asyncio.wait_for(self.connection.close(), CONNECT_TIMEOUT)
        except BROKER_GONE as error:  # it is already broken: nothing left to close
            logger.debug("closing a broken broker connection: %r", error)


class Subscription:
    """One subscriber: its filters, its consumer on the current connection, its local buffer.

    It is the async iterator the subscriber reads; a delivery is acknowledged when the next one
    is asked for (see the module docstring)."""

    def __init__(
        self, types: Collection[str] | None, channel: str | None, group: str | None
    ) -> None:
        self.types = frozenset(types) if types is not None else None
        self.channel = channel
        self.group = group
        self.session: Session | None = None  # the connection its consumer lives on
        self._amqp: AbstractChannel | None = None
        self._buffer: asyncio.Queue[tuple[Event, Delivery] | None] = asyncio.Queue()
        self._current: Delivery | None = None

    def wants(self, event: Event) -> bool:
        return (self.types is None or event.type in self.types) and (
            self.channel is None or event.channel == self.channel
        )

    async def attach(self, session: Session, exchange: str, prefetch: int) -> None:
        """Declare and bind the queue and start consuming on this session's connection."""
        amqp = await session.connection.channel(publisher_confirms=False)
        amqp.close_callbacks.add(session.on_closed)  # a broker-closed channel needs a new session
        self._amqp, self.session = amqp, session
        await amqp.set_qos(prefetch_count=prefetch)
        grouped = self.group is not None
        queue = await amqp.declare_queue(
            f"{exchange}.{self.group}" if grouped else "",
            durable=grouped,
            exclusive=not grouped,
            auto_delete=not grouped,
        )
        for key in sorted(self.types) if self.types is not None else ["#"]:
            await queue.bind(exchange, key)
        await queue.consume(self._on_delivery)

    async def detach(self) -> None:
        """Stop consuming: unacknowledged deliveries of a group go back to its queue."""
        amqp, session = self._amqp, self.session
        self._amqp, self.session = None, None
        if amqp is None or session is None or amqp.is_closed:
            return
        amqp.close_callbacks.discard(session.on_closed)  # closing it is no reason to reconnect
        try:  # bounded: a connection that is silently gone would never answer
            await asyncio.wait_for(amqp.close(), CONNECT_TIMEOUT)
        except BROKER_GONE as error:
            logger.debug("closing a subscriber's channel: %r", error)

    def forget_session(self) -> None:
        """The connection died: its channel went with it."""
        self._amqp, self.session = None, None

    def end(self) -> None:
        """The bus closed: the iterator stops once the buffer is read."""
        self._buffer.put_nowait(None)

    async def _on_delivery(self, delivery: Delivery) -> None:
        try:
            event = Event.model_validate_json(delivery.body)
        except ValidationError:
            logger.warning("dropping message %s: it is not an event", delivery.message_id)
            await _settle(delivery, ack=False)
            return
        if self.wants(event):
            self._buffer.put_nowait((event, delivery))
        else:  # another channel, or a type only another member of the group binds
            await _settle(delivery, ack=True)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        await self.acknowledge()
        while True:
            item = await self._buffer.get()
            if item is None:
                self._buffer.put_nowait(None)  # stay ended for every later call
                raise StopAsyncIteration
            event, delivery = item
            if self.group is not None and came_on_a_dead_channel(delivery):
                continue  # the broker gave it back to the group when the channel died
            self._current = delivery
            return event

    async def acknowledge(self) -> None:
        delivery, self._current = self._current, None
        if delivery is not None:
            await _settle(delivery, ack=True)


async def _settle(delivery: Delivery, *, ack: bool) -> None:
    """Ack, or reject without requeueing."""
    if came_on_a_dead_channel(delivery):
        return  # the broker settled it when the channel died (a group's went back to its queue)
    try:
        await (delivery.ack() if ack else delivery.reject(requeue=False))
    except BROKER_GONE as error:  # the channel died just now
        logger.debug("could not settle a delivery: %r", error)
    except asyncio.CancelledError:
        if really_cancelled():
            raise
        logger.debug("could not settle a delivery: its connection was stuck")  # see _attempt


def really_cancelled() -> bool:
    """Whether the current task was cancelled, as opposed to aiormq raising CancelledError into
    it for a connection it gave up on (the task is then not being cancelled)."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def came_on_a_dead_channel(delivery: Delivery) -> bool:
    try:
        return delivery.channel.is_closed
    except ChannelInvalidStateError:  # aio-pika's way of saying it is closed
        return True
