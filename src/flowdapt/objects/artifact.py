"""Artifacts: a named directory of files plus JSON metadata on any fsspec filesystem.

Layout (the original's, exactly)::

    {base_path}/artifacts/{namespace}/{name}/{file name}
    {base_path}/artifacts/{namespace}/{name}/.artifact.json      <- metadata

    artifact = Artifact.new_artifact("model", "weather", protocol="memory", base_path="test")
    artifact["value_type"] = "json"          # set_meta; artifact["missing"] is None
    artifact.new_file("file.json", "{}")
    [f.name for f in artifact]               # ["file.json"]
    artifact.delete()

On object stores (S3 and the like) a directory is only a key prefix: an artifact exists there
because its `.artifact.json` does, which every new artifact writes at once, so exists, list,
delete, clear and is_empty behave as on a local disk. Listings are asked of storage each time
rather than taken from the filesystem's cache (see :func:`forget_listings`), so writes made by
other processes are seen. A storage that cannot be used (endpoint unreachable, bucket missing,
credentials refused) is a :class:`StorageError` naming the protocol and base path, never a
"not found".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

import fsspec
from fsspec.spec import AbstractFileSystem

from flowdapt.objects.artifact_file import ArtifactFile, forget_listings
from flowdapt.objects.errors import (
    ArtifactExistsError,
    ArtifactMetadataError,
    ArtifactNotFoundError,
    InvalidArtifactNameError,
    ObjectLayerError,
)

META_FILE = ".artifact.json"
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def validate_name(name: str) -> None:
    """An artifact name is one path segment of letters, digits, ``_`` and ``-``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArtifactNameError(
            f"invalid artifact name {name!r}: use only letters, digits, '_' and '-'"
        )


def validate_namespace(namespace: str) -> None:
    """A namespace must be one path segment, so nothing is written outside the base path."""
    if namespace in (".", "..") or any(char in namespace for char in "/\\\0"):
        raise InvalidArtifactNameError(
            f"invalid artifact namespace {namespace!r}: it must be a single path segment"
        )


def artifact_path(base_path: str, namespace: str, name: str = "") -> str:
    """``{base_path}/artifacts/{namespace}[/{name}]`` as plain string formatting."""
    root = f"{base_path.rstrip('/')}/artifacts/{namespace}"
    return f"{root}/{name}" if name else root


class StorageError(ObjectLayerError, OSError):
    """The configured storage cannot be used; the message names its protocol and base path.

    Raised when the endpoint does not answer, the bucket does not exist, the credentials are
    refused or the filesystem cannot be made; the filesystem's own error is the ``__cause__``.
    It is no FileNotFoundError on purpose: a misconfigured storage must not pass for a missing
    artifact (``object_store.get`` would answer "no object" and ``exists`` False).

        try:
            Artifact.get_artifact("model", protocol="s3", base_path="no-such-bucket/x")
        except StorageError as exc:
            print(exc)   # storage (protocol 's3', base path 'no-such-bucket/x') … bucket …
    """


# What an operation may raise about artifacts themselves; everything else the filesystem raises
# during a first contact says that the storage itself is unusable.
_ABOUT_ARTIFACTS = (ObjectLayerError, FileNotFoundError, FileExistsError)
_TIMEOUT_HINT = (
    "check storage.parameters (for S3: endpoint_url, key, secret); to fail fast instead of "
    "waiting on an unreachable endpoint set, for S3, config_kwargs "
    '{"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}}'
)


def _where(protocol: str, base_path: str) -> str:
    return f"storage (protocol {protocol or 'file'!r}, base path {base_path!r})"


@contextmanager
def _storage_errors(protocol: str, base_path: str) -> Iterator[None]:
    """Re-raise what says the storage is unusable as StorageError naming it."""
    try:
        yield
    except _ABOUT_ARTIFACTS:
        raise
    except Exception as exc:  # botocore, aiohttp, gcsfs … errors share no base class
        raise StorageError(
            f"{_where(protocol, base_path)} cannot be used: {type(exc).__name__}: {exc}; "
            + _TIMEOUT_HINT
        ) from exc


