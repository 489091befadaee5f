"""Artifacts at the original's path; the real home is :mod:`flowdapt.objects`.

Patching ``flowdapt.compute.artifacts._get_values_from_context`` patches the real one.
"""

from flowdapt.compute._patching import forward_patches
from flowdapt.objects import artifacts as _home
from flowdapt.objects.artifact import Artifact
from flowdapt.objects.artifact_file import ArtifactFile

__all__ = ["Artifact", "ArtifactFile"]

# The original's module functions: importable here, outside its __all__.
_get_values_from_context = _home._get_values_from_context
check_if_artifact_exists = _home.check_if_artifact_exists
get_artifact = _home.get_artifact
list_artifacts = _home.list_artifacts
new_artifact = _home.new_artifact

forward_patches(__name__, _home)
