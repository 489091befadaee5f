"""numpy arrays as artifacts: the rows cut with ``numpy.array_split``, one ``.npy`` file each.

    save = array_to_artifact(num_parts=3)       # arange(10): partitions of 4, 3 and 3 values
    save(artifact, numpy.arange(10))
    array_from_artifact()(artifact)             # array([0, 1, …, 9])

Importing this module imports numpy; nothing the server loads at start-up imports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flowdapt.objects.artifact import Artifact
from flowdapt.objects.dataset_handlers import (
    ANY_EXECUTOR,
    dataset_from_artifact,
    dataset_to_artifact,
    register_handler,
)
from flowdapt.objects.hooks import LoadHook, SaveHook
from flowdapt.objects.partitions import describe, partition_files, partition_name

__all__ = ["ARRAY_TYPE", "array_from_artifact", "array_to_artifact", "load_array", "save_array"]

ARRAY_TYPE = "numpy.ndarray"
WRITABLE = ("npy",)
READABLE = ("npy", "npz", "pickle")


def save_array(artifact: Artifact, value: Any, format: str = "npy", num_parts: int = 1) -> None:
    """The ``"*"`` handler: `value` as `num_parts` files ``partition-{i}.npy``."""
    assert isinstance(value, np.ndarray), (
        f"cannot save {type(value).__name__} to {describe(artifact)} as a numpy array"
    )
    if format not in WRITABLE:
        raise KeyError(f"cannot write an array as {format!r} in {describe(artifact)}: use 'npy'")
    for index, part in enumerate(np.array_split(value, num_parts)):
        with artifact.new_file(partition_name(index, format)).open("wb") as handle:
            np.save(handle, part)


def _read(handle: Any) -> list[np.ndarray[Any, Any]]:
    # allow_pickle: object arrays are saved pickled. The files are our own, not untrusted input.
    loaded = np.load(handle, allow_pickle=True)
    if isinstance(loaded, np.lib.npyio.NpzFile):  # several arrays in one file, in their order
        with loaded:
            return [loaded[key] for key in loaded.files]
    return [np.asarray(loaded)]


def load_array(artifact: Artifact, format: str = "npy") -> np.ndarray[Any, Any]:
    """The ``"*"`` handler: the partitions concatenated along axis 0, in order."""
    value_type = artifact["value_type"]
    assert value_type == ARRAY_TYPE, f"{describe(artifact)} holds {value_type!r}, not an array"
    if format not in READABLE:
        raise KeyError(
            f"cannot read an array as {format!r} in {describe(artifact)}: use one of {READABLE}"
        )
    parts: list[np.ndarray[Any, Any]] = []
    for file in partition_files(artifact, format):
        with file.open("rb") as handle:
            parts.extend(_read(handle))
    return np.concatenate(parts, axis=0)


def array_to_artifact(format: str = "npy", *, executor: str = "", **kwargs: Any) -> SaveHook:
    """A save hook for numpy arrays (``num_parts=n`` splits the rows).

    object_store.put("weights", weights, save_artifact_hook=array_to_artifact())
    """
    return dataset_to_artifact(format, executor=executor, **kwargs)


def array_from_artifact(format: str = "npy", *, executor: str = "", **kwargs: Any) -> LoadHook:
    """A load hook for numpy arrays (``npy``, ``npz`` or ``pickle`` files).

    weights = object_store.get("weights", load_artifact_hook=array_from_artifact())
    """
    return dataset_from_artifact(format, executor=executor, **kwargs)


register_handler(ANY_EXECUTOR, ARRAY_TYPE, "to_artifact", save_array)
register_handler(ANY_EXECUTOR, ARRAY_TYPE, "from_artifact", load_array)
