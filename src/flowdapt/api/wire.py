"""JSON on the wire: bare resources and runs as the original's client expects (WIRE-NOTES).

Serialisation goes through pydantic's compiled serializers straight to bytes (the domain models
already write timestamps as naive UTC for JSON); values JSON cannot express become their repr.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter

from flowdapt.domain.documents import RESOURCE_MODELS
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import ResourceBase
from flowdapt.domain.runs import WorkflowRun

# One adapter per kind: serialising through the base class would drop the subclass's spec.
_RESOURCE_LISTS: dict[str, TypeAdapter[list[Any]]] = {
    kind: TypeAdapter(list[model])  # type: ignore[valid-type]
    for kind, model in RESOURCE_MODELS.items()
}
_RUNS: TypeAdapter[list[WorkflowRun]] = TypeAdapter(list[WorkflowRun])

# A run's list entry is the original's bare record; a single run adds the error and stage records.
RUN_SUMMARY_EXCLUDE = {"stages", "error"}


class JSONBytes(Response):
    media_type = "application/json"


def resource_response(resource: ResourceBase) -> JSONBytes:
    return JSONBytes(resource.model_dump_json())


def resources_response(kind: str, resources: list[Any]) -> JSONBytes:
    return JSONBytes(_RESOURCE_LISTS[kind].dump_json(resources))


def run_response(run: WorkflowRun, *, detail: bool = True) -> JSONBytes:
    exclude = None if detail else RUN_SUMMARY_EXCLUDE
    return JSONBytes(run.model_dump_json(exclude=exclude, fallback=repr))


def runs_response(runs: list[WorkflowRun]) -> JSONBytes:
    return JSONBytes(_RUNS.dump_json(runs, exclude={"__all__": RUN_SUMMARY_EXCLUDE}, fallback=repr))


async def json_body(request: Request, *, default: Any = None) -> Any:
    """The request's JSON body; an empty body is `default` (the original's client sends none)."""
    raw = await request.body()
    if not raw.strip():
        return default
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidResourceError(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidResourceError("the request body is nested too deeply") from None
