"""Executors: the adapters that run tasks for the engine (local threads/processes; Dask, Ray)."""

from flowdapt.executors.local import LocalExecutor

__all__ = ["LocalExecutor"]
