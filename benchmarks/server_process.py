"""A real `flowdapt run` process for the benchmarks: on its own app dir and port, the repository
importable (stage modules such as ``benchmarks.workloads``), its output kept in ``server.log``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
FLOWDAPT = str(Path(sys.executable).with_name("flowdapt"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`flowdapt run` with ``logging.level=warning`` and extra ``-o`` settings."""

    def __init__(self, app_dir: Path, port: int | None = None, options: tuple[str, ...] = ()):
        self.app_dir, self.options = app_dir, options
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> float:
        """Start the server; the seconds until ``GET /`` answers."""
        began = time.perf_counter()
        args = [FLOWDAPT, "--app-dir", str(self.app_dir), "-o", f"rpc.api.port={self.port}"]
        for option in ("logging.level=warning", *self.options):
            args += ["-o", option]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.app_dir.mkdir(parents=True, exist_ok=True)
        with (self.app_dir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*args, "run"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited during start-up:\n{self.log()}")
            try:
                if httpx.get(self.url + "/", timeout=0.5).status_code == 200:
                    return time.perf_counter() - began
            except httpx.HTTPError:
                time.sleep(0.005)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log()}")

    def rss(self) -> float:
        assert self.process is not None
        return float(psutil.Process(self.process.pid).memory_info().rss)

    def log(self) -> str:
        path = self.app_dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
