"""Cluster memory at the original's path; the real home is
:mod:`flowdapt.objects.cluster_memory`."""

from flowdapt.objects.cluster_memory import (
    ClusterMemory,
    check_for_key_in_cluster_memory,
    delete_from_cluster_memory,
    get_cluster_memory,
    get_cluster_memory_backend,
    get_from_cluster_memory,
    put_in_cluster_memory,
)

__all__ = [
    "ClusterMemory",
    "check_for_key_in_cluster_memory",
    "delete_from_cluster_memory",
    "get_cluster_memory",
    "get_cluster_memory_backend",
    "get_from_cluster_memory",
    "put_in_cluster_memory",
]
