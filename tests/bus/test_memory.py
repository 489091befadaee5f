"""The embedded bus: groups share one inbox, everyone else gets their own copy."""

from __future__ import annotations

import pytest

from flowdapt.bus import BusHealth, MemoryEventBus
from flowdapt.bus.memory import INBOX_SIZE
from flowdapt.domain.events import Event
from tests.bus.conftest import nothing_more, take


async def test_a_group_takes_each_event_once_and_the_ungrouped_get_every_one():
    bus = MemoryEventBus()
    async with (
        bus.subscribe(group="triggers") as first,
        bus.subscribe(group="triggers") as second,
        bus.subscribe() as everything,
    ):
        for number in range(6):
            await bus.publish(Event(type="tick", data=number))
        taken = [event.data for event in await take(first, 3) + await take(second, 3)]
        assert sorted(taken) == list(range(6))
        assert await nothing_more(first, 0.01) and await nothing_more(second, 0.01)
        assert [event.data for event in await take(everything, 6)] == list(range(6))


async def test_groups_are_separate_and_vanish_with_their_last_member():
    bus = MemoryEventBus()
    async with bus.subscribe(group="a") as in_a, bus.subscribe(group="b", types={"x"}) as in_b:
        await bus.publish(Event(type="x", data=1))
        await bus.publish(Event(type="y", data=2))
        assert [event.data for event in await take(in_a, 2)] == [1, 2]
        assert [event.data for event in await take(in_b, 1)] == [1]
    async with bus.subscribe(group="a") as again:
        await bus.publish(Event(type="x", data=3))
        assert [event.data for event in await take(again, 1)] == [3]  # nothing left from before


async def test_health_is_always_up_and_counts_what_slow_subscribers_lost(
    caplog: pytest.LogCaptureFixture,
):
    bus = MemoryEventBus()
    assert bus.health() == BusHealth(kind="memory", up=True)
    async with bus.subscribe(group="slow") as events:
        for number in range(INBOX_SIZE + 3):
            await bus.publish(Event(type="tick", data=number))
        assert (await take(events, 1))[0].data == 3
    assert bus.health() == BusHealth(kind="memory", up=True, dropped=3)
    assert "lost" in caplog.text
