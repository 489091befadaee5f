"""CRUD for workflows, configs and triggers: one router per kind, the same five routes each."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from flowdapt.api.state import services_of
from flowdapt.api.versioning import api_version
from flowdapt.api.wire import JSONBytes, json_body, resource_response, resources_response

# Listings are paginated: a page of 100 unless ?limit= asks for more (at most MAX_PAGE).
DEFAULT_PAGE = 100
MAX_PAGE = 10_000
MAX_OFFSET = 2**62  # databases take 64-bit integers; beyond, a 422 instead of an overflow

DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {"type": "object"},
                    },
                    "required": ["metadata", "spec"],
                }
            }
        },
    }
}


# Adds read-only fields to what GET answers (triggers add their ``status``).
Annotate = Callable[[Request, list[Any]], Awaitable[list[dict[str, Any]]]]


def _annotated(documents: list[dict[str, Any]]) -> JSONBytes:
    return JSONBytes(json.dumps(documents, separators=(",", ":")).encode())


def resource_router(
    kind: str, prefix: str, tag: str, *, annotate: Annotate | None = None
) -> APIRouter:
    """``GET/POST {prefix}/`` and ``GET/PUT/DELETE {prefix}/{identifier}`` (name or uid)."""
    router = APIRouter(prefix=prefix, tags=[tag], dependencies=[Depends(api_version(kind))])
    label = kind.replace("_", " ")

    @router.get("/", summary=f"List {label}s (by name; paginated with limit/offset)")
    async def list_resources(
        request: Request,
        limit: int = Query(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE),
        offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    ) -> JSONBytes:
        items = await services_of(request).resources.list(kind, limit=limit, offset=offset)
        if annotate is not None:
            return _annotated(await annotate(request, items))
        return resources_response(kind, items)

    @router.post("/", summary=f"Create a {label}", openapi_extra=DOCUMENT_BODY)
    async def create_resource(request: Request) -> JSONBytes:
        document = await json_body(request)
        resource = await services_of(request).resources.create(kind, document)
        return resource_response(resource)

    @router.get("/{identifier}", summary=f"Get a {label} by name or uid")
    async def get_resource(request: Request, identifier: str) -> JSONBytes:
        resource = await services_of(request).resources.get(kind, identifier)
        if annotate is not None:
            return JSONBytes(json.dumps((await annotate(request, [resource]))[0]).encode())
        return resource_response(resource)

    @router.put("/{identifier}", summary=f"Update a {label}", openapi_extra=DOCUMENT_BODY)
    async def update_resource(request: Request, identifier: str) -> JSONBytes:
        document = await json_body(request)
        resource = await services_of(request).resources.update(kind, identifier, document)
        return resource_response(resource)

    @router.delete("/{identifier}", summary=f"Delete a {label}; returns it")
    async def delete_resource(request: Request, identifier: str) -> JSONBytes:
        return resource_response(await services_of(request).resources.delete(kind, identifier))

    return router
