"""One file of an artifact.

file = artifact.new_file("notes.txt", "hello")
file.read()              # b"hello"
file.read(mode="r")      # "hello"
file.write(b"bye")       # truncates and overwrites
file.remove()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from fsspec.spec import AbstractFileSystem

from flowdapt.objects.errors import ArtifactExistsError, ArtifactNotFoundError

if TYPE_CHECKING:
    from flowdapt.objects.artifact import Artifact


def forget_listings(fs: AbstractFileSystem, path: str) -> None:
    """Drop what `fs` has cached about `path` and its parents, so the next call asks storage.

    Object-store filesystems (s3fs, gcsfs, adlfs) cache directory listings for the life of the
    instance, and fsspec shares one instance per set of parameters in a process. Without this
    an artifact written, changed or deleted by another process (a Dask or Ray worker, the
    server) or through another filesystem instance stays invisible, or stays visible after its
    deletion: ``exists``, ``isdir`` and ``ls`` answer from the stale listing. The call is a
    no-op for the local and memory filesystems, which cache nothing.

        forget_listings(artifact.fs, artifact.path)
        artifact.fs.exists(f"{artifact.path}/object")    # asks storage, not the cache
    """
    fs.invalidate_cache(path)


class ArtifactFile:
    """A file that exists inside an artifact's directory (FileNotFoundError otherwise)."""

    def __init__(self, filename: str, artifact: Artifact, *, _checked: bool = False) -> None:
        self._name = filename
        self._artifact = artifact
        if _checked:  # the caller has just written or seen it: on S3 each check is a request
            return
        forget_listings(artifact.fs, self.path)
        if not artifact.fs.exists(self.path):
            raise ArtifactNotFoundError(f"No file existing with the path `{self.path}`")

    @classmethod
    def new(cls, artifact: Artifact, filename: str, content: Any = None) -> ArtifactFile:
        """Create `filename` with `content` (None: empty; str: text; else bytes-like)."""
        path = f"{artifact.path}/{filename}"
        forget_listings(artifact.fs, path)
        if artifact.fs.exists(path):
            raise ArtifactExistsError(f"File `{filename}` already exists in artifact `{artifact}`")
        return cls._create(artifact, filename, content)

    @classmethod
    def _create(cls, artifact: Artifact, filename: str, content: Any = None) -> ArtifactFile:
        """:meth:`new` for a caller that has just seen that the file does not exist."""
        _write(artifact, f"{artifact.path}/{filename}", b"" if content is None else content)
        return cls(filename, artifact, _checked=True)

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str:
        return f"{self._artifact.path}/{self._name}"

    @property
    def artifact(self) -> Artifact:
        return self._artifact

    def __repr__(self) -> str:
        return f"ArtifactFile<{self.path}>"

    @contextmanager
    def open(self, mode: str = "r") -> Iterator[IO[Any]]:
        """The fsspec file object, in any fsspec mode (``r``, ``rb``, ``w``, ``wb``, ``a`` …)."""
        fs = self._artifact.fs
        # Before: a cached listing may hold another writer's older size, which bounds reads.
        # After: what was written here is what the next listing must show.
        forget_listings(fs, self.path)
        try:
            with fs.open(self.path, mode) as handle:
                yield handle
        finally:
            forget_listings(fs, self.path)

    def read(self, size: int = -1, mode: str = "rb") -> Any:
        """The content: bytes by default, str with ``mode="r"``; at most `size` when given."""
        with self.open(mode) as handle:
            return handle.read(size)

    def write(self, data: Any) -> None:
        """Replace the content: str in text mode, anything else in binary mode."""
        _write(self._artifact, self.path, data)

    def remove(self) -> None:
        """Delete the file."""
        self._artifact.fs.rm(self.path)
        forget_listings(self._artifact.fs, self.path)


def _write(artifact: Artifact, path: str, data: Any) -> None:
    if not isinstance(data, str | bytes | bytearray | memoryview):
        raise TypeError(f"cannot write {type(data).__name__} to an artifact file: str or bytes")
    try:
        with artifact.fs.open(path, "w" if isinstance(data, str) else "wb") as handle:
            handle.write(data)
    finally:
        forget_listings(artifact.fs, path)  # the next listing must show this write
