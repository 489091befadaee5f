"""The object layer stage code uses: artifacts on fsspec, cluster memory, the object store.

    from flowdapt.objects import get_artifact, object_store

    artifact = get_artifact("report", create=True)
    artifact.new_file("report.txt", "all good")
    object_store.put("model", model)

The original's import paths (``flowdapt.compute.artifacts``, ``.object_store``,
``.cluster_memory``) re-export these names.
"""

from flowdapt.objects import object_store
from flowdapt.objects.artifact import Artifact
from flowdapt.objects.artifact_file import ArtifactFile
from flowdapt.objects.artifacts import (
    check_if_artifact_exists,
    get_artifact,
    list_artifacts,
    new_artifact,
)
from flowdapt.objects.cluster_memory import (
    ClusterMemory,
    LocalClusterMemory,
    get_cluster_memory,
    get_cluster_memory_backend,
)
from flowdapt.objects.config import StorageSettings, StorageSettingsError
from flowdapt.objects.errors import (
    ArtifactExistsError,
    ArtifactMetadataError,
    ArtifactNotFoundError,
    ClusterMemoryUnavailableError,
    InvalidArtifactNameError,
    ObjectLayerError,
    ObjectNotFoundError,
)
from flowdapt.objects.object_store import Strategy

__all__ = [
    "Artifact",
    "ArtifactExistsError",
    "ArtifactFile",
    "ArtifactMetadataError",
    "ArtifactNotFoundError",
    "ClusterMemory",
    "ClusterMemoryUnavailableError",
    "InvalidArtifactNameError",
    "LocalClusterMemory",
    "ObjectLayerError",
    "ObjectNotFoundError",
    "StorageSettings",
    "StorageSettingsError",
    "Strategy",
    "check_if_artifact_exists",
    "get_artifact",
    "get_cluster_memory",
    "get_cluster_memory_backend",
    "list_artifacts",
    "new_artifact",
    "object_store",
]
