"""The FastAPI application: routes, error mapping, request size limit. Built by the bootstrap.

app = create_app(services, lifespan=lifespan, max_body_bytes=10 * 1024 * 1024)
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowdapt.api import dashboard
from flowdapt.api.errors import error_response, install_error_handlers
from flowdapt.api.routes import events, resources, run_logs, runs, system, triggers
from flowdapt.api.state import Services


def create_app(
    services: Services,
    *,
    version: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    max_body_bytes: int = 10 * 1024 * 1024,
    events_token: str | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Flowdapt",
        description="Adaptive ML workflows: resources, runs, status. Wire-compatible with the "
        "original's v1alpha1 API.",
        version=version,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.events_token = events_token
    install_error_handlers(app)
    app.include_router(system.router)
    # Runs first: "/workflows/run/{id}" must not be taken for a workflow named "run".
    app.include_router(runs.router)
    app.include_router(run_logs.router)
    app.include_router(resources.resource_router("workflow", "/workflows", "workflows"))
    app.include_router(resources.resource_router("config", "/configs", "configs"))
    app.include_router(triggers.router)  # before the generic routes: /triggers/{id}/firings
    app.include_router(
        resources.resource_router(
            "trigger_rule", "/triggers", "triggers", annotate=triggers.with_status
        )
    )
    app.include_router(events.router)
    app.include_router(dashboard.router)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    return app


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"request body larger than {self.max_bytes} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
