"""``/metrics/prometheus``: the server's metrics in the Prometheus text format.

The counters and histograms are the ones ``/metrics`` shows in the original's shape
(services.metrics), renamed the Prometheus way (``flowdapt.runs.started`` →
``flowdapt_runs_started_total``, durations in ``…_seconds``); gauges are read at scrape time:
runs in progress, database and event-bus health, the executor's state.

    flowdapt_runs_ended_total{state="failed",workflow="weather-train"} 2.0
    flowdapt_stages_duration_seconds_bucket{le="0.5",stage="train_model",...} 14.0
    flowdapt_database_up 1.0
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from flowdapt.api.state import Services

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GAUGES = {
    "flowdapt_active_runs": "runs this server is executing now",
    "flowdapt_database_up": "1 when the database answers",
    "flowdapt_event_bus_up": "1 when the event bus is connected",
    "flowdapt_event_bus_undelivered": "events waiting to be delivered",
    "flowdapt_event_bus_dropped": "events dropped since the server started",
    "flowdapt_executor_running": "1 when the executor is running",
}


def _name(metric: str) -> str:
    return metric.replace(".", "_").replace("-", "_")


def _labels(points: list[dict[str, Any]]) -> list[str]:
    return sorted({key for point in points for key in point["attributes"]})


class _Snapshot(Collector):
    """One scrape: the metrics snapshot and the gauges, read just before."""

    def __init__(self, snapshot: dict[str, list[dict[str, Any]]], gauges: dict[str, float]):
        self._snapshot, self._gauges = snapshot, gauges

    def collect(self) -> Iterator[Metric]:
        for metric, points in sorted(self._snapshot.items()):
            if points and "bucket_counts" in points[0]:
                yield self._histogram(metric, points)
            elif points:
                yield self._counter(metric, points)
        for name, value in sorted(self._gauges.items()):
            gauge = GaugeMetricFamily(name, GAUGES[name])
            gauge.add_metric([], value)
            yield gauge

    @staticmethod
    def _counter(metric: str, points: list[dict[str, Any]]) -> Metric:
        labels = _labels(points)
        family = CounterMetricFamily(_name(metric), f"{metric} (a counter)", labels=labels)
        for point in points:
            values = [str(point["attributes"].get(key, "")) for key in labels]
            family.add_metric(values, point["value"])
        return family

    @staticmethod
    def _histogram(metric: str, points: list[dict[str, Any]]) -> Metric:
        labels = _labels(points)
        name = _name(metric) + ("_seconds" if metric.endswith("duration") else "")
        family = HistogramMetricFamily(name, f"{metric} (a histogram)", labels=labels)
        for point in points:
            cumulative, buckets = 0, []
            bounds = [*map(str, point["explicit_bounds"]), "+Inf"]
            for bound, count in zip(bounds, point["bucket_counts"], strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            values = [str(point["attributes"].get(key, "")) for key in labels]
            family.add_metric(values, buckets, point["sum"])
        return family


async def gauges(services: Services) -> dict[str, float]:
    health = services.bus.health()
    values = {
        "flowdapt_database_up": float(await services.storage.ping()),
        "flowdapt_event_bus_up": float(health.up),
        "flowdapt_event_bus_undelivered": float(health.undelivered),
        "flowdapt_event_bus_dropped": float(health.dropped),
    }
    if services.compute is not None:
        values["flowdapt_active_runs"] = float(services.compute.active_runs)
        running = services.compute.executor_supervisor.running
        values["flowdapt_executor_running"] = float(running)
    return values


async def exposition(services: Services) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(services.metrics.snapshot(), await gauges(services)))
    return bytes(generate_latest(registry))
