"""Events sent in from outside (beyond the original, whose rules only see internal events): an
external system posts ``{"type": "com.example.data_arrived", "data": {...}}`` and trigger rules
over that type start workflows, whose stages read the payload as ``get_run_context().event``.

Open like the rest of the API unless ``rpc.api.events_token`` is set; then the request needs
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowdapt.api.state import services_of
from flowdapt.api.wire import JSONBytes
from flowdapt.domain.events import INTERNAL_PREFIX, TRIGGER_DEPTH, Event

router = APIRouter(prefix="/events", tags=["events"])


class InboundEvent(BaseModel):
    """What a client may set; id, time and the trigger chain are the server's."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:\-]+$")
    data: Any = None
    source: str = Field(default="external", max_length=255)
    channel: str = Field(default="events", min_length=1, max_length=255)
    headers: dict[str, str] = Field(default_factory=dict)
    correlation_id: str | None = Field(default=None, max_length=255)

    @field_validator("type")
    @classmethod
    def _not_internal(cls, value: str) -> str:
        if value.startswith(INTERNAL_PREFIX):
            raise ValueError(
                f"types under {INTERNAL_PREFIX!r} are the server's own events and cannot be "
                "sent in (use your own prefix, e.g. 'com.example.data_arrived')"
            )
        return value

    @field_validator("headers")
    @classmethod
    def _no_chain_header(cls, value: dict[str, str]) -> dict[str, str]:
        if TRIGGER_DEPTH in value:  # the loop guard's own header: set by the server only
            raise ValueError(f"the {TRIGGER_DEPTH!r} header is set by the server")
        return value


def _check_token(request: Request, authorization: str | None) -> None:
    expected: str | None = request.app.state.events_token
    if expected is None:
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(401, "sending events needs 'Authorization: Bearer <token>'")


@router.post("/", status_code=202, summary="Publish an event on the bus (for trigger rules)")
async def publish_event(
    request: Request, event: InboundEvent, authorization: str | None = Header(default=None)
) -> JSONBytes:
    _check_token(request, authorization)
    published = Event(**event.model_dump())
    await services_of(request).bus.publish(published)
    return JSONBytes(published.model_dump_json(), status_code=202)
