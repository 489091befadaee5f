"""Features and labels from a city's hourly history, in the original's column conventions:
features start with ``%``, labels with ``&`` (what ``flowdapt.builtins.utils`` finds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowdapt.builtins.utils import shift_and_add_features

LABEL = "&-temperature_next_hour"


def feature_frame(history: pd.DataFrame, lags: int) -> pd.DataFrame:
    """One row per hour: the readings, their last `lags` - 1 hours, the hour of day, and the
    label (the next hour's temperature; NaN in the last row, the one to forecast from)."""
    frame = history.add_prefix("%-")
    hour = history.index.hour.to_numpy()
    frame["%-hour_sin"] = np.sin(2 * np.pi * hour / 24)
    frame["%-hour_cos"] = np.cos(2 * np.pi * hour / 24)
    readings = [f"%-{column}" for column in history.columns]
    frame = shift_and_add_features(frame, lags, readings)
    frame[LABEL] = history["temperature"].shift(-1)
    return frame
