"""Stage functions used by the engine tests: plain Python, as users write them."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from flowdapt.compute.resources.workflow.context import get_run_context


def make_list(n: int = 5) -> list[int]:
    return list(range(n))


def add_one(x: int) -> int:
    return x + 1


def square(x: int) -> int:
    return x * x


def total(values: list[int]) -> int:
    return sum(values)


def pair(a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b)


def fail(*args: Any) -> None:
    raise ValueError("boom from stage")


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"cannot handle {x}")
    return x


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def pid(*_: Any) -> int:
    return os.getpid()


def worker_identity(*_: Any) -> tuple[int, int]:
    """The process and thread this call ran in (after a short wait, so that work spreads)."""
    time.sleep(0.005)
    return (os.getpid(), threading.get_ident())


STOPPED: list[float] = []  # when wait_until_cancelled saw the flag (monotonic time)


def wait_until_cancelled(*_: Any) -> str:
    """A stage that would hang, but checks the run's cancel flag as a well-behaved thread stage."""
    context = get_run_context()
    deadline = time.monotonic() + 30
    while not context.cancelled and time.monotonic() < deadline:
        time.sleep(0.01)
    if context.cancelled:
        STOPPED.append(time.monotonic())
    return "stopped"


def return_lock() -> threading.Lock:
    return threading.Lock()


def crash_process() -> None:
    os._exit(3)


def context_snapshot(*_: Any) -> dict[str, Any]:
    context = get_run_context()
    return {
        "input": dict(context.input),
        "namespace": context.namespace,
        "executor": context.executor,
        "workflow": context.definition.metadata.name,
        "run": context.run.name,
        "config": dict(context.config),
        "stage": context.stage,
        "pid": os.getpid(),
    }


def nested_helper_reads_context() -> str:
    return get_run_context().namespace


def calls_a_helper(*_: Any) -> str:
    return nested_helper_reads_context()


async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


async def async_root(value: int = 1) -> int:
    await asyncio.sleep(0.001)
    return value


class Flaky:
    """Fails the first `failures` calls, then succeeds; counts calls in a file so that the count
    holds across worker processes."""

    def __init__(self, counter: str, failures: int) -> None:
        self.counter, self.failures = counter, failures

    def __call__(self, *_: Any) -> str:
        with open(self.counter, "a") as handle:
            handle.write(".")
        with open(self.counter) as handle:
            count = len(handle.read())
        if count <= self.failures:
            raise ConnectionError(f"attempt {count} failed")
        return f"ok after {count}"


def record_time(*_: Any) -> tuple[float, float]:
    start = time.monotonic()
    time.sleep(0.2)
    return (start, time.monotonic())


def wait_for_file(path: str, limit: float = 30.0) -> int:
    """Blocks until `path` exists (or `limit` seconds pass), then creates `path`.ended: a stage
    that runs for as long as the test wants on any executor, and leaves a trace if it ended on its
    own (a killed one leaves none). Returns its process id."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    open(f"{path}.ended", "w").close()
    return os.getpid()


def executor_kind(*_: Any) -> str:
    return get_run_context().executor


class QuotaExceededError(RuntimeError):
    """A user's own exception type, defined in the stage module."""


def exceed_quota(*_: Any) -> None:
    raise QuotaExceededError("quota of 3 calls exceeded for 'weather-api'")


def read_missing_object(key: str) -> Any:
    from flowdapt.compute import object_store

    return object_store.get(key)


class FlakyItems:
    """Fails each item divisible by 3 on its first call only; every call is logged as a line of
    `log`, so that the calls can be counted across worker processes."""

    def __init__(self, log: str) -> None:
        self.log = log

    def __call__(self, x: int) -> int:
        marker = f"{self.log}.{x}"
        with open(self.log, "a") as handle:  # one short append per call: atomic on Linux
            handle.write(f"{x}\n")
        if x % 3 == 0 and not os.path.exists(marker):
            open(marker, "w").close()
            raise ConnectionError(f"flaky on {x}")
        return x * 10
