"""The broker away at start-up, going away mid-stream, an outbox overflowing, secrets kept.

A relay in front of the real broker stands for the network: taking it down cuts every live
connection, as a broker restart or a partition would.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from uuid import uuid4

import pytest

from flowdapt.bus.rabbitmq import BusState
from flowdapt.domain.events import Event
from tests.bus.conftest import Broker, Relay, drain, nothing_more, take, wait_until

# aiormq leaks the socket of a cut connection until garbage collection (see tests/bus/conftest.py).
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <function StreamWriter.__del__:"
    "pytest.PytestUnraisableExceptionWarning"
)


async def test_a_broker_down_at_start_up_gets_the_buffered_events_once_it_is_up(
    broker: Broker, relay: Relay
):
    bus = broker.bus(relay.url())
    began = time.monotonic()
    await bus.start()
    assert time.monotonic() - began < 0.1  # start never waits for the broker
    await wait_until(lambda: "cannot connect" in bus.health().detail, "a failed attempt")
    assert bus.health().up is False

    async with bus.subscribe(types={"tick"}) as events:
        for number in range(3):
            await bus.publish(Event(type="tick", data=number))
        assert bus.health().undelivered == 3

        await relay.up()
        await wait_until(lambda: bus.health().up, "the bus to connect")
        assert [event.data for event in await take(events, 3)] == [0, 1, 2]
    health = bus.health()
    assert (health.undelivered, health.dropped, health.detail) == (0, 0, "")


async def test_a_subscriber_survives_a_dropped_connection_and_misses_nothing(
    broker: Broker, relay: Relay
):
    await relay.up()
    bus = await broker.started(relay.url())
    async with bus.subscribe() as events, bus.subscribe(group="triggers") as shared:
        await bus.publish(Event(type="tick", data="before"))
        assert [event.data for event in await take(events, 1)] == ["before"]
        assert [event.data for event in await take(shared, 1)] == ["before"]
        # Confirmed, so it will not be sent again (a cut before the confirm would resend it).
        await wait_until(lambda: bus.health().undelivered == 0, "the broker's confirm")

        await relay.down()
        await bus.publish(Event(type="tick", data="while it notices"))
        await wait_until(lambda: not bus.health().up, "the bus to notice")
        assert "lost the connection" in bus.health().detail
        await bus.publish(Event(type="tick", data="during"))

        await relay.up()
        await wait_until(lambda: bus.health().up, "the bus to reconnect")
        await bus.publish(Event(type="tick", data="after"))
        expected = ["while it notices", "during", "after"]
        assert [event.data for event in await take(events, 3)] == expected
        # The group's "before" was not acknowledged yet when the connection died, so the broker
        # delivers it again (at least once); nothing is lost.
        shared_data = [event.data for event in await drain(shared)]
        assert shared_data == ["before", *expected]
    assert bus.state is BusState.CONNECTED


async def test_a_full_outbox_drops_the_oldest_counts_and_warns(
    broker: Broker, relay: Relay, caplog: pytest.LogCaptureFixture
):
    bus = broker.bus(relay.url(), outbox_size=3)
    await bus.start()
    async with bus.subscribe() as events:
        with caplog.at_level(logging.WARNING, logger="flowdapt.bus.rabbitmq"):
            for number in range(5):
                await bus.publish(Event(type="tick", data=number))
        health = bus.health()
        assert (health.dropped, health.undelivered) == (2, 3)
        assert any(
            record.levelno == logging.WARNING and "dropped" in record.getMessage()
            for record in caplog.records
        )

        await relay.up()
        assert [event.data for event in await take(events, 3)] == [2, 3, 4]
        assert await nothing_more(events)
    assert bus.health().dropped == 2


async def test_the_password_stays_out_of_health_and_logs(
    broker: Broker, relay: Relay, caplog: pytest.LogCaptureFixture
):
    secret = f"s3cret-{uuid4().hex}"
    caplog.set_level(logging.DEBUG)  # aio-pika's and aiormq's records too
    bus = broker.bus(relay.url(secret))
    await bus.start()
    await wait_until(lambda: "cannot connect" in bus.health().detail, "a failed attempt")
    down = bus.health().detail
    await relay.up()  # now the broker itself refuses the password
    await wait_until(lambda: "ACCESS_REFUSED" in bus.health().detail, "the broker to refuse")
    refused = bus.health().detail
    await bus.close()

    assert "******" in down and "******" in refused
    for text in (down, refused, repr(bus), caplog.text):
        assert secret not in text
    assert all(secret not in record.getMessage() for record in caplog.records)


async def test_reconnecting_backs_off_between_attempts(
    broker: Broker, relay: Relay, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="flowdapt.bus.rabbitmq")
    bus = broker.bus(relay.url(), reconnect_delay=0.05, max_reconnect_delay=0.2)
    await bus.start()
    await asyncio.sleep(0.6)
    await bus.close()
    attempts = [
        record.created for record in caplog.records if "cannot connect" in record.getMessage()
    ]
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert 3 <= len(attempts) <= 6  # after 0.05, 0.1, 0.2, 0.2 … s: not a busy loop
    assert all(gap >= 0.04 for gap in gaps)
    assert [record.levelno for record in caplog.records].count(logging.WARNING) == 1
