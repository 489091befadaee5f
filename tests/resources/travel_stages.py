"""Stages whose value records every process that unpickles it: proof of where data travelled."""

from __future__ import annotations

import os
import threading
from typing import Any


class Traveller:
    """A value that appends the id of each process that unpickles it to the file at `log`."""

    def __init__(self, log: str, payload: bytes) -> None:
        self.log = log
        self.payload = payload

    def __reduce__(self) -> tuple[Any, ...]:
        return (_arrive, (self.log, self.payload))


def _arrive(log: str, payload: bytes) -> Traveller:
    with open(log, "a") as file:
        file.write(f"{os.getpid()}\n")
    return Traveller(log, payload)


def make_traveller(log: str, size: int = 100_000) -> Traveller:
    return Traveller(log, b"x" * size)


def measure(traveller: Traveller) -> int:
    return len(traveller.payload)


def add_size(item: int, traveller: Traveller) -> int:
    return item + len(traveller.payload)


def both(first: Traveller, second: Traveller) -> int:
    return len(first.payload) + len(second.payload)


def a_lock() -> threading.Lock:
    return threading.Lock()


def unlocked(lock: threading.Lock) -> bool:
    return not lock.locked()
