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

from flowdapt.objects.errors import ArtifactExistsError, ArtifactNotFoundError

if TYPE_CHECKING:
    from flowdapt.objects.artifact import Artifact


class ArtifactFile:
    """A file that exists inside an artifact's directory (FileNotFoundError otherwise)."""

    def __init__(self, filename: str, artifact: Artifact) -> None:
        self._name = filename
        self._artifact = artifact
        if not artifact.fs.exists(self.path):
            raise ArtifactNotFoundError(f"No file existing with the path `{self.path}`")

    @classmethod
    def new(cls, artifact: Artifact, filename: str, content: Any = None) -> ArtifactFile:
        """Create `filename` with `content` (None: empty; str: text; else bytes-like)."""
        path = f"{artifact.path}/{filename}"
        if artifact.fs.exists(path):
            raise ArtifactExistsError(f"File `{filename}` already exists in artifact `{artifact}`")
        _write(artifact, path, b"" if content is None else content)
        return cls(filename, artifact)

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
        with self._artifact.fs.open(self.path, mode) as handle:
            yield handle

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


def _write(artifact: Artifact, path: str, data: Any) -> None:
    if isinstance(data, str):
        with artifact.fs.open(path, "w") as handle:
            handle.write(data)
        return
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"cannot write {type(data).__name__} to an artifact file: str or bytes")
    with artifact.fs.open(path, "wb") as handle:
        handle.write(data)
