"""Partition files of dataset artifacts: how they are named, found in order and cut.

A value saved in `n` parts is the files ``partition-0.{format}`` … ``partition-{n-1}.{format}``
of its artifact; they are read back in the order of that number.

    split_dataframe(frame_of_10_rows, 3)          # slices of 4, 3 and 3 rows
    partition_name(2, "parquet")                  # "partition-2.parquet"
    [f.name for f in partition_files(artifact, "parquet")]
    # ["partition-0.parquet", "partition-2.parquet", "partition-10.parquet"]
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowdapt.objects.artifact import Artifact
    from flowdapt.objects.artifact_file import ArtifactFile

__all__ = ["describe", "partition_files", "partition_name", "split_dataframe"]

_NUMBERED = re.compile(r"^partition-(\d+)\.")


def partition_name(index: int, format: str) -> str:
    """The file name of partition `index`: ``partition-{index}.{format}``."""
    return f"partition-{index}.{format}"


def describe(artifact: Artifact) -> str:
    """How error messages name an artifact."""
    return f"artifact `{artifact.name}` in namespace `{artifact.namespace}`"


def _order(file: ArtifactFile) -> tuple[int, int, str]:
    # By the number, not by name: listings are lexicographic (partition-10 before partition-2)
    # or arbitrary (local disk). Files named otherwise come last, by name.
    match = _NUMBERED.match(file.name)
    return (0, int(match.group(1)), "") if match else (1, 0, file.name)


def partition_files(artifact: Artifact, format: str) -> list[ArtifactFile]:
    """The artifact's files ending in ``.{format}``, in partition order; ValueError if none."""
    suffix = f".{format}"
    files = sorted((f for f in artifact.list_files() if f.name.endswith(suffix)), key=_order)
    if not files:
        raise ValueError(f"{describe(artifact)} does not contain any files ending in '{suffix}'")
    return files


def split_dataframe(df: Any, n: int) -> list[Any]:
    """`df` cut into `n` positional slices, the first ``len(df) % n`` one row longer.

    ``n <= 0`` raises ZeroDivisionError; with more parts than rows some slices are empty.

        [len(part) for part in split_dataframe(frame_of_10_rows, 3)]   # [4, 3, 3]
    """
    if n <= 0:
        raise ZeroDivisionError(f"cannot split a dataframe into {n} parts")
    size, extra = divmod(len(df), n)
    parts, start = [], 0
    for index in range(n):
        stop = start + size + (1 if index < extra else 0)
        parts.append(df.iloc[start:stop])
        start = stop
    return parts
