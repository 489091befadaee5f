"""Dask collections as artifacts (the ``"dask"`` executor's handlers): every partition or
block is written by a Dask task in the files the pandas and numpy handlers use.

A dask DataFrame or Series becomes ``partition-{i}.parquet`` (or ``.csv``), one per partition
(``num_parts=n`` repartitions first); a dask Array becomes ``partition-{i}.npy``, one per block
of rows. Loading gives lazy collections again.

    save = dataframe_to_artifact(executor="dask")    # or in a stage run on the dask executor
    save(artifact, dask_frame)
    dataframe_from_artifact(executor="dask")(artifact).compute()

The registry imports this module the first time it is asked for a ``"dask"`` handler.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.array
import dask.dataframe
import numpy as np
import pandas as pd
from fsspec.spec import AbstractFileSystem
from numpy.lib import format as npy_format

from flowdapt.objects.artifact import Artifact
from flowdapt.objects.dataframes import READERS, WRITERS
from flowdapt.objects.dataset_handlers import register_handler, register_type_alias
from flowdapt.objects.partitions import describe, partition_files, partition_name

__all__ = ["DASK_ARRAY_TYPE", "DASK_DATAFRAME_TYPE", "DASK_SERIES_TYPE"]

# The classic public names; this dask version's classes are accepted as other spellings.
DASK_DATAFRAME_TYPE = "dask.dataframe.core.DataFrame"
DASK_SERIES_TYPE = "dask.dataframe.core.Series"
DASK_ARRAY_TYPE = "dask.array.core.Array"
SERIES_COLUMN = "series"  # a Series is stored as a frame with this one column

# dask is only partly annotated (untyped calls, names not re-exported): it is used through Any.
_dask: Any = dask
da: Any = dask.array
dd: Any = dask.dataframe


def _check(artifact: Artifact, table: dict[str, Any], format: str, action: str) -> None:
    if format not in table:
        raise KeyError(
            f"cannot {action} a dask collection as {format!r} in {describe(artifact)}: "
            f"use one of {sorted(table)}"
        )


def _assert_type(artifact: Artifact, expected: str) -> None:
    value_type = artifact["value_type"]
    assert value_type == expected, f"{describe(artifact)} holds {value_type!r}, not {expected}"


def _path(artifact: Artifact, index: int, format: str) -> str:
    return f"{artifact.path}/{partition_name(index, format)}"


# -- DataFrame and Series ----------------------------------------------------------------------


# The tasks open their file directly: a check that it exists afterwards could read a listing
# another task's write just made stale (object stores), and costs a round trip per partition.


def _write_partition(fs: AbstractFileSystem, path: str, part: pd.DataFrame, format: str) -> None:
    mode, write = WRITERS[format]
    with fs.open(path, mode) as handle:
        write(part, handle)


def _read_partition(fs: AbstractFileSystem, path: str, format: str) -> pd.DataFrame:
    mode, read = READERS[format]
    with fs.open(path, mode) as handle:
        return read(handle)


def save_dask_dataframe(
    artifact: Artifact, value: Any, format: str = "parquet", num_parts: int | None = None
) -> None:
    """Write each partition in a task, as the pandas handler writes a partition."""
    assert isinstance(value, dd.DataFrame), (
        f"cannot save {type(value).__name__} to {describe(artifact)} as a dask DataFrame"
    )
    _check(artifact, WRITERS, format, "write")
    if num_parts:
        value = value.repartition(npartitions=num_parts)
    write = _dask.delayed(_write_partition)
    _dask.compute(
        *(
            write(artifact.fs, _path(artifact, i, format), part, format)
            for i, part in enumerate(value.to_delayed())
        )
    )


def load_dask_dataframe(artifact: Artifact, format: str = "parquet") -> Any:
    """A dask DataFrame with one partition per file, in partition order."""
    _assert_type(artifact, DASK_DATAFRAME_TYPE)
    return _lazy_frame(artifact, format)


def _lazy_frame(artifact: Artifact, format: str) -> Any:
    _check(artifact, READERS, format, "read")
    read = _dask.delayed(_read_partition)
    parts = [read(artifact.fs, f.path, format) for f in partition_files(artifact, format)]
    return dd.from_delayed(parts, verify_meta=False)


def save_dask_series(
    artifact: Artifact, value: Any, format: str = "parquet", num_parts: int | None = None
) -> None:
    """A Series as a one-column frame; its name is kept in the metadata."""
    assert isinstance(value, dd.Series), (
        f"cannot save {type(value).__name__} to {describe(artifact)} as a dask Series"
    )
    artifact["series_name"] = value.name
    save_dask_dataframe(artifact, value.to_frame(name=SERIES_COLUMN), format, num_parts)


def load_dask_series(artifact: Artifact, format: str = "parquet") -> Any:
    """The Series saved with :func:`save_dask_series`, under its name."""
    _assert_type(artifact, DASK_SERIES_TYPE)
    series = _lazy_frame(artifact, format)[SERIES_COLUMN]
    return series.rename(artifact["series_name"])


# -- Array -------------------------------------------------------------------------------------


def _write_block(fs: AbstractFileSystem, path: str, block: np.ndarray[Any, Any]) -> None:
    with fs.open(path, "wb") as handle:
        np.save(handle, block)


def _read_block(fs: AbstractFileSystem, path: str) -> np.ndarray[Any, Any]:
    with fs.open(path, "rb") as handle:
        return np.asarray(np.load(handle, allow_pickle=True))


def _header(fs: AbstractFileSystem, path: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
    # Only the header is read here: the data is read by the tasks.
    with fs.open(path, "rb") as handle:
        major, _ = npy_format.read_magic(handle)
        read_header = (
            npy_format.read_array_header_1_0 if major == 1 else npy_format.read_array_header_2_0
        )
        shape, _, dtype = read_header(handle)
    return shape, dtype


def _rows_in_parts(value: Any, num_parts: int | None) -> Any:
    # One block per partition: axis 0 cut as numpy.array_split would, the other axes whole.
    rows: Any = value.chunks[0] if value.ndim else ()
    if num_parts and value.ndim:
        size, extra = divmod(value.shape[0], num_parts)
        rows = tuple(size + (1 if i < extra else 0) for i in range(num_parts))
    return value.rechunk((rows, *((n,) for n in value.shape[1:])))


def save_dask_array(
    artifact: Artifact, value: Any, format: str = "npy", num_parts: int | None = None
) -> None:
    """Write each block of rows in a task as ``partition-{i}.npy``."""
    assert isinstance(value, da.Array), (
        f"cannot save {type(value).__name__} to {describe(artifact)} as a dask Array"
    )
    _check(artifact, {"npy": None}, format, "write")
    blocks = _rows_in_parts(value, num_parts).to_delayed().ravel()
    write = _dask.delayed(_write_block)
    _dask.compute(
        *(write(artifact.fs, _path(artifact, i, "npy"), block) for i, block in enumerate(blocks))
    )


def load_dask_array(artifact: Artifact, format: str = "npy") -> Any:
    """A dask Array with one block per file, concatenated along axis 0."""
    _assert_type(artifact, DASK_ARRAY_TYPE)
    _check(artifact, {"npy": None}, format, "read")
    blocks = []
    for file in partition_files(artifact, format):
        shape, dtype = _header(artifact.fs, file.path)
        task = _dask.delayed(_read_block)(artifact.fs, file.path)
        blocks.append(da.from_delayed(task, shape=shape, dtype=dtype))
    return da.concatenate(blocks, axis=0)


def _spelling(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


for _cls, _type, _save, _load in (
    (dd.DataFrame, DASK_DATAFRAME_TYPE, save_dask_dataframe, load_dask_dataframe),
    (dd.Series, DASK_SERIES_TYPE, save_dask_series, load_dask_series),
    (da.Array, DASK_ARRAY_TYPE, save_dask_array, load_dask_array),
):
    register_type_alias(_spelling(_cls), _type)
    register_handler("dask", _type, "to_artifact", _save)
    register_handler("dask", _type, "from_artifact", _load)
