"""The weather workflows end to end on a LocalExecutor, the way a plugin's own suite tests them."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from flowdapt.compute.artifacts import get_artifact
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt_weather.data import fetch_history

END = "2026-06-01T12:00:00+00:00"
CITIES = ["Oslo", "Lima", "Perth"]


async def test_training_then_prediction_forecasts_each_city(workflows, config, executor):
    small = {**config, "model": {"n_estimators": 20, "max_depth": 2}}
    report = await execute_workflow(
        workflows["weather-train"],
        {"cities": CITIES, "end": END},
        config=small,
        executor=executor,
        return_result=True,
    )
    assert report["cities"] == CITIES
    assert report["models"] == 3
    # The model learns something real: its error is far below the daily swing of temperature.
    assert 0 < report["mean_mae"] < 1.5
    forecasts = await execute_workflow(
        workflows["weather-predict"],
        {"cities": CITIES},
        config=small,
        executor=executor,
        return_result=True,
    )
    assert sorted(forecasts) == sorted(CITIES)
    actual = fetch_history("Oslo", datetime.fromisoformat(END) + timedelta(hours=1), 1)
    oslo = forecasts["Oslo"]
    assert oslo["time"] == "2026-06-01T13:00:00+00:00"
    assert math.isclose(oslo["temperature"], actual["temperature"].iloc[-1], abs_tol=4)
    stored = get_artifact("weather-forecasts")
    assert stored["cities"] == 3
    assert stored["updated"] == "2026-06-01T13:00:00+00:00"


async def test_prediction_without_a_model_names_the_workflow_to_run(workflows, config, executor):
    await execute_workflow(
        workflows["weather-features"], {"cities": ["Nowhere"], "end": END}, executor=executor
    )
    with pytest.raises(LookupError, match="no model for 'Nowhere' yet: run the workflow"):
        await execute_workflow(
            workflows["weather-predict"],
            {"cities": ["Nowhere"]},
            config=config,
            executor=executor,
            return_result=True,
        )


def test_history_is_the_same_whenever_it_is_fetched():
    end = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    first = fetch_history("Oslo", end, 48)
    later = fetch_history("Oslo", end + timedelta(hours=5), 48)
    assert first.index[-1] == datetime(2026, 3, 1, 6, tzinfo=UTC)
    assert later.loc[first.index[5:]].equals(first.iloc[5:])  # the overlap is identical
    assert not fetch_history("Lima", end, 48).equals(first)  # and each city has its own weather
