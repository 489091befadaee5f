"""The object store at the original's path; the real home is :mod:`flowdapt.objects.object_store`.

Patching ``put_in_cluster_memory`` & co. here patches the ones the object store calls.
"""

from flowdapt.compute._patching import forward_patches
from flowdapt.objects import artifacts as _artifacts
from flowdapt.objects import cluster_memory as _cluster_memory
from flowdapt.objects import object_store as _home
from flowdapt.objects.errors import ObjectNotFoundError
from flowdapt.objects.hooks import default_load_hook, default_save_hook
from flowdapt.objects.object_store import Strategy, delete, exists, get, put

__all__ = [
    "ObjectNotFoundError",
    "Strategy",
    "default_load_hook",
    "default_save_hook",
    "delete",
    "exists",
    "get",
    "put",
]

# What the store calls, importable (and patchable) here as in the original.
check_for_key_in_cluster_memory = _cluster_memory.check_for_key_in_cluster_memory
check_if_artifact_exists = _artifacts.check_if_artifact_exists
delete_from_cluster_memory = _cluster_memory.delete_from_cluster_memory
get_artifact = _artifacts.get_artifact
get_from_cluster_memory = _cluster_memory.get_from_cluster_memory
put_in_cluster_memory = _cluster_memory.put_in_cluster_memory

forward_patches(__name__, _home)
