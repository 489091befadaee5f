"""Stage functions the API tests run."""

from __future__ import annotations

import sys
import time

from flowdapt.compute.resources.workflow.context import get_run_context


def greet(who: str = "world") -> str:
    return f"hello {who}"


def nap(seconds: float = 0.5) -> float:
    time.sleep(seconds)
    return seconds


def leave() -> None:
    sys.exit(1)


def show_config() -> dict:
    return dict(get_run_context().config)


def unjsonable() -> object:
    return object()


def numbers(n: int = 3) -> list[int]:
    return list(range(n))


def double(x: int) -> int:
    return 2 * x


def fail() -> None:
    raise ValueError("as planned")
