"""Stages that log and print, importable by every executor's workers."""

from __future__ import annotations

import logging
import sys
import time

logger = logging.getLogger("tests.stage_logs")


def greet(name: str) -> str:
    print(f"hello {name}")
    logger.info("greeted %s", name)
    return name


def shout(item: int, name: str) -> int:
    print(f"item {item} for {name}", file=sys.stderr if item % 2 else sys.stdout)
    logger.warning("warning from item %d", item)
    return item


async def whisper(item: int) -> int:
    logger.info("async item %d", item)
    return item


def flood(megabytes: int) -> int:
    line = "x" * 1023
    for _ in range(megabytes * 1024):
        print(line)
    return megabytes


def fail_loudly() -> None:
    print("about to fail")
    raise RuntimeError("stage broke")


def tick(item: int, seconds: float) -> int:
    time.sleep(seconds)
    print(f"tick {item}")
    return item
