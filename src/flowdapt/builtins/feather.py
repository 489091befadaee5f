"""Historical data kept as feather files named after a dict of values.

``{"exchange": "okx", "symbol": "ETH", "interval": "5m"}`` is stored at
``<save_path>/okx/ETH/5m/okx_ETH_5m.feather``:

    save_historical_data_to_feather(df, metadata, "user_data/history")
    recent = load_historical_data_from_feather(metadata, "user_data/history", num_points=500)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from flowdapt.builtins.naming import dict_to_list_string
from flowdapt.builtins.timeseries import get_data_frequency, merge_dataframes

logger = logging.getLogger(__name__)


def feather_path(metadata: Mapping[Any, Any], save_path: str | Path) -> Path:
    """Where the data described by `metadata` is stored under `save_path`."""
    values, joined = dict_to_list_string(metadata)
    return Path(save_path).joinpath(*values, f"{joined}.feather")


def save_historical_data_to_feather(
    data: pd.DataFrame, metadata: Mapping[Any, Any], save_path: str | Path
) -> bool:
    """Write `data` to its feather file (directories created); whether the file exists after."""
    path = feather_path(metadata, save_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data.to_feather(path)
    return path.exists()


def load_historical_data_from_feather(
    metadata: Mapping[Any, Any], save_path: str | Path, num_points: int = -1
) -> pd.DataFrame | None:
    """The stored frame, or its last `num_points` rows when `num_points >= 0`; None (logged as a
    warning) when it cannot be read, a missing file included."""
    path = feather_path(metadata, save_path)
    try:
        data = pd.read_feather(path)
    except Exception as exc:  # the documented contract: any failure to read is "no data"
        logger.warning("Could not load historical data from %s: %s", path, exc)
        return None
    return data.tail(num_points) if num_points >= 0 else data


def update_historic_data(
    metadata: Mapping[Any, Any], incoming_df: pd.DataFrame, save_path: str | Path
) -> tuple[bool, float]:
    """Merge `incoming_df` into the stored frame (new rows win) and save it.

    Returns ``(True, periods)``, where `periods` is the distance from the last stored date to
    the first incoming one in sampling periods of the stored data, or ``(False, 0)`` when
    nothing was incoming or nothing was stored.
    """
    if len(incoming_df) == 0 or not feather_path(metadata, save_path).exists():
        return False, 0
    existing = load_historical_data_from_feather(metadata, save_path)
    if existing is None:
        return False, 0
    merged = merge_dataframes(existing, incoming_df, prefer_new=True)
    save_historical_data_to_feather(merged, metadata, save_path)
    periods = (incoming_df["date"].iloc[0] - existing["date"].iloc[-1]) / get_data_frequency(
        existing
    )
    return True, float(periods)
