"""The bus package's surface, and that it loads aio-pika only for a RabbitMQ bus."""

from __future__ import annotations

import subprocess
import sys

import flowdapt.bus


def test_the_surface_is_pinned_and_sorted():
    assert flowdapt.bus.__all__ == ["BusHealth", "EventBus", "MemoryEventBus", "RabbitMQEventBus"]
    for name in flowdapt.bus.__all__:
        assert getattr(flowdapt.bus, name).__name__ == name


def test_importing_the_bus_does_not_load_aio_pika():
    code = (
        "import sys, flowdapt.bus; assert 'aio_pika' not in sys.modules; "
        "flowdapt.bus.RabbitMQEventBus; assert 'aio_pika' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
