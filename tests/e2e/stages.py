"""Stage functions the end-to-end tests run inside the real server (PYTHONPATH is the repo)."""

from __future__ import annotations

import time


def nap(seconds: float = 1.0) -> float:
    """Block the worker thread for `seconds`, as user code does (no cooperative cancel checks)."""
    time.sleep(seconds)
    return seconds


def echo(value: object = None) -> object:
    return value
