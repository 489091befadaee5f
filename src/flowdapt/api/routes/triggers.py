"""What triggers add to their resource routes: each rule's last and next firing (``status``, a
read-only field clients that do not know it ignore) and a rule's firing history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import TypeAdapter

from flowdapt.api.state import services_of
from flowdapt.api.versioning import api_version
from flowdapt.api.wire import JSONBytes
from flowdapt.domain.firings import Firing
from flowdapt.domain.resources import TriggerRuleResource
from flowdapt.domain.timestamps import utcnow
from flowdapt.services.triggers import rule_status

router = APIRouter(
    prefix="/triggers", tags=["triggers"], dependencies=[Depends(api_version("trigger_rule"))]
)
_FIRINGS: TypeAdapter[list[Firing]] = TypeAdapter(list[Firing])


async def with_status(request: Request, rules: list[TriggerRuleResource]) -> list[dict[str, Any]]:
    """The rules as JSON objects, each with its ``status``."""
    status = await rule_status(services_of(request).storage, rules, utcnow())
    documents = []
    for rule in rules:
        document = rule.model_dump(mode="json")
        document["status"] = status[rule.name].model_dump(mode="json")
        documents.append(document)
    return documents


@router.get("/{identifier}/firings", summary="A rule's firings, newest first (paginated)")
async def list_firings(
    request: Request,
    identifier: str,
    limit: int = Query(default=100, ge=1, le=10_000),
    offset: int = Query(default=0, ge=0, le=2**62),
) -> JSONBytes:
    storage = services_of(request).storage
    rule = await storage.triggers.get(identifier)  # 404 for an unknown rule
    firings = await storage.firings.list(rule.name, limit=limit, offset=offset)
    return JSONBytes(_FIRINGS.dump_json(firings))
