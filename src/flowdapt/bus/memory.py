"""The embedded event bus: in-process fan-out to subscriber inboxes.

    bus = MemoryEventBus()
    async with bus.subscribe(group="triggers") as first, bus.subscribe(group="triggers") as second:
        await bus.publish(Event(type="tick"))   # taken by `first` or by `second`, not both

Every ungrouped subscriber has its own inbox; the subscribers of one group share one inbox, so
each event is taken by exactly one of them (whichever asks first). An inbox is bounded: when its
readers fall behind it loses the oldest events (counted in `health().dropped`, a warning is
logged) rather than slowing publishers or growing memory without limit.

A group's inbox receives the events any of its members asks for, and a member skips the ones it
did not ask for; members of a group are meant to be the same service on several servers, so give
them the same filters. A group's inbox lives as long as it has members: unlike a broker's
durable queue, nothing is kept for a group nobody is subscribed to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from flowdapt.bus.base import BusHealth
from flowdapt.domain.events import Event

logger = logging.getLogger(__name__)

INBOX_SIZE = 10_000


@dataclass(frozen=True, eq=False)
class _Filter:
    types: frozenset[str] | None
    channel: str | None

    def wants(self, event: Event) -> bool:
        return (self.types is None or event.type in self.types) and (
            self.channel is None or event.channel == self.channel
        )


@dataclass(eq=False)
class _Inbox:
    """What one ungrouped subscriber, or all the members of one group, read from."""

    members: list[_Filter] = field(default_factory=list)
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(INBOX_SIZE))
    dropped: int = 0

    def wants(self, event: Event) -> bool:
        return any(member.wants(event) for member in self.members)

    def offer(self, event: Event) -> bool:
        """Queue the event; True if the oldest one had to go to make room."""
        full = self.queue.full()
        if full:
            self.queue.get_nowait()  # the oldest goes: publishers are never held up
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                logger.warning("a slow event subscriber has lost %d event(s)", self.dropped)
        self.queue.put_nowait(event)
        return full


class MemoryEventBus:
    """`memory://`: one process, no broker. Publishing is synchronous fan-out."""

    def __init__(self) -> None:
        self._inboxes: set[_Inbox] = set()
        self._groups: dict[str, _Inbox] = {}
        self._dropped = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._inboxes.clear()
        self._groups.clear()

    async def publish(self, event: Event) -> None:
        for inbox in list(self._inboxes):
            if inbox.wants(event) and inbox.offer(event):
                self._dropped += 1

    def health(self) -> BusHealth:
        return BusHealth(kind="memory", up=True, dropped=self._dropped)

    @asynccontextmanager
    async def subscribe(
        self,
        *,
        types: Collection[str] | None = None,
        channel: str | None = None,
        group: str | None = None,
    ) -> AsyncIterator[AsyncIterator[Event]]:
        member = _Filter(frozenset(types) if types is not None else None, channel)
        inbox = self._join(member, group)

        async def events() -> AsyncIterator[Event]:
            while True:
                event = await inbox.queue.get()
                if member.wants(event):
                    yield event

        try:
            yield events()
        finally:
            self._leave(member, inbox, group)

    def _join(self, member: _Filter, group: str | None) -> _Inbox:
        inbox = self._groups.get(group) if group is not None else None
        if inbox is None:
            inbox = _Inbox()
            self._inboxes.add(inbox)
            if group is not None:
                self._groups[group] = inbox
        inbox.members.append(member)
        return inbox

    def _leave(self, member: _Filter, inbox: _Inbox, group: str | None) -> None:
        inbox.members.remove(member)
        if inbox.members:
            return
        self._inboxes.discard(inbox)
        if group is not None and self._groups.get(group) is inbox:
            del self._groups[group]
