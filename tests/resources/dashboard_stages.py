"""Stages for the dashboard's browser tests and benchmark: plain Python, as users write them.

Each one logs and prints a little, so that the run's logs have something per stage.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flowdapt.compute.resources.workflow.context import get_run_context

logger = logging.getLogger(__name__)


def make_items(n: int = 5) -> list[int]:
    logger.info("making %d items", n)
    return list(range(n))


def settle(seconds: float = 0.0) -> str:
    """A simple stage that takes a while (so a browser can see it running)."""
    print(f"settling for {seconds} s")
    time.sleep(seconds)
    return "settled"


def square_slowly(x: int) -> int:
    """Takes the run input's `delay` seconds per item (a fan-out a browser can watch)."""
    time.sleep(float(get_run_context().input.get("delay", 0.0)))
    return x * x


def total(squares: list[int], note: str = "") -> dict[str, Any]:
    print(f"total of {len(squares)} squares")
    return {"count": len(squares), "sum": sum(squares), "note": note}


def combine(values: dict[str, Any], note: str) -> dict[str, Any]:
    return {**values, "settled": note}


def wait_for_cancel(seconds: float = 120.0) -> str:
    """Runs until cancelled (checking the flag, so a thread stops too) or `seconds` pass."""
    context = get_run_context()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if context.cancelled:
            return "cancelled"
        time.sleep(0.05)
    return "timed out"


def explode(values: list[int]) -> None:
    raise ValueError(f"cannot total {len(values)} values today")
