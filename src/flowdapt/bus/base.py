"""The event-bus port: services publish events; subscribers receive the ones they filter for.

    async with bus.subscribe(types={WORKFLOW_FINISHED}) as events:            # every event
        async for event in events:
            ...
    async with bus.subscribe(types=None, group="triggers") as events:         # shared work
        ...

Subscribers that name the same ``group`` share its events: each event goes to one of them,
across every server connected to the broker (the trigger service uses this so a rule fires once
per event, not once per server). Without a group, every subscriber receives every event.

Brokers (in-memory, RabbitMQ) implement this protocol; services never see a broker's own API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from flowdapt.domain.events import Event


@dataclass(frozen=True)
class BusHealth:
    """What `/status` reports about the bus."""

    kind: str  # "memory", "rabbitmq"
    up: bool  # connected to the broker now
    detail: str = ""  # why not, when not
    undelivered: int = 0  # published while the broker was away, waiting to be sent
    dropped: int = 0  # given up on (outbox full) since start: counted and logged, never silent


class EventBus(Protocol):
    async def start(self) -> None:
        """Begin connecting; returns at once even when the broker is down (see `health`)."""
        ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Hand the event over for delivery; never blocks on a slow subscriber or a dead broker."""
        ...

    def subscribe(
        self,
        *,
        types: Collection[str] | None = None,
        channel: str | None = None,
        group: str | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        """Events whose type is in `types` (all if None) on `channel` (any if None); shared
        with the other subscribers of `group` if one is named."""
        ...

    def health(self) -> BusHealth: ...
