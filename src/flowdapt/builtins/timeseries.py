"""Frames of samples indexed by a ``date`` column: their sampling period, how far behind now they
are, and appending newly downloaded rows.

    gap = get_data_gap(df, timezone.utc)      # whole periods missing since the last row
    if gap > 0:
        df = merge_dataframes(df, download(limit=gap))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

import pandas as pd

logger = logging.getLogger(__name__)

Clock = Callable[[tzinfo | None], datetime]


def get_data_frequency(df: pd.DataFrame) -> pd.Timedelta:
    """The sampling period: the last ``date`` minus the one before it (IndexError below 2 rows)."""
    return pd.Timedelta(df["date"].iloc[-1] - df["date"].iloc[-2])


def get_data_gap(df: pd.DataFrame, tz: tzinfo | None = None, *, clock: Clock = datetime.now) -> int:
    """How many whole sampling periods lie between the last ``date`` and now, truncated toward
    zero (negative when the last row is in the future).

    Naive dates are taken to be in `tz` (pass ``timezone.utc`` for naive UTC data); tz-aware
    dates are compared as they are. ZeroDivisionError when the last two dates are equal.

        get_data_gap(hourly_until_4h30_ago, timezone.utc)   # 4
    """
    last = pd.Timestamp(df["date"].iloc[-1])
    if last.tzinfo is None:
        last = last.tz_localize(tz)
        now = clock(tz)
    else:
        # Aware minus aware is right whatever the zones; the original raised TypeError here.
        now = clock(tz or UTC)
    frequency = get_data_frequency(df)
    gap = int((now - last) / frequency)
    if gap > 0:
        logger.info("Gap in data, downloading %d points.", gap)
        logger.info("Last date in data %s, now %s, sampling period %s.", last, now, frequency)
    else:
        logger.info("No gap in data, pulling from memory/storage.")
    return gap


def merge_dataframes(
    df: pd.DataFrame, df_inc: pd.DataFrame, prefer_new: bool = True
) -> pd.DataFrame:
    """`df` with the rows of `df_inc` appended, both in ascending ``date`` order; index reset.

    With `prefer_new`, the rows of `df` from the first date of `df_inc` on are replaced by all of
    `df_inc`; otherwise all of `df` is kept and only the rows of `df_inc` after its last date are
    appended. A gap of more than one period between the two is logged and merged all the same.
    An empty `df_inc` leaves `df` as it is (the original returned the tuple ``(False, 0)``).
    """
    if len(df_inc) == 0:
        logger.warning("No new rows to merge, keeping the existing data.")
        return df.reset_index(drop=True)
    first_new = df_inc["date"].iloc[0]
    last_old = df["date"].iloc[-1]
    if (first_new - last_old) / get_data_frequency(df) > 1:
        logger.warning("Gap in data, should redownload from scratch.")
    if prefer_new:
        parts = [df[df["date"] < first_new], df_inc]
    else:
        parts = [df, df_inc[df_inc["date"] > last_old]]
    return pd.concat(parts, ignore_index=True)
