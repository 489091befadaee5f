"""In-process metrics in the original's ``/metrics`` shape: counters and histograms with
attributes, as OpenTelemetry-style data points."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DURATION_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

Attributes = tuple[tuple[str, str], ...]


@dataclass
class _Counter:
    start: int
    value: float = 0.0


@dataclass
class _Histogram:
    start: int
    bounds: tuple[float, ...]
    buckets: list[int] = field(default_factory=list)
    count: int = 0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")


class Metrics:
    """Thread-safe counters and histograms keyed by name and attributes.

    >>> metrics.count("flowdapt.runs.started", workflow="nowcast")
    >>> metrics.observe("flowdapt.runs.duration", 0.42, workflow="nowcast")
    """

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Attributes, _Counter]] = {}
        self._histograms: dict[str, dict[Attributes, _Histogram]] = {}

    def count(self, name: str, value: float = 1.0, **attributes: str) -> None:
        key = tuple(sorted(attributes.items()))
        with self._lock:
            series = self._counters.setdefault(name, {})
            counter = series.get(key) or series.setdefault(key, _Counter(self._clock()))
            counter.value += value

    def observe(
        self,
        name: str,
        value: float,
        bounds: tuple[float, ...] = DURATION_BOUNDS,
        **attributes: str,
    ) -> None:
        key = tuple(sorted(attributes.items()))
        with self._lock:
            series = self._histograms.setdefault(name, {})
            histogram = series.get(key)
            if histogram is None:
                histogram = series[key] = _Histogram(self._clock(), bounds, [0] * (len(bounds) + 1))
            histogram.buckets[bisect.bisect_left(histogram.bounds, value)] += 1
            histogram.count += 1
            histogram.total += value
            histogram.low, histogram.high = min(histogram.low, value), max(histogram.high, value)

    def snapshot(self, name: str | None = None, max_length: int | None = None) -> dict[str, Any]:
        """``{metric: [data points]}``; optionally one metric, at most `max_length` points each."""
        now = self._clock()
        result: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            for metric, counters in self._counters.items():
                result[metric] = [
                    {
                        "attributes": dict(key),
                        "start_time_unix_nano": c.start,
                        "time_unix_nano": now,
                        "value": c.value,
                    }
                    for key, c in counters.items()
                ]
            for metric, histograms in self._histograms.items():
                result[metric] = [
                    {
                        "attributes": dict(key),
                        "start_time_unix_nano": h.start,
                        "time_unix_nano": now,
                        "count": h.count,
                        "bucket_counts": list(h.buckets),
                        "explicit_bounds": list(h.bounds),
                        "sum": h.total,
                        "min": h.low if h.count else 0.0,
                        "max": h.high if h.count else 0.0,
                    }
                    for key, h in histograms.items()
                ]
        if name is not None:
            result = {name: result.get(name, [])}
        if max_length is not None:
            result = {metric: points[:max_length] for metric, points in result.items()}
        return result
