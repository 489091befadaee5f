"""A real S3-compatible server for the tests: moto in server mode, on a free 127.0.0.1 port.

    with running_s3_server() as server:
        fs = s3fs.S3FileSystem(**server.parameters(), skip_instance_cache=True)
        fs.mkdir(server.bucket)

The server is a subprocess that is always terminated when the block exits (killed if it does
not stop). Everything talking to it uses fake credentials and the environment of
:data:`AWS_ISOLATION`, so neither the server nor botocore reads ``~/.aws`` or goes anywhere
but 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

# botocore reads its configuration from these files and variables: point them at nothing, so a
# developer's ~/.aws (profiles, regions, credentials, endpoints) cannot leak into the tests.
AWS_ISOLATION = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookups on 169.254.169.254
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
# Unset for the same reason: a proxy or a profile would send requests elsewhere.
AWS_UNSET = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
_START_TIMEOUT = 20.0  # seconds; moto imports a lot on a loaded 2-core machine


@dataclass(frozen=True)
class S3Server:
    """A running moto server and the bucket the tests use."""

    endpoint_url: str
    bucket: str

    def parameters(self) -> dict[str, Any]:
        """The s3fs parameters that reach this server (``storage.parameters``)."""
        return {"endpoint_url": self.endpoint_url, "key": "testing", "secret": "testing"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def isolated_environment() -> dict[str, str]:
    """This process's environment with AWS configuration and proxies neutralised."""
    env = {key: value for key, value in os.environ.items() if key not in AWS_UNSET}
    return {**env, **AWS_ISOLATION}


@contextmanager
def aws_isolation() -> Iterator[pytest.MonkeyPatch]:
    """:func:`isolated_environment` for this process while the block runs (then restored)."""
    with pytest.MonkeyPatch.context() as patch:
        for key in AWS_UNSET:
            patch.delenv(key, raising=False)
        for key, value in AWS_ISOLATION.items():
            patch.setenv(key, value)
        yield patch


def _moto_command(port: int) -> list[str]:
    executable = Path(sys.executable).with_name("moto_server")
    if executable.exists():
        return [str(executable), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def _answers(endpoint_url: str) -> bool:
    # An opener without proxies: the probe must reach 127.0.0.1 whatever the environment says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{endpoint_url}/moto-api/data.json", timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _start(port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The server on `port`, answering; RuntimeError (server stopped) if it does not.

    Its output goes to the file `log`, not to a pipe: moto logs every request, and a pipe
    nobody reads would fill up and block the server in the middle of a test.
    """
    endpoint_url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        _moto_command(port), env=isolated_environment(), stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:  # e.g. the port was taken between probe and bind
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"moto_server exited with {process.returncode}: {output[-500:]}")
        if _answers(endpoint_url):
            return process
        time.sleep(0.1)
    _stop(process)
    raise RuntimeError(f"moto_server did not answer on {endpoint_url} in {_START_TIMEOUT} s")


@contextmanager
def running_s3_server(bucket: str = "flowdapt-test", attempts: int = 3) -> Iterator[S3Server]:
    """Start moto_server, create `bucket`, yield the server; always stop it afterwards."""
    import s3fs  # here, so that importing the helper costs nothing when S3 is not used

    with tempfile.TemporaryFile() as log:
        process: subprocess.Popen[bytes] | None = None
        failures: list[str] = []
        for _ in range(attempts):  # another process may take the free port before moto binds
            port = free_port()
            log.seek(0)
            log.truncate()
            try:
                process = _start(port, log)
                break
            except RuntimeError as exc:
                failures.append(str(exc))
        if process is None:
            raise RuntimeError("could not start moto_server: " + " | ".join(failures))
        try:
            server = S3Server(f"http://127.0.0.1:{port}", bucket)
            with aws_isolation():
                fs = s3fs.S3FileSystem(**server.parameters(), skip_instance_cache=True)
                fs.mkdir(bucket)
            yield server
        finally:
            _stop(process)
