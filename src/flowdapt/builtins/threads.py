"""Thread counts of this process and its children, for spotting thread leaks in stage code.

Threads of child processes count too, as stage code may start its own workers::

    before = get_current_threads_all_procs()
    train()
    assert get_current_threads_all_procs() == before
"""

from __future__ import annotations

import logging
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)

THREADS_FILE = Path("user_data") / "total_threads.txt"


def _processes() -> list[psutil.Process]:
    process = psutil.Process()
    return [process, *process.children(recursive=True)]


def _count_threads(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += int(process.num_threads())
        except psutil.NoSuchProcess:  # a child that ended while we were counting has none
            continue
    return total


def get_current_threads_all_procs() -> int:
    """The number of threads of this process plus those of all its descendants."""
    return _count_threads(_processes())


def get_total_system_threads() -> None:
    """Log the process and thread counts and append the thread count to
    ``user_data/total_threads.txt`` under the working directory (created if missing, where the
    original failed)."""
    processes = _processes()
    threads = _count_threads(processes)
    logger.info("Processes: %d, threads: %d", len(processes), threads)
    THREADS_FILE.parent.mkdir(parents=True, exist_ok=True)
    with THREADS_FILE.open("a", encoding="utf-8") as file:
        file.write(f"{threads}\n")
