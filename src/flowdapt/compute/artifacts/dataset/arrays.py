"""The array hooks at the original's path; the real home is :mod:`flowdapt.objects.arrays`."""

from flowdapt.objects.arrays import array_from_artifact, array_to_artifact

__all__ = ["array_from_artifact", "array_to_artifact"]
