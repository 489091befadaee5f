"""flowctl: the Flowdapt client (SDK and command line).

The SDK lives in :mod:`flowctl.client` and is imported on first use, so that ``import flowctl``
(and the command line's start-up) stays fast::

    from flowctl import FlowdaptClient

    with FlowdaptClient("http://127.0.0.1:8080") as client:
        print(client.ping())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowctl.errors import (
    ApiError,
    Conflict,
    DocumentError,
    FlowctlError,
    Invalid,
    NotFound,
    ServerUnreachable,
)

if TYPE_CHECKING:
    from flowctl.client import FlowdaptClient

__version__ = "0.2.0"

__all__ = [
    "ApiError",
    "Conflict",
    "DocumentError",
    "FlowctlError",
    "FlowdaptClient",
    "Invalid",
    "NotFound",
    "ServerUnreachable",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # httpx takes ~0.3 s to import; only the SDK needs it.
    if name == "FlowdaptClient":
        from flowctl.client import FlowdaptClient

        return FlowdaptClient
    raise AttributeError(f"module 'flowctl' has no attribute {name!r}")
