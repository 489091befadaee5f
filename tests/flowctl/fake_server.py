"""A tiny in-process Flowdapt server: just enough of the wire format to test flowctl.

It stores documents in dicts, answers errors as ``{"detail", "status_code"}``, echoes a run's
input as its result, and records every request so tests can check paths, queries and headers.
Header mistakes (X-API-Version, Accept, Content-Type) are collected in ``header_errors``; the
version header is also enforced with a 400, as the original server does.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

COLLECTIONS = {"workflows": "workflow", "configs": "config", "triggers": "trigger_rule"}
STAGE_DEFAULTS = {
    "type": "simple",
    "description": "",
    "version": "",
    "depends_on": [],
    "options": {},
    "resources": {},
    "priority": None,
}
PLUGIN = {
    "name": "demo",
    "module": "demo_plugin",
    "metadata": {
        "description": "A demo plugin",
        "author": "me",
        "license": "MIT",
        "url": "https://example.com",
        "version": "1.0",
        "requirements": [],
    },
}


def naive_now() -> str:
    """Wire timestamps are naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat()


class HttpError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeFlowdapt:
    """The server's state; ``url`` is set once it listens."""

    url: str = ""
    store: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {kind: {} for kind in COLLECTIONS.values()}
    )
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    header_errors: list[str] = field(default_factory=list)
    duplicate_status: int = 409
    ignore_paging: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self) -> list[str]:
        """``METHOD /path?query`` of every request, in order."""
        out = []
        for r in self.requests:
            query = "&".join(f"{k}={v}" for k, v in r.query.items())
            out.append(f"{r.method} {r.path}" + (f"?{query}" if query else ""))
        return out

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, rec: Recorded) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(rec)
            parts = [unquote(p) for p in rec.path.strip("/").split("/") if p]
            self._check_headers(rec, self._api_type(rec.path))
            return self._route(rec, parts)

    def _api_type(self, path: str) -> str | None:
        if path == "/":
            return None
        if re.fullmatch(r"/workflows/run/[^/]+|/workflows/[^/]+/run", path):
            return "workflow_run"
        first = path.strip("/").split("/")[0]
        if first in COLLECTIONS:
            return COLLECTIONS[first]
        if first == "plugin":
            if re.fullmatch(r"/plugin/[^/]+/files/[^/]+", path):
                return None
            return "plugin.files" if path.endswith("/files") else "plugin"
        return {"status": "system", "metrics": "metrics"}.get(first)

    def _check_headers(self, rec: Recorded, api_type: str | None) -> None:
        h = rec.headers
        if not h.get("user-agent", "").startswith("flowctl/"):
            self.header_errors.append(f"{rec.path}: User-Agent {h.get('user-agent')!r}")
        expected_ct = "application/json" if rec.method in ("POST", "PUT") else "text/plain"
        if h.get("content-type") != expected_ct:
            self.header_errors.append(
                f"{rec.method} {rec.path}: Content-Type {h.get('content-type')!r}"
            )
        if rec.method in ("GET", "DELETE") and rec.body:
            self.header_errors.append(f"{rec.method} {rec.path}: has a body")
        if api_type is None:
            return
        accept = f"application/vnd.flowdapt.ai.{api_type}.v1alpha1+json"
        if h.get("accept") != accept:
            self.header_errors.append(f"{rec.path}: Accept {h.get('accept')!r} != {accept!r}")
        if h.get("x-api-version") != f"{api_type}.v1alpha1":
            self.header_errors.append(f"{rec.path}: X-API-Version {h.get('x-api-version')!r}")
            raise HttpError(400, f"API version {h.get('x-api-version')} not supported here")

    def _route(self, rec: Recorded, parts: list[str]) -> tuple[int, Any]:
        m = rec.method
        if not parts:
            return 200, {"app": "flowdapt", "version": "0.1.52", "api_version": "v1alpha1"}
        head = parts[0]
        if head == "status":
            return 200, self._status()
        if head == "metrics":
            return 200, {"runs_total": [_point(value=7)], "latency": [_bucket()]}
        if head == "plugin":
            return self._plugin(parts[1:])
        if head == "workflows" and len(parts) == 3 and "run" in parts[1:]:
            return self._runs_route(rec, parts)
        if head in COLLECTIONS and len(parts) == 1:
            kind = COLLECTIONS[head]
            if m == "POST":
                return 200, self._create(kind, _body(rec))
            return 200, self._paged(rec, list(self.store[kind].values()))
        if head in COLLECTIONS and len(parts) == 2:
            return self._item(m, COLLECTIONS[head], parts[1], rec)
        raise HttpError(404, "Not Found")

    # -- resources ---------------------------------------------------------------------------

    def _find(self, kind: str, identifier: str) -> dict[str, Any]:
        for doc in self.store[kind].values():
            if identifier in (doc["metadata"]["name"], doc["metadata"]["uid"]):
                return doc
        raise HttpError(404, f"{kind} {identifier} not found")

    def _item(self, m: str, kind: str, identifier: str, rec: Recorded) -> tuple[int, Any]:
        doc = self._find(kind, identifier)
        if m == "GET":
            return 200, doc
        if m == "DELETE":
            del self.store[kind][doc["metadata"]["name"]]
            return 200, doc
        if m == "PUT":
            new = self._normalize(kind, _body(rec))
            new["metadata"].update(
                uid=doc["metadata"]["uid"], created_at=doc["metadata"]["created_at"]
            )
            self.store[kind][doc["metadata"]["name"]] = new
            return 200, new
        raise HttpError(405, "Method Not Allowed")

    def _normalize(self, kind: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise HttpError(422, "metadata: field required")
        name = body["metadata"].get("name")
        spec = body.get("spec")
        if not isinstance(name, str) or not isinstance(spec, dict):
            raise HttpError(422, "metadata.name and spec are required")
        if kind == "workflow":
            stages = spec.get("stages")
            if not isinstance(stages, list) or not all("target" in s for s in stages):
                raise HttpError(422, "spec.stages: every stage needs a name and a target")
            spec = {**spec, "stages": [{**STAGE_DEFAULTS, **s} for s in stages]}
        annotations = body["metadata"].get("annotations") or {}
        metadata = {
            "uid": str(uuid.uuid4()),
            "name": name,
            "annotations": {str(k): str(v) for k, v in annotations.items()},
            "created_at": naive_now(),
            "updated_at": naive_now(),
        }
        return {"kind": kind, "metadata": metadata, "spec": spec}

    def _create(self, kind: str, body: Any) -> dict[str, Any]:
        doc = self._normalize(kind, body)
        if doc["metadata"]["name"] in self.store[kind]:
            raise HttpError(self.duplicate_status, f"{kind} {doc['metadata']['name']} exists")
        self.store[kind][doc["metadata"]["name"]] = doc
        return doc

    # -- runs --------------------------------------------------------------------------------

    def _runs_route(self, rec: Recorded, parts: list[str]) -> tuple[int, Any]:
        if parts[1] == "run":
            return self._run_item(rec.method, parts[2])
        if rec.method == "POST":
            return self._start_run(rec, parts[1])
        return 200, self._paged(rec, self._runs_of(parts[1]))

    def _start_run(self, rec: Recorded, identifier: str) -> tuple[int, Any]:
        workflow = self._find("workflow", identifier)
        wait = rec.query.get("wait", "True")
        if wait not in ("True", "False", "true", "false"):
            raise HttpError(422, f"wait: not a boolean: {wait!r}")
        run_input = _body(rec) if rec.body else {}
        started = naive_now()
        run: dict[str, Any] = {
            "uid": str(uuid.uuid4()),
            "name": f"run-{len(self.runs) + 1}",
            "workflow": workflow["metadata"]["name"],
            "started_at": started,
            "finished_at": None,
            "result": None,
            "state": "pending",
            "source": "api",
        }
        if wait in ("True", "true"):
            failed = isinstance(run_input, dict) and run_input.get("fail")
            run.update(
                state="failed" if failed else "finished",
                result=["ValueError", "boom"] if failed else {"input": run_input},
                finished_at=naive_now(),
            )
        self.runs[run["uid"]] = run
        return 200, run

    def _runs_of(self, identifier: str) -> list[dict[str, Any]]:
        name = self._find("workflow", identifier)["metadata"]["name"]
        return [run for run in self.runs.values() if run["workflow"] == name]

    def _run_item(self, m: str, identifier: str) -> tuple[int, Any]:
        for uid, run in self.runs.items():
            if identifier in (uid, run["name"]):
                if m == "DELETE":
                    del self.runs[uid]
                return 200, run
        raise HttpError(404, f"run {identifier} not found")

    # -- the rest ----------------------------------------------------------------------------

    def _paged(self, rec: Recorded, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.ignore_paging:
            return items
        offset = int(rec.query.get("offset", "0"))
        limit = int(rec.query["limit"]) if "limit" in rec.query else None
        return items[offset : None if limit is None else offset + limit]

    def _plugin(self, rest: list[str]) -> tuple[int, Any]:
        if not rest:
            return 200, [PLUGIN]
        if rest[0] != "demo":
            raise HttpError(404, f"plugin {rest[0]} not found")
        if len(rest) == 1:
            return 200, PLUGIN
        if len(rest) == 2:
            return 200, {"files": ["workflows.yaml"]}
        return 200, b"kind: workflow\n"

    def _status(self) -> dict[str, Any]:
        return {
            "version": "0.1.52",
            "name": "fake",
            "system": {
                "time": naive_now(),
                "cpu_pct": 1.5,
                "memory": 50 * 2**20,
                "disk_pct": 3.0,
                "network_io_sent": 0,
                "network_io_recv": 0,
                "threads": 4,
                "fds": 9,
                "pid": 1,
            },
            "os": {"name": "Linux", "version": "1", "release": "6.1", "machine": "x86_64"},
            "python": "3.11",
            "hostname": "here",
            "services": {"compute": {"status": "OK"}},
            "database": "memory",
        }


def _point(value: float) -> dict[str, Any]:
    return {"attributes": {}, "start_time_unix_nano": 0, "time_unix_nano": 10**18, "value": value}


def _bucket() -> dict[str, Any]:
    return {
        "attributes": {},
        "start_time_unix_nano": 0,
        "time_unix_nano": 10**18,
        "count": 2,
        "bucket_counts": [1, 1],
        "explicit_bounds": [0.1],
        "sum": 0.3,
        "min": 0.1,
        "max": 0.2,
    }


def _body(rec: Recorded) -> Any:
    try:
        return json.loads(rec.body or b"null")
    except ValueError:
        raise HttpError(422, "body is not JSON") from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: avoid 40 ms stalls
    server: _Server

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        rec = Recorded(
            method=self.command,
            path=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            status, payload = self.server.fake.handle(rec)
        except HttpError as exc:
            status, payload = exc.status, {"detail": exc.detail, "status_code": exc.status}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeFlowdapt


def serve(fake: FakeFlowdapt) -> tuple[_Server, threading.Thread]:
    """Start serving ``fake`` on a free local port; sets ``fake.url``."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-flowdapt", daemon=True
    )
    thread.start()
    return server, thread
