"""``LocalExecutor`` at the original's path; the real home is :mod:`flowdapt.executors.local`
(its cluster memory: :mod:`flowdapt.objects.cluster_memory`)."""

from flowdapt.executors.local import LocalExecutor
from flowdapt.objects.cluster_memory import LocalClusterMemory

__all__ = ["LocalClusterMemory", "LocalExecutor"]
