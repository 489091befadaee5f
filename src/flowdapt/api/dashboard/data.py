"""The JSON the dashboard's pages need beyond the REST API: workflows with their last run, runs
across workflows with a total for paging, cancelling a run, resources as editable YAML, and the
live stream of run progress (server-sent events). Not part of the public API (no OpenAPI)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from flowdapt.api.dashboard.documents import DocumentSyntaxError, parse_yaml, resource_yaml
from flowdapt.api.dashboard.stream import EventStreamResponse
from flowdapt.api.routes.resources import MAX_OFFSET
from flowdapt.api.sse import HEARTBEAT_SECONDS
from flowdapt.api.state import services_of
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import ResourceBase, WorkflowResource
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.services.run_updates import Subscription, snapshot

router = APIRouter(prefix="/dashboard/api")

Kind = Literal["workflow", "config", "trigger_rule"]
# A listing row: the result of a 10k fan-out is a 10k-item list, and a table does not show it.
_ROW_EXCLUDE = {"stages", "error", "result"}
_ROWS: TypeAdapter[list[WorkflowRun]] = TypeAdapter(list[WorkflowRun])


def _rows(runs: list[WorkflowRun]) -> list[Any]:
    rows: list[Any] = _ROWS.dump_python(
        runs, mode="json", exclude={"__all__": _ROW_EXCLUDE}, fallback=repr
    )
    return rows


@router.get("/workflows")
async def list_workflows(request: Request) -> list[dict[str, Any]]:
    """Every workflow with its stage counts and its newest run."""
    services = services_of(request)
    workflows: list[WorkflowResource] = await services.resources.list("workflow")
    latest = await asyncio.gather(
        *(services.storage.runs.list(workflow=w.name, limit=1) for w in workflows)
    )
    return [
        {
            "name": workflow.name,
            "uid": str(workflow.metadata.uid),
            "annotations": workflow.metadata.annotations,
            "stages": len(workflow.spec.stages),
            "parameterized": sum(s.type == "parameterized" for s in workflow.spec.stages),
            "last_run": _rows(runs)[0] if runs else None,
        }
        for workflow, runs in zip(workflows, latest, strict=True)
    ]


@router.get("/runs")
async def list_runs(
    request: Request,
    workflow: str | None = Query(default=None),
    state: RunState | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """A page of runs of every workflow (or one), newest first, with the total for the pager."""
    services = services_of(request)
    compute = services.require_compute()
    name = None if workflow is None else (await services.storage.workflows.get(workflow)).name
    runs = await compute.list_runs(name, state=state, limit=limit, offset=offset)
    total = await services.storage.runs.count(workflow=name, state=state)
    return {"total": total, "limit": limit, "offset": offset, "runs": _rows(runs)}


@router.post("/runs/{identifier}/cancel")
async def cancel_run(request: Request, identifier: str) -> dict[str, Any]:
    """Cancel a running run; 409 when it has ended or runs on another server."""
    compute = services_of(request).require_compute()
    run = await compute.get_run(identifier)
    if run.state.is_final:
        raise HTTPException(409, f"run {run.name!r} has ended already ({run.state.value})")
    if not compute.cancel_run(str(run.uid)):
        raise HTTPException(409, f"run {run.name!r} is not running on this server")
    return {"uid": str(run.uid), "name": run.name, "cancelling": True}


@router.get("/live")
async def live_status(request: Request) -> dict[str, Any]:
    """How many live streams are open (the system page, and tests that close tabs)."""
    hub = services_of(request).require_compute().run_updates
    return {"subscribers": hub.subscriber_count, "interval": hub.interval}


@router.get("/stream")
async def stream(request: Request, run: str | None = Query(default=None)) -> EventStreamResponse:
    """``event: run`` messages: one run's progress with its stages (``?run=``), or every run's
    summary; coalesced by the hub to at most a few per second per run."""
    compute = services_of(request).require_compute()
    hub = compute.run_updates
    uid = None if run is None else str((await compute.get_run(run)).uid)  # 404 before streaming

    async def open_subscription() -> Subscription:
        subscription = hub.subscribe(uid)
        if uid is not None:
            # Read after subscribing: a run that ended before is final here, one that ends
            # later reaches the subscription; no end can fall between the two.
            stored = await compute.get_run(uid)
            if stored.state.is_final:
                subscription.offer(snapshot(stored, stored=True))
        return subscription

    return EventStreamResponse(
        open_subscription, detail=uid is not None, heartbeat=HEARTBEAT_SECONDS
    )


@router.get("/resources/{kind}/{identifier}")
async def get_resource(request: Request, kind: Kind, identifier: str) -> dict[str, Any]:
    """The resource as JSON and as the editor's YAML text."""
    resource = await services_of(request).resources.get(kind, identifier)
    return _document(resource)


@router.put("/resources/{kind}/{identifier}")
async def update_resource(request: Request, kind: Kind, identifier: str) -> JSONResponse:
    """Apply edited YAML to an existing resource; 422 with the problems, nothing stored."""
    try:
        document = parse_yaml((await request.body()).decode("utf-8", errors="replace"))
        resource = await services_of(request).resources.update(kind, identifier, document)
    except InvalidResourceError as exc:
        return _invalid(exc)
    return JSONResponse(_document(resource))


@router.post("/resources/{kind}")
async def create_resource(request: Request, kind: Kind) -> JSONResponse:
    """Create a resource from YAML; 422 with the problems, 409 if the name is taken."""
    try:
        document = parse_yaml((await request.body()).decode("utf-8", errors="replace"))
        resource = await services_of(request).resources.create(kind, document)
    except InvalidResourceError as exc:
        return _invalid(exc)
    return JSONResponse(_document(resource))


def _document(resource: ResourceBase) -> dict[str, Any]:
    return {"resource": resource.model_dump(mode="json"), "yaml": resource_yaml(resource)}


def _invalid(error: InvalidResourceError) -> JSONResponse:
    """The API's error body plus what the editor marks: the problems, and where YAML broke."""
    body: dict[str, Any] = {"detail": str(error), "status_code": 422, "problems": error.problems}
    if isinstance(error, DocumentSyntaxError):
        body.update(line=error.line, column=error.column)
    return JSONResponse(body, status_code=422)
