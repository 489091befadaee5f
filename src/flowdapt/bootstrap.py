"""The only place that builds storage, executor and services from the settings and hands them
down by constructor.

    app = build_app(load_settings(app_dir))
    uvicorn.run(app, host=..., port=...)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from flowdapt import __version__
from flowdapt.api import Services, create_app
from flowdapt.bus import EventBus, MemoryEventBus
from flowdapt.engine.executor import Executor
from flowdapt.engine.targets import import_from_string
from flowdapt.lib.logger import configure_logger
from flowdapt.services.actions import ActionRegistry
from flowdapt.services.compute import ComputeService
from flowdapt.services.core import CoreService
from flowdapt.services.metrics import Metrics
from flowdapt.services.resources import ResourceService
from flowdapt.services.tracing import Tracing, TracingUnavailableError, build_tracing
from flowdapt.services.triggers import TriggerService
from flowdapt.settings import (
    EventBusSettings,
    ExecutorSettings,
    Settings,
    SettingsError,
    TelemetrySettings,
)
from flowdapt.storage.cache import CachedStorage
from flowdapt.storage.targets import storage_from_target

logger = logging.getLogger(__name__)

# The original's class paths keep working in carried-over config files.
EXECUTOR_ALIASES = {
    "flowdapt.compute.executor.local.LocalExecutor": "flowdapt.executors.local.LocalExecutor",
    "flowdapt.compute.executor.dask.DaskExecutor": "flowdapt.executors.dask.DaskExecutor",
    "flowdapt.compute.executor.ray.RayExecutor": "flowdapt.executors.ray.RayExecutor",
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


def build_bus(settings: EventBusSettings) -> EventBus:
    """The event bus `rpc.event_bus.url` names: `memory://` (embedded) or `amqp://` (RabbitMQ)."""
    url = settings.url
    if url.startswith("memory://"):
        return MemoryEventBus()
    if url.startswith(("amqp://", "amqps://")):
        from flowdapt.bus.rabbitmq import RabbitMQEventBus  # aio-pika loads only when used

        return RabbitMQEventBus(url, exchange=settings.exchange)
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise SettingsError(
        f"rpc.event_bus.url: unsupported scheme {scheme!r} (use memory:// or amqp://…)"
    )


def build_telemetry(settings: TelemetrySettings) -> Tracing | None:
    """Run tracing when `telemetry.enabled`; OpenTelemetry's SDK is imported only then."""
    try:
        return build_tracing(settings, service_version=__version__)
    except TracingUnavailableError as exc:  # the extra is not installed
        raise SettingsError(str(exc)) from None


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
    bus = build_bus(settings.rpc.event_bus)
    compute_settings = settings.services.compute
    compute = None
    if compute_settings.enabled:
        compute = ComputeService(
            storage,
            build_executor(compute_settings.executor),
            default_namespace=compute_settings.default_namespace,
            retention=compute_settings.run_retention_duration,
            log_max_lines=compute_settings.log_max_lines,
            log_max_bytes=int(compute_settings.log_max_bytes),
            stage_settings=settings.stage_settings(),
            metrics=metrics,
            bus=bus,
            name=settings.name,
            tracing=build_telemetry(settings.telemetry),
        )
    triggers_settings = settings.services.triggers
    triggers = None
    if triggers_settings.enabled:
        triggers = TriggerService(
            storage,
            bus,
            ActionRegistry.with_builtins(),
            compute=compute,
            metrics=metrics,
            name=settings.name,
            max_depth=triggers_settings.max_depth,
            firing_retention=triggers_settings.firing_retention_duration,
        )
    switches = {
        "compute": compute_settings.enabled,
        "triggers": settings.services.triggers.enabled,
        "core": settings.services.core.enabled,
    }
    core = CoreService(
        name=settings.name,
        version=__version__,
        storage=storage,
        bus=bus,
        compute=compute,
        triggers=triggers,
        services=switches,
    )
    resources = ResourceService(storage, bus=bus, name=settings.name)
    return Services(storage, resources, compute, core, metrics, bus, triggers)


def build_app(settings: Settings, *, stop_grace: float = 10.0) -> FastAPI:
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        prepare_user_modules(settings.app_dir)
        async with AsyncExitStack() as stack:  # stopped in reverse order, whatever fails
            stack.push_async_callback(services.bus.close)  # also after a failed start
            await services.bus.start()
            await services.storage.start()
            stack.push_async_callback(services.storage.close)
            if services.compute is not None:
                await services.compute.start()
                stack.push_async_callback(services.compute.stop, stop_grace)
            if services.triggers is not None:
                await services.triggers.start()
                stack.push_async_callback(services.triggers.stop)
            yield

    return create_app(
        services,
        version=__version__,
        lifespan=lifespan,
        max_body_bytes=settings.rpc.api.max_body_bytes,
        events_token=(
            None
            if settings.rpc.api.events_token is None
            else settings.rpc.api.events_token.get_secret_value()
        ),
    )


def configure_logging(settings: Settings) -> None:
    """The server's log: ``logging.level`` and ``logging.format`` (console or JSON lines), every
    line written for a run naming it (and its stage)."""
    configure_logger(settings.logging.level, settings.logging.format, include_run=True)
