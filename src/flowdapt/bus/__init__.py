"""The event bus: the port every service publishes on, and its brokers.

`RabbitMQEventBus` is imported on first use, so a server on the embedded bus never loads aio-pika.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdapt.bus.base import BusHealth, EventBus
from flowdapt.bus.memory import MemoryEventBus

if TYPE_CHECKING:
    from flowdapt.bus.rabbitmq import RabbitMQEventBus

__all__ = ["BusHealth", "EventBus", "MemoryEventBus", "RabbitMQEventBus"]


def __getattr__(name: str) -> object:
    if name == "RabbitMQEventBus":
        from flowdapt.bus.rabbitmq import RabbitMQEventBus

        return RabbitMQEventBus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
