"""The RabbitMQ event bus (`amqp://…`): events shared by every server connected to one broker.

    bus = RabbitMQEventBus("amqp://guest:guest@127.0.0.1:5672/")
    await bus.start()                    # at once; connects (and reconnects) in the background
    async with bus.subscribe(types={WORKFLOW_FINISHED}, group="triggers") as events:
        await bus.publish(Event(type=WORKFLOW_FINISHED, data=run))
        async for event in events:       # one server of the group gets it
            ...
    await bus.close()

Wire format. One durable topic exchange (``flowdapt.events`` by default). An event is published
with its type as routing key, its JSON (`Event.model_dump_json`) as body, ``message_id`` = the
event id and persistent delivery. Subscribers bind their types as binding keys (``#`` for all);
the event's ``channel`` is matched by the subscriber on the decoded event, not by the broker.

Subscribers. Without a group, a subscriber gets its own exclusive auto-delete queue: every
subscriber on every server receives every event. With ``group="g"`` it consumes from the durable
queue ``<exchange>.g``, shared by all the group's subscribers on every server (competing
consumers: each event goes to one of them). A group queue outlives its consumers (events wait in
it while no member is connected) and keeps its bindings: give every member the same filters,
because a member acknowledges and skips an event that matches another member's filters only.
Each subscriber reads from a local buffer the broker fills with at most `prefetch` deliveries per
connection (basic.qos).

Delivery guarantees.
- Publishing is at-least-once to the broker: `publish` puts the event in a bounded in-memory
  outbox and returns; a background publisher sends the outbox in order with publisher confirms,
  and an event leaves the outbox only once the broker confirmed it (a connection lost before the
  confirm means it is sent again: a duplicate is possible, a loss is not). While the broker is
  away the outbox fills; when it is full the *oldest* event is dropped (counted in
  `health().dropped`, logged at WARNING), so memory stays bounded and the newest state wins. The
  outbox is in memory: a process that dies loses what it had not yet sent; `close` gives a
  connected bus up to `CLOSE_GRACE` seconds to send it. An event no queue is bound for is
  discarded by the broker (nobody asked for it).
- Group subscribers are at-least-once: a delivery is acknowledged when the subscriber asks for
  the next event (so after it processed this one) or leaves the subscription normally. A server
  that crashes, is cancelled, or loses its connection in between has the event redelivered to
  a member (a duplicate is possible, a loss is not).
- Ungrouped subscribers are at-most-once across connection loss: their queue dies with the
  connection, so events other servers publish while this one is disconnected are not seen
  (events this server publishes meanwhile wait in its outbox and are seen after reconnecting).

Connection. `start` launches one supervising task, owned by the bus, that connects with
exponential backoff (`reconnect_delay` doubling up to `max_reconnect_delay`), declares the
exchange, declares and binds every live subscription's queue and consumer, then drains the
outbox; when the connection drops it does all of that again. Subscribers' iterators survive a
reconnect: they wait. `state` and `health()` say where it is; the URL's password never appears
in logs or in `health().detail`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Collection
from types import TracebackType

import aio_pika
from aio_pika.abc import AbstractExchange

from flowdapt.bus.base import BusHealth
from flowdapt.bus.rabbitmq_parts import (
    BROKER_GONE,
    CONNECT_TIMEOUT,
    OwnedConnection,
    Session,
    Subscription,
    UrlMasker,
    really_cancelled,
)
from flowdapt.domain.events import Event

logger = logging.getLogger(__name__)

CLOSE_GRACE = 2.0  # seconds `close` gives a connected bus to send what is still in the outbox


class BusState(enum.Enum):
    STOPPED = "stopped"  # not started yet
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # waiting before the next attempt
    CLOSED = "closed"


class _SubscriptionContext:
    def __init__(self, bus: RabbitMQEventBus, subscription: Subscription) -> None:
        self._bus, self._subscription = bus, subscription

    async def __aenter__(self) -> Subscription:
        await self._bus._add(self._subscription)
        return self._subscription

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:  # the subscriber is done with the last event it took
            await self._subscription.acknowledge()
        await self._bus._remove(self._subscription)


class RabbitMQEventBus:
    """`amqp://…`: the bus shared by every server connected to one RabbitMQ broker."""

    def __init__(
        self,
        url: str,
        *,
        exchange: str = "flowdapt.events",
        outbox_size: int = 10_000,
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 5.0,
        prefetch: int = 100,
    ) -> None:
        if outbox_size < 1 or prefetch < 1:
            raise ValueError("outbox_size and prefetch must be at least 1")
        if not 0 < reconnect_delay <= max_reconnect_delay:
            raise ValueError("need 0 < reconnect_delay <= max_reconnect_delay")
        self._url, self._mask = url, UrlMasker(url)
        self._exchange = exchange
        self._outbox_size, self._prefetch = outbox_size, prefetch
        self._delays = (reconnect_delay, max_reconnect_delay)
        self._outbox: deque[Event] = deque()
        self._in_flight: Event | None = None
        self._wake = asyncio.Event()  # something to publish, or the session was lost
        self._subscriptions: set[Subscription] = set()
        self._attaching = asyncio.Lock()  # a subscription is attached once per session
        self._session: Session | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._state = BusState.STOPPED
        self._error = ""
        self._dropped = 0
        self._dropped_in_a_row = 0  # since an event was last confirmed: for the warnings

    def __repr__(self) -> str:
        state = self.state.value
        return f"<RabbitMQEventBus {self._mask.url} exchange={self._exchange!r} {state}>"

    @property
    def state(self) -> BusState:
        session = self._session
        if self._state is BusState.CONNECTED and (session is None or session.lost):
            return BusState.DISCONNECTED  # lost a moment ago; the supervisor is catching up
        return self._state

    def health(self) -> BusHealth:
        state = self.state
        up = state is BusState.CONNECTED
        return BusHealth(
            kind="rabbitmq",
            up=up,
            detail="" if up else self._error or f"{state.value}: {self._mask.url}",
            undelivered=len(self._outbox) + (self._in_flight is not None),
            dropped=self._dropped,
        )

    async def start(self) -> None:
        if self._supervisor is not None or self._state is BusState.CLOSED:
            raise RuntimeError(f"{self!r} can be started once")
        self._state = BusState.CONNECTING
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{self!r} supervisor")

    async def close(self) -> None:
        await self._flush(CLOSE_GRACE)
        supervisor, self._supervisor = self._supervisor, None
        self._state = BusState.CLOSED
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.wait({supervisor})  # an outer cancellation still reaches the caller
            if not supervisor.cancelled():
                supervisor.result()  # a bug in the supervisor must not vanish
        for subscription in self._subscriptions:
            subscription.end()
        if undelivered := self.health().undelivered:
            logger.warning("event bus closed with %d event(s) never sent", undelivered)

    async def publish(self, event: Event) -> None:
        if self._state is BusState.CLOSED:
            self._drop(event, "the bus is closed")
            return
        while len(self._outbox) >= self._outbox_size:
            self._drop(self._outbox.popleft(), "the outbox is full")
        self._outbox.append(event)
        self._wake.set()

    def subscribe(
        self,
        *,
        types: Collection[str] | None = None,
        channel: str | None = None,
        group: str | None = None,
    ) -> _SubscriptionContext:
        return _SubscriptionContext(self, Subscription(types, channel, group))

    # --- subscriptions ----------------------------------------------------------------------

    async def _add(self, subscription: Subscription) -> None:
        if self._state is BusState.CLOSED:
            subscription.end()
            return
        self._subscriptions.add(subscription)
        async with self._attaching:
            session = self._session
            if session is None or session.lost:
                return  # the supervisor attaches it once it is connected
            try:
                await subscription.attach(session, self._exchange, self._prefetch)
            except BROKER_GONE as error:  # a new session will attach it
                logger.warning("event bus: subscribing failed (%s); reconnecting", error)
                session.lose(error)

    async def _remove(self, subscription: Subscription) -> None:
        async with self._attaching:
            self._subscriptions.discard(subscription)
            await subscription.detach()

    # --- the supervisor ---------------------------------------------------------------------

    async def _supervise(self) -> None:
        first, longest = self._delays
        delay = first
        while True:
            self._state = BusState.CONNECTING
            if await self._attempt():
                delay = first  # it was up: the next outage starts the backoff afresh
            self._state = BusState.DISCONNECTED
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)

    async def _attempt(self) -> bool:
        try:
            return await self._run_session()
        except asyncio.CancelledError:
            if really_cancelled():
                raise  # `close` is stopping the supervisor
            # aiormq fails whatever waited on a connection it found stuck (no heartbeat) with
            # a CancelledError of its own: that is a lost connection, not a reason to stop.
            self._failed("lost the connection to", TimeoutError("no heartbeat from the broker"))
            return False

    async def _run_session(self) -> bool:
        """Connect, set up and publish until the connection is lost; False if it never got up."""
        try:
            connection = await aio_pika.connect(
                self._url, timeout=CONNECT_TIMEOUT, connection_class=OwnedConnection
            )
        except Exception as error:  # every way of failing to connect is retried the same way
            self._failed("cannot connect to", error)
            return False
        session = Session(connection, self._wake)
        try:
            return await self._serve(session)
        finally:  # also when cancelled by `close`
            await self._end(session)

    async def _serve(self, session: Session) -> bool:
        try:
            await self._set_up(session)
        except Exception as error:  # e.g. a declaration the broker refuses: report, retry
            self._failed("cannot set up on", error)
            return False
        logger.info("event bus connected to %s", self._mask.url)
        try:
            await self._publish_until_lost(session)
        except Exception as error:  # the publisher's loop boundary: a new session retries
            session.lose(error)
        self._failed("lost the connection to", session.reason)
        return True

    async def _set_up(self, session: Session) -> None:
        async with self._attaching:
            amqp = await session.connection.channel(publisher_confirms=True)
            session.exchange = await amqp.declare_exchange(
                self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            for subscription in list(self._subscriptions):
                await subscription.attach(session, self._exchange, self._prefetch)
            self._session, self._state, self._error = session, BusState.CONNECTED, ""

    async def _end(self, session: Session) -> None:
        if self._session is session:
            self._session = None
        for subscription in self._subscriptions:
            if subscription.session is session:
                subscription.forget_session()
        await session.end()

    def _failed(self, what: str, error: BaseException | None) -> None:
        detail = f"{what} {self._mask.url}: {self._mask.error(error)}"
        # The first failure of a kind is a warning; the same one again while retrying is not news.
        level = logging.DEBUG if detail == self._error else logging.WARNING
        logger.log(level, "event bus %s (retrying)", detail)
        self._error = detail

    # --- the outbox -------------------------------------------------------------------------

    async def _publish_until_lost(self, session: Session) -> None:
        assert session.exchange is not None  # set up before it is handed here
        while not session.lost:
            if not self._outbox:
                self._wake.clear()  # no await since `lost` was checked: no wake-up is missed
                await self._wake.wait()
                continue
            await self._publish_oldest(session.exchange)

    async def _publish_oldest(self, exchange: AbstractExchange) -> None:
        event = self._in_flight = self._outbox.popleft()
        confirmed = False
        try:
            # Returns once the broker confirmed it; a nack or a lost connection raises.
            await exchange.publish(_message(event), event.type, mandatory=False)
            confirmed = True
        finally:
            self._in_flight = None
            if not confirmed:  # lost, cancelled or refused: first in line for the next session
                self._outbox.appendleft(event)
        self._dropped_in_a_row = 0

    async def _flush(self, grace: float) -> None:
        """Give a connected bus a moment to send what is waiting (a server shutting down)."""
        deadline = asyncio.get_running_loop().time() + grace
        while self.health().undelivered and self.state is BusState.CONNECTED:
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.01)

    def _drop(self, event: Event, why: str) -> None:
        self._dropped += 1
        self._dropped_in_a_row += 1
        # Every drop is counted in health(); the log is thinned so an outage cannot flood it.
        if self._dropped_in_a_row in (1, 10, 100) or self._dropped_in_a_row % 1000 == 0:
            logger.warning(
                "event bus dropped event %s (%s) because %s: %d dropped in a row, %d since start",
                event.id,
                event.type,
                why,
                self._dropped_in_a_row,
                self._dropped,
            )


def _message(event: Event) -> aio_pika.Message:
    return aio_pika.Message(
        event.model_dump_json().encode(),
        message_id=event.id,
        type=event.type,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
