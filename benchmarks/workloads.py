"""Functions the benchmarks run, importable by worker processes of the raw pools too."""

from __future__ import annotations

CPU_LOOPS = 100_000  # calibrated at start-up to about 10 ms


def add_one(x: int) -> int:
    return x + 1


def noop() -> None:
    return None


def chain_step(*args: object) -> int:
    return 1


def burn(loops: int) -> int:
    """Pure-Python CPU work (holds the GIL)."""
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total
