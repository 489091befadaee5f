"""What every command shares: the chosen server, error handling and messages on stderr.

Exit codes scripts can rely on: 0 ok, 1 failed run or API/file error, 2 usage error (raised by
typer), 3 server unreachable.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, NoReturn

import typer

from flowctl.config import ServerConfig
from flowctl.errors import FlowctlError, ServerUnreachable

if TYPE_CHECKING:
    from flowctl.client import FlowdaptClient

EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3


@dataclass(frozen=True)
class GlobalOptions:
    """Options given before the command (``flowctl --server URL get workflows``)."""

    server: str | None = None


def say(message: str) -> None:
    """A message for the human on stderr (stdout stays clean for data)."""
    print(message, file=sys.stderr)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    say(message)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn flowctl errors into a one-line message and the matching exit code."""
    try:
        yield
    except ServerUnreachable as exc:
        fail(f"error: {exc}", EXIT_UNREACHABLE)
    except FlowctlError as exc:
        fail(f"error: {exc}", EXIT_FAILED)


def server_url(ctx: typer.Context) -> str:
    """The URL of the server this invocation talks to."""
    options = ctx.obj if isinstance(ctx.obj, GlobalOptions) else GlobalOptions()
    return ServerConfig.load().resolve(options.server)


def open_client(ctx: typer.Context) -> FlowdaptClient:
    """A client for the chosen server (httpx is imported here, not at start-up)."""
    # httpx imports its own command line (click, rich, pygments: ~0.4 s) whenever those are
    # installed, and falls back cleanly on ImportError; this process never uses it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from flowctl.client import FlowdaptClient

    return FlowdaptClient(server_url(ctx))
