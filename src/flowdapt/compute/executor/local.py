"""``LocalExecutor`` at the original's path; the real home is :mod:`flowdapt.executors.local`."""

from flowdapt.executors.local import LocalExecutor

__all__ = ["LocalExecutor"]
