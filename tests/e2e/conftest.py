"""End-to-end fixtures: the real `flowdapt run` process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A `flowdapt run` process and how to reach it."""

    app_dir: Path
    port: int
    database: str | None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        args = [
            str(BIN / "flowdapt"),
            "--app-dir",
            str(self.app_dir),
            "-o",
            f"rpc.api.port={self.port}",
        ]
        if self.database:
            args += ["-o", f"database.target={self.database}"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the tests' stage modules
        with (self.app_dir / "server.log").open("ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [*args, "run"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout}s: {self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log(self) -> str:
        path = self.app_dir / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


async def _create_database() -> str:
    name = f"flowdapt_e2e_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(f"{POSTGRES}/test")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def _drop_database(name: str) -> None:
    connection = await asyncpg.connect(f"{POSTGRES}/test")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = asyncio.run(_create_database())
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_drop_database(name))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per database for the whole session, always stopped at the end."""
    database = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    instance = Server(tmp_path_factory.mktemp(f"app-{request.param}"), free_port(), database)
    instance.start()
    yield instance
    instance.stop()


def flowctl(server: Server, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Our flowctl, as a user runs it."""
    return subprocess.run(
        [str(BIN / "flowctl"), "--server", server.url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "FLOWCTL_CONFIG": str(server.app_dir / "flowctl.yaml")},
    )
