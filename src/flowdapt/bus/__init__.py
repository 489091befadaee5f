"""The event bus: the port every service publishes on, and its brokers."""

from flowdapt.bus.base import EventBus
from flowdapt.bus.memory import MemoryEventBus

__all__ = ["EventBus", "MemoryEventBus"]
