"""``DaskExecutor`` at the original's path; the real home is :mod:`flowdapt.executors.dask`."""

from flowdapt.executors.dask import DaskExecutor

__all__ = ["DaskExecutor"]