def _has_buckets(fs: AbstractFileSystem) -> bool:
    # s3fs, gcsfs and adlfs split paths into bucket (container) and key: object stores whose
    # directories are key prefixes only, and whose makedirs would create a missing bucket.
    return callable(getattr(fs, "split_path", None))


def _check_bucket(fs: AbstractFileSystem, path: str, protocol: str, base_path: str) -> None:
    """StorageError when `path` lies in a bucket that does not exist (object stores only).

    Asked only after storage answered "not found", so it costs nothing on the usual paths.
    """
    if not _has_buckets(fs):
        return
    bucket = str(fs.split_path(path)[0])
    forget_listings(fs, bucket)
    if bucket and not fs.exists(bucket):
        raise StorageError(
            f"{_where(protocol, base_path)} cannot be used: the bucket {bucket!r} does not "
            "exist or cannot be accessed (storage.base_path must begin with an existing bucket)"
        )


def _filesystem(protocol: str, params: dict[str, Any]) -> AbstractFileSystem:
    return fsspec.filesystem(protocol or "file", **params)


def _protocol_name(fs: AbstractFileSystem) -> str:
    protocol = fs.protocol
    return str(protocol if isinstance(protocol, str) else protocol[0])


def _json_default(value: Any) -> Any:
    """What the original's serializer (orjson, naive datetimes as UTC, numpy allowed) wrote for
    values the stdlib's JSON does not take."""
    if isinstance(value, datetime):  # naive is taken as UTC; aware keeps its offset
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if type(value).__module__ == "numpy":  # scalars and arrays; numpy itself is not imported
        return _numpy_value(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _numpy_value(value: Any) -> Any:
    if getattr(value, "dtype", None) is not None and value.dtype.kind == "M":
        # datetime64 in any unit: as datetimes (tolist would give integers for ns).
        value = value.astype("datetime64[us]")
    return value.tolist()


class Artifact:
    """An existing artifact directory (FileNotFoundError if there is none).

    Opening one writes ``{}`` as its metadata when `.artifact.json` is missing (as the original).
    The constructor and class methods take storage explicitly (an empty `base_path` is the
    filesystem's root, as in the original); the module functions of
    :mod:`flowdapt.objects.artifacts` fill it in from the settings.
    """

    def __init__(
        self,
        name: str,
        namespace: str = "",
        protocol: str = "file",
        base_path: str = "",
        params: dict[str, Any] | None = None,
        *,
        _fs: AbstractFileSystem | None = None,
    ) -> None:
        validate_name(name)
        namespace = namespace or "default"
        validate_namespace(namespace)
        params = params or {}
        if _fs is not None and protocol and params:
            raise ValueError("pass either a filesystem or a protocol with parameters, not both")
        self._name = name
        self._namespace = namespace
        self._path = artifact_path(base_path, namespace, name)
        with _storage_errors(protocol, base_path):
            self._fs = _fs if _fs is not None else _filesystem(protocol, params)
            if not self.exists:
                _check_bucket(self._fs, self._path, _protocol_name(self._fs), base_path)
                raise ArtifactNotFoundError(
                    f"No Artifact existing in namespace `{namespace}` with the path `{self._path}`"
                )
            self._metadata: dict[str, Any] = self._read_meta()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def new_artifact(
        cls,
        name: str,
        namespace: str = "default",
        protocol: str = "file",
        base_path: str = "",
        **params: Any,
    ) -> Artifact:
        """Create the artifact (FileExistsError if it exists); the name is checked first."""
        assert name, "an artifact needs a name"
        validate_name(name)
        namespace = namespace or "default"
        validate_namespace(namespace)
        path = artifact_path(base_path, namespace, name)
        with _storage_errors(protocol, base_path):
            fs = _filesystem(protocol, params)
            forget_listings(fs, path)
            if fs.exists(path):
                raise ArtifactExistsError(
                    f"Artifact `{name}` already exists in namespace `{namespace}`"
                )
            try:
                if not _has_buckets(fs):  # object stores have no directories to make
                    fs.makedirs(path, exist_ok=True)
                # Written at once everywhere: on an object store this key is what makes the
                # artifact exist, and `{}` (not an empty file) is what opening it writes anyway.
                _write_text(fs, f"{path}/{META_FILE}", "{}")
            except FileNotFoundError:
                _check_bucket(fs, path, protocol, base_path)
                raise
        return cls(name, namespace, protocol, base_path, _fs=fs)

    @classmethod
    def get_artifact(
        cls,
        name: str,
        namespace: str = "",
        protocol: str = "file",
        base_path: str = "",
        **params: Any,
    ) -> Artifact:
        """The existing artifact; FileNotFoundError when there is none."""
        return cls(name, namespace, protocol, base_path, params)

    @classmethod
    def list_artifacts(
        cls, namespace: str, protocol: str = "file", base_path: str = "", **params: Any
    ) -> list[Artifact]:
        """The namespace's artifacts sorted by name; entries that are no valid name are skipped."""
        namespace = namespace or "default"
        validate_namespace(namespace)
        root = artifact_path(base_path, namespace)
        with _storage_errors(protocol, base_path):
            fs = _filesystem(protocol, params)
            forget_listings(fs, root)
            if not fs.isdir(root):
                _check_bucket(fs, root, protocol, base_path)
                return []
            entries = fs.ls(root, detail=False)
            names = sorted(str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries)
            # isdir answers from the listing just made; each artifact then checks itself.
            return [
                cls(name, namespace, protocol, base_path, _fs=fs)
                for name in names
                if _NAME.match(name) and fs.isdir(f"{root}/{name}")
            ]

    @classmethod
    def does_exist(
        cls,
        name: str,
        namespace: str = "",
        protocol: str = "file",
        base_path: str = "",
        **params: Any,
    ) -> bool:
        """Whether the artifact's directory exists."""
        validate_name(name)
        namespace = namespace or "default"
        validate_namespace(namespace)
        path = artifact_path(base_path, namespace, name)
        with _storage_errors(protocol, base_path):
            fs = _filesystem(protocol, params)
            forget_listings(fs, path)
            if fs.isdir(path):
                return True
            _check_bucket(fs, path, protocol, base_path)
            return False

    # -- identity ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def path(self) -> str:
        return self._path

    @property
    def fs(self) -> AbstractFileSystem:
        return self._fs

    @property
    def uri(self) -> str:
        """``{protocol}://{path}`` with the filesystem's first protocol name (``file:///…``)."""
        return f"{_protocol_name(self._fs)}://{self._path}"

    @property
    def exists(self) -> bool:
        """Whether the artifact's directory (on an object store: any key under it) exists now."""
        forget_listings(self._fs, self._path)  # another process may have deleted it
        return bool(self._fs.isdir(self._path))

    @property
    def is_empty(self) -> bool:
        """True when the artifact is gone or holds no file besides its metadata."""
        return not self.exists or not self.list_files()

    @property
    def metadata(self) -> dict[str, Any]:
        """The cached metadata (not re-read; use :meth:`get_meta` for a fresh value)."""
        return self._metadata

    def __repr__(self) -> str:
        return f"Artifact<{self.uri}>"

    def __str__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return not self.is_empty

    def __contains__(self, filename: object) -> bool:
        return isinstance(filename, str) and self.has_file(filename)

    def __iter__(self) -> Iterator[ArtifactFile]:
        return iter(self.list_files())

    # -- metadata ----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self.get_meta(key)  # a missing key is None, not KeyError (the hooks rely on it)

    def __setitem__(self, key: str, value: Any) -> None:
        self.set_meta(key, value)

    def __delitem__(self, key: str) -> None:
        self.del_meta(key)

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value of `key` as stored now (re-read on every call), or `default`."""
        self._check_exists()
        self._metadata = self._read_meta()
        return self._metadata.get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        """Store `key`: re-read, merge, write, so keys other writers stored are kept."""
        self._check_exists()
        merged = {**self._read_meta(), key: value}
        self._write_meta(merged)  # raises TypeError before anything changes if not JSON
        self._metadata = merged

    def del_meta(self, key: str) -> None:
        """Remove `key` (KeyError if absent)."""
        self._check_exists()
        current = self._read_meta()
        if key not in current:
            raise KeyError(key)
        del current[key]
        self._write_meta(current)
        self._metadata = current

    def _read_meta(self) -> dict[str, Any]:
        path = f"{self._path}/{META_FILE}"
        forget_listings(self._fs, path)  # another writer may have changed it
        try:  # no exists() first: on object stores that is one more request per read
            with self._fs.open(path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            self._write_meta({})
            return {}
        try:
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArtifactMetadataError(
                f"the metadata of artifact `{self._name}` in namespace `{self._namespace}` "
                f"({path}) is not valid JSON: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise ArtifactMetadataError(
                f"the metadata of artifact `{self._name}` in namespace `{self._namespace}` "
                f"({path}) is not a JSON object"
            )
        return data

    def _write_meta(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, separators=(",", ":"), default=_json_default)
        _write_text(self._fs, f"{self._path}/{META_FILE}", text)

    # -- files -------------------------------------------------------------------------------

    def _check_exists(self) -> None:
        if not self.exists:
            raise ArtifactNotFoundError(f"No Artifact existing with the path `{self._path}`")

    def list_files(self, include_meta: bool = False) -> list[ArtifactFile]:
        """The artifact's files sorted by name, the metadata file only with `include_meta`."""
        self._check_exists()  # which also dropped the cached listing: ls asks storage
        names = sorted(
            str(entry).rstrip("/").rsplit("/", 1)[-1]
            for entry in self._fs.ls(self._path, detail=False)
        )
        # isfile answers from the listing just made: object stores list "subdirectories" too.
        return [
            ArtifactFile(name, self)
            for name in names
            if (include_meta or name != META_FILE) and self._fs.isfile(f"{self._path}/{name}")
        ]

    def get_file(self, filename: str, create: bool = False) -> ArtifactFile:
        """The file (FileNotFoundError if missing, unless `create` makes it empty)."""
        self._check_exists()
        if create and not self.has_file(filename):
            return ArtifactFile._create(self, filename)
        return ArtifactFile(filename, self)

    def new_file(
        self, filename: str, content: Any = None, *, exist_ok: bool = True
    ) -> ArtifactFile:
        """Create `filename` with `content`; an existing file is returned as it is with
        `exist_ok` (its content untouched), else FileExistsError."""
        self._check_exists()
        if self.has_file(filename):
            if not exist_ok:
                raise ArtifactExistsError(f"File `{filename}` already exists in artifact `{self}`")
            return ArtifactFile(filename, self, _checked=True)
        return ArtifactFile._create(self, filename, content)

    def delete_file(self, filename: str) -> None:
        """Remove `filename` (FileNotFoundError if missing)."""
        self.get_file(filename).remove()

    def has_file(self, filename: str) -> bool:
        path = f"{self._path}/{filename}"
        forget_listings(self._fs, path)
        return bool(self._fs.exists(path))

    def delete(self) -> None:
        """Remove the artifact with everything in it."""
        self._check_exists()
        self._fs.rm(self._path, recursive=True)
        forget_listings(self._fs, self._path)

    def clear(self) -> None:
        """Remove every file and reset the metadata to ``{}`` (on storage too)."""
        for file in self.list_files():
            file.remove()
        self._write_meta({})
        self._metadata = {}

    @contextmanager
    def transaction(self) -> Iterator[Artifact]:
        """Defer file writes until the block exits; discard them if it raises (fsspec's
        transaction: reads inside the block still see the old contents)."""
        try:
            with self._fs.transaction:
                yield self
        finally:
            # The commit writes the files only now, after each write forgot its listings:
            # what was listed inside the block must not outlive it.
            forget_listings(self._fs, self._path)


def _write_text(fs: AbstractFileSystem, path: str, text: str) -> None:
    try:
        with fs.open(path, "w") as handle:
            handle.write(text)
    finally:
        forget_listings(fs, path)  # the next listing must show this write
