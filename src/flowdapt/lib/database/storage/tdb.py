"""Thin re-export: the original's ``database.target`` path for the TinyDB store.

Configurations written for the original name ``flowdapt.lib.database.storage.tdb.TinyDBStorage``;
the implementation lives in `flowdapt.storage.tinydb`.
"""

from flowdapt.storage.tinydb import TinyDBStorage

__all__ = ["TinyDBStorage"]
