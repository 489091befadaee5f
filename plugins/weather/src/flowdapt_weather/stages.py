"""The plugin's stages: plain functions, wired into workflows by resources/workflows.yaml.

    list_cities → build_features (per city) → train_model (per city) → training_report
    list_cities → predict (per city) → collect_forecasts

Features go to the object store (cluster memory, or an artifact when too big for it); each
city's model is an artifact, so a prediction run — on any executor, after a restart — finds the
last model trained; the forecasts are an artifact too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from flowdapt.compute import object_store
from flowdapt.compute.artifacts import get_artifact
from flowdapt.compute.resources.workflow.context import get_run_context
from flowdapt_weather.data import fetch_history, next_hour, parse_end
from flowdapt_weather.features import feature_frame
from flowdapt_weather.model import CityModel, fit

logger = logging.getLogger(__name__)

DEFAULT_CITIES = ["Oslo", "Lisbon", "Nairobi", "Denver", "Osaka", "Santiago"]
FORECASTS = "weather-forecasts"


def features_key(city: str) -> str:
    return f"weather-features-{city}"


def model_key(city: str) -> str:
    return f"weather-model-{city}"


def list_cities(cities: list[str] | None = None, count: int | None = None) -> list[str]:
    """The cities of this run: the input's ``cities``, else those the training run that
    triggered this one trained, else ``count`` synthetic ones, else the config's."""
    context = get_run_context()
    if cities:
        return [str(city) for city in cities]
    event = context.event or {}
    trained = ((event.get("data") or {}).get("result") or {}).get("cities")
    if isinstance(trained, list) and trained:
        return [str(city) for city in trained]
    if count:
        return [f"City-{index:03d}" for index in range(int(count))]
    return [str(city) for city in context.config.get("cities", DEFAULT_CITIES)]


def build_features(city: str) -> str:
    """Fetch the city's last ``history_hours`` hours and store its feature frame."""
    context = get_run_context()
    end = parse_end(context.input.get("end"))
    history = fetch_history(city, end, int(context.config.get("history_hours", 24 * 30)))
    frame = feature_frame(history, int(context.config.get("lags", 6)))
    object_store.put(features_key(city), frame)
    return city


def train_model(city: str) -> dict[str, Any]:
    """Fit the city's model on its features and store it as an artifact with its score."""
    settings = dict(get_run_context().config.get("model", {}))
    model = fit(object_store.get(features_key(city)), settings)
    object_store.put(model_key(city), model, strategy="artifact")
    return {"city": city, "mae": model.mae, "rows_until": model.trained_until}


def training_report(results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the training run did; a prediction run it triggers reads ``cities`` from here."""
    maes = [result["mae"] for result in results]
    worst = max(results, key=lambda result: result["mae"]) if results else None
    return {
        "cities": [result["city"] for result in results],
        "models": len(results),
        "mean_mae": round(float(np.mean(maes)), 3) if maes else None,
        "worst": None if worst is None else {"city": worst["city"], "mae": worst["mae"]},
    }


def predict(city: str) -> dict[str, Any]:
    """The next hour's temperature of `city`, from its last model and its latest features."""
    try:
        model: CityModel = object_store.get(model_key(city), strategy="artifact")
    except KeyError as exc:
        raise LookupError(f"no model for {city!r} yet: run the workflow weather-train") from exc
    frame = object_store.get(features_key(city))
    return {
        "city": city,
        "time": next_hour(frame).isoformat(),
        "temperature": round(model.predict_next(frame), 2),
        "now": round(float(frame["%-temperature"].iloc[-1]), 2),
        "model_mae": model.mae,
    }


def collect_forecasts(forecasts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The forecasts by city, also kept in the artifact ``weather-forecasts`` (``latest.json``)."""
    by_city = {forecast["city"]: forecast for forecast in forecasts}
    artifact = get_artifact(FORECASTS, create=True)
    artifact.new_file("latest.json", exist_ok=True).write(json.dumps(by_city, indent=2))
    artifact["updated"] = max((f["time"] for f in forecasts), default=None)
    artifact["cities"] = len(by_city)
    return by_city


def features_report(cities: list[str]) -> dict[str, Any]:
    return {"cities": cities, "refreshed": len(cities)}
