"""The RabbitMQ bus against the real broker: filters, groups across servers, acknowledgements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from flowdapt.bus import BusHealth
from flowdapt.bus.rabbitmq import BusState, RabbitMQEventBus
from flowdapt.domain.events import Event
from tests.bus.conftest import AMQP, GROUP, Broker, nothing_more, take


async def test_events_round_trip_with_type_and_channel_filters(broker: Broker):
    bus = await broker.started()
    async with (
        bus.subscribe(types={"a"}) as only_a,
        bus.subscribe(channel="other") as on_other,
        bus.subscribe() as everything,
    ):
        published = [
            Event(type="b"),
            Event(type="a", data={"n": 1}, headers={"h": "v"}, correlation_id="c"),
            Event(type="b", channel="other", data=2),
        ]
        for event in published:
            await bus.publish(event)
        assert await take(everything, 3) == published  # in order, every field intact
        assert await take(only_a, 1) == [published[1]]
        assert await take(on_other, 1) == [published[2]]
        assert await nothing_more(only_a) and await nothing_more(on_other)
    assert bus.health() == BusHealth(kind="rabbitmq", up=True)


async def test_a_group_shares_events_across_servers_and_everyone_else_gets_all(broker: Broker):
    one, two = await broker.started(), await broker.started()  # two servers, one broker
    async with (
        one.subscribe(group=GROUP) as group_on_one,
        two.subscribe(group=GROUP) as group_on_two,
        one.subscribe() as all_on_one,
        two.subscribe() as all_on_two,
    ):
        for number in range(20):
            await (one if number % 2 else two).publish(Event(type="tick", data=number))
        assert sorted(event.data for event in await take(all_on_one, 20)) == list(range(20))
        assert sorted(event.data for event in await take(all_on_two, 20)) == list(range(20))

        taken: list[int] = []

        async def drain(events: AsyncIterator[Event]) -> None:
            while len(taken) < 20:
                try:
                    event = await asyncio.wait_for(anext(events), 0.3)
                except TimeoutError:
                    return
                taken.append(event.data)

        await asyncio.gather(drain(group_on_one), drain(group_on_two))
        assert sorted(taken) == list(range(20))  # each exactly once across both servers
        assert await nothing_more(group_on_one) and await nothing_more(group_on_two)


async def test_a_group_event_not_processed_goes_back_to_the_group(broker: Broker):
    one, two = await broker.started(), await broker.started()

    async def crash_while_processing() -> None:
        async with one.subscribe(group=GROUP) as crashing:
            await one.publish(Event(type="job", data=1))
            assert [event.data for event in await take(crashing, 1)] == [1]
            raise RuntimeError("crashed while processing it")

    with pytest.raises(RuntimeError, match="crashed"):
        await crash_while_processing()
    async with two.subscribe(group=GROUP) as survivor:  # the group queue kept it meanwhile
        assert [event.data for event in await take(survivor, 1)] == [1]  # redelivered, not lost
    async with two.subscribe(group=GROUP) as later:
        assert await nothing_more(later)  # processed, so acknowledged on leaving: gone


async def test_close_leaves_no_task_behind_and_ends_the_subscribers(broker: Broker):
    before = asyncio.all_tasks()
    bus = await broker.started()
    async with bus.subscribe() as events:
        await bus.publish(Event(type="t"))
        await take(events, 1)
        await bus.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(anext(events), 1)
    await asyncio.sleep(0)
    assert {task for task in asyncio.all_tasks() - before if not task.done()} == set()
    assert bus.state is BusState.CLOSED and bus.health().up is False
    with pytest.raises(RuntimeError, match="once"):
        await bus.start()


async def test_close_while_the_broker_is_away_is_prompt():
    bus = RabbitMQEventBus("amqp://guest:guest@127.0.0.1:1/", reconnect_delay=5)
    await bus.start()
    await bus.publish(Event(type="lost"))
    await asyncio.wait_for(bus.close(), 1)
    assert bus.health().undelivered == 1


def test_bad_options_are_refused_at_once():
    with pytest.raises(ValueError, match="outbox_size"):
        RabbitMQEventBus(AMQP, outbox_size=0)
    with pytest.raises(ValueError, match="reconnect_delay"):
        RabbitMQEventBus(AMQP, reconnect_delay=2, max_reconnect_delay=1)
