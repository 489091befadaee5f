"""Feature and label columns of a frame: ``%``-prefixed columns are features, ``&`` labels.

Columns are told apart by their names' first character only, so they must be strings::

    features, labels = extract_features_and_labels(remove_rows_with_nans(df))
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

# builtins and lib are independent layers, so this logs through the standard library, which is
# where flowdapt.lib.logger.get_logger forwards as well.
logger = logging.getLogger(__name__)

FEATURE_PREFIX = "%"
LABEL_PREFIX = "&"


def find_features(dataframe: pd.DataFrame) -> list[str]:
    """The column names starting with ``%``, in column order.

    >>> find_features(pd.DataFrame(columns=["date", "%-a", "&-t", "a%"]))
    ['%-a']
    """
    # Non-string column names raise AttributeError, as in the original: callers name columns.
    return [column for column in dataframe.columns if column.startswith(FEATURE_PREFIX)]


def find_labels(dataframe: pd.DataFrame) -> list[str]:
    """The column names starting with ``&``, in column order."""
    return [column for column in dataframe.columns if column.startswith(LABEL_PREFIX)]


def extract_features_and_labels(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(features, labels)``: `df` restricted to its ``%`` and to its ``&`` columns.

    An empty selection is logged as an error and comes back with no columns but every row, so
    ``len(labels) == len(df)`` even when there are no labels.
    """
    features = find_features(df)
    labels = find_labels(df)
    if not labels:
        logger.error("No labels found")
    if not features:
        logger.error("No features found")
    return df[features], df[labels]


def shift_and_add_features(df: pd.DataFrame, shifts: int, cols: Iterable[str]) -> pd.DataFrame:
    """`df` with lagged copies of `cols` appended: ``<col>_shift-1`` … ``<col>_shift-<shifts-1>``.

    Lags are by row position, all shift-1 columns first, then all shift-2 columns, and so on;
    ``shifts <= 1`` returns `df` itself.

    >>> df = pd.DataFrame({"%-a": [1, 2, 3]})
    >>> shift_and_add_features(df, 2, ["%-a"])["%-a_shift-1"].tolist()
    [nan, 1.0, 2.0]
    """
    if shifts <= 1:
        return df
    columns = list(cols)
    lagged = [df[columns].shift(k).add_suffix(f"_shift-{k}") for k in range(1, shifts)]
    return pd.concat([df, *lagged], axis=1)


def remove_none_columns(df: pd.DataFrame, threshold: int = 40) -> pd.DataFrame:
    """`df` without the columns that have more than `threshold` nulls, nor those that are all null.

    The second rule still applies when `threshold` is at least the row count, and it removes
    every column of a frame without rows.
    """
    kept = df.loc[:, df.isnull().sum() <= threshold].dropna(axis=1, how="all")
    logger.info("Removed %d columns due to NaNs", len(df.columns) - len(kept.columns))
    return kept


def remove_rows_with_nans(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of `df` without any null (NaN, None, NaT); ±inf is not null. Index kept."""
    has_null = df.isnull().any(axis=1)
    dropped = int(has_null.sum())
    if dropped:
        logger.warning("Dropped %d from dataset due to NaNs", dropped)
    return df[~has_null]


def dummy_pandas_df(rows: int, cols: int, withnans: bool = True) -> pd.DataFrame:
    """A random frame of `cols - 1` features ``%-0`` … and one label ``&-a``, values in [0, 35).

    Draws from numpy's global generator, so ``np.random.seed(…)`` first makes it repeatable;
    with `withnans`, every value below 0.01 becomes NaN.
    """
    values = np.random.rand(rows, cols) * 35
    if withnans:
        values[values < 0.01] = np.nan
    columns = [f"{FEATURE_PREFIX}-{i}" for i in range(cols - 1)] + [f"{LABEL_PREFIX}-a"]
    return pd.DataFrame(values, columns=columns)
