"""End-to-end fixtures: the real `flowdapt run` process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
T = TypeVar("T")


def stop_process(process: subprocess.Popen[bytes], group: bool = False) -> None:
    """Terminate a process a test started (kill it after 10 s); with `group`, also whatever of
    its process group outlived it."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if group:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


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
    options: tuple[str, ...] = ()  # further `-o key=value` settings

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
        for option in self.options:
            args += ["-o", option]
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


# --- Helpers for the crash, shutdown, fuzz and outage tests -------------------------------------

TINYDB = "flowdapt.lib.database.storage.tdb.TinyDBStorage"  # the original's target string


def kill_hard(server: Server) -> None:
    """`kill -9` the server process and reap it."""
    assert server.process is not None and server.process.poll() is None
    server.process.kill()
    server.process.wait(10)


def wait_until(
    check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """Poll `check` until it returns something other than None (or False); fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def run_state(client: httpx.Client, uid: str) -> str:
    response = client.get(f"/workflows/run/{uid}")
    assert response.status_code == 200, response.text
    return str(response.json()["state"])


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Makes (not starts) servers with fresh app dirs; every one of them is stopped afterwards."""
    made: list[Server] = []

    def make(
        database: str | None = None, app_dir: Path | None = None, options: tuple[str, ...] = ()
    ) -> Server:
        directory = app_dir or tmp_path / f"app-{len(made)}"
        directory.mkdir(parents=True, exist_ok=True)
        instance = Server(directory, free_port(), database, options=options)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        if instance.process is not None and instance.process.poll() is None:
            instance.process.kill()
            instance.process.wait(10)


class ThreadedRelay:
    """The storage tests' PostgreSQL `Proxy`, run on its own event loop in a thread, so that it
    keeps relaying while a test blocks (a server starting, a synchronous HTTP call)."""

    def __init__(self, target_port: int) -> None:
        from tests.storage.test_unavailable import Proxy

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-relay", daemon=True)
        self._thread.start()
        self.proxy = Proxy(target_port)
        self.is_up = False

    @property
    def port(self) -> int:
        return self.proxy.port

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def up(self) -> None:
        self._call(self.proxy.up())
        self.is_up = True

    def down(self) -> None:
        self._call(self.proxy.down())
        self.is_up = False

    def close(self) -> None:
        if self.is_up:
            self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def pg_relay() -> Iterator[ThreadedRelay]:
    """A TCP relay in front of the local PostgreSQL, up; taken down and closed afterwards."""
    relay = ThreadedRelay(5432)
    relay.up()
    yield relay
    relay.close()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of the test's own (a server settles the unfinished runs of its name
    at start-up, and every server is named "flowdapt" by default, so tests that start servers do
    not share one); dropped afterwards."""
    name = asyncio.run(_create_database())
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_drop_database(name))
