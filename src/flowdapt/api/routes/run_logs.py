"""A run's log: paged, and streamed (server-sent events) while the run is live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from flowdapt.api.routes.resources import MAX_OFFSET
from flowdapt.api.sse import HEADERS, HEARTBEAT_SECONDS, KEEP_ALIVE, sse_json
from flowdapt.api.state import services_of
from flowdapt.api.wire import JSONBytes

router = APIRouter(prefix="/workflows", tags=["logs"])

POLL_SECONDS = 0.5  # how often a live stream looks for new lines


@router.get("/run/{identifier}/logs", summary="A page of a run's log (what its stages logged)")
async def get_run_log(
    request: Request,
    identifier: str,
    stage: str | None = Query(default=None, description="only this stage's lines"),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    limit: int = Query(default=500, ge=1, le=5_000),
) -> JSONBytes:
    compute = services_of(request).require_compute()
    page = await compute.run_log(identifier, stage=stage, offset=offset, limit=limit)
    return JSONBytes(page.model_dump_json())


@router.get(
    "/run/{identifier}/logs/stream",
    summary="Follow a run's log: server-sent events until the run has ended",
    response_class=StreamingResponse,
)
async def stream_run_log(
    request: Request,
    identifier: str,
    stage: str | None = Query(default=None),
    after: int = Query(default=-1, ge=-1, description="send lines with a seq above this"),
) -> StreamingResponse:
    compute = services_of(request).require_compute()
    await compute.run_log_after(identifier, after, stage=stage, limit=1)  # 404 before streaming

    async def events() -> AsyncIterator[bytes]:
        seq, idle = after, 0.0
        while not await request.is_disconnected():
            run, lines = await compute.run_log_after(identifier, seq, stage=stage)
            for line in lines:
                seq = line.seq
                yield sse_json("log", line.model_dump(mode="json"))
            if lines:
                idle = 0.0
                continue  # there may be more right away
            if run.state.is_final:  # stored final only once the log is complete
                yield sse_json("end", {"state": run.state.value})
                return
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS
            if idle >= HEARTBEAT_SECONDS:
                idle = 0.0
                yield KEEP_ALIVE

    return StreamingResponse(events(), media_type="text/event-stream", headers=HEADERS)
