"""The event-bus port: services publish events; subscribers receive the ones they filter for.

    async with bus.subscribe(types={WORKFLOW_FINISHED}) as events:
        async for event in events:
            ...

Brokers (in-memory here; a real broker for several servers) implement this protocol; services
never see a broker's own API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from flowdapt.domain.events import Event


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Hand the event to every matching subscriber (never blocks on a slow one)."""
        ...

    def subscribe(
        self, *, types: Collection[str] | None = None, channel: str | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        """Events whose type is in `types` (all if None) on `channel` (any if None)."""
        ...
