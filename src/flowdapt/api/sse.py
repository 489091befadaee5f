"""Server-sent events, as the run-log stream and the dashboard's live stream write them."""

from __future__ import annotations

import json
from typing import Any

# Proxies must neither cache nor buffer a stream that is meant to arrive as it is written.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream
KEEP_ALIVE = b": keep-alive\n\n"


def sse_event(event: str, data: str) -> bytes:
    """One SSE message (``data`` is one line of JSON: no newline inside)."""
    return f"event: {event}\ndata: {data}\n\n".encode()


def sse_json(event: str, value: Any) -> bytes:
    """One SSE message carrying `value` as JSON."""
    return sse_event(event, json.dumps(value))
