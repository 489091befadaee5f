"""Acknowledged writes survive `kill -9`, and the file stays readable (SQLite and TinyDB)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from flowdapt.storage import SQLStorage, Storage, TinyDBStorage
from tests.storage.samples import workflow

ROOT = Path(__file__).parents[2]
ACKNOWLEDGED = 25


async def kill_after_acknowledged(backend: str, path: Path) -> int:
    """Run the writer in its own process; SIGKILL it right after `ACKNOWLEDGED` writes."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "storage" / "durability_writer.py"),
        backend,
        str(path),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    last = -1
    try:
        while last < ACKNOWLEDGED - 1:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=20)
            assert line, "the writer exited before acknowledging enough writes"
            last = int(line)
        child.send_signal(signal.SIGKILL)  # mid-way through the next write
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    return last + 1


async def assert_all_there(storage: Storage, acknowledged: int) -> None:
    await storage.start()
    try:
        for number in range(acknowledged):
            assert (await storage.workflows.get(f"w{number}")).metadata.name == f"w{number}"
            assert (await storage.runs.get(f"r{number}")).workflow == f"w{number}"
        await storage.workflows.create(workflow("after-the-crash"))  # still writable
    finally:
        await storage.close()


@pytest.mark.slow
async def test_sqlite_keeps_every_acknowledged_write_after_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "flowdapt.db"

    acknowledged = await kill_after_acknowledged("sqlite", path)

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    await assert_all_there(SQLStorage(f"sqlite+aiosqlite:///{path}"), acknowledged)


@pytest.mark.slow
async def test_tinydb_keeps_every_acknowledged_write_after_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "db.json"

    acknowledged = await kill_after_acknowledged("tinydb", path)

    tables = json.loads(path.read_text())  # whole, valid JSON: never a torn write
    assert len(tables["workflows"]) >= acknowledged
    await assert_all_there(TinyDBStorage(str(path)), acknowledged)
