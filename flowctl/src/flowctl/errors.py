"""The one exception hierarchy of flowctl.

::

    FlowctlError                 anything flowctl raises on purpose
    ├── ServerUnreachable        no connection to the server (refused, DNS, timeout)
    ├── DocumentError            a resource file that cannot be read or is malformed
    └── ApiError                 the server answered with an error (status_code, detail)
        ├── NotFound             404
        ├── Conflict             409 (a duplicate name)
        └── Invalid              400 / 422 (the server rejected the request)

The class of an :class:`ApiError` is chosen from the ``status_code`` in the response body when
the server sends one (the original Flowdapt does, and its client relies on it), else from the HTTP
status.
"""

from __future__ import annotations

from pathlib import Path


class FlowctlError(Exception):
    """Base class of every error flowctl raises on purpose."""


class ServerUnreachable(FlowctlError):
    """The server could not be reached (connection refused, unknown host, timeout).

    Example::

        try:
            client.ping()
        except ServerUnreachable as exc:
            print(exc)  # "cannot reach the Flowdapt server at http://127.0.0.1:8080: ..."
    """

    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(f"cannot reach the Flowdapt server at {base_url}: {reason}")
        self.base_url = base_url
        self.reason = reason


class DocumentError(FlowctlError):
    """A resource file is unreadable or malformed; the message names the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class ApiError(FlowctlError):
    """The server answered with an error status.

    Example::

        try:
            client.get_resource("workflow", "missing")
        except NotFound as exc:
            assert exc.status_code == 404
    """

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"{detail} (HTTP {status_code})")
        self.status_code = status_code
        self.detail = detail


class NotFound(ApiError):
    """The resource or run does not exist (404)."""


class Conflict(ApiError):
    """The name is already taken (409)."""


class Invalid(ApiError):
    """The server rejected the request as invalid (400 or 422)."""


def api_error_for(status_code: int, detail: str) -> ApiError:
    """Return the :class:`ApiError` subclass instance for ``status_code``.

    Example::

        assert isinstance(api_error_for(404, "no such workflow"), NotFound)
    """
    cls: type[ApiError] = {404: NotFound, 409: Conflict, 400: Invalid, 422: Invalid}.get(
        status_code, ApiError
    )
    return cls(status_code, detail)
