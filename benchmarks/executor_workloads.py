"""Stage functions of benchmarks/executors.py, importable by Dask and Ray workers (the script puts
this directory on their PYTHONPATH)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from flowdapt.objects import check_if_artifact_exists, get_cluster_memory, object_store
from workloads import add_one, burn

BIG_KEY = "big"


def run_chunk(chunk: list[int]) -> list[int]:
    """The hand-written batched version: one task per chunk of items."""
    return [add_one(x) for x in chunk]


def burn_chunk(chunk: list[int]) -> list[int]:
    """The hand-written batched version of the CPU items."""
    return [burn(n) for n in chunk]


def make_array(nbytes: int) -> np.ndarray:
    return np.arange(nbytes // 8, dtype=np.float64)


def checksum(array: np.ndarray) -> float:
    """The stage after make_array: reads every element of the value it was handed."""
    return float(array.sum())


def put_big(nbytes: int) -> dict[str, float]:
    """Stage 1: make the array (not timed), put it in the object store (timed)."""
    array = make_array(nbytes)
    began = time.perf_counter()
    object_store.put(BIG_KEY, array)
    return {"put_s": time.perf_counter() - began}


def held_in(key: str) -> list[str]:
    """Where the object store keeps `key` now: cluster memory, an artifact, or both."""
    places = []
    try:
        if get_cluster_memory().exists(key):
            places.append("cluster memory")
    except Exception:  # no cluster memory on this executor (yet)
        pass
    if check_if_artifact_exists(key):
        places.append("artifact")
    return places


def get_big(put: dict[str, float]) -> dict[str, Any]:
    """Stage 2: get the array (timed); return its shape, a checksum and where it was held."""
    began = time.perf_counter()
    value = object_store.get(BIG_KEY)
    get_s = time.perf_counter() - began
    result = {
        **put,
        "get_s": get_s,
        "shape": list(value.shape),
        "checksum": float(value.sum()),
        "held_in": held_in(BIG_KEY),
    }
    object_store.delete(BIG_KEY)  # not timed; the next round starts empty
    return result
