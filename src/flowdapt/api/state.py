"""The services an app serves, handed to it once by the bootstrap (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from flowdapt.bus.base import EventBus
from flowdapt.domain.errors import FlowdaptError
from flowdapt.services.compute import ComputeService
from flowdapt.services.core import CoreService
from flowdapt.services.metrics import Metrics
from flowdapt.services.resources import ResourceService
from flowdapt.services.triggers import TriggerService
from flowdapt.storage.base import Storage


class ServiceDisabledError(FlowdaptError):
    """The route needs a service this server is configured not to run (HTTP 503)."""


@dataclass
class Services:
    storage: Storage
    resources: ResourceService
    compute: ComputeService | None
    core: CoreService
    metrics: Metrics
    bus: EventBus
    triggers: TriggerService | None = None

    def require_compute(self) -> ComputeService:
        if self.compute is None:
            raise ServiceDisabledError("the compute service is disabled on this server")
        return self.compute


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
