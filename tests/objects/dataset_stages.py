"""Stage functions for the dataset hook tests, written as plugin stages are (N's pattern)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flowdapt.compute import object_store
from flowdapt.compute.artifacts.dataset.dataframes import (
    dataframe_from_artifact,
    dataframe_to_artifact,
)


def prices() -> pd.DataFrame:
    return pd.DataFrame(
        {"close": [1.5, 2.5, 3.5], "volume": [10, 20, 30]},
        # parquet keeps the index, not its freq: build it without one
        index=pd.DatetimeIndex(
            ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00"], tz="UTC", name="date"
        ),
    )


def save_prices(num_parts: int = 1) -> str:
    object_store.put(
        "prices",
        prices(),
        strategy="artifact",
        save_artifact_hook=dataframe_to_artifact(num_parts=num_parts),
    )
    return "saved"


def load_prices(_: Any) -> pd.DataFrame:
    return object_store.get(
        "prices", strategy="artifact", load_artifact_hook=dataframe_from_artifact()
    )
