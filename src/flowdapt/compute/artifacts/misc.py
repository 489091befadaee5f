"""The JSON and pickle artifact hooks at the original's path; the real home is
:mod:`flowdapt.objects.hooks`."""

from flowdapt.objects.hooks import (
    json_from_artifact,
    json_to_artifact,
    pickle_from_artifact,
    pickle_to_artifact,
)

__all__ = ["json_from_artifact", "json_to_artifact", "pickle_from_artifact", "pickle_to_artifact"]
