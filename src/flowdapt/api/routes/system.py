"""Readiness, status, metrics and plugins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from flowdapt.api import prometheus
from flowdapt.api.state import services_of
from flowdapt.services.plugins import Plugin, discover_plugins, find_plugin

API_VERSION = "v1alpha1"
router = APIRouter()


@router.get("/", tags=["health"], summary="Readiness: answers as soon as the server serves")
async def ping(request: Request) -> dict[str, str]:
    core = services_of(request).core
    return {"app": "flowdapt", "version": core.version, "api_version": API_VERSION}


@router.get("/status", tags=["health"], summary="System, services and database status")
async def status(request: Request) -> dict[str, Any]:
    return await services_of(request).core.status()


@router.get(
    "/metrics/prometheus",
    tags=["health"],
    summary="Metrics in the Prometheus text format",
    response_class=Response,
)
async def metrics_prometheus(request: Request) -> Response:
    body = await prometheus.exposition(services_of(request))
    return Response(body, media_type=prometheus.CONTENT_TYPE)


@router.get("/metrics", tags=["health"], summary="Metrics as counters and histograms")
async def metrics(
    request: Request,
    name: str | None = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    max_length: int | None = Query(default=None, ge=0),
) -> dict[str, Any]:
    # The original filters by time window; these metrics are cumulative, so the window is moot.
    return services_of(request).metrics.snapshot(name, max_length)


def _plugin_json(plugin: Plugin) -> dict[str, Any]:
    # name, metadata and module are the original's schema; its client ignores the other keys.
    return {
        "name": plugin.name,
        "metadata": plugin.metadata,
        "module": plugin.module,
        "distribution": plugin.distribution,
        "status": plugin.status,
        "error": plugin.error,
    }


@router.get(
    "/plugin/",
    tags=["plugins"],
    summary="Installed plugins, broken ones and name conflicts included (see `status`)",
)
async def list_plugins() -> list[dict[str, Any]]:
    return [_plugin_json(plugin) for plugin in await run_in_threadpool(discover_plugins)]


@router.get(
    "/plugin/{plugin_name}",
    tags=["plugins"],
    summary="One plugin (409 when several installed distributions use the name)",
)
async def get_plugin(plugin_name: str) -> dict[str, Any]:
    return _plugin_json(await run_in_threadpool(find_plugin, plugin_name))


@router.get("/plugin/{plugin_name}/files", tags=["plugins"], summary="Files a plugin bundles")
async def list_plugin_files(plugin_name: str) -> dict[str, list[str]]:
    plugin = await run_in_threadpool(find_plugin, plugin_name)
    return {"files": await run_in_threadpool(plugin.files)}


@router.get(
    "/plugin/{plugin_name}/files/{file_name:path}",
    tags=["plugins"],
    summary="A bundled file's content",
)
async def get_plugin_file(plugin_name: str, file_name: str) -> Response:
    plugin = await run_in_threadpool(find_plugin, plugin_name)
    content = await run_in_threadpool(plugin.read_file, file_name)
    return Response(content, media_type="application/octet-stream")
