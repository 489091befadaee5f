"""The only place that builds storage, executor and services from the settings and hands them
down by constructor.

    app = build_app(load_settings(app_dir))
    uvicorn.run(app, host=..., port=...)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from flowdapt import __version__
from flowdapt.api import Services, create_app
from flowdapt.bus import EventBus, MemoryEventBus
from flowdapt.engine.executor import Executor
from flowdapt.engine.targets import import_from_string
from flowdapt.services.compute import ComputeService
from flowdapt.services.core import CoreService
from flowdapt.services.metrics import Metrics
from flowdapt.services.resources import ResourceService
from flowdapt.settings import ExecutorSettings, Settings, SettingsError
from flowdapt.storage.cache import CachedStorage
from flowdapt.storage.targets import storage_from_target

logger = logging.getLogger(__name__)

# The original's class paths keep working in carried-over config files.
EXECUTOR_ALIASES = {
    "flowdapt.compute.executor.local.LocalExecutor": "flowdapt.executors.local.LocalExecutor",
}


def build_executor(settings: ExecutorSettings) -> Executor:
    """The configured executor; its module is imported only when configured (Dask, Ray …)."""
    target = EXECUTOR_ALIASES.get(settings.target, settings.target)
    try:
        factory = import_from_string(target)
    except ImportError as exc:
        raise SettingsError(f"services.compute.executor.target: {exc}") from None
    try:
        executor: Executor = factory(**settings.options)
    except TypeError as exc:
        raise SettingsError(f"services.compute.executor: {exc}") from None
    return executor


def build_bus(url: str) -> EventBus:
    """The event bus `rpc.event_bus.url` names; `memory://` is the embedded one."""
    if url.startswith("memory://"):
        return MemoryEventBus()
    raise SettingsError(f"rpc.event_bus.url: {url!r} is not supported yet (use memory://)")


def prepare_user_modules(app_dir: Path) -> Path:
    """Make ``<app-dir>/user_modules/*.py`` importable as ``user_modules.NAME``."""
    folder = app_dir / "user_modules"
    folder.mkdir(parents=True, exist_ok=True)
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    return folder


def build_services(settings: Settings) -> Services:
    try:
        database = storage_from_target(
            settings.database.target, settings.database.options, settings.app_dir
        )
    except ValueError as exc:
        raise SettingsError(f"database.target: {exc}") from None
    storage = CachedStorage(database)  # every run reads its workflow and the configs
    metrics = Metrics()
    bus = build_bus(settings.rpc.event_bus.url)
    compute_settings = settings.services.compute
    compute = None
    if compute_settings.enabled:
        compute = ComputeService(
            storage,
            build_executor(compute_settings.executor),
            default_namespace=compute_settings.default_namespace,
            retention=compute_settings.run_retention_duration,
            metrics=metrics,
            bus=bus,
            name=settings.name,
        )
    switches = {
        "compute": compute_settings.enabled,
        "triggers": settings.services.triggers.enabled,
        "core": settings.services.core.enabled,
    }
    core = CoreService(
        name=settings.name, version=__version__, storage=storage, compute=compute, services=switches
    )
    return Services(storage, ResourceService(storage), compute, core, metrics, bus)


def build_app(settings: Settings, *, stop_grace: float = 10.0) -> FastAPI:
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        prepare_user_modules(settings.app_dir)
        await services.bus.start()
        await services.storage.start()
        try:
            if services.compute is not None:
                await services.compute.start()
            try:
                yield
            finally:
                if services.compute is not None:
                    await services.compute.stop(stop_grace)
        finally:
            await services.storage.close()
            await services.bus.close()

    return create_app(
        services,
        version=__version__,
        lifespan=lifespan,
        max_body_bytes=settings.rpc.api.max_body_bytes,
    )


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.logging.level.upper())
    if settings.logging.format == "json":
        fmt = (
            '{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s",'
            '"message":"%(message)s"}'
        )
    else:
        fmt = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, force=True)
