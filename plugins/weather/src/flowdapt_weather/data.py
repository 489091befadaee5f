"""Deterministic synthetic weather: the same city and hour give the same reading, every time.

It stands in for a weather service's download. Each hour's value is a function of the city and
the absolute hour alone (a daily cycle, a slow drift, a few weather systems passing, and hashed
noise), so a window fetched later overlaps an earlier one exactly — as real history would —
and refreshing features moves the window on without changing the past.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

HOUR = np.timedelta64(1, "h")


def city_seed(city: str) -> int:
    """A stable seed per city (Python's hash() changes between processes)."""
    return zlib.crc32(city.encode())


def _noise(seed: int, hours: np.ndarray, channel: int) -> np.ndarray:
    """Uniform noise in [-0.5, 0.5) from the hour itself (a counter-based hash, no RNG state)."""
    mixed = (hours.astype(np.uint64) * np.uint64(2654435761)) ^ np.uint64(seed + 7919 * channel)
    mixed ^= mixed >> np.uint64(13)
    mixed *= np.uint64(0x5BD1E995)
    mixed ^= mixed >> np.uint64(15)
    return (mixed % np.uint64(1 << 24)).astype(np.float64) / (1 << 24) - 0.5


def fetch_history(city: str, end: datetime, hours: int) -> pd.DataFrame:
    """Hourly readings of `city` for the `hours` hours up to `end` (floored to the hour), UTC.

    Columns: ``temperature`` (°C), ``humidity`` (%), ``pressure`` (hPa), ``wind`` (m/s).
    """
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last = int(end.timestamp() // 3600)
    absolute = np.arange(last - hours + 1, last + 1, dtype=np.int64)
    seed = city_seed(city)
    rng = np.random.default_rng(seed)  # the city's climate: fixed per city
    base, amplitude, phase = rng.uniform(-5, 25), rng.uniform(3, 9), rng.uniform(0, 24)
    day = 2 * np.pi * (absolute - phase) / 24
    systems = sum(
        rng.uniform(1, 3) * np.sin(2 * np.pi * absolute / rng.uniform(40, 140) + rng.uniform(0, 6))
        for _ in range(3)
    )
    drift = 4 * np.sin(2 * np.pi * absolute / (24 * 365))
    temperature = base + drift + amplitude * np.sin(day) + systems + 1.2 * _noise(seed, absolute, 0)
    humidity = np.clip(
        70 - 2.5 * (temperature - base) + 8 * _noise(seed, absolute, 1) - 3 * systems, 5, 100
    )
    pressure = 1013 + 6 * systems + 1.5 * _noise(seed, absolute, 2)
    wind = np.abs(3 + 2 * np.cos(day) + 1.5 * systems + 2 * _noise(seed, absolute, 3))
    index = pd.DatetimeIndex(absolute * 3600 * 10**9, tz=UTC, name="time")
    return pd.DataFrame(
        {"temperature": temperature, "humidity": humidity, "pressure": pressure, "wind": wind},
        index=index,
    ).round(3)


def current_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def parse_end(end: str | datetime | None) -> datetime:
    """The window's end: an ISO time or datetime as given, else the current hour."""
    if end is None:
        return current_hour()
    value = datetime.fromisoformat(end) if isinstance(end, str) else end
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def next_hour(frame: pd.DataFrame) -> datetime:
    stamp: datetime = frame.index[-1].to_pydatetime() + timedelta(hours=1)
    return stamp
