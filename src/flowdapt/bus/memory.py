"""The embedded event bus: in-process fan-out to subscriber queues.

Each subscriber has a bounded queue; a subscriber that falls behind loses the oldest events (a
warning is logged with the count) rather than slowing publishers or growing memory without limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from flowdapt.domain.events import Event

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Subscriber:
    types: frozenset[str] | None
    channel: str | None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))
    dropped: int = 0

    def wants(self, event: Event) -> bool:
        return (self.types is None or event.type in self.types) and (
            self.channel is None or event.channel == self.channel
        )

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # the oldest goes: publishers are never held up
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                logger.warning("a slow event subscriber has lost %d event(s)", self.dropped)
        self.queue.put_nowait(event)


class MemoryEventBus:
    """`memory://`: one process, no broker. Publishing is synchronous fan-out."""

    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subscribers.clear()

    async def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.wants(event):
                subscriber.offer(event)

    @asynccontextmanager
    async def subscribe(
        self, *, types: Collection[str] | None = None, channel: str | None = None
    ) -> AsyncIterator[AsyncIterator[Event]]:
        subscriber = _Subscriber(frozenset(types) if types is not None else None, channel)
        self._subscribers.add(subscriber)

        async def events() -> AsyncIterator[Event]:
            while True:
                yield await subscriber.queue.get()

        try:
            yield events()
        finally:
            self._subscribers.discard(subscriber)
