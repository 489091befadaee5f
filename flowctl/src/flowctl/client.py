"""A synchronous Python SDK for the Flowdapt REST API (wire-compatible with Flowdapt 0.1.52).

Example::

    from flowctl.client import FlowdaptClient

    with FlowdaptClient("http://127.0.0.1:8080") as client:
        client.apply({"kind": "workflow", "metadata": {"name": "hello"},
                      "spec": {"stages": [{"name": "s", "target": "mod.fn"}]}})
        run = client.run_workflow("hello", {"n_vals": 5})
        print(run["state"], run["result"])

Every request carries the headers the original client sends: ``X-API-Version: <type>.v1alpha1``,
``Accept: application/vnd.flowdapt.ai.<type>.v1alpha1+json`` and a ``User-Agent``; bodiless
requests carry ``Content-Type: text/plain``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Final, Literal, cast
from urllib.parse import quote

import httpx

from flowctl import __version__
from flowctl.errors import ApiError, FlowctlError, ServerUnreachable, api_error_for
from flowctl.resources import COLLECTIONS, Kind, Resource, Run, differs, parse_kind

DEFAULT_SERVER: Final = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT: Final = 30.0
PAGE_SIZE: Final = 500

ApplyOutcome = Literal["created", "updated", "unchanged"]

_RUN_TYPE: Final = "workflow_run"
_NO_BODY: Final[object] = object()


def _detail_text(detail: Any) -> str:
    """Flatten an error ``detail`` (a string, or FastAPI's list of validation errors)."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and all(isinstance(item, dict) for item in detail):
        parts = []
        for item in detail:
            loc = ".".join(str(part) for part in item.get("loc", []))
            parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
        return "; ".join(parts)
    return json.dumps(detail)


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    status = response.status_code
    detail = response.reason_phrase or "request failed"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("status_code")
        if isinstance(code, int) and not isinstance(code, bool):
            status = code
        if "detail" in body:
            detail = _detail_text(body["detail"])
    elif response.text.strip():
        detail = response.text.strip()[:500]
    raise api_error_for(status, detail)


def _kind_of(document: Resource) -> Kind:
    raw = document.get("kind")
    kind = parse_kind(raw) if isinstance(raw, str) else None
    if kind is None:
        raise FlowctlError(f"unknown resource kind {raw!r}")
    return kind


def _key(item: dict[str, Any]) -> str:
    """Identity of a listed item (a resource's or a run's uid)."""
    uid = item.get("metadata", {}).get("uid") if "metadata" in item else item.get("uid")
    return str(uid) if uid else json.dumps(item, sort_keys=True, default=str)


def _segment(value: str) -> str:
    return quote(value, safe="")


class FlowdaptClient:
    """A client of one Flowdapt server; use it as a context manager to close its connections.

    ``timeout`` (seconds, ``None`` for no limit) applies to every call except a run that waits,
    which has no client timeout: the server holds the response until the run ends.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": f"flowctl/{__version__}"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> FlowdaptClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        api_type: str | None,
        params: dict[str, Any] | None = None,
        body: object = _NO_BODY,
        accept: str | None = None,
        no_timeout: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = dict(headers or {})
        if api_type is not None:
            headers["X-API-Version"] = f"{api_type}.v1alpha1"
            headers["Accept"] = f"application/vnd.flowdapt.ai.{api_type}.v1alpha1+json"
        if accept is not None:
            headers["Accept"] = accept
        content: bytes | None = None
        if method in ("POST", "PUT"):
            headers["Content-Type"] = "application/json"
            if body is not _NO_BODY:
                content = json.dumps(body).encode()
        else:
            headers["Content-Type"] = "text/plain"
        query = {key: value for key, value in (params or {}).items() if value is not None}
        extra: dict[str, Any] = {"timeout": None} if no_timeout else {}
        try:
            response = self._http.request(
                method, path, params=query, headers=headers, content=content, **extra
            )
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.base_url, str(exc) or type(exc).__name__) from exc
        _raise_for_error(response)
        return response

    def _json(self, method: str, path: str, *, api_type: str | None, **kwargs: Any) -> Any:
        response = self._send(method, path, api_type=api_type, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, f"invalid JSON from {path}") from exc

    def _pages(self, path: str, api_type: str, page_size: int) -> Iterator[dict[str, Any]]:
        """Yield every item of a listing, page by page (``limit``/``offset``).

        Paging stops at an empty page, not at a short one, because a server may cap ``limit``
        below ``page_size``. A server that ignores the parameters (the original) returns
        everything every time: a page without new items stops the loop.
        """
        seen: set[str] = set()
        offset = 0
        while True:
            params = {"limit": page_size, "offset": offset}
            page = self._json("GET", path, api_type=api_type, params=params)
            fresh = [item for item in cast(list[dict[str, Any]], page) if _key(item) not in seen]
            if not fresh:
                return
            seen.update(_key(item) for item in fresh)
            yield from fresh
            offset += len(page)

    # -- server ------------------------------------------------------------------------------

    def ping(self) -> dict[str, Any]:
        """``GET /``: ``{"app", "version", "api_version"}``."""
        return cast(
            dict[str, Any], self._json("GET", "/", api_type=None, accept="application/json")
        )

    def status(self) -> dict[str, Any]:
        """``GET /status``: the server's system status (version, system, os, services…)."""
        return cast(dict[str, Any], self._json("GET", "/status", api_type="system"))

    def metrics(
        self,
        name: str | None = None,
        *,
        start_time: str | None = None,
        end_time: str | None = None,
        max_length: int | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """``GET /metrics``: a mapping of metric name to its data points."""
        params = {"name": name, "start_time": start_time, "end_time": end_time}
        params["max_length"] = None if max_length is None else str(max_length)
        result = self._json("GET", "/metrics", api_type="metrics", params=params)
        return cast(dict[str, list[dict[str, Any]]], result)

    # -- resources ---------------------------------------------------------------------------

    def list_resources(
        self, kind: Kind, *, limit: int | None = None, offset: int | None = None
    ) -> list[Resource]:
        """List one page of resources of ``kind`` (``GET /workflows/`` …)."""
        params = {"limit": limit, "offset": offset}
        result = self._json("GET", COLLECTIONS[kind], api_type=kind, params=params)
        return cast(list[Resource], result)

    def list_all(self, kind: Kind, *, page_size: int = PAGE_SIZE) -> list[Resource]:
        """List every resource of ``kind``, following pages."""
        return list(self._pages(COLLECTIONS[kind], kind, page_size))

    def get_resource(self, kind: Kind, identifier: str) -> Resource:
        """Get one resource by name or uid; raises :class:`~flowctl.errors.NotFound`."""
        path = COLLECTIONS[kind] + _segment(identifier)
        return cast(Resource, self._json("GET", path, api_type=kind))

    def create_resource(self, document: Resource) -> Resource:
        """Create a resource from its document (``POST`` to the kind's collection)."""
        kind = _kind_of(document)
        body = {**document, "kind": kind}
        return cast(Resource, self._json("POST", COLLECTIONS[kind], api_type=kind, body=body))

    def update_resource(self, document: Resource) -> Resource:
        """Replace the resource named in ``document`` (``PUT`` to its path)."""
        kind = _kind_of(document)
        path = COLLECTIONS[kind] + _segment(document["metadata"]["name"])
        body = {**document, "kind": kind}
        return cast(Resource, self._json("PUT", path, api_type=kind, body=body))

    def delete_resource(self, kind: Kind, identifier: str) -> Resource:
        """Delete a resource by name or uid and return it."""
        path = COLLECTIONS[kind] + _segment(identifier)
        return cast(Resource, self._json("DELETE", path, api_type=kind))

    def apply(self, document: Resource) -> ApplyOutcome:
        """Create the resource, or update it when its spec or annotations differ.

        Example::

            assert client.apply(doc) == "created"
            assert client.apply(doc) == "unchanged"
        """
        kind = _kind_of(document)
        try:
            stored = self.get_resource(kind, document["metadata"]["name"])
        except ApiError as exc:
            if exc.status_code != 404:
                raise
            self.create_resource(document)
            return "created"
        if not differs(kind, document, stored):
            return "unchanged"
        self.update_resource(document)
        return "updated"

    # -- runs --------------------------------------------------------------------------------

    def run_workflow(
        self,
        identifier: str,
        input: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        namespace: str | None = None,
    ) -> Run:
        """Run a workflow (by name or uid) and return the run.

        With ``wait=True`` the server answers when the run ended (no client timeout); with
        ``wait=False`` it returns the new run at once (``state: "pending"``). Without input no
        body is sent, as the original client does.
        """
        path = f"/workflows/{_segment(identifier)}/run"
        # Capitalised, as the original client sends it.
        params = {"wait": "True" if wait else "False", "namespace": namespace}
        body: object = input if input else _NO_BODY
        result = self._json(
            "POST", path, api_type=_RUN_TYPE, params=params, body=body, no_timeout=wait
        )
        return cast(Run, result)

    def list_runs(
        self, workflow: str, *, limit: int | None = None, offset: int | None = None
    ) -> list[Run]:
        """List runs of one workflow (``GET /workflows/{workflow}/run``)."""
        path = f"/workflows/{_segment(workflow)}/run"
        params = {"limit": limit, "offset": offset}
        return cast(list[Run], self._json("GET", path, api_type=_RUN_TYPE, params=params))

    def list_all_runs(self, workflow: str, *, page_size: int = PAGE_SIZE) -> list[Run]:
        """List every run of one workflow, following pages."""
        return list(self._pages(f"/workflows/{_segment(workflow)}/run", _RUN_TYPE, page_size))

    def get_run(self, identifier: str) -> Run:
        """Get a run by uid or name (``GET /workflows/run/{identifier}``)."""
        path = f"/workflows/run/{_segment(identifier)}"
        return cast(Run, self._json("GET", path, api_type=_RUN_TYPE))

    def run_log(
        self,
        identifier: str,
        *,
        stage: str | None = None,
        offset: int = 0,
        limit: int = 500,
    ) -> dict[str, Any]:
        """``GET /workflows/run/{identifier}/logs``: ``{total, offset, lines, truncated}``."""
        path = f"/workflows/run/{_segment(identifier)}/logs"
        params = {"stage": stage, "offset": offset, "limit": limit}
        return cast(dict[str, Any], self._json("GET", path, api_type=None, params=params))

    def follow_run_log(
        self, identifier: str, *, stage: str | None = None, after: int = -1
    ) -> Iterator[dict[str, Any]]:
        """The run's log lines after seq `after`, as they come (server-sent events), until the
        run has ended; then one ``{"end": state}`` item."""
        path = f"/workflows/run/{_segment(identifier)}/logs/stream"
        params: dict[str, Any] = {"after": after}
        if stage is not None:
            params["stage"] = stage
        try:
            with self._http.stream("GET", path, params=params, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_error(response)
                event = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[len("event: ") :]
                    elif line.startswith("data: "):
                        data = json.loads(line[len("data: ") :])
                        if event == "end":
                            yield {"end": data.get("state")}
                            return
                        yield cast(dict[str, Any], data)
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.base_url, str(exc) or type(exc).__name__) from exc

    def delete_run(self, identifier: str) -> Run:
        """Delete a run by uid or name and return it."""
        path = f"/workflows/run/{_segment(identifier)}"
        return cast(Run, self._json("DELETE", path, api_type=_RUN_TYPE))

    # -- events and triggers -----------------------------------------------------------------

    def send_event(
        self,
        type: str,
        data: Any = None,
        *,
        source: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Publish an event on the server's bus (``POST /events/``) for trigger rules to see;
        returns the event as published (with its id and time).

        Example::

            client.send_event("com.example.data_arrived", {"city": "Oslo"})
        """
        body: dict[str, Any] = {"type": type, "data": data}
        if source is not None:
            body["source"] = source
        headers = {"Authorization": f"Bearer {token}"} if token else None
        result = self._json("POST", "/events/", api_type=None, body=body, headers=headers)
        return cast(dict[str, Any], result)

    def list_firings(
        self, trigger: str, *, limit: int | None = None, offset: int | None = None
    ) -> list[dict[str, Any]]:
        """A trigger rule's firings, newest first (``GET /triggers/{trigger}/firings``)."""
        path = f"/triggers/{_segment(trigger)}/firings"
        params = {"limit": limit, "offset": offset}
        result = self._json("GET", path, api_type="trigger_rule", params=params)
        return cast(list[dict[str, Any]], result)

    # -- plugins -----------------------------------------------------------------------------

    def list_plugins(self) -> list[dict[str, Any]]:
        """``GET /plugin/``: installed plugins with their metadata."""
        return cast(list[dict[str, Any]], self._json("GET", "/plugin/", api_type="plugin"))

    def get_plugin(self, name: str) -> dict[str, Any]:
        """``GET /plugin/{name}``."""
        path = f"/plugin/{_segment(name)}"
        return cast(dict[str, Any], self._json("GET", path, api_type="plugin"))

    def plugin_files(self, name: str) -> list[str]:
        """``GET /plugin/{name}/files``: the names of the files a plugin bundles."""
        path = f"/plugin/{_segment(name)}/files"
        result = self._json("GET", path, api_type="plugin.files")
        return cast(list[str], result.get("files", []) if isinstance(result, dict) else result)

    def plugin_file(self, name: str, file: str) -> bytes:
        """``GET /plugin/{name}/files/{file}``: the content of one bundled file."""
        path = f"/plugin/{_segment(name)}/files/{_segment(file)}"
        response = self._send("GET", path, api_type=None, accept="application/octet-stream")
        return response.content
