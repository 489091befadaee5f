"""pandas DataFrames as artifacts: partitioned parquet (pyarrow, index kept) or csv files.

    save = dataframe_to_artifact(num_parts=3)      # partition-0.parquet … partition-2.parquet
    save(artifact, frame)
    dataframe_from_artifact()(artifact)            # equal to `frame`, dtypes and index included

Importing this module imports pandas; nothing the server loads at start-up imports it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import IO, Any

import pandas as pd

from flowdapt.objects.artifact import Artifact
from flowdapt.objects.dataset_handlers import (
    ANY_EXECUTOR,
    dataset_from_artifact,
    dataset_to_artifact,
    register_handler,
    register_type_alias,
)
from flowdapt.objects.hooks import LoadHook, SaveHook
from flowdapt.objects.partitions import describe, partition_files, partition_name, split_dataframe

__all__ = [
    "DATAFRAME_TYPE",
    "dataframe_from_artifact",
    "dataframe_to_artifact",
    "load_dataframe",
    "save_dataframe",
]

# The original's metadata value (pandas 2); pandas 3 spells the class "pandas.DataFrame".
DATAFRAME_TYPE = "pandas.core.frame.DataFrame"
DATAFRAME_TYPES = frozenset({DATAFRAME_TYPE, "pandas.DataFrame"})


def _write_parquet(frame: pd.DataFrame, handle: IO[Any]) -> None:
    frame.to_parquet(handle, engine="pyarrow")


def _write_csv(frame: pd.DataFrame, handle: IO[Any]) -> None:
    frame.to_csv(handle)


def _read_parquet(handle: IO[Any]) -> pd.DataFrame:
    return pd.read_parquet(handle, engine="pyarrow")


def _read_orc(handle: IO[Any]) -> pd.DataFrame:
    return pd.read_orc(handle)


def _read_csv(handle: IO[Any]) -> pd.DataFrame:
    # to_csv writes an unnamed index as a first column with an empty header: make it the index
    # again, so the csv round trip gives back the frame rather than a column "Unnamed: 0".
    header = next(csv.reader([handle.readline()]), [])
    handle.seek(0)
    return pd.read_csv(handle, index_col=0 if header[:1] == [""] else None)


# format -> (file mode, function): the Dask handlers write each partition with these too.
WRITERS: dict[str, tuple[str, Callable[[pd.DataFrame, IO[Any]], None]]] = {
    "parquet": ("wb", _write_parquet),
    "csv": ("w", _write_csv),
}
READERS: dict[str, tuple[str, Callable[[IO[Any]], pd.DataFrame]]] = {
    "parquet": ("rb", _read_parquet),
    "csv": ("r", _read_csv),
    "orc": ("rb", _read_orc),
}


def _lookup(table: dict[str, Any], format: str, artifact: Artifact, action: str) -> Any:
    if format not in table:
        raise KeyError(
            f"cannot {action} a DataFrame as {format!r} in {describe(artifact)}: "
            f"use one of {sorted(table)}"
        )
    return table[format]


def save_dataframe(
    artifact: Artifact, value: Any, format: str = "parquet", num_parts: int = 1
) -> None:
    """The ``"*"`` handler: `value` as `num_parts` files ``partition-{i}.{format}``."""
    assert isinstance(value, pd.DataFrame), (
        f"cannot save {type(value).__name__} to {describe(artifact)} as a DataFrame"
    )
    mode, write = _lookup(WRITERS, format, artifact, "write")
    for index, part in enumerate(split_dataframe(value, num_parts)):
        with artifact.new_file(partition_name(index, format)).open(mode) as handle:
            write(part, handle)


def load_dataframe(artifact: Artifact, format: str = "parquet") -> pd.DataFrame:
    """The ``"*"`` handler: the partitions concatenated in order, their indexes kept."""
    value_type = artifact["value_type"]
    assert value_type in DATAFRAME_TYPES, (
        f"{describe(artifact)} holds {value_type!r}, not a DataFrame"
    )
    mode, read = _lookup(READERS, format, artifact, "read")
    parts = []
    for file in partition_files(artifact, format):
        with file.open(mode) as handle:
            parts.append(read(handle))
    return pd.concat(parts)


def dataframe_to_artifact(
    format: str = "parquet", *, executor: str = "", **kwargs: Any
) -> SaveHook:
    """A save hook for DataFrames (``parquet`` or ``csv``; ``num_parts=n`` splits the rows).

    object_store.put("prices", frame, save_artifact_hook=dataframe_to_artifact())
    """
    return dataset_to_artifact(format, executor=executor, **kwargs)


def dataframe_from_artifact(
    format: str = "parquet", *, executor: str = "", **kwargs: Any
) -> LoadHook:
    """A load hook for DataFrames (``parquet``, ``csv`` or ``orc``).

    frame = object_store.get("prices", load_artifact_hook=dataframe_from_artifact())
    """
    return dataset_from_artifact(format, executor=executor, **kwargs)


register_type_alias("pandas.DataFrame", DATAFRAME_TYPE)
register_handler(ANY_EXECUTOR, DATAFRAME_TYPE, "to_artifact", save_dataframe)
register_handler(ANY_EXECUTOR, DATAFRAME_TYPE, "from_artifact", load_dataframe)
