from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from flowdapt.objects.cluster_memory import get_cluster_memory_backend


@dataclass
class Storage:
    """Where a test's artifacts go; also set as FLOWDAPT__STORAGE__* for the time of the test."""

    protocol: str
    base_path: str
    fs: Any

    def path(self, *parts: str) -> str:
        return "/".join([self.base_path.rstrip("/"), "artifacts", *parts])

    def exists(self, *parts: str) -> bool:
        return bool(self.fs.exists(self.path(*parts)))

    def read(self, *parts: str) -> bytes:
        with self.fs.open(self.path(*parts), "rb") as handle:
            return bytes(handle.read())

    def write(self, data: bytes, *parts: str) -> None:
        with self.fs.open(self.path(*parts), "wb") as handle:
            handle.write(data)


def _clear_memory_filesystem() -> None:
    MemoryFileSystem.store.clear()
    MemoryFileSystem.pseudo_dirs.clear()
    MemoryFileSystem.pseudo_dirs.append("")


@pytest.fixture(params=["file", "memory"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Storage]:
    """The `file` (under tmp_path) and `memory` filesystems, configured through the environment."""
    _clear_memory_filesystem()
    protocol = request.param
    base_path = str(tmp_path / "store") if protocol == "file" else "testing_data"
    monkeypatch.setenv("FLOWDAPT__STORAGE__PROTOCOL", protocol)
    monkeypatch.setenv("FLOWDAPT__STORAGE__BASE_PATH", base_path)
    yield Storage(protocol, base_path, fsspec.filesystem(protocol))
    _clear_memory_filesystem()


@pytest.fixture(autouse=True)
def empty_cluster_memory() -> Iterator[None]:
    get_cluster_memory_backend("local").clear()
    yield
    get_cluster_memory_backend("local").clear()
