"""``RayExecutor`` at the original's path; the real home is :mod:`flowdapt.executors.ray`."""

from flowdapt.executors.ray import RayExecutor

__all__ = ["RayExecutor"]
