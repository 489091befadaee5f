"""One city's model: fitted on its feature frame, scored on the last fifth of the hours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_absolute_error

from flowdapt.builtins.utils import extract_features_and_labels


@dataclass
class CityModel:
    model: GradientBoostingRegressor
    features: list[str]
    trained_until: str
    mae: float

    def predict_next(self, frame: pd.DataFrame) -> float:
        """The next hour's temperature from the frame's latest row."""
        return float(self.model.predict(frame[self.features].iloc[[-1]])[0])


def fit(frame: pd.DataFrame, settings: dict[str, Any]) -> CityModel:
    """Score a model trained on the first four fifths on the rest, then refit on everything, so
    the model that forecasts has seen the latest hours (what makes it adapt)."""
    # The first hours lack their lags and the last its label: expected, so dropped quietly
    # (builtins.utils.remove_rows_with_nans warns about every row it drops).
    data = frame.dropna()
    features, labels = extract_features_and_labels(data)
    target = labels.iloc[:, 0]
    split = int(len(data) * 0.8)
    model = GradientBoostingRegressor(random_state=0, **settings)
    model.fit(features.iloc[:split], target.iloc[:split])
    mae = float(mean_absolute_error(target.iloc[split:], model.predict(features.iloc[split:])))
    model.fit(features, target)
    return CityModel(model, list(features.columns), data.index[-1].isoformat(), round(mae, 3))
