"""Errors of the object layer, placed in the project's hierarchy (:mod:`flowdapt.domain.errors`).

FlowdaptError
└── ObjectLayerError
    ├── ArtifactNotFoundError      (also a FileNotFoundError, what plugins catch)
    ├── ArtifactExistsError        (also a FileExistsError)
    ├── InvalidArtifactNameError   (also a ValueError) not a single safe path segment
    ├── ArtifactMetadataError      (also a ValueError) `.artifact.json` is not a JSON object
    ├── ObjectNotFoundError        (a FileNotFoundError, a KeyError and a
    │                               domain.errors.ResourceNotFoundError) nothing under that key
    ├── ClusterMemoryUnavailableError  no cluster memory reachable from here
    └── ClusterMemoryValueTooLargeError (also a ValueError) over the configured size limit

try:
    value = object_store.get("model")
except FileNotFoundError:   # or KeyError, or flowdapt.lib.errors.ResourceNotFoundError
    value = train()
"""

from __future__ import annotations

from flowdapt.domain.errors import FlowdaptError, ResourceNotFoundError


class ObjectLayerError(FlowdaptError):
    """Root of the errors of artifacts, cluster memory and the object store."""


class ArtifactNotFoundError(ObjectLayerError, FileNotFoundError):
    """No artifact (or no file of an artifact) at the expected path."""


class ArtifactExistsError(ObjectLayerError, FileExistsError):
    """An artifact (or file) with that name exists already."""


class InvalidArtifactNameError(ObjectLayerError, ValueError):
    """An artifact name or namespace that would not be exactly one safe path segment."""


class ArtifactMetadataError(ObjectLayerError, ValueError):
    """An artifact's `.artifact.json` cannot be read as a JSON object."""


class ObjectNotFoundError(ObjectLayerError, ResourceNotFoundError, FileNotFoundError, KeyError):
    """The object store has no value under `key` in `namespace`.

    A FileNotFoundError (what the original raised under the artifact and fallback strategies),
    a KeyError (what it raised under cluster_memory) and a ResourceNotFoundError (what some
    plugins catch, though the original never raised it there), so every existing ``except``
    keeps working whichever strategy is used. ``status_code`` is 404, ``detail`` the message.
    """

    def __init__(self, key: str, namespace: str) -> None:
        self.key = key
        self.namespace = namespace
        # Sets status_code and detail; args is (message,) as for the exceptions it also is.
        ResourceNotFoundError.__init__(self, detail=f"no object '{key}' in namespace '{namespace}'")

    def __str__(self) -> str:
        # KeyError would quote the message; the message is meant to be read as it is.
        return str(self.args[0])

    def __reduce__(self) -> tuple[type[ObjectNotFoundError], tuple[str, str]]:
        # Picklable, so that it reaches the caller from a worker process as itself.
        return (type(self), (self.key, self.namespace))


class ClusterMemoryUnavailableError(ObjectLayerError):
    """Cluster memory cannot be reached from this process (the object store falls back)."""


class ClusterMemoryValueTooLargeError(ObjectLayerError, ValueError):
    """A value larger than ``services.compute.cluster_memory_max_size`` (the object store's
    fallback strategy puts it in an artifact instead)."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        self.key, self.size, self.limit = key, size, limit
        super().__init__(
            f"the value of '{key}' is {size} bytes serialised, more than the cluster memory "
            f"takes (services.compute.cluster_memory_max_size: {limit} bytes)"
        )

    def __reduce__(self) -> tuple[type[ClusterMemoryValueTooLargeError], tuple[str, int, int]]:
        return type(self), (self.key, self.size, self.limit)
