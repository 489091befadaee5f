"""Running workflows and reading their runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from flowdapt.api.routes.resources import MAX_OFFSET
from flowdapt.api.state import services_of
from flowdapt.api.versioning import api_version
from flowdapt.api.wire import JSONBytes, json_body, run_response, runs_response
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.runs import RunState

router = APIRouter(
    prefix="/workflows", tags=["workflows"], dependencies=[Depends(api_version("workflow_run"))]
)


RUN_INPUT = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {"type": "object", "default": {}}}},
    }
}


@router.post(
    "/{identifier}/run",
    summary="Run a workflow; with wait (default) answer when done",
    openapi_extra=RUN_INPUT,
)
async def run_workflow(
    request: Request,
    identifier: str,
    wait: bool = Query(default=True),
    namespace: str | None = Query(default=None),
) -> JSONBytes:
    payload = await json_body(request, default={})
    if not isinstance(payload, dict):
        raise InvalidResourceError("the run input must be a JSON object of keyword arguments")
    compute = services_of(request).require_compute()
    run = await compute.run_workflow(identifier, payload, namespace=namespace, wait=wait)
    return run_response(run)


@router.get("/{identifier}/run", summary="List a workflow's runs, newest first")
async def list_workflow_runs(
    request: Request,
    identifier: str,
    limit: int = Query(default=10, ge=1, le=10_000),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    state: RunState | None = Query(default=None),
) -> JSONBytes:
    compute = services_of(request).require_compute()
    runs = await compute.list_runs(identifier, state=state, limit=limit, offset=offset)
    return runs_response(runs)


@router.get("/run/", summary="List runs of every workflow, newest first")
async def list_runs(
    request: Request,
    limit: int = Query(default=100, ge=1, le=10_000),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    state: RunState | None = Query(default=None),
    workflow: str | None = Query(default=None),
) -> JSONBytes:
    compute = services_of(request).require_compute()
    return runs_response(await compute.list_runs(workflow, state=state, limit=limit, offset=offset))


@router.get("/run/{identifier}", summary="Get a run by uid or name, with its stage records")
async def get_run(request: Request, identifier: str) -> JSONBytes:
    return run_response(await services_of(request).require_compute().get_run(identifier))


@router.delete("/run/{identifier}", summary="Delete a run (stopping it first); returns it")
async def delete_run(request: Request, identifier: str) -> JSONBytes:
    run = await services_of(request).require_compute().delete_run(identifier)
    return run_response(run, detail=False)
