"""The core service: what the server reports about itself (status, services, database, bus)."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psutil

from flowdapt.bus.base import EventBus
from flowdapt.domain.timestamps import utcnow
from flowdapt.services.compute import ComputeService
from flowdapt.services.triggers import TriggerService
from flowdapt.storage.base import Storage


class CoreService:
    """System status in the original's ``/status`` shape, plus service and database health."""

    def __init__(
        self,
        *,
        name: str,
        version: str,
        storage: Storage,
        bus: EventBus,
        compute: ComputeService | None,
        triggers: TriggerService | None = None,
        services: dict[str, bool],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.name, self.version = name, version
        self._storage, self._compute, self._services = storage, compute, services
        self._bus, self._triggers = bus, triggers
        self._clock = clock
        self._process = psutil.Process()

    async def status(self) -> dict[str, Any]:
        database_up = await self._storage.ping()
        return {
            "version": self.version,
            "name": self.name,
            "system": self._system(),
            "os": {
                "name": platform.system(),
                "version": platform.version(),
                "release": platform.release(),
                "machine": platform.machine(),
            },
            "python": platform.python_version(),
            "hostname": socket.gethostname(),
            "services": self._service_status(),
            "database": f"{self._storage.kind} ({'up' if database_up else 'unavailable'})",
            "event_bus": self._bus_status(),
        }

    def _bus_status(self) -> dict[str, Any]:
        health = self._bus.health()
        status: dict[str, Any] = {
            "kind": health.kind,
            "status": "up" if health.up else "degraded",
            "undelivered": health.undelivered,
            "dropped": health.dropped,
        }
        if health.detail:
            status["detail"] = health.detail
        return status

    def _system(self) -> dict[str, Any]:
        process = self._process
        with process.oneshot():
            network = psutil.net_io_counters()
            return {
                "time": self._clock().replace(tzinfo=None).isoformat(),
                "cpu_pct": process.cpu_percent(interval=None),
                "memory": process.memory_info().rss,
                "disk_pct": psutil.disk_usage(os.getcwd()).percent,
                "network_io_sent": network.bytes_sent if network else 0,
                "network_io_recv": network.bytes_recv if network else 0,
                "threads": process.num_threads(),
                "fds": process.num_fds() if hasattr(process, "num_fds") else 0,
                "pid": process.pid,
            }

    def _service_status(self) -> dict[str, Any]:
        services: dict[str, Any] = {}
        for name, enabled in self._services.items():
            # "OK" is the original's word for a healthy service; its client paints others red.
            services[name] = {"status": "OK" if enabled else "disabled"}
        if self._compute is not None:
            executor = self._compute.executor_supervisor.status()
            services["compute"].update(
                executor=executor["kind"],
                executor_status=executor,
                active_runs=self._compute.active_runs,
            )
            if executor["status"] != "running":  # starting, or its cluster cannot be reached
                services["compute"]["status"] = (
                    "degraded" if executor["status"] == "failed" else executor["status"]
                )
        if self._triggers is not None:
            services["triggers"].update(self._triggers.status())
        return services
