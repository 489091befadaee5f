"""Stages of the example workflow: a tiny nowcast per city on deterministic synthetic data.

Plain functions, as users write them: no decorators, no framework objects.
"""

from __future__ import annotations

import math
import random
from typing import Any

from flowdapt.compute.resources.workflow.context import get_run_context


def create_city_list(cities: list[str] | None = None) -> list[str]:
    """The cities to forecast: from the run input, else from the config."""
    return list(cities or get_run_context().config.get("cities", []))


def fetch_city_data(city: str) -> dict[str, Any]:
    """Stand-in for a download: 48 hourly temperatures, the same every time for a city."""
    rng = random.Random(city)
    base = rng.uniform(-5, 25)
    temperatures = [
        base + 6 * math.sin(hour / 24 * 2 * math.pi) + rng.gauss(0, 0.5) for hour in range(48)
    ]
    return {"city": city, "temperatures": temperatures}


def forecast(data: dict[str, Any]) -> dict[str, Any]:
    """Next hour = last value + mean slope of the last three hours (a deliberately small model)."""
    series: list[float] = data["temperatures"]
    slope = (series[-1] - series[-4]) / 3
    return {"city": data["city"], "next_hour": round(series[-1] + slope, 2)}


def summarise(forecasts: list[dict[str, Any]]) -> dict[str, float]:
    return {str(f["city"]): float(f["next_hour"]) for f in forecasts}
