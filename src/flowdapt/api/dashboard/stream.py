"""Server-sent events for the dashboard: a run's (or every run's) coalesced progress.

The response subscribes to the compute service's `RunUpdates` hub when it starts, and closes the
subscription whichever way it ends — the browser went away (``http.disconnect``), a write failed,
the hub closed because the server is stopping, or the server cancelled the request — so a tab that
is closed leaves nothing behind in the hub.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from flowdapt.api.sse import HEADERS, KEEP_ALIVE, sse_event
from flowdapt.services.run_updates import RunUpdate, Subscription

logger = logging.getLogger(__name__)

RETRY_MS = 2000  # how soon EventSource reconnects after the stream ends


class EventStreamResponse(Response):
    """`text/event-stream` of ``run`` events from a subscription opened by `open`.

    `detail` chooses one run's stream (snapshots with stage records, ending with ``end`` after
    the stored final state) or every run's (summaries, endless).
    """

    media_type = "text/event-stream"

    def __init__(
        self, open: Callable[[], Awaitable[Subscription]], *, detail: bool, heartbeat: float
    ) -> None:
        # Not Response.__init__: it would declare a Content-Length for an endless body.
        self.status_code = 200
        self.background = None
        self._open, self._detail, self._heartbeat = open, detail, heartbeat
        self.init_headers(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = await self._open()
        pump = asyncio.ensure_future(self._pump(subscription, send))
        listen = asyncio.ensure_future(_until_disconnect(receive))
        try:
            await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            subscription.close()
            pump.cancel()  # done already unless the client went away (or we are cancelled)
            listen.cancel()
            for outcome in await asyncio.gather(pump, listen, return_exceptions=True):
                if isinstance(outcome, Exception):  # the client's socket went away mid-write
                    logger.debug("dashboard stream ended: %r", outcome)

    async def _pump(self, subscription: Subscription, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send(_body(f"retry: {RETRY_MS}\n\n".encode()))
        while not subscription.closed:
            updates = await subscription.next(self._heartbeat)
            if not updates:
                await send(_body(KEEP_ALIVE))
                continue
            chunk = b"".join(sse_event("run", self._encode(u)) for u in updates)
            if self._detail and any(u.stored for u in updates):
                # One run's stream is over once its final record is stored (like the logs
                # stream): `end` tells EventSource not to reconnect.
                await send(_body(chunk + sse_event("end", "{}")))
                break
            await send(_body(chunk))
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _encode(self, update: RunUpdate) -> str:
        return update.detail if self._detail else update.summary


def _body(chunk: bytes) -> dict[str, object]:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
